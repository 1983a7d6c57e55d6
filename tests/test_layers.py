import copy
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
from geo._errors import DataDirError, LayerNotFoundError, LayerValidationError

V2_FIELDS = {
    "confidence": "confirmed",
    "last_verified": "2026-11-25",
    "since_basis": "activation",
    "coord_basis": "facility",
}


def _v2(feature):
    """The feature with every schema v2 field a shipped feature needs."""
    feature = copy.deepcopy(feature)
    feature["properties"].update(V2_FIELDS)
    for source in feature["properties"]["sources"]:
        source.update({"type": "press", "language": "en"})
    return feature


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


VALID_SOURCE = {
    "title": "A source",
    "url": "https://example.org/source",
    "publisher": "Example",
    "accessed": "2026-11-25",
    "type": "press",
    "language": "en",
}


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
        ("operator", "ZZZ", r"field 'operator': 'ZZZ' is not an ISO alpha-3 code, NATO or SUN"),
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


def test_geometry_collection_is_refused(write_layer, feature):
    feature["geometry"] = {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": [26, 52]}],
    }
    with pytest.raises(
        LayerValidationError, match=r"field 'geometry': GeometryCollection is not one of Point"
    ):
        layers.read_layer_file(write_layer([feature]))


def test_schematic_line_is_accepted(write_layer, feature):
    feature = _v2(feature)
    feature["properties"].update(kind="fortification_line", coord_basis="schematic")
    feature["geometry"] = {
        "type": "MultiLineString",
        "coordinates": [[[26, 52], [27, 53]], [[27, 53], [27.5, 54]]],
    }
    frame = layers.read_layer_file(write_layer([feature]))
    assert frame.geometry.iloc[0].geom_type == "MultiLineString"


def test_line_must_be_schematic(write_layer, feature):
    feature = _v2(feature)
    feature["geometry"] = {"type": "LineString", "coordinates": [[26, 52], [27, 53]]}
    with pytest.raises(
        LayerValidationError,
        match=r"field 'coord_basis': 'facility' does not fit a LineString \(use schematic\)",
    ):
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


def test_round_trip_to_feature_collection(mini_layers):
    frame = layers.load_layer("west")
    collection = layers.to_feature_collection(frame)
    assert [f["properties"]["id"] for f in collection["features"]] == ["west-bg", "west-md"]
    assert collection["features"][0]["geometry"]["coordinates"] == (22.0, 53.8)
    json.dumps(collection)


# --- schema v2 ---------------------------------------------------------------------------


def test_v2_feature_passes_strict(tmp_path, write_layer, feature):
    feature = _v2(feature)
    feature["properties"].update(
        operators=[
            {"operator": "SUN", "since": "1984", "until": "1991-12-26"},
            {"operator": "RUS", "since": "1995-01-06", "until": ""},
        ],
        units=[{"designation": "474th radio-technical unit", "branch": "aerospace forces"}],
        equipment=[{"system": "Volga radar", "count": 1, "as_of": "2021", "source": 1}],
        aliases=["Gantsevichi radar"],
        wikidata="Q4347346",
        icao="UMMG",
    )
    write_layer([feature])
    stale = layers.check_layers(tmp_path, as_of="2026-12-02")
    assert stale.empty
    props, _ = layers.validate_feature(feature, path="x.geojson", index=0, strict=True)
    assert props["operators"][0]["operator"] == "SUN"


def test_v1_feature_loads_with_v2_defaults(write_layer, feature):
    """A feature without the v2 fields still loads (strict only for the shipped layers)."""
    frame = layers.read_layer_file(write_layer([feature]))
    row = frame.iloc[0]
    assert (row["confidence"], row["last_verified"], row["coord_basis"]) == ("", "", "")
    assert row["operators"] == []
    assert row["aliases"] == []


@pytest.mark.parametrize("field", layers.REQUIRED_V2)
def test_strict_requires_each_v2_field(feature, field):
    feature = _v2(feature)
    del feature["properties"][field]
    with pytest.raises(
        LayerValidationError, match=rf"^x\.geojson: feature test-site: field '{field}': is missing"
    ):
        layers.validate_feature(feature, path="x.geojson", index=0, strict=True)


@pytest.mark.parametrize("field", layers.SOURCE_FIELDS_V2)
def test_strict_requires_source_type_and_language(feature, field):
    feature = _v2(feature)
    del feature["properties"]["sources"][0][field]
    with pytest.raises(
        LayerValidationError, match=rf"field 'sources\[1\]\.{field}': is missing or empty"
    ):
        layers.validate_feature(feature, path="x.geojson", index=0, strict=True)


def _operators(*entries):
    return [dict(zip(("operator", "since", "until"), e, strict=True)) for e in entries]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confidence", "sure", r"field 'confidence': 'sure' is not one of confirmed, reported"),
        ("since_basis", "founding", r"field 'since_basis': 'founding' is not one of construction"),
        ("coord_basis", "town", r"field 'coord_basis': 'town' is not one of facility, airfield"),
        ("last_verified", "2026-11", r"field 'last_verified': '2026-11' is not a full date"),
        ("last_verified", "2026-02-30", r"field 'last_verified': '2026-02-30' names no real day"),
        ("kind", "fortress", r"field 'kind': 'fortress' is not one of"),
        ("wikidata", "4347346", r"field 'wikidata': '4347346' is not a Wikidata id"),
        ("icao", "ummg", r"field 'icao': 'ummg' is not a four-letter ICAO code"),
        ("aliases", "Gantsevichi", r"field 'aliases': 'Gantsevichi' is not a list"),
        ("aliases", [""], r"field 'aliases\[1\]': '' is not a non-empty string"),
        ("operator", "USSR", r"field 'operator': 'USSR' is not an ISO alpha-3 code, NATO or SUN"),
        ("operators", [], r"field 'operators': is empty; leave it out"),
        ("operators", "RUS", r"field 'operators': 'RUS' is not a list"),
        (
            "operators",
            _operators(("SUN", "1984", "1991"), ("XXX", "1995", "")),
            r"field 'operators\[2\]\.operator': 'XXX' is not an ISO alpha-3 code, NATO or SUN",
        ),
        (
            "operators",
            [{"operator": "RUS", "until": ""}],
            r"field 'operators\[1\]\.since': None is not a string date",
        ),
        (
            "operators",
            _operators(("RUS", "1995", "2000"), ("SUN", "1984", "1991")),
            r"field 'operators\[2\]\.since': operators are not in date order",
        ),
        (
            "operators",
            _operators(("SUN", "1984", ""), ("RUS", "1995", "")),
            r"field 'operators\[1\]\.until': is empty, but a later operator follows",
        ),
        (
            "operators",
            _operators(
                ("SUN", "1984", "1980"),
            ),
            r"field 'operators\[1\]\.until': 1980 is before since 1984",
        ),
        (
            "operators",
            _operators(
                ("SUN", "1984", "1991"),
            ),
            r"field 'operators\[1\]\.operator': 'SUN' is not the feature's operator 'RUS'",
        ),
        ("units", [{"parent": "11th Army Corps"}], r"field 'units\[1\]\.designation': None is"),
        ("units", ["152nd brigade"], r"field 'units\[1\]': is not an object"),
        (
            "units",
            [{"designation": "152nd brigade", "branch": ""}],
            r"field 'units\[1\]\.branch': '' is not a non-empty string",
        ),
        (
            "units",
            [{"designation": "152nd brigade", "since": "2018-13"}],
            r"field 'units\[1\]\.since': '2018-13' has month 13",
        ),
        (
            "equipment",
            [{"count": 2, "as_of": "2024", "source": 1}],
            r"field 'equipment\[1\]\.system': None is not a non-empty string",
        ),
        (
            "equipment",
            [{"system": "Iskander-M", "count": -2, "as_of": "2024", "source": 1}],
            r"field 'equipment\[1\]\.count': -2 is not a whole number",
        ),
        (
            "equipment",
            [{"system": "Iskander-M", "count": 2, "source": 1}],
            r"field 'equipment\[1\]\.as_of': None is not a string date",
        ),
        (
            "equipment",
            [{"system": "Iskander-M", "count": 2, "as_of": "2024", "source": 2}],
            r"field 'equipment\[1\]\.source': 2 is not the number of one of the sources",
        ),
        (
            "sources",
            [{**VALID_SOURCE, "type": "blog"}],
            r"field 'sources\[1\]\.type': 'blog' is not one of official, press",
        ),
        (
            "sources",
            [{**VALID_SOURCE, "language": "eng"}],
            r"field 'sources\[1\]\.language': 'eng' is not an ISO 639-1 code",
        ),
    ],
)
def test_each_v2_error_names_file_feature_and_field(write_layer, feature, field, value, message):
    feature = _v2(feature)
    path = write_layer([_break(feature, field, value)])
    with pytest.raises(LayerValidationError, match=rf"^test_layer\.geojson: feature .*{message}"):
        layers.read_layer_file(path)


def test_check_layers_lists_features_verified_over_a_year_ago(tmp_path, write_layer, feature):
    features = []
    for fid, verified in (("fresh", "2026-06-01"), ("edge", "2025-12-02"), ("old", "2025-12-01")):
        item = _v2(feature)
        item["properties"].update(id=fid, last_verified=verified)
        features.append(item)
    write_layer(features, name="one")
    stale = layers.check_layers(tmp_path, as_of="2026-12-02")
    assert stale["id"].tolist() == ["old"]
    assert stale["layer"].tolist() == ["one"]
    assert list(stale.columns) == [*layers.COLUMNS, "geometry"]
    assert layers.check_layers(tmp_path, as_of=dt.date(2027, 6, 2))["id"].tolist() == [
        "old",
        "edge",
        "fresh",
    ]


def test_check_layers_on_29_february(tmp_path, write_layer, feature):
    item = _v2(feature)
    item["properties"]["last_verified"] = "2027-02-27"
    write_layer([item])
    assert layers.check_layers(tmp_path, as_of="2028-02-29")["id"].tolist() == ["test-site"]


def test_check_layers_is_strict_by_default(tmp_path, write_layer, feature):
    write_layer([feature], name="old_style")
    with pytest.raises(
        LayerValidationError,
        match=r"^old_style\.geojson: feature test-site: field 'confidence': is missing",
    ):
        layers.check_layers(tmp_path)
    stale = layers.check_layers(tmp_path, strict=False)
    assert stale["id"].tolist() == ["test-site"], "never verified counts as due"


def test_check_layers_finds_ids_used_twice(tmp_path, write_layer, feature):
    write_layer([_v2(feature)], name="one")
    write_layer([_v2(feature)], name="two")
    with pytest.raises(
        LayerValidationError,
        match=r"two\.geojson: feature test-site: field 'id': is also used in one\.geojson",
    ):
        layers.check_layers(tmp_path, as_of="2026-12-02")


def test_check_layers_needs_a_folder(tmp_path):
    with pytest.raises(DataDirError, match=r"missing is not a folder of layer files"):
        layers.check_layers(tmp_path / "missing")
    with pytest.raises(DataDirError, match=r"holds no layer files \(\*\.geojson\)$"):
        layers.check_layers(tmp_path)


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


def test_the_loaded_frame_of_a_day_carries_the_operator_of_that_day(
    tmp_path, monkeypatch, write_layer, feature
):
    feature["properties"].update(
        operator="RUS",
        since="1984",
        operators=[
            {"operator": "SUN", "since": "1984", "until": "1991-12-26"},
            {"operator": "BLR", "since": "1991-12-26", "until": "1995-01-05"},
            {"operator": "RUS", "since": "1995-01-06", "until": ""},
        ],
    )
    write_layer([feature], name="radar")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    on = lambda day: layers.load_layer("radar", as_of=day)["operator"].item()  # noqa: E731
    assert on("1990-06-01") == "SUN"
    assert on("1991-12-26") == "BLR"  # the day of handover belongs to the new operator
    assert on("1993-01-01") == "BLR"
    assert on("2021-10-20") == "RUS"
    assert layers.load_layer("radar")["operator"].item() == "RUS"  # no date: the operator today
    props = feature["properties"]
    assert layers.operator_on(props, "1995-01-05") == "BLR"
    props["operators"][1]["until"] = "1993"
    assert layers.operator_on(props, "1994-06-01") == "RUS"  # a gap: the feature's operator
    assert layers.operator_on({"operator": "POL"}, "1990-01-01") == "POL"
