"""The data the map's script draws, described once, and the helpers that encode it.

:class:`MapData` and the ``TypedDict`` classes it holds are the whole Python-to-JS contract of
the map: :func:`geo.maps.build_map` fills one, :func:`script_json` serialises it into the page,
and ``geo/assets/flankmap/01-core.js`` reads it (its header comment names the same fields).
Text values are plain text (the script puts them into the page with ``textContent``);
coordinates are ``lat``/``lon`` in degrees, and ``codes`` are delta-encoded integer rings
``[x0, y0, dx1, dy1, ...]`` of lon/lat times a ``scale`` (:func:`encode_ring`).
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal, NotRequired, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Coordinate scales (integers per degree) of the embedded geometry.
BASEMAP_SCALE = 1000  # about 100 m: finer than the simplification
LINE_SCALE = 10000  # about 10 m, for the frontier and the rings
DETAIL_SCALE = 20000  # 5e-5 degree (at most 2.8 m off in latitude), the analysis frontier
SITE_DECIMALS = 5
PLACE_DECIMALS = 3


# --- the data handed to the map's script (geo/assets/flankmap/) ---------------------------
# Text values are plain text: the script puts them into the page with textContent.
# Coordinates: "lat"/"lon" in degrees; "codes" are delta-encoded integer rings
# [x0, y0, dx1, dy1, ...] of lon/lat times "scale".


class CountryStyle(TypedDict):
    """Fill and outline of one group of countries."""

    fill: str
    stroke: str
    weight: float
    fillOpacityTiles: float


class Places(TypedDict):
    """Towns: ``towns`` rows are ``[name, lat, lon, tier]``; tier ``t`` shows from ``zooms[t]``."""

    zooms: list[float]
    towns: list[list[Any]]


class Basemap(TypedDict):
    """The vector basemap and its names.

    ``countries`` rows are ``[iso_a3, group, polygons]`` (group ``west``, ``east`` or
    ``other``; polygons a list of lists of ``codes``); ``labels`` rows are ``[name, lat, lon,
    rank]``; ``regions`` rows are ``[name, lat, lon, polygons]`` (a label kept inside the
    region's visible part); ``legend`` rows are ``[group, text]``.
    """

    scale: int
    tiles: bool
    styles: dict[str, CountryStyle]
    countries: list[list[Any]]
    labels: list[list[Any]]
    regions: list[list[Any]]
    places: Places
    legend: list[list[str]]


class Popup(TypedDict):
    """The popups and tooltips of one site layer, one list entry per site.

    ``fields`` are row labels; ``fixed`` maps a field's index (as a string) to the value every
    site shares, and ``rows`` hold the other fields' values in order. ``sources`` entries are
    ``[title, url, publisher, accessed]``; ``timeline`` entries ``[date, status, event]``.
    """

    names: list[str]
    ids: NotRequired[list[str]]
    fields: list[str]
    fixed: dict[str, str]
    rows: list[list[str]]
    sources: list[list[list[str]]] | None
    notes: NotRequired[list[str]]
    timeline: NotRequired[list[list[list[str]]]]
    aka: NotRequired[list[str]]
    sub: NotRequired[str]
    subs: NotRequired[list[str]]
    tips: NotRequired[list[str]]


class SitesOverlay(TypedDict):
    """One layer of sites.

    ``looks`` rows are ``[colour, hollow, fill_opacity, dash, outline_width, badge]``
    (:class:`geo.styles.Mark` in a colour; ``dash`` a SVG dash array or ``""``); ``look``
    gives each site's row (absent when every site has the first). ``unc`` is each site's
    coordinate uncertainty in metres (0 when unknown; absent on a canvas layer or when no
    site has one), ``to`` its nearest point of the opposing side (``[lat, lon]`` or null).
    ``areas`` holds a site's polygons or null, ``lines`` a line site's lines (a list of
    ``codes``) or null; the marker stands on the area or the line. ``since`` and ``until``
    are each site's first and last day (``YYYY-MM-DD``, ``""`` when open), for the slider;
    ``st`` each site's status by date, ``[first_day, status, look]`` (the first row, with
    ``first_day`` ``""``, before the timeline starts; empty when the status never changes).
    """

    type: Literal["sites"]
    slug: str
    label: str
    legend: str
    user: bool
    colour: str
    symbol: str
    bulk: bool
    lat: list[float]
    lon: list[float]
    scale: int
    areas: list[Any] | None
    lines: NotRequired[list[Any]]
    looks: list[list[Any]]
    look: NotRequired[list[int]]
    unc: NotRequired[list[float]]
    to: NotRequired[list[list[float] | None]]
    since: NotRequired[list[str]]
    until: NotRequired[list[str]]
    st: NotRequired[list[list[list[Any]]]]
    p: Popup
    pts: NotRequired[BulkPoints]


class BulkPoints(TypedDict):
    r"""A big user layer's points in one gzip member (base64): see :func:`geo._bulk.bulk_payload`.

    ``data`` holds, for ``n`` points, arrays one after another, each as little-endian byte
    planes (the first byte of every point, then the second...): int32 lon and
    int32 lat (degrees times ``scale``), the group of each point (uint of ``group`` bytes:
    a row of the popup's ``rows`` and an entry of ``looks``), a uint16 distance code
    (:func:`geo._bulk.km_codes`), then UTF-8 texts, ``"\n"``-joined, of the byte lengths in ``texts``
    (``[key, bytes]``: ``"names"``, ``"ids"`` or the index of a popup field), or, for texts that
    are all one prefix and a number (``[key, bytes, prefix]``), int32 byte planes of each
    number's step from the one before (the first from 0): the text is ``prefix + number``
    (:func:`geo._bulk.numbered`). ``km`` and
    ``xy`` are the indices of the fields the script fills in from the distance and the
    coordinates (-1: none), ``unc`` the text after every point's coordinates. ``days``, only
    for a file with ``since`` and ``until``, gives each group's first and last day
    (``YYYY-MM-DD``, ``""`` when open): the date slider draws the points of the groups in
    service on its day. With many distinct dates, ``epoch`` (``YYYY-MM-DD``) is there instead:
    two more uint16 arrays follow the distance codes, each point's first and last day as days
    after the epoch (0: open), and the dates field is one of the texts.
    """

    n: int
    scale: int
    group: int
    looks: list[int]
    km: int
    xy: int
    unc: str
    texts: list[list[Any]]
    data: str
    days: NotRequired[list[list[str]]]
    epoch: NotRequired[str]


class PathStyle(TypedDict, total=False):
    """Leaflet path options."""

    color: str
    weight: float
    opacity: float
    dashArray: str
    lineCap: str
    fill: bool
    fillOpacity: float
    interactive: bool


class FrontierDetail(TypedDict):
    """The frontier of the borders measured to, drawn instead of the display's from ``zoom``.

    ``pairs`` maps each frontier part the map can show (``EST-RUS``; the parts of every
    timeline state) to its lines (``{"coords": [codes, ...], "tooltip": text}``, codes at
    ``scale``); ``shown`` lists the parts of the map's date. ``source`` names the borders.
    ``fills`` rows ``[iso_a3, polygons]`` are the land the basemap's simplified countries
    give to the neighbour across a part: painted in the country's fill from ``zoom`` on (absent
    when online tiles show through the fills).
    """

    zoom: float
    scale: int
    source: str
    pairs: dict[str, list[dict[str, Any]]]
    shown: list[str]
    fills: NotRequired[list[list[Any]]]


class FrontierOverlay(TypedDict):
    """The frontier: ``lines`` entries are ``{"coords": [codes, ...], "tooltip": text}``.

    ``lines`` are the display's (Natural Earth) frontier; ``detail``, present when the map
    measures to other borders, holds their frontier, drawn from its zoom on.
    """

    type: Literal["frontier"]
    slug: str
    label: str
    legend: str
    scale: int
    style: PathStyle
    casing: PathStyle
    lines: list[dict[str, Any]]
    detail: NotRequired[FrontierDetail]


class DistancesOverlay(TypedDict):
    """Distance lines: ``[site_lat, site_lon, to_lat, to_lon, label, tooltip]``."""

    type: Literal["distances"]
    slug: str
    label: str
    legend: str
    show: bool
    style: PathStyle
    lines: list[list[Any]]


class RingsOverlay(TypedDict):
    """Range rings: ``[codes, colour, tooltip, label, label_lat, label_lon]``."""

    type: Literal["rings"]
    slug: str
    label: str
    legend: str
    scale: int
    style: PathStyle
    rings: list[list[Any]]


class AreasOverlay(TypedDict):
    """Named areas: ``{"name", "text", "lines": [codes, ...], "sources"}`` each."""

    type: Literal["areas"]
    slug: str
    label: str
    legend: str
    scale: int
    style: PathStyle
    areas: list[dict[str, Any]]


Overlay = FrontierOverlay | DistancesOverlay | RingsOverlay | SitesOverlay | AreasOverlay


class TimelineState(TypedDict):
    """One state of the frontier: from ``start`` to the next state's start.

    ``west`` holds the NATO members (ISO alpha-3), ``pairs`` the frontier's parts drawn (keys
    of :attr:`Timeline.pairs`), ``detail`` (when the map measures to other borders than the
    display's) the parts of their frontier (keys of :attr:`FrontierDetail.pairs`), ``legend``
    the frontier's legend. ``to`` gives, per site layer
    slug, one row per site of the layer: ``[distance_m, lat, lon, label, border]`` to the
    nearest point of the opposing side in this state (exact, computed in Python), or null.
    """

    start: str
    west: list[str]
    pairs: list[str]
    detail: NotRequired[list[str]]
    legend: str
    to: dict[str, list[list[Any] | None]]


class Timeline(TypedDict):
    """The dates the map can show: ``start`` to ``end`` (``YYYY-MM-DD``).

    ``events`` rows are ``[date, text]`` (site starts and ends, timeline steps, NATO
    accessions), by date; ``pairs`` maps a frontier part (``FIN-RUS``) to its lines
    (``{"coords": [codes], "tooltip": text}``, as in :class:`FrontierOverlay`); ``states``
    are the frontier states in order (one per NATO accession within the span). The distance
    lines of the sites within ``nearKm`` are shown by default (:data:`geo._overlays.NEAR_KM`).
    """

    start: str
    end: str
    nearKm: float
    events: list[list[str]]
    pairs: dict[str, list[dict[str, Any]]]
    states: list[TimelineState]


class Tiles(TypedDict):
    """Online tiles under the vector basemap (only when asked for)."""

    name: str
    url: str
    attribution: str
    maxZoom: int


class MapData(TypedDict):
    """Everything the map's script draws: ``flankmap.render(map, data)``."""

    title: str
    date: str
    subtitle: str
    attribution: str
    attributionShort: str
    zooms: dict[str, float]
    bounds: list[list[float]]
    basemap: Basemap
    tiles: Tiles | None
    overlays: list[Overlay]
    certainty: list[list[Any]]
    timeline: NotRequired[Timeline]
    changesSince: NotRequired[str]


def script_json(value: Any) -> str:
    r"""Serialise a value as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\u003c``, ``\u003e`` and ``\u0026`` (so no text can close
    the script or open a comment) and the line separators U+2028 and U+2029 are escaped.

    Parameters
    ----------
    value : object
        Anything :func:`json.dumps` accepts; keys keep their order.

    Returns
    -------
    text : str
        Compact JSON.

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# --- geometry for display ---------------------------------------------------------------


def encode_ring(xy: np.ndarray, scale: int) -> list[int]:
    """Delta-encode a coordinate sequence as integers (degrees times ``scale``)."""
    q = np.round(np.asarray(xy, dtype=float)[:, :2] * scale).astype(np.int64)
    if len(q) > 1:
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return [int(v) for v in deltas.ravel()]


def encode_polygons(geom: shapely.Geometry, scale: int) -> list[list[list[int]]]:
    """Encode a (multi)polygon as a list of polygons, each a list of encoded rings."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        rings = [part.exterior, *part.interiors]
        encoded = [encode_ring(shapely.get_coordinates(r), scale) for r in rings]
        encoded = [e for e in encoded if len(e) >= 8]  # at least 4 distinct vertices
        if encoded:
            out.append(encoded)
    return out


def encode_lines(geom: shapely.Geometry, scale: int) -> list[list[int]]:
    """Encode a (multi)line as a list of encoded lines."""
    return [
        encode_ring(shapely.get_coordinates(part), scale)
        for part in shapely.get_parts(geom)
        if not part.is_empty
    ]


def as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def as_number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


#: The key of ``DataFrame.attrs`` that names the lon and lat columns of a plain point frame.
POINT_COLUMNS = "flankmap.point_columns"


def point_columns(frame: pd.DataFrame) -> tuple[str, str] | None:
    """Return the lon and lat columns of a plain point frame (:func:`plain_points`), or None.

    A big user file of points is kept as such a frame (its columns and no shapely points:
    a million of them take about 200 MiB); a GeoDataFrame is never one.
    """
    if isinstance(frame, gpd.GeoDataFrame):
        return None
    names = frame.attrs.get(POINT_COLUMNS)
    return None if names is None else (str(names[0]), str(names[1]))


def plain_points(frame: pd.DataFrame, lon: str, lat: str) -> pd.DataFrame:
    """Mark a frame whose float columns ``lon`` and ``lat`` are its points (see :func:`as_geo`)."""
    frame.attrs[POINT_COLUMNS] = (lon, lat)
    return frame


def as_geo(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return a plain point frame as a GeoDataFrame (EPSG:4326) with its points; others as is.

    The same frame as :func:`geo.points.read_points` gives: the columns, then ``geometry``.
    """
    names = point_columns(frame)
    if names is None:
        return frame
    plain = frame.copy(deep=False)
    plain.attrs.clear()
    geometry = gpd.points_from_xy(frame[names[0]].to_numpy(), frame[names[1]].to_numpy())
    return gpd.GeoDataFrame(plain, geometry=geometry, crs="EPSG:4326")


def anchor_points(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Lon/lat of each feature's marker: the point itself, or a point inside an area."""
    names = point_columns(frame)
    if names is not None:  # a plain point frame: its columns
        return np.column_stack(
            [frame[names[0]].to_numpy(dtype=float), frame[names[1]].to_numpy(dtype=float)]
        )
    geometry = frame.geometry.values
    if (shapely.get_type_id(geometry) == shapely.GeometryType.POINT).all():
        plain: np.ndarray = shapely.get_coordinates(geometry)  # no new geometries for points
        return plain
    inside: np.ndarray = shapely.get_coordinates(shapely.point_on_surface(geometry))
    return inside


__all__ = [
    "BASEMAP_SCALE",
    "DETAIL_SCALE",
    "LINE_SCALE",
    "PLACE_DECIMALS",
    "POINT_COLUMNS",
    "SITE_DECIMALS",
    "AreasOverlay",
    "Basemap",
    "BulkPoints",
    "CountryStyle",
    "DistancesOverlay",
    "FrontierDetail",
    "FrontierOverlay",
    "MapData",
    "Overlay",
    "PathStyle",
    "Places",
    "Popup",
    "RingsOverlay",
    "SitesOverlay",
    "Tiles",
    "Timeline",
    "TimelineState",
    "anchor_points",
    "as_geo",
    "as_number",
    "as_text",
    "encode_lines",
    "encode_polygons",
    "encode_ring",
    "plain_points",
    "point_columns",
    "script_json",
]
