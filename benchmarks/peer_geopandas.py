"""The usual geopandas way to get distances to a border: reproject to EPSG:3035, ``.distance``.

Usage: ``python benchmarks/peer_geopandas.py POINTS FRONTIER.parquet OUT``

``POINTS`` is a CSV with ``lat``/``lon`` columns (read with pandas, points made with
``points_from_xy``) or a GeoParquet file; ``FRONTIER.parquet`` holds the frontier lines in
WGS 84 (``bench_distance.py`` writes it from :func:`geo.borders.frontier`, so this script reads
the same border data as flankmap but imports nothing of flankmap). Points and frontier go to
the LAEA Europe projection (EPSG:3035) and ``GeoSeries.distance`` measures the planar distance
in metres, written as a ``distance_m`` column next to the input columns (CSV without geometry, or
GeoParquet). This is what ``bench_distance.py`` times flankmap against: quick to write, but not
exact (errors of kilometres far from the projection's centre).
"""

from __future__ import annotations

import sys

import geopandas as gpd
import pandas as pd


def main(points: str, frontier: str, out: str) -> None:
    if points.endswith(".csv"):
        frame = pd.read_csv(points)
        geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
        gdf = gpd.GeoDataFrame(frame, geometry=geometry)
    else:
        gdf = gpd.read_parquet(points)
    line = gpd.read_parquet(frontier).to_crs(3035).union_all()
    gdf["distance_m"] = gdf.geometry.to_crs(3035).distance(line)
    if out.endswith(".csv"):
        pd.DataFrame(gdf.drop(columns="geometry")).to_csv(out, index=False)
    else:
        gdf.to_parquet(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
