"""The map's line overlays: frontier, distance lines, range rings, named areas, the Suwałki Gap.

Each function returns one overlay of :mod:`geo._payload` from analysis results; nothing here
measures except through the analysis modules (:mod:`geo.borders`, :mod:`geo.geodesic`,
:mod:`geo.regions`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo import _data, borders, regions, view
from geo._basemap import DISPLAY, display_countries
from geo._payload import (
    BASEMAP_SCALE,
    DETAIL_SCALE,
    LINE_SCALE,
    SITE_DECIMALS,
    AreasOverlay,
    DistancesOverlay,
    FrontierDetail,
    FrontierOverlay,
    PathStyle,
    RingsOverlay,
    anchor_points,
    as_number,
    as_text,
    encode_lines,
    encode_polygons,
    encode_ring,
)
from geo.styles import (
    BASE,
)
from geo.text import km_label

#: Vertices of a range ring.
RING_POINTS = 128
#: Distance lines of sites up to this far from the opposing side are shown by default.
NEAR_KM = 300
DISTANCE_COLOUR = "#333333"
#: Colour of the measured Suwałki Gap line.
GAP_COLOUR = "#6a3d9a"
AREA_COLOUR = "#d08c00"
#: The frontier of the borders measured to is drawn instead of the display's from this zoom
#: on. The Natural Earth line lies a median 1.2 km from the OpenStreetMap one (points every
#: few hundred metres along each pair; 0.75 km on Belarus-Poland, 3 km on Poland-Russia): at
#: zoom 8 near 56° N that is 3.4 pixels, most of the drawn line's 4 and more than half of it,
#: at zoom 7 1.7 pixels, within the line (``tests/test_maps.py`` checks the rule on the data).
DETAIL_ZOOM = 8.0
#: Simplification of the analysis frontier drawn, degrees (about 2 m: a pixel at zoom 16).
DETAIL_SIMPLIFY_DEG = 2e-5
#: Parts of the fill corrections smaller than this are left off (square degrees, about
#: 0.006 km², a few pixels at zoom 12).
DETAIL_MIN_FILL_DEG2 = 1e-6
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


def areas_payload() -> AreasOverlay | None:
    """Return the named areas: each border line, its length and its width end to end."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    areas = []
    for area in NAMED_AREAS:
        line = borders.shared_border(*area["border"], borders=DISPLAY)
        if line.is_empty:
            continue
        merged = shapely.line_merge(line) if line.geom_type != "LineString" else line
        coords = shapely.get_coordinates(merged)
        (lon1, lat1), (lon2, lat2) = coords[0], coords[-1]
        width_km = geod.inv(lon1, lat1, lon2, lat2)[2] / 1000.0
        length_km = borders.geodesic_length_m(line) / 1000.0
        names = "–".join(
            str(borders.countries([c], borders=DISPLAY)["name"].iloc[0]) for c in area["border"]
        )
        text = (
            f"{area['text']} The {names} border is {length_km:,.0f} km long and "
            f"{width_km:,.0f} km across from end to end (geodesic, Natural Earth 1:10m)."
        )
        areas.append(
            {
                "name": area["name"],
                "text": text,
                "lines": encode_lines(shapely.simplify(line, 0.002), LINE_SCALE),
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
        "scale": LINE_SCALE,
        "style": {"color": AREA_COLOUR, "weight": 12, "opacity": 0.35, "lineCap": "round"},
        "areas": areas,
    }


def distance_payloads(frame: gpd.GeoDataFrame) -> list[DistancesOverlay]:
    """Distance lines: those within :data:`NEAR_KM` shown, the others on demand."""
    if "opposing_lat" not in frame.columns or not len(frame):
        return []
    xy = anchor_points(frame)
    near: list[list[Any]] = []
    far: list[list[Any]] = []
    for row, (lon, lat) in zip(frame.to_dict("records"), xy, strict=True):
        dist = as_number(row.get("opposing_distance_m"))
        olat, olon = as_number(row.get("opposing_lat")), as_number(row.get("opposing_lon"))
        if not (math.isfinite(dist) and math.isfinite(olat) and math.isfinite(olon)):
            continue
        name = as_text(row.get("name")) or as_text(row.get("id"))
        label = km_label(dist, uncertainty_m=as_number(row.get("coord_uncertainty_m")))
        tip = f"{name}: {label} to the nearest point of the opposing side"
        border = as_text(row.get("opposing_border"))
        if border:
            tip += f" ({border.replace('-', '–')})"
        line = [
            round(float(lat), SITE_DECIMALS),
            round(float(lon), SITE_DECIMALS),
            round(olat, SITE_DECIMALS),
            round(olon, SITE_DECIMALS),
            label,
            tip,
        ]
        (near if dist <= NEAR_KM * 1000 else far).append(line)
    style: PathStyle = {
        "color": DISTANCE_COLOUR,
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


def rings_payload(
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
    for row, (lon, lat) in zip(chosen.to_dict("records"), anchor_points(chosen), strict=True):
        for radius in rings_km:
            ring = geodesic.range_ring(
                float(lon), float(lat), radius * 1000.0, n_points=RING_POINTS
            )
            coords = shapely.get_coordinates(ring.exterior)
            top = coords[int(np.argmax(coords[:, 1]))]
            tip = f"{radius:g} km from {as_text(row.get('name'))}"
            rings.append(
                [
                    encode_ring(coords, LINE_SCALE),
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
        "scale": LINE_SCALE,
        "style": {"weight": 1.6, "dashArray": "8 5", "opacity": 0.9, "fill": False},
        "rings": rings,
    }


def analysis_frontier(
    day: dt.date, source: str | _data.BorderSource | None
) -> gpd.GeoDataFrame | None:
    """Return the frontier of the borders measured to on ``day`` (None: the display's)."""
    if _data.border_source(source).name == DISPLAY:
        return None
    return borders.frontier(*view.FRONTIER_SIDES, as_of=day, borders=source)


def measured_lengths(
    day: dt.date, source: str | _data.BorderSource | None
) -> dict[str, float] | None:
    """Length in km of each frontier pair on the borders measured to (None: the display's)."""
    front = analysis_frontier(day, source)
    if front is None:
        return None
    return {str(p): float(km) for p, km in zip(front["pair"], front["length_km"], strict=True)}


def frontier_tip(pair: str, km: float) -> str:
    """Return a frontier part's tooltip: its pair and length."""
    return f"{pair.replace('-', '–')} frontier: {km:,.0f} km"


def frontier_payload(
    front: gpd.GeoDataFrame,
    lengths: dict[str, float] | None = None,
    *,
    detail: FrontierDetail | None = None,
) -> tuple[FrontierOverlay, list[float] | None]:
    """Return the frontier overlay: the display's lines, the lengths of the borders measured.

    ``lengths`` (km by pair, from :func:`measured_lengths`) replace the simplified display
    lines' own lengths in the tooltips and the legend, so they agree with the distances.
    ``detail`` (from :func:`detail_payload`) is the frontier of those borders, drawn from
    :data:`DETAIL_ZOOM` on; the legend says so.
    """
    own = {str(p): float(km) for p, km in zip(front["pair"], front["length_km"], strict=True)}
    km = own if lengths is None else {p: lengths.get(p, own[p]) for p in own}
    lines: list[dict[str, Any]] = []
    for pair, geom in zip(front["pair"], front.geometry, strict=True):
        tip = frontier_tip(str(pair), km[str(pair)])
        lines.extend({"coords": [c], "tooltip": tip} for c in encode_lines(geom, LINE_SCALE))
    total = sum(km.values())
    bounds = [float(v) for v in front.total_bounds] if len(front) else None
    legend = f"Land frontier Russia & Belarus – NATO ({total:,.0f} km)"
    if detail is not None:
        legend += f"; from zoom {detail['zoom']:g} as measured, on {detail['source']}"
    overlay: FrontierOverlay = {
        "type": "frontier",
        "slug": "frontier",
        "label": "Frontier Russia & Belarus – NATO",
        "legend": legend,
        "scale": LINE_SCALE,
        "style": {"color": BASE["frontier"], "weight": 4, "opacity": 0.95, "lineCap": "round"},
        "casing": {"color": "#ffffff", "weight": 7, "opacity": 0.9},
        "lines": lines,
    }
    if detail is not None:
        overlay["detail"] = detail
    return overlay, bounds


def detail_payload(
    front: gpd.GeoDataFrame, source: str | _data.BorderSource | None
) -> FrontierDetail:
    """Return the frontier of the borders measured to (``front``), as the map draws it.

    Each pair's line is simplified by :data:`DETAIL_SIMPLIFY_DEG` and encoded at
    :data:`geo._payload.DETAIL_SCALE` (one line entry per pair, all its parts); the
    fills (:func:`fill_corrections`) are added once every pair is in.
    """
    detail: FrontierDetail = {
        "zoom": DETAIL_ZOOM,
        "scale": DETAIL_SCALE,
        "source": _data.border_source(source).title.split(" (")[0],  # without the package
        "pairs": {},
        "shown": [],
    }
    detail["shown"] = add_detail(detail, front)
    return detail


def fill_corrections(
    pairs: Iterable[str], source: str | _data.BorderSource | None
) -> list[list[Any]]:
    """Return ``[iso_a3, polygons]``: land of a country the basemap fills as its neighbour's.

    For each frontier pair (``"EST-RUS"``: countries ``a`` and ``b``), the part of ``a`` on
    the borders measured to that lies in ``b``'s simplified basemap shape (as drawn: on the
    grid of its codes), and the other way round; so that from :data:`DETAIL_ZOOM` on the fill
    agrees with the frontier drawn (a site just inside Estonia never stands on Russia's fill).
    Simplified and encoded like the lines; parts smaller than :data:`DETAIL_MIN_FILL_DEG2` are
    left off. Other borders (Belarus-Russia, Latvia-Lithuania) stay the basemap's.
    """
    measured = borders.countries(borders=source)
    # the basemap as drawn: its vertices on the grid of its codes, so the edges coincide
    shown = (
        display_countries()
        .geometry.transform(lambda xy: np.round(xy * BASEMAP_SCALE) / BASEMAP_SCALE)
        .make_valid()
    )
    out: list[list[Any]] = []
    for a, b in sorted({tuple(str(p).split("-", 1)) for p in pairs}):
        for code, other in ((a, b), (b, a)):
            if code not in measured.index or other not in shown.index:
                continue
            wrong = shapely.intersection(measured.geometry[code], shown[other])
            parts = [
                p
                for p in shapely.get_parts(wrong)
                if p.geom_type == "Polygon" and p.area >= DETAIL_MIN_FILL_DEG2
            ]
            if not parts:
                continue
            simple = shapely.simplify(shapely.MultiPolygon(parts), DETAIL_SIMPLIFY_DEG)
            polygons = encode_polygons(simple, DETAIL_SCALE)
            if polygons:
                out.append([code, polygons])
    return out


def add_detail(detail: FrontierDetail, front: gpd.GeoDataFrame) -> list[str]:
    """Add the pairs of ``front`` that ``detail`` lacks to it; return ``front``'s pairs."""
    names = []
    for pair, geom, km in zip(front["pair"], front.geometry, front["length_km"], strict=True):
        names.append(str(pair))
        if str(pair) in detail["pairs"]:
            continue
        coords = encode_lines(shapely.simplify(geom, DETAIL_SIMPLIFY_DEG), DETAIL_SCALE)
        detail["pairs"][str(pair)] = [{"coords": coords, "tooltip": frontier_tip(pair, km)}]
    return names


def gap_payload() -> DistancesOverlay:
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
        "style": {"color": GAP_COLOUR, "weight": 2.5, "opacity": 0.95},
        "lines": [
            [
                round(float(lat0), SITE_DECIMALS),
                round(float(lon0), SITE_DECIMALS),
                round(float(lat1), SITE_DECIMALS),
                round(float(lon1), SITE_DECIMALS),
                label,
                tip,
            ]
        ],
    }


__all__ = [
    "AREA_COLOUR",
    "DETAIL_MIN_FILL_DEG2",
    "DETAIL_SIMPLIFY_DEG",
    "DETAIL_ZOOM",
    "DISTANCE_COLOUR",
    "GAP_COLOUR",
    "NAMED_AREAS",
    "NEAR_KM",
    "RING_POINTS",
    "add_detail",
    "analysis_frontier",
    "areas_payload",
    "detail_payload",
    "distance_payloads",
    "fill_corrections",
    "frontier_payload",
    "frontier_tip",
    "gap_payload",
    "measured_lengths",
    "rings_payload",
]
