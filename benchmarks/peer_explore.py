"""The usual geopandas way to put the layers and a point file on a web map: ``explore()``.

Usage: ``python benchmarks/peer_explore.py OUT.html [POINTS.csv]``

Reads every ``layers/*.geojson`` of the repository with :func:`geopandas.read_file` (imports
nothing of flankmap), draws them with ``GeoDataFrame.explore()``, adds the points of a CSV with
``lat``/``lon`` columns (``points_from_xy``) with ``explore(m=...)`` and saves the folium map.
``bench_map.py`` times it against ``flankmap map --add``. The page loads Leaflet and its plugins
from CDNs, so it does not work offline; only its build time, memory and size are compared.
``explore()`` needs mapclassify, not a flankmap dependency: without it this script exits 3.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

LAYERS = Path(__file__).resolve().parents[1] / "layers"


def main(out: str, points: str | None = None) -> int:
    try:
        import mapclassify  # noqa: F401  (explore() imports it; fail early and clearly)
    except ImportError:
        print("peer_explore: explore() needs mapclassify, which is not installed", file=sys.stderr)
        return 3
    frames = [gpd.read_file(path) for path in sorted(LAYERS.glob("*.geojson"))]
    layers = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    fmap = layers.explore()
    if points:
        frame = pd.read_csv(points)
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
        gpd.GeoDataFrame(frame, geometry=geometry).explore(m=fmap)
    fmap.save(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
