"""The layer registry: sourced, dated GeoJSON layers in ``layers/``.

Each ``layers/<name>.geojson`` is one layer; ``layers/SCHEMA.md`` documents the format. Loading a
layer validates every feature and names the file, the feature id and the field of any problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely

if TYPE_CHECKING:  # pandas and geopandas load when a frame is made: listing needs neither
    import geopandas as gpd

from geo import _data
from geo._errors import DataDirError, LayerNotFoundError, LayerValidationError, located
from geo.dates import active_on, date_bounds, parse_as_of
from geo.display import LayerList
from geo.geojson import geometry_problem, read_collection

__all__ = [
    "COLUMNS",
    "CONFIDENCES",
    "COORD_BASES",
    "EXTRA_OPERATORS",
    "EXTRA_OPERATOR_NAMES",
    "KINDS",
    "LANGUAGES",
    "MAX_LAYER_BYTES",
    "REQUIRED",
    "REQUIRED_V2",
    "SINCE_BASES",
    "SOURCE_FIELDS",
    "SOURCE_FIELDS_V2",
    "SOURCE_TYPES",
    "STATUSES",
    "LayerInfo",
    "check_layers",
    "filter_active",
    "layer_path",
    "layer_titles",
    "list_layers",
    "load_layer",
    "load_layers",
    "read_layer_file",
    "status_on",
    "to_feature_collection",
    "validate_feature",
]

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
#: The names of :data:`EXTRA_OPERATORS`, which the border dataset does not name.
EXTRA_OPERATOR_NAMES = {"NATO": "NATO", "SUN": "Soviet Union"}
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


def _check_date(path: Path, where: str, field: str, value: Any, *, empty_ok: bool) -> None:
    if value == "" and empty_ok:
        return
    if not isinstance(value, str):
        raise LayerValidationError(
            located(
                path, where, field, f"{value!r} is not a string date (YYYY, YYYY-MM, YYYY-MM-DD)"
            )
        )
    try:
        date_bounds(value)
    except ValueError as exc:
        raise LayerValidationError(located(path, where, field, str(exc))) from None


def _check_text(path: Path, where: str, field: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LayerValidationError(
            located(path, where, field, f"{value!r} is not a non-empty string")
        )


def _check_coords(path: Path, where: str, geom: Any) -> shapely.Geometry:
    problem = geometry_problem(geom, types=_GEOMETRIES, bounds=True)
    if problem:
        raise LayerValidationError(located(path, where, "geometry", problem))
    return shapely.geometry.shape(geom)


def _check_word(path: Path, where: str, field: str, value: Any, words: Iterable[str]) -> None:
    words = tuple(words)
    if value not in words:
        raise LayerValidationError(
            located(path, where, field, f"{value!r} is not one of {', '.join(words)}")
        )


def _check_operator(path: Path, where: str, field: str, value: Any, known: frozenset[str]) -> None:
    if value not in EXTRA_OPERATORS and value not in known:
        raise LayerValidationError(
            located(path, where, field, f"{value!r} is not an ISO alpha-3 code, NATO or SUN")
        )


def _check_list(path: Path, where: str, field: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise LayerValidationError(located(path, where, field, f"{value!r} is not a list"))
    return value


def _check_entry(path: Path, where: str, field: str, entry: Any, needed: str) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise LayerValidationError(located(path, where, field, "is not an object"))
    _check_text(path, where, f"{field}.{needed}", entry.get(needed))
    return entry


def _check_span(path: Path, where: str, field: str, entry: Mapping[str, Any]) -> None:
    """Check the optional ``since``/``until`` of a list entry (units, operators)."""
    since, until = entry.get("since", ""), entry.get("until", "")
    _check_date(path, where, f"{field}.since", since, empty_ok=True)
    _check_date(path, where, f"{field}.until", until, empty_ok=True)
    if since and until and date_bounds(until)[1] < date_bounds(since)[0]:
        raise LayerValidationError(
            located(path, where, f"{field}.until", f"{until} is before since {since}")
        )


def _check_operators(
    path: Path, where: str, props: Mapping[str, Any], known: frozenset[str]
) -> None:
    """Check the operator history: dated, in order, ending with ``operator``."""
    history = _check_list(path, where, "operators", props["operators"])
    if not history:
        raise LayerValidationError(
            located(
                path, where, "operators", "is empty; leave it out when the operator never changed"
            )
        )
    previous = None
    for number, entry in enumerate(history, 1):
        field = f"operators[{number}]"
        entry = _check_entry(path, where, field, entry, "operator")
        _check_operator(path, where, f"{field}.operator", entry["operator"], known)
        _check_date(path, where, f"{field}.since", entry.get("since"), empty_ok=False)
        _check_span(path, where, field, entry)
        start = date_bounds(entry["since"])[0]
        if previous is not None and start < previous:
            raise LayerValidationError(
                located(path, where, f"{field}.since", "operators are not in date order")
            )
        previous = start
        if number < len(history) and not entry.get("until"):
            raise LayerValidationError(
                located(path, where, f"{field}.until", "is empty, but a later operator follows")
            )
    if history[-1]["operator"] != props["operator"]:
        raise LayerValidationError(
            located(
                path,
                where,
                f"operators[{len(history)}].operator",
                f"{history[-1]['operator']!r} is not the feature's operator {props['operator']!r}",
            )
        )


def _check_sources(path: Path, where: str, sources: Any, *, strict: bool) -> None:
    if not isinstance(sources, list) or not sources:
        raise LayerValidationError(
            located(
                path,
                where,
                "sources",
                "must be a non-empty list of {title, url, publisher, accessed}",
            )
        )
    for number, source in enumerate(sources, 1):
        field = f"sources[{number}]"
        if not isinstance(source, Mapping):
            raise LayerValidationError(located(path, where, field, "is not an object"))
        lacking = [name for name in SOURCE_FIELDS if not source.get(name)]
        if strict:
            lacking += [name for name in SOURCE_FIELDS_V2 if not source.get(name)]
        if lacking:
            raise LayerValidationError(
                located(path, where, f"{field}.{lacking[0]}", "is missing or empty")
            )
        if not _URL_RE.match(str(source["url"])):
            raise LayerValidationError(
                located(path, where, f"{field}.url", f"{source['url']!r} is not an http(s) URL")
            )
        _check_date(path, where, f"{field}.accessed", source["accessed"], empty_ok=False)
        if "type" in source:
            _check_word(path, where, f"{field}.type", source["type"], SOURCE_TYPES)
        if "language" in source and source["language"] not in LANGUAGES:
            raise LayerValidationError(
                located(
                    path,
                    where,
                    f"{field}.language",
                    f"{source['language']!r} is not an ISO 639-1 code (two lower-case letters)",
                )
            )


def _check_v2(
    path: Path, where: str, props: Mapping[str, Any], known: frozenset[str], n_sources: int
) -> None:
    """Check the schema v2 properties that a feature has (each is optional here)."""
    if "confidence" in props:
        _check_word(path, where, "confidence", props["confidence"], CONFIDENCES)
    if "since_basis" in props:
        _check_word(path, where, "since_basis", props["since_basis"], SINCE_BASES)
    if "coord_basis" in props:
        _check_word(path, where, "coord_basis", props["coord_basis"], COORD_BASES)
    if "last_verified" in props:
        value = props["last_verified"]
        if not isinstance(value, str) or not _FULL_DATE_RE.match(value):
            raise LayerValidationError(
                located(path, where, "last_verified", f"{value!r} is not a full date YYYY-MM-DD")
            )
        _check_date(path, where, "last_verified", value, empty_ok=False)
    if "operators" in props:
        _check_operators(path, where, props, known)
    for number, unit in enumerate(_check_list(path, where, "units", props.get("units", [])), 1):
        field = f"units[{number}]"
        unit = _check_entry(path, where, field, unit, "designation")
        for name in ("parent", "branch"):
            if name in unit:
                _check_text(path, where, f"{field}.{name}", unit[name])
        _check_span(path, where, field, unit)
    equipment = _check_list(path, where, "equipment", props.get("equipment", []))
    for number, item in enumerate(equipment, 1):
        field = f"equipment[{number}]"
        item = _check_entry(path, where, field, item, "system")
        count = item.get("count")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            raise LayerValidationError(
                located(path, where, f"{field}.count", f"{count!r} is not a whole number >= 0")
            )
        _check_date(path, where, f"{field}.as_of", item.get("as_of"), empty_ok=False)
        source = item.get("source")
        if isinstance(source, bool) or not isinstance(source, int) or not 1 <= source <= n_sources:
            raise LayerValidationError(
                located(
                    path,
                    where,
                    f"{field}.source",
                    f"{source!r} is not the number of one of the sources",
                )
            )
    for number, alias in enumerate(
        _check_list(path, where, "aliases", props.get("aliases", [])), 1
    ):
        _check_text(path, where, f"aliases[{number}]", alias)
    if "wikidata" in props and not _WIKIDATA_RE.match(str(props["wikidata"])):
        raise LayerValidationError(
            located(path, where, "wikidata", f"{props['wikidata']!r} is not a Wikidata id (Q123)")
        )
    if "icao" in props and not _ICAO_RE.match(str(props["icao"])):
        raise LayerValidationError(
            located(path, where, "icao", f"{props['icao']!r} is not a four-letter ICAO code")
        )


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
        raise LayerValidationError(
            located(path, f"feature #{index}", "type", "is not a GeoJSON Feature")
        )
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise LayerValidationError(
            located(path, f"feature #{index}", "properties", "is missing or not an object")
        )
    fid_value = props.get("id")
    where = (
        f"feature {fid_value}" if isinstance(fid_value, str) and fid_value else f"feature #{index}"
    )
    required = (*REQUIRED, *REQUIRED_V2) if strict else REQUIRED
    missing = [name for name in required if name not in props]
    if missing:
        raise LayerValidationError(
            located(path, where, missing[0], f"is missing (missing: {', '.join(missing)})")
        )
    if not _ID_RE.match(fid_value or ""):
        raise LayerValidationError(
            located(path, where, "id", f"{fid_value!r} is not a slug of a-z, 0-9 and '-'")
        )
    for field in ("name", "coord_note"):
        _check_text(path, where, field, props[field])
    _check_word(path, where, "kind", props["kind"], KINDS)
    _check_word(path, where, "status", props["status"], STATUSES)
    known = frozenset(countries) if countries is not None else _country_codes()
    if props["country"] not in known:
        raise LayerValidationError(
            located(path, where, "country", f"{props['country']!r} is not a known ISO alpha-3 code")
        )
    _check_operator(path, where, "operator", props["operator"], known)
    lead = props.get("lead_nation", "")
    if lead and lead not in known:
        raise LayerValidationError(
            located(path, where, "lead_nation", f"{lead!r} is not a known ISO alpha-3 code")
        )
    _check_date(path, where, "since", props["since"], empty_ok=False)
    _check_date(path, where, "until", props["until"], empty_ok=True)
    if props["until"] and date_bounds(props["until"])[1] < date_bounds(props["since"])[0]:
        raise LayerValidationError(
            located(path, where, "until", f"{props['until']} is before since {props['since']}")
        )
    if props["until"] and props["status"] != "ended":
        raise LayerValidationError(
            located(path, where, "status", f"is {props['status']!r} but until is {props['until']}")
        )
    unc = props["coord_uncertainty_m"]
    if isinstance(unc, bool) or not isinstance(unc, int | float) or not 0 <= unc <= 100_000:
        raise LayerValidationError(
            located(
                path, where, "coord_uncertainty_m", f"{unc!r} is not a number of metres 0..100000"
            )
        )
    _check_sources(path, where, props["sources"], strict=strict)
    _check_v2(path, where, props, known, len(props["sources"]))
    timeline = props.get("timeline", [])
    if not isinstance(timeline, list):
        raise LayerValidationError(located(path, where, "timeline", "is not a list"))
    previous = None
    for number, step in enumerate(timeline, 1):
        field = f"timeline[{number}]"
        if not isinstance(step, Mapping):
            raise LayerValidationError(located(path, where, field, "is not an object"))
        _check_date(path, where, f"{field}.date", step.get("date"), empty_ok=False)
        if step.get("status") not in STATUSES:
            raise LayerValidationError(
                located(path, where, f"{field}.status", f"{step.get('status')!r} is not a status")
            )
        start = date_bounds(step["date"])[0]
        if previous is not None and start < previous:
            raise LayerValidationError(
                located(path, where, f"{field}.date", "timeline is not in date order")
            )
        previous = start
    geometry = _check_coords(path, where, feature.get("geometry"))
    basis = props.get("coord_basis")
    if basis is not None and basis not in _BASES_BY_GEOMETRY[geometry.geom_type]:
        allowed = ", ".join(_BASES_BY_GEOMETRY[geometry.geom_type])
        raise LayerValidationError(
            located(
                path,
                where,
                "coord_basis",
                f"{basis!r} does not fit a {geometry.geom_type} (use {allowed})",
            )
        )
    clean = dict(props)
    for name in ("lead_nation", "notes", *REQUIRED_V2, "wikidata", "icao"):
        clean.setdefault(name, "")
    for name in ("timeline", "operators", "units", "equipment", "aliases"):
        clean.setdefault(name, [])
    return clean, geometry


def _country_codes() -> frozenset[str]:
    return _data.country_codes()  # the attribute table only: no geometry, no geopandas


#: The largest layer file read, in bytes (the shipped layers are a few tens of KB).
MAX_LAYER_BYTES = 64 * 1024 * 1024


def _read_collection(path: Path) -> dict[str, Any]:
    """Read a layer file: a regular file of at most :data:`MAX_LAYER_BYTES` bytes."""
    return read_collection(
        path,
        max_bytes=MAX_LAYER_BYTES,
        field="file",
        what="a layer file",
        error=LayerValidationError,
    )


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
    import geopandas as gpd
    import pandas as pd

    name = layer or path.name.removesuffix(".geojson")
    features = _validated_features(path, data)
    rows = [{"layer": name, **props} for props, _ in features]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=[geom for _, geom in features], crs="EPSG:4326")


def _validated_features(
    path: Path, data: dict[str, Any]
) -> list[tuple[dict[str, Any], shapely.Geometry]]:
    """Validate every feature of a collection; ids must be unique in the file."""
    features, seen, known = [], set(), _country_codes()  # the codes once, not per feature
    for index, feature in enumerate(data["features"]):
        props, geom = validate_feature(feature, path=path, index=index, countries=known)
        if props["id"] in seen:
            raise LayerValidationError(
                located(
                    path, f"feature {props['id']}", "id", "is used by another feature of this file"
                )
            )
        seen.add(props["id"])
        features.append((props, geom))
    return features


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
                raise LayerValidationError(
                    located(path, f"feature {fid}", "id", f"is also used in {owner[fid]}")
                )
            owner[fid] = path.name
    import geopandas as gpd
    import pandas as pd

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
        The active rows, with ``status`` set to the status on that date (from ``timeline``)
        and ``operator`` to the operator on that date (from ``operators``, see
        :func:`operator_on`).
    """
    day = parse_as_of(as_of)
    mask = [active_on(s, u, day) for s, u in zip(frame["since"], frame["until"], strict=True)]
    active = frame.loc[mask].copy()
    records = active.to_dict("records")
    active["status"] = [status_on(row, day) for row in records]
    active["operator"] = [operator_on(row, day) for row in records]
    return active.reset_index(drop=True)


def operator_on(feature: Mapping[str, Any], as_of: str | dt.date) -> str:
    """Return the state (or ``NATO``) that operated a feature on a date.

    A feature whose operator changed has an ``operators`` history (``[{operator, since,
    until}]``): the Soviet Union (``SUN``) until 1991, then Russia. The operator on a day is
    that of the last entry whose interval covers the day (on a day of handover, the new one).
    On a day that no entry covers (before the first entry, or between two), and for a feature
    without a history, it is the feature's ``operator``.

    Parameters
    ----------
    feature : mapping
        Feature properties (a row of a loaded layer, or a GeoJSON feature's properties).
    as_of : str or datetime.date
        The day, ``YYYY-MM-DD`` or a date.

    Returns
    -------
    operator : str
        An ISO alpha-3 code, ``NATO`` or ``SUN``.

    Examples
    --------
    >>> baltiysk = {
    ...     "operator": "RUS",
    ...     "operators": [
    ...         {"operator": "SUN", "since": "1945", "until": "1991-12-26"},
    ...         {"operator": "RUS", "since": "1991-12-26", "until": ""},
    ...     ],
    ... }
    >>> operator_on(baltiysk, "1990-01-01"), operator_on(baltiysk, "1991-12-26")
    ('SUN', 'RUS')
    """
    day = parse_as_of(as_of)
    current = None
    for entry in feature.get("operators") or []:
        if active_on(entry["since"], entry.get("until", ""), day):
            current = entry["operator"]
    return str(feature["operator"] if current is None else current)


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
    current: str | None = None
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
        features = [props for props, _ in _validated_features(path, data)]
        dates = [d for d in [f["since"] for f in features] + [f["until"] for f in features] if d]
        infos.append(
            LayerInfo(
                name=name,
                title=str(data.get("title", name)),
                description=str(data.get("description", "")),
                count=len(features),
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
        If ``folder`` is not a folder, or holds no ``*.geojson`` file.
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
    paths = sorted(folder.glob("*.geojson"))
    if not paths:
        raise DataDirError(f"{folder} holds no layer files (*.geojson)")
    rows: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    owner: dict[str, str] = {}
    known = _country_codes()
    for path in paths:
        data = _read_collection(path)
        name = path.name.removesuffix(".geojson")
        for index, feature in enumerate(data["features"]):
            props, geom = validate_feature(
                feature, path=path, index=index, countries=known, strict=strict
            )
            fid = props["id"]
            if fid in owner:
                other = owner[fid]
                problem = (
                    "is used by another feature of this file"
                    if other == path.name
                    else f"is also used in {other}"
                )
                raise LayerValidationError(located(path, f"feature {fid}", "id", problem))
            owner[fid] = path.name
            verified = props["last_verified"]
            if not verified or dt.date.fromisoformat(verified) < cutoff:
                rows.append({"layer": name, **props})
                geoms.append(geom)
    import geopandas as gpd
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    stale = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))
    order = sorted(range(len(stale)), key=lambda i: (str(stale["last_verified"].iloc[i]), i))
    return stale.iloc[order].reset_index(drop=True)
