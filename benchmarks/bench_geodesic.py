"""Benchmark: the geodesic engine on its own, by the number of threads of its geodesic calls.

Run from the repository root::

    .venv/bin/python benchmarks/bench_geodesic.py            # 1,000,000 points
    .venv/bin/python benchmarks/bench_geodesic.py --n 200000

The Russia+Belarus / NATO frontier is prepared once with :func:`geo.geodesic.line_set` (the
preparation time is printed), then random points (lon 12..32, lat 43..61, fixed seed) are
measured with :func:`geo.geodesic.nearest` on one thread and on as many threads as the process
may use cores (the default). Prints wall and CPU times per run (the machine may be shared) and
checks that both runs give identical results.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

from geo import borders, geodesic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of random points")
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
    machine = geodesic._THREADS
    results = {}
    for threads in sorted({1, machine}):
        geodesic._THREADS = threads
        start, cpu = time.perf_counter(), time.process_time()
        results[threads] = geodesic.nearest(lines, lon, lat)
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"nearest, {threads} thread(s): {wall:8.2f} s  "
            f"({wall / args.n * 1e6:.2f} µs/point, CPU {used:.2f} s), {args.n:,} points"
        )
    geodesic._THREADS = machine
    first, last = results[1], results[machine]
    same = first.equals(last)
    print(f"results identical on 1 and {machine} thread(s): {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
