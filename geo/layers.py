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
from geo.display import LayerList

#: The words allowed in a feature's ``kind`` (``layers/SCHEMA.md`` defines each).
KINDS = (
    "early_warning_radar",
    "communications_station",
    "battlegroup",
    "brigade",
    "headquarters",
    "air_base",
    "naval_base",
    "missile_defence_site",
    "air_defence_site",
    "nuclear_sharing_base",
    "nuclear_storage",
    "garrison",
    "training_area",
    "force_integration_unit",
    "missile_unit",
    "military_base",
    "logistics_hub",
    "fortification_line",
)
#: The words allowed in ``status`` (and in a timeline entry's ``status``).
STATUSES = ("planned", "under_construction", "active", "ended")
#: How sure a feature's claim is (``confidence``), from the strongest evidence to the weakest.
CONFIDENCES = ("confirmed", "reported", "claimed")
#: What ``since`` marks (``since_basis``).
SINCE_BASES = ("construction", "activation", "agreement", "role_start", "earliest_source")
#: What the geometry marks (``coord_basis``), from the most to the least precise.
COORD_BASES = ("facility", "airfield", "area_centroid", "settlement", "schematic")
#: The kinds of publication a source can be (``sources[].type``).
SOURCE_TYPES = ("official", "press", "research", "osint", "reference", "state_media")
#: Operator codes besides the ISO alpha-3 codes of the border dataset (``SUN``: the Soviet Union).
EXTRA_OPERATORS = ("NATO", "SUN")
#: Properties every layer file's features must have.
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
#: Properties of schema v2 that every shipped feature must have as well (``strict=True``).
REQUIRED_V2 = ("confidence", "last_verified", "since_basis", "coord_basis")
SOURCE_FIELDS = ("title", "url", "publisher", "accessed")
#: Source fields of schema v2 that every source of a shipped feature must have.
SOURCE_FIELDS_V2 = ("type", "language")
#: Columns of a loaded layer, in order (``geometry`` last).
COLUMNS = (
    "layer",
    *REQUIRED[:10],
    "lead_nation",
    "notes",
    "sources",
    "timeline",
    *REQUIRED_V2,
    "operators",
    "units",
    "equipment",
    "aliases",
    "wikidata",
    "icao",
)
_ISO_639_1 = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da
de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz
ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln
lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi
pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
#: ISO 639-1 language codes (``sources[].language``).
LANGUAGES = frozenset(_ISO_639_1.split())
_GEOMETRIES = ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
#: The ``coord_basis`` words each geometry type may carry.
_BASES_BY_GEOMETRY = {
    "Point": ("facility", "airfield", "area_centroid", "settlement", "schematic"),
    "LineString": ("schematic",),
    "MultiLineString": ("schematic",),
    "Polygon": ("facility", "schematic"),
    "MultiPolygon": ("facility", "schematic"),
}
_WIKIDATA_RE = re.compile(r"^Q[1-9][0-9]*$")
_ICAO_RE = re.compile(r"^[A-Z]{4}$")
_FULL_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
    if shape.geom_type not in _GEOMETRIES:
        raise _fail(
            path, fid, "geometry", f"{shape.geom_type} is not one of {', '.join(_GEOMETRIES)}"
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


def _check_word(path: Path, fid: str, field: str, value: Any, words: Iterable[str]) -> None:
    words = tuple(words)
    if value not in words:
        raise _fail(path, fid, field, f"{value!r} is not one of {', '.join(words)}")


def _check_operator(path: Path, fid: str, field: str, value: Any, known: frozenset[str]) -> None:
    if value not in EXTRA_OPERATORS and value not in known:
        raise _fail(path, fid, field, f"{value!r} is not an ISO alpha-3 code, NATO or SUN")


def _check_list(path: Path, fid: str, field: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, fid, field, f"{value!r} is not a list")
    return value


def _check_entry(path: Path, fid: str, field: str, entry: Any, needed: str) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise _fail(path, fid, field, "is not an object")
    _check_text(path, fid, f"{field}.{needed}", entry.get(needed))
    return entry


def _check_span(path: Path, fid: str, field: str, entry: Mapping[str, Any]) -> None:
    """Check the optional ``since``/``until`` of a list entry (units, operators)."""
    since, until = entry.get("since", ""), entry.get("until", "")
    _check_date(path, fid, f"{field}.since", since, empty_ok=True)
    _check_date(path, fid, f"{field}.until", until, empty_ok=True)
    if since and until and date_bounds(until)[1] < date_bounds(since)[0]:
        raise _fail(path, fid, f"{field}.until", f"{until} is before since {since}")


def _check_operators(path: Path, fid: str, props: Mapping[str, Any], known: frozenset[str]) -> None:
    """Check the operator history: dated, in order, ending with ``operator``."""
    history = _check_list(path, fid, "operators", props["operators"])
    if not history:
        raise _fail(
            path, fid, "operators", "is empty; leave it out when the operator never changed"
        )
    previous = None
    for number, entry in enumerate(history, 1):
        field = f"operators[{number}]"
        entry = _check_entry(path, fid, field, entry, "operator")
        _check_operator(path, fid, f"{field}.operator", entry["operator"], known)
        _check_date(path, fid, f"{field}.since", entry.get("since"), empty_ok=False)
        _check_span(path, fid, field, entry)
        start = date_bounds(entry["since"])[0]
        if previous is not None and start < previous:
            raise _fail(path, fid, f"{field}.since", "operators are not in date order")
        previous = start
        if number < len(history) and not entry.get("until"):
            raise _fail(path, fid, f"{field}.until", "is empty, but a later operator follows")
    if history[-1]["operator"] != props["operator"]:
        raise _fail(
            path,
            fid,
            f"operators[{len(history)}].operator",
            f"{history[-1]['operator']!r} is not the feature's operator {props['operator']!r}",
        )


def _check_sources(path: Path, fid: str, sources: Any, *, strict: bool) -> None:
    if not isinstance(sources, list) or not sources:
        raise _fail(
            path, fid, "sources", "must be a non-empty list of {title, url, publisher, accessed}"
        )
    for number, source in enumerate(sources, 1):
        field = f"sources[{number}]"
        if not isinstance(source, Mapping):
            raise _fail(path, fid, field, "is not an object")
        lacking = [name for name in SOURCE_FIELDS if not source.get(name)]
        if strict:
            lacking += [name for name in SOURCE_FIELDS_V2 if not source.get(name)]
        if lacking:
            raise _fail(path, fid, f"{field}.{lacking[0]}", "is missing or empty")
        if not _URL_RE.match(str(source["url"])):
            raise _fail(path, fid, f"{field}.url", f"{source['url']!r} is not an http(s) URL")
        _check_date(path, fid, f"{field}.accessed", source["accessed"], empty_ok=False)
        if "type" in source:
            _check_word(path, fid, f"{field}.type", source["type"], SOURCE_TYPES)
        if "language" in source and source["language"] not in LANGUAGES:
            raise _fail(
                path,
                fid,
                f"{field}.language",
                f"{source['language']!r} is not an ISO 639-1 code (two lower-case letters)",
            )


def _check_v2(
    path: Path, fid: str, props: Mapping[str, Any], known: frozenset[str], n_sources: int
) -> None:
    """Check the schema v2 properties that a feature has (each is optional here)."""
    if "confidence" in props:
        _check_word(path, fid, "confidence", props["confidence"], CONFIDENCES)
    if "since_basis" in props:
        _check_word(path, fid, "since_basis", props["since_basis"], SINCE_BASES)
    if "coord_basis" in props:
        _check_word(path, fid, "coord_basis", props["coord_basis"], COORD_BASES)
    if "last_verified" in props:
        value = props["last_verified"]
        if not isinstance(value, str) or not _FULL_DATE_RE.match(value):
            raise _fail(path, fid, "last_verified", f"{value!r} is not a full date YYYY-MM-DD")
        _check_date(path, fid, "last_verified", value, empty_ok=False)
    if "operators" in props:
        _check_operators(path, fid, props, known)
    for number, unit in enumerate(_check_list(path, fid, "units", props.get("units", [])), 1):
        field = f"units[{number}]"
        unit = _check_entry(path, fid, field, unit, "designation")
        for name in ("parent", "branch"):
            if name in unit:
                _check_text(path, fid, f"{field}.{name}", unit[name])
        _check_span(path, fid, field, unit)
    equipment = _check_list(path, fid, "equipment", props.get("equipment", []))
    for number, item in enumerate(equipment, 1):
        field = f"equipment[{number}]"
        item = _check_entry(path, fid, field, item, "system")
        count = item.get("count")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            raise _fail(path, fid, f"{field}.count", f"{count!r} is not a whole number >= 0")
        _check_date(path, fid, f"{field}.as_of", item.get("as_of"), empty_ok=False)
        source = item.get("source")
        if isinstance(source, bool) or not isinstance(source, int) or not 1 <= source <= n_sources:
            raise _fail(
                path, fid, f"{field}.source", f"{source!r} is not the number of one of the sources"
            )
    for number, alias in enumerate(_check_list(path, fid, "aliases", props.get("aliases", [])), 1):
        _check_text(path, fid, f"aliases[{number}]", alias)
    if "wikidata" in props and not _WIKIDATA_RE.match(str(props["wikidata"])):
        raise _fail(path, fid, "wikidata", f"{props['wikidata']!r} is not a Wikidata id (Q123)")
    if "icao" in props and not _ICAO_RE.match(str(props["icao"])):
        raise _fail(path, fid, "icao", f"{props['icao']!r} is not a four-letter ICAO code")


def validate_feature(
    feature: Mapping[str, Any],
    *,
    path: Path | str,
    index: int,
    countries: Iterable[str] | None = None,
    strict: bool = False,
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
    strict : bool
        Also require the schema v2 fields (:data:`REQUIRED_V2`, and :data:`SOURCE_FIELDS_V2` in
        every source), as every shipped feature has them; default check them only where given.

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
    required = (*REQUIRED, *REQUIRED_V2) if strict else REQUIRED
    missing = [name for name in required if name not in props]
    if missing:
        raise _fail(path, fid, missing[0], f"is missing (missing: {', '.join(missing)})")
    if not _ID_RE.match(fid_value or ""):
        raise _fail(path, fid, "id", f"{fid_value!r} is not a slug of a-z, 0-9 and '-'")
    for field in ("name", "coord_note"):
        _check_text(path, fid, field, props[field])
    _check_word(path, fid, "kind", props["kind"], KINDS)
    _check_word(path, fid, "status", props["status"], STATUSES)
    known = frozenset(countries) if countries is not None else _country_codes()
    if props["country"] not in known:
        raise _fail(path, fid, "country", f"{props['country']!r} is not a known ISO alpha-3 code")
    _check_operator(path, fid, "operator", props["operator"], known)
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
    _check_sources(path, fid, props["sources"], strict=strict)
    _check_v2(path, fid, props, known, len(props["sources"]))
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
    basis = props.get("coord_basis")
    if basis is not None and basis not in _BASES_BY_GEOMETRY[geometry.geom_type]:
        allowed = ", ".join(_BASES_BY_GEOMETRY[geometry.geom_type])
        raise _fail(
            path,
            fid,
            "coord_basis",
            f"{basis!r} does not fit a {geometry.geom_type} (use {allowed})",
        )
    clean = dict(props)
    for name in ("lead_nation", "notes", *REQUIRED_V2, "wikidata", "icao"):
        clean.setdefault(name, "")
    for name in ("timeline", "operators", "units", "equipment", "aliases"):
        clean.setdefault(name, [])
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


def list_layers() -> LayerList:
    """Describe every shipped layer.

    Returns
    -------
    layers : geo.display.LayerList
        A list of :class:`LayerInfo`: name, title, description, feature count and date range
        (earliest ``since``, latest ``since`` or ``until``) of each layer, by name. A notebook
        shows it as a table.

    Raises
    ------
    LayerValidationError
        If a layer file is invalid.
    """
    infos = LayerList()
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


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def check_layers(
    folder: Path | str, *, as_of: str | dt.date | None = None, strict: bool = True
) -> gpd.GeoDataFrame:
    """Validate every layer file of a folder and list the features due for a new check.

    For whoever maintains the data: every ``*.geojson`` file of ``folder`` is checked against
    schema v2 (with ``strict``, every v2 field is required, as in the shipped layers), ids must
    be unique across the files, and the features whose ``last_verified`` lies more than one
    year before ``as_of`` (or that have none) are returned.

    Parameters
    ----------
    folder : pathlib.Path or str
        A folder of layer files.
    as_of : str, datetime.date or None
        The date to measure the age of ``last_verified`` from; default today.
    strict : bool
        Require the schema v2 fields; default True.

    Returns
    -------
    stale : geopandas.GeoDataFrame
        The features last verified before one year before ``as_of``, oldest first (columns
        :data:`COLUMNS` and ``geometry``); empty when every feature is current.

    Raises
    ------
    DataDirError
        If ``folder`` is not a folder.
    LayerValidationError
        Naming the file, the feature and the field of the first problem found.

    Examples
    --------
    >>> from geo import _data
    >>> stale = check_layers(_data.layers_dir(), as_of="2026-12-02")
    >>> list(stale.columns) == [*COLUMNS, "geometry"]
    True
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataDirError(f"{folder} is not a folder of layer files")
    cutoff = _year_before(parse_as_of(as_of))
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    owner: dict[str, str] = {}
    for path in sorted(folder.glob("*.geojson")):
        data = _read_collection(path)
        name = path.name.removesuffix(".geojson")
        for index, feature in enumerate(data["features"]):
            props, geom = validate_feature(feature, path=path, index=index, strict=strict)
            fid = props["id"]
            if fid in owner:
                other = owner[fid]
                problem = (
                    "is used by another feature of this file"
                    if other == path.name
                    else f"is also used in {other}"
                )
                raise _fail(path, fid, "id", problem)
            owner[fid] = path.name
            verified = props["last_verified"]
            if not verified or dt.date.fromisoformat(verified) < cutoff:
                rows.append({"layer": name, **props})
                geoms.append(geom)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    stale = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
    order = sorted(range(len(stale)), key=lambda i: (str(stale["last_verified"].iloc[i]), i))
    return stale.iloc[order].reset_index(drop=True)
