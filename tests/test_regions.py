import itertools
import json

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree

from geo import borders, regions
from geo._errors import InputError

GEOD = Geod(ellps="WGS84")
TO_ECEF = Transformer.from_crs("EPSG:4326", "EPSG:4978", always_xy=True)
#: The published width of the gap: "the 65 km (40 mi)-long strip of land between Russia's
#: Kaliningrad Oblast and Belarus", Wikipedia, "Suwałki Gap",
#: https://en.wikipedia.org/wiki/Suwa%C5%82ki_Gap (accessed 2026-12-03).
PUBLISHED_KM = 65.0


def _densified(geom, step_m):
    """Boundary points of a polygon at most ``step_m`` apart along its geodesic edges."""
    points = []
    for ring in shapely.get_parts(shapely.boundary(geom)):
        xy = shapely.get_coordinates(ring)
        for (x0, y0), (x1, y1) in itertools.pairwise(xy):
            points.append((x0, y0))
            steps = int(GEOD.inv(x0, y0, x1, y1)[2] // step_m)
            if steps:
                points.extend(GEOD.npts(x0, y0, x1, y1, steps))
    return np.array(points)


def _brute_force_gap(a, b, step_m=100.0):
    """Shortest geodesic between two boundaries from densified points, with pyproj only."""
    pa, pb = _densified(a, step_m), _densified(b, step_m)
    xa = np.column_stack(TO_ECEF.transform(pa[:, 0], pa[:, 1], np.zeros(len(pa))))
    xb = np.column_stack(TO_ECEF.transform(pb[:, 0], pb[:, 1], np.zeros(len(pb))))
    chord, _ = cKDTree(xb).query(xa)
    near = np.flatnonzero(chord < chord.min() + 2000.0)  # chord and geodesic differ < 1 m
    best = np.inf
    for i in near:
        for j in cKDTree(xb).query_ball_point(xa[i], chord.min() + 2000.0):
            best = min(best, GEOD.inv(pa[i, 0], pa[i, 1], pb[j, 0], pb[j, 1])[2])
    return best


@pytest.mark.parametrize("data", regions.BORDER_DATA)
def test_suwalki_gap_matches_a_brute_force_computation(data):
    line, length_m = regions.suwalki_gap(data=data)
    oblast, blr = regions.kaliningrad(data=data), regions.belarus(data=data)
    expected = _brute_force_gap(oblast, blr)
    # 100 m steps overestimate a vertex-to-edge distance by under 0.02 m at 65 km.
    assert expected - 0.05 < length_m <= expected + 1e-6
    (x0, y0), (x1, y1) = shapely.get_coordinates(line)
    assert GEOD.inv(x0, y0, x1, y1)[2] == pytest.approx(length_m, abs=1e-3)
    assert shapely.distance(shapely.Point(x0, y0), oblast.boundary) < 1e-9
    assert shapely.distance(shapely.Point(x1, y1), blr.boundary) < 1e-9


@pytest.mark.parametrize("data", regions.BORDER_DATA)
def test_suwalki_gap_is_the_published_width(data):
    line, length_m = regions.suwalki_gap(data=data)
    assert abs(length_m / 1000 - PUBLISHED_KM) < 2.0
    # It crosses Poland, near the Polish-Lithuanian border.
    assert (
        borders.countries(["POL"]).geometry.iloc[0].contains(line.interpolate(0.5, normalized=True))
    )
    assert shapely.distance(line, borders.shared_border("POL", "LTU", borders="naturalearth")) < 0.2


def test_natural_earth_and_osm_agree_within_a_kilometre():
    ne = regions.suwalki_gap()[1]
    osm = regions.suwalki_gap(data="osm")[1]
    assert abs(ne - osm) < 1000.0


@pytest.mark.parametrize("data", regions.BORDER_DATA)
def test_kaliningrad_is_the_exclave_bordering_poland_and_lithuania(data):
    oblast = regions.kaliningrad(data=data)
    assert oblast.intersects(
        borders.shared_border("POL", "RUS", borders="naturalearth").buffer(0.01)
    )
    assert oblast.intersects(
        borders.shared_border("LTU", "RUS", borders="naturalearth").buffer(0.01)
    )
    area_km2 = abs(GEOD.geometry_area_perimeter(oblast)[0]) / 1e6
    assert 13_000 < area_km2 < 25_000  # 15,100 km² of land; the OSM polygon has sea too


def test_unknown_border_data_is_refused():
    with pytest.raises(InputError, match="border data 'ne' is not one of natural-earth, osm"):
        regions.suwalki_gap(data="ne")


def test_the_registry_has_the_named_regions():
    ids = [r.id for r in regions.list_regions()]
    assert ids == [
        "suwalki-gap",
        "baltics",
        "belarus",
        "kaliningrad",
        "finland-border",
        "black-sea",
        "poland-east",
    ]
    gap = regions.region("suwalki-gap")
    assert gap.source is not None
    assert gap.source.url.startswith("https://en.wikipedia.org/")


@pytest.mark.parametrize("name", ["suwalki-gap", "Suwalki_Gap", "SUWALKI GAP", "suwalkigap"])
def test_region_names_match_ignoring_case_and_punctuation(name):
    assert regions.region(name).id == "suwalki-gap"


def test_unknown_region_lists_the_choices():
    with pytest.raises(InputError, match=r"no region named 'mars'; regions: suwalki-gap, balt"):
        regions.region("mars")


def _reaches(box, geom, margin_km):
    """Every edge of the box is at least margin_km beyond the geometry's bounds."""
    west, south, east, north = geom.bounds
    mid = (west + east) / 2
    lat = north if abs(north) > abs(south) else south
    return (
        GEOD.inv(mid, south, mid, box[1])[2] >= margin_km * 1000 - 1
        and GEOD.inv(mid, north, mid, box[3])[2] >= margin_km * 1000 - 1
        and GEOD.inv(west, lat, box[0], lat)[2] >= margin_km * 1000 - 1
        and GEOD.inv(east, lat, box[2], lat)[2] >= margin_km * 1000 - 1
    )


def test_boxes_are_derived_from_the_border_data():
    blr = regions.region("belarus")
    geom = borders.countries(["BLR"], borders="naturalearth").geometry.iloc[0]
    assert _reaches(blr.bbox, geom, 50)
    assert not _reaches(blr.bbox, geom, 60)  # not wider than asked (0.01 degree rounding)
    gap = regions.region("suwalki-gap")
    assert _reaches(gap.bbox, regions.suwalki_gap()[0], 150)
    assert shapely.box(*regions.region("kaliningrad").bbox).contains(regions.kaliningrad())
    assert shapely.box(*regions.region("baltics").bbox).contains(
        borders.territory("EST,LVA,LTU", borders="naturalearth")
    )
    fin = shapely.box(*regions.region("finland-border").bbox)
    assert fin.contains(borders.shared_border("FIN", "RUS", borders="naturalearth"))
    east = shapely.box(*regions.region("poland-east").bbox)
    assert east.contains(borders.shared_border("POL", "BLR", borders="naturalearth"))
    assert east.contains(borders.shared_border("POL", "UKR", borders="naturalearth"))
    sea = shapely.box(*regions.region("black-sea").bbox)
    assert sea.contains(shapely.Point(28.65, 44.17))  # Constanța's coast, from the data:
    assert shapely.box(*regions._coast_bounds(["ROU"])).intersects(shapely.Point(28.65, 44.17))


def test_coast_bounds_skip_land_borders():
    # Romania's coast is on the Black Sea only: its east edge is the coast, not the Prut.
    west, _, east, _ = regions._coast_bounds(["ROU"])
    rou = borders.countries(["ROU"]).geometry.iloc[0].bounds
    assert west > 28
    assert rou[0] < 21
    assert east <= rou[2]


def test_every_box_holds_its_region_and_is_checked():
    for found in regions.list_regions():
        west, south, east, north = found.bbox
        assert -180 <= west < east <= 180
        assert -90 <= south < north <= 90
        assert all(round(v, 2) == v for v in found.bbox)


@pytest.mark.parametrize(
    ("text", "box"),
    [("21,53,26,56", (21.0, 53.0, 26.0, 56.0)), (" -5.5, 40 ,1.25,44", (-5.5, 40.0, 1.25, 44.0))],
)
def test_parse_bbox(text, box):
    assert regions.parse_bbox(text) == box


@pytest.mark.parametrize("text", ["21,53,26", "21,53,26,56,1", "a,b,c,d", "1_0,53,26,56", ""])
def test_parse_bbox_refuses_what_is_not_four_numbers(text):
    with pytest.raises(InputError, match="is not four comma-separated numbers W,S,E,N"):
        regions.parse_bbox(text)


def test_parse_bbox_refuses_an_inverted_box():
    with pytest.raises(InputError, match="is not a box: west < east"):
        regions.parse_bbox("26,53,21,56")


def _write(tmp_path, records):
    path = tmp_path / "regions.json"
    path.write_text(json.dumps({"regions": records}), encoding="utf-8")
    return path


GOOD = {
    "id": "x",
    "title": "X",
    "description": "d",
    "extent": {"kind": "countries", "codes": ["BLR"]},
    "margin_km": 10,
    "source": None,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, r"field 'title': must be a non-empty text"),
        ({"extent": {"kind": "ocean"}}, r"field 'extent': kind must be one of countries"),
        (
            {"extent": {"kind": "countries", "codes": ["XXX"]}},
            r"field 'extent.codes': 'XXX' is not an ISO alpha-3 code",
        ),
        (
            {"extent": {"kind": "borders", "pairs": [["FIN", "RUS", "EST"]]}},
            r"field 'extent.pairs': \['FIN', 'RUS', 'EST'\] is not a pair",
        ),
        ({"margin_km": "10"}, r"field 'margin_km': must be a number of km"),
        ({"margin_km": 5000}, r"field 'margin_km': 5000 is not between 0 and 1000 km"),
        (
            {"source": {"title": "t", "url": "http://a", "accessed": "2026-01-01"}},
            r"field 'source': url 'http://a' must start with https://",
        ),
    ],
)
def test_a_bad_registry_names_record_and_field(tmp_path, change, message):
    path = _write(tmp_path, [{**GOOD, **change}])
    with pytest.raises(InputError, match=rf"^regions.json: region 'x', {message}"):
        regions._registry(path)


def test_a_registry_with_duplicate_ids_is_refused(tmp_path):
    path = _write(tmp_path, [GOOD, {**GOOD, "id": "X"}])
    with pytest.raises(InputError, match="two regions have the same id"):
        regions._registry(path)


def test_an_unreadable_registry_is_one_line(tmp_path):
    path = tmp_path / "regions.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"regions\.json: cannot read the region registry"):
        regions._registry(path)


def test_focus_takes_a_box_or_a_region_not_both():
    assert regions.focus() is None
    assert regions.focus(region="Belarus") == regions.region("belarus").bbox
    assert regions.focus(bbox="21,53,26,56") == (21.0, 53.0, 26.0, 56.0)
    assert regions.focus(bbox=[21, 53, 26, 56]) == (21.0, 53.0, 26.0, 56.0)
    with pytest.raises(InputError, match="give a bbox or a region, not both"):
        regions.focus(bbox="21,53,26,56", region="belarus")
    with pytest.raises(InputError, match="no region named 'nowhere'"):
        regions.focus(region="nowhere")


def test_within_keeps_the_rows_that_meet_the_box():
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"id": ["in", "edge", "out", "line"]},
        geometry=[
            shapely.Point(23, 54),
            shapely.Point(26, 56),
            shapely.Point(30, 54),
            shapely.LineString([(20, 50), (22, 54)]),
        ],
        crs="EPSG:4326",
    )
    assert regions.within(frame, (21, 53, 26, 56))["id"].tolist() == ["in", "edge", "line"]
    assert regions.within(frame, None) is frame
    projected = frame.to_crs(3035)  # a corner point moves off the box by a rounding error
    kept = regions.within(projected, (21, 53, 26.01, 56.01))
    assert kept["id"].tolist() == ["in", "edge", "line"]


def test_gap_path_follows_the_geodesic():
    line, length_m = regions.suwalki_gap()
    path = regions.gap_path(n_points=9)
    xy = shapely.get_coordinates(path)
    assert len(xy) == 9
    assert tuple(xy[0]) == tuple(shapely.get_coordinates(line)[0])
    assert tuple(xy[-1]) == tuple(shapely.get_coordinates(line)[-1])
    assert GEOD.geometry_length(path) == pytest.approx(length_m, abs=1e-3)


def test_the_gap_is_drawn_where_the_region_holds_it():
    assert regions.shows_gap(regions.region("suwalki-gap").bbox)
    assert regions.shows_gap(regions.region("poland-east").bbox)
    assert regions.shows_gap((21, 53, 26, 56))
    assert not regions.shows_gap(regions.region("finland-border").bbox)
    assert not regions.shows_gap((23.0, 53, 26, 56))  # the Kaliningrad end is out
    assert not regions.shows_gap(None)
