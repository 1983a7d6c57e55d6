"""Benchmark the interactive map: build time and file size, and how the page copes in Chromium.

Cases: the default map (the shipped layers, today), and the default map plus a user layer of
10,000 and of 100,000 random points (a CSV with lat/lon, added as with ``flankmap map --add``).
Point layers that large are drawn on one canvas. Where Debian's Chromium is installed, each
file is also opened offline to time the first draw and a pan.

Usage: ``python benchmarks/bench_map.py [--sizes 10000,100000] [--no-browser]``. Prints one
line per case. It is a report, not a test: nothing fails on a slow machine.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from geo import maps

BROWSER_DIR = Path(__file__).resolve().parents[1] / "tests" / "browser"
LIMIT_BYTES = 1_500_000


def write_points(path: Path, count: int, *, seed: int = 1) -> Path:
    """Write ``count`` random points over the eastern flank as a CSV.

    The columns are name, lat, lon, operator and country (``USA`` in ``POL`` for all), so that
    the map measures each point's distance to the frontier as it does for the layers.
    """
    rng = np.random.default_rng(seed)
    lat = rng.uniform(44.0, 60.0, count)
    lon = rng.uniform(14.0, 40.0, count)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "lat", "lon", "operator", "country"])
        for i in range(count):
            writer.writerow([f"Point {i + 1}", f"{lat[i]:.5f}", f"{lon[i]:.5f}", "USA", "POL"])
    return path


def build(out: Path, add: list[Path]) -> tuple[float, float, int]:
    """Build and write one map; return build seconds, write seconds and bytes."""
    start = time.perf_counter()
    fmap = maps.build_map(add=add)
    built = time.perf_counter()
    maps.save_map(fmap, out)
    written = time.perf_counter()
    return built - start, written - built, out.stat().st_size


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="user point counts")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timings")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        maps.build_map()  # warm the caches (borders, simplified basemap) outside the timings
        cases = [("default map", [])]
        for n in sizes:
            cases.append((f"+{n:,} points", [write_points(folder / f"points_{n}.csv", n)]))
        print(f"{'case':<18} {'build':>8} {'write':>8} {'size':>10}")
        for name, add in cases:
            out = folder / f"{name.replace(' ', '_').replace(',', '')}.html"
            build_s, write_s, size = build(out, add)
            note = ""
            if not add:
                note = "  (under 1.5 MB)" if size < LIMIT_BYTES else "  (OVER 1.5 MB)"
            line = f"{name:<18} {build_s:7.2f}s {write_s:7.2f}s {size / 1e6:8.2f} MB{note}"
            if not args.no_browser:
                line += "  " + browse(out)
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
