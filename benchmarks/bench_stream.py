"""Benchmark: ``flankmap distances`` streaming a large CSV (default 10,000,000 rows).

Run from the repository root::

    python benchmarks/bench_stream.py                # 10,000,000 rows
    python benchmarks/bench_stream.py --rows 1000000

Writes a CSV of random points (``id,lat,lon``; lon 12..32, lat 43..61, fixed seed) in a
temporary folder, then runs ``python -m geo distances --points big.csv -o out.csv`` in a
subprocess and prints its wall time, rows per second, CPU time and peak memory (the child's own
maximum resident set size), against the goals (at least 250,000 rows/s on 10M rows, peak under
1 GiB), with the machine's load average before and after (the machine may be shared). The
output is checked to hold every row, in input order.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _bench import machine, python_module, run, write_points_csv

#: Goals of the streaming path (issue 15): rows per second on 10M rows, and the peak memory.
TARGET_ROWS_S = 250_000
TARGET_PEAK_MIB = 1024


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
        write_points_csv(big, args.rows, header="name,lat,lon" if args.no_id else "id,lat,lon")
        size_mb = big.stat().st_size / 1e6
        print(
            f"wrote {args.rows:,} rows ({size_mb:,.0f} MB, {'no ' if args.no_id else ''}id column)"
            f" in {time.perf_counter() - start:.0f} s",
            flush=True,
        )

        command = python_module("geo", "distances", "--points", str(big), "-o", str(out))
        command += ["--chunk-rows", str(args.chunk_rows)]
        load_before = machine()
        child = run(command)
        load_after = machine()
        rows, last = count_rows(out)
        assert rows == args.rows, (rows, args.rows)
        assert last == (f"site {args.rows - 1}" if args.no_id else f"p{args.rows - 1}"), last
        speed = args.rows / child.wall_s
        print(
            f"flankmap distances: {child.wall_s:,.1f} s wall, {speed:,.0f} rows/s, "
            f"CPU {child.cpu_s:,.1f} s ({args.rows / child.cpu_s:,.0f} rows per CPU second, "
            f"less sensitive to other jobs), peak RSS {child.peak_mib:,.0f} MiB, "
            f"output {out.stat().st_size / 1e6:,.0f} MB ({rows:,} rows, input order)"
        )
        met = "met" if speed >= TARGET_ROWS_S else "NOT met"
        print(f"goal >= {TARGET_ROWS_S:,} rows/s: {met} ({speed / TARGET_ROWS_S:.2f} of it)")
        met = "met" if child.peak_mib < TARGET_PEAK_MIB else "NOT met"
        print(f"goal peak < {TARGET_PEAK_MIB:,} MiB: {met}")
        print(f"before: {load_before}; after: {load_after}")


if __name__ == "__main__":
    main()
