"""Interactive maps that work offline as one file, build reproducibly and escape every string.

:func:`build_map` returns a :class:`folium.Map` (it displays in Jupyter) that holds

- a vector basemap of the shipped Natural Earth borders, NATO members shaded by membership on
  the map's date, so that the map is readable with no tiles at all (online tiles are an
  optional overlay, ``tiles="CartoDB.Positron"``, removed with a notice when they fail);
- the frontier between Russia and Belarus and NATO, highlighted;
- one overlay per layer, with the symbol and colour of :mod:`geo.styles` drawn as inline SVG,
  popups (name, kind, operator, status, dates, distance to the frontier, coordinate
  uncertainty, sources as links) and tooltips;
- for each site a geodesic line to the nearest point of the opposing frontier, labelled with
  its length, and optional geodesic range rings;
- a title with the date, a legend, a layer control, a scale bar, a geodesic measuring tool and
  a fullscreen button.

:func:`render_html` turns it into one self-contained HTML document: Leaflet 1.9.4 and its CSS
are inlined from the PyPI package ``django-js-lib-leaflet``, the rest comes from
``geo/assets/``; folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome) are dropped, so
the page makes no request. Element ids come from a hash of the map's data and a counter, never
from chance, so the same map builds to the same bytes. :func:`save_map` writes the document,
or an ``<iframe srcdoc>`` fragment to paste into another page, atomically.

Display geometries are simplified (the borders as one coverage, so that neighbours keep a
common edge) and coordinates are rounded to what a screen shows; the analysis behind the
distances uses the full-resolution borders. Text from layers and user files reaches the page
only as JSON data that the map's script puts into the page as text, never as HTML. This is the
only module that imports folium.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
import itertools
import json
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geo import borders, layers
from geo._errors import InputError
from geo._output import atomic_writer, check_output_path
from geo.dates import parse_as_of
from geo.styles import BASE, MARKERS, LayerStyle, layer_styles

#: The two sides of the frontier the map draws and measures to.
FRONTIER = tuple(borders.DEFAULT_FRONTIER.split(":"))
#: Extent of the vector basemap (lon_min, lat_min, lon_max, lat_max).
BASEMAP_BOX = (-25.0, 27.0, 70.0, 75.0)
#: Simplification tolerance of the displayed borders, in degrees (about 1-2 km).
SIMPLIFY_DEG = 0.02
#: Parts of countries smaller than this (square degrees, about 10 km²) are left off the basemap.
MIN_PART_DEG2 = 0.001
#: Point layers with more features than this are drawn on one canvas, not as DOM markers.
BULK_POINTS = 2000
#: The default range-ring radii; none, unless asked for.
DEFAULT_RINGS_KM: tuple[float, ...] = ()
#: Vertices of a range ring.
RING_POINTS = 128
#: Coordinate scales (integers per degree) of the embedded geometry.
_BASEMAP_SCALE = 1000  # about 100 m: finer than the simplification
_LINE_SCALE = 10000  # about 10 m, for the frontier and the rings
_SITE_DECIMALS = 5
_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_DIR = ("static", "js_lib_leaflet")
_ASSETS = Path(__file__).resolve().parent / "assets"
_ATTRIBUTION = (
    "Borders: Natural Earth 1:10m (public domain) · sites: flankmap layers, sources in each popup"
)
_COUNTRY_FILL = {
    "west": (BASE["territory_west"], "#7d9cc4"),
    "east": (BASE["territory_east"], "#c0877b"),
    "other": (BASE["territory_other"], "#a9a9a3"),
}
_DISTANCE_COLOUR = "#333333"
_SLUG_RE = re.compile(r"[^a-z0-9_]+")
#: Labels of the popup rows, in order (sites carry one value per label, "" when unknown).
POPUP_FIELDS = (
    "Operator",
    "Host country",
    "Status",
    "Dates",
    "To the frontier",
    "Coordinates",
    "Location note",
)


class _Deferred(MacroElement):
    """Text that enters the page only after folium's templating has finished.

    branca compiles the output of every element's macros as a new Jinja2 template, so any
    text placed there is evaluated (``{{ 7*7 }}`` would become ``49``, and worse). A deferred
    element's macro writes only a placeholder made of its id; :class:`_Page` swaps the text in
    after rendering, so no template engine ever sees the data.
    """

    def __init__(self) -> None:
        super().__init__()
        self.text = ""

    @property
    def token(self) -> str:
        """The placeholder that stands for :attr:`text` in the templated page."""
        return f"/*flankmap-deferred:{self.get_name()}*/"


class _InlineAssets(_Deferred):
    """Leaflet and the map's own script and styles, inlined into the page header."""

    _template = Template("{% macro header(this, kwargs) %}{{ this.token }}\n{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "InlineAssets"
        css, js = _asset_bundle()
        self.text = f"<style>{css}</style>\n<script>{js}</script>"


class _FlankmapLayers(_Deferred):
    """Everything drawn on the map, as JSON data handed to the map's script."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "flankmap.render({{ this._parent.get_name() }}, {{ this.token }});\n"
        "{% endmacro %}"
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "FlankmapLayers"
        self.text = script_json(data)


_DEFERRED_RE = re.compile(r"/\*flankmap-deferred:([0-9A-Za-z_]+)\*/")


def _tidy(text: str) -> str:
    """Drop trailing blanks on lines and runs of more than one empty line."""
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text)


class _Page(Figure):
    """The HTML page around a map: folium's page, with deferred text put in after templating."""

    def render(self, **kwargs: Any) -> str:
        """Render the page; the text of every :class:`_Deferred` element goes in last."""
        deferred: dict[str, str] = {}

        def collect(element: Element) -> None:
            if isinstance(element, _Deferred):
                deferred[element.get_name()] = element.text
            for child in element._children.values():
                collect(child)

        collect(self)
        page = _tidy(super().render(**kwargs))
        # One pass: the text put in is never scanned again, whatever it holds.
        return _DEFERRED_RE.sub(lambda m: deferred.get(m.group(1), m.group(0)), page)


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
    own_css = (_ASSETS / "flankmap.css").read_text(encoding="utf-8")
    own_js = (_ASSETS / "flankmap.js").read_text(encoding="utf-8")
    css = _tidy(f"{leaflet_css}\n{own_css}")
    js = _tidy(f"{leaflet_js}\n{own_js}")
    for text, closing in ((css, "</style"), (js, "</script")):
        if closing in text.lower():  # pragma: no cover - guards a change of the packages
            raise RuntimeError(f"an inlined asset contains {closing!r}; it cannot be inlined")
    return css, js


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
    frame = borders.countries()
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


def _basemap_payload(as_of: dt.date, *, tiles: bool, frontline: set[str]) -> dict[str, Any]:
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
    styles = {
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
        "legend": [
            ["west", f"NATO member on {as_of.isoformat()}"],
            ["east", east_names or FRONTIER[0]],
            ["other", "Other country"],
        ],
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
    """Format a distance in metres as kilometres with a precision that suits its size.

    Parameters
    ----------
    metres : float
        The distance.

    Returns
    -------
    text : str
        e.g. ``"8.42 km"``, ``"42.1 km"``, ``"1,234 km"``; ``""`` for NaN.

    Examples
    --------
    >>> format_km(1_234_000), format_km(42_140), format_km(8_421)
    ('1,234 km', '42.1 km', '8.42 km')
    """
    if not math.isfinite(metres):
        return ""
    km = metres / 1000.0
    if km < 10:
        return f"{km:.2f} km"
    if km < 100:
        return f"{km:.1f} km"
    return f"{km:,.0f} km"


def _place_name(code: str, names: dict[str, str]) -> str:
    code = _text(code)
    if not code:
        return ""
    if code == "NATO":
        return "NATO"
    return f"{names[code]} ({code})" if code in names else code


def _dates(since: str, until: str) -> str:
    since, until = _text(since), _text(until)
    if since and until:
        return f"{since} – {until}"
    if since:
        return f"since {since}"
    return f"until {until}" if until else ""


def _coordinates(lat: float, lon: float, uncertainty_m: float) -> str:
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    text = f"{abs(lat):.4f}° {ns}, {abs(lon):.4f}° {ew}"
    if math.isfinite(uncertainty_m):
        text += f" ± {uncertainty_m:,.0f} m"
    return text


def _frontier_text(row: dict[str, Any]) -> str:
    dist = _number(row.get("opposing_distance_m"))
    if not math.isfinite(dist):
        return ""
    text = format_km(dist)
    border = _text(row.get("opposing_border"))
    if border:
        text += f" to the {border.replace('-', '–')} border"
    low = _number(row.get("opposing_distance_min_m"))
    high = _number(row.get("opposing_distance_max_m"))
    if math.isfinite(low) and math.isfinite(high) and high - low >= 1:
        text += f" ({format_km(low)} to {format_km(high)} within the coordinate uncertainty)"
    return text


def _kind_text(kind: Any) -> str:
    kind = _text(kind).replace("_", " ")
    return kind[:1].upper() + kind[1:]


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
                ]
            )
    return out


def _anchor_points(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Lon/lat of each feature's marker: the point itself, or a point inside an area."""
    anchors = shapely.point_on_surface(frame.geometry.values)
    return shapely.get_coordinates(anchors)


def _sites_payload(
    frame: gpd.GeoDataFrame,
    *,
    slug: str,
    title: str,
    style: LayerStyle,
    as_of: dt.date,
    names: dict[str, str],
    bulk_threshold: int,
) -> dict[str, Any]:
    xy = np.round(_anchor_points(frame), _SITE_DECIMALS)
    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    popup_names, subs, tips, values, sources = [], [], [], [], []
    for row, (lon, lat) in zip(rows, xy, strict=True):
        name = _text(row.get("name")) or _text(row.get("id")) or "(unnamed)"
        popup_names.append(name)
        kind = _kind_text(row.get("kind"))
        subs.append(f"{kind} · {title}" if kind else title)
        distance = format_km(_number(row.get("opposing_distance_m")))
        tips.append(f"{name} · {distance} to the frontier" if distance else name)
        operator = _place_name(row.get("operator"), names)
        lead = _place_name(row.get("lead_nation"), names)
        if lead:
            operator = f"{operator}; lead nation {lead}" if operator else f"lead nation {lead}"
        status = _text(row.get("status")).replace("_", " ")
        values.append(
            [
                operator,
                _place_name(row.get("country"), names),
                f"{status} on {as_of.isoformat()}" if status else "",
                _dates(row.get("since"), row.get("until")),
                _frontier_text(row),
                _coordinates(float(lat), float(lon), _number(row.get("coord_uncertainty_m"))),
                _text(row.get("coord_note")),
            ]
        )
        sources.append(_sources(row.get("sources")))
    point_only = bool((frame.geometry.geom_type == "Point").all())
    bulk = point_only and len(frame) > bulk_threshold
    areas = None
    if not point_only:
        areas = [
            None if g.geom_type == "Point" else _encode_polygons(g, _LINE_SCALE)
            for g in frame.geometry
        ]
    # Leave out what no feature has, and say once what every feature shares: big user
    # layers then carry little more than their coordinates and names.
    used = [k for k in range(len(POPUP_FIELDS)) if any(v[k] for v in values)]
    fixed = {
        str(j): values[0][k]
        for j, k in enumerate(used)
        if len(values) > 1 and all(v[k] == values[0][k] for v in values)
    }
    varying = [k for j, k in enumerate(used) if str(j) not in fixed]
    popup: dict[str, Any] = {
        "names": popup_names,
        "fields": [POPUP_FIELDS[k] for k in used],
        "fixed": fixed,
        "rows": [[v[k] for k in varying] for v in values],
        "sources": sources if any(sources) else None,
    }
    if len(set(subs)) <= 1:
        popup["sub"] = subs[0] if subs else title
    else:
        popup["subs"] = subs
    if not bulk:
        popup["tips"] = tips
    return {
        "type": "sites",
        "slug": slug,
        "label": f"{title} ({len(frame):,})",
        "legend": title,
        "colour": style.colour,
        "symbol": MARKERS[style.shape][1],
        "bulk": bulk,
        "lat": [float(v) for v in xy[:, 1]],
        "lon": [float(v) for v in xy[:, 0]],
        "scale": _LINE_SCALE,
        "areas": areas,
        "p": popup,
    }


def _distance_payload(frame: gpd.GeoDataFrame) -> dict[str, Any] | None:
    if "opposing_lat" not in frame.columns or not len(frame):
        return None
    xy = _anchor_points(frame)
    lines = []
    for row, (lon, lat) in zip(frame.to_dict("records"), xy, strict=True):
        dist = _number(row.get("opposing_distance_m"))
        olat, olon = _number(row.get("opposing_lat")), _number(row.get("opposing_lon"))
        if not (math.isfinite(dist) and math.isfinite(olat) and math.isfinite(olon)):
            continue
        name = _text(row.get("name")) or _text(row.get("id"))
        label = format_km(dist)
        tip = f"{name}: {label} to the nearest point of the opposing frontier"
        border = _text(row.get("opposing_border"))
        if border:
            tip += f" ({border.replace('-', '–')})"
        lines.append(
            [
                round(float(lat), _SITE_DECIMALS),
                round(float(lon), _SITE_DECIMALS),
                round(olat, _SITE_DECIMALS),
                round(olon, _SITE_DECIMALS),
                label,
                tip,
            ]
        )
    if not lines:
        return None
    return {
        "type": "distances",
        "slug": "distances",
        "label": "Distance to the opposing frontier",
        "legend": "Geodesic distance to the opposing frontier",
        "style": {"color": _DISTANCE_COLOUR, "weight": 1.5, "dashArray": "5 4", "opacity": 0.9},
        "lines": lines,
    }


def _rings_payload(
    frame: gpd.GeoDataFrame,
    rings_km: Sequence[float],
    ring_sites: Iterable[str] | None,
    colours: dict[str, str],
) -> dict[str, Any] | None:
    from geo import distance

    if not len(frame):
        return None
    chosen = distance.ring_centres(frame, ring_sites, where="on the map")
    if not rings_km:
        return None
    rings = []
    for row, (lon, lat) in zip(chosen.to_dict("records"), _anchor_points(chosen), strict=True):
        for radius in rings_km:
            ring = distance.range_ring(
                float(lon), float(lat), radius * 1000.0, n_points=RING_POINTS
            )
            coords = shapely.get_coordinates(ring.exterior)
            tip = f"{radius:g} km from {_text(row.get('name'))}"
            rings.append([_encode_ring(coords, _LINE_SCALE), colours[row["layer"]], tip])
    if not rings:
        return None
    radii = ", ".join(f"{r:g}" for r in rings_km)
    return {
        "type": "rings",
        "slug": "rings",
        "label": f"Range rings ({radii} km)",
        "legend": f"Geodesic range rings, {radii} km",
        "scale": _LINE_SCALE,
        "style": {
            "color": BASE["ring"],
            "weight": 1.2,
            "dashArray": "6 4",
            "fillOpacity": 0.04,
            "interactive": True,
        },
        "rings": rings,
    }


def _frontier_payload(front: gpd.GeoDataFrame) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for pair, length, geom in zip(front["pair"], front["length_km"], front.geometry, strict=True):
        tip = f"{pair.replace('-', '–')} frontier: {length:,.0f} km"
        lines.extend({"coords": [c], "tooltip": tip} for c in _encode_lines(geom, _LINE_SCALE))
    total = float(front["length_km"].sum()) if len(front) else 0.0
    return {
        "type": "frontier",
        "slug": "frontier",
        "label": "Frontier Russia & Belarus – NATO",
        "legend": f"Land frontier Russia & Belarus – NATO ({total:,.0f} km)",
        "scale": _LINE_SCALE,
        "style": {"color": BASE["frontier"], "weight": 4, "opacity": 0.95, "lineCap": "round"},
        "casing": {"color": "#ffffff", "weight": 7, "opacity": 0.9},
        "lines": lines,
        "bounds": list(front.total_bounds) if len(front) else None,
    }


def _tiles_payload(name: str, key: str | None) -> dict[str, Any]:
    import xyzservices

    try:
        provider = xyzservices.providers.query_name(name)
    except ValueError:
        raise InputError(
            f"unknown tile provider {name!r}: use an xyzservices name such as "
            "CartoDB.Positron or OpenStreetMap.Mapnik"
        ) from None
    if provider.requires_token() and not key:
        raise InputError(
            f"tile provider {name!r} needs an API key: give one (--tiles-key) or choose a "
            "provider without, such as OpenStreetMap.Mapnik"
        )
    return {
        "name": provider.name,
        "url": provider.build_url(**({"apikey": key} if key else {})),
        "attribution": provider.html_attribution,
        "maxZoom": int(provider.get("max_zoom", 18)),
    }


# --- the map ----------------------------------------------------------------------------


def _analyse(frame: gpd.GeoDataFrame, as_of: dt.date) -> gpd.GeoDataFrame:
    """Add the distance analysis; a user layer without operator and country goes without."""
    if not len(frame) or not {"operator", "country"} <= set(frame.columns):
        return frame
    from geo import distance

    return distance.site_analysis(frame, as_of=as_of)


def _read_user_layer(
    path: Path | str,
    as_of: dt.date,
    *,
    skip_invalid: bool = False,
    on_rejected: Callable[[pd.DataFrame], None] | None = None,
) -> gpd.GeoDataFrame:
    """Read a user file; where it has ``since``/``until``, keep what is active on ``as_of``."""
    from geo import points
    from geo.dates import active_on

    frame = points.read_points(path, skip_invalid=skip_invalid, on_rejected=on_rejected)
    if not {"since", "until"} <= set(frame.columns):
        return frame
    keep = []
    for number, (since, until) in enumerate(zip(frame["since"], frame["until"], strict=True), 1):
        try:
            keep.append(active_on(_text(since), _text(until), as_of))
        except ValueError as exc:
            raise InputError(f"{Path(path).name}: feature {number}: since/until: {exc}") from None
    return frame.loc[keep].reset_index(drop=True)


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


def build_map(
    names: Iterable[str] | None = None,
    *,
    as_of: str | dt.date | None = None,
    add: Iterable[Path | str] = (),
    rings_km: Sequence[float] = DEFAULT_RINGS_KM,
    ring_sites: Iterable[str] | None = None,
    tiles: str | None = None,
    tiles_key: str | None = None,
    bulk_threshold: int = BULK_POINTS,
    skip_invalid: bool = False,
    on_rejected: Callable[[Path, pd.DataFrame], None] | None = None,
) -> folium.Map:
    """Build the interactive map of the layers on a date.

    Parameters
    ----------
    names : iterable of str, optional
        Layers to show; default every shipped layer.
    as_of : str, datetime.date or None
        ``YYYY-MM-DD``: show the features active on that day and NATO as it was; default
        today.
    add : iterable of paths
        User files (GeoJSON, GeoPackage, or CSV with lat/lon), each shown as its own overlay;
        read and validated by :func:`geo.points.read_points`.
    rings_km : sequence of float
        Radii of geodesic range rings, in km; empty for none.
    ring_sites : iterable of str, optional
        Ids of the sites to ring; default the Russian-operated sites in Belarus.
    tiles : str, optional
        An xyzservices provider name (``"CartoDB.Positron"``) for online tiles under the
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

    Returns
    -------
    fmap : folium.Map
        The map; :func:`render_html` or :func:`save_map` turn it into HTML.

    Raises
    ------
    InputError
        If the date, a radius, a ring site or the tile provider is invalid, or a user file
        cannot be read.
    LayerNotFoundError, LayerValidationError
        If a layer is unknown or invalid.
    """
    from geo.distance import check_rings_km

    day = parse_as_of(as_of)
    radii = check_rings_km(rings_km)
    tile_data = _tiles_payload(tiles, tiles_key) if tiles else None

    names = list(names) if names is not None else None
    every = layers.load_layers(names)  # every date: styles stay fixed across dates
    active = layers.filter_active(every, day) if len(every) else every
    paths = [Path(item) for item in add]
    labels = _user_labels(paths)
    user = []
    for path in paths:
        sink = functools.partial(on_rejected, path) if on_rejected is not None else None
        frame = _read_user_layer(path, day, skip_invalid=skip_invalid, on_rejected=sink)
        user.append((path, frame))
    user_keys = [f"user:{label}" for label in labels]
    styles = layer_styles(every, extra=user_keys)
    country_names = {str(k): str(v) for k, v in borders.countries()["name"].items()}

    taken: set[str] = {"frontier", "distances", "rings", "tiles"}
    site_overlays: list[dict[str, Any]] = []
    analysed: list[gpd.GeoDataFrame] = []
    if names is None:
        resolved = sorted(set(every["layer"]))
    else:
        resolved = list(dict.fromkeys(str(n) for n in every["layer"]))
    titles = layers.layer_titles(resolved)
    groups: list[tuple[str, str, gpd.GeoDataFrame, LayerStyle]] = []
    for layer_name in resolved:
        frame = active[active["layer"] == layer_name].reset_index(drop=True)
        groups.append((layer_name, titles[layer_name], frame, styles[layer_name]))
    for key, label, (_, frame) in zip(user_keys, labels, user, strict=True):
        frame = frame.copy()
        frame["layer"] = key
        groups.append((key, f"{label} (added)", frame, styles[key]))

    for layer_name, title, frame, style in groups:
        frame = _analyse(frame, day)
        analysed.append(frame)
        site_overlays.append(
            _sites_payload(
                frame,
                slug=_slug(str(Path(layer_name.removeprefix("user:")).with_suffix("")), taken),
                title=title,
                style=style,
                as_of=day,
                names=country_names,
                bulk_threshold=bulk_threshold,
            )
        )
    colours = {name: style.colour for name, _, _, style in groups}
    small = [f for f in analysed if len(f) and len(f) <= bulk_threshold]
    small_frame = (
        gpd.GeoDataFrame(pd.concat(small, ignore_index=True), crs="EPSG:4326") if small else None
    )
    front = borders.frontier(*FRONTIER, as_of=day)
    frontier = _frontier_payload(front)
    overlays: list[dict[str, Any]] = [frontier]
    if small_frame is not None:
        for extra in (
            _distance_payload(small_frame),
            _rings_payload(small_frame, radii, ring_sites, colours),
        ):
            if extra is not None:
                overlays.append(extra)
    elif ring_sites:
        raise InputError("ring sites were given but the map has no sites")
    overlays.extend(site_overlays)
    n_sites = sum(len(f) for f in analysed)
    n_layers = sum(1 for f in analysed if len(f))
    data = {
        "title": f"NATO's eastern flank on {day.isoformat()}",
        "subtitle": (
            f"{n_sites:,} sites in {n_layers} layers · frontier Russia & Belarus – NATO "
            "· distances geodesic on WGS84"
        ),
        "date": day.isoformat(),
        "attribution": _ATTRIBUTION,
        "collapseControl": True,
        "labelZoom": 7,
        "bounds": _bounds(analysed, frontier.pop("bounds")),
        "basemap": _basemap_payload(
            day, tiles=tile_data is not None, frontline={*front["a"], *front["b"]}
        ),
        "tiles": tile_data,
        "overlays": overlays,
    }
    center = np.mean(np.asarray(data["bounds"]), axis=0)
    fmap = folium.Map(
        location=[round(float(center[0]), 3), round(float(center[1]), 3)],
        zoom_start=5,
        tiles=None,
        zoom_snap=0.25,
        zoom_delta=0.5,
        min_zoom=3,
    )
    fmap.default_js = []  # no CDN: Leaflet comes inline, jQuery/Bootstrap/Font Awesome not at all
    fmap.default_css = []
    _Page().add_child(fmap)  # folium's own page would template the data
    _InlineAssets().add_to(fmap)
    _FlankmapLayers(data).add_to(fmap)
    _figure(fmap).title = html.escape(str(data["title"]))
    _assign_ids(fmap)
    return fmap


def _figure(fmap: folium.Map) -> Figure:
    """Return the page (branca Figure) that holds the map."""
    root = fmap.get_root()
    if not isinstance(root, _Page):
        raise InputError("the map is not inside a page (folium Figure); build it with build_map")
    return root


def _assign_ids(fmap: folium.Map) -> None:
    """Give every element of the map an id from the map's data and a counter."""
    root = _figure(fmap)
    payload = "".join(
        child.text for child in fmap._children.values() if isinstance(child, _FlankmapLayers)
    ).encode("utf-8")
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    counter = itertools.count(1)

    def walk(element: Element) -> None:
        element._id = f"{prefix}{next(counter):03d}"
        children = list(element._children.values())
        element._children = OrderedDict((child.get_name(), child) for child in children)
        for child in children:
            child._parent = element
            walk(child)

    walk(root)
    for part in (root.header, root.html, root.script):
        part._id = f"{prefix}{next(counter):03d}"
        meta = part._children.get("meta_http")
        part._children = OrderedDict([("meta_http", meta)] if meta is not None else [])


def render_html(fmap: folium.Map) -> str:
    """Render a map built by :func:`build_map` as one self-contained HTML document.

    Parameters
    ----------
    fmap : folium.Map
        The map.

    Returns
    -------
    document : str
        The HTML; the same map gives the same text.
    """
    _assign_ids(fmap)
    return _figure(fmap).render()


def render_fragment(fmap: folium.Map, *, height: str = "600px") -> str:
    """Render the map as an ``<iframe srcdoc>`` element to paste into another HTML page.

    The iframe keeps the map's scripts and styles apart from the host page; it is sandboxed
    (scripts and new windows for the source links only).

    Parameters
    ----------
    fmap : folium.Map
        The map.
    height : str
        CSS height of the frame.

    Returns
    -------
    fragment : str
        One ``<iframe>`` element and a newline.
    """
    if not re.fullmatch(r"\d+(\.\d+)?(px|em|rem|vh|%)", height):
        raise InputError(f"height {height!r} is not a CSS length such as 600px or 80vh")
    document = render_html(fmap)
    title = html.escape(html.unescape(_figure(fmap).title or "flankmap map"), quote=True)
    return (
        f'<iframe title="{title}" style="width:100%;height:{height};border:0" '
        'sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox" allowfullscreen '
        f'srcdoc="{html.escape(document, quote=True)}"></iframe>\n'
    )


def save_map(
    fmap: folium.Map,
    path: Path | str,
    *,
    fragment: bool = False,
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
    inputs : tuple of paths
        Files the map was built from; the output may not replace one of them.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the output folder is missing or the path names a folder or an input.
    """
    out = check_output_path(path, inputs=inputs)
    text = render_fragment(fmap) if fragment else render_html(fmap)
    with atomic_writer(out, "w") as handle:
        handle.write(text)
    return out


__all__ = [
    "BULK_POINTS",
    "FRONTIER",
    "POPUP_FIELDS",
    "build_map",
    "display_countries",
    "format_km",
    "render_fragment",
    "render_html",
    "save_map",
    "script_json",
]
