"""The flank analysis of sites: the opposing side, the host country's border, sites in range.

:func:`site_analysis` measures each site of a layer to the territory of the other side (the
NATO members for a site operated by Russia or Belarus, Russia + Belarus for every other site)
and to the nearest land border of its host country; :func:`within_range` finds the pairs of
sites of two frames within a geodesic range. The sides are named as in :mod:`geo.borders`
(:data:`geo.borders.EAST`, :data:`geo.borders.WEST`).
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo import borders
from geo._errors import InputError
from geo.dates import parse_as_of
from geo.distance import boundary_lines, to_territory, with_uncertainty
from geo.geodesic import GEOD, RESULT_COLUMNS, ecef, lonlat_points, nearest

__all__ = ["EASTERN_OPERATORS", "site_analysis", "within_range"]


def _ids(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame["id"] if "id" in frame.columns else frame.index, dtype=object)


def within_range(
    sites_a: gpd.GeoDataFrame, sites_b: gpd.GeoDataFrame, radius_m: float
) -> pd.DataFrame:
    """Return every pair of sites of two frames that lie within a geodesic range.

    Parameters
    ----------
    sites_a, sites_b : geopandas.GeoDataFrame
        Sites (polygons count by their representative point); ``id`` column, else the index,
        names them.
    radius_m : float
        The range, metres (geodesic).

    Returns
    -------
    pairs : pandas.DataFrame
        ``id_a``, ``id_b``, ``distance_m`` for each pair at most ``radius_m`` apart, sorted by
        ``id_a`` then ``distance_m``.

    Raises
    ------
    InputError
        If the radius is not a non-negative number.

    Examples
    --------
    >>> a = gpd.GeoDataFrame({"id": ["x"]}, geometry=gpd.points_from_xy([21.0], [52.0]), crs=4326)
    >>> b = gpd.GeoDataFrame({"id": ["y", "z"]},
    ...                      geometry=gpd.points_from_xy([21.0, 30.0], [52.5, 52.0]), crs=4326)
    >>> within_range(a, b, 100_000)[["id_a", "id_b"]].values.tolist()
    [['x', 'y']]
    """
    if not (math.isfinite(radius_m) and radius_m >= 0):
        raise InputError(f"radius_m {radius_m!r} must be a non-negative number of metres")
    columns = ["id_a", "id_b", "distance_m"]
    if not len(sites_a) or not len(sites_b):
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c == "distance_m" else object) for c in columns}
        )
    lon_a, lat_a = lonlat_points(sites_a)
    lon_b, lat_b = lonlat_points(sites_b)
    tree_a, tree_b = cKDTree(ecef(lon_a, lat_a)), cKDTree(ecef(lon_b, lat_b))
    # The chord never exceeds the geodesic: the chord ball holds every pair in range.
    pairs = tree_a.sparse_distance_matrix(tree_b, radius_m, output_type="ndarray")
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    dist = (
        np.asarray(GEOD.inv(lon_a[i], lat_a[i], lon_b[j], lat_b[j])[2]) if len(i) else np.empty(0)
    )
    keep = dist <= radius_m
    out = pd.DataFrame(
        {"id_a": _ids(sites_a)[i[keep]], "id_b": _ids(sites_b)[j[keep]], "distance_m": dist[keep]}
    )
    order = np.lexsort((out["distance_m"].to_numpy(), out["id_a"].astype(str).to_numpy()))
    return out.iloc[order].reset_index(drop=True)


#: Operators whose sites are measured to NATO territory; every other site to Russia + Belarus.
EASTERN_OPERATORS = borders.EAST_STATES


def site_analysis(
    frame: gpd.GeoDataFrame, *, as_of: str | dt.date | None = None
) -> gpd.GeoDataFrame:
    """Measure each site's distance to the opposing side and to its host country's border.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Sites as from :func:`geo.layers.load_layers` (``operator``, ``country``,
        ``coord_uncertainty_m``); polygons count by their representative point.
    as_of : str, datetime.date or None
        The date for NATO membership; default today.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        ``frame`` with ``side`` (``RUS/BLR`` for sites operated by Russia or Belarus, else
        ``NATO``); ``opposing_distance_m``, ``opposing_lat``, ``opposing_lon``,
        ``opposing_border``, ``opposing_bearing_deg``, ``opposing_distance_min_m``,
        ``opposing_distance_max_m`` (to the NATO members' territory on ``as_of`` for RUS/BLR
        sites, to Russia + Belarus territory for the others; 0 inside it); and
        ``host_border_distance_m``, ``host_border`` (to the nearest land border of the host
        country, e.g. ``LTU-POL``; NaN and ``""`` for a country without one).

    Raises
    ------
    InputError
        If a column is missing or a value is invalid.

    Examples
    --------
    >>> sites = gpd.GeoDataFrame(
    ...     {"operator": ["RUS"], "country": ["BLR"], "coord_uncertainty_m": [1000]},
    ...     geometry=gpd.points_from_xy([26.5], [52.9]), crs=4326)
    >>> out = site_analysis(sites, as_of="2024-01-01")
    >>> out.loc[0, "side"], out.loc[0, "host_border"]
    ('RUS/BLR', 'BLR-UKR')
    """
    missing = [c for c in ("operator", "country") if c not in frame.columns]
    if missing:
        raise InputError(f"site frame lacks column(s) {', '.join(missing)}")
    day = parse_as_of(as_of)
    n = len(frame)
    lon, lat = lonlat_points(frame) if n else (np.empty(0), np.empty(0))
    eastern = frame["operator"].astype(str).isin(borders.EAST_OPERATORS).to_numpy()
    opposing = pd.DataFrame({c: np.full(n, np.nan) for c in RESULT_COLUMNS}, index=pd.RangeIndex(n))
    opposing["border"] = ""
    for mask, group in ((eastern, "NATO"), (~eastern, ",".join(EASTERN_OPERATORS))):
        rows = np.flatnonzero(mask)
        if len(rows):
            found = to_territory(lon[rows], lat[rows], group, as_of=day)
            found.index = rows
            opposing.loc[rows, RESULT_COLUMNS] = found[RESULT_COLUMNS]
    result = pd.DataFrame({"side": np.where(eastern, borders.EAST, borders.WEST)})
    for name in RESULT_COLUMNS:
        result[f"opposing_{name}"] = opposing[name].to_numpy()
    result = result.rename(
        columns={"opposing_nearest_lat": "opposing_lat", "opposing_nearest_lon": "opposing_lon"}
    )
    if "coord_uncertainty_m" not in frame.columns:
        frame = frame.assign(coord_uncertainty_m=0.0)
    with_uncertainty(result, frame.reset_index(drop=True), prefix="opposing_")
    host_distance, host_border = np.full(n, np.nan), np.full(n, "", dtype=object)
    countries = frame["country"].astype(str).to_numpy()
    known = borders.country_codes()
    for code in sorted(set(countries)):
        rows = np.flatnonzero(countries == code)
        if code not in known:
            raise InputError(f"host country {code!r} is not a known ISO alpha-3 code")
        try:
            lines = boundary_lines((code,), coast=False)
        except InputError:  # an island state: no land border
            continue
        found = nearest(lines, lon[rows], lat[rows])
        host_distance[rows] = found["distance_m"].to_numpy()
        host_border[rows] = found["border"].to_numpy()
    result["host_border_distance_m"] = host_distance
    result["host_border"] = pd.array(host_border.astype(str), dtype=str)
    result["opposing_border"] = result["opposing_border"].astype(str)
    out = frame.reset_index(drop=True).drop(
        columns=[c for c in result.columns if c in frame.columns]
    )
    out = pd.concat([out.drop(columns=out.geometry.name), result, out[[out.geometry.name]]], axis=1)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
