"""Benchmark the report page and the static figure: whole-process wall and CPU seconds, peak memory.

Run from the repository root::

    python benchmarks/bench_report.py                       # report, figure: 5 runs each
    python benchmarks/bench_report.py --repeats 7 --compare
    python benchmarks/bench_report.py --baseline OTHER_CHECKOUT
    python benchmarks/bench_report.py --only figure          # one case

Cases: ``python -m geo report -o r.html`` (the interactive page: map, print-only figure, table)
and ``python -m geo figure -o f.png`` (the A4 map figure at 200 dpi), each a child process; with
``--compare`` also ``report --compare 2021-10-20 2025-01-01``; ``--only`` keeps the cases named
(``report``, ``figure``, ``report --compare``). The cases alternate (one warm-up
round, then A B A B ...) so that a shared machine's drift spreads over all of them alike.

``--baseline DIR`` runs every case also with ``PYTHONPATH=DIR`` (a checkout of another commit,
e.g. from ``git worktree add``), alternating with this checkout, prints the ratio pair by pair
and checks that both wrote the same bytes. The load average is printed before and after: on a
busy machine wall times grow while CPU times grow less, so both are given.

It is a report, not a test: nothing fails on a slow machine. Goals of issue 15: report and
figure under 4 s each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _bench import Run, alternate, machine, spread

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 4.0


def uptime() -> str:
    """The output of ``uptime`` (the load of the machine), or the load averages without it."""
    try:
        done = subprocess.run(["uptime"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return machine()
    return done.stdout.strip()


def command(tree: Path, *args: str) -> list[str]:
    """``python -m geo args`` importing the package from ``tree``."""
    return ["env", f"PYTHONPATH={tree}", sys.executable, "-m", "geo", *args]


def cases(folder: Path, *, compare: bool, as_of: str | None) -> dict[str, list[str]]:
    """The commands of each case, as arguments after ``python -m geo``; output in ``folder``."""
    day = ["--as-of", as_of] if as_of else []
    chosen = {
        "report": ["report", "-o", str(folder / "report.html"), *day],
        "figure": ["figure", "-o", str(folder / "figure.png"), *day],
    }
    if compare:
        chosen["report --compare"] = [
            "report",
            "--compare",
            "2021-10-20",
            "2025-01-01",
            "-o",
            str(folder / "compare.html"),
        ]
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs of each case")
    parser.add_argument("--compare", action="store_true", help="also a two-date report")
    parser.add_argument("--as-of", help="the date of the report and figure; default today")
    parser.add_argument("--baseline", type=Path, help="another checkout to alternate with")
    parser.add_argument(
        "--only", action="append", metavar="CASE", help="run only this case (repeatable)"
    )
    args = parser.parse_args(argv)
    trees = {"this": ROOT}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    with tempfile.TemporaryDirectory(prefix="flankmap-bench-") as tmp:
        commands: dict[str, list[str]] = {}
        outputs: dict[str, list[Path]] = {}
        for tree_name, tree in trees.items():
            folder = Path(tmp) / tree_name
            folder.mkdir()
            chosen = cases(
                folder,
                compare=args.compare or "report --compare" in (args.only or []),
                as_of=args.as_of,
            )
            unknown = set(args.only or []) - set(chosen)
            if unknown:
                parser.error(
                    f"unknown case {sorted(unknown)[0]!r}: give one of {', '.join(chosen)}"
                )
            for case, geo_args in chosen.items():
                if args.only and case not in args.only:
                    continue
                commands[f"{case} [{tree_name}]"] = command(tree, *geo_args)
                outputs.setdefault(case, []).append(Path(geo_args[geo_args.index("-o") + 1]))
        # From an empty folder: ``python -m`` puts the working folder first on the import
        # path, which would shadow PYTHONPATH when run from a checkout.
        os.chdir(tmp)
        print(f"start: {uptime()}", flush=True)
        runs = alternate(commands, args.repeats, env=dict(os.environ))
        print(f"end:   {uptime()}", flush=True)
        print()
        print(
            f"whole processes, median (min-max) of {args.repeats} alternating runs after one "
            f"warm-up round; {os.cpu_count()} CPUs; goal: under {GOAL_S:g} s wall"
        )
        print()
        print("| case | tree | wall s | CPU s | peak MiB | bytes |")
        print("|---|---|---:|---:|---:|---:|")
        for name, done in runs.items():
            case, tree_name = name.rsplit(" [", 1)
            out = outputs[case][list(trees).index(tree_name.rstrip("]"))]
            print(
                f"| {case} | {tree_name.rstrip(']')} | {spread([r.wall_s for r in done])} | "
                f"{spread([r.cpu_s for r in done])} | "
                f"{sorted(r.peak_mib for r in done)[len(done) // 2]:,.0f} | "
                f"{out.stat().st_size:,} |"
            )
        if len(trees) == 2:
            print()
            for case, paths in outputs.items():
                mine, theirs = runs[f"{case} [this]"], runs[f"{case} [baseline]"]
                ratio = _ratios(mine, theirs)
                same = paths[0].read_bytes() == paths[1].read_bytes()
                print(
                    f"{case}: this / baseline wall {spread(ratio)} pair by pair; "
                    f"output bytes {'identical' if same else 'DIFFER'}"
                )
    return 0


def _ratios(mine: list[Run], theirs: list[Run]) -> list[float]:
    return [a.wall_s / b.wall_s for a, b in zip(mine, theirs, strict=True)]


if __name__ == "__main__":
    sys.exit(main())
