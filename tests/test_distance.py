"""Tests of geo.distance against an independent brute-force geodesic reference."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo import borders, distance
from geo._errors import InputError
from geo.layers import read_layer_file

GEOD = Geod(ellps="WGS84")
#: The LTU-BLR-LVA and POL-BLR-UKR tripoints as Natural Earth 1:10m has them.
TRIPOINT_LTU_BLR_LVA = (26.594531, 55.666991)
TRIPOINT_POL_BLR_UKR = (23.606238241000142, 51.517399191000024)
#: A Natural Earth vertex of the Estonia-Russia border on the Narva river, at Narva.
NARVA_RIVER = (28.186475464000125, 59.37492991100005)


@pytest.fixture(scope="module")
def frontier() -> gpd.GeoDataFrame:
    return borders.frontier("RUS,BLR", "NATO", as_of="2025-01-01")


@pytest.fixture(scope="module")
def segments(frontier) -> np.ndarray:
    """Frontier segments as rows lon0, lat0, lon1, lat1."""
    rows = []
    for part in shapely.get_parts(frontier.geometry.values):
        xy = shapely.get_coordinates(part)
        rows.append(np.hstack([xy[:-1], xy[1:]]))
    return np.vstack(rows)


def _densified_min(lon, lat, seg, az, windows, step):
    """Minimum of Geod.inv from a point to points every ``step`` m of the given windows."""
    counts = [int(np.ceil((b - a) / step)) + 1 for _, a, b in windows]
    which = np.repeat([w[0] for w in windows], counts)
    along = np.concatenate(
        [np.linspace(a, b, k) for (_, a, b), k in zip(windows, counts, strict=True)]
    )
    x, y, _ = GEOD.fwd(seg[which, 0], seg[which, 1], az[which], along)
    dist = GEOD.inv(np.full(len(x), lon), np.full(len(x), lat), x, y)[2]
    return dist, which, along


def brute_force(lon: float, lat: float, seg: np.ndarray) -> float:
    """Independent reference: geodesic segments densified (10 m, then 1 cm near the minimum).

    Segments are kept by the triangle inequality: no point of a segment of length L is closer
    than (d_start + d_end - L) / 2, so a segment above the nearest vertex cannot win.
    """
    n = len(seg)
    az, _, length = GEOD.inv(seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3])
    d0 = GEOD.inv(np.full(n, lon), np.full(n, lat), seg[:, 0], seg[:, 1])[2]
    d1 = GEOD.inv(np.full(n, lon), np.full(n, lat), seg[:, 2], seg[:, 3])[2]
    best = min(d0.min(), d1.min())
    keep = np.flatnonzero((d0 + d1 - length) / 2 <= best)
    dist, which, along = _densified_min(
        lon, lat, seg, az, [(i, 0.0, length[i]) for i in keep], 10.0
    )
    best = min(best, dist.min())
    if best > 1000:  # 10 m spacing is then within (5 m)² / 2d < 1.3 cm
        return best
    close = np.flatnonzero(dist <= best + 10.0)
    windows = [
        (which[i], max(0.0, along[i] - 10), min(length[which[i]], along[i] + 10)) for i in close
    ]
    return min(best, _densified_min(lon, lat, seg, az, windows, 0.01)[0].min())


def _sample_points(segments: np.ndarray, rng: np.random.Generator):
    """Random, far (~2000 km), on-vertex and mid-segment points."""
    lon = list(rng.uniform(12, 32, 90))
    lat = list(rng.uniform(43, 61, 90))
    start = segments[rng.integers(0, len(segments), 30)]
    far = GEOD.fwd(
        start[:, 0], start[:, 1], rng.uniform(150, 300, 30), rng.uniform(1.8e6, 2.1e6, 30)
    )
    lon += list(far[0])
    lat += list(far[1])
    vertex = segments[rng.integers(0, len(segments), 40)]
    lon += list(vertex[:, 0])
    lat += list(vertex[:, 1])
    mid = segments[rng.integers(0, len(segments), 40)]
    az, _, length = GEOD.inv(mid[:, 0], mid[:, 1], mid[:, 2], mid[:, 3])
    x, y, _ = GEOD.fwd(mid[:, 0], mid[:, 1], az, length * rng.uniform(0.05, 0.95, 40))
    return np.r_[lon, x], np.r_[lat, y]


def test_frontier_matches_brute_force_reference(frontier, segments):
    lon, lat = _sample_points(segments, np.random.default_rng(7))
    result = distance.to_frontier(lon, lat, frontier)
    reference = np.array([brute_force(x, y, segments) for x, y in zip(lon, lat, strict=True)])
    error = np.abs(result["distance_m"].to_numpy() - reference)
    assert reference.max() > 1.8e6  # the far points are really far
    assert error.max() <= 1.0, f"max error {error.max():.4f} m"
    # The reported nearest point is at the reported distance, in the reported direction.
    az, _, back = GEOD.inv(lon, lat, result["nearest_lon"], result["nearest_lat"])
    np.testing.assert_allclose(back, result["distance_m"], atol=1e-6)
    moving = result["distance_m"].to_numpy() > 1
    np.testing.assert_allclose(np.mod(az, 360)[moving], result["bearing_deg"][moving], atol=1e-9)


def test_points_on_the_border_are_at_zero(segments):
    on_vertex = distance.to_frontier(segments[:, 0], segments[:, 1])
    assert on_vertex["distance_m"].max() < 1e-3


def test_territory_matches_brute_force_reference():
    area = borders.territory("RUS,BLR")
    rows = []
    for ring in shapely.get_parts(shapely.boundary(area)):
        xy = shapely.get_coordinates(ring)
        rows.append(np.hstack([xy[:-1], xy[1:]]))
    seg = np.vstack(rows)
    seg = seg[np.abs(seg[:, 0]) < 180]
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(12, 32, 60), rng.uniform(43, 61, 60)
    result = distance.to_territory(lon, lat, "RUS,BLR")
    outside = np.flatnonzero(result["inside"] == "")[:25]
    reference = np.array([brute_force(lon[i], lat[i], seg) for i in outside])
    error = np.abs(result["distance_m"].to_numpy()[outside] - reference)
    assert error.max() <= 1.0
    inside = result["inside"] != ""
    assert (result.loc[inside, "distance_m"] == 0).all()
    assert set(result.loc[inside, "inside"]) <= {"RUS", "BLR"}
    contains = shapely.contains_xy(area, lon, lat)
    np.testing.assert_array_equal(contains, inside.to_numpy())


def test_narva_river_point():
    result = distance.to_frontier([NARVA_RIVER[0]], [NARVA_RIVER[1]], "RUS,BLR:NATO")
    assert result.loc[0, "distance_m"] < 1e-3
    assert result.loc[0, "border"] == "EST-RUS"
    # In Narva town, on the Estonian bank: the river is a few hundred metres to the east.
    town = distance.to_frontier([28.175], [59.377], "RUS,BLR:NATO")
    assert town.loc[0, "border"] == "EST-RUS"
    assert 100 < town.loc[0, "distance_m"] < 1500
    assert 0 < town.loc[0, "bearing_deg"] < 135
    vertex_gap = GEOD.inv(*NARVA_RIVER, town.loc[0, "nearest_lon"], town.loc[0, "nearest_lat"])[2]
    assert vertex_gap < 2000


@pytest.mark.parametrize(
    ("point", "frontier", "labels"),
    [
        (TRIPOINT_LTU_BLR_LVA, "RUS,BLR:NATO", {"BLR-LTU", "BLR-LVA"}),
        (TRIPOINT_POL_BLR_UKR, "BLR:POL,UKR", {"BLR-POL", "BLR-UKR"}),
    ],
)
def test_tripoints_are_on_the_frontier(point, frontier, labels):
    result = distance.to_frontier([point[0]], [point[1]], frontier, as_of="2025-01-01")
    assert result.loc[0, "distance_m"] < 0.5  # coordinates rounded to 1e-6 degree
    assert result.loc[0, "border"] in labels


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(10, 35),
    lat=st.floats(40, 70),
    vertex=st.integers(0, 10_000),
)
def test_never_farther_than_any_vertex(segments, lon, lat, vertex):
    result = distance.to_frontier([lon], [lat])
    x, y = segments[vertex % len(segments), :2]
    to_vertex = GEOD.inv(lon, lat, x, y)[2]
    assert result.loc[0, "distance_m"] <= to_vertex + 1e-6


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, 10_000), fraction=st.floats(0, 1))
def test_zero_anywhere_on_the_border(segments, index, fraction):
    x0, y0, x1, y1 = segments[index % len(segments)]
    az, _, length = GEOD.inv(x0, y0, x1, y1)
    x, y, _ = GEOD.fwd(x0, y0, az, length * fraction)
    assert distance.to_frontier([x], [y]).loc[0, "distance_m"] < 1e-3


@settings(max_examples=25, deadline=None)
@given(lon=st.floats(12, 32), lat=st.floats(43, 61))
@example(lon=24.5, lat=56.0)  # nearest point: the BLR-LTU-LVA tripoint, a tie of two labels
def test_frontier_sides_are_symmetric(lon, lat):
    forward = distance.to_frontier([lon], [lat], "RUS,BLR:NATO")
    backward = distance.to_frontier([lon], [lat], "NATO:BLR,RUS")
    pd.testing.assert_frame_equal(forward, backward)


def test_input_order_and_chunking_do_not_matter(monkeypatch):
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(12, 32, 3000), rng.uniform(43, 61, 3000)
    whole = distance.to_frontier(lon, lat)
    monkeypatch.setattr(distance, "_CHUNK", 700)
    order = rng.permutation(3000)
    shuffled = distance.to_frontier(lon[order], lat[order])
    np.testing.assert_allclose(shuffled["distance_m"], whole["distance_m"].to_numpy()[order])


def test_bad_points_raise_one_line():
    with pytest.raises(InputError, match=r"point 2: lat 95, lon 20 is not a position"):
        distance.to_frontier([20, 20], [50, 95])
    with pytest.raises(InputError, match="lon has 2 values but lat has 1"):
        distance.to_frontier([20, 21], [50])
    with pytest.raises(InputError, match="must be two groups"):
        distance.to_frontier([20], [50], "RUS")
    with pytest.raises(InputError, match="as-of date 'yesterday'"):
        distance.to_frontier([20], [50], as_of="yesterday")


def test_nato_frontier_follows_the_date():
    helsinki = ([24.94], [60.17])
    before = distance.to_frontier(*helsinki, "RUS,BLR:NATO", as_of="2023-04-03")
    after = distance.to_frontier(*helsinki, "RUS,BLR:NATO", as_of="2023-04-04")
    assert before.loc[0, "border"] == "EST-RUS"
    assert after.loc[0, "border"] == "FIN-RUS"
    assert after.loc[0, "distance_m"] < before.loc[0, "distance_m"]


def test_territory_labels_coast_and_inside():
    result = distance.to_territory([27.56, 19.0, 24.0], [53.90, 55.2, 56.0], "RUS,BLR")
    assert result["inside"].tolist() == ["BLR", "", ""]
    assert result.loc[0, "distance_m"] == 0
    assert np.isnan(result.loc[0, "bearing_deg"])
    assert result.loc[1, "border"] == "RUS-coast"  # at sea off Kaliningrad
    assert result.loc[2, "border"] in {"BLR-LVA", "BLR-LTU", "LTU-RUS", "LVA-RUS"}


def test_distances_appends_columns_and_uncertainty():
    points = gpd.GeoDataFrame(
        {"name": ["a", "b"], "coord_uncertainty_m": [1000.0, 5e6]},
        geometry=gpd.points_from_xy([24.0, 23.5], [56.0, 53.0]),
        crs="EPSG:4326",
    )
    out = distance.distances(points)
    assert list(out.columns) == [
        "name",
        "coord_uncertainty_m",
        *distance.RESULT_COLUMNS,
        "distance_min_m",
        "distance_max_m",
        "geometry",
    ]
    d = out["distance_m"].to_numpy()
    unc = np.array([1000, 5e6])
    np.testing.assert_allclose(out["distance_min_m"], np.maximum(0, d - unc))
    np.testing.assert_allclose(out["distance_max_m"], d + unc)
    projected = distance.distances(points.to_crs(3035))
    np.testing.assert_allclose(projected["distance_m"], d, atol=1e-6)
    territory = distance.distances(points, to="RUS,BLR")
    assert "inside" in territory.columns
    with pytest.raises(InputError, match="not both"):
        distance.distances(points, frontier="RUS:NATO", to="RUS")


def test_range_ring_is_a_geodesic_circle():
    ring = distance.range_ring(26.5, 52.9, 300_000, n_points=64)
    xy = shapely.get_coordinates(ring)[:-1]
    dist = GEOD.inv(np.full(64, 26.5), np.full(64, 52.9), xy[:, 0], xy[:, 1])[2]
    np.testing.assert_allclose(dist, 300_000, atol=1e-6)
    assert ring.is_valid
    assert ring.contains(shapely.Point(26.5, 52.9))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((26.5, 80.0, 1_500_000), "contains the North Pole"),
        ((179.0, 60.0, 200_000), "crosses the antimeridian"),
        ((26.5, 52.9, -5), "must be a positive number"),
        ((26.5, 95.0, 1000), "is not a position"),
    ],
)
def test_range_ring_refuses_what_it_cannot_draw(args, message):
    with pytest.raises(InputError, match=message):
        distance.range_ring(*args)


def test_within_range_is_geodesic_and_sorted():
    a = gpd.GeoDataFrame(
        {"id": ["m", "k"]}, geometry=gpd.points_from_xy([26.5, 20.5], [52.9, 54.7]), crs=4326
    )
    b = gpd.GeoDataFrame(
        {"id": ["p", "q", "r"]},
        geometry=gpd.points_from_xy([21.0, 24.0, 40.0], [52.2, 54.7, 50.0]),
        crs=4326,
    )
    pairs = distance.within_range(a, b, 300_000)
    expected = []
    for ia, ga in zip(a["id"], a.geometry, strict=True):
        for ib, gb in zip(b["id"], b.geometry, strict=True):
            d = GEOD.inv(ga.x, ga.y, gb.x, gb.y)[2]
            if d <= 300_000:
                expected.append((ia, ib, d))
    expected.sort(key=lambda row: (row[0], row[2]))
    assert [tuple(r) for r in pairs[["id_a", "id_b"]].to_numpy()] == [e[:2] for e in expected]
    np.testing.assert_allclose(pairs["distance_m"], [e[2] for e in expected])


def test_site_analysis_on_fixture_layer(data_dir):
    sites = read_layer_file(data_dir / "sites_small.geojson")
    out = distance.site_analysis(sites, as_of="2025-01-01").set_index("id")
    assert out["side"].to_dict() == {
        "test-radar-blr": "RUS/BLR",
        "test-base-kaliningrad": "RUS/BLR",
        "test-battlegroup-ltu": "NATO",
        "test-training-area-pol": "NATO",
    }
    east = out.loc[["test-radar-blr", "test-base-kaliningrad"]]
    nato = distance.to_territory([26.5, 20.51], [52.9, 54.71], "NATO", as_of="2025-01-01")
    np.testing.assert_allclose(east["opposing_distance_m"], nato["distance_m"])
    assert list(east["opposing_border"]) == list(nato["border"])
    unc = out["coord_uncertainty_m"].astype(float)
    d = out["opposing_distance_m"]
    np.testing.assert_allclose(out["opposing_distance_min_m"], np.maximum(0, d - unc))
    np.testing.assert_allclose(out["opposing_distance_max_m"], d + unc)
    # The training area is measured from a point inside its polygon.
    area = sites.set_index("id").geometry["test-training-area-pol"]
    rus_blr = distance.to_territory(*_surface_point(area), "RUS,BLR")
    assert out.loc["test-training-area-pol", "opposing_distance_m"] == pytest.approx(
        rus_blr.loc[0, "distance_m"]
    )
    # The host border is the nearest of the host country's land borders with its neighbours.
    host = out.loc["test-battlegroup-ltu"]
    by_neighbour = {
        nbr: distance.to_frontier([24.11], [55.08], f"LTU:{nbr}").loc[0, "distance_m"]
        for nbr in ("BLR", "LVA", "POL", "RUS")
    }
    nearest = min(by_neighbour, key=by_neighbour.get)
    assert host["host_border"] == "-".join(sorted(("LTU", nearest)))
    assert host["host_border_distance_m"] == pytest.approx(by_neighbour[nearest])


def _surface_point(geom):
    point = shapely.point_on_surface(geom)
    return [point.x], [point.y]


def test_measure_file_in_chunks_equals_one_pass(tmp_path):
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(50, 58, 250).round(5), rng.uniform(18, 30, 250).round(5)
    path = tmp_path / "p.csv"
    rows = "".join(f"p{i},{a:.5f},{o:.5f}\n" for i, (a, o) in enumerate(zip(lat, lon, strict=True)))
    path.write_text("id,lat,lon\n" + rows + "bad,x,1\n", encoding="utf-8")
    seen = []
    run = distance.measure_file(
        path,
        as_of="2025-01-01",
        chunk_rows=60,
        skip_invalid=True,
        rejected=tmp_path / "rejected.csv",
        on_progress=lambda done, total, n: seen.append(n),
    )
    assert (run.rows, run.rejected) == (250, 1)
    assert seen[-1] == 251
    assert len(seen) >= 4
    whole = distance.to_frontier(lon, lat, "RUS,BLR:NATO", as_of="2025-01-01")
    np.testing.assert_allclose(run.frame["distance_m"], whole["distance_m"], atol=1e-6)
    assert run.frame["id"].tolist() == [f"p{i}" for i in range(250)]
    rejected = (tmp_path / "rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "row,field,reason,raw"
    assert rejected[1].startswith("251,lat,'x' is not a number")


# --- lines, polygons and multi-points: measured from their nearest point ------------------


def _densified(shape: shapely.Geometry, step: float = 20.0) -> np.ndarray:
    """Points every ``step`` metres along the geodesic edges of a shape (its rings, lines)."""
    parts = []
    for part in shapely.get_parts(shape):
        rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            for (x0, y0), (x1, y1) in itertools.pairwise(xy):
                n = max(1, int(GEOD.inv(x0, y0, x1, y1)[2] // step))
                parts.append(np.array([(x0, y0), *GEOD.npts(x0, y0, x1, y1, n), (x1, y1)]))
    return np.vstack(parts)


def _far_shapes(rng: np.random.Generator, lines) -> list[shapely.Geometry]:
    """Random small lines and polygons at least 5 km from the border lines."""
    shapes: list[shapely.Geometry] = []
    while len(shapes) < 16:
        x, y = rng.uniform(19, 32), rng.uniform(50, 58)
        dx, dy = rng.uniform(-0.6, 0.6, 2)
        if len(shapes) % 2:
            shape = shapely.LineString([(x, y), (x + dx, y + dy), (x + dx, y)])
        else:
            shape = shapely.Polygon([(x, y), (x + abs(dx), y), (x, y + abs(dy) + 0.05)])
        xy = _densified(shape, 500.0)
        if distance.nearest(lines, xy[:, 0], xy[:, 1])["distance_m"].min() > 5000:
            shapes.append(shape)
    return shapes


@pytest.mark.parametrize("to", [None, "RUS,BLR"])
def test_lines_and_polygons_are_measured_from_their_nearest_point(to):
    prepared = distance.target(to=to, as_of="2025-01-01")
    shapes = _far_shapes(np.random.default_rng(11), prepared.lines)
    frame = gpd.GeoDataFrame({"n": range(len(shapes))}, geometry=shapes, crs=4326)
    result = distance.measure(frame, prepared)
    for shape, row in zip(shapes, result.itertuples(), strict=True):
        xy = _densified(shape)
        reference = distance.nearest(prepared.lines, xy[:, 0], xy[:, 1])
        best = reference["distance_m"].idxmin()
        if to and row.inside:
            assert row.distance_m == 0
            continue
        # Never above the densified reference, and within 1 cm of it (20 m spacing, >= 5 km).
        assert row.distance_m <= reference["distance_m"][best] + 1e-6
        assert row.distance_m == pytest.approx(reference["distance_m"][best], abs=0.01)
        assert row.border == reference["border"][best]
        # The reported border point is at the reported distance from the shape.
        edges = distance._shape_lines(shape)
        back = distance.nearest(edges, [row.nearest_lon], [row.nearest_lat])["distance_m"][0]
        assert back == pytest.approx(row.distance_m, abs=0.01)
        assert 0 <= row.bearing_deg < 360


def test_shapes_that_touch_or_cross_the_target_are_at_zero():
    prepared = distance.target(frontier="RUS,BLR:NATO", as_of="2025-01-01")
    crossing = shapely.LineString([(23.0, 53.0), (25.0, 54.0)])  # Poland into Belarus
    around = shapely.Polygon([(25.0, 54.3), (26.0, 54.3), (26.0, 55.0), (25.0, 54.3)])
    frame = gpd.GeoDataFrame(geometry=[crossing, around], crs=4326)
    result = distance.measure(frame, prepared)
    assert result["distance_m"].tolist() == [0.0, 0.0]
    assert result["border"].tolist() == ["BLR-POL", "BLR-LTU"]
    assert result["bearing_deg"].isna().all()
    for shape, row in zip(frame.geometry, result.itertuples(), strict=True):
        assert shapely.distance(shape, shapely.Point(row.nearest_lon, row.nearest_lat)) < 1e-9
    inside = distance.measure(frame, distance.target(to="BLR"))
    assert inside["distance_m"].tolist() == [0.0, 0.0]
    assert inside["inside"].tolist() == ["BLR", "BLR"]
    assert inside["border"].tolist() == ["", ""]


def test_a_multipoint_counts_from_its_nearest_point():
    prepared = distance.target(as_of="2025-01-01")
    multi = shapely.MultiPoint([(20.0, 52.0), (24.0, 54.0), (30.0, 60.0)])
    collection = shapely.GeometryCollection([shapely.Point(20.0, 52.0), shapely.Point(24.0, 54.0)])
    frame = gpd.GeoDataFrame(geometry=[multi, collection], crs=4326)
    result = distance.measure(frame, prepared)
    each = distance.to_frontier(
        [20.0, 24.0, 30.0], [52.0, 54.0, 60.0], "RUS,BLR:NATO", as_of="2025-01-01"
    )
    nearest_one = each["distance_m"].idxmin()
    for row in result.itertuples():
        assert row.distance_m == each["distance_m"][nearest_one]
        assert row.bearing_deg == each["bearing_deg"][nearest_one]


def test_points_and_shapes_mixed_keep_their_order():
    prepared = distance.target(as_of="2025-01-01")
    shapes = [
        shapely.Point(25.0, 54.0),
        shapely.LineString([(20.0, 52.0), (21.0, 52.5)]),
        shapely.Point(21.0, 52.2),
    ]
    result = distance.measure(
        gpd.GeoDataFrame({"k": [0, 1, 2]}, geometry=shapes, crs=4326), prepared
    )
    points = distance.to_frontier([25.0, 21.0], [54.0, 52.2], "RUS,BLR:NATO", as_of="2025-01-01")
    assert result["k"].tolist() == [0, 1, 2]
    assert result["distance_m"][0] == points["distance_m"][0]
    assert result["distance_m"][2] == points["distance_m"][1]
    assert 0 < result["distance_m"][1] < result["distance_m"][2] + 100_000
