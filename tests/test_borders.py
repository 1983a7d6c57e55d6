import numpy as np
import pytest
import shapely

from geo import borders
from geo._errors import InputError

# Published land-border lengths, km. CIA World Factbook via indexmundi.com, "Belarus vs.
# Lithuania: Geography" (https://indexmundi.com/factbook/compare/belarus.lithuania/geography,
# accessed 2026-11-25) for Belarus's borders and Lithuania-Russia; geographyofrussia.com,
# "Vignette 6.2 Current Boundaries of Russia"
# (https://geographyofrussia.com/vignette-6-2-current-boundaries-of-russia/, accessed
# 2026-11-25) for Russia's other borders.
PUBLISHED_KM = {
    "BLR-LTU": 640,
    "BLR-LVA": 161,
    "BLR-POL": 375,
    "LTU-RUS": 261,
    "EST-RUS": 294,
    "FIN-RUS": 1340,
    "LVA-RUS": 217,
    "NOR-RUS": 196,
    "POL-RUS": 232,
}
# These are the Factbook-era figures; the national figures are in tests/test__borders_osm.py
# (OSM_PUBLISHED_KM below), with their sources.
# Natural Earth 1:10m is generalised: it straightens the meanders of river borders, so its
# lengths come out shorter than surveyed figures, never longer (measured: 71 % to 98 %).
# Tolerance: the 1:10m length lies between 70 % and 102 % of the published figure.
LOW, HIGH = 0.70, 1.02
# The OpenStreetMap extract keeps every bend of rivers and lakes: within 4 % of the national
# figures (docs/borders-osm.md, "Lengths").
OSM_LOW, OSM_HIGH = 0.96, 1.04
#: Natural Earth's lengths today, km (docs/borders-osm.md, "Lengths"): ``borders="naturalearth"``
#: reproduces them.
NE_KM = {
    "BLR-LTU": 481.9,
    "BLR-LVA": 135.9,
    "BLR-POL": 340.1,
    "EST-RUS": 283.8,
    "FIN-RUS": 1225.5,
    "LTU-RUS": 200.5,
    "LVA-RUS": 212.9,
    "NOR-RUS": 165.1,
    "POL-RUS": 206.2,
}


@pytest.fixture(scope="module")
def nato_frontier():
    return borders.frontier("RUS,BLR", "NATO", as_of="2025-01-01", borders="naturalearth")


@pytest.fixture(scope="module")
def osm_frontier():
    return borders.frontier("RUS,BLR", "NATO", as_of="2025-01-01")


def test_the_default_source_is_openstreetmap(osm_frontier):
    from geo import _borders_osm

    expected = _borders_osm.frontier("BLR,RUS", "EST,FIN,LTU,LVA,NOR,POL")
    assert osm_frontier["pair"].tolist() == expected["pair"].tolist()
    assert osm_frontier["length_km"].tolist() == expected["length_km"].tolist()


@pytest.mark.parametrize("pair", sorted(NE_KM))
def test_natural_earth_reproduces_todays_lengths(nato_frontier, pair):
    length = nato_frontier.set_index("pair").loc[pair, "length_km"]
    assert round(length, 1) == NE_KM[pair]


@pytest.mark.parametrize("pair", sorted(PUBLISHED_KM))
def test_osm_frontier_lengths_are_within_a_few_per_cent(osm_frontier, pair):
    from tests.test__borders_osm import PUBLISHED_KM as NATIONAL_KM

    length = osm_frontier.set_index("pair").loc[pair, "length_km"]
    assert OSM_LOW * NATIONAL_KM[pair] <= length <= OSM_HIGH * NATIONAL_KM[pair], pair


def test_osm_total_frontier_length(osm_frontier):
    from tests.test__borders_osm import PUBLISHED_KM as NATIONAL_KM

    total = osm_frontier["length_km"].sum()
    published = sum(NATIONAL_KM[p] for p in osm_frontier["pair"])
    assert OSM_LOW * published <= total <= OSM_HIGH * published


def test_frontier_has_every_pair(nato_frontier, osm_frontier):
    assert sorted(nato_frontier["pair"]) == sorted(PUBLISHED_KM)
    assert sorted(osm_frontier["pair"]) == sorted(PUBLISHED_KM)


@pytest.mark.parametrize("pair", sorted(PUBLISHED_KM))
def test_frontier_lengths_match_published_figures(nato_frontier, pair):
    length = nato_frontier.set_index("pair").loc[pair, "length_km"]
    assert LOW * PUBLISHED_KM[pair] <= length <= HIGH * PUBLISHED_KM[pair]


def test_total_frontier_length(nato_frontier):
    total = nato_frontier["length_km"].sum()
    assert LOW * sum(PUBLISHED_KM.values()) <= total <= HIGH * sum(PUBLISHED_KM.values())


def test_finland_joins_the_frontier_on_accession_day():
    before = borders.frontier("RUS,BLR", "NATO", as_of="2023-04-03")
    after = borders.frontier("RUS,BLR", "NATO", as_of="2023-04-04")
    assert "FIN-RUS" not in set(before["pair"])
    assert "FIN-RUS" in set(after["pair"])


def test_labels_do_not_depend_on_direction():
    forward = borders.frontier("RUS", "EST")
    backward = borders.frontier("EST", "RUS")
    assert forward["pair"].tolist() == backward["pair"].tolist() == ["EST-RUS"]
    assert forward["length_km"].item() == pytest.approx(backward["length_km"].item(), rel=1e-9)
    assert (forward["a"].item(), backward["a"].item()) == ("RUS", "EST")


@pytest.mark.parametrize("source", ["naturalearth", "osm"])
def test_shared_border_lies_on_both_countries(source):
    line = borders.shared_border("BLR", "POL", borders=source)
    pol, blr = borders.countries(["POL", "BLR"], borders=source).geometry
    assert shapely.distance(line, pol.boundary) < 1e-9
    assert shapely.distance(line, blr.boundary) < 1e-9


@pytest.mark.parametrize("source", ["naturalearth", "osm"])
def test_no_shared_border(source):
    assert borders.shared_border("EST", "POL", borders=source).is_empty
    assert len(borders.frontier("EST", "POL", borders=source)) == 0


def test_nato_members_by_date():
    assert len(borders.nato_members("2021-10-20")) == 30
    assert len(borders.nato_members("2024-03-07")) == 32
    assert "SWE" not in borders.nato_members("2024-03-06")
    assert "POL" not in borders.nato_members("1999-03-11")
    assert "POL" in borders.nato_members("1999-03-12")


def test_every_member_is_a_country_of_the_dataset():
    assert set(borders.NATO_ACCESSION) <= borders.country_codes()


@pytest.mark.parametrize("source", ["naturalearth", "osm"])
def test_countries_by_code(source):
    frame = borders.countries(["POL", "LTU"], borders=source)
    assert frame.index.tolist() == ["POL", "LTU"]
    assert frame.loc["LTU", "name"] == "Lithuania"
    assert frame.crs.to_epsg() == 4326


def test_norway_and_france_have_their_iso_codes():
    assert {"NOR", "FRA"} <= borders.country_codes()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: borders.countries(["XYZ"]), r"unknown country code\(s\) XYZ"),
        (lambda: borders.resolve_group("RUS,XX"), r"unknown country code 'XX' in group 'RUS,XX'"),
        (lambda: borders.resolve_group(" , "), r"group ' , ' names no country"),
        (lambda: borders.parse_frontier("RUS,BLR"), r"must be two groups separated by ':'"),
        (lambda: borders.parse_frontier("POL:NATO"), r"POL stands on both sides"),
        (lambda: borders.frontier("POL", "NATO"), r"POL stands on both sides"),
        (lambda: borders.nato_members("yesterday"), r"'yesterday' is not a date"),
        (
            lambda: borders.resolve_group("RUS,NATO", as_of="1900-01-01"),
            r"NATO had no members on 1900-01-01: the North Atlantic Treaty entered into force on 1949-08-24",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises((InputError, ValueError), match=message):
        call()


def test_parse_frontier():
    side_a, side_b = borders.parse_frontier("rus,blr:NATO", as_of="2021-10-20")
    assert side_a == ["BLR", "RUS"]
    assert "FIN" not in side_b
    assert "POL" in side_b


@pytest.mark.parametrize("source", ["naturalearth", "osm"])
def test_territory_contains_capitals(source):
    area = borders.territory("RUS,BLR", borders=source)
    assert area.contains(shapely.Point(27.5615, 53.9045))  # Minsk
    assert area.contains(shapely.Point(20.5101, 54.7104))  # Kaliningrad
    assert not area.contains(shapely.Point(25.2797, 54.6872))  # Vilnius


def test_osm_territory_holds_the_territorial_sea_and_leaves_out_what_it_does_not_cover():
    # 10 km off the Kaliningrad coast: Russian sea (12 nautical miles), not Natural Earth land.
    at_sea = shapely.Point(19.75, 54.95)
    assert borders.territory("RUS").contains(at_sea)
    assert not borders.territory("RUS", borders="naturalearth").contains(at_sea)
    nato = borders.territory("NATO", as_of="2025-01-01")
    assert nato.contains(shapely.Point(21.01, 52.23))  # Warsaw
    with pytest.raises(InputError, match="USA: not in the border source osm"):
        borders.territory("USA")


def test_side_vocabulary():
    assert (borders.EAST, borders.WEST) == ("RUS/BLR", "NATO")
    assert [borders.side_of(op) for op in ("RUS", "blr", "POL", "NATO", "")] == [
        borders.EAST,
        borders.EAST,
        borders.WEST,
        borders.WEST,
        borders.WEST,
    ]


def test_edge_keys_do_not_depend_on_direction():
    square = shapely.box(0, 0, 1, 1)
    edges = borders.ring_edges(square)
    assert edges.shape == (4, 4)
    reversed_edges = np.hstack([edges[:, 2:], edges[:, :2]])[::-1]
    assert sorted(borders.edge_keys(edges).tolist()) == sorted(
        borders.edge_keys(reversed_edges).tolist()
    )
    neighbour = shapely.box(1, 0, 2, 1)
    shared = np.isin(borders.edge_keys(edges), borders.edge_keys(borders.ring_edges(neighbour)))
    assert shared.sum() == 1
    assert borders.ring_edges(shapely.Polygon()).shape == (0, 4)


def test_only_countries_of_several_records_are_merged():
    """No dissolve of the whole world: a country of one record keeps its geometry as read."""
    import pyogrio
    import shapely

    from geo import _data

    raw = pyogrio.read_dataframe(_data.countries_path(), columns=["ADM0_A3", "ISO_A3_EH"])
    raw["iso_a3"] = [
        _data.iso_code(a, e) for a, e in zip(raw["ADM0_A3"], raw["ISO_A3_EH"], strict=True)
    ]
    counts = raw["iso_a3"].value_counts()
    several = sorted(counts[counts > 1].index)
    assert several, "the dataset has countries of several records"
    frame = borders.countries(borders="naturalearth")
    assert frame.index.is_unique
    assert frame.index.is_monotonic_increasing
    assert sorted(frame.index) == sorted(counts.index)
    for code in several:
        parts = raw.loc[raw["iso_a3"] == code, "geometry"]
        assert shapely.equals(frame.loc[code, "geometry"], shapely.union_all(parts.values))
    single = raw.set_index("iso_a3").loc["POL", "geometry"]
    assert frame.loc["POL", "geometry"].equals_exact(shapely.make_valid(single), 0)


@pytest.mark.parametrize("source", ["naturalearth", "osm"])
def test_country_names_are_read_as_utf8(source):
    """Natural Earth's table is UTF-8 without a .cpg beside it: GDAL alone read it as Latin-1."""
    assert borders.countries(["ALA"], borders=source)["name"].tolist() == ["Åland"]
    if source == "naturalearth":  # the OSM extract holds Europe's countries only
        names = borders.countries(["CUW", "STP"], borders=source)["name"].tolist()
        assert names == ["Curaçao", "São Tomé and Príncipe"]
    every = borders.countries(borders=source)["name"]
    assert not every.str.contains("[\u0080-\u009f]|Ã", regex=True).any()
