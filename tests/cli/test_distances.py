"""Tests of the ``flankmap distances`` subcommand."""

from __future__ import annotations

import csv
import json
import shutil
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo import distance
from geo.cli import main, printable
from geo.text import km_cell

#: What a successful distances run says on stderr: the borders measured to, with attribution.
NOTICE = (
    "flankmap: borders: OpenStreetMap country borders (@osm_borders/maritime_10m) (±10 m); "
    "© OpenStreetMap contributors (ODbL)\n"
)


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
    texts = _column(out, "to other side km")
    km = [float(text.replace(",", "")) for text in texts]
    assert km == sorted(km)
    # the precision of geo.text.km_cell: 2 decimals under 10 km, 1 under 100 km, else none
    decimals = [len(text.split(".")[1]) if "." in text else 0 for text in texts]
    assert decimals == [2 if v < 10 else 1 if v < 100 else 0 for v in km]


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
    assert [r[4] for r in rows] == [km_cell(api.distance_m[i]) for i in order]
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
        "located_in",
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


# --- bad input through the command line: one line, exit 2, no output, old output untouched ----

BAD = Path(__file__).parents[1] / "data" / "bad_points"
EXPECTED = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("flankmap: error: ")
    return captured.err.removeprefix("flankmap: error: ").rstrip("\n")


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("existing", [False, True])
def test_bad_points_file_one_line_no_output(tmp_path, capsys, name, existing):
    out = tmp_path / "out.csv"
    if existing:
        out.write_text("old results\n", encoding="utf-8")
    assert main(["distances", "--points", str(BAD / name), "-o", str(out)]) == 2
    assert _one_error_line(capsys) == EXPECTED[name]
    if existing:
        assert out.read_text(encoding="utf-8") == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.csv"] if existing else [])


@pytest.mark.parametrize("name", ["swapped.csv", "not_utf8.csv", "null_geometry.geojson"])
def test_map_add_bad_file_one_line(tmp_path, capsys, mini_layers, name):
    out = tmp_path / "map.html"
    assert main(["map", "--add", str(BAD / name), "-o", str(out)]) == 2
    assert _one_error_line(capsys) == EXPECTED[name]
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--points", "{tmp}/nothing.csv"], "nothing.csv: no such file ({tmp}/nothing.csv)"),
        (["--points", "{tmp}"], "{name}: is a folder, not a file of points"),
        (
            ["--points", "{points}", "-o", "{tmp}/no/such/out.csv"],
            "output folder '{tmp}/no/such' does not exist; create it first",
        ),
        (
            ["--points", "{points}", "-o", "{points}"],
            "output '{points}' would overwrite the input '{points}'",
        ),
        (
            [
                "--points",
                "{points}",
                "-o",
                "{tmp}/out.csv",
                "--skip-invalid",
                "--rejected",
                "{points}",
            ],
            "output '{points}' would overwrite the input '{points}'",
        ),
        (
            ["--points", "{points}", "-o", "{tmp}/out.xlsx"],
            "out.xlsx: unknown output type '.xlsx'; "
            "use .csv, .geojson, .parquet, .gpkg, .fgb, .kml, .kmz",
        ),
    ],
)
def test_path_errors_one_line(points_csv, tmp_path, capsys, args, message):
    values = {"tmp": str(tmp_path), "points": str(points_csv), "name": tmp_path.name}
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["distances", *[a.format(**values) for a in args]]) == 2
    assert _one_error_line(capsys) == message.format(**values)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_error_in_a_late_chunk_leaves_no_partial_output(tmp_path, capsys):
    path = tmp_path / "points.csv"
    rows = "".join(f"p{i},{50 + i / 1000},{20 + i / 1000}\n" for i in range(50))
    path.write_text("id,lat,lon\n" + rows + "bad,54,east\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    args = ["distances", "--points", str(path), "-o", str(out), "--chunk-rows", "10"]
    assert main(args) == 2
    assert _one_error_line(capsys) == "points.csv: row 51: field 'lon': 'east' is not a number"
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "points.csv"]


def test_reprojection_is_said_on_stderr(data_dir, tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert (
        main(["distances", "--points", str(data_dir / "points_3035.geojson"), "-o", str(out)]) == 0
    )
    captured = capsys.readouterr()
    assert captured.err == (
        "flankmap: warning: points_3035.geojson: reprojected from EPSG:3035 to WGS84 (EPSG:4326)\n"
        + NOTICE
    )
    with out.open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert float(row["lat"]) == pytest.approx(54.687, abs=1e-6)


# --- --skip-invalid ---------------------------------------------------------------------------


def test_skip_invalid_writes_good_rows_and_a_side_file(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text(
        "id,name,lat,lon\n1,Riga,56.95,24.1\n2,Bad,abc,25\n3,Narva,59.377,28.175\n"
        "1,Again,54,25\n4,Swap,125.3,54.7\n5,Warsaw,52.23,21.01\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    args = ["distances", "--points", str(path), "-o", str(out), "--skip-invalid"]
    assert main([*args, "--chunk-rows", "2"]) == 0
    captured = capsys.readouterr()
    side = tmp_path / "out.rejected.csv"
    assert captured.out == f"wrote {out} (3 rows)\n"
    assert captured.err == (
        f"flankmap: skipped 3 invalid row(s); wrote them with the reason to {side}\n" + NOTICE
    )
    with out.open(encoding="utf-8") as handle:
        assert [r["name"] for r in csv.DictReader(handle)] == ["Riga", "Narva", "Warsaw"]
    with side.open(encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["row"], r["field"], r["reason"], r["raw"]) for r in rejected] == [
        ("2", "lat", "'abc' is not a number", "2,Bad,abc,25"),
        ("4", "id", "'1' is used by row 1 too", "1,Again,54,25"),
        ("5", "lat", "125.3 is outside -90..90 (lat and lon swapped?)", "4,Swap,125.3,54.7"),
    ]


def test_skip_invalid_table_and_rejected_option(points_csv, tmp_path, capsys):
    side = tmp_path / "bad rows.csv"
    args = ["distances", "--points", str(points_csv), "--skip-invalid", "--rejected", str(side)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert len(_table_rows(captured.out)) == 3
    assert "skipped 0 invalid row(s)" in captured.err
    assert side.read_text(encoding="utf-8") == "row,field,reason,raw\n"


# --- streaming ------------------------------------------------------------------------------


def test_streamed_chunks_equal_one_chunk_and_keep_input_order(tmp_path, capsys):
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(43, 61, 300), rng.uniform(12, 32, 300)
    path = tmp_path / "points.csv"
    path.write_text(
        "id,lat,lon\n"
        + "".join(f"p{i},{a:.5f},{o:.5f}\n" for i, (a, o) in enumerate(zip(lat, lon, strict=True))),
        encoding="utf-8",
    )
    for rows, name in ((1000, "one.csv"), (7, "many.csv")):
        out = tmp_path / name
        assert (
            main(["distances", "--points", str(path), "-o", str(out), "--chunk-rows", str(rows)])
            == 0
        )
    capsys.readouterr()
    one, many = (tmp_path / "one.csv").read_bytes(), (tmp_path / "many.csv").read_bytes()
    assert one == many
    with (tmp_path / "many.csv").open(encoding="utf-8") as handle:
        got = list(csv.DictReader(handle))
    assert [r["id"] for r in got] == [f"p{i}" for i in range(300)]
    api = distance.to_frontier(lon.round(5), lat.round(5))
    assert [float(r["distance_m"]) for r in got] == api["distance_m"].tolist()


def test_progress_goes_to_stderr_only_when_asked(points_csv, tmp_path, capsys):
    out = tmp_path / "out.parquet"
    assert main(["distances", "--points", str(points_csv), "-o", str(out)]) == 0
    assert capsys.readouterr().err == NOTICE
    assert main(["distances", "--points", str(points_csv), "-o", str(out), "--progress"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"wrote {out} (3 rows)\n"
    assert captured.err.startswith("\rpoints.csv [####################] 100% 3 rows, ")
    assert captured.err.endswith(" rows/s\n" + NOTICE)


def test_geoparquet_in_and_out(points_csv, tmp_path, capsys):
    first = tmp_path / "first.parquet"
    assert main(["distances", "--points", str(points_csv), "-o", str(first)]) == 0
    second = tmp_path / "second.csv"
    assert main(["distances", "--points", str(first), "-o", str(second), "--to", "RUS"]) == 0
    capsys.readouterr()
    with second.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == ["Riga", "Narva", "Warsaw"]
    assert rows[0]["inside"] == ""


def test_a_gigabyte_of_junk_is_one_line_and_quick(tmp_path, capsys):
    path = tmp_path / "junk.csv"
    with path.open("wb") as handle:  # 1 GiB that takes no disk: text, then a hole of zeros
        handle.write(b"x" * 100)
        handle.truncate(1 << 30)
    out = tmp_path / "out.csv"
    assert main(["distances", "--points", str(path), "-o", str(out), "--skip-invalid"]) == 2
    assert _one_error_line(capsys) == "junk.csv: is not a text file (NUL byte at byte 100)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.csv"]


# --- non-point geometry: measured from the nearest point, never a traceback ---------------


def _shape_feature(geometry: dict, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


SHAPES = {
    "Polygon": {"type": "Polygon", "coordinates": [[[25, 54.3], [26, 54.3], [26, 55], [25, 54.3]]]},
    "LineString": {"type": "LineString", "coordinates": [[20, 52], [21, 52.5]]},
    "MultiPoint": {"type": "MultiPoint", "coordinates": [[20, 52], [24, 54]]},
    "MultiPolygon": {
        "type": "MultiPolygon",
        "coordinates": [[[[20, 52], [20.5, 52], [20.5, 52.5], [20, 52]]]],
    },
    "GeometryCollection": {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [20, 50]},
            {"type": "LineString", "coordinates": [[15, 50], [16, 51]]},
        ],
    },
}


@pytest.mark.parametrize("to", [[], ["--to", "RUS,BLR"]])
def test_non_point_geometry_in_the_table(tmp_path, capsys, to):
    features = [_shape_feature(g, id=kind) for kind, g in SHAPES.items()]
    features.append(_shape_feature({"type": "Point", "coordinates": [25, 54]}, id="pt"))
    path = tmp_path / "shapes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert main(["distances", "--points", str(path), "--as-of", "2025-01-01", *to]) == 0
    captured = capsys.readouterr()
    assert captured.err == NOTICE
    rows = {row[1]: row for row in _table_rows(captured.out)}
    for kind in SHAPES:
        assert rows[kind][2:4] == [kind, "-"]  # the type stands for lat/lon
    assert rows["pt"][2:4] == ["54.0000", "25.0000"]
    assert rows["Polygon"][4] == "0.00"  # it crosses the Belarus-Lithuania border


def test_polygon_layer_feature_with_frontier_and_to(tmp_path, capsys, monkeypatch, feature):
    feature["geometry"] = SHAPES["Polygon"]
    folder = tmp_path / "layers"
    folder.mkdir()
    layer = {
        "type": "FeatureCollection",
        "name": "areas",
        "title": "Areas",
        "description": "a polygon site",
        "features": [feature],
    }
    (folder / "areas.geojson").write_text(json.dumps(layer), encoding="utf-8")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(folder))
    for target in (["--frontier", "RUS,BLR:NATO"], ["--to", "RUS"]):
        assert main(["distances", "--as-of", "2025-01-01", *target]) == 0
        captured = capsys.readouterr()
        assert captured.err == NOTICE
        assert "test-site" in captured.out
        assert "Polygon" in captured.out


# --- CSV output: every text comes out as data; formula cells are said, or neutralised -------

FORMULA_IDS = {"formula-hyperlink", "formula-dde", "formula-at", "formula-minus"}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("safe", [False, True])
def test_csv_output_keeps_hostile_texts_and_handles_formulas(
    hostile_csv, hostile_corpus, tmp_path, capsys, safe
):
    out = tmp_path / "out.csv"
    args = ["distances", "--points", str(hostile_csv), "-o", str(out), "--as-of", "2021-10-20"]
    assert main(args + (["--excel-safe"] if safe else [])) == 0
    err = capsys.readouterr().err.splitlines()
    with hostile_csv.open(encoding="utf-8", newline="") as handle:
        texts = [c for c in next(csv.reader(handle)) if c not in ("id", "lat", "lon")]
    count = len(texts) * len(FORMULA_IDS)  # each text column holds each formula text
    if safe:
        assert err == [
            f"flankmap: warning: out.csv: wrote {count} cell(s) that start with =, +, - or @ "
            "with a leading ' so that a spreadsheet shows them as text (excel-safe)",
            NOTICE.rstrip("\n"),
        ]
    else:
        assert err == [
            f"flankmap: warning: out.csv: {count} cell(s) start with =, +, - or @, which a "
            "spreadsheet may run as formulas; write with --excel-safe (excel_safe=True) to "
            "neutralise them",
            NOTICE.rstrip("\n"),
        ]
    rows = {row["id"]: row for row in _csv_rows(out)}
    for text_id, text in hostile_corpus:
        expected = "'" + text if safe and text_id in FORMULA_IDS else text
        for column in texts:
            assert rows[text_id][column] == expected


def test_numbers_are_not_formulas_and_headers_are(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("id,=cmd(),lat,lon\n-5,+3.5,54.7,25.3\n-1e5,-.5,55,24\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["distances", "--points", str(path), "-o", str(out), "--excel-safe"]) == 0
    assert "wrote 1 cell(s)" in capsys.readouterr().err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,'=cmd(),lat,lon,")
    assert lines[1].startswith("-5,+3.5,54.7,25.3,")
    assert lines[2].startswith("-1e5,-.5,55,24,")


@pytest.mark.parametrize("command", ["distances", "map"])
def test_rejected_rows_file_neutralises_formulas(tmp_path, capsys, mini_layers, command):
    path = tmp_path / "p.csv"
    path.write_text("id,name,lat,lon\na,x,54.7,25.3\n=cmd(),@x,1000,2\n", encoding="utf-8")
    out = tmp_path / ("out.csv" if command == "distances" else "map.html")
    rejected = tmp_path / "bad.csv"
    source = ["--points"] if command == "distances" else ["--add"]
    args = [command, *source, str(path), "-o", str(out), "--skip-invalid"]
    assert main([*args, "--rejected", str(rejected), "--excel-safe"]) == 0
    err = capsys.readouterr().err
    assert "bad.csv: wrote 1 cell(s) that start with =, +, - or @ with a leading '" in err
    raw = _csv_rows(rejected)[0]["raw"]
    assert raw == "'=cmd(),@x,1000,2"
    assert main([*args, "--rejected", str(rejected)]) == 0
    assert "bad.csv: 1 cell(s) start with =, +, - or @" in capsys.readouterr().err
    assert _csv_rows(rejected)[0]["raw"] == "=cmd(),@x,1000,2"


# --- user columns with a result's name are kept; options are plain and not empty -----------


def test_user_columns_named_like_results_are_kept(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text(
        "id,distance_m,border,nearest_lat,lat,lon,inside\na,1,x,9,54.7,25.3,yes\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["distances", "--points", str(path), "-o", str(out), "--to", "RUS"]) == 0
    err = capsys.readouterr().err
    assert err == (
        "flankmap: warning: p.csv: kept the column(s) 'distance_m' as 'distance_m_input', "
        "'border' as 'border_input', 'nearest_lat' as 'nearest_lat_input', 'inside' as "
        "'inside_input' (the results take their names)\n" + NOTICE
    )
    row = _csv_rows(out)[0]
    assert row["distance_m_input"] == "1"
    assert row["border_input"] == "x"
    assert row["nearest_lat_input"] == "9"
    assert row["inside_input"] == "yes"
    assert float(row["distance_m"]) > 100_000
    assert row["border"] == "LTU-RUS"
    assert list(row)[:7] == [
        "id",
        "distance_m_input",
        "border_input",
        "nearest_lat_input",
        "lat",
        "lon",
        "inside_input",
    ]


def test_the_api_keeps_colliding_columns_too(caplog):

    frame = gpd.GeoDataFrame(
        {"distance_m": [5.0], "distance_m_input": ["taken"]},
        geometry=gpd.points_from_xy([25.3], [54.7]),
        crs=4326,
    )
    with caplog.at_level("WARNING", logger="geo.distance"):
        result = distance.distances(frame, as_of="2021-10-20")
    assert result["distance_m_input2"].tolist() == [5.0]
    assert result["distance_m_input"].tolist() == ["taken"]
    assert result["distance_m"].iloc[0] > 1000
    assert caplog.messages == [
        "points: kept the column(s) 'distance_m' as 'distance_m_input2' (the results take their "
        "names)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", ""], "-o/--output is empty; give a value, or leave the option out"),
        (["--frontier", ""], "--frontier is empty; give a value, or leave the option out"),
        (["--to", " "], "--to is empty; give a value, or leave the option out"),
        (["--as-of", ""], "--as-of is empty; give a value, or leave the option out"),
        (
            ["--as-of", "2021-02-29"],
            "as-of date '2021-02-29' is not a date: February 2021 has 28 days",
        ),
        (["--as-of", "20211020"], "as-of date '20211020' is not a date of the form YYYY-MM-DD"),
        (["--as-of", "2021-W42-3"], "as-of date '2021-W42-3' is not a date of the form YYYY-MM-DD"),
    ],
)
def test_empty_or_odd_options_are_one_line(points_csv, tmp_path, capsys, args, message):
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["distances", "--points", str(points_csv), *args]) == 2
    assert _one_error_line(capsys) == message
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("value", ["1_000", "\u0661\u0660", "10.5", "-3"])
def test_chunk_rows_must_be_a_plain_whole_number(points_csv, capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["distances", "--points", str(points_csv), "--chunk-rows", value])
    assert info.value.code == 2
    assert "argument --chunk-rows: " in capsys.readouterr().err


def test_rings_must_be_plain_numbers(capsys, mini_layers, tmp_path):
    assert main(["map", "-o", str(tmp_path / "m.html"), "--rings", "100_000"]) == 2
    assert _one_error_line(capsys) == (
        "--rings '100_000' is not a comma-separated list of km in digits 0-9 and '.', e.g. 100,300"
    )
    assert main(["map", "-o", str(tmp_path / "m.html"), "--rings", "5000.0001"]) == 2
    assert _one_error_line(capsys) == "ring radius 5000.0001 km is not between 0 and 5000 km"
    assert not (tmp_path / "m.html").exists()


def test_many_small_chunks_are_said_once(tmp_path, capsys, monkeypatch):
    from geo import cli

    monkeypatch.setattr(cli, "_MANY_CHUNKS", 5)
    path = tmp_path / "p.csv"
    path.write_text("lat,lon\n" + "54.7,25.3\n" * 12, encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["distances", "--points", str(path), "-o", str(out), "--chunk-rows", "1"]) == 0
    assert capsys.readouterr().err == (
        "flankmap: warning: --chunk-rows 1 has made 5 chunks so far, and each costs some "
        "milliseconds: 10,000 rows or more is usual (default 100,000)\n" + NOTICE
    )
    assert len(_csv_rows(out)) == 12


@pytest.mark.parametrize("name", ["csv", "geojson", "parquet", "gpkg", "fgb", "kml", "kmz"])
def test_format_writes_that_format_whatever_the_suffix(points_csv, tmp_path, capsys, name):
    # --format F -o out.dat writes what -o out.F writes (the format inferred from the suffix).
    (tmp_path / "ref").mkdir()
    (tmp_path / "fmt").mkdir()
    inferred = tmp_path / "ref" / f"out.{name}"
    given = tmp_path / "fmt" / "out.dat"
    base = ["distances", "--points", str(points_csv), "--as-of", "2024-01-01"]
    assert main([*base, "-o", str(inferred)]) == 0
    assert main([*base, "--format", name.upper(), "-o", str(given)]) == 0
    assert f"wrote {given}" in capsys.readouterr().out
    if name != "gpkg":  # a GeoPackage holds the time it was written (gpkg_contents)
        assert given.read_bytes() == inferred.read_bytes()
    if name in ("gpkg", "fgb", "geojson", "kml"):
        with warnings.catch_warnings():  # GDAL: a GeoPackage named .dat is not conformant
            warnings.filterwarnings("ignore", "File .* non conformant file extension")
            back = pyogrio.read_dataframe(given)  # GDAL knows the format by its content
        pd.testing.assert_frame_equal(back, pyogrio.read_dataframe(inferred))
        assert pd.to_numeric(back["distance_m"]).gt(0).all()
        assert len(back) == 3
    elif name == "parquet":
        back = gpd.read_parquet(given)
        assert back["name"].tolist() == ["Riga", "Narva", "Warsaw"]
        assert back["border"].str.len().gt(0).all()
    elif name == "kmz":
        with zipfile.ZipFile(given) as archive:
            assert archive.namelist()[0].endswith(".kml")
    else:
        with given.open(encoding="utf-8") as handle:
            assert [r["name"] for r in csv.DictReader(handle)] == ["Riga", "Narva", "Warsaw"]


def test_format_for_the_sites_of_layers(sites_dir, tmp_path, capsys):
    out = tmp_path / "sites.out"
    args = ["distances", "--layers", "sites_small", "--format", "fgb", "-o", str(out)]
    assert main(args) == 0
    assert out.read_bytes()[:3] == b"fgb"
    assert "opposing_distance_m" in pyogrio.read_dataframe(out).columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--format", "xlsx", "-o", "{tmp}/out.csv"],
            "unknown format 'xlsx'; use csv, geojson, parquet, gpkg, fgb, kml, kmz",
        ),
        (
            ["--format", "kml"],
            "--format needs -o FILE: flankmap distances ... --format kmz -o FILE",
        ),
        (
            ["-o", "{tmp}/out.dat"],
            "out.dat: unknown output type '.dat'; "
            "use .csv, .geojson, .parquet, .gpkg, .fgb, .kml, .kmz",
        ),
    ],
)
def test_format_errors_are_one_line_and_write_nothing(points_csv, tmp_path, capsys, args, message):
    values = {"tmp": str(tmp_path)}
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["distances", "--points", str(points_csv), *[a.format(**values) for a in args]]
    assert main(argv) == 2
    assert _one_error_line(capsys) == message.format(**values)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_distances_table_shows_hostile_text_as_data(
    hostile_csv, hostile_corpus, capsys, raw_control
):
    assert main(["distances", "--points", str(hostile_csv), "--as-of", "2021-10-20"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("flankmap: borders: OpenStreetMap")
    assert captured.err.count("\n") == 1
    assert not raw_control.search(captured.out)
    for _, text in hostile_corpus:
        assert printable(text)[:30] in captured.out  # names are cut at 40 characters


@pytest.mark.parametrize(
    "options", [["--frontier", "RUS:NATO", "--to", "RUS"], ["--layers", "x", "--points", "p.csv"]]
)
def test_exclusive_distances_options_are_refused_by_the_parser(options, capsys):
    """argparse refuses them (usage and exit 2) before the command runs: no second check."""
    with pytest.raises(SystemExit) as info:
        main(["distances", *options])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


OSM_CREDIT = "© OpenStreetMap contributors (ODbL)"


def _points(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "id,lat,lon,coord_uncertainty_m\n"
        "castle,59.3766,28.2019,0\n"
        "fortress,59.3765,28.2115,0\n"
        "vilnius,54.6872,25.2797,100\n",
        encoding="utf-8",
    )
    return path


def _rows(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_naturalearth_on_the_command_line_reproduces_todays_numbers(tmp_path, capsys):
    points = _points(tmp_path)
    out = tmp_path / "ne.csv"
    assert (
        main(["distances", "--points", str(points), "--borders", "naturalearth", "-o", str(out)])
        == 0
    )
    assert "Natural Earth (public domain)" in capsys.readouterr().err
    rows = _rows(out)
    lon, lat = [28.2019, 28.2115, 25.2797], [59.3766, 59.3765, 54.6872]
    expected = distance.to_frontier(lon, lat, borders="naturalearth")
    np.testing.assert_allclose([float(r["distance_m"]) for r in rows], expected["distance_m"])
    assert [r["located_in"] for r in rows] == ["RUS", "RUS", "LTU"]
    assert float(rows[2]["distance_max_m"]) - float(rows[2]["distance_m"]) == pytest.approx(9700)


def test_the_default_is_osm_and_says_so(tmp_path, capsys):
    points = _points(tmp_path)
    out = tmp_path / "osm.csv"
    assert main(["distances", "--points", str(points), "--to", "RUS", "-o", str(out)]) == 0
    assert OSM_CREDIT in capsys.readouterr().err
    rows = _rows(out)
    assert [r["inside"] for r in rows] == ["", "RUS", ""]
    assert [r["located_in"] for r in rows] == ["EST", "RUS", "LTU"]
    assert float(rows[2]["distance_max_m"]) - float(rows[2]["distance_m"]) == pytest.approx(110)


def test_a_file_source_on_the_command_line(tmp_path, capsys):
    from geo import borders

    countries = tmp_path / "baltic.gpkg"
    frame = borders.countries(["EST", "LVA", "RUS"], borders="naturalearth")
    frame.reset_index()[["iso_a3", "geometry"]].to_file(countries, driver="GPKG")
    points = _points(tmp_path)
    out = tmp_path / "file.csv"
    args = ["distances", "--points", str(points), "--frontier", "RUS:EST,LVA"]
    assert main([*args, "--borders", str(countries), "-o", str(out)]) == 0
    assert "Borders: baltic.gpkg" in capsys.readouterr().err
    ne = distance.to_frontier(
        [28.2019, 28.2115, 25.2797],
        [59.3766, 59.3765, 54.6872],
        "RUS:EST,LVA",
        borders="naturalearth",
    )
    np.testing.assert_allclose([float(r["distance_m"]) for r in _rows(out)], ne["distance_m"])
    # The border file is an input: no output may replace it.
    assert main([*args, "--borders", str(countries), "-o", str(countries)]) == 2


def test_geoparquet_output_names_the_borders(tmp_path, capsys):
    import json

    import pyarrow.parquet as pq

    out = tmp_path / "out.parquet"
    assert main(["distances", "--points", str(_points(tmp_path)), "-o", str(out)]) == 0
    meta = json.loads(pq.read_schema(out).metadata[b"flankmap"])
    assert meta["borders"]["attribution"] == OSM_CREDIT
    assert meta["borders"]["licence"] == "ODbL-1.0"
    assert meta["borders"]["accuracy_m"] == 10.0
    assert b"geo" in pq.read_schema(out).metadata


def test_a_swapped_file_gets_one_warning(tmp_path, capsys):
    path = tmp_path / "swapped.csv"
    rows = "".join(f"p{i},{24 + i / 10:.2f},{55 + i / 20:.2f}\n" for i in range(30))
    path.write_text("id,lat,lon\n" + rows, encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["distances", "--points", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("are the lat and lon columns swapped?") == 1
    assert "every point is more than 2,000 km from the borders measured" in err
    right = tmp_path / "right.csv"
    rows = "".join(f"p{i},{55 + i / 20:.2f},{24 + i / 10:.2f}\n" for i in range(30))
    right.write_text("id,lat,lon\n" + rows, encoding="utf-8")
    assert main(["distances", "--points", str(right), "-o", str(out)]) == 0
    assert "swapped" not in capsys.readouterr().err


def test_a_far_file_that_swapped_would_not_help_gets_no_warning(tmp_path, capsys):
    path = tmp_path / "far.csv"
    path.write_text("id,lat,lon\nsydney,-33.87,151.21\nlima,-12.05,-77.04\n", encoding="utf-8")
    assert main(["distances", "--points", str(path), "-o", str(tmp_path / "o.csv")]) == 0
    assert "swapped" not in capsys.readouterr().err


def test_distances_of_points_stream_into_a_geopackage(tmp_path):
    points = tmp_path / "p.csv"
    rows = "".join(f"p{i},{54 + i / 100},{25 + i / 100}\n" for i in range(25))
    points.write_text("id,lat,lon\n" + rows, encoding="utf-8")
    out = tmp_path / "d.gpkg"
    args = ["distances", "--points", str(points), "-o", str(out), "--chunk-rows", "10"]
    assert main(args) == 0
    back = pyogrio.read_dataframe(out)
    assert back["id"].tolist() == [f"p{i}" for i in range(25)]
    assert back["distance_m"].dtype == np.float64


def test_distances_to_a_stream_say_so_on_stderr(tmp_path, capfd, fifo_reader):
    fifo, got, reader = fifo_reader(tmp_path)
    args = ["distances", "--layers", "nato_efp", "--frontier", "RUS,BLR:NATO", "-o", str(fifo)]
    assert main(args) == 2  # a FIFO's name has no suffix: one line
    assert "unknown output type ''" in capfd.readouterr().err
    points = tmp_path / "p.csv"
    points.write_text("id,lat,lon\na,54.5,25.3\n", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(fifo)
    assert main(["distances", "--points", str(points), "-o", str(link)]) == 0
    reader.join(10)
    out, err = capfd.readouterr()
    assert out == ""
    wrote, borders_line = err.splitlines()
    assert wrote == f"wrote {link} (1 rows)"
    assert borders_line.startswith("flankmap: borders: OpenStreetMap")
    assert got[0].startswith(b"id,lat,lon,distance_m")
