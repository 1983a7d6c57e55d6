from pathlib import Path

import pytest

from geo import _data, figures, maps, report
from geo._errors import DataDirError


def test_env_override_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(_data.LAYERS_ENV, str(tmp_path))
    assert _data.layers_dir() == tmp_path


def test_env_override_must_be_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(_data.LAYERS_ENV, str(tmp_path / "missing"))
    with pytest.raises(DataDirError, match=r"FLANKMAP_LAYERS_DIR=.*missing' is not a folder"):
        _data.layers_dir()


def test_checkout_layers_found_without_override(monkeypatch):
    monkeypatch.delenv(_data.LAYERS_ENV, raising=False)
    found = _data.layers_dir()
    assert found.name in {"layers", "_layers"}
    assert any(found.glob("*.geojson"))


def test_no_layers_anywhere_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(_data.LAYERS_ENV, raising=False)
    monkeypatch.setattr(_data, "_PACKAGE_DIR", tmp_path / "geo")
    with pytest.raises(DataDirError, match=r"no layers folder found: .*set FLANKMAP_LAYERS_DIR"):
        _data.layers_dir()


def test_countries_path_is_a_zip_of_natural_earth(monkeypatch):
    monkeypatch.delenv(_data.COUNTRIES_ENV, raising=False)
    path = _data.countries_path()
    assert path.startswith("zip://")
    assert Path(path.removeprefix("zip://")).name == _data.NE_ZIP


def test_countries_override_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv(_data.COUNTRIES_ENV, str(tmp_path / "nope.zip"))
    with pytest.raises(DataDirError, match=r"FLANKMAP_COUNTRIES=.*does not exist"):
        _data.countries_path()


def test_country_codes_from_the_attribute_table_match_gdal():
    """The quick dBASE read gives the codes that pyogrio (GDAL) reads from the same file."""
    import pyogrio

    frame = pyogrio.read_dataframe(
        _data.countries_path(), columns=["ADM0_A3", "ISO_A3_EH"], read_geometry=False
    )
    expected = {
        _data.iso_code(a, e) for a, e in zip(frame["ADM0_A3"], frame["ISO_A3_EH"], strict=True)
    }
    assert _data.country_codes() == expected
    assert {"KOS", "FRA", "BLR", "RUS"} <= expected
    assert "-99" not in expected


def test_a_shapefile_without_cpg_is_read_as_utf8(tmp_path, monkeypatch):
    import zipfile

    monkeypatch.delenv(_data.COUNTRIES_ENV, raising=False)
    shipped = _data.countries_path()
    assert _data.countries_encoding(shipped) == "UTF-8"  # the data package's zip has no .cpg
    with_cpg = tmp_path / "with_cpg.zip"
    with zipfile.ZipFile(with_cpg, "w") as archive:
        archive.writestr("c.dbf", b"")
        archive.writestr("c.cpg", b"ISO-8859-1")
    assert _data.countries_encoding(f"zip://{with_cpg}") is None
    (tmp_path / "plain.shp").write_bytes(b"")
    assert _data.countries_encoding(str(tmp_path / "plain.shp")) == "UTF-8"
    (tmp_path / "plain.cpg").write_text("UTF-8")
    assert _data.countries_encoding(str(tmp_path / "plain.shp")) is None


def test_country_codes_of_another_format_are_read_by_gdal(tmp_path, monkeypatch):
    import pyogrio

    frame = pyogrio.read_dataframe(_data.countries_path(), columns=["ADM0_A3", "ISO_A3_EH"])
    small = frame[frame["ADM0_A3"].isin(["POL", "LTU", "KOS"])]
    path = tmp_path / "three.gpkg"
    pyogrio.write_dataframe(small, path)
    monkeypatch.setenv(_data.COUNTRIES_ENV, str(path))
    assert _data.country_codes() == {"POL", "LTU", "KOS"}


def test_border_sources_describe_themselves():
    osm, ne = _data.border_source("osm"), _data.border_source("naturalearth")
    assert _data.border_source() is osm is _data.BORDER_SOURCES[_data.DEFAULT_BORDERS]
    assert osm.attribution == "© OpenStreetMap contributors (ODbL)"
    assert osm.licence == "ODbL-1.0"
    assert (osm.frontier_from, ne.frontier_from) == ("lines", "edges")
    assert osm.accuracy_m == 10.0
    assert "10 metre" in osm.accuracy_source
    assert ne.accuracy_m == 9600.0
    assert ne.version == _data.NE_VERSION
    assert "OpenStreetMap contributors" in osm.notice
    assert _data.border_source(ne) is ne


def test_a_file_border_source_finds_its_code_field(tmp_path):
    import geopandas as gpd
    import shapely

    path = tmp_path / "two.geojson"
    gpd.GeoDataFrame(
        {"ISO_A3": ["AAA", "BBB"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs=4326,
    ).to_file(path, driver="GeoJSON")
    source = _data.border_source(str(path))
    assert (source.name, source.code_field, source.frontier_from) == (
        "two.geojson",
        "ISO_A3",
        "edges",
    )
    assert source.accuracy_m == 0.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: "/vsizip/x.zip/a.gpkg", r"GDAL virtual path or a URL"),
        (lambda p: "https://example.org/a.geojson", r"GDAL virtual path or a URL"),
        (lambda p: str(p / "a.vrt"), r"a.vrt: borders must be osm, naturalearth or a GeoPackage"),
        (lambda p: str(p / "missing.gpkg"), r"missing.gpkg: no such file of borders"),
        (
            lambda p: _write(p / "nocode.geojson", {"name": "x"}),
            r"nocode.geojson: has no ISO 3166-1 alpha-3 column",
        ),
        (
            lambda p: _write(p / "bad.geojson", {"iso_a3": "Poland"}),
            r"bad.geojson: feature 1: field 'iso_a3': 'Poland' is not an ISO 3166-1 alpha-3 code",
        ),
        (
            lambda p: _text(p / "junk.gpkg", "not a geopackage"),
            r"junk.gpkg: cannot be read as GPKG",
        ),
        (
            lambda p: _text(p / "vrt.geojson", "<OGRVRTDataSource/>"),
            r"vrt.geojson: cannot be read as GeoJSON",
        ),
    ],
)
def test_bad_border_files_fail_in_one_line(tmp_path, make, message):
    from geo._errors import InputError

    with pytest.raises(InputError, match=message) as caught:
        _data.border_source(make(tmp_path))
    assert "\n" not in str(caught.value)


def _write(path, properties):
    import json

    feature = {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return str(path)


def _text(path, text):
    path.write_text(text)
    return str(path)


OSM_CREDIT = "© OpenStreetMap contributors (ODbL)"


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
