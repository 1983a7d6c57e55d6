import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geo import layers
from geo._errors import LayerNotFoundError, LayerValidationError

MINI = Path(__file__).parent / "data" / "layers_mini"


def test_mini_layers_load(mini_layers):
    frame = layers.load_layers()
    assert list(frame["layer"].unique()) == ["east", "west"]
    assert list(frame.columns) == [*layers.COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    assert frame.loc[frame["id"] == "west-bg", "lead_nation"].item() == "USA"


def test_query_name_ignores_case_and_punctuation(mini_layers):
    assert layers.layer_path("EAST").name == "east.geojson"


def test_unknown_layer_lists_the_layers(mini_layers):
    with pytest.raises(LayerNotFoundError, match=r"no layer named 'nope'; layers: east, west"):
        layers.load_layer("nope")


def test_as_of_filters_by_since_and_until(mini_layers):
    ids = lambda day: sorted(layers.load_layers(as_of=day)["id"])  # noqa: E731
    assert ids("2015-01-01") == ["east-radar"]
    assert ids("2022-03-01") == ["east-depot", "east-radar", "west-bg", "west-md"]
    assert ids("2022-05-01") == ["east-radar", "west-bg", "west-md"]


def test_status_follows_the_timeline(mini_layers):
    before = layers.load_layer("west", as_of="2020-01-01").set_index("id")
    after = layers.load_layer("west", as_of=dt.date(2025, 1, 1)).set_index("id")
    assert before.loc["west-md", "status"] == "under_construction"
    assert after.loc["west-md", "status"] == "active"


def test_list_layers_reports_counts_and_dates(mini_layers):
    infos = {i.name: i for i in layers.list_layers()}
    assert infos["east"].count == 2
    assert infos["east"].title == "East test layer"
    assert (infos["east"].first, infos["east"].last) == ("2003", "2022-04")


def test_valid_feature_passes(write_layer, feature):
    frame = layers.read_layer_file(write_layer([feature]))
    assert frame["id"].tolist() == ["test-site"]
    assert frame.geometry.iloc[0].x == pytest.approx(26.4578)


def _break(feature, field, value):
    if value is KeyError:
        del feature["properties"][field]
    else:
        feature["properties"][field] = value
    return feature


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", KeyError, r"field 'name': is missing"),
        ("sources", KeyError, r"field 'sources': is missing"),
        ("kind", "castle", r"field 'kind': 'castle' is not one of"),
        ("status", "maybe", r"field 'status': 'maybe' is not one of"),
        ("country", "XYZ", r"field 'country': 'XYZ' is not a known ISO alpha-3 code"),
        ("operator", "ZZZ", r"field 'operator': 'ZZZ' is not an ISO alpha-3 code or NATO"),
        ("since", "2021-13", r"field 'since': '2021-13' has month 13"),
        ("since", "21.10.2021", r"field 'since': .*is not a date of the form"),
        ("until", "2021-02-30", r"field 'until': '2021-02-30' names no real day"),
        ("until", "1999", r"field 'until': 1999 is before since 2003"),
        ("id", "Bad Id", r"field 'id': 'Bad Id' is not a slug"),
        ("coord_uncertainty_m", "far", r"field 'coord_uncertainty_m': 'far' is not a number"),
        ("coord_uncertainty_m", -5, r"field 'coord_uncertainty_m': -5 is not a number"),
        ("sources", [], r"field 'sources': must be a non-empty list"),
        (
            "sources",
            [{"title": "t", "publisher": "p", "accessed": "2026-01-01"}],
            r"field 'sources\[1\]\.url': is missing",
        ),
        (
            "sources",
            [{"title": "t", "url": "ftp://x", "publisher": "p", "accessed": "2026"}],
            r"field 'sources\[1\]\.url': 'ftp://x' is not an http",
        ),
        (
            "timeline",
            [{"date": "2020", "status": "active"}, {"date": "2019", "status": "active"}],
            r"timeline is not in date order",
        ),
        ("lead_nation", "XXX", r"field 'lead_nation': 'XXX' is not a known"),
    ],
)
def test_each_schema_error_names_file_feature_and_field(
    write_layer, feature, field, value, message
):
    path = write_layer([_break(feature, field, value)])
    with pytest.raises(LayerValidationError, match=rf"^test_layer\.geojson: feature .*{message}"):
        layers.read_layer_file(path)


def test_until_requires_ended_status(write_layer, feature):
    feature["properties"]["until"] = "2020"
    with pytest.raises(
        LayerValidationError, match=r"field 'status': is 'active' but until is 2020"
    ):
        layers.read_layer_file(write_layer([feature]))


@pytest.mark.parametrize(
    ("coordinates", "message"),
    [
        ([26.0, 95.0], r"field 'geometry': latitude 95.0 is outside -90..90"),
        ([200.0, 52.0], r"field 'geometry': longitude 200.0 is outside -180..180"),
    ],
)
def test_coordinates_out_of_range(write_layer, feature, coordinates, message):
    feature["geometry"]["coordinates"] = coordinates
    with pytest.raises(LayerValidationError, match=rf"feature test-site: {message}"):
        layers.read_layer_file(write_layer([feature]))


def test_line_geometry_is_refused(write_layer, feature):
    feature["geometry"] = {"type": "LineString", "coordinates": [[26, 52], [27, 53]]}
    with pytest.raises(LayerValidationError, match=r"LineString is not Point, Polygon"):
        layers.read_layer_file(write_layer([feature]))


def test_duplicate_id_in_one_file(write_layer, feature):
    with pytest.raises(
        LayerValidationError, match=r"feature test-site: field 'id': is used by another"
    ):
        layers.read_layer_file(write_layer([feature, feature]))


def test_duplicate_id_across_layers(tmp_path, monkeypatch, write_layer, feature):
    write_layer([feature], name="one")
    write_layer([feature], name="two")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    with pytest.raises(
        LayerValidationError,
        match=r"two\.geojson: feature test-site: field 'id': is also used in one\.geojson",
    ):
        layers.load_layers()


def test_feature_without_id_is_named_by_position(write_layer, feature):
    del feature["properties"]["id"]
    with pytest.raises(LayerValidationError, match=r"feature #0: field 'id': is missing"):
        layers.read_layer_file(write_layer([feature]))


def test_not_json(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(
        LayerValidationError, match=r"^broken\.geojson: field 'file': is not valid JSON \(line 1"
    ):
        layers.read_layer_file(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.geojson"
    path.write_bytes(json.dumps({"type": "FeatureCollection", "features": []}).encode() + b"\xe9")
    with pytest.raises(LayerValidationError, match=r"latin\.geojson: field 'file': is not UTF-8"):
        layers.read_layer_file(path)


def test_feature_instead_of_collection(tmp_path, feature):
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(feature), encoding="utf-8")
    with pytest.raises(
        LayerValidationError,
        match=r"one\.geojson: field 'type': is not a GeoJSON FeatureCollection",
    ):
        layers.read_layer_file(path)


def test_round_trip_to_feature_collection(mini_layers):
    frame = layers.load_layer("west")
    collection = layers.to_feature_collection(frame)
    assert [f["properties"]["id"] for f in collection["features"]] == ["west-bg", "west-md"]
    assert collection["features"][0]["geometry"]["coordinates"] == (22.0, 53.8)
    json.dumps(collection)


# --- only regular files of a bounded size are read from the layers folder -------------------


def _layers_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "layers"
    folder.mkdir()
    for path in MINI.glob("*.geojson"):
        shutil.copy(path, folder)
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(folder))
    return folder


def _make(folder: Path, kind: str) -> Path:
    path = folder / "zz.geojson"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(folder / "gone.geojson")
    elif kind == "folder":
        path.mkdir()
    return path


SPECIAL = {
    "fifo": "is a FIFO, not a layer file; remove it from the folder",
    "device": "is a character device, not a layer file; remove it from the folder",
    "dangling": "is a link to a missing file",
    "folder": "is a folder, not a layer file; remove it from the folder",
}


@pytest.mark.parametrize("kind", sorted(SPECIAL))
def test_a_special_file_in_the_layers_folder_is_one_line(tmp_path, monkeypatch, kind):
    """Not a hang (FIFO), not an endless read (/dev/zero), not a traceback (link, folder)."""
    if kind == "device" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    folder = _layers_folder(tmp_path, monkeypatch)
    _make(folder, kind)

    def limit_memory() -> None:  # an unbounded read of /dev/zero fails fast, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    for command in (["layers"], ["map", "-o", str(tmp_path / "map.html")]):
        result = subprocess.run(
            [sys.executable, "-m", "geo", *command],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limit_memory,
            check=False,
        )
        assert result.returncode == 2, result.stderr[-500:]
        assert result.stderr == f"flankmap: error: zz.geojson: field 'file': {SPECIAL[kind]}\n"
    assert layers.load_layer("east")["id"].tolist() == ["east-radar", "east-depot"]
    with pytest.raises(LayerValidationError, match=f"^zz.geojson: field 'file': {SPECIAL[kind]}$"):
        layers.list_layers()


def test_a_layer_file_larger_than_the_limit_is_refused(tmp_path, monkeypatch):
    folder = _layers_folder(tmp_path, monkeypatch)
    size = (folder / "east.geojson").stat().st_size
    monkeypatch.setattr(layers, "MAX_LAYER_BYTES", 1000)
    with pytest.raises(
        LayerValidationError,
        match=rf"^east.geojson: field 'file': is {size:,} bytes, more than a layer file may be",
    ):
        layers.load_layer("east")


def test_a_deeply_nested_layer_file_is_one_line(tmp_path):
    path = tmp_path / "deep.geojson"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text('{"type": "FeatureCollection", "features": [], "x": ' + deep + "}")
    with pytest.raises(
        LayerValidationError, match=r"^deep\.geojson: field 'file': is nested too deeply to be"
    ):
        layers.read_layer_file(path)
