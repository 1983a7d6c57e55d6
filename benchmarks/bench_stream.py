"""Benchmark: ``flankmap distances`` streaming a large CSV (default 10,000,000 rows).

Run from the repository root::

    .venv/bin/python benchmarks/bench_stream.py                # 10,000,000 rows
    .venv/bin/python benchmarks/bench_stream.py --rows 1000000

Writes a CSV of random points (``id,lat,lon``; lon 12..32, lat 43..61, fixed seed) in a
temporary folder, then runs ``flankmap distances --points big.csv -o out.csv`` in a subprocess
and prints its wall time, rows per second, CPU time and peak memory (the child's maximum
resident set size), with the machine's load average before and after (the machine may be
shared). The output is checked to hold every row, in input order.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def write_csv(
    path: Path, rows: int, *, ids: bool = True, seed: int = 20261125, block: int = 1_000_000
) -> None:
    rng = np.random.default_rng(seed)
    with path.open("wb") as handle:
        handle.write(b"id,lat,lon\n" if ids else b"name,lat,lon\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            ids = pc.binary_join_element_wise(
                "p", pc.cast(pa.array(np.arange(start, start + n)), pa.string()), ""
            )
            lat = pc.cast(pa.array(np.round(rng.uniform(43, 61, n), 5)), pa.string())
            lon = pc.cast(pa.array(np.round(rng.uniform(12, 32, n), 5)), pa.string())
            lines = pc.binary_join_element_wise(ids, lat, lon, ",")
            handle.write(("\n".join(lines.to_pylist()) + "\n").encode())


def count_rows(path: Path) -> tuple[int, str]:
    """Data rows of the output and the id of its last row."""
    n, last = 0, b""
    with path.open("rb") as handle:
        next(handle)
        for line in handle:
            n += 1
            last = line
    return n, last.split(b",", 1)[0].decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the CSV")
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="passed to flankmap")
    parser.add_argument(
        "--no-id",
        action="store_true",
        help="call the first column name, not id (no check for repeated ids, 16 bytes a row)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="flankmap-bench-") as folder:
        big, out = Path(folder) / "big.csv", Path(folder) / "out.csv"
        start = time.perf_counter()
        write_csv(big, args.rows, ids=not args.no_id)
        size_mb = big.stat().st_size / 1e6
        print(
            f"wrote {args.rows:,} rows ({size_mb:,.0f} MB, {'no ' if args.no_id else ''}id column)"
            f" in {time.perf_counter() - start:.0f} s",
            flush=True,
        )

        flankmap = Path(sys.executable).with_name("flankmap")
        command = [str(flankmap), "distances", "--points", str(big), "-o", str(out)]
        command += ["--chunk-rows", str(args.chunk_rows)]
        load_before = os.getloadavg()
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_after = os.getloadavg()
        rows, last = count_rows(out)
        assert rows == args.rows, (rows, args.rows)
        assert last == f"p{args.rows - 1}", last
        print(
            f"flankmap distances: {wall:,.1f} s wall, {args.rows / wall:,.0f} rows/s, "
            f"CPU {usage.ru_utime + usage.ru_stime:,.1f} s, peak RSS {usage.ru_maxrss / 1024:,.0f} MB, "
            f"output {out.stat().st_size / 1e6:,.0f} MB ({rows:,} rows, input order)"
        )
        print(
            f"load average (1 min) before {load_before[0]:.1f}, after {load_after[0]:.1f}; "
            f"{os.cpu_count()} CPUs"
        )


if __name__ == "__main__":
    main()
