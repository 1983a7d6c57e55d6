"""Geodesic distance to a frontier or a territory inside DuckDB queries.

DuckDB measures point to point (``ST_Distance_Spheroid``) but not point to line on the
ellipsoid. :func:`register` adds SQL functions to a connection that call the same exact engine
as :func:`geo.distance.to_frontier` and :func:`geo.distance.to_territory`, one Arrow batch of
rows at a time, so a query over billions of Parquet rows never holds them in memory::

    import duckdb
    from geo.duckdb import register

    con = duckdb.connect()
    register(con, frontier="RUS,BLR:NATO", as_of="2024-01-01")
    con.sql("SELECT id, flankmap_distance_m(lon, lat) FROM 'points/*.parquet'")

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

from geo import borders
from geo._errors import InputError
from geo.dates import parse_as_of
from geo.distance import to_frontier, to_territory

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
    return lon_a, lat_a


def _struct(result: pd.DataFrame, fields: Iterable[str]) -> pa.StructArray:
    arrays = []
    for field in fields:
        values = result[field].to_numpy()
        if _FIELDS.get(field, "VARCHAR") == "DOUBLE":
            arrays.append(pa.array(values.astype(float), type=pa.float64()))
        else:
            arrays.append(pa.array(values.astype(str), type=pa.string()))
    return pa.StructArray.from_arrays(arrays, names=list(fields))


def _lines_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of a frontier frame in lon/lat degrees and without a CRS object.

    DuckDB calls the functions from its own threads, and a pyproj CRS made in one thread must
    not be used in another (it can crash the process): the frame is reprojected here, once,
    and what the threads see holds only shapely geometries and the ``pair`` labels. Later
    changes to the caller's frame do not reach the queries.
    """
    wgs84 = frame if frame.crs is None else frame.to_crs("EPSG:4326")
    labels = (
        wgs84["pair"].astype(str).to_numpy()
        if "pair" in wgs84.columns
        else np.full(len(wgs84), "", dtype=object)
    )
    return gpd.GeoDataFrame(
        {"pair": labels}, geometry=np.asarray(wgs84.geometry.values, dtype=object)
    )


def register(
    con: duckdb.DuckDBPyConnection,
    *,
    frontier: str | gpd.GeoDataFrame | None = None,
    to: str | Iterable[str] | None = None,
    as_of: str | dt.date | None = None,
    prefix: str = "flankmap",
) -> list[str]:
    """Add SQL functions measuring the exact geodesic distance from points to a connection.

    Two functions are added; both take ``lon, lat`` in degrees (WGS84, in that order, as
    ``ST_Point``), are vectorised over Arrow batches and give NULL for a row whose ``lon`` or
    ``lat`` is NULL:

    - ``<prefix>_distance_m(lon DOUBLE, lat DOUBLE) -> DOUBLE``: the distance in metres;
    - ``<prefix>_nearest(lon DOUBLE, lat DOUBLE) -> STRUCT(distance_m DOUBLE,
      nearest_lat DOUBLE, nearest_lon DOUBLE, border VARCHAR, bearing_deg DOUBLE)`` (and
      ``inside VARCHAR`` for a territory): every column of :func:`geo.distance.to_frontier`.

    A value that is not a position (NaN, infinite, ``|lat| > 90`` or ``|lon| > 180``) stops
    the query with an error naming the value.

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
        Start of the function names, so that several targets can be registered side by side.

    Returns
    -------
    names : list of str
        The names of the functions added.

    Raises
    ------
    InputError
        If both ``frontier`` and ``to`` are given, or one of them, the date or the prefix is
        invalid.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> register(con, frontier="BLR:POL", as_of="2024-01-01")
    ['flankmap_distance_m', 'flankmap_nearest']
    >>> [row] = con.sql(
    ...     "SELECT flankmap_distance_m(23.0, 53.0) AS d, (flankmap_nearest(23.0, 53.0)).border"
    ... ).fetchall()
    >>> bool(0 < row[0] < 200_000), row[1]
    (True, 'BLR-POL')
    """
    if frontier is not None and to is not None:
        raise InputError("give a frontier or a territory (to=...), not both")
    if not prefix.isidentifier():
        raise InputError(f"prefix {prefix!r} is not a valid SQL function name start")
    day = parse_as_of(as_of)
    measure: Callable[[np.ndarray, np.ndarray], pd.DataFrame]
    if to is not None:
        group = to

        def measure(lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
            return to_territory(lon, lat, group, as_of=day)

        fields = [*_FIELDS, "inside"]
    else:
        if isinstance(frontier, gpd.GeoDataFrame):
            spec = _lines_frame(frontier)
        else:  # the same lines as to_frontier's, built here in the caller's thread
            text = borders.DEFAULT_FRONTIER if frontier is None else str(frontier)
            side_a, side_b = borders.parse_frontier(text, as_of=day)
            spec = _lines_frame(borders.frontier(side_a, side_b))

        def measure(lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
            return to_frontier(lon, lat, spec, as_of=day)

        fields = list(_FIELDS)
    empty = np.empty(0)
    measure(empty, empty)  # a bad frontier or group fails here, not in the middle of a query

    distance_name, nearest_name = f"{prefix}_distance_m", f"{prefix}_nearest"

    def distance_m(lon: pa.ChunkedArray, lat: pa.ChunkedArray) -> pa.Array:
        result = measure(*_checked(distance_name, lon, lat))
        return pa.array(result["distance_m"].to_numpy(dtype=float), type=pa.float64())

    def nearest(lon: pa.ChunkedArray, lat: pa.ChunkedArray) -> pa.StructArray:
        return _struct(measure(*_checked(nearest_name, lon, lat)), fields)

    struct_type = "STRUCT(" + ", ".join(f"{f} {_FIELDS.get(f, 'VARCHAR')}" for f in fields) + ")"
    functions: list[tuple[str, Callable[..., Any], str]] = [
        (distance_name, distance_m, "DOUBLE"),
        (nearest_name, nearest, struct_type),
    ]
    for name, function, returns in functions:
        # "arrow" as a string: the enum moved between duckdb releases (functional, func).
        con.create_function(name, function, ["DOUBLE", "DOUBLE"], returns, type="arrow")  # type: ignore[call-overload]
    return [name for name, _, _ in functions]
