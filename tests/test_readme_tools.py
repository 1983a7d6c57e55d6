"""The README's "With other tools" examples run (Spark's is geo.spark, run by test_spark.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(heading: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    end = text.index("\n#", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], re.DOTALL)


def test_the_jupyter_example_runs(mini_layers, tmp_path, monkeypatch):
    [code] = _blocks("## With other tools")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md (Jupyter)", "exec"), namespace)
    out = namespace["out"]
    assert out.crs.to_epsg() == 3035
    assert "distance_m" in out.columns
    assert namespace["sites"].geometry.geom_equals_exact(out.geometry, tolerance=0).all()


def test_the_duckdb_example_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("duckdb")
    [code] = _blocks("### DuckDB")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (DuckDB)", "exec"), {})
    out = capsys.readouterr().out
    assert (tmp_path / "points.parquet").is_file()
    assert "BLR-POL" in out
    assert "inside_rus_blr" in out
