"""geo.accessor: ``gdf.flankmap`` gives geo.distance's results, in any CRS, for any geometry."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo.accessor  # noqa: F401  (registers .flankmap)
from geo import distance
from geo._errors import InputError
from geo.sites import site_analysis

AS_OF = "2024-01-01"
RESULT = ["distance_m", "nearest_lat", "nearest_lon", "border", "bearing_deg"]


def _points(n: int = 200, crs: object = 4326) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(2)
    frame = gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(14, 32, n), rng.uniform(49, 60, n)),
        crs=4326,
    )
    return frame.to_crs(crs)


def test_distances_is_the_function():
    pts = _points()
    got = pts.flankmap.distances(frontier="RUS,BLR:NATO", as_of=AS_OF)
    pd.testing.assert_frame_equal(
        pd.DataFrame(got),
        pd.DataFrame(distance.distances(pts, frontier="RUS,BLR:NATO", as_of=AS_OF)),
    )
    assert list(got.columns) == ["id", *RESULT, "geometry"]


def test_to_frontier_and_to_territory_are_distances():
    pts = _points(60)
    front = pts.flankmap.to_frontier("BLR:POL,LTU", as_of=AS_OF)
    want = distance.to_frontier(pts.geometry.x, pts.geometry.y, "BLR:POL,LTU", as_of=AS_OF)
    np.testing.assert_array_equal(front["distance_m"].to_numpy(), want["distance_m"].to_numpy())
    terr = pts.flankmap.to_territory("RUS,BLR", as_of=AS_OF)
    want = distance.to_territory(pts.geometry.x, pts.geometry.y, "RUS,BLR", as_of=AS_OF)
    np.testing.assert_array_equal(terr["distance_m"].to_numpy(), want["distance_m"].to_numpy())
    assert terr["inside"].tolist() == want["inside"].tolist()
    default = pts.flankmap.to_frontier(as_of=AS_OF)
    np.testing.assert_array_equal(
        default["distance_m"].to_numpy(),
        pts.flankmap.distances(frontier="RUS,BLR:NATO", as_of=AS_OF)["distance_m"].to_numpy(),
    )


@pytest.mark.parametrize("crs", ["EPSG:3035", "EPSG:2180", "EPSG:3857"])
def test_any_crs_is_measured_in_wgs84_and_returned_in_its_own(crs):
    wgs84 = _points(80)
    projected = wgs84.to_crs(crs)
    got = projected.flankmap.distances(frontier="RUS,BLR:NATO", as_of=AS_OF)
    want = wgs84.flankmap.distances(frontier="RUS,BLR:NATO", as_of=AS_OF)
    assert got.crs == projected.crs
    assert got.geometry.geom_equals_exact(projected.geometry, tolerance=0).all()
    # The round trip through the projection moves a point by nanometres, not more.
    np.testing.assert_allclose(got["distance_m"], want["distance_m"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(got["nearest_lat"], want["nearest_lat"], rtol=0, atol=1e-7)
    assert got["border"].tolist() == want["border"].tolist()


def test_lines_and_polygons_count_from_their_nearest_point():
    # A line crossing the Belarus-Poland border, a square in Poland and a point in Poland.
    crossing = shapely.LineString([(22.0, 52.5), (25.0, 52.5)])
    square = shapely.box(20.0, 52.0, 20.5, 52.5)
    frame = gpd.GeoDataFrame(
        {"id": ["line", "square", "point"]},
        geometry=[crossing, square, shapely.Point(20.5, 52.25)],
        crs=4326,
    )
    got = frame.to_crs("EPSG:2180").flankmap.distances(frontier="BLR:POL", as_of=AS_OF)
    assert got.loc[0, "distance_m"] == 0
    assert got.loc[0, "border"] == "BLR-POL"
    # The square counts from its nearest point: no point of its boundary is nearer, and the
    # point on its edge is not nearer either.
    ring = shapely.get_coordinates(square.exterior.segmentize(0.0005))
    sampled = distance.to_frontier(ring[:, 0], ring[:, 1], "BLR:POL", as_of=AS_OF)["distance_m"]
    assert 0 < got.loc[1, "distance_m"] <= sampled.min() + 1e-6
    assert sampled.min() - got.loc[1, "distance_m"] < 1.0
    assert got.loc[1, "distance_m"] <= got.loc[2, "distance_m"] + 1e-6
    assert got.geom_type.tolist() == ["LineString", "Polygon", "Point"]


def test_site_analysis_is_the_function():
    sites = gpd.GeoDataFrame(
        {"operator": ["RUS", "POL"], "country": ["BLR", "POL"], "coord_uncertainty_m": [1000, 50]},
        geometry=gpd.points_from_xy([26.5, 21.0], [52.9, 52.2]),
        crs=4326,
    )
    got = sites.flankmap.site_analysis(as_of=AS_OF)
    pd.testing.assert_frame_equal(
        pd.DataFrame(got), pd.DataFrame(site_analysis(sites, as_of=AS_OF))
    )
    assert got["side"].tolist() == ["RUS/BLR", "NATO"]


def test_a_plain_frame_gets_a_one_line_error():
    frame = pd.DataFrame({"lon": [23.0], "lat": [53.0]})
    with pytest.raises(InputError, match="needs a GeoDataFrame") as info:
        frame.flankmap.distances(frontier="BLR:POL")
    assert "\n" not in str(info.value)


def test_the_accessor_is_registered_by_geo_accessor_only():
    code = (
        "import pandas as pd, geo, geo.distance\n"
        "before = hasattr(pd.DataFrame, 'flankmap')\n"
        "import geo.accessor\n"
        "print(before, hasattr(pd.DataFrame, 'flankmap'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["False", "True"]
