"""The border source in every output: --borders on the commands, attributions, accuracy."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from geo import _data, distance, figures, maps, report
from geo.cli import main

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


@pytest.mark.parametrize(
    "command",
    [
        ["distances"],
        ["map", "-o", "m.html"],
        ["report"],
        ["figure", "-o", "f.svg", "--kind", "distances"],
    ],
)
def test_a_bad_border_file_is_one_line_exit_2(tmp_path, capsys, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "countries.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"iso_a3": "Estonia"}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}'
    )
    assert main([*command, "--borders", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "flankmap: error: countries.geojson: feature 1: field 'iso_a3': 'Estonia' is not an "
        "ISO 3166-1 alpha-3 code\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["countries.geojson"]


def test_every_output_credits_openstreetmap():
    osm = _data.border_source("osm")
    long, short = maps._attributions(osm)
    assert OSM_CREDIT in long
    assert OSM_CREDIT in short
    assert maps._attributions(_data.border_source("naturalearth")) == (
        maps._ATTRIBUTION,
        maps._ATTRIBUTION_SHORT,
    )
    assert OSM_CREDIT in figures.attribution(version="1", borders=osm)
    assert "OpenStreetMap" not in figures.attribution(version="1")
    paragraph = report._measured_html(osm)
    assert "© OpenStreetMap contributors (ODbL)" in paragraph
    assert "±10 m" in paragraph


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
