"""The layer registry: sourced, dated GeoJSON layers in ``layers/``.

Each ``layers/<name>.geojson`` is one layer; ``layers/SCHEMA.md`` documents the format. Loading a
layer validates every feature and names the file, the feature id and the field of any problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo import _data
from geo._errors import DataDirError, LayerNotFoundError, LayerValidationError
from geo.dates import active_on, date_bounds, parse_as_of

#: The words allowed in a feature's ``kind``.
KINDS = (
    "early_warning_radar",
    "communications_station",
    "battlegroup",
    "headquarters",
    "air_base",
    "naval_base",
    "missile_defence_site",
    "nuclear_sharing_base",
    "nuclear_storage",
    "garrison",
    "training_area",
    "force_integration_unit",
    "missile_unit",
    "military_base",
)
#: The words allowed in ``status`` (and in a timeline entry's ``status``).
STATUSES = ("planned", "under_construction", "active", "ended")
#: Properties every shipped feature must have.
REQUIRED = (
    "id",
    "name",
    "kind",
    "country",
    "operator",
    "status",
    "since",
    "until",
    "coord_uncertainty_m",
    "coord_note",
    "sources",
)
SOURCE_FIELDS = ("title", "url", "publisher", "accessed")
#: Columns of a loaded layer, in order (``geometry`` last).
COLUMNS = (
    "layer",
    *REQUIRED[:10],
    "lead_nation",
    "notes",
    "sources",
    "timeline",
)
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL_RE = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class LayerInfo:
    """What :func:`list_layers` tells about one layer."""

    name: str
    title: str
    description: str
    count: int
    first: str
    last: str
    path: Path


def _fail(path: Path | str, feature: str, field: str, problem: str) -> LayerValidationError:
    where = f"{Path(path).name}: feature {feature}" if feature else f"{Path(path).name}"
    return LayerValidationError(f"{where}: field {field!r}: {problem}")


def _check_date(path: Path, fid: str, field: str, value: Any, *, empty_ok: bool) -> None:
    if value == "" and empty_ok:
        return
    if not isinstance(value, str):
        raise _fail(path, fid, field, f"{value!r} is not a string date (YYYY, YYYY-MM, YYYY-MM-DD)")
    try:
        date_bounds(value)
    except ValueError as exc:
        raise _fail(path, fid, field, str(exc)) from None


def _check_text(path: Path, fid: str, field: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, fid, field, f"{value!r} is not a non-empty string")


def _check_coords(path: Path, fid: str, geom: Mapping[str, Any]) -> shapely.Geometry:
    try:
        shape = shapely.geometry.shape(geom)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise _fail(path, fid, "geometry", f"not a valid GeoJSON geometry ({exc})") from None
    if shape.is_empty:
        raise _fail(path, fid, "geometry", "is empty")
    if shape.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise _fail(
            path, fid, "geometry", f"{shape.geom_type} is not Point, Polygon or MultiPolygon"
        )
    xy = shapely.get_coordinates(shape)
    for lon, lat in xy:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise _fail(path, fid, "geometry", f"coordinate [{lon}, {lat}] is not finite")
        if not -180 <= lon <= 180:
            raise _fail(path, fid, "geometry", f"longitude {lon} is outside -180..180")
        if not -90 <= lat <= 90:
            raise _fail(path, fid, "geometry", f"latitude {lat} is outside -90..90 ([lon, lat]?)")
    if not shape.is_valid:
        raise _fail(path, fid, "geometry", shapely.is_valid_reason(shape))
    return shape


def validate_feature(
    feature: Mapping[str, Any],
    *,
    path: Path | str,
    index: int,
    countries: Iterable[str] | None = None,
) -> tuple[dict[str, Any], shapely.Geometry]:
    """Check one GeoJSON feature against the layer schema.

    Parameters
    ----------
    feature : mapping
        A GeoJSON Feature.
    path : pathlib.Path or str
        The file it came from, for messages.
    index : int
        Its position in the file (names it while its ``id`` is unknown).
    countries : iterable of str, optional
        Allowed ``country`` codes; default every code of the border dataset.

    Returns
    -------
    properties, geometry : tuple
        The properties (optional ones filled with defaults) and the shapely geometry.

    Raises
    ------
    LayerValidationError
        Naming the file, the feature and the field.
    """
    path = Path(path)
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise _fail(path, f"#{index}", "type", "is not a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise _fail(path, f"#{index}", "properties", "is missing or not an object")
    fid_value = props.get("id")
    fid = fid_value if isinstance(fid_value, str) and fid_value else f"#{index}"
    missing = [name for name in REQUIRED if name not in props]
    if missing:
        raise _fail(path, fid, missing[0], f"is missing (missing: {', '.join(missing)})")
    if not _ID_RE.match(fid_value or ""):
        raise _fail(path, fid, "id", f"{fid_value!r} is not a slug of a-z, 0-9 and '-'")
    for field in ("name", "coord_note"):
        _check_text(path, fid, field, props[field])
    if props["kind"] not in KINDS:
        raise _fail(path, fid, "kind", f"{props['kind']!r} is not one of {', '.join(KINDS)}")
    if props["status"] not in STATUSES:
        raise _fail(path, fid, "status", f"{props['status']!r} is not one of {', '.join(STATUSES)}")
    known = set(countries) if countries is not None else _country_codes()
    if props["country"] not in known:
        raise _fail(path, fid, "country", f"{props['country']!r} is not a known ISO alpha-3 code")
    if props["operator"] != "NATO" and props["operator"] not in known:
        raise _fail(
            path, fid, "operator", f"{props['operator']!r} is not an ISO alpha-3 code or NATO"
        )
    lead = props.get("lead_nation", "")
    if lead and lead not in known:
        raise _fail(path, fid, "lead_nation", f"{lead!r} is not a known ISO alpha-3 code")
    _check_date(path, fid, "since", props["since"], empty_ok=False)
    _check_date(path, fid, "until", props["until"], empty_ok=True)
    if props["until"] and date_bounds(props["until"])[1] < date_bounds(props["since"])[0]:
        raise _fail(path, fid, "until", f"{props['until']} is before since {props['since']}")
    if props["until"] and props["status"] != "ended":
        raise _fail(path, fid, "status", f"is {props['status']!r} but until is {props['until']}")
    unc = props["coord_uncertainty_m"]
    if isinstance(unc, bool) or not isinstance(unc, int | float) or not 0 <= unc <= 100_000:
        raise _fail(
            path, fid, "coord_uncertainty_m", f"{unc!r} is not a number of metres 0..100000"
        )
    sources = props["sources"]
    if not isinstance(sources, list) or not sources:
        raise _fail(
            path, fid, "sources", "must be a non-empty list of {title, url, publisher, accessed}"
        )
    for number, source in enumerate(sources, 1):
        field = f"sources[{number}]"
        if not isinstance(source, Mapping):
            raise _fail(path, fid, field, "is not an object")
        lacking = [name for name in SOURCE_FIELDS if not source.get(name)]
        if lacking:
            raise _fail(path, fid, f"{field}.{lacking[0]}", "is missing or empty")
        if not _URL_RE.match(str(source["url"])):
            raise _fail(path, fid, f"{field}.url", f"{source['url']!r} is not an http(s) URL")
        _check_date(path, fid, f"{field}.accessed", source["accessed"], empty_ok=False)
    timeline = props.get("timeline", [])
    if not isinstance(timeline, list):
        raise _fail(path, fid, "timeline", "is not a list")
    previous = None
    for number, step in enumerate(timeline, 1):
        field = f"timeline[{number}]"
        if not isinstance(step, Mapping):
            raise _fail(path, fid, field, "is not an object")
        _check_date(path, fid, f"{field}.date", step.get("date"), empty_ok=False)
        if step.get("status") not in STATUSES:
            raise _fail(path, fid, f"{field}.status", f"{step.get('status')!r} is not a status")
        start = date_bounds(step["date"])[0]
        if previous is not None and start < previous:
            raise _fail(path, fid, f"{field}.date", "timeline is not in date order")
        previous = start
    geometry = _check_coords(path, fid, feature.get("geometry") or {})
    clean = dict(props)
    clean.setdefault("lead_nation", "")
    clean.setdefault("notes", "")
    clean.setdefault("timeline", [])
    return clean, geometry


@functools.cache
def _country_codes() -> frozenset[str]:
    from geo.borders import country_codes

    return country_codes()


#: The largest layer file read, in bytes (the shipped layers are a few tens of KB).
MAX_LAYER_BYTES = 64 * 1024 * 1024


def _read_bytes(path: Path) -> bytes:
    """Read a layer file: a regular file of at most :data:`MAX_LAYER_BYTES` bytes.

    The file is opened without blocking (a FIFO would wait for a writer) and checked after
    opening, so that what is read is what was checked; a link to ``/dev/zero`` or a folder
    named ``x.geojson`` is refused, not read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        what = "is a link to a missing file" if path.is_symlink() else "does not exist"
        raise _fail(path, "", "file", what) from None
    except OSError as exc:
        raise _fail(path, "", "file", f"cannot be read ({exc.strerror or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = _FILE_TYPES.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise _fail(path, "", "file", f"is {kind}, not a layer file; remove it from the folder")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_LAYER_BYTES:
            raise _fail(path, "", "file", _too_big(info.st_size))
        try:
            data = handle.read(MAX_LAYER_BYTES + 1)
        except OSError as exc:
            raise _fail(path, "", "file", f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_LAYER_BYTES:  # it grew while being read
        raise _fail(path, "", "file", _too_big(len(data)))
    return data


_FILE_TYPES = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _too_big(size: int) -> str:
    return f"is {size:,} bytes, more than a layer file may be ({MAX_LAYER_BYTES:,})"


def _read_collection(path: Path) -> dict[str, Any]:
    data_bytes = _read_bytes(path)
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, "", "file", f"is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, "", "file", f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise _fail(path, "", "file", "is nested too deeply to be a layer") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise _fail(path, "", "type", "is not a GeoJSON FeatureCollection")
    if not isinstance(data.get("features"), list):
        raise _fail(path, "", "features", "is not a list")
    return data


def read_layer_file(path: Path | str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read and validate one layer file.

    Parameters
    ----------
    path : pathlib.Path or str
        A GeoJSON FeatureCollection following ``layers/SCHEMA.md``.
    layer : str, optional
        The layer name to record; default the file name without ``.geojson``.

    Returns
    -------
    layer : geopandas.GeoDataFrame
        One row per feature, columns :data:`COLUMNS` and ``geometry`` (EPSG:4326).

    Raises
    ------
    LayerValidationError
        If the file or a feature breaks the schema, or two features share an id.
    """
    path = Path(path)
    return _collection_frame(path, _read_collection(path), layer)


def _collection_frame(
    path: Path, data: dict[str, Any], layer: str | None = None
) -> gpd.GeoDataFrame:
    """Validate the features of a collection read by :func:`_read_collection` into a frame."""
    name = layer or path.name.removesuffix(".geojson")
    rows, geoms, seen = [], [], set()
    for index, feature in enumerate(data["features"]):
        props, geom = validate_feature(feature, path=path, index=index)
        if props["id"] in seen:
            raise _fail(path, props["id"], "id", "is used by another feature of this file")
        seen.add(props["id"])
        rows.append({"layer": name, **props})
        geoms.append(geom)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def _layer_paths() -> dict[str, Path]:
    folder = _data.layers_dir()
    return {p.name.removesuffix(".geojson"): p for p in sorted(folder.glob("*.geojson"))}


def _query_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def layer_path(name: str) -> Path:
    """Return the file of a layer; names match ignoring case and punctuation.

    Parameters
    ----------
    name : str
        A layer name such as ``nato_efp`` (``NATO-EFP`` matches too).

    Returns
    -------
    path : pathlib.Path
        The layer file.

    Raises
    ------
    LayerNotFoundError
        If no layer has that name; the message lists the layers.
    """
    paths = _layer_paths()
    wanted = _query_key(name)
    for key, path in paths.items():
        if _query_key(key) == wanted:
            return path
    raise LayerNotFoundError(f"no layer named {name!r}; layers: {', '.join(paths) or 'none'}")


def load_layer(name: str, *, as_of: str | dt.date | None = None) -> gpd.GeoDataFrame:
    """Load and validate one shipped layer.

    Parameters
    ----------
    name : str
        A layer name (see :func:`list_layers`).
    as_of : str, datetime.date or None
        Keep only the features active on this date; default keep every feature.

    Returns
    -------
    layer : geopandas.GeoDataFrame
        Columns :data:`COLUMNS` and ``geometry``.

    Raises
    ------
    LayerNotFoundError, LayerValidationError

    Examples
    --------
    >>> efp = load_layer("nato_efp")
    >>> bool((efp["operator"] == "NATO").any())
    True
    """
    path = layer_path(name)
    frame = read_layer_file(path)
    return filter_active(frame, as_of) if as_of is not None else frame


def load_layers(
    names: Iterable[str] | None = None, *, as_of: str | dt.date | None = None
) -> gpd.GeoDataFrame:
    """Load several layers into one frame, checking that ids are unique across them.

    Parameters
    ----------
    names : iterable of str, optional
        Layer names; default every shipped layer.
    as_of : str, datetime.date or None
        Keep only features active on this date; default keep every feature.

    Returns
    -------
    layers : geopandas.GeoDataFrame
        Columns :data:`COLUMNS` and ``geometry``; ``layer`` tells each row's layer.

    Raises
    ------
    LayerNotFoundError, LayerValidationError
    """
    paths = [layer_path(n) for n in names] if names is not None else list(_layer_paths().values())
    frames = [read_layer_file(p) for p in paths]
    owner: dict[str, str] = {}
    for path, frame in zip(paths, frames, strict=True):
        for fid in frame["id"]:
            if fid in owner:
                raise _fail(path, fid, "id", f"is also used in {owner[fid]}")
            owner[fid] = path.name
    if not frames:
        empty = pd.DataFrame(columns=list(COLUMNS))
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    return filter_active(frame, as_of) if as_of is not None else frame


def filter_active(frame: gpd.GeoDataFrame, as_of: str | dt.date | None) -> gpd.GeoDataFrame:
    """Keep the features whose ``since``/``until`` interval covers a date.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A loaded layer.
    as_of : str, datetime.date or None
        The date; default today.

    Returns
    -------
    active : geopandas.GeoDataFrame
        The active rows, with ``status`` set to the status on that date (from ``timeline``).
    """
    day = parse_as_of(as_of)
    mask = [active_on(s, u, day) for s, u in zip(frame["since"], frame["until"], strict=True)]
    active = frame.loc[mask].copy()
    active["status"] = [status_on(row, day) for row in active.to_dict("records")]
    return active.reset_index(drop=True)


def status_on(feature: Mapping[str, Any], as_of: dt.date) -> str:
    """Return a feature's status on a date, from its ``timeline`` if it has one.

    Parameters
    ----------
    feature : mapping
        Feature properties.
    as_of : datetime.date
        The date.

    Returns
    -------
    status : str
        The status of the last timeline entry on or before ``as_of``, else ``status``.
    """
    current = None
    for step in feature.get("timeline") or []:
        if date_bounds(step["date"])[0] <= as_of:
            current = step["status"]
    if current is None:
        return str(feature["status"])
    return current


def list_layers() -> list[LayerInfo]:
    """Describe every shipped layer.

    Returns
    -------
    layers : list of LayerInfo
        Name, title, description, feature count and date range (earliest ``since``, latest
        ``since`` or ``until``) of each layer, by name.

    Raises
    ------
    LayerValidationError
        If a layer file is invalid.
    """
    infos = []
    for name, path in _layer_paths().items():
        data = _read_collection(path)
        frame = _collection_frame(path, data, name)
        dates = [d for d in [*frame["since"], *frame["until"]] if d]
        infos.append(
            LayerInfo(
                name=name,
                title=str(data.get("title", name)),
                description=str(data.get("description", "")),
                count=len(frame),
                first=min(dates, key=lambda d: date_bounds(d)[0]) if dates else "",
                last=max(dates, key=lambda d: date_bounds(d)[0]) if dates else "",
                path=path,
            )
        )
    return infos


def layer_titles(names: Iterable[str]) -> dict[str, str]:
    """Return the title of each named layer (from the layer file; else the name in words).

    Only the files' titles are read; the features are not validated.

    Parameters
    ----------
    names : iterable of str
        Layer names, shipped or not.

    Returns
    -------
    titles : dict
        Name to title, in the order given.

    Examples
    --------
    >>> layer_titles(["my_own_sites"])
    {'my_own_sites': 'my own sites'}
    """
    try:
        paths = _layer_paths()
    except DataDirError:
        paths = {}
    titles = {}
    for name in names:
        title = name.replace("_", " ")
        if name in paths:
            with contextlib.suppress(LayerValidationError):  # unreadable: keep the words
                title = str(_read_collection(paths[name]).get("title", name))
        titles[name] = title
    return titles


def to_feature_collection(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """Turn a loaded layer back into a GeoJSON FeatureCollection (lists kept as lists).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A loaded layer.

    Returns
    -------
    collection : dict
        A GeoJSON FeatureCollection.
    """
    features = []
    for row, geom in zip(
        frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True
    ):
        features.append(
            {"type": "Feature", "properties": row, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}
