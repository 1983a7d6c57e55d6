"""Benchmark: writing the shipped layers and random points in every export format.

Run from the repository root::

    .venv/bin/python benchmarks/bench_exports.py                # 100,000 points
    .venv/bin/python benchmarks/bench_exports.py --rows 1000000

Writes every shipped layer, then ``--rows`` random points (``id``, ``distance_m``; lon 20..28,
lat 50..58, fixed seed) with :func:`geo.writers.write_points` to each format in a temporary
folder, and prints the wall time and the file size of each, with the machine's load average
before and after (the machine may be shared). Each file is read back (pyogrio, or the KML's
placemarks counted) to check that it holds every row.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo import layers, writers


def _rows_in(path: Path) -> int:
    if path.suffix == ".kmz":
        with zipfile.ZipFile(path) as archive:
            return archive.read("doc.kml").count(b"<Placemark>")
    if path.suffix == ".kml":
        return path.read_bytes().count(b"<Placemark>")
    if path.suffix == ".parquet":
        return len(gpd.read_parquet(path))
    if path.suffix == ".csv":
        return sum(1 for _ in path.open("rb")) - 1
    return len(pyogrio.read_dataframe(path, read_geometry=False))


def _run(frame: gpd.GeoDataFrame, folder: Path, label: str) -> None:
    for name in writers.FORMATS:
        out = folder / f"{label}.{name}"
        start = time.perf_counter()
        writers.write_points(frame, out)
        seconds = time.perf_counter() - start
        assert _rows_in(out) == len(frame), out
        rate = len(frame) / seconds
        print(
            f"{label:>7} {name:<8} {seconds:8.3f} s {rate:>12,.0f} rows/s "
            f"{out.stat().st_size:>14,} bytes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="random points (100,000)")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    rng = np.random.default_rng(20261203)
    points = gpd.GeoDataFrame(
        {
            "id": [f"p{i}" for i in range(args.rows)],
            "distance_m": rng.random(args.rows) * 1e5,
        },
        geometry=shapely.points(rng.uniform(20, 28, args.rows), rng.uniform(50, 58, args.rows)),
        crs="EPSG:4326",
    )
    with tempfile.TemporaryDirectory() as folder:
        _run(layers.load_layers(), Path(folder), "layers")
        _run(points, Path(folder), "points")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
