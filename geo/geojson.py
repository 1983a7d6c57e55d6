"""Reading GeoJSON FeatureCollections from user files and layer files, and checking geometries.

One reader (:func:`read_collection`) serves the layers (:mod:`geo.layers`) and the user's
point files (:mod:`geo.points`): it opens regular files only (without blocking on a FIFO, and
checking what it opened, not only the name), reads at most ``max_bytes``, judges the first
64 KiB before it reads on (so a large file of junk fails fast), accepts a UTF-8 byte order
mark, and checks that the JSON is a FeatureCollection with a list of features. One check
(:func:`geometry_problem`) says why a GeoJSON geometry cannot be used. Every problem is one
line that names the file (see :func:`geo._errors.located`).
"""

from __future__ import annotations

import codecs
import json
import math
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any, BinaryIO

import shapely
import shapely.geometry

from geo._errors import InputError, located, shorten

__all__ = ["geometry_problem", "read_collection"]

_FIRST_BLOCK = 1 << 16  # the first read: enough to judge a file without reading it all

#: What a file that is not a regular file is, by its ``stat.S_IFMT``.
_FILE_TYPES = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _reader(fd: int) -> BinaryIO:
    """Return a file object that reads an open file (a seam for the tests that count reads)."""
    return os.fdopen(fd, "rb")


def _read_bytes(
    path: Path, *, max_bytes: int | None, field: str, what: str, error: type[Exception]
) -> bytes:
    """Read a regular file of at most ``max_bytes``, judging its first block before the rest."""

    def fail(problem: str) -> Exception:
        return error(located(path, "", field, problem))

    # Opened without blocking (a FIFO would wait for a writer) and checked after opening, so
    # that what is read is what was checked: a link to /dev/zero or a folder is refused.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise fail(
            "is a link to a missing file" if path.is_symlink() else "does not exist"
        ) from None
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = _FILE_TYPES.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise fail(f"is {kind}, not {what}; remove it from the folder")
    with _reader(fd) as handle:
        if max_bytes is not None and info.st_size > max_bytes:
            raise fail(_too_big(info.st_size, max_bytes, what))
        try:
            head = handle.read(_FIRST_BLOCK)
            _check_start(head, fail)
            rest = handle.read() if max_bytes is None else handle.read(max_bytes + 1 - len(head))
        except OSError as exc:
            raise fail(f"cannot be read ({exc.strerror or exc})") from None
    data = head + rest
    if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
        raise fail(_too_big(len(data), max_bytes, what))
    return data


def _too_big(size: int, limit: int, what: str) -> str:
    return f"is {size:,} bytes, more than {what} may be ({limit:,})"


def _check_start(head: bytes, fail: Any) -> None:
    """Fail fast when a file cannot be GeoJSON, from its first bytes."""
    if not head.strip():
        raise fail("is empty")
    try:
        text = head.decode("utf-8-sig") if len(head) < _FIRST_BLOCK else None
        if text is None:
            text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise fail(f"is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    if text.lstrip()[:1] != "{":
        raise fail(
            f"is not valid JSON: it starts with {shorten(text.lstrip(), 20)!r}, a GeoJSON "
            "FeatureCollection starts with '{'"
        )


def read_collection(
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    field: str = "",
    what: str = "a GeoJSON file",
    error: type[Exception] = InputError,
) -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection from a regular file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    max_bytes : int, optional
        The largest file read; default no limit.
    field : str
        The field that messages about the whole file name (the layers say ``"file"``).
    what : str
        What the file should be, for messages (``"a layer file"``).
    error : type
        The exception raised (an :class:`geo.InputError` by default).

    Returns
    -------
    collection : dict
        The decoded JSON: ``type`` is ``"FeatureCollection"`` and ``features`` a list (which
        may be empty).

    Raises
    ------
    InputError
        (or ``error``) in one line naming the file: missing, not a regular file, larger than
        ``max_bytes``, empty, not UTF-8, not JSON, nested too deeply, not a FeatureCollection
        (with a hint for a single Feature), or ``features`` not a list.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "one.geojson"
    >>> _ = path.write_text('{"type": "Feature", "geometry": null, "properties": {}}')
    >>> read_collection(path)
    Traceback (most recent call last):
    ...
    geo._errors.InputError: one.geojson: field 'type': is a single Feature, not a FeatureCollection; wrap it: {"type": "FeatureCollection", "features": [...]}
    >>> _ = path.write_text('{"type": "FeatureCollection", "features": []}')
    >>> read_collection(path)["features"]
    []
    """
    path = Path(path)

    def fail(field: str, problem: str) -> Exception:
        return error(located(path, "", field, problem))

    data_bytes = _read_bytes(path, max_bytes=max_bytes, field=field, what=what, error=error)
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(field, f"is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            field, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise fail(
            field, "nests arrays or objects too deeply to be read (GeoJSON needs a few levels)"
        ) from None
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "Feature":
        raise fail(
            "type",
            "is a single Feature, not a FeatureCollection; wrap it: "
            '{"type": "FeatureCollection", "features": [...]}',
        )
    if kind != "FeatureCollection":
        raise fail("type", f"{kind!r} is not a GeoJSON FeatureCollection")
    if not isinstance(data.get("features"), list):
        raise fail("features", "is not a list")
    collection: dict[str, Any] = data
    return collection


def _unclosed_ring(geometry: dict[str, Any]) -> str | None:
    """Which ring of a GeoJSON (Multi)Polygon does not end where it starts, or None."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons: list[Any] = [coords] if kind == "Polygon" else []
    if kind == "MultiPolygon":
        polygons = list(coords or [])
    for p, polygon in enumerate(polygons, 1):
        for r, ring in enumerate(polygon, 1):
            if len(ring) and ring[0] != ring[-1]:
                where = f"polygon {p}, ring {r}" if kind == "MultiPolygon" else f"ring {r}"
                return f"{where} is not closed: its last position is not its first"
    return None


def _odd_coordinate(geometry: dict[str, Any]) -> tuple[bool, Any]:
    """Find the first coordinate of a GeoJSON geometry that is not a JSON number.

    Returns ``(True, value)`` for a string, boolean or null (GDAL would read the geometry as
    null without saying why), else ``(False, None)``.
    """
    pending = [geometry.get("coordinates")]
    pending += [g for g in geometry.get("geometries") or [] if isinstance(g, dict)]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.append(item.get("coordinates"))
            pending += [g for g in item.get("geometries") or [] if isinstance(g, dict)]
        elif isinstance(item, list):
            if item and not isinstance(item[0], list):  # a position
                for value in item:
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        return True, value
            else:
                pending.extend(item)
    return False, None


def _bounds_problem(shape: shapely.Geometry) -> str | None:
    """Which coordinate is not finite or outside -180..180, -90..90, or None."""
    for lon, lat in shapely.get_coordinates(shape):
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return f"coordinate [{lon}, {lat}] is not finite"
        if not -180 <= lon <= 180:
            return f"longitude {lon} is outside -180..180"
        if not -90 <= lat <= 90:
            return f"latitude {lat} is outside -90..90 ([lon, lat]?)"
    return None


def geometry_problem(
    geometry: Any, *, types: Collection[str] | None = None, bounds: bool = False
) -> str | None:
    """Say why a GeoJSON geometry cannot be used, or return None.

    Parameters
    ----------
    geometry : object
        The ``geometry`` member of a GeoJSON Feature.
    types : collection of str, optional
        The geometry types allowed; default any.
    bounds : bool
        Also require every coordinate to be finite and within -180..180, -90..90 (the point
        readers check that later, with a hint for swapped lat and lon).

    Returns
    -------
    problem : str or None
        A phrase that follows ``field 'geometry':`` in a message: null, missing, a coordinate
        that is not a number, malformed, empty, a type not in ``types``, out of bounds, a
        ring that is not closed, or invalid (with shapely's reason).

    Examples
    --------
    >>> geometry_problem({"type": "Point", "coordinates": [25.3, 54.7]}) is None
    True
    >>> geometry_problem({"type": "Point", "coordinates": ["25.3", 54.7]})
    'has the coordinate "25.3", which is not a number'
    >>> geometry_problem({"type": "Point", "coordinates": [54.7, 95.0]}, bounds=True)
    'latitude 95.0 is outside -90..90 ([lon, lat]?)'
    """
    if geometry is None:
        return "is null"
    if not isinstance(geometry, dict) or not geometry:
        return "is missing"
    odd, value = _odd_coordinate(geometry)
    if odd:
        return f"has the coordinate {shorten(json.dumps(value), 40)}, which is not a number"
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception:  # shapely raises several types for malformed GeoJSON
        coords = shorten(json.dumps(geometry.get("coordinates")), 40)
        return f"is not a valid GeoJSON {geometry.get('type')} (coordinates {coords})"
    if shape.is_empty:
        return "is empty"
    if types is not None and shape.geom_type not in types:
        return f"{shape.geom_type} is not one of {', '.join(types)}"
    if bounds:
        outside = _bounds_problem(shape)
        if outside:
            return outside
    unclosed = _unclosed_ring(geometry)
    if unclosed:
        return f"is not a valid {shape.geom_type} ({unclosed})"
    if not shape.is_valid:
        return f"is not a valid {shape.geom_type} ({shapely.is_valid_reason(shape)})"
    return None
