"""Tests of geo.points: reading user point files and writing results."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo._errors import InputError
from geo.points import read_points, write_points


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _feature(lon, lat, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_csv_keeps_columns_in_order(tmp_path):
    path = _write(
        tmp_path, "p.csv", "name,lon,note,lat\nVilnius,25.28,capital,54.687\nRiga,24.1,,56.95\n"
    )
    frame = read_points(path)
    assert list(frame.columns) == ["name", "lon", "note", "lat", "geometry"]
    assert frame["name"].tolist() == ["Vilnius", "Riga"]
    assert frame.crs.to_epsg() == 4326
    np.testing.assert_allclose(frame.geometry.x, [25.28, 24.1])
    np.testing.assert_allclose(frame.geometry.y, [54.687, 56.95])


def test_csv_latitude_longitude_any_case_and_bom(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("\ufeffID,Latitude,LONGITUDE\n1,54.7,25.3\n".encode())
    frame = read_points(path)
    assert frame.geometry.iloc[0].equals(shapely.Point(25.3, 54.7))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lat,lon\n54,25\nabc,25\n", r"^p\.csv: row 2: field 'lat': 'abc' is not a number$"),
        (
            "lat,lon\n54,25\n91,25\n",
            r"^p\.csv: row 2: field 'lat': 91\.0 is outside -90\.\.90 \(lat and lon swapped\?\)$",
        ),
        ("lat,lon\n200,25\n", r"^p\.csv: row 1: field 'lat': 200\.0 is outside -90\.\.90$"),
        (
            "lat,lon\n25,254\n",
            r"^p\.csv: row 1: field 'lon': 254\.0 is outside -180\.\.180$",
        ),
        (
            "lat,lon\n125.3,54.7\n",
            r"^p\.csv: row 1: field 'lat': 125\.3 is outside -90\.\.90 \(lat and lon swapped\?\)$",
        ),
        ("lat,lon\n54,nan\n", r"row 1: field 'lon': 'nan' is not a finite number"),
        ("name,x,y\na,1,2\n", r"^p\.csv: has no lat/lon columns \(columns: name, x, y\)"),
        ("", r"^p\.csv: is empty$"),
        ("lat,lon\n", r"^p\.csv: has a header but no data rows$"),
        ("lat,lon,n\n54,25\n", r"^p\.csv: row 1: has 2 fields, the header has 3$"),
        (
            "lat,lon,coord_uncertainty_m\n54,25,-3\n",
            r"row 1: field 'coord_uncertainty_m': '-3' is negative",
        ),
    ],
)
def test_csv_errors_name_file_row_and_field(tmp_path, text, message):
    path = _write(tmp_path, "p.csv", text)
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("name,lat,lon\nŁódź,51.7,19.4\n".encode("cp1250"))
    with pytest.raises(InputError, match=r"^p\.csv: is not UTF-8 \(byte 13, line 2\)"):
        read_points(path)


def test_geojson_points(tmp_path):
    path = _write(tmp_path, "p.geojson", _collection(_feature(25.28, 54.687, name="Vilnius")))
    frame = read_points(path)
    assert frame["name"].tolist() == ["Vilnius"]
    assert frame.geometry.iloc[0].equals(shapely.Point(25.28, 54.687))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"type": "FeatureCollection", "features": [}',
            r"^p\.geojson: field 'file': is not valid JSON \(line 1: ",
        ),
        ('{"type": "Feature"}', r"^p\.geojson: field 'type': is not a GeoJSON FeatureCollection$"),
        (
            _collection(_feature(25, 54), {"type": "Feature", "properties": {}}),
            r"^p\.geojson: feature 2: field 'geometry': is missing$",
        ),
        (
            _collection(_feature(25, 54), _feature(54, 125)),
            r"^p\.geojson: feature 2: field 'geometry': 125\.0 is outside -90\.\.90 \(lat and lon swapped\?\)$",
        ),
        (_collection(), r"^p\.geojson: field 'features': is empty"),
    ],
)
def test_geojson_errors(tmp_path, text, message):
    path = _write(tmp_path, "p.geojson", text)
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_geopackage_in_another_crs_is_reprojected(tmp_path):
    source = gpd.GeoDataFrame(
        {"name": ["Vilnius"], "coord_uncertainty_m": [250.0]},
        geometry=gpd.points_from_xy([25.28], [54.687]),
        crs="EPSG:4326",
    )
    path = tmp_path / "p.gpkg"
    source.to_crs(3035).to_file(path, driver="GPKG")
    frame = read_points(path)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.iloc[0].x == pytest.approx(25.28, abs=1e-7)
    assert frame.geometry.iloc[0].y == pytest.approx(54.687, abs=1e-7)
    assert frame["coord_uncertainty_m"].tolist() == [250.0]


def test_geoparquet(tmp_path):
    path = tmp_path / "p.parquet"
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([25.28], [54.687]), crs=4326)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path.write_bytes(b"PAR1")
        with pytest.raises(InputError, match=r"^p\.parquet: reading GeoParquet needs pyarrow"):
            read_points(path)
        with pytest.raises(InputError, match=r"^p\.parquet: writing GeoParquet needs pyarrow"):
            write_points(frame, path)
        return
    write_points(frame, path)
    assert read_points(path).geometry.iloc[0].equals(shapely.Point(25.28, 54.687))


def test_unknown_type_and_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"^p\.txt: unknown file type '\.txt'"):
        read_points(_write(tmp_path, "p.txt", "lat,lon\n1,2\n"))
    with pytest.raises(InputError, match=r"^nothing\.csv: no such file"):
        read_points(tmp_path / "nothing.csv")


def test_write_csv_adds_coordinates_and_json_cells(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "sources": [[{"title": "t"}]], "distance_m": [12.5]},
        geometry=gpd.points_from_xy([25.0], [54.0]),
        crs=4326,
    )
    out = write_points(frame, tmp_path / "out.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,sources,lat,lon,distance_m"
    assert lines[1] == 'a,"[{""title"": ""t""}]",54.0,25.0,12.5'
    geojson = write_points(frame, tmp_path / "out.geojson")
    assert json.loads(geojson.read_text())["features"][0]["properties"]["distance_m"] == 12.5
    with pytest.raises(InputError, match=r"unknown output type '\.xlsx'"):
        write_points(frame, tmp_path / "out.xlsx")
