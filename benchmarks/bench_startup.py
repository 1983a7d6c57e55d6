"""Benchmark: how long the ``flankmap`` command takes to start, command by command.

Run from the repository root::

    .venv/bin/python benchmarks/bench_startup.py            # 9 runs of each command
    .venv/bin/python benchmarks/bench_startup.py --runs 21

Each command runs in a fresh ``python -m geo`` process (so every import is paid, as by a user),
the commands taking turns (A B C A B C ...) so that a busy moment of a shared machine hits them
alike. Prints the median wall time of each, with the fastest and slowest run, next to
``python -c pass`` as the floor of any Python process, and the targets: ``--version`` and
``--help`` under 0.15 s, ``layers`` under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

#: (label, arguments after ``python``, target in seconds or None).
COMMANDS = (
    ("python -c pass", ["-c", "pass"], None),
    ("python -c 'import geo'", ["-c", "import geo"], None),
    ("flankmap --version", ["-m", "geo", "--version"], 0.15),
    ("flankmap --help", ["-m", "geo", "--help"], 0.15),
    ("flankmap layers", ["-m", "geo", "layers"], 0.5),
    ("flankmap layers nato_efp", ["-m", "geo", "layers", "nato_efp"], None),
)


def run_once(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (default 9)")
    options = parser.parse_args()
    for _, args, _ in COMMANDS:  # warm the file cache once
        run_once(args)
    times: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for _ in range(options.runs):
        for label, args, _ in COMMANDS:
            times[label].append(run_once(args))
    after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"start-up, {options.runs} runs each, {os.cpu_count()} CPUs, load {load:.2f}->{after:.2f}"
    )
    print(f"{'command':28} {'median s':>9} {'min-max s':>13}  target")
    for label, _, target in COMMANDS:
        values = times[label]
        goal = "" if target is None else f"< {target:.2f} s"
        if target is not None:
            goal += "  ok" if statistics.median(values) < target else "  MISSED"
        print(
            f"{label:28} {statistics.median(values):9.3f} "
            f"{min(values):6.3f}-{max(values):.3f}  {goal}"
        )


if __name__ == "__main__":
    main()
