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
        {"kind": "brigade", "country": "LVA"},
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
        {"kind": "air_base", "country": "ROU", "icao": "LRCK"},
        {"kind": "garrison", "country": "LTU", "operator": "DEU"},
        {"kind": "headquarters", "country": "FIN"},
        {"kind": "brigade", "country": "LVA", "operator": "SWE"},
        {"kind": "air_base", "country": "BLR", "operator": "RUS"},
        {"kind": "early_warning_radar", "country": "RUS"},
        {"kind": "logistics_hub", "country": "POL"},
        {"kind": "air_defence_site", "country": "POL"},
        {"kind": "nuclear_sharing_base", "country": "GBR"},
        {"kind": "force_integration_unit", "country": "ROU"},
        {"kind": "force_integration_unit", "country": "BGR"},
        {"kind": "fortification_line", "country": "POL"},
        {"kind": "fortification_line", "country": "LTU"},
        {"kind": "headquarters", "country": "LVA", "operator": "NATO"},
        {"kind": "headquarters", "country": "DNK", "operator": "NATO"},
        {"kind": "headquarters", "country": "HUN", "operator": "NATO"},
        {"kind": "force_integration_unit", "country": "HUN"},
        {"kind": "force_integration_unit", "country": "SVK"},
        {"kind": "garrison", "country": "FIN", "operator": "NATO"},
        {"kind": "air_base", "country": "BLR", "operator": "BLR"},
        {"kind": "military_base", "country": "BLR", "status": "under_construction"},
    ],
    ids=lambda c: "-".join(c.values()),
)
def test_the_sites_the_mission_names_are_there(shipped, conditions):
    assert _ids(shipped, **conditions)


def test_battlegroups_have_a_lead_nation(shipped):
    groups = shipped[
        shipped["kind"].isin(["battlegroup", "brigade"]) & (shipped["operator"] == "NATO")
    ]
    assert (groups["lead_nation"] != "").all()


def test_the_2021_report_date_shows_the_pre_2022_posture():
    before = layers.load_layers(as_of="2021-10-20")
    after = layers.load_layers(as_of="2023-01-01")
    kinds = ("battlegroup", "brigade")
    groups = lambda f: set(f.loc[f["kind"].isin(kinds) & (f["operator"] == "NATO"), "country"])  # noqa: E731
    assert {"POL", "LTU", "LVA", "EST"} <= groups(before)
    assert not {"ROU", "BGR", "HUN", "SVK"} & groups(before)
    assert {"ROU", "BGR", "HUN", "SVK"} <= groups(after)


def _script(name):
    """The module of scripts/NAME.py of the source checkout (skips in an installed wheel)."""
    import importlib.util

    root = _data.layers_dir().parent
    spec = importlib.util.spec_from_file_location(name, root / "scripts" / f"{name}.py")
    if spec is None or not (root / "scripts").is_dir():
        pytest.skip("not a source checkout")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return root, module


def test_sources_file_is_up_to_date():
    """layers/SOURCES.md is generated from the layers; rebuild it with scripts/build_sources.py."""
    root, module = _script("build_sources")
    assert (root / "layers" / "SOURCES.md").read_text(encoding="utf-8") == module.render()


def test_defence_lines_are_the_derived_osm_courses():
    """The schematic courses are the OSM border as scripts/build_defence_lines.py derives it."""
    _, module = _script("build_defence_lines")
    text = module.LAYER.read_text(encoding="utf-8")
    assert module.render(module.derive(json.loads(text))) == text


def test_defence_lines_lie_on_their_countrys_border():
    """Each course, and the marker the map puts on it, is on the border of the state building it."""
    frame = layers.load_layer("defence_lines")
    countries = borders.countries(sorted(set(frame["country"])), borders="osm")
    for country, line in zip(frame["country"], frame.geometry, strict=True):
        border = countries.loc[country, "geometry"].boundary
        coordinates = shapely.points(shapely.get_coordinates(line))
        assert shapely.distance(coordinates, border).max() < 2e-5  # the 5 decimals: ~1 m
        assert shapely.distance(shapely.point_on_surface(line), border) < 2e-5


# --- schema v2 for the shipped layers -------------------------------------------------------


def test_shipped_layers_pass_the_strict_v2_check():
    """Every shipped feature has the v2 fields (the strict check raises on the first gap)."""
    stale = layers.check_layers(_data.layers_dir(), as_of="2026-12-02")
    assert stale.empty, f"due for a new check: {', '.join(stale['id'])}"


def test_v2_vocabulary(shipped):
    assert set(shipped["confidence"]) <= set(layers.CONFIDENCES)
    assert set(shipped["since_basis"]) <= set(layers.SINCE_BASES)
    assert set(shipped["coord_basis"]) <= set(layers.COORD_BASES)
    assert set(shipped["kind"]) <= set(layers.KINDS)
    for fid, sources in zip(shipped["id"], shipped["sources"], strict=True):
        for source in sources:
            assert source["type"] in layers.SOURCE_TYPES, fid
            assert source["language"] in layers.LANGUAGES, fid


def test_no_feature_rests_on_reference_works_alone(shipped):
    """Mirrors and encyclopedias (type reference) alone carry no feature unless its notes say why."""
    for row in shipped.to_dict("records"):
        types = {source["type"] for source in row["sources"]}
        if types == {"reference"}:
            assert "reference works only" in row["notes"], row["id"]


def test_no_wikipedia_mirrors_are_cited(shipped):
    for fid, sources in zip(shipped["id"], shipped["sources"], strict=True):
        for source in sources:
            text = f"{source['title']} {source['publisher']}".lower()
            assert "mirror" not in text, fid
            assert "piglix" not in source["url"], fid


@pytest.mark.parametrize("column", ["name", "notes", "coord_note"])
def test_text_is_plain_neutral_and_names_no_machine_path(shipped, column):
    import re

    first_person = re.compile(r"\b(I|my|we|our)\b")
    for fid, text in zip(shipped["id"], shipped[column], strict=True):
        assert not first_person.search(text), f"{fid}: first-person wording in {column}"
        assert "<" not in text, f"{fid}: markup in {column}"
        assert not re.search(r"(^|\s)/[a-z]+/[a-z]", text), f"{fid}: a file path in {column}"
        assert "inference" not in text.lower(), fid


def test_lines_are_schematic(shipped):
    lines = shipped[shipped.geom_type.isin(["LineString", "MultiLineString"])]
    assert len(lines) >= 2
    assert (lines["coord_basis"] == "schematic").all()
    assert (lines["kind"] == "fortification_line").all()


def test_confidence_follows_the_evidence(shipped):
    by_id = shipped.set_index("id")
    assert by_id.loc["blr-asipovichy-nuclear-storage", "confidence"] == "claimed"
    assert by_id.loc["md-redzikowo", "confidence"] == "confirmed"
    assert by_id.loc["ns-raf-lakenheath", "confidence"] == "reported"


def test_redzikowo_is_under_construction_at_the_end_of_2023():
    row = (
        layers.load_layer("missile_defence", as_of="2023-12-31").set_index("id").loc["md-redzikowo"]
    )
    assert row["status"] == "under_construction"
    later = (
        layers.load_layer("missile_defence", as_of="2024-07-10").set_index("id").loc["md-redzikowo"]
    )
    assert later["status"] == "active"


def test_soviet_sites_carry_their_operator_history(shipped):
    for row in shipped.to_dict("records"):
        for entry in row["operators"]:
            if entry["operator"] == "SUN":
                assert entry["until"], row["id"]
                assert date_bounds(entry["until"])[1].year <= 1992, row["id"]
        if row["country"] in ("BLR", "RUS", "MDA") and date_bounds(row["since"])[0].year < 1991:
            assert row["operator"] == "SUN" or row["operators"], row["id"]


def test_round_two_units_and_codes(shipped):
    """The Belarusian Iskander unit is named, and the older sharing bases carry their ICAO codes."""
    by_id = shipped.set_index("id")
    units = [unit["designation"] for unit in by_id.loc["blr-asipovichy-iskander-m", "units"]]
    assert units == ["465th Missile Brigade"]
    codes = {
        "ns-kleine-brogel": "EBBL",
        "ns-buchel": "ETSB",
        "ns-aviano": "LIPA",
        "ns-ghedi": "LIPL",
        "ns-volkel": "EHVK",
        "ns-incirlik": "LTAG",
    }
    for fid, code in codes.items():
        assert by_id.loc[fid, "icao"] == code, fid


def test_weak_sources_of_the_review_are_replaced(shipped):
    """Blogs, a Sputnik relay, Tasnim and others named in the data review no longer carry claims."""
    replaced = (
        "paginauno.do",
        "miragec14.blogspot",
        "tasnimnews.com",
        "c4defence.com",
        "urdupoint.com",
    )
    for fid, sources in zip(shipped["id"], shipped["sources"], strict=True):
        for source in sources:
            assert not any(domain in source["url"] for domain in replaced), fid


@pytest.mark.parametrize(
    "fid",
    [
        "hq-mnd-n-adazi",
        "hq-mnd-n-karup",
        "hq-mnd-c-szekesfehervar",
        "nfiu-szekesfehervar",
        "nfiu-bratislava",
        "flf-finland-sodankyla",
        "blr-lida-air-base",
        "blr-slutsk-pavlovka-site",
        "blr-zyabrovka-russian-forces",
        "rus-kaliningrad-chernyakhovsk-air-base",
    ],
)
def test_round_two_sites_are_present_and_dated(shipped, fid):
    row = shipped.set_index("id").loc[fid]
    assert row["last_verified"] >= "2026-12-02"
    assert row["since"]
    assert row["confidence"]
    assert any(source["type"] != "reference" for source in row["sources"])


def test_status_of_zyabrovka_after_2022_is_flagged_as_unverified(shipped):
    row = shipped.set_index("id").loc["blr-zyabrovka-russian-forces"]
    assert row["confidence"] == "claimed"
    assert "after August 2022 is unknown" in row["notes"]


def test_the_operator_on_a_day_follows_the_history():
    """Soviet facilities before 1991-92 are not Russian: the frame of a day says who ran them."""
    cold_war = layers.load_layers(as_of="1990-01-01").set_index("id")
    assert cold_war.loc["rus-kaliningrad-baltiysk", "operator"] == "SUN"
    assert cold_war.loc["mda-cobasna-ammunition-depot", "operator"] == "SUN"
    assert "blr-volga-radar-hantsavichy" not in cold_war.index  # Russian use began in 1995
    soviet = [
        fid for fid, hist in cold_war["operators"].items() if hist and hist[0]["operator"] == "SUN"
    ]
    assert len(soviet) >= 5
    assert set(cold_war.loc[soviet, "operator"]) == {"SUN"}
    assert "RUS" not in set(cold_war["operator"])  # no Russian operator before Russia was
    today = layers.load_layers(as_of="2021-10-20").set_index("id")
    assert today.loc["rus-kaliningrad-baltiysk", "operator"] == "RUS"
    assert today.loc["blr-volga-radar-hantsavichy", "operator"] == "RUS"
    radar = layers.load_layers().set_index("id").loc["blr-volga-radar-hantsavichy"]
    assert layers.operator_on(radar, "1990-01-01") == "SUN"
    assert layers.operator_on(radar, "2021-10-20") == "RUS"


def test_soviet_sites_stand_on_the_eastern_side():
    """A site that the Soviet Union ran in 1990 is measured from the east, as a Russian one."""
    from geo import sites, styles

    cold_war = layers.load_layers(as_of="1990-01-01")
    result = sites.site_analysis(cold_war, as_of="1990-01-01").set_index("id")
    baltiysk = result.loc["rus-kaliningrad-baltiysk"]
    assert (baltiysk["operator"], baltiysk["side"]) == ("SUN", "RUS/BLR")
    assert baltiysk["opposing_distance_m"] > 100_000  # to NATO's territory of 1990, not 0 (inside)
    assert styles.side_of("SUN") == styles.EAST
