"""Benchmark: the geodesic engine on its own, by thread count, against its floor.

Run from the repository root::

    .venv/bin/python benchmarks/bench_geodesic.py            # 1,000,000 points, 3 rounds
    .venv/bin/python benchmarks/bench_geodesic.py --n 200000 --repeat 5

The Russia+Belarus / NATO frontier is prepared once with :func:`geo.geodesic.line_set` (the
preparation time is printed), then random points (lon 12..32, lat 43..61, fixed seed) are
measured with :func:`geo.geodesic.nearest` on one thread and on as many threads as the process
may use cores (the default), alternating, ``--repeat`` rounds after one warm-up round. The
floor is one vectorised ``Geod.inv`` per point on the same threads (every point needs at least
one exact inverse). Prints the median (min-max) wall and CPU times, the load average of the
machine (it may be shared) and checks that every run gives identical results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import shapely

from geo import borders, geodesic


def _timed(func: Callable[[], object]) -> tuple[float, float, object]:
    start, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - start, time.process_time() - cpu, result


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of random points")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (after a warm-up)")
    args = parser.parse_args()

    frame = borders.frontier("RUS,BLR", "NATO")
    start = time.perf_counter()
    lines = geodesic.line_set(
        (shapely.get_coordinates(part), str(pair))
        for geom, pair in zip(frame.geometry, frame["pair"], strict=True)
        for part in shapely.get_parts(geom)
    )
    print(
        f"line_set: {time.perf_counter() - start:.2f} s for {len(lines.seg_len):,} segments, "
        f"{lines.n_samples:,} samples"
    )
    rng = np.random.default_rng(20261125)
    lon, lat = rng.uniform(12, 32, args.n), rng.uniform(43, 61, args.n)
    far_lon, far_lat = lon + 0.1, lat + 0.1
    machine = geodesic._THREADS
    cases: dict[str, tuple[int, Callable[[], object]]] = {}
    for threads in sorted({1, machine}):
        cases[f"nearest, {threads} thread(s)"] = (
            threads,
            lambda: geodesic.nearest(lines, lon, lat),
        )
    cases[f"floor: Geod.inv, {machine} thread(s)"] = (
        machine,
        lambda: geodesic._inv(lon, lat, far_lon, far_lat),
    )
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    results = {}
    loads = []
    for round_no in range(args.repeat + 1):
        for name, (threads, func) in cases.items():
            geodesic._THREADS = threads
            loads.append(os.getloadavg()[0])
            took, used, result = _timed(func)
            if round_no:  # round 0 warms up
                wall[name].append(took)
                cpu[name].append(used)
            if name.startswith("nearest"):
                first = results.setdefault("first", result)
                if not first.equals(result):  # type: ignore[attr-defined]
                    raise SystemExit(f"results differ: {name}, round {round_no}")
    geodesic._THREADS = machine
    floor = statistics.median(wall[f"floor: Geod.inv, {machine} thread(s)"])
    print(f"{args.n:,} points, {args.repeat} rounds; median (min-max) seconds")
    for name in cases:
        per_point = statistics.median(wall[name]) / args.n * 1e6
        print(
            f"{name:28s} wall {_summary(wall[name])}  CPU {_summary(cpu[name])}  "
            f"{per_point:.2f} µs/point  {statistics.median(wall[name]) / floor:.2f}x floor"
        )
    print(f"load average (1 min) during the runs: {min(loads):.2f}-{max(loads):.2f}")
    print("results identical on every thread count and run: True")


if __name__ == "__main__":
    main()
