"""Benchmark the interactive map: whole-process build time, peak memory and bytes per point.

Run from the repository root::

    python benchmarks/bench_map.py                           # default map and +100k points
    python benchmarks/bench_map.py --sizes 100000,1000000

Cases: the default map (the shipped layers, today), and the default map plus a user layer of
random points (the CSV of ``bench_distance.py``: id, name, lat, lon; lon 12..32, lat 43..61,
fixed seed), added with ``--add``. Each case
runs ``python -m geo map -o out.html [--add P.csv]`` as a child process; up to
``--explore-max`` points it alternates (one warm-up round, then A B A B ...) with
``benchmarks/peer_explore.py``, the usual ``GeoDataFrame.explore()`` script on the same layers
and points. Prints the median wall seconds (min-max), the median peak resident memory of the
process, the file's bytes and its bytes per added point (over the default map) of each, the
pair-by-pair ratio, and the goals of issue 15; the CPU seconds too (steadier than the wall time
when other jobs load the machine). explore() needs mapclassify (not a dependency
of flankmap): without it only flankmap is timed. Where Debian's Chromium is installed, each
flankmap page is also opened offline to time the first draw and a pan (``--no-browser``: not).

It is a report, not a test: nothing fails on a slow machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import alternate, machine, median, python_module, spread, write_points_csv

HERE = Path(__file__).resolve().parent
BROWSER_DIR = Path(__file__).resolve().parents[1] / "tests" / "browser"
LIMIT_BYTES = 1_500_000


def browse(path: Path) -> str:
    """Open the map offline in Chromium; time the first draw and a pan, count problems."""
    sys.path.insert(0, str(BROWSER_DIR))
    import offline_browser

    if not offline_browser.available():
        return "browser: no Chromium"
    with offline_browser.browser() as chromium:
        start = time.perf_counter()
        page = offline_browser.open_offline(chromium, path)
        ready = time.perf_counter() - start
        pan_ms = page.page.evaluate(
            """() => new Promise(done => {
                const map = flankmap.maps[0].map, t0 = performance.now();
                map.once('moveend', () => requestAnimationFrame(() => done(performance.now() - t0)));
                map.panBy([200, 120], {animate: false});
            })"""
        )
        problems = len(page.requests) + len(page.errors)
        page.page.context.close()
    return f"open+draw {ready:5.2f} s  pan {pan_ms:6.0f} ms  requests+errors {problems}"


def has_mapclassify() -> bool:
    """Whether a child Python of this environment can import mapclassify (explore() needs it)."""
    command = [sys.executable, "-c", "import mapclassify"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="--add point counts, e.g. 100000,1000000")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    parser.add_argument(
        "--explore-max",
        type=int,
        default=100_000,
        help="run the explore() script up to this many points (its 1M build takes about a minute)",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timings")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    explore = has_mapclassify()
    if not explore:
        print("explore(): skipped, mapclassify is not installed (explore() needs it)")
    with tempfile.TemporaryDirectory(prefix="flankmap-bench-") as tmp:
        folder = Path(tmp)
        print(f"start: {machine()}", flush=True)
        cases: list[tuple[str, int, list[str]]] = [("default map", 0, [])]
        for n in sizes:
            cases.append((f"+{n:,} points", n, [str(write_points_csv(folder / f"p{n}.csv", n))]))
        rows, default_size = [], {}
        for name, n, add in cases:
            ours, theirs = folder / f"flankmap_{n}.html", folder / f"explore_{n}.html"
            commands = {
                "flankmap": python_module(
                    "geo", "map", "-o", str(ours), *(a for p in add for a in ("--add", p))
                ),
            }
            if explore and n <= args.explore_max:
                commands["explore"] = [sys.executable, str(HERE / "peer_explore.py"), str(theirs)]
                commands["explore"] += add
            runs = alternate(commands, args.repeats)
            sizes_b = {"flankmap": ours.stat().st_size}
            if "explore" in runs:
                sizes_b["explore"] = theirs.stat().st_size
            if not n:
                default_size = sizes_b
            cells = [name]
            for tool in ("flankmap", "explore"):
                if tool not in runs:
                    cells += ["-", "-", "-", "-", "-"]
                    continue
                per_point = (sizes_b[tool] - default_size[tool]) / n if n else float("nan")
                cells += [
                    spread([r.wall_s for r in runs[tool]]),
                    spread([r.cpu_s for r in runs[tool]]),
                    f"{median([r.peak_mib for r in runs[tool]]):,.0f}",
                    f"{sizes_b[tool]:,}",
                    "-" if not n else f"{per_point:.1f}",
                ]
            if "explore" in runs:
                pairs = zip(runs["flankmap"], runs["explore"], strict=True)
                cells.append(spread([a.wall_s / b.wall_s for a, b in pairs]))
            else:
                cells.append("-")
            if not args.no_browser:
                cells.append(browse(ours))
            rows.append("| " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
            if not n and sizes_b["flankmap"] >= LIMIT_BYTES:
                print(f"  default map OVER {LIMIT_BYTES:,} bytes")
        print(f"end: {machine()}")
        print(
            "goals: 1M points built in under 8 s, under 1 GiB peak, about 15 B/point; "
            "100k points no slower than explore() and under 2,500,000 bytes"
        )
        print()
        print(
            f"`flankmap map -o out.html [--add P.csv]` vs the explore() script, whole processes, "
            f"median (min-max) of {args.repeats} alternating runs after 1 warm-up each; "
            "CPU s = user + system seconds of the process (on a shared machine, steadier "
            "than the wall time); "
            "ratio = flankmap / explore pair by pair; peak = median max RSS of the process; "
            "B/point = (bytes - default map's bytes) / points; explore()'s page also loads "
            "Leaflet and plugins from CDNs, not counted"
        )
        print()
        head = "| case | flankmap s | CPU s | peak MiB | bytes | B/point | explore() s | CPU s "
        head += "| peak MiB | bytes | B/point | ratio |"
        head += "" if args.no_browser else " flankmap page in Chromium |"
        print(head)
        print("|---" + "|---:" * 11 + "|" + ("" if args.no_browser else "---|"))
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
