"""Geodesic distance to a frontier or a territory inside DuckDB queries.

DuckDB measures point to point (``ST_Distance_Spheroid``) but not point to line on the
ellipsoid. :func:`register` adds SQL functions to a connection that call the same exact engine
as :func:`geo.distance.to_frontier` and :func:`geo.distance.to_territory`, one Arrow batch of
rows at a time, so a query over billions of Parquet rows never holds them in memory::

    import duckdb
    from geo.duckdb import register

    con = duckdb.connect()
    register(con, frontier="RUS,BLR:NATO", as_of="2024-01-01")
    con.sql("SELECT id, frontier_m(lon, lat) FROM 'points/*.parquet'")

Needs the ``duckdb`` package (``pip install 'flankmap[duckdb]'``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from geo import distance
from geo._errors import InputError
from geo.dates import parse_as_of

__all__ = ["register"]

#: The fields of the ``<prefix>_nearest`` struct, in order, with their SQL types.
_FIELDS: dict[str, str] = {
    "distance_m": "DOUBLE",
    "nearest_lat": "DOUBLE",
    "nearest_lon": "DOUBLE",
    "border": "VARCHAR",
    "bearing_deg": "DOUBLE",
}


def _checked(name: str, lon: pa.ChunkedArray, lat: pa.ChunkedArray) -> tuple[np.ndarray, ...]:
    """Return the batch as float arrays; raise naming the first value that is not a position."""
    lon_a = np.asarray(lon.to_numpy(), dtype=float)
    lat_a = np.asarray(lat.to_numpy(), dtype=float)
    bad = ~np.isfinite(lon_a) | ~np.isfinite(lat_a) | (np.abs(lat_a) > 90) | (np.abs(lon_a) > 180)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name}: lon {float(lon_a[i])!r}, lat {float(lat_a[i])!r} is not a position "
            "(lon must be -180..180, lat -90..90, both finite)"
        )
    return ((lon_a + 180.0) % 360.0) - 180.0, lat_a  # as geo.distance.to_frontier


def _struct(result: pd.DataFrame, fields: Iterable[str]) -> pa.StructArray:
    arrays = []
    for field in fields:
        values = result[field].to_numpy()
        if _FIELDS.get(field, "VARCHAR") == "DOUBLE":
            arrays.append(pa.array(values.astype(float), type=pa.float64()))
        else:
            arrays.append(pa.array(values.astype(str), type=pa.string()))
    return pa.StructArray.from_arrays(arrays, names=list(fields))


#: A point beyond the OSM extract's coverage: measuring it builds the Natural Earth fallback.
_FAR = (np.array([24.0, 0.0]), np.array([54.0, 0.0]))


def _prepared(
    frontier: str | gpd.GeoDataFrame | None, to: str | Iterable[str] | None, day: dt.date
) -> distance.Target:
    """Return the target, with everything its queries read built now, in the caller's thread.

    DuckDB calls the functions from its own threads, and a pyproj CRS made in one thread must
    not be used in another (it can crash the process): the frame of a frontier is reprojected
    here (:func:`geo.distance.target` keeps only lon/lat lines), and one query of a point in
    the borders' coverage and one beyond it fills the caches of the country data and of the
    Natural Earth fallback, so the callbacks only evaluate. Later changes to the caller's
    frame do not reach the queries.
    """
    target = distance.target(frontier=frontier, to=to, as_of=day)
    distance.point_result(target, *_FAR)
    return target


def register(
    con: duckdb.DuckDBPyConnection,
    *,
    frontier: str | gpd.GeoDataFrame | None = None,
    to: str | Iterable[str] | None = None,
    as_of: str | dt.date | None = None,
    prefix: str = "flankmap",
    name: str | None = None,
) -> list[str]:
    """Add SQL functions measuring the exact geodesic distance from points to a connection.

    Three functions are added; all take ``lon, lat`` in degrees (WGS84, in that order, as
    ``ST_Point``), are vectorised over Arrow batches and give NULL for a row whose ``lon`` or
    ``lat`` is NULL:

    - ``frontier_m(lon DOUBLE, lat DOUBLE) -> DOUBLE`` for a frontier, ``territory_m`` for a
      territory (``to=``), or ``name``: the distance in metres;
    - ``<prefix>_distance_m(lon, lat) -> DOUBLE``: the same;
    - ``<prefix>_nearest(lon DOUBLE, lat DOUBLE) -> STRUCT(distance_m DOUBLE,
      nearest_lat DOUBLE, nearest_lon DOUBLE, border VARCHAR, bearing_deg DOUBLE)`` (and
      ``inside VARCHAR`` for a territory): every column of :func:`geo.distance.to_frontier`.

    The target is prepared once, here (:func:`geo.distance.target`); the functions only
    evaluate it. A value that is not a position (NaN, infinite, ``|lat| > 90`` or
    ``|lon| > 180``) stops the query with an error naming the value.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The connection to add the functions to.
    frontier : str or geopandas.GeoDataFrame, optional
        As in :func:`geo.distance.to_frontier`: ``"A:B"``, or a frame of border lines (from
        :func:`geo.borders.frontier`, or another border dataset with a ``pair`` column); the
        default when ``to`` is not given is ``RUS,BLR:NATO``.
    to : str or iterable of str, optional
        A group as in :func:`geo.distance.to_territory` (a point inside is at 0 m).
    as_of : str, datetime.date or None
        Date for ``NATO``; default today (fixed when the functions are registered).
    prefix : str
        Start of the names of the two other functions.
    name : str, optional
        The name of the metres function; default ``frontier_m`` or ``territory_m``. Give
        other names (``prefix`` and ``name``) to register several targets side by side.

    Returns
    -------
    names : list of str
        The names of the functions added.

    Raises
    ------
    InputError
        If both ``frontier`` and ``to`` are given, or one of them, the date, the prefix or
        the name is invalid, or a function of that name exists on the connection already
        (nothing is added then).

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> register(con, frontier="BLR:POL", as_of="2024-01-01")
    ['frontier_m', 'flankmap_distance_m', 'flankmap_nearest']
    >>> [row] = con.sql(
    ...     "SELECT frontier_m(23.0, 53.0) AS d, (flankmap_nearest(23.0, 53.0)).border"
    ... ).fetchall()
    >>> bool(0 < row[0] < 200_000), row[1]
    (True, 'BLR-POL')
    """
    if frontier is not None and to is not None:
        raise InputError("give a frontier or a territory (to=...), not both")
    if not prefix.isidentifier():
        raise InputError(f"prefix {prefix!r} is not a valid SQL function name start")
    short = name if name is not None else ("territory_m" if to is not None else "frontier_m")
    if not short.isidentifier():
        raise InputError(f"name {short!r} is not a valid SQL function name")
    distance_name, nearest_name = f"{prefix}_distance_m", f"{prefix}_nearest"
    names = [short, distance_name, nearest_name]
    if len(set(names)) < len(names):
        raise InputError(f"name {short!r} is the name of one of the prefix's functions")
    taken = sorted(
        {
            str(row[0])
            for row in con.execute(
                "SELECT function_name FROM duckdb_functions() WHERE function_name IN (?, ?, ?)",
                names,
            ).fetchall()
        }
    )
    if taken:
        raise InputError(
            f"the connection has a function {', '.join(taken)} already (an earlier register?): "
            "give another name= and prefix= for this target"
        )
    target = _prepared(frontier, to, parse_as_of(as_of))
    fields = [*_FIELDS, "inside"] if target.territory else list(_FIELDS)

    def metres(label: str) -> Callable[[pa.ChunkedArray, pa.ChunkedArray], pa.Array]:
        def function(lon: pa.ChunkedArray, lat: pa.ChunkedArray) -> pa.Array:
            result = distance.point_result(target, *_checked(label, lon, lat))
            return pa.array(result["distance_m"].to_numpy(dtype=float), type=pa.float64())

        return function

    def nearest(lon: pa.ChunkedArray, lat: pa.ChunkedArray) -> pa.StructArray:
        return _struct(distance.point_result(target, *_checked(nearest_name, lon, lat)), fields)

    struct_type = "STRUCT(" + ", ".join(f"{f} {_FIELDS.get(f, 'VARCHAR')}" for f in fields) + ")"
    functions: list[tuple[str, Callable[..., Any], str]] = [
        (short, metres(short), "DOUBLE"),
        (distance_name, metres(distance_name), "DOUBLE"),
        (nearest_name, nearest, struct_type),
    ]
    for function_name, function, returns in functions:
        # "arrow" as a string: the enum moved between duckdb releases (functional, func).
        con.create_function(function_name, function, ["DOUBLE", "DOUBLE"], returns, type="arrow")  # type: ignore[call-overload]
    return names
