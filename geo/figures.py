"""Static figures drawn with matplotlib from the shipped borders: no tiles, no network.

:func:`map_figure` draws the posture map (countries shaded by side on the date, the frontier,
range rings, the sites with the same symbols as the interactive map, labels that do not
collide, a legend, a scale bar, a north arrow, the date and the data attribution);
:func:`distance_chart` draws the sites sorted by distance to the opposing frontier.
:func:`save_figure` writes PNG, SVG or PDF with reproducible bytes.

The figures are drawn in ETRS89 Lambert azimuthal equal-area (EPSG:3035), for display only:
every measurement comes from :mod:`geo.geodesic` on the WGS84 ellipsoid.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from matplotlib.ticker import NullLocator
from matplotlib.transforms import Bbox
from pyproj import Geod, Transformer

from geo import _data, borders, regions, view
from geo._errors import InputError
from geo.dates import parse_as_of
from geo.labels import (
    FAR_NAME_SCALES,
    KEY_CHARS,
    KEY_FONT,
    KEY_GAP_PT,
    LEGEND_CHARS,
    NAME_SCALES,
    TITLE_CHARS,
    agg_renderer,
    draw_key,
    figure_text,
    key_layout,
    measuring,
    place_labels,
)
from geo.layers import layer_titles
from geo.styles import (
    BASE,
    CONFIDENCE_MEANINGS,
    CONFIDENCES,
    EAST,
    FONT,
    WEST,
    LayerStyle,
    Mark,
    layer_styles,
    mark_of,
)
from geo.text import km_label
from geo.writers import atomic_writer, check_output_path

logger = logging.getLogger(__name__)

#: The projection of the static figures (display only).
DISPLAY_CRS = "EPSG:3035"
#: Colour of the measured Suwałki Gap line (as on the interactive map).
_GAP_COLOUR = "#6a3d9a"
#: Default figure size in centimetres: the text width and most of the height of an A4 page.
A4_SIZE_CM = (17.0, 22.0)
#: Page sizes in centimetres (width, height): a whole A4 or A3 page, upright or landscape,
#: and ``text``, the text block of an A4 page (:data:`A4_SIZE_CM`).
PAGE_SIZES_CM = {
    "a4": (21.0, 29.7),
    "a4-landscape": (29.7, 21.0),
    "a3": (29.7, 42.0),
    "a3-landscape": (42.0, 29.7),
    "text": A4_SIZE_CM,
}
#: Distance scales of :func:`distance_chart`: ``log`` is linear below 10 km and logarithmic
#: above, so that the sites within 100 km of the frontier can be told apart.
CHART_SCALES = ("linear", "log")
_LOG_FROM_KM = 10.0
#: Output formats :func:`save_figure` writes.
FORMATS = ("png", "svg", "pdf")
#: Default radius of the range rings, in kilometres.
DEFAULT_RING_KM = view.FIGURE_RINGS_KM
_CM = 1 / 2.54
_GEOD = Geod(ellps="WGS84")
_REGION_LONLAT = view.FIGURE_BOX
_SIMPLIFY_M = 400.0
# Any: rc_context() takes dict[RcKeyType, Any], a type that older matplotlib (>=3.8) lacks.
_RC: Any = {
    "font.family": FONT,
    "svg.hashsalt": "flankmap",
    "svg.fonttype": "none",  # text stays <text>, for a desk to restyle
    "pdf.fonttype": 42,  # TrueType fonts embedded, text selectable
    "pdf.compression": 6,
    "path.simplify": True,
    "axes.unicode_minus": False,
    "text.parse_math": False,  # every text is drawn as written: "$5bn" is not mathtext
}
_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


#: The most pixels a figure may have (at its dpi): A4 at 1200 dpi has 84 million.
MAX_PIXELS = 100_000_000
#: The most pixels a side may have (the limit of matplotlib's Agg renderer is 65,536).
MAX_SIDE_PX = 65_000
_GLYPH_RE = re.compile(r"Glyph (\d+) .*missing from font")


@contextlib.contextmanager
def _glyphs_noted(missing: set[int]) -> Iterator[None]:
    """Collect matplotlib's "Glyph ... missing" warnings into ``missing`` (code points).

    matplotlib warns once per character and renderer, so a few unusual names make a hundred
    lines; :func:`missing_glyphs_notice` says it in one. Other warnings pass on unchanged.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        match = _GLYPH_RE.match(str(warning.message))
        if match:
            missing.add(int(match.group(1)))
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def _note_glyphs(figure: Figure, missing: set[int]) -> None:
    noted: set[int] = getattr(figure, "flankmap_missing_glyphs", set())
    figure.flankmap_missing_glyphs = noted | missing  # type: ignore[attr-defined]


def missing_glyphs_notice(figures: Iterable[Figure]) -> str | None:
    """Say in one line which characters the figures' font could not draw, if any.

    Parameters
    ----------
    figures : iterable of matplotlib.figure.Figure
        Figures drawn (and saved) by this module.

    Returns
    -------
    notice : str or None
        E.g. ``"the figure font (DejaVu Sans) has no glyph for 2 characters (U+4EAC,
        U+6771); they are drawn as boxes"``; None when every character was drawn.
    """
    codes = sorted(set().union(*(getattr(f, "flankmap_missing_glyphs", set()) for f in figures)))
    if not codes:
        return None
    shown = ", ".join(f"U+{code:04X}" for code in codes[:8]) + (", …" if len(codes) > 8 else "")
    plural = "character" if len(codes) == 1 else "characters"
    return (
        f"the figure font ({FONT}) has no glyph for {len(codes)} {plural} ({shown}); "
        "they are drawn as boxes"
    )


def attribution(
    *, version: str | None = None, borders: str | _data.BorderSource | None = None
) -> str:
    """Return the data attribution line printed under every figure.

    Parameters
    ----------
    version : str, optional
        The flankmap version to name; default the installed one.
    borders : str or BorderSource, optional
        The borders the figure's distances were measured to, named after the basemap's
        (``None``: the figure measures nothing, e.g. the map).

    Returns
    -------
    text : str
        One line naming the border dataset, its point of view and the layers.

    Examples
    --------
    >>> attribution(version="1.0").startswith("Borders: Natural Earth 1:10m")
    True
    >>> "© OpenStreetMap contributors (ODbL)" in attribution(version="1.0", borders="osm")
    True
    """
    if version is None:
        from geo import __version__ as version
    measured = ""
    if borders is not None:
        source = _data.border_source(borders)
        if source.name != "naturalearth" or source.path:
            measured = f" Distances to {source.title}, {source.attribution}."
    return (
        f"Borders: Natural Earth 1:10m admin-0 v{_data.NE_VERSION} (point of view of Germany, "
        f"public domain).{measured} Sites: flankmap {version} layers, sources cited per "
        "feature. Projection ETRS89-LAEA (EPSG:3035)."
    )


@functools.cache
def _to_display() -> Transformer:
    return Transformer.from_crs("EPSG:4326", DISPLAY_CRS, always_xy=True)


@functools.cache
def _from_display() -> Transformer:
    return Transformer.from_crs(DISPLAY_CRS, "EPSG:4326", always_xy=True)


@functools.cache
def _basemap() -> gpd.GeoDataFrame:
    """Countries of the wider region, projected and simplified for display."""
    from geo.borders import countries

    frame = countries(borders="naturalearth")  # the simplified display basemap
    frame = frame[frame.intersects(shapely.box(*_REGION_LONLAT))]
    frame = frame.set_geometry(frame.geometry.clip_by_rect(*_REGION_LONLAT))
    frame = frame.to_crs(DISPLAY_CRS)
    frame = frame.set_geometry(frame.geometry.simplify(_SIMPLIFY_M, preserve_topology=True))
    return frame[~frame.geometry.is_empty]


def _project(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
    return frame.to_crs(DISPLAY_CRS)


def _anchor_points(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Projected x, y of each site (a polygon's representative point)."""
    points = shapely.point_on_surface(sites.geometry.values)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    x, y = _to_display().transform(lon, lat)
    return np.column_stack([x, y])


def ring_lonlat(lon: float, lat: float, radius_m: float, *, n_points: int = 181) -> np.ndarray:
    """Return the geodesic circle of a radius around a point, as lon/lat vertices.

    The vertices of :func:`geo.geodesic.range_ring`, as an array.

    Parameters
    ----------
    lon, lat : float
        The centre in degrees.
    radius_m : float
        The geodesic radius on WGS84, in metres.
    n_points : int
        How many vertices; the ring is closed (first vertex repeated).

    Returns
    -------
    ring : numpy.ndarray
        Shape ``(n_points + 1, 2)``, columns lon and lat.

    Raises
    ------
    InputError
        If the radius is not positive or the circle cannot be a lon/lat polygon.

    Examples
    --------
    >>> ring = ring_lonlat(26.0, 53.0, 100_000, n_points=4)
    >>> ring.shape
    (5, 2)
    """
    from geo.geodesic import range_ring

    ring = range_ring(lon, lat, radius_m, n_points=n_points)
    return np.asarray(ring.exterior.coords)


def _extent(
    points: np.ndarray,
    lines: gpd.GeoDataFrame,
    aspect: float,
    pad: float = 0.08,
    *,
    top: float = 0.0,
) -> tuple[float, float, float, float]:
    """Return the sites' box (else the frontier's), padded and fitted to ``aspect``.

    The top ``top`` fraction of the height is left free of sites (room for the legend).
    """
    if len(points):
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    elif len(lines):
        x0, y0, x1, y1 = _project(lines).total_bounds
    else:
        (x0, x1), (y0, y1) = _to_display().transform([14.0, 40.0], [45.0, 62.0])
    w, h = max(x1 - x0, 300e3), max(y1 - y0, 300e3)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad) + 100e3, (h * (1 + 2 * pad) + 100e3) / (1 - top)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    bottom = cy - h * (1 - top) / 2  # the sites are centred in the part below ``top``
    return cx - w / 2, cx + w / 2, bottom, bottom + h


def _box_outline(box: Sequence[float]) -> np.ndarray:
    """Return a lon/lat box's edges, sampled and projected (x, y rows; closed ring).

    The edges are sampled, so the projected outline follows their curves (parallels bend in
    the projection).
    """
    west, south, east, north = box
    t = np.linspace(0.0, 1.0, 33)
    lon = np.concatenate([west + (east - west) * t, np.full(33, east), east - (east - west) * t])
    lat = np.concatenate([np.full(33, south), south + (north - south) * t, np.full(33, north)])
    lon = np.concatenate([lon, np.full(33, west)])
    lat = np.concatenate([lat, north - (north - south) * t])
    x, y = _to_display().transform(lon, lat)
    return np.column_stack([x, y])


def _box_extent(
    box: Sequence[float], aspect: float, *, top: float = 0.0
) -> tuple[float, float, float, float]:
    """Return the projected extent that holds a lon/lat box, fitted to ``aspect``.

    The box's edges are sampled, so the projected extent holds their curves; the top ``top``
    fraction of the height is added for the legend, as in :func:`_extent`.
    """
    x, y = _box_outline(box).T
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    w, h = x1 - x0, (y1 - y0) / (1 - top)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    bottom = cy - h * (1 - top) / 2
    return cx - w / 2, cx + w / 2, bottom, bottom + h


def _draw_gap(ax: Axes) -> list[Line2D]:
    """Draw the measured Suwałki Gap line with its length; return its legend handle."""
    _, length_m = regions.suwalki_gap()
    path = shapely.get_coordinates(regions.gap_path())
    x, y = _to_display().transform(path[:, 0], path[:, 1])
    ax.plot(x, y, color=_GAP_COLOUR, linewidth=1.8, zorder=7, gid="suwalki-gap")
    ax.plot([x[0], x[-1]], [y[0], y[-1]], "o", color=_GAP_COLOUR, markersize=2.5, zorder=7)
    label = km_label(length_m)
    ax.annotate(
        label,
        (float(x[len(x) // 2]), float(y[len(y) // 2])),
        xytext=(4, 4),
        textcoords="offset points",
        fontsize=6.5,
        color=_GAP_COLOUR,
        fontweight="bold",
        zorder=8,
        gid="suwalki-gap-length",
    )
    return [
        Line2D(
            [],
            [],
            color=_GAP_COLOUR,
            lw=1.8,
            label=f"Suwałki Gap: {label}, Kaliningrad oblast to Belarus",
        )
    ]


def _nice_length(target_m: float) -> float:
    exp: float = 10 ** math.floor(math.log10(target_m))  # int for lengths of 1 m or more
    for step in (1, 2, 5, 10):
        if step * exp >= target_m:
            return step * exp
    return 10 * exp  # pragma: no cover


def _draw_scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    """Draw a scale bar whose length is geodesically true where it stands."""
    x0, x1, y0, y1 = extent
    width = x1 - x0
    nominal = _nice_length(width / 5)
    if nominal > 0.3 * width:  # e.g. 5,000 km for 2,100: half the map; 2,000 km instead
        nominal = _nice_length(nominal / 2.5 * 0.999)
    start = (x0 + 0.04 * width, y0 + 0.035 * (y1 - y0))
    inverse = _from_display()
    lon0, lat0 = inverse.transform(*start)
    lon1, lat1 = inverse.transform(start[0] + nominal, start[1])
    true_m = _GEOD.inv(lon0, lat0, lon1, lat1)[2]
    length = nominal * nominal / true_m
    height = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (start[0] + i * length / 4, start[1]),
                length / 4,
                height,
                facecolor=BASE["text"] if i % 2 == 0 else "white",
                edgecolor=BASE["text"],
                linewidth=0.6,
                zorder=20,
                gid=f"scale-bar-{i}",
            )
        )
    for frac, value in ((0, 0), (0.5, nominal / 2), (1, nominal)):
        ax.text(
            start[0] + frac * length,
            start[1] + 1.6 * height,
            f"{value / 1000:g}" + (" km" if frac == 1 else ""),
            ha="center",
            va="bottom",
            fontsize=6.5,
            color=BASE["text"],
            zorder=20,
        )


def _north_place(
    ax: Axes, extent: tuple[float, float, float, float], points: np.ndarray, legend: Legend
) -> tuple[float, float]:
    """Return where the north arrow goes: among the sites, in a free place.

    Candidates span the sites' extent (so the arrow shows the lean of their meridians, not
    that of a corner far away), outside the legend and the scale bar's strip; of those
    clear of every site, the one nearest the sites' middle wins, else the clearest.
    """
    x0, x1, y0, y1 = extent
    w, h = x1 - x0, y1 - y0
    if not len(points):
        return x1 - 0.06 * w, y1 - 0.13 * h
    west, east = (max(x0 + 0.06 * w, float(f(points[:, 0]))) for f in (np.min, np.max))
    south, north = (max(y0 + 0.16 * h, float(f(points[:, 1]))) for f in (np.min, np.max))
    east, north = min(east, x1 - 0.06 * w), min(north, y1 - 0.10 * h)
    xs = np.linspace(west, max(west, east), 15)
    ys = np.linspace(south, max(south, north), 15)
    grid = np.array([(x, y) for y in ys for x in xs])
    box = legend.get_window_extent(agg_renderer(ax.figure))
    corners = ax.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
    pad = 0.06 * h
    free = ~(
        (grid[:, 0] > corners[0, 0] - pad)
        & (grid[:, 0] < corners[1, 0] + pad)
        & (grid[:, 1] > corners[0, 1] - 2 * pad)
        & (grid[:, 1] < corners[1, 1] + pad)
    )
    if free.any():
        grid = grid[free]
    gaps = np.hypot(grid[:, None, 0] - points[None, :, 0], grid[:, None, 1] - points[None, :, 1])
    clearance = gaps.min(axis=1)
    middle = np.median(points, axis=0)
    near = np.hypot(grid[:, 0] - middle[0], grid[:, 1] - middle[1])
    clear = clearance >= 0.08 * h
    best = (
        int(np.argmin(np.where(clear, near, np.inf))) if clear.any() else int(np.argmax(clearance))
    )
    return float(grid[best, 0]), float(grid[best, 1])


def north_direction(x: float, y: float) -> tuple[float, float]:
    """Return the unit vector to true north at a point of the figure's projection.

    Parameters
    ----------
    x, y : float
        A position in :data:`DISPLAY_CRS` metres.

    Returns
    -------
    ux, uy : float
        The direction of the meridian through the point, towards the pole, in map units.

    Examples
    --------
    >>> ux, uy = north_direction(*_to_display().transform(10.0, 52.0))  # the centre meridian
    >>> round(ux, 6), round(uy, 6)
    (0.0, 1.0)
    """
    inverse = _from_display()
    lon, lat = inverse.transform(x, y)
    sx, sy = _to_display().transform(lon, lat - 0.01)  # south of it: no step past the pole
    norm = math.hypot(x - sx, y - sy)
    return (x - sx) / norm, (y - sy) / norm


def _draw_north_arrow(
    ax: Axes, extent: tuple[float, float, float, float], points: np.ndarray, legend: Legend
) -> None:
    """Draw an arrow to true north among the sites (meridians converge in LAEA)."""
    base = _north_place(ax, extent, points, legend)
    size = 0.045 * (extent[3] - extent[2])
    ux, uy = north_direction(*base)
    ax.add_patch(
        FancyArrow(
            base[0],
            base[1],
            ux * size,
            uy * size,
            width=size * 0.12,
            head_width=size * 0.38,
            head_length=size * 0.38,
            length_includes_head=True,
            facecolor=BASE["text"],
            edgecolor=BASE["text"],
            zorder=20,
            gid="north-arrow",
        )
    )
    ax.add_patch(
        Rectangle(
            (base[0] - size * 0.3, base[1] - size * 0.1),
            size * 0.6,
            size * 1.55,
            fill=False,
            edgecolor="none",
            gid="north-arrow-area",
        )
    )
    ax.text(
        base[0] + ux * size * 1.18,
        base[1] + uy * size * 1.18,
        "N",
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        color=BASE["text"],
        zorder=20,
        gid="north-arrow-label",
    )


#: The overview of the inset locator map of a region figure (west, south, east, north),
#: degrees: the eastern flank from Denmark to the Caspian (widened to hold the region).
_LOCATOR_LONLAT = (8.0, 41.0, 44.0, 70.0)
#: The locator's width as a fraction of the map's, at most this many cm.
_LOCATOR_WIDTH, _LOCATOR_MAX_CM = 0.26, 4.2
#: Simplification of the locator's countries (metres): a 4-cm overview needs no 400-m detail.
_LOCATOR_SIMPLIFY_M = 6000.0
#: Colour of the region's outline on the locator.
_LOCATOR_COLOUR = "#d7301f"


@functools.cache
def _locator_basemap() -> gpd.GeoDataFrame:
    """Return the display countries of the map's wider extent, coarsened for the locator."""
    from geo.borders import countries

    frame = countries(borders="naturalearth")
    frame = frame[frame.intersects(shapely.box(*view.BASEMAP_BOX))]
    frame = frame.set_geometry(frame.geometry.clip_by_rect(*view.BASEMAP_BOX)).to_crs(DISPLAY_CRS)
    frame = frame.set_geometry(frame.geometry.simplify(_LOCATOR_SIMPLIFY_M, preserve_topology=True))
    return frame[~frame.geometry.is_empty]


def _locator_extent(box: Sequence[float]) -> tuple[float, float, float, float]:
    """Return the locator's projected extent: the overview, widened to hold the region."""
    outline = np.vstack([_box_outline(_LOCATOR_LONLAT), _box_outline(box)])
    (x0, y0), (x1, y1) = outline.min(axis=0), outline.max(axis=0)
    pad = 0.03 * max(x1 - x0, y1 - y0)
    return float(x0 - pad), float(x1 + pad), float(y0 - pad), float(y1 + pad)


def _locator_corner(
    ax: Axes, size_px: tuple[float, float], points: np.ndarray, legend: Legend
) -> tuple[float, float]:
    """Return the lower-left corner (display pixels) of the locator: a corner free of sites.

    The candidates are the map's top right and bottom right, its bottom left above the scale
    bar and its top left below the legend (if it is in the map). The one covering the fewest sites wins, then the
    one covering the least furniture (legend, texts, north arrow, scale bar, the gap line),
    then the one farthest from the sites; ties go in that order.
    """
    renderer = agg_renderer(ax.figure)
    frame = ax.get_window_extent(renderer)
    w, h = size_px
    margin = 5 * ax.figure.dpi / 72.0
    legend_box = legend.get_window_extent(renderer)
    candidates = [
        (frame.x1 - margin - w, frame.y1 - margin - h),
        (frame.x1 - margin - w, frame.y0 + margin),
        (frame.x0 + margin, frame.y0 + 0.095 * frame.height),
        (frame.x0 + margin, min(legend_box.y0, frame.y1) - margin - h),
    ]
    sites = ax.transData.transform(points) if len(points) else np.empty((0, 2))
    furniture = [legend_box]
    furniture += [t.get_window_extent(renderer) for t in ax.texts]
    furniture += [p.get_window_extent(renderer) for p in ax.patches if p.get_gid() in _FURNITURE]
    for line in ax.lines:
        if line.get_gid() == "suwalki-gap":
            xy = ax.transData.transform(line.get_xydata())
            furniture.append(Bbox.from_extents(*xy.min(axis=0), *xy.max(axis=0)))
    clear = 6 * ax.figure.dpi / 72.0  # a marker's half width and a little
    best: tuple[tuple[int, int, float, int], tuple[float, float]] | None = None
    for order, (x0, y0) in enumerate(candidates):
        if x0 < frame.x0 or y0 < frame.y0 or x0 + w > frame.x1 or y0 + h > frame.y1:
            continue
        dx = np.maximum(np.maximum(x0 - sites[:, 0], sites[:, 0] - (x0 + w)), 0.0)
        dy = np.maximum(np.maximum(y0 - sites[:, 1], sites[:, 1] - (y0 + h)), 0.0)
        gaps = np.hypot(dx, dy)
        covered = int(np.count_nonzero(gaps < clear))
        area = Bbox.from_bounds(x0, y0, w, h)
        hit = sum(1 for b in furniture if area.overlaps(b))
        score = (covered, hit, -float(gaps.min()) if len(gaps) else 0.0, order)
        if best is None or score < best[0]:
            best = (score, (float(x0), float(y0)))
    return best[1] if best is not None else (frame.x1 - margin - w, frame.y1 - margin - h)


def _draw_locator(
    ax: Axes,
    box: Sequence[float],
    points: np.ndarray,
    legend: Legend,
    *,
    west: set[str],
    east: set[str],
) -> Axes:
    """Draw an inset locator map of the eastern flank with the region's box outlined.

    It goes in a corner of the map that covers no site (see :func:`_locator_corner`), as a
    child axes of the map (``gid`` ``locator``, the outline ``locator-box``); a transparent
    patch of the same place (``locator-area``) keeps the labels off it. Returns the axes.
    """
    fig = ax.figure
    ax.apply_aspect()
    frame = ax.get_window_extent(agg_renderer(fig))
    x0, x1, y0, y1 = _locator_extent(box)
    w = min(_LOCATOR_WIDTH * frame.width, _LOCATOR_MAX_CM * _CM * fig.dpi)
    h = w * (y1 - y0) / (x1 - x0)
    if h > 0.45 * frame.height:  # a wide, low map: the locator keeps its shape
        w, h = w * 0.45 * frame.height / h, 0.45 * frame.height
    cx, cy = _locator_corner(ax, (w, h), points, legend)
    left, bottom = (cx - frame.x0) / frame.width, (cy - frame.y0) / frame.height
    inset = ax.inset_axes((left, bottom, w / frame.width, h / frame.height))
    inset.set_gid("locator")
    inset.set_zorder(25)
    inset.set_xlim(x0, x1)
    inset.set_ylim(y0, y1)
    inset.set_aspect("equal", adjustable="datalim")
    inset.xaxis.set_major_locator(NullLocator())
    inset.yaxis.set_major_locator(NullLocator())
    inset.set_facecolor(BASE["water"])
    for spine in inset.spines.values():
        spine.set_edgecolor("#555555")
        spine.set_linewidth(0.6)
    base = _locator_basemap()
    base = base[base.intersects(shapely.box(x0, y0, x1, y1))]
    base = base.set_geometry(base.geometry.clip_by_rect(x0, y0, x1, y1))
    for codes, colour in (
        (base.index.isin(west), BASE["territory_west"]),
        (base.index.isin(east), BASE["territory_east"]),
        (~base.index.isin(west | east), BASE["territory_other"]),
    ):
        if codes.any():
            base[codes].plot(
                ax=inset, facecolor=colour, edgecolor=BASE["border"], linewidth=0.2, zorder=1
            )
    outline = _box_outline(box)
    (region,) = inset.plot(
        outline[:, 0], outline[:, 1], color=_LOCATOR_COLOUR, linewidth=1.1, zorder=3
    )
    region.set_gid("locator-box")
    inset.set_xlabel("")  # geopandas names the axes by the CRS
    inset.set_ylabel("")
    corner = ax.transData.inverted().transform([[cx, cy], [cx + w, cy + h]])
    ax.add_patch(
        Rectangle(
            (corner[0, 0], corner[0, 1]),
            corner[1, 0] - corner[0, 0],
            corner[1, 1] - corner[0, 1],
            fill=False,
            edgecolor="none",
            gid="locator-area",
        )
    )
    return inset


_FURNITURE = {
    "north-arrow",
    "north-arrow-area",
    "locator-area",
    *(f"scale-bar-{i}" for i in range(4)),
}


def _new_figure(size_cm: tuple[float, float], dpi: float) -> Figure:
    fig = Figure(figsize=(size_cm[0] * _CM, size_cm[1] * _CM), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


@contextlib.contextmanager
def _one_draw(fig: Figure) -> Iterator[None]:
    """Do what geopandas' ``plot`` renders the figure for once, at the end of the block.

    geopandas' ``plot`` ends with ``canvas.draw_idle()``, which on an Agg canvas renders the
    whole figure at once: five renders of a growing map for each layout pass (the file is
    rendered later, by ``savefig``). Here their one lasting effect is that the axes take
    the shape of their equal aspect (``apply_aspect``), in which the legend and the labels
    are then measured: the block applies it once instead, so the output is the same, byte
    for byte.
    """
    canvas = fig.canvas
    asked: list[bool] = []
    canvas.draw_idle = lambda *args, **kwargs: asked.append(True)  # type: ignore[method-assign]
    try:
        yield
    finally:
        del canvas.draw_idle  # the class's method again
    if asked:
        for axes in fig.axes:
            axes.apply_aspect()


def _check_size(size_cm: tuple[float, float], dpi: float) -> None:
    w, h = size_cm
    if not (3 <= w <= 200 and 3 <= h <= 200):
        raise InputError(f"figure size {w} x {h} cm is out of range: give 3 to 200 cm a side")
    if not 30 <= dpi <= 1200:
        raise InputError(f"dpi {dpi} is out of range: give 30 to 1200")
    _check_pixels((w * _CM, h * _CM), dpi)


def _check_pixels(size_in: tuple[float, float], dpi: float) -> None:
    """Refuse a raster larger than :data:`MAX_PIXELS` (or a side longer than Agg allows)."""
    w_px, h_px = (math.ceil(side * dpi) for side in size_in)
    if w_px * h_px > MAX_PIXELS or max(w_px, h_px) > MAX_SIDE_PX:
        raise InputError(
            f"figure of {w_px:,} x {h_px:,} px ({w_px * h_px / 1e6:,.0f} megapixels at "
            f"{dpi:g} dpi) is too large: at most {MAX_PIXELS / 1e6:,.0f} megapixels and "
            f"{MAX_SIDE_PX:,} px a side; lower the dpi or the size"
        )


def map_figure(
    sites: gpd.GeoDataFrame | None = None,
    *,
    as_of: str | dt.date | None = None,
    layers: Iterable[str] | None = None,
    styles: Mapping[str, LayerStyle] | None = None,
    frontier: str = borders.DEFAULT_FRONTIER,
    rings_km: Sequence[float] = DEFAULT_RING_KM,
    ring_sites: Iterable[str] | None = None,
    labels: bool = True,
    title: str | None = None,
    size_cm: tuple[float, float] = A4_SIZE_CM,
    dpi: float = 200,
    region: Sequence[float] | None = None,
) -> Figure:
    """Draw the posture map as a matplotlib figure.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame, optional
        Loaded layers to draw (columns of :data:`geo.layers.COLUMNS`), already filtered to
        ``as_of``; default ``load_layers(layers, as_of=as_of)``.
    as_of : str, datetime.date or None
        The date of the frontier, NATO membership and title; default today.
    layers : iterable of str, optional
        Layer names to load when ``sites`` is not given; default every layer.
    styles : mapping, optional
        Layer name to :class:`geo.styles.LayerStyle`; default from the unfiltered layers, as
        the interactive map does.
    frontier : str
        Two groups as in :func:`geo.borders.parse_frontier`; the line drawn in strong colour.
    rings_km : sequence of float
        Radii of the range rings drawn around the ring sites; empty for none.
    ring_sites : iterable of str, optional
        Ids of the sites to ring; default the Russian-operated sites in Belarus.
    labels : bool
        Label the sites with their names where they find a free place, else with numbers
        listed in a key below the map (the map gives up the room the key needs).
    title : str, optional
        Default ``"Military posture on NATO's eastern flank, <date>"``.
    size_cm : tuple of float
        Width and height in centimetres; default fits an A4 page.
    dpi : float
        Resolution of raster output.
    region : sequence of float, optional
        The box to draw (west, south, east, north; the ``region`` of a
        :class:`geo.view.View`, e.g. from :func:`geo.regions.focus`): the map spans it and
        shows the sites that meet it. Where it holds the Suwałki Gap, the measured gap line
        is drawn with its length (``gid`` ``suwalki-gap``). Default the sites' extent.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure; layer markers, the legend, the frontier, rings and labels carry ``gid``
        values (``layer-<name>``, ``legend``, ``frontier``, ``ring-<id>-<km>``,
        ``label-<id>``, and ``key-number-<id>`` and ``key-name-<id>`` in the key of
        numbered sites) that become ``id`` attributes in SVG.

    Raises
    ------
    InputError
        If the size (or its pixel count, see :data:`MAX_PIXELS`), the date or the frontier
        is invalid, or a ring site is unknown.

    Examples
    --------
    >>> fig = map_figure(labels=False, size_cm=(8, 10), dpi=50)
    >>> fig.axes[0].get_legend() is not None
    True
    """
    from geo.borders import frontier as frontier_lines
    from geo.borders import parse_frontier
    from geo.layers import load_layers

    _check_size(size_cm, dpi)
    day = parse_as_of(as_of)
    rings_km = view.check_rings_km(rings_km)
    box = None if region is None else view.check_bbox(region)
    layer_names = list(layers) if layers is not None else None
    if sites is None:
        sites = load_layers(layer_names, as_of=day)
    if styles is None:
        everything = load_layers(layer_names) if len(sites) else sites
        styles = layer_styles(everything, extra=sites["layer"].unique())
    if box is not None:
        sites = regions.within(sites, box).reset_index(drop=True)
    side_a, side_b = parse_frontier(frontier, as_of=day)
    lines = frontier_lines(side_a, side_b, as_of=day, borders="naturalearth")

    missing: set[int] = set()
    # Each text is measured once for all the layout passes (the glyphs noted all the same).
    with mpl.rc_context(_RC), _glyphs_noted(missing), measuring():
        draw = functools.partial(
            _draw_map,
            sites=sites,
            lines=lines,
            styles=styles,
            day=day,
            frontier=frontier,
            side_a=side_a,
            rings_km=rings_km,
            ring_sites=ring_sites,
            title=title,
            size_cm=size_cm,
            dpi=dpi,
            box=box,
        )
        # Names that do not fit become numbers, listed in a key below the map. The key's
        # room is taken from the map, which changes where labels fit: draw again with the
        # room the last key needed (and a little more), until the key fits.
        # A pass that may not be the last is drawn without the countries, the frontier and
        # the sites' areas and lines (see _draw_map's ``plot``): where the labels go does not
        # depend on them. The pass that turns out the last is drawn again, whole.
        label = functools.partial(
            _label_sites, sites=sites, styles=styles, lines=lines, far=box is not None
        )
        key_in = 0.0
        for attempt in range(_KEY_PASSES):
            whole = not labels or attempt == _KEY_PASSES - 1
            # A draft first: where the legend falls decides how the map is drawn.
            fig, ax, legend, points = draw(key_in=key_in, layers=False)
            place = _legend_place(fig, ax, legend, points, day, may_shift=box is None)
            fig, ax, legend, points = draw(key_in=key_in, place=place, plot=whole)
            entries = label(fig, ax, points=points, legend=legend) if labels else []
            need_in = 0.0
            if entries:
                need_in = key_layout(fig, entries, fontsize=KEY_FONT).height_in + KEY_GAP_PT / 72
            if not entries or need_in <= key_in or attempt == _KEY_PASSES - 1:
                if not whole:  # the last pass: the same map, whole, labelled the same
                    fig, ax, legend, points = draw(key_in=key_in, place=place)
                    entries = label(fig, ax, points=points, legend=legend)
                break
            # The key and a legend below the map share the room the map gives up.
            most = max(_KEY_MAX * size_cm[1] * _CM - place.below_in, _KEY_MIN * size_cm[1] * _CM)
            key_in = min(need_in * 1.1, most)
        if entries:
            draw_key(fig, ax, entries, key_in=key_in, below_px=place.below_in * fig.dpi)
    _note_glyphs(fig, missing)
    return fig


def _draw_map(
    *,
    sites: gpd.GeoDataFrame,
    lines: gpd.GeoDataFrame,
    styles: Mapping[str, LayerStyle],
    day: dt.date,
    frontier: str,
    side_a: Sequence[str],
    rings_km: Sequence[float],
    ring_sites: Iterable[str] | None,
    title: str | None,
    size_cm: tuple[float, float],
    dpi: float,
    key_in: float,
    place: _LegendPlace | None = None,
    box: tuple[float, float, float, float] | None = None,
    layers: bool = True,
    plot: bool = True,
) -> tuple[Figure, Axes, Legend, np.ndarray]:
    """Draw the map without labels, leaving ``key_in`` inches below it for the key.

    ``place`` says where the legend goes (see :func:`_legend_place`; default the map's top
    left, as in a draft). Without ``layers``, a draft in which to measure the legend: the
    countries, the frontier and the sites' areas and lines are not plotted (what costs
    most), nor the north arrow, the locator, the title and the attribution; the rest is
    drawn, in the same places, as in the map. Without ``plot``, a map in which to place
    the labels: all but the countries, the frontier and the sites' areas and lines, which
    the labels do not avoid (they avoid the frontier's lines, given apart).
    """
    from geo.borders import nato_members

    place = place or _LegendPlace()
    shift_m, legend_top = place.shift_m, place.top
    fig = _new_figure(size_cm, dpi)
    below_frac = (key_in + place.below_in) / (size_cm[1] * _CM)
    rect = (0.01, _MAP_BOTTOM + below_frac, 0.98, _MAP_TOP - _MAP_BOTTOM - below_frac)
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_gid("map")
    points = _anchor_points(sites) if len(sites) else np.empty((0, 2))
    w_in, h_in = size_cm[0] * rect[2] * _CM, size_cm[1] * rect[3] * _CM
    if box is None:
        x0, x1, y0, y1 = _extent(points, lines, w_in / h_in, top=legend_top)
    else:  # the whole region stays in view: room for the legend is added above it only
        x0, x1, y0, y1 = _box_extent(box, w_in / h_in, top=legend_top)
        shift_m = 0.0
    extent = (x0, x1, y0 + shift_m, y1 + shift_m)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.add_patch(
        Rectangle(
            (extent[0], extent[2]),
            extent[1] - extent[0],
            extent[3] - extent[2],
            facecolor=BASE["water"],
            edgecolor="#555555",
            linewidth=0.8,
            zorder=0,
        )
    )
    plot = plot and layers
    with _one_draw(fig):
        _draw_countries(ax, extent, set(nato_members(day)), set(side_a), plot=plot)
        if len(lines) and not plot:
            _plotted(ax)
        elif len(lines):
            _project(lines).plot(
                ax=ax, color=BASE["frontier"], linewidth=2.2, zorder=6, capstyle="round"
            )
            ax.collections[-1].set_gid("frontier")
        _draw_rings(ax, sites, rings_km, ring_sites)
        gap = _draw_gap(ax) if regions.shows_gap(box) else []
        handles = _draw_sites(ax, sites, points, styles, plot=plot)
    handles += [
        Line2D(
            [],
            [],
            color=BASE["frontier"],
            lw=2.2,
            label=figure_text(_frontier_label(frontier), limit=LEGEND_CHARS),
        ),
        Patch(facecolor=BASE["territory_west"], edgecolor=BASE["border"], label="NATO members"),
        Patch(
            facecolor=BASE["territory_east"],
            edgecolor=BASE["border"],
            label=" and ".join(_names(side_a)),
        ),
    ]
    handles += gap
    if rings_km and any(str(a.get_gid()).startswith("ring-") for a in ax.patches):
        radii = ", ".join(f"{r:g}" for r in rings_km)
        handles.append(
            Line2D([], [], color=BASE["ring"], lw=0.9, ls=(0, (4, 2)), label=f"{radii} km")
        )
    legend = _add_legend(ax, handles, day, ncols=place.ncols, fontsize=place.fontsize)
    _draw_scale_bar(ax, extent)
    if not layers:  # a draft: the legend is in place
        return fig, ax, legend, points
    _draw_north_arrow(ax, extent, points, legend)
    if box is not None:  # a region: a small overview shows where it is
        _draw_locator(ax, box, points, legend, west=set(nato_members(day)), east=set(side_a))
    fig.text(
        0.5,
        0.975,
        figure_text(
            title or f"Military posture on NATO's eastern flank, {day.isoformat()}",
            limit=TITLE_CHARS,
        ),
        ha="center",
        va="top",
        fontsize=11,
        fontweight="bold",
        color=BASE["text"],
        gid="title",
    )
    _add_attribution(fig, 0.012, fontsize=5.2)
    return fig, ax, legend, points


def _add_attribution(
    fig: Figure, y: float, *, fontsize: float, borders: str | _data.BorderSource | None = None
) -> None:
    """Print :func:`attribution` centred at the foot of the figure, its bottom at ``y``."""
    fig.text(
        0.5,
        y,
        attribution(borders=borders),
        ha="center",
        va="bottom",
        fontsize=fontsize,
        color="#444444",
        wrap=True,
        gid="attribution",
    )


#: The legend stays in the map (top left) if it takes at most this part of the map's height
#: and half its width; else it goes below the map, in columns.
_LEGEND_INSIDE = 0.25
#: A legend below the map has at most this many columns.
_LEGEND_MAX_COLS = 4
#: The gap between the map and a legend below it, points.
_LEGEND_GAP_PT = 5.0
#: The legend's font size, points, and the smaller ones a legend below the map may take to
#: fit in two columns.
_LEGEND_FONT, _LEGEND_SMALLER = 6.5, (6.0, 5.5)


@dataclasses.dataclass(frozen=True)
class _LegendPlace:
    """Where the legend goes: in the map's top left, or below the map (``ncols`` > 0).

    In the map, the map is moved north by ``shift_m`` metres and its top ``top`` fraction
    is kept free of sites (see :func:`_legend_room`); below it, in ``ncols`` columns, the
    map gives up ``below_in`` inches of its height for it (above the key of numbers).
    """

    shift_m: float = 0.0
    top: float = 0.0
    ncols: int = 0
    below_in: float = 0.0
    fontsize: float = _LEGEND_FONT


def _add_legend(
    ax: Axes,
    handles: Sequence[Artist],
    day: dt.date,
    *,
    ncols: int = 0,
    labels: Sequence[str] | None = None,
    fontsize: float = _LEGEND_FONT,
) -> Legend:
    """Add the legend: in the map's top left, or with ``ncols`` columns below the map."""
    where: dict[str, Any] = {"loc": "upper left"}
    if ncols:  # its top left a gap below the map's bottom left
        where |= {
            "ncols": ncols,
            "bbox_to_anchor": (0.0, 0.0),
            "bbox_transform": ax.transAxes,
            "borderaxespad": _LEGEND_GAP_PT / fontsize,
            "columnspacing": 1.6,
        }
    if labels is not None:
        where["labels"] = labels
    legend = ax.legend(
        handles=handles,
        fontsize=fontsize,
        frameon=True,
        framealpha=0.92,
        edgecolor="#999999",
        borderpad=0.6,
        handlelength=1.6,
        title=f"On {day.isoformat()}",
        title_fontsize=fontsize + 0.5,
        **where,
    )
    legend.set_gid("legend")
    legend.set_zorder(30)
    return legend


def _legend_place(
    fig: Figure,
    ax: Axes,
    legend: Legend,
    points: np.ndarray,
    day: dt.date,
    *,
    may_shift: bool = True,
) -> _LegendPlace:
    """Return where the legend goes, measured in a draft with the legend in the map.

    A legend that takes more than :data:`_LEGEND_INSIDE` of the map's height (or more than
    half its width) would leave the sites a small part of the map: it goes below the map,
    in as many columns (at most :data:`_LEGEND_MAX_COLS`, at least 2) as the map's width
    holds (if even two do not, in two in a smaller font, down to 5.5 points), and the map
    spans its whole frame. Else it stays in the map (see :func:`_legend_room`).
    """
    renderer = agg_renderer(fig)
    frame = ax.get_window_extent(renderer)
    box = legend.get_window_extent(renderer)
    if box.height > _LEGEND_INSIDE * frame.height or box.width > 0.5 * frame.width:
        # The draft's legend drawn again in columns (its handles drawn as they are in it).
        handles = [h for h in legend.legend_handles if h is not None]
        labels = [t.get_text() for t in legend.texts]
        tries = [(n, _LEGEND_FONT) for n in range(min(_LEGEND_MAX_COLS, len(handles)), 1, -1)]
        tries += [(2, size) for size in _LEGEND_SMALLER]
        for ncols, size in tries:
            columns = _add_legend(ax, handles, day, ncols=ncols, labels=labels, fontsize=size)
            wide = columns.get_window_extent(renderer)
            if wide.width <= frame.width:
                gap = _LEGEND_GAP_PT * fig.dpi / 72.0
                below_in = (wide.height + gap) / fig.dpi
                return _LegendPlace(ncols=ncols, below_in=below_in, fontsize=size)
        # A map too narrow for two columns: below it, the legend would take as much of
        # its height as in it.
        legend = _add_legend(ax, handles, day, labels=labels)
    fix = _legend_room(fig, ax, legend, points, may_shift=may_shift)
    return _LegendPlace() if fix is None else _LegendPlace(shift_m=fix[0], top=fix[1])


def _legend_room(
    fig: Figure, ax: Axes, legend: Legend, points: np.ndarray, *, may_shift: bool = True
) -> tuple[float, float] | None:
    """Return how to draw the map again so that the legend (top left) hides no site.

    Returns
    -------
    change : tuple of float or None
        ``None`` if no site is under the legend; else ``(shift_m, legend_top)`` for
        :func:`_draw_map`: how far to move the map north to bring the sites beside the
        legend below it, if the southernmost site then stays above the bottom tenth (the
        scale bar's strip); else the legend's share of the height, to keep free of sites
        (at a smaller scale). Without ``may_shift`` (a region, which stays whole in view, so
        :func:`_draw_map` does not move it), always the latter.
    """
    if not len(points):
        return None
    renderer = agg_renderer(fig)
    box = legend.get_window_extent(renderer).padded(5 * fig.dpi / 72.0)
    x, y = ax.transData.transform(points).T
    if not np.any((x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)):
        return None
    frame = ax.get_window_extent(renderer)
    bottom, top = ax.get_ylim()
    m_per_px = (top - bottom) / frame.height
    shift = (y[x < box.x1].max() - box.y0) * m_per_px
    room = (y.min() - frame.y0 - 0.1 * frame.height) * m_per_px
    if may_shift and shift <= room:
        return float(shift), 0.0
    return 0.0, float(min((frame.y1 - box.y0) / frame.height, 0.6))


#: Names on a region's map wrap at this many characters (else 30).
_FAR_WRAP = 24
#: The map axes span this part of the figure height when there is no key.
_MAP_BOTTOM, _MAP_TOP = 0.045, 0.93
#: The key (with a legend below the map) takes at most this fraction of the figure height,
#: the key at least :data:`_KEY_MIN` of it (its font shrinks to fit).
_KEY_MAX, _KEY_MIN = 0.4, 0.15
#: How many times the map is drawn at most to make room for the key.
_KEY_PASSES = 3


def _label_sites(
    fig: Figure,
    ax: Axes,
    sites: gpd.GeoDataFrame,
    points: np.ndarray,
    styles: Mapping[str, LayerStyle],
    legend: Legend,
    lines: gpd.GeoDataFrame,
    *,
    far: bool = False,
) -> list[tuple[str, str]]:
    """Label every site: its name where it fits, else a number; return the numbered sites.

    With ``far`` (a region's map, which has room to spare), a name may go farther from its
    site on a leader line, and wraps narrower (it then fits between a site and the frontier
    more often), before it becomes a number: over the regions ``suwalki-gap``, ``baltics``,
    ``kaliningrad``, ``belarus`` and the box 21,53,26,56, at the text block and A4 sizes,
    30 sites are numbered instead of 46 (at 60 dpi).

    Returns
    -------
    entries : list of tuple
        ``(id, name)`` of the sites labelled ``1``, ``2``... in that order.
    """
    if not len(sites):
        return []
    renderer = agg_renderer(fig)
    obstacles = [legend.get_window_extent(renderer)]
    obstacles += [t.get_window_extent(renderer) for t in ax.texts]
    obstacles += [p.get_window_extent(renderer) for p in ax.patches if p.get_gid() in _FURNITURE]
    line_xy = []
    if len(lines):
        parts = shapely.get_parts(_project(lines).geometry.values)
        line_xy = [shapely.get_coordinates(part) for part in parts]
    order = _label_order(sites, styles)
    _, numbered = place_labels(
        ax,
        points[order],
        [str(sites["name"].iloc[i]) for i in order],
        gids=[f"label-{sites['id'].iloc[i]}" for i in order],
        obstacles=obstacles,
        lines=line_xy,
        name_scales=FAR_NAME_SCALES if far else NAME_SCALES,
        wrap=_FAR_WRAP if far else 30,
    )
    return [
        (
            str(sites["id"].iloc[order[i]]),
            figure_text(sites["name"].iloc[order[i]], limit=KEY_CHARS),
        )
        for i in numbered
    ]


def _names(codes: Iterable[str]) -> list[str]:
    from geo.borders import countries

    return [str(n) for n in countries(codes, borders="naturalearth")["name"]]


def _frontier_label(spec: str) -> str:
    return "Frontier " + spec.replace(":", " / ").replace(",", "+")


def _label_order(sites: gpd.GeoDataFrame, styles: Mapping[str, LayerStyle]) -> list[int]:
    """Label the opposing side first, then by latitude from north to south."""
    lat = shapely.get_y(shapely.point_on_surface(sites.geometry.values))
    keys = [
        (0 if styles[layer].side == EAST else 1, -y, fid)
        for layer, y, fid in zip(sites["layer"], lat, sites["id"], strict=True)
    ]
    return sorted(range(len(sites)), key=lambda i: keys[i])


def _plotted(ax: Axes) -> None:
    """Do what a geopandas plot left out of a draft does to the figure: ask for a draw.

    (See :func:`_one_draw`: the axes then take the shape of their aspect, as in the map.)
    """
    ax.figure.canvas.draw_idle()


def _draw_countries(
    ax: Axes,
    extent: tuple[float, float, float, float],
    west: set[str],
    east: set[str],
    *,
    plot: bool = True,
) -> None:
    x0, x1, y0, y1 = extent
    base = _basemap()
    base = base[base.intersects(shapely.box(x0, y0, x1, y1))]
    base = base.set_geometry(base.geometry.clip_by_rect(x0, y0, x1, y1))
    groups = {
        "territory-west": base[base.index.isin(west)],
        "territory-east": base[base.index.isin(east)],
        "territory-other": base[~base.index.isin(west | east)],
    }
    colours = {
        "territory-west": BASE["territory_west"],
        "territory-east": BASE["territory_east"],
        "territory-other": BASE["territory_other"],
    }
    for gid, frame in groups.items():
        if len(frame) and not plot:
            _plotted(ax)
        elif len(frame):
            frame.plot(
                ax=ax, facecolor=colours[gid], edgecolor=BASE["border"], linewidth=0.35, zorder=1
            )
            ax.collections[-1].set_gid(gid)


def _draw_rings(
    ax: Axes,
    sites: gpd.GeoDataFrame,
    rings_km: Sequence[float],
    ring_sites: Iterable[str] | None,
) -> None:
    if not len(sites):
        return
    chosen = view.ring_centres(sites, ring_sites, where="drawn")
    if not rings_km:
        return
    anchors = shapely.point_on_surface(chosen.geometry.values)
    transform = _to_display()
    from matplotlib.patches import Polygon as MplPolygon

    for fid, point in zip(chosen["id"], anchors, strict=True):
        for radius in rings_km:
            ring = ring_lonlat(point.x, point.y, radius * 1000.0)
            x, y = transform.transform(ring[:, 0], ring[:, 1])
            ax.add_patch(
                MplPolygon(
                    np.column_stack([x, y]),
                    closed=True,
                    fill=False,
                    edgecolor=BASE["ring"],
                    linewidth=0.9,
                    linestyle=(0, (4, 2)),
                    zorder=4,
                    gid=f"ring-{fid}-{radius:g}",
                )
            )


def _draw_sites(
    ax: Axes,
    sites: gpd.GeoDataFrame,
    points: np.ndarray,
    styles: Mapping[str, LayerStyle],
    *,
    plot: bool = True,
) -> list[Artist]:
    """Draw the sites and return their legend handles; without ``plot``, no areas or lines."""
    handles: list[Artist] = []
    if not len(sites):
        return handles
    titles = layer_titles(sorted(sites["layer"].unique()))
    kinds = sites.geom_type
    areas = sites[kinds.isin(["Polygon", "MultiPolygon"])]
    for layer, frame in areas.groupby("layer", sort=True):
        style = styles[str(layer)]
        if not plot:
            _plotted(ax)
            continue
        _project(frame).plot(
            ax=ax, facecolor=style.colour, alpha=0.35, edgecolor=style.colour, lw=0.6, zorder=5
        )
        ax.collections[-1].set_gid(f"area-{layer}")
    # Lines (defence lines) are drawn as lines, dashed over the frontier so that both show:
    # a fill colour would close each line into a false polygon.
    for layer, frame in sites[kinds.isin(["LineString", "MultiLineString"])].groupby(
        "layer", sort=True
    ):
        if not plot:
            _plotted(ax)
            continue
        _project(frame).plot(
            ax=ax, color=styles[str(layer)].colour, lw=1.3, linestyle=(0, (3, 2)), zorder=7
        )
        ax.collections[-1].set_gid(f"line-{layer}")
    marks = [
        mark_of(st, conf) for st, conf in zip(sites["status"], sites["confidence"], strict=True)
    ]
    names = [_mark_name(m) for m in marks]
    for layer in sorted(sites["layer"].unique()):
        style = styles[str(layer)]
        mask = sites["layer"].eq(layer).to_numpy()
        for name, mark in _MARKS:
            sel = mask & np.array([n == name for n in names], dtype=bool)
            if not sel.any():
                continue
            collection = ax.scatter(
                points[sel, 0],
                points[sel, 1],
                s=_SITE_SIZE,
                marker=style.mpl_marker,
                zorder=10,
                **mark.mpl_kwargs(style.colour, scale=_MARK_SCALE),
            )
            collection.set_gid(f"layer-{layer}{name}")
            if mark.badge:
                for x, y in points[sel]:
                    ax.text(
                        x,
                        y,
                        mark.badge,
                        ha="center",
                        va="center",
                        fontsize=4.5,
                        fontweight="bold",
                        color=BASE["text"],
                        zorder=11,
                    )
        count = int(mask.sum())
        handles.append(
            Line2D(
                [],
                [],
                marker=style.mpl_marker,
                linestyle="none",
                markersize=6,
                markerfacecolor=style.colour,
                markeredgecolor=BASE["text"],
                markeredgewidth=0.6,
                label=f"{figure_text(titles[str(layer)], limit=LEGEND_CHARS)} ({count})",
            )
        )
    return handles + _certainty_handles(ax, set(names))


#: Site symbols: the size (points squared) and the points per unit of the mark's 20-unit box.
_SITE_SIZE, _MARK_SCALE = 34.0, 0.4
#: The certainty marks the figure draws, by the suffix of their ``gid``, as the map draws them.
_MARKS: tuple[tuple[str, Mark], ...] = tuple(
    (
        f"{'' if conf == 'confirmed' else '-' + conf}{'-not-active' if hollow else ''}",
        mark_of(st, conf),
    )
    for hollow, st in ((False, "active"), (True, "planned"))
    for conf in CONFIDENCES
)


def _mark_name(mark: Mark) -> str:
    return next(name for name, known in _MARKS if known == mark)


def _certainty_handles(ax: Axes, shown: set[str]) -> list[Artist]:
    """Legend entries for the certainty marks drawn (grey circles): none if all are solid."""
    if shown <= {""}:
        return []
    entries = [("", "Solid: confirmed, or not rated")]
    entries += [(f"-{c}", f"{c.capitalize()}: {CONFIDENCE_MEANINGS[c]}") for c in CONFIDENCES[1:]]
    entries.append(("-not-active", "Hollow: planned or under construction"))
    handles: list[Artist] = []
    for i, (name, text) in enumerate(entries):
        if i and not any(name in n for n in shown):
            continue
        mark = dict(_MARKS)[name]
        handle = ax.scatter(
            [],
            [],
            s=_SITE_SIZE,
            marker="o",
            label=figure_text(text, limit=LEGEND_CHARS),
            **mark.mpl_kwargs("#8c8c8c", scale=_MARK_SCALE),
        )
        handle.remove()  # only its look goes into the legend
        handles.append(handle)
    return handles


#: Names in the distance chart are cut shorter than in the key: they share a line with the bar.
_CHART_NAME_CHARS = 52


def distance_chart(
    analysis: pd.DataFrame,
    *,
    as_of: str | dt.date | None = None,
    styles: Mapping[str, LayerStyle] | None = None,
    title: str | None = None,
    size_cm: tuple[float, float | None] | None = None,
    dpi: float = 200,
    borders: str | _data.BorderSource | None = None,
    scale: str = "linear",
) -> Figure:
    """Draw the sites as horizontal bars, sorted by distance to the opposing frontier.

    Parameters
    ----------
    analysis : pandas.DataFrame
        The result of :func:`geo.sites.site_analysis`: columns ``id``, ``name``, ``layer``,
        ``side``, ``opposing_distance_m`` and ``opposing_distance_min_m`` /
        ``opposing_distance_max_m`` (the uncertainty range, drawn as an error bar).
    as_of : str, datetime.date or None
        The date shown in the title; default today.
    styles : mapping, optional
        Layer name to :class:`geo.styles.LayerStyle`; default from ``analysis``.
    title : str, optional
        Default ``"Distance to the opposing frontier, <date>"``.
    borders : str or BorderSource, optional
        The borders ``analysis`` was measured to, named in the attribution line; default
        ``osm``, as :func:`geo.sites.site_analysis`.
    size_cm : tuple of float, optional
        Width and height in cm; default 17 cm wide. A height of ``None`` means tall enough
        for every bar.
    dpi : float
        Resolution of raster output.
    scale : str
        ``"linear"``, or ``"log"``: linear up to 10 km and logarithmic beyond (0 stays 0),
        so the sub-100 km band is readable beside sites 1,000 km away.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One bar per site (``gid`` ``bar-<id>``), the nearest at the top, coloured by layer,
        and a legend (``gid`` ``legend``) of the layers.

    Raises
    ------
    InputError
        If a required column is missing, the scale is unknown or the size (or its pixel
        count) is out of range.
    """
    if scale not in CHART_SCALES:
        raise InputError(f"chart scale {scale!r} is not one of {', '.join(CHART_SCALES)}")
    needed = ["id", "name", "layer", "opposing_distance_m"]
    missing = [c for c in needed if c not in analysis.columns]
    if missing:
        raise InputError(
            f"distance chart needs the columns {', '.join(missing)}: "
            "pass the result of geo.sites.site_analysis"
        )
    day = parse_as_of(as_of)
    data = analysis.sort_values(["opposing_distance_m", "id"], ascending=[False, True])
    n = len(data)
    width, height = size_cm if size_cm is not None else (17.0, None)
    if height is None:
        height = min(max(6.0, 2.6 + 0.42 * n), 190.0)
    size_cm = (width, height)
    _check_size(size_cm, dpi)
    if styles is None:
        styles = layer_styles(data)
    km = data["opposing_distance_m"].to_numpy(dtype=float) / 1000
    no_glyph: set[int] = set()
    with mpl.rc_context(_RC), _glyphs_noted(no_glyph):
        fig = _new_figure(size_cm, dpi)
        ax = fig.add_subplot()
        y = np.arange(n)
        for i, row in enumerate(data.itertuples(index=False)):
            style = styles[str(row.layer)]
            bars = ax.barh(
                y[i], km[i], height=0.7, color=style.colour, edgecolor=BASE["text"], lw=0.4
            )
            bars.patches[0].set_gid(f"bar-{row.id}")
        if {"opposing_distance_min_m", "opposing_distance_max_m"} <= set(data.columns):
            lo = data["opposing_distance_min_m"].to_numpy(dtype=float) / 1000
            hi = data["opposing_distance_max_m"].to_numpy(dtype=float) / 1000
            err = np.vstack([np.clip(km - lo, 0, None), np.clip(hi - km, 0, None)])
            ax.errorbar(km, y, xerr=err, fmt="none", ecolor="#333333", elinewidth=0.7, capsize=1.5)
        for i in range(n):
            ax.text(km[i], y[i], f"  {km_label(km[i] * 1000)}", va="center", ha="left", fontsize=6)
        names = [figure_text(v, limit=_CHART_NAME_CHARS) for v in data["name"]]
        ax.set_yticks(y, names, fontsize=6.5, parse_math=False)
        ax.set_xlabel(
            "Geodesic distance to the opposing frontier (km, logarithmic above 10 km)"
            if scale == "log"
            else "Geodesic distance to the nearest point of the opposing frontier (km)"
        )
        ax.xaxis.label.set_fontsize(7.5)
        ax.tick_params(axis="x", labelsize=7)
        top = max(float(km.max()), 10.0) if n else 10.0
        if scale == "log":
            ax.set_xscale("symlog", linthresh=_LOG_FROM_KM, linscale=0.5)
            ax.set_xlim(0, top * 1.6)
            ticks = [t for t in (0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if t <= top * 1.6]
            ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
            ax.xaxis.set_minor_locator(NullLocator())
        else:
            ax.set_xlim(0, top * 1.12)
        ax.set_ylim(-0.6, n - 0.4)
        ax.grid(axis="x", color="#dddddd", lw=0.5)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        titles = layer_titles(sorted(data["layer"].unique()))
        handles = [
            Patch(
                facecolor=styles[name].colour,
                edgecolor=BASE["text"],
                label=figure_text(titles[name], limit=LEGEND_CHARS),
            )
            for name in sorted(data["layer"].unique())
        ]
        # The nearest sites are at the top with the shortest bars: the legend goes there; on
        # the log scale even the shortest bars are long, and it goes below the axis.
        where: dict[str, Any] = (
            {"loc": "upper right", "bbox_to_anchor": (1.0, -0.05), "ncol": 2}
            if scale == "log"
            else {"loc": "upper right"}
        )
        legend = ax.legend(handles=handles, fontsize=6.5, framealpha=0.92, **where)
        legend.set_gid("legend")
        ax.set_title(
            figure_text(
                title or f"Distance to the opposing frontier, {day.isoformat()}",
                limit=TITLE_CHARS,
            ),
            fontsize=10,
            fontweight="bold",
        )
        _add_attribution(fig, 0.004, fontsize=5, borders=_data.border_source(borders))
        fig.tight_layout(rect=(0, 0.025, 1, 1))
    _note_glyphs(fig, no_glyph)
    return fig


def save_figure(figure: Figure, path: Path | str, *, dpi: float | None = None) -> Path:
    """Write a figure as PNG, SVG or PDF (by the file suffix) with reproducible bytes.

    No creation date or software version goes into the file, SVG ids come from a fixed salt,
    and the file is written atomically. Characters that the font cannot draw are logged once
    (a warning of the ``geo.figures`` logger, see :func:`missing_glyphs_notice`) instead of
    matplotlib's warning per character.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : pathlib.Path or str
        The output file; its suffix (``.png``, ``.svg``, ``.pdf``) picks the format.
    dpi : float, optional
        Resolution of PNG output; default the figure's.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the suffix names no supported format, or the folder does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig = Figure(figsize=(1, 1))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "blank.svg"
    >>> save_figure(fig, out).read_text()[:5]
    '<?xml'
    """
    out = check_figure_path(path)
    data = figure_bytes(figure, out.suffix.lower().lstrip("."), dpi=dpi)
    with atomic_writer(out, "wb") as handle:
        handle.write(data)
    notice = missing_glyphs_notice([figure])
    if notice:
        logger.warning(notice)
    return out


def check_figure_path(path: Path | str) -> Path:
    """Check that a figure can be written to a path (before spending time drawing it).

    Parameters
    ----------
    path : pathlib.Path or str
        The output file.

    Returns
    -------
    path : pathlib.Path
        The same path.

    Raises
    ------
    InputError
        If the suffix is not ``.png``, ``.svg`` or ``.pdf``, or the folder does not exist.

    Examples
    --------
    >>> check_figure_path("map.jpg")
    Traceback (most recent call last):
    ...
    geo._errors.InputError: cannot write 'map.jpg': the file name must end in .png, .svg or .pdf
    """
    out = Path(path)
    if out.suffix.lower().lstrip(".") not in FORMATS:
        raise InputError(f"cannot write {out.name!r}: the file name must end in .png, .svg or .pdf")
    return check_output_path(out)


def distance_figure(
    names: Iterable[str] | None = None,
    *,
    as_of: str | dt.date | None = None,
    size_cm: tuple[float, float | None] | None = None,
    dpi: float = 200,
    borders: str | _data.BorderSource | None = None,
    scale: str = "linear",
) -> Figure:
    """Load the layers, measure the sites and draw :func:`distance_chart`.

    Parameters
    ----------
    names : iterable of str, optional
        Layer names; default every shipped layer.
    as_of : str, datetime.date or None
        The date; default today.
    size_cm : tuple of float, optional
        As in :func:`distance_chart`.
    dpi : float
        Resolution of raster output.
    borders : str or BorderSource, optional
        The borders the sites are measured to (:func:`geo._data.border_source`): ``osm``
        (default), ``naturalearth`` or a file; named in the attribution line.
    scale : str
        As in :func:`distance_chart`.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The chart.

    Raises
    ------
    InputError, LayerNotFoundError, LayerValidationError
    """
    from geo import sites as site_analyses
    from geo.layers import load_layers

    day = parse_as_of(as_of)
    names = list(names) if names is not None else None
    sites = load_layers(names, as_of=day)
    if not len(sites):
        raise InputError(f"no site is active on {day.isoformat()} in the layers chosen")
    styles = layer_styles(load_layers(names))
    source = _data.border_source(borders)
    analysis = site_analyses.site_analysis(sites, as_of=day, borders=source)
    return distance_chart(
        analysis,
        as_of=day,
        styles=styles,
        size_cm=size_cm,
        dpi=dpi,
        borders=source,
        scale=scale,
    )


def figure_bytes(figure: Figure, fmt: str = "svg", *, dpi: float | None = None) -> bytes:
    r"""Return a figure as the bytes of a PNG, SVG or PDF file (reproducible, as when saved).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    fmt : str
        ``"png"``, ``"svg"`` or ``"pdf"``.
    dpi : float, optional
        Resolution of PNG output; default the figure's.

    Returns
    -------
    data : bytes
        The file content.

    Raises
    ------
    InputError
        If ``fmt`` is not supported, or ``dpi`` makes more than :data:`MAX_PIXELS` pixels.

    Examples
    --------
    >>> figure_bytes(Figure(figsize=(1, 1)), "png")[:4]
    b'\x89PNG'
    """
    import io

    if fmt not in FORMATS:
        raise InputError(f"figure format {fmt!r} is not one of {', '.join(FORMATS)}")
    dpi = dpi or figure.dpi
    _check_pixels(tuple(figure.get_size_inches()), dpi)
    buffer = io.BytesIO()
    missing: set[int] = set()
    with mpl.rc_context(_RC), _glyphs_noted(missing):
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white")
    _note_glyphs(figure, missing)
    return buffer.getvalue()


__all__ = [
    "A4_SIZE_CM",
    "CHART_SCALES",
    "DISPLAY_CRS",
    "FORMATS",
    "PAGE_SIZES_CM",
    "WEST",
    "attribution",
    "check_figure_path",
    "distance_chart",
    "distance_figure",
    "figure_bytes",
    "figure_text",
    "layer_titles",
    "map_figure",
    "missing_glyphs_notice",
    "place_labels",
    "ring_lonlat",
    "save_figure",
]
