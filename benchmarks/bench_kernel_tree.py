"""Benchmark: the k-d tree settings of the geodesic kernel (leaf size, first ``k``), near and far.

Run from the repository root::

    .venv/bin/python benchmarks/bench_kernel_tree.py                 # 100,000 points, 3 rounds
    .venv/bin/python benchmarks/bench_kernel_tree.py --n 200000 --repeat 5

Two OSM targets are prepared once: the Russia+Belarus / NATO frontier and the territory of
Russia and Belarus (their whole outer boundary, coasts included). Three fixed-seed point sets
are measured to each: *near* (lon 12..32, lat 43..61, the flank itself), *far* (lon -10..10,
lat 38..55, western Europe, 500-2500 km from the territory) and *border* (a tenth as many:
border vertices of the target moved by up to 0.01 degree, where the lines are dense). Every setting is one
:func:`geo.geodesic.nearest` call on the machine's threads, run alternately with the others,
``--repeat`` rounds after one warm-up round. Prints the median CPU (``time.process_time``) and
wall seconds, the load average of the machine (it may be shared), and checks that every setting
gives exactly the same result frame (the settings change the search, never the answer).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time

import numpy as np
from scipy.spatial import cKDTree

from geo import distance, geodesic

#: (leaf size, first k, compact nodes): the settings before issue 15 first, then the ones
#: tried against them.
SETTINGS = [
    (64, 2, True),
    (128, 8, True),
    (16, 8, False),
    (32, 2, False),
    (32, 4, False),
    (32, 8, False),
    (64, 8, False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="points per point set")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (after a warm-up)")
    args = parser.parse_args()

    targets = {
        "frontier": distance.target(frontier="RUS,BLR:NATO").lines,
        "territory": distance.target(to="RUS,BLR").lines,
    }
    rng = np.random.default_rng(20261203)
    points = {
        "near": (rng.uniform(12, 32, args.n), rng.uniform(43, 61, args.n)),
        "far": (rng.uniform(-10, 10, args.n), rng.uniform(38, 55, args.n)),
    }
    border = {}
    for target_name, lines in targets.items():
        vertex = rng.integers(0, len(lines.seg_lon), args.n // 10)
        shift = rng.uniform(-0.01, 0.01, (2, len(vertex)))
        border[target_name] = (lines.seg_lon[vertex] + shift[0], lines.seg_lat[vertex] + shift[1])
    k_first = geodesic._K_FIRST
    cpu: dict[tuple[str, str, int, int, bool], list[float]] = {}
    wall: dict[tuple[str, str, int, int, bool], list[float]] = {}
    reference = {}
    loads = []
    for round_no in range(args.repeat + 1):
        for target_name, lines in targets.items():
            for leaf, k, compact in SETTINGS:
                tree = cKDTree(
                    lines.tree.data, leafsize=leaf, balanced_tree=False, compact_nodes=compact
                )
                tuned = dataclasses.replace(lines, tree=tree)
                geodesic._K_FIRST = k
                sets = {**points, "border": border[target_name]}
                for points_name, (lon, lat) in sets.items():
                    loads.append(os.getloadavg()[0])
                    start, used = time.perf_counter(), time.process_time()
                    result = geodesic.nearest(tuned, lon, lat)
                    took, used = time.perf_counter() - start, time.process_time() - used
                    first = reference.setdefault((target_name, points_name), result)
                    if not first.equals(result):
                        raise SystemExit(f"results differ: {target_name}, {points_name}, {leaf}")
                    if round_no:  # round 0 warms up
                        key = (target_name, points_name, leaf, k, compact)
                        cpu.setdefault(key, []).append(used)
                        wall.setdefault(key, []).append(took)
    geodesic._K_FIRST = k_first
    print(
        f"{args.n:,} points per set, {args.repeat} rounds, {geodesic._THREADS} thread(s); "
        "median CPU and wall seconds"
    )
    for target_name, lines in targets.items():
        print(f"{target_name}: {lines.n_samples:,} samples")
        for leaf, k, compact in SETTINGS:
            cells = []
            for points_name in [*points, "border"]:
                key = (target_name, points_name, leaf, k, compact)
                cells.append(
                    f"{points_name} CPU {statistics.median(cpu[key]):6.3f} "
                    f"wall {statistics.median(wall[key]):6.3f}"
                )
            print(f"  leaf {leaf:3d}, k {k}, compact {compact!s:5}: " + "   ".join(cells))
    print(f"load average (1 min) during the runs: {min(loads):.2f}-{max(loads):.2f}")
    print("results identical for every setting: True")


if __name__ == "__main__":
    main()
