"""Benchmark: ``flankmap distances`` in memory against the dask engine, with and without a cluster.

Run from the repository root (needs ``pip install 'flankmap[dask]'``)::

    python benchmarks/bench_dask.py                      # 2,000,000 points in 8 parts
    python benchmarks/bench_dask.py --rows 4000000 --parts 16 --workers 2

Writes random points (``id,lat,lon``; lon 12..32, lat 43..61, fixed seed) as one plain Parquet
file and as ``--parts`` plain Parquet parts of a folder, then runs alternately (one warm-up
round, then A B C A B C ..., ``--repeats`` times), each as a child process:

- memory: ``python -m geo distances --points points.parquet -o out.parquet`` (the streaming
  in-memory path, which uses every core for the kernel);
- dask: ``python -m geo distances --engine dask --points parts/ -o out.parquet`` (no cluster:
  the parts one after another in the process);
- cluster: the same with ``--scheduler ADDRESS``, a ``LocalCluster`` of ``--workers`` worker
  processes (one thread each) that this script starts once and keeps for all runs.

Prints each one's median wall seconds (min-max), the ratio to the in-memory run pair by pair,
the child's CPU seconds (for the cluster run the workers' CPU is not in it) and peak memory (the
child's own maximum RSS; the workers' memory is not in it either), and checks that the three
outputs hold the same distances for the same ids. The machine's CPU count and load are printed:
a cluster pays for moving the parts and results between processes, which only more cores (or
machines) than the in-memory path already uses can win back.

A report, not a test: nothing fails on a slow or shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from _bench import alternate, machine, median, python_module, spread, write_points_csv


def write_inputs(folder: Path, rows: int, parts: int) -> tuple[Path, Path]:
    """One plain Parquet file and a folder of ``parts`` plain Parquet parts, the same rows."""
    csv = write_points_csv(folder / "points.csv", rows, header="id,lat,lon")
    table = pacsv.read_csv(csv)
    whole = folder / "points.parquet"
    pq.write_table(table, whole)
    split = folder / "parts"
    split.mkdir()
    step = -(-rows // parts)
    for index, start in enumerate(range(0, rows, step)):
        pq.write_table(table.slice(start, step), split / f"part-{index:03d}.parquet")
    csv.unlink()
    return whole, split


def distances_by_id(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The ids and distances of an output, sorted by id."""
    table = pq.read_table(path, columns=["id", "distance_m"])
    ids = table.column("id").to_numpy(zero_copy_only=False)
    order = np.argsort(ids, kind="stable")
    return ids[order], table.column("distance_m").to_numpy()[order]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="points")
    parser.add_argument("--parts", type=int, default=8, help="Parquet parts of the dask input")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the cluster")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args(argv)

    from distributed import LocalCluster

    with tempfile.TemporaryDirectory(prefix="flankmap-bench-dask-") as tmp:
        folder = Path(tmp)
        whole, split = write_inputs(folder, args.rows, args.parts)
        outputs = {name: folder / f"out-{name}.parquet" for name in ("memory", "dask", "cluster")}
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address
            commands = {
                "memory": python_module(
                    "geo", "distances", "--points", str(whole), "-o", str(outputs["memory"])
                ),
                "dask": python_module(
                    "geo",
                    "distances",
                    "--engine",
                    "dask",
                    "--points",
                    str(split),
                    "-o",
                    str(outputs["dask"]),
                ),
                "cluster": python_module(
                    "geo",
                    "distances",
                    "--engine",
                    "dask",
                    "--scheduler",
                    address,
                    "--points",
                    str(split),
                    "-o",
                    str(outputs["cluster"]),
                ),
            }
            start = machine()
            runs = alternate(commands, args.repeats)
            end = machine()
        ids, reference = distances_by_id(outputs["memory"])
        for name in ("dask", "cluster"):
            other_ids, other = distances_by_id(outputs[name])
            if not np.array_equal(ids, other_ids):
                raise SystemExit(f"{name}: the output holds other ids than the in-memory run")
            gap = float(np.abs(other - reference).max())
            print(f"{name} vs memory: {len(ids):,} ids, max |diff| {gap} m")

    print(f"start: {start}\nend:   {end}\n")
    print(
        f"{args.rows:,} points, {args.parts} parts, cluster of {args.workers} worker processes "
        f"(1 thread each); median (min-max) of {args.repeats} alternating runs after 1 warm-up; "
        "ratio = run / memory pair by pair (above 1: slower than in memory); CPU and peak are "
        "the command's own process (a cluster's workers not counted)\n"
    )
    print("| engine | wall s | ratio to memory | CPU s | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    memory = runs["memory"]
    for name, these in runs.items():
        ratio = [x.wall_s / y.wall_s for x, y in zip(these, memory, strict=True)]
        print(
            f"| {name} | {spread([r.wall_s for r in these])} | {spread(ratio)} "
            f"| {median([r.cpu_s for r in these]):.2f} "
            f"| {median([r.peak_mib for r in these]):,.0f} |"
        )


if __name__ == "__main__":
    main()
