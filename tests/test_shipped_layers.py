"""Every shipped layer and feature: schema, ranges, sources, and that each point lies in its host
country (which catches swapped lon/lat and wrong country codes)."""

import json

import pytest
import shapely

from geo import _data, borders, layers
from geo.dates import date_bounds

LAYER_PATHS = sorted(_data.layers_dir().glob("*.geojson"))


@pytest.fixture(scope="module")
def shipped():
    return layers.load_layers()


def test_there_are_layers():
    assert len(LAYER_PATHS) >= 5


@pytest.mark.parametrize("path", LAYER_PATHS, ids=lambda p: p.name)
def test_layer_file_header(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["name"] == path.name.removesuffix(".geojson")
    assert data["title"].strip()
    assert data["description"].strip()
    assert data["features"], "a layer holds at least one feature"


def test_ids_unique_across_layers(shipped):
    assert shipped["id"].is_unique


def test_every_source_is_complete(shipped):
    for fid, sources in zip(shipped["id"], shipped["sources"], strict=True):
        for source in sources:
            assert source["url"].startswith(("https://", "http://")), fid
            assert source["title"].strip(), fid
            assert source["publisher"].strip(), fid
            assert date_bounds(source["accessed"])[0].year >= 2024, fid


def test_uncertainty_is_stated(shipped):
    assert (shipped["coord_uncertainty_m"] > 0).all()
    assert shipped["coord_note"].str.len().gt(10).all()


def test_points_lie_in_their_host_country(shipped):
    """A site lies inside its country, or within its stated uncertainty of it (coastal sites)."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    polygons = borders.countries(sorted(set(shipped["country"]))).geometry
    for row, geom in zip(shipped.to_dict("records"), shipped.geometry, strict=True):
        point = geom.representative_point()
        area = polygons[row["country"]]
        if area.contains(point):
            continue
        nearest = shapely.ops.nearest_points(area, point)[0]
        gap_m = geod.inv(point.x, point.y, nearest.x, nearest.y)[2]
        assert gap_m <= max(row["coord_uncertainty_m"], 1000), (
            f"{row['id']} lies {gap_m:.0f} m outside {row['country']}"
        )


def _ids(shipped, **conditions):
    mask = True
    for column, value in conditions.items():
        mask = mask & (shipped[column] == value)
    return shipped.loc[mask, "id"].tolist()


@pytest.mark.parametrize(
    "conditions",
    [
        {"kind": "early_warning_radar", "country": "BLR", "operator": "RUS"},
        {"kind": "communications_station", "country": "BLR", "operator": "RUS"},
        {"kind": "battlegroup", "country": "POL"},
        {"kind": "battlegroup", "country": "LTU"},
        {"kind": "battlegroup", "country": "LVA"},
        {"kind": "battlegroup", "country": "EST"},
        {"kind": "battlegroup", "country": "ROU"},
        {"kind": "battlegroup", "country": "BGR"},
        {"kind": "battlegroup", "country": "HUN"},
        {"kind": "battlegroup", "country": "SVK"},
        {"kind": "missile_defence_site", "country": "ROU"},
        {"kind": "missile_defence_site", "country": "POL"},
        {"kind": "nuclear_sharing_base"},
        {"kind": "headquarters", "country": "BEL"},
        {"kind": "air_base", "country": "LTU"},
    ],
    ids=lambda c: "-".join(c.values()),
)
def test_the_sites_the_mission_names_are_there(shipped, conditions):
    assert _ids(shipped, **conditions)


def test_battlegroups_have_a_lead_nation(shipped):
    groups = shipped[shipped["kind"] == "battlegroup"]
    assert (groups["lead_nation"] != "").all()


def test_the_2021_report_date_shows_the_pre_2022_posture():
    before = layers.load_layers(as_of="2021-10-20")
    after = layers.load_layers(as_of="2023-01-01")
    groups = lambda f: set(f.loc[f["kind"] == "battlegroup", "country"])  # noqa: E731
    assert {"POL", "LTU", "LVA", "EST"} <= groups(before)
    assert not {"ROU", "BGR", "HUN", "SVK"} & groups(before)
    assert {"ROU", "BGR", "HUN", "SVK"} <= groups(after)


def test_sources_file_is_up_to_date():
    """layers/SOURCES.md is generated from the layers; rebuild it with scripts/build_sources.py."""
    import importlib.util

    root = _data.layers_dir().parent
    spec = importlib.util.spec_from_file_location(
        "build_sources", root / "scripts" / "build_sources.py"
    )
    if spec is None or not (root / "scripts").is_dir():
        pytest.skip("not a source checkout")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (root / "layers" / "SOURCES.md").read_text(encoding="utf-8") == module.render()
