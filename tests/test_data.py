from pathlib import Path

import pytest

from geo import _data
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


def test_country_codes_of_another_format_are_read_by_gdal(tmp_path, monkeypatch):
    import pyogrio

    frame = pyogrio.read_dataframe(_data.countries_path(), columns=["ADM0_A3", "ISO_A3_EH"])
    small = frame[frame["ADM0_A3"].isin(["POL", "LTU", "KOS"])]
    path = tmp_path / "three.gpkg"
    pyogrio.write_dataframe(small, path)
    monkeypatch.setenv(_data.COUNTRIES_ENV, str(path))
    assert _data.country_codes() == {"POL", "LTU", "KOS"}
