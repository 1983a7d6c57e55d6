"""Geodesic distance to a frontier or a territory for the points of a Spark DataFrame.

:func:`distances` prepares the target once on the driver (:func:`geo.distance.target`),
broadcasts it to the executors and measures each Arrow batch with ``mapInArrow``, through
the same exact engine as :func:`geo.distance.distances`. The result has the columns of
``flankmap distances --points``, in the rows' order::

    from pyspark.sql import SparkSession
    from geo.spark import distances

    spark = SparkSession.builder.getOrCreate()
    points = spark.read.parquet("points/")  # columns lon, lat (degrees, WGS84) and others
    distances(points, frontier="RUS,BLR:NATO", as_of="2024-01-01").write.parquet("out/")

Needs ``pyspark`` (``pip install 'flankmap[spark]'``) and flankmap installed on the executors'
Python (``PYSPARK_PYTHON``): the executors import :mod:`geo.distance` and read the country
outlines from the package's data (for ``located_in``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from geo import distance
from geo._data import BorderSource
from geo._errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    from pyspark.sql import DataFrame

__all__ = ["distances", "measure_batch", "result_schema"]

#: The result columns that hold text; every other one is a double.
_TEXT = frozenset({"border", "inside", "located_in"})


def result_schema(
    columns: Iterable[str], target: distance.Target
) -> tuple[dict[str, str], list[str]]:
    """Return how the input columns are renamed and which result columns are appended.

    Parameters
    ----------
    columns : iterable of str
        The input's columns.
    target : geo.distance.Target
        From :func:`geo.distance.target`.

    Returns
    -------
    renames : dict
        An input column that has the name of a result column, to its new name
        (``NAME_input``, as :func:`geo.distance.kept_names`).
    results : list of str
        The result columns, as :func:`geo.distance.result_columns`.

    Examples
    --------
    >>> t = distance.target(frontier="BLR:POL", as_of="2024-01-01")
    >>> result_schema(["id", "lon", "lat", "border"], t)
    ({'border': 'border_input'}, ['distance_m', 'nearest_lat', 'nearest_lon', 'border', 'bearing_deg', 'located_in'])
    """
    columns = list(columns)
    results = distance.result_columns(columns, target)
    renames = {str(k): v for k, v in distance.kept_names(columns, results).items()}
    return renames, results


def _positions(batch: pa.RecordBatch, lon: str, lat: str) -> tuple[np.ndarray, ...]:
    """Return lon, lat (NaN where NULL) and the mask of the rows with both; check the others."""
    lon_a = np.asarray(batch.column(lon).to_numpy(zero_copy_only=False), dtype=float)
    lat_a = np.asarray(batch.column(lat).to_numpy(zero_copy_only=False), dtype=float)
    known = ~(
        np.asarray(batch.column(lon).is_null(), dtype=bool)
        | np.asarray(batch.column(lat).is_null(), dtype=bool)
    )
    bad = known & (~np.isfinite(lon_a) | ~np.isfinite(lat_a) | (np.abs(lat_a) > 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{lon} {float(lon_a[i])!r}, {lat} {float(lat_a[i])!r} is not a position "
            "(lat must be -90..90, both finite)"
        )
    return lon_a, lat_a, known


def measure_batch(
    batch: pa.RecordBatch,
    target: distance.Target,
    *,
    lon: str = "lon",
    lat: str = "lat",
) -> pa.RecordBatch:
    """Append the distances to a prepared target to one Arrow batch of points.

    What :func:`distances` runs on the executors; usable on its own over any Arrow stream.

    Parameters
    ----------
    batch : pyarrow.RecordBatch
        Points, with ``lon`` and ``lat`` columns in degrees (WGS84).
    target : geo.distance.Target
        From :func:`geo.distance.target`.
    lon, lat : str
        The names of the coordinate columns.

    Returns
    -------
    batch : pyarrow.RecordBatch
        The input columns unchanged (renamed as :func:`result_schema` says) and the result
        columns of :func:`geo.distance.measure_columns`; NULL results for a row whose ``lon``
        or ``lat`` is NULL.

    Raises
    ------
    InputError
        For a value that is not a position (NaN, infinite, ``|lat| > 90``), naming it.

    Examples
    --------
    >>> t = distance.target(frontier="BLR:POL", as_of="2024-01-01")
    >>> b = pa.record_batch({"id": ["a", "b"], "lon": [23.0, None], "lat": [53.0, 52.0]})
    >>> out = measure_batch(b, t)
    >>> out.column("border").to_pylist(), out.column("located_in").to_pylist()
    (['BLR-POL', None], ['POL', None])
    """
    renames, results = result_schema(batch.schema.names, target)
    lon_a, lat_a, known = _positions(batch, lon, lat)
    rows = np.flatnonzero(known)
    frame = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    if "coord_uncertainty_m" in batch.schema.names:
        uncertainty = batch.column("coord_uncertainty_m").to_numpy(zero_copy_only=False)
        frame["coord_uncertainty_m"] = np.asarray(uncertainty, dtype=object)[rows]
    measured = distance.measure_columns(frame, lon_a[rows], lat_a[rows], target)
    missing = ~known
    arrays = list(batch.columns)
    for name in results:
        if name in _TEXT:
            text = np.full(len(known), "", dtype=object)
            text[rows] = measured[name].to_numpy(dtype=str)
            arrays.append(pa.array(text, type=pa.string(), mask=missing))
        else:
            number = np.full(len(known), np.nan)
            number[rows] = measured[name].to_numpy(dtype=float)
            arrays.append(pa.array(number, type=pa.float64(), mask=missing))
    names = [renames.get(n, n) for n in batch.schema.names] + results
    return pa.RecordBatch.from_arrays(arrays, names=names)


def distances(
    points: DataFrame,
    *,
    frontier: str | gpd.GeoDataFrame | None = None,
    to: str | Iterable[str] | None = None,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
    lon: str = "lon",
    lat: str = "lat",
) -> DataFrame:
    """Append distances to a frontier or a territory to a Spark DataFrame of points.

    The target is prepared once, here on the driver, and broadcast; each executor measures
    its Arrow batches (``mapInArrow``; their size is ``spark.sql.execution.arrow.
    maxRecordsPerBatch``) with :func:`measure_batch`. Lazy, as any Spark transformation.

    Parameters
    ----------
    points : pyspark.sql.DataFrame
        Points with ``lon`` and ``lat`` columns in degrees (WGS84), any other columns.
    frontier, to, as_of, borders
        As in :func:`geo.distance.distances` (``as_of`` is fixed here, so every executor
        measures to the same ``NATO``).
    lon, lat : str
        The names of the coordinate columns.

    Returns
    -------
    result : pyspark.sql.DataFrame
        ``points`` with the columns of :func:`geo.distance.measure_columns` appended, as
        ``flankmap distances --points`` writes them: ``distance_m``, ``nearest_lat``,
        ``nearest_lon``, ``border``, ``bearing_deg`` (``inside`` for a territory),
        ``located_in`` (``distance_min_m``, ``distance_max_m`` with a
        ``coord_uncertainty_m`` column); an input column with one of these names is kept as
        ``NAME_input``. Rows keep their partitions and order; a row with a NULL ``lon`` or
        ``lat`` gets NULL results. A value that is not a position fails the job with an
        error naming it.

    Raises
    ------
    InputError
        If ``lon`` or ``lat`` is not a numeric column, or the target is invalid.
    """
    from pyspark.sql.types import DoubleType, NumericType, StringType, StructField, StructType

    fields = {field.name: field for field in points.schema.fields}
    for name in (lon, lat):
        if name not in fields:
            raise InputError(f"no column {name!r} among {', '.join(map(repr, fields))}")
        if not isinstance(fields[name].dataType, NumericType):
            raise InputError(
                f"column {name!r} is {fields[name].dataType.simpleString()}, not a number"
            )
    prepared = distance.target(frontier=frontier, to=to, as_of=as_of, borders=borders)
    renames, results = result_schema(fields, prepared)
    schema = StructType(
        [
            StructField(renames.get(f.name, f.name), f.dataType, f.nullable, f.metadata)
            for f in points.schema.fields
        ]
        + [
            StructField(name, StringType() if name in _TEXT else DoubleType(), True)
            for name in results
        ]
    )
    shared = points.sparkSession.sparkContext.broadcast(prepared)

    def measure(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        target: Any = shared.value
        for batch in batches:
            yield measure_batch(batch, target, lon=lon, lat=lat)

    return points.mapInArrow(measure, schema)
