"""Benchmark: exact geodesic distance to the Russia+Belarus / NATO frontier vs EPSG:3035.

Run from the repository root::

    .venv/bin/python benchmarks/bench_distance.py            # 1,000,000 points
    .venv/bin/python benchmarks/bench_distance.py --n 100000

Random points (lon 12..32, lat 43..61, fixed seed) are measured twice: with
:func:`geo.distance.to_frontier` and with the usual approximation (points and frontier
reprojected to EPSG:3035, then ``GeoSeries.distance``). Both get the frontier frame ready-made.
On a sample of the same points both are compared with a brute-force reference: every frontier
segment near the point densified to 5 m along the geodesic and the minimum of ``Geod.inv`` taken,
the segments kept by the triangle inequality. Prints wall and CPU times (the machine may be
shared), their ratio, the peak memory of the process after the flankmap run and both methods'
maximum error against the reference.
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from geo import borders, distance

GEOD = Geod(ellps="WGS84")


def frontier_segments(frame: gpd.GeoDataFrame) -> np.ndarray:
    parts = shapely.get_parts(frame.geometry.values)
    return np.vstack(
        [np.hstack([c[:-1], c[1:]]) for c in (shapely.get_coordinates(p) for p in parts)]
    )


def reference(lon: float, lat: float, seg: np.ndarray, step_m: float = 5.0) -> float:
    """Minimum geodesic distance to the segments densified to ``step_m``."""
    n = len(seg)
    az, _, length = GEOD.inv(seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3])
    to_start = GEOD.inv(np.full(n, lon), np.full(n, lat), seg[:, 0], seg[:, 1])[2]
    to_end = GEOD.inv(np.full(n, lon), np.full(n, lat), seg[:, 2], seg[:, 3])[2]
    best = min(to_start.min(), to_end.min())
    # A segment point is at least (to_start + to_end - length) / 2 away: keep the others.
    near = np.flatnonzero((to_start + to_end - length) / 2 <= best)
    counts = np.ceil(length[near] / step_m).astype(int) + 1
    which = np.repeat(near, counts)
    along = np.concatenate(
        [np.linspace(0, length[i], k) for i, k in zip(near, counts, strict=True)]
    )
    x, y, _ = GEOD.fwd(seg[which, 0], seg[which, 1], az[which], along)
    return float(GEOD.inv(np.full(len(x), lon), np.full(len(x), lat), x, y)[2].min())


def baseline(lon: np.ndarray, lat: np.ndarray, frame: gpd.GeoDataFrame) -> np.ndarray:
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(3035)
    line = frame.to_crs(3035).union_all()
    return points.distance(line).to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of random points")
    parser.add_argument("--sample", type=int, default=300, help="points checked vs reference")
    parser.add_argument(
        "--baseline-limit-s",
        type=float,
        default=240,
        help="run the baseline on all points "
        "only if a 50,000-point trial predicts at most this many seconds",
    )
    args = parser.parse_args()

    rng = np.random.default_rng(20261125)
    lon = rng.uniform(12, 32, args.n)
    lat = rng.uniform(43, 61, args.n)
    frame = borders.frontier("RUS,BLR", "NATO")
    print(
        f"{args.n:,} random points, lon 12..32, lat 43..61; frontier RUS,BLR:NATO "
        f"({len(frontier_segments(frame)):,} segments)"
    )

    start, cpu = time.perf_counter(), time.process_time()
    ours = distance.to_frontier(lon, lat, frame)["distance_m"].to_numpy()
    t_ours, c_ours = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"flankmap geo.distance.to_frontier: {t_ours:8.2f} s  "
        f"({t_ours / args.n * 1e6:.2f} µs/point, CPU {c_ours:.2f} s), peak RSS {peak_mb:,.0f} MB"
    )

    trial = min(args.n, 50_000)
    start = time.perf_counter()
    baseline(lon[:trial], lat[:trial], frame)
    predicted = (time.perf_counter() - start) * args.n / trial
    if predicted <= args.baseline_limit_s:
        start, cpu = time.perf_counter(), time.process_time()
        theirs = baseline(lon, lat, frame)
        t_base, c_base = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"EPSG:3035 to_crs + .distance:       {t_base:8.2f} s  "
            f"({t_base / args.n * 1e6:.2f} µs/point, CPU {c_base:.2f} s), same {args.n:,} points"
        )
    else:
        t_base = predicted
        theirs = baseline(lon[: args.sample], lat[: args.sample], frame)
        print(
            f"EPSG:3035 to_crs + .distance:       {t_base:8.2f} s  PREDICTED from "
            f"{trial:,} points (not run on all: over --baseline-limit-s)"
        )
    print(f"ratio baseline / flankmap: {t_base / t_ours:.2f}x")

    seg = frontier_segments(frame)
    pick = np.r_[np.arange(min(args.sample, args.n))]
    ref = np.array([reference(lon[i], lat[i], seg) for i in pick])
    err_ours = np.abs(ours[pick] - ref)
    err_base = np.abs(theirs[pick] - ref)
    print(
        f"max error vs reference on {len(pick)} points (max distance {ref.max() / 1000:,.0f} km):"
        f" flankmap {err_ours.max():.4f} m, EPSG:3035 {err_base.max():,.1f} m "
        f"(p99 {np.percentile(err_base, 99):,.1f} m)"
    )


if __name__ == "__main__":
    main()
