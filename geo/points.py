"""Reading the point files that users bring: CSV, GeoJSON, GeoPackage and GeoParquet.

Every problem becomes one :class:`geo.InputError` line that names the file, the row (1-based
data row of a CSV, 1-based feature of the other formats) and the field, e.g.
``points.csv: row 7: field 'lat': 'abc' is not a number``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo._errors import InputError

#: Accepted coordinate column pairs of a CSV, matched ignoring case.
COORDINATE_COLUMNS = (("lat", "lon"), ("latitude", "longitude"))
CSV_SUFFIXES = (".csv",)
GEOJSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
PARQUET_SUFFIXES = (".parquet", ".geoparquet")


def _fail(path: Path, where: str, field: str, problem: str) -> InputError:
    parts = [path.name, where] if where else [path.name]
    if field:
        parts.append(f"field {field!r}")
    return InputError(": ".join([*parts, problem]))


def _number(path: Path, row: int, field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _fail(path, f"row {row}", field, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise _fail(path, f"row {row}", field, f"{text!r} is not a finite number")
    return value


def _check_position(path: Path, where: str, lat: float, lon: float, names: tuple[str, str]) -> None:
    """Check one position; ``names`` are the lat and lon field names for the message."""
    if not -90 <= lat <= 90:
        hint = " (lat and lon swapped?)" if abs(lon) <= 90 and abs(lat) <= 180 else ""
        raise _fail(path, where, names[0], f"{lat!r} is outside -90..90{hint}")
    if not -180 <= lon <= 180:
        raise _fail(path, where, names[1], f"{lon!r} is outside -180..180")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(
            path, "", "", f"is not UTF-8 (byte {exc.start}, line {line}); save it as UTF-8"
        ) from None


def _read_csv(path: Path) -> gpd.GeoDataFrame:
    text = _read_text(path)
    if not text.strip():
        raise _fail(path, "", "", "is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    lower = [name.strip().lower() for name in header]
    for lat_name, lon_name in COORDINATE_COLUMNS:
        if lat_name in lower and lon_name in lower:
            i_lat, i_lon = lower.index(lat_name), lower.index(lon_name)
            break
    else:
        raise _fail(
            path,
            "",
            "",
            f"has no lat/lon columns (columns: {', '.join(header)}); "
            "name them lat and lon, or latitude and longitude",
        )
    names = (header[i_lat], header[i_lon])
    rows, lats, lons = [], [], []
    for number, row in enumerate(reader, 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise _fail(
                path, f"row {number}", "", f"has {len(row)} fields, the header has {len(header)}"
            )
        lat = _number(path, number, names[0], row[i_lat].strip())
        lon = _number(path, number, names[1], row[i_lon].strip())
        _check_position(path, f"row {number}", lat, lon, names)
        rows.append(row)
        lats.append(lat)
        lons.append(lon)
    if not rows:
        raise _fail(path, "", "", "has a header but no data rows")
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    for column, values in ((names[0], lats), (names[1], lons)):
        frame[column] = np.asarray(values, dtype=float)
    if "coord_uncertainty_m" in frame.columns:
        for number, text in enumerate(frame["coord_uncertainty_m"], 1):
            value = _number(path, number, "coord_uncertainty_m", text.strip())
            if value < 0:
                raise _fail(path, f"row {number}", "coord_uncertainty_m", f"{text!r} is negative")
        frame["coord_uncertainty_m"] = frame["coord_uncertainty_m"].astype(float)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lons, lats), crs="EPSG:4326")


def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    from geo._errors import LayerValidationError
    from geo.layers import _read_collection

    if not path.stat().st_size:
        raise _fail(path, "", "", "is empty")
    try:  # the layer reader checks UTF-8, JSON and the FeatureCollection
        features = _read_collection(path)["features"]
    except LayerValidationError as exc:
        raise InputError(str(exc)) from None
    for number, feature in enumerate(features, 1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _fail(path, f"feature {number}", "type", "is not a GeoJSON Feature")
        if not feature.get("geometry"):
            raise _fail(path, f"feature {number}", "geometry", "is missing")
        try:
            shapely.geometry.shape(feature["geometry"])
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise _fail(
                path, f"feature {number}", "geometry", f"is not valid GeoJSON ({exc})"
            ) from None
    if not features:
        raise _fail(path, "", "features", "is empty: the file holds no points")
    return _read_ogr(path)


def _read_ogr(path: Path) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises its own and GDAL's errors
        raise _fail(path, "", "", f"cannot be read ({str(exc).splitlines()[0]})") from None
    return frame


def _read_parquet(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except ImportError:
        raise _fail(path, "", "", "reading GeoParquet needs pyarrow: pip install pyarrow") from None
    except Exception as exc:  # pyarrow raises its own errors for broken files
        raise _fail(path, "", "", f"cannot be read as GeoParquet ({exc})") from None


def _check_frame(path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not len(frame):
        raise _fail(path, "", "", "holds no features")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    elif not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    values = np.asarray(frame.geometry.values, dtype=object)
    empty = np.flatnonzero(shapely.is_missing(values) | shapely.is_empty(values))
    if len(empty):
        raise _fail(path, f"feature {empty[0] + 1}", "geometry", "is empty")
    xy = shapely.get_coordinates(values)
    counts = shapely.get_num_coordinates(values)
    owner = np.repeat(np.arange(len(values)), counts)
    bad = np.flatnonzero(
        ~np.isfinite(xy).all(axis=1) | (np.abs(xy[:, 1]) > 90) | (np.abs(xy[:, 0]) > 180)
    )
    if len(bad):
        lon, lat = xy[bad[0]]
        where = f"feature {owner[bad[0]] + 1}"
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise _fail(path, where, "geometry", f"coordinate [{lon}, {lat}] is not finite")
        _check_position(path, where, float(lat), float(lon), ("geometry", "geometry"))
    if "coord_uncertainty_m" in frame.columns:
        unc = pd.to_numeric(frame["coord_uncertainty_m"], errors="coerce").to_numpy(dtype=float)
        wrong = np.flatnonzero(~np.isfinite(unc) | (unc < 0))
        if len(wrong):
            value = frame["coord_uncertainty_m"].iloc[wrong[0]]
            raise _fail(
                path,
                f"feature {wrong[0] + 1}",
                "coord_uncertainty_m",
                f"{value!r} is not a non-negative number",
            )
    return frame.reset_index(drop=True)


def read_points(path: str | Path) -> gpd.GeoDataFrame:
    r"""Read a file of points into a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV with ``lat`` and ``lon`` (or ``latitude`` and ``longitude``, any case) columns,
        read as UTF-8, other columns kept as text in their order; or a GeoJSON, GeoPackage or
        GeoParquet file (another CRS is reprojected). A ``coord_uncertainty_m`` column, where
        present, must hold non-negative metres.

    Returns
    -------
    points : geopandas.GeoDataFrame
        The file's columns and a ``geometry`` column, EPSG:4326.

    Raises
    ------
    InputError
        One line naming the file, the row or feature and the field: unknown format, empty
        file, not UTF-8, invalid JSON, missing columns, a value that is not a number, a
        latitude outside -90..90 (with a hint when lat and lon look swapped).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "p.csv").write_text("name,Lat,Lon\nVilnius,54.687,25.280\n")
    >>> read_points(folder / "p.csv")[["name", "Lat", "Lon"]].values.tolist()
    [['Vilnius', 54.687, 25.28]]
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path.name}: no such file ({path})")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in GEOJSON_SUFFIXES:
        return _check_frame(path, _read_geojson(path))
    if suffix in GPKG_SUFFIXES:
        return _check_frame(path, _read_ogr(path))
    if suffix in PARQUET_SUFFIXES:
        return _check_frame(path, _read_parquet(path))
    known = CSV_SUFFIXES + GEOJSON_SUFFIXES + GPKG_SUFFIXES + PARQUET_SUFFIXES
    raise InputError(
        f"{path.name}: unknown file type {suffix or '(none)'!r}; use {', '.join(known)}"
    )


def _flat(value: object) -> object:
    """Turn lists and dicts (layer sources, timelines) into JSON text for a CSV cell."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_points(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a frame of points with results to CSV, GeoJSON or GeoParquet, atomically.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Points (EPSG:4326) with their columns.
    path : str or pathlib.Path
        ``.csv`` (the columns in order, ``lat`` and ``lon`` added after them when the frame
        has no coordinate columns, lists as JSON text), ``.geojson`` or ``.parquet``.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the file type is unknown or GeoParquet cannot be written (no pyarrow).
    """
    from geo._output import atomic_writer

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        lower = {c.lower() for c in table.columns}
        if not any(lat in lower and lon in lower for lat, lon in COORDINATE_COLUMNS):
            position = len([c for c in table.columns if not _is_result(c)])
            points = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
            table.insert(position, "lat", shapely.get_y(points))
            table.insert(position + 1, "lon", shapely.get_x(points))
        for column in table.columns:
            if pd.api.types.is_object_dtype(table[column]):
                table[column] = table[column].map(_flat)
        with atomic_writer(path, "w") as handle:
            table.to_csv(handle, index=False, lineterminator="\n")
    elif suffix in (".geojson",):
        with atomic_writer(path, "w") as handle:
            handle.write(frame.to_json(drop_id=True, ensure_ascii=False))
    elif suffix in PARQUET_SUFFIXES:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError(
                f"{path.name}: writing GeoParquet needs pyarrow: pip install pyarrow"
            ) from None
        with atomic_writer(path, "wb") as handle:
            frame.to_parquet(handle)
    else:
        raise InputError(
            f"{path.name}: unknown output type {suffix!r}; use .csv, .geojson, .parquet"
        )
    return path


def _is_result(column: str) -> bool:
    from geo.distance import RESULT_COLUMNS

    extra = ("inside", "distance_min_m", "distance_max_m", "side", "host_border")
    return column in RESULT_COLUMNS or column in extra or column.startswith(("opposing_", "host_"))
