"""Benchmark: exact geodesic distance to the Russia+Belarus / NATO frontier vs EPSG:3035.

Run from the repository root::

    python benchmarks/bench_distance.py                        # whole process, 100k points
    python benchmarks/bench_distance.py --sizes 100000,1000000,3000000
    python benchmarks/bench_distance.py --borders naturalearth  # both on the 1:10m border
    python benchmarks/bench_distance.py --kernel --n 1000000   # the kernel alone, in-process

**Whole process** (the default). Random points (lon 12..32, lat 43..61, fixed seed; columns
``id,name,lat,lon``) are written as CSV and as GeoParquet. For each size and format the two
commands run alternately in one run (one warm-up round, then A B A B ..., ``--repeats`` times):

- A: ``python -m geo distances --points P --frontier RUS,BLR:NATO -o out`` (CSV in and out, or
  GeoParquet in and out);
- B: ``python benchmarks/peer_geopandas.py P frontier.parquet out``, the usual geopandas
  script (pandas ``read_csv``, ``points_from_xy``, ``to_crs(3035)``, ``.distance`` to the
  frontier in EPSG:3035, write), reading the frontier that :func:`geo.borders.frontier` gives,
  saved once beforehand.

Prints per size and format the median wall seconds of each (min-max), the median of the
pair-by-pair ratio flankmap / geopandas (below 1: flankmap faster), each one's median CPU
seconds (user + system: what a shared machine's load changes least), each one's median peak
resident memory (the child's own maximum RSS), and the geopandas approach's max and median
error against flankmap in metres. The outputs are also checked: same rows, same order, CSV and
GeoParquet giving the same distances.

**Kernel** (``--kernel``): :func:`geo.distance.to_frontier` against the EPSG:3035 approximation
in-process on ``--n`` points, both given the frontier frame ready-made. On a sample both are
compared with a brute-force reference: every frontier segment near the point densified to 5 m
along the geodesic and the minimum of ``Geod.inv`` taken, the segments kept by the triangle
inequality. Prints wall and CPU times, their ratio, the peak memory of the process after the
flankmap run and both methods' maximum error against the reference.

A report, not a test: nothing fails on a slow or shared machine; the load average is printed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely
from _bench import (
    alternate,
    csv_to_geoparquet,
    machine,
    median,
    python_module,
    spread,
    write_points_csv,
)
from pyproj import Geod

from geo import borders, distance

HERE = Path(__file__).resolve().parent
FRONTIER = "RUS,BLR:NATO"

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


def kernel(args: argparse.Namespace) -> None:
    """The kernel alone, in-process, against EPSG:3035 and a brute-force reference."""
    rng = np.random.default_rng(20261125)
    lon = rng.uniform(12, 32, args.n)
    lat = rng.uniform(43, 61, args.n)
    frame = borders.frontier("RUS,BLR", "NATO", borders=args.borders)
    print(
        f"{args.n:,} random points, lon 12..32, lat 43..61; frontier RUS,BLR:NATO on "
        f"{args.borders} ({len(frontier_segments(frame)):,} segments)"
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


def read_output(path: Path) -> pd.DataFrame:
    """``id`` and ``distance_m`` of a CSV or (Geo)Parquet output."""
    if path.suffix == ".csv":
        return pd.read_csv(path, usecols=["id", "distance_m"], dtype={"id": str})
    return pq.read_table(path, columns=["id", "distance_m"]).to_pandas()


def inputs(folder: Path, size: int) -> dict[str, Path]:
    """The CSV and GeoParquet points of one size, written unless already there (same seed)."""
    csv = folder / f"points_{size}.csv"
    parquet = folder / f"points_{size}.parquet"
    if not csv.exists():
        start = time.perf_counter()
        write_points_csv(csv, size)
        csv_to_geoparquet(csv, parquet)
        print(f"wrote {size:,} points as CSV and GeoParquet in {time.perf_counter() - start:.1f} s")
    elif not parquet.exists():
        csv_to_geoparquet(csv, parquet)
    return {"csv": csv, "parquet": parquet}


def whole_process(args: argparse.Namespace) -> None:
    """flankmap distances against the geopandas script, as whole processes, alternately."""
    sizes = [int(s) for s in args.sizes.split(",") if s]
    formats = [f for f in args.formats.split(",") if f]
    with tempfile.TemporaryDirectory(prefix="flankmap-bench-") as tmp:
        folder = Path(args.workdir) if args.workdir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        frontier = folder / "frontier.parquet"
        borders.frontier(*FRONTIER.split(":"), borders=args.borders).to_parquet(frontier)
        print(f"start: {machine()}; borders: {args.borders}", flush=True)
        rows = []
        for size in sizes:
            paths = inputs(folder, size)
            outputs = {}
            for fmt in formats:
                ours, theirs = folder / f"out_flankmap.{fmt}", folder / f"out_geopandas.{fmt}"
                commands = {
                    "flankmap": python_module(
                        "geo",
                        "distances",
                        "--points",
                        str(paths[fmt]),
                        "--frontier",
                        FRONTIER,
                        "--borders",
                        args.borders,
                        "-o",
                        str(ours),
                    ),
                    "geopandas": [
                        sys.executable,
                        str(HERE / "peer_geopandas.py"),
                        str(paths[fmt]),
                        str(frontier),
                        str(theirs),
                    ],
                }
                runs = alternate(commands, args.repeats)
                a, b = runs["flankmap"], runs["geopandas"]
                ratio = [x.wall_s / y.wall_s for x, y in zip(a, b, strict=True)]
                mine, peer = read_output(ours), read_output(theirs)
                if len(mine) != size or not mine["id"].equals(peer["id"]):
                    raise SystemExit(f"{fmt} {size:,}: outputs differ in rows or row order")
                outputs[fmt] = mine["distance_m"].to_numpy()
                error = np.abs(peer["distance_m"].to_numpy() - outputs[fmt])
                rows.append(
                    f"| {size:,} | {fmt} | {spread([r.wall_s for r in a])} "
                    f"| {spread([r.wall_s for r in b])} | {spread(ratio)} "
                    f"| {median([r.cpu_s for r in a]):.2f} | {median([r.cpu_s for r in b]):.2f} "
                    f"| {median([r.peak_mib for r in a]):,.0f} "
                    f"| {median([r.peak_mib for r in b]):,.0f} "
                    f"| {error.max():,.1f} | {np.median(error):,.1f} |"
                )
                print(rows[-1], flush=True)
            if len(outputs) == 2:
                gap = np.abs(outputs["csv"] - outputs["parquet"]).max()
                print(f"  flankmap CSV vs GeoParquet output, {size:,} points: max |diff| {gap} m")
        print(f"end: {machine()}")
        print()
        print(
            f"flankmap `distances --frontier {FRONTIER} --borders {args.borders}` vs the "
            "geopandas EPSG:3035 script on the same frontier, "
            f"whole processes, median (min-max) of {args.repeats} alternating runs after 1 "
            "warm-up each; ratio = flankmap / geopandas pair by pair (below 1: flankmap faster); "
            "CPU = median user+system seconds of the process (less sensitive to other jobs); "
            "peak = median max RSS of the process; error = |geopandas - flankmap|"
        )
        print()
        print(
            "| points | in/out | flankmap s | geopandas s | ratio | flankmap CPU s "
            "| geopandas CPU s | flankmap peak MiB | geopandas peak MiB | max error m "
            "| median error m |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        print("\n".join(rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000", help="whole process: point counts, e.g. 100000,1000000"
    )
    parser.add_argument(
        "--formats", default="csv,parquet", help="whole process: csv (CSV in and out), parquet"
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    parser.add_argument(
        "--workdir", help="keep the points and outputs here (reused when present), not in a temp"
    )
    parser.add_argument("--kernel", action="store_true", help="time the kernel alone instead")
    parser.add_argument("--n", type=int, default=1_000_000, help="kernel: number of points")
    parser.add_argument("--sample", type=int, default=300, help="kernel: points vs reference")
    parser.add_argument(
        "--borders",
        default="osm",
        help="border source of both the kernel and the whole-process runs: osm (default; the "
        "surveyed border, 13,803 frontier segments) or naturalearth (1:10m, fewer segments: "
        "the peer script's planar .distance is then much faster)",
    )
    parser.add_argument(
        "--baseline-limit-s",
        type=float,
        default=240,
        help="kernel: run the baseline on all points "
        "only if a 50,000-point trial predicts at most this many seconds",
    )
    args = parser.parse_args(argv)
    if args.kernel:
        kernel(args)
    else:
        whole_process(args)


if __name__ == "__main__":
    main()
