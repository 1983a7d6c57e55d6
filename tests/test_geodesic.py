"""Tests of geo.geodesic against an independent brute-force geodesic reference."""

from __future__ import annotations

import ast
import dataclasses
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy.spatial import cKDTree

from geo import borders, geodesic
from geo._errors import InputError

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def frontier() -> gpd.GeoDataFrame:
    return borders.frontier("RUS,BLR", "NATO", as_of="2025-01-01")


@pytest.fixture(scope="module")
def segments(frontier, boundary_segments) -> np.ndarray:
    """Frontier segments as rows lon0, lat0, lon1, lat1."""
    return boundary_segments(frontier.geometry.values)


@pytest.fixture(scope="module")
def lines(frontier) -> geodesic.LineSet:
    """The frontier as a line set, each line labelled by its country pair."""
    return geodesic.line_set(
        (shapely.get_coordinates(part), str(pair))
        for geom, pair in zip(frontier.geometry, frontier["pair"], strict=True)
        for part in shapely.get_parts(geom)
    )


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


def test_nearest_matches_brute_force_reference(lines, segments, brute_force):
    lon, lat = _sample_points(segments, np.random.default_rng(7))
    result = geodesic.nearest(lines, lon, lat)
    reference = np.array([brute_force(x, y, segments) for x, y in zip(lon, lat, strict=True)])
    error = np.abs(result["distance_m"].to_numpy() - reference)
    assert reference.max() > 1.8e6  # the far points are really far
    assert error.max() <= 1.0, f"max error {error.max():.4f} m"
    # The reported nearest point is at the reported distance, in the reported direction.
    az, _, back = GEOD.inv(lon, lat, result["nearest_lon"], result["nearest_lat"])
    np.testing.assert_allclose(back, result["distance_m"], atol=1e-6)
    moving = result["distance_m"].to_numpy() > 1
    np.testing.assert_allclose(np.mod(az, 360)[moving], result["bearing_deg"][moving], atol=1e-9)


def test_nearest_on_a_small_line_set_matches_brute_force(brute_force):
    """A zig-zag line and a closed ring, far from any country data."""
    zigzag = np.array([[0.0, 0.0], [0.3, 0.4], [0.6, -0.1], [1.2, 0.5]])
    ring = np.array([[2.0, 2.0], [2.5, 2.0], [2.5, 2.4], [2.0, 2.0]])
    small = geodesic.line_set([(zigzag, ["a", "b", "c"]), (ring, "r")])
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(-1, 3.5, 40), rng.uniform(-1, 3.5, 40)
    result = geodesic.nearest(small, lon, lat)
    seg = np.vstack([np.hstack([xy[:-1], xy[1:]]) for xy in (zigzag, ring)])
    labels = np.array(["a", "b", "c", "r", "r", "r"])
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        each = [brute_force(x, y, seg[k : k + 1]) for k in range(len(seg))]
        assert result.loc[i, "distance_m"] == pytest.approx(min(each), abs=0.01)
        assert result.loc[i, "border"] in set(labels[np.isclose(each, min(each), atol=0.01)])


def test_a_line_shared_by_two_labels_is_one_set_of_samples_and_the_first_label():
    """A stretch that is two lines (a coast and a land border) measures as once, label A-Z."""
    zigzag = np.array([[0.0, 0.0], [0.3, 0.4], [0.6, -0.1], [1.2, 0.5]])
    tail = np.array([[1.2, 0.5], [1.6, 0.2]])  # meets the zig-zag at its last vertex
    once = geodesic.line_set([(zigzag, "m"), (tail, "t")])
    twice = geodesic.line_set([(zigzag, "z"), (zigzag, "m"), (tail, "t")])
    assert twice.n_samples == once.n_samples
    rng = np.random.default_rng(7)
    # Far points (the nearest place is a vertex of both copies) and near ones.
    lon = np.r_[rng.uniform(-20, 20, 300), rng.uniform(-0.2, 1.8, 300)]
    lat = np.r_[rng.uniform(-20, 20, 300), rng.uniform(-0.3, 0.7, 300)]
    a, b = geodesic.nearest(once, lon, lat), geodesic.nearest(twice, lon, lat)
    assert a.equals(b)  # same numbers, and "m" before "z" wherever both are nearest
    assert set(b.border) == {"m", "t"}


def test_points_on_the_border_are_at_zero(lines, segments):
    on_vertex = geodesic.nearest(lines, segments[:, 0], segments[:, 1])
    assert on_vertex["distance_m"].max() < 1e-3


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(10, 35),
    lat=st.floats(40, 70),
    vertex=st.integers(0, 10_000),
)
def test_never_farther_than_any_vertex(lines, segments, lon, lat, vertex):
    result = geodesic.nearest(lines, [lon], [lat])
    x, y = segments[vertex % len(segments), :2]
    to_vertex = GEOD.inv(lon, lat, x, y)[2]
    assert result.loc[0, "distance_m"] <= to_vertex + 1e-6


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, 10_000), fraction=st.floats(0, 1))
def test_zero_anywhere_on_the_border(lines, segments, index, fraction):
    x0, y0, x1, y1 = segments[index % len(segments)]
    az, _, length = GEOD.inv(x0, y0, x1, y1)
    x, y, _ = GEOD.fwd(x0, y0, az, length * fraction)
    assert geodesic.nearest(lines, [x], [y]).loc[0, "distance_m"] < 1e-3


def test_input_order_and_chunking_do_not_matter(lines, monkeypatch):
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(12, 32, 3000), rng.uniform(43, 61, 3000)
    whole = geodesic.nearest(lines, lon, lat)
    monkeypatch.setattr(geodesic, "_CHUNK", 700)
    order = rng.permutation(3000)
    shuffled = geodesic.nearest(lines, lon[order], lat[order])
    np.testing.assert_allclose(shuffled["distance_m"], whole["distance_m"].to_numpy()[order])


@pytest.mark.parametrize(("threads", "chunk"), [(1, 100_000), (2, 700), (3, 1000), (8, 250)])
def test_nearest_is_identical_on_any_threads_and_chunks(lines, monkeypatch, threads, chunk):
    """Chunks measured side by side on threads give the very same frame as one pass."""
    rng = np.random.default_rng(13)
    lon = np.r_[rng.uniform(12, 32, 2500), rng.uniform(-20, 60, 500)]
    lat = np.r_[rng.uniform(43, 61, 2500), rng.uniform(30, 75, 500)]
    monkeypatch.setattr(geodesic, "_THREADS", 1)
    one = geodesic.nearest(lines, lon, lat)
    monkeypatch.setattr(geodesic, "_THREADS", threads)
    monkeypatch.setattr(geodesic, "_CHUNK", chunk)
    monkeypatch.setattr(geodesic, "_MIN_PER_THREAD", 100)
    split = geodesic.nearest(lines, lon, lat)
    assert split.equals(one)
    assert list(split.columns) == geodesic.RESULT_COLUMNS
    assert str(split["border"].dtype) == "str"
    assert set(split["border"]) <= set(lines.labels)


@pytest.mark.parametrize(
    ("leafsize", "compact", "k_first"), [(64, True, 2), (1, False, 1), (500, True, 50)]
)
def test_tree_shape_and_first_k_change_no_result(lines, monkeypatch, leafsize, compact, k_first):
    """The k-d tree settings are speed only: any tree and any first ``k`` give the same frame."""
    rng = np.random.default_rng(17)
    lon = np.r_[rng.uniform(12, 32, 1500), rng.uniform(-20, 60, 500)]
    lat = np.r_[rng.uniform(43, 61, 1500), rng.uniform(30, 75, 500)]
    built = geodesic.nearest(lines, lon, lat)
    tree = cKDTree(lines.tree.data, leafsize=leafsize, compact_nodes=compact)
    monkeypatch.setattr(geodesic, "_K_FIRST", k_first)
    other = geodesic.nearest(dataclasses.replace(lines, tree=tree), lon, lat)
    assert other.equals(built)


@pytest.mark.parametrize("short_m", [0.0, 150.0, 1e9])
def test_the_split_of_short_pieces_changes_no_result(frontier, lines, monkeypatch, short_m):
    """Near dense lines the samples of short pieces are searched apart: any split, same answer."""
    monkeypatch.setattr(geodesic, "_SHORT_M", short_m)
    split = geodesic.line_set(
        (shapely.get_coordinates(part), str(pair))
        for geom, pair in zip(frontier.geometry, frontier["pair"], strict=True)
        for part in shapely.get_parts(geom)
    )
    assert len(split.sample_classes) == (1 if short_m in (0.0, 1e9) else 2)
    rng = np.random.default_rng(11)
    vertex = rng.integers(0, len(lines.seg_lon), 3000)
    lon = np.r_[lines.seg_lon[vertex] + rng.uniform(-0.01, 0.01, 3000), rng.uniform(12, 32, 300)]
    lat = np.r_[lines.seg_lat[vertex] + rng.uniform(-0.01, 0.01, 3000), rng.uniform(43, 61, 300)]
    assert geodesic.nearest(split, lon, lat).equals(geodesic.nearest(lines, lon, lat))


def test_nearest_of_no_points(lines):
    empty = geodesic.nearest(lines, [], [])
    assert len(empty) == 0
    assert list(empty.columns) == geodesic.RESULT_COLUMNS


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_thread_count_does_not_change_results(monkeypatch, threads):
    rng = np.random.default_rng(2)
    n = 45_001
    lon1, lat1 = rng.uniform(-180, 180, n), rng.uniform(-89, 89, n)
    lon2, lat2 = rng.uniform(-180, 180, n), rng.uniform(-89, 89, n)
    one = [np.asarray(v) for v in GEOD.inv(lon1, lat1, lon2, lat2)]
    monkeypatch.setattr(geodesic, "_THREADS", threads)
    split = geodesic._inv(lon1, lat1, lon2, lat2)
    for a, b in zip(one, split, strict=True):
        np.testing.assert_array_equal(a, b)


def test_threads_follow_the_machine():
    if hasattr(os, "sched_getaffinity"):
        assert geodesic._usable_cores() == len(os.sched_getaffinity(0))
    else:
        assert geodesic._usable_cores() == (os.cpu_count() or 1)
    assert max(1, geodesic._usable_cores()) == geodesic._THREADS


def test_line_set_needs_a_line():
    with pytest.raises(InputError, match="no border line to measure to"):
        geodesic.line_set([(np.array([[1.0, 2.0], [1.0, 2.0]]), "x")])


def test_lonlat_points_of_points_polygons_and_other_crs():
    frame = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(21.0, 52.0),
            shapely.Polygon([(20, 50), (24, 50), (20, 54)]),  # a triangle: not its centroid box
            shapely.LineString([(10, 10), (12, 10)]),
        ],
        crs=4326,
    )
    lon, lat = geodesic.lonlat_points(frame)
    assert (lon[0], lat[0]) == (21.0, 52.0)
    for geom, x, y in zip(frame.geometry[1:], lon[1:], lat[1:], strict=True):
        assert geom.distance(shapely.Point(x, y)) < 1e-9  # on the shape, not beside it
    projected_lon, projected_lat = geodesic.lonlat_points(frame.to_crs(3035))
    np.testing.assert_allclose(projected_lon[0], 21.0, atol=1e-9)
    np.testing.assert_allclose(projected_lat[0], 52.0, atol=1e-9)


def test_lonlat_points_names_a_missing_geometry():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(1, 2), None], crs=4326)
    with pytest.raises(InputError, match="feature 2 has no geometry"):
        geodesic.lonlat_points(frame)


def test_geodesic_imports_nothing_of_geo_but_errors():
    tree = ast.parse(Path(geodesic.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    from_geo = {name for name in imported if name == "geo" or name.startswith("geo.")}
    assert from_geo <= {"geo._errors", "geo._errors.InputError"}


def test_range_ring_is_a_geodesic_circle():
    ring = geodesic.range_ring(26.5, 52.9, 300_000, n_points=64)
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
        geodesic.range_ring(*args)
