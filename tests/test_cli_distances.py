"""Tests of the ``flankmap distances`` subcommand."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from geo import distance
from geo.cli import main


@pytest.fixture
def sites_dir(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A layers folder holding only tests/data/sites_small.geojson."""
    folder = tmp_path / "layers"
    folder.mkdir()
    shutil.copy(data_dir / "sites_small.geojson", folder / "sites_small.geojson")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(folder))
    return folder


@pytest.fixture
def points_csv(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text(
        "name,lat,lon,coord_uncertainty_m\nRiga,56.95,24.1,100\nNarva,59.377,28.175,50\n"
        "Warsaw,52.23,21.01,500\n",
        encoding="utf-8",
    )
    return path


def _table_rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    assert lines[0].startswith("Geodesic distances (WGS84)")
    return [line.split() for line in lines[3:]]


def test_site_analysis_table_sorted_in_km(sites_dir, capsys):
    assert main(["distances", "--as-of", "2025-01-01"]) == 0
    out = capsys.readouterr().out
    assert "as of 2025-01-01, nearest first" in out
    header = out.splitlines()[1]
    assert "to other side km" in header
    assert "host border km" in header
    rows = _table_rows(out)
    assert len(rows) == 4
    km = [float(line.split("  ")[0]) for line in _column(out, "to other side km")]
    assert km == sorted(km)
    assert all(len(text.split(".")[1]) == 1 for text in _column(out, "to other side km"))


def _column(out: str, title: str) -> list[str]:
    lines = out.splitlines()[1:]
    start = lines[0].index(title)
    return [line[start:].split("  ")[0].strip() for line in lines[2:]]


def test_site_analysis_matches_the_api(sites_dir, tmp_path, capsys):
    out_path = tmp_path / "sites.csv"
    assert main(["distances", "--as-of", "2025-01-01", "-o", str(out_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    with out_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {r["id"]: r for r in rows}
    nato = distance.to_territory([26.5], [52.9], "NATO", as_of="2025-01-01")
    radar = by_id["test-radar-blr"]
    assert radar["side"] == "RUS/BLR"
    assert float(radar["opposing_distance_m"]) == pytest.approx(nato.loc[0, "distance_m"])
    assert json.loads(radar["sources"])[0]["publisher"] == "Example"


def test_points_csv_to_frontier_table(points_csv, capsys):
    assert main(["distances", "--points", str(points_csv), "--as-of", "2025-01-01"]) == 0
    out = capsys.readouterr().out
    assert "frontier RUS,BLR:NATO" in out
    rows = _table_rows(out)
    api = distance.to_frontier([24.1, 28.175, 21.01], [56.95, 59.377, 52.23], as_of="2025-01-01")
    order = api["distance_m"].argsort().to_numpy()
    assert [r[1] for r in rows] == [["Riga", "Narva", "Warsaw"][i] for i in order]
    assert [r[4] for r in rows] == [f"{api.distance_m[i] / 1000:,.1f}" for i in order]
    assert rows[0][5] == "EST-RUS"


def test_points_csv_output_columns(points_csv, tmp_path, capsys):
    out_path = tmp_path / "out.csv"
    code = main(["distances", "--points", str(points_csv), "--to", "RUS,BLR", "-o", str(out_path)])
    assert code == 0
    with out_path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header == [
        "name",
        "lat",
        "lon",
        "coord_uncertainty_m",
        "distance_m",
        "nearest_lat",
        "nearest_lon",
        "border",
        "bearing_deg",
        "inside",
        "distance_min_m",
        "distance_max_m",
    ]
    assert [r[0] for r in rows] == ["Riga", "Narva", "Warsaw"]  # input order kept


def test_points_geojson_output(points_csv, tmp_path, capsys):
    out_path = tmp_path / "out.geojson"
    assert main(["distances", "--points", str(points_csv), "-o", str(out_path)]) == 0
    data = json.loads(out_path.read_text(encoding="utf-8"))
    assert data["features"][0]["properties"]["border"]
    assert data["features"][0]["geometry"]["type"] == "Point"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2025-13-01"], "as-of date '2025-13-01'"),
        (["--frontier", "RUS"], "must be two groups separated by ':'"),
        (["--to", "XXX"], "unknown country code 'XXX'"),
        (["-o", "no/such/folder/out.csv"], "output folder 'no/such/folder' does not exist"),
    ],
)
def test_user_errors_are_one_line(points_csv, capsys, args, message):
    assert main(["distances", "--points", str(points_csv), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("flankmap: error: ")
    assert message in err


def test_bad_points_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("lat,lon\n54,25\nabc,25\n", encoding="utf-8")
    assert main(["distances", "--points", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == "flankmap: error: points.csv: row 2: field 'lat': 'abc' is not a number\n"


def test_output_must_not_overwrite_input(points_csv, capsys):
    assert main(["distances", "--points", str(points_csv), "-o", str(points_csv)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err


def test_layers_and_points_are_exclusive(points_csv, capsys):
    with pytest.raises(SystemExit):
        main(["distances", "--points", str(points_csv), "--layers", "x"])
    assert "not allowed with argument" in capsys.readouterr().err
