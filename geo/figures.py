"""Static figures drawn with matplotlib from the shipped borders: no tiles, no network.

:func:`map_figure` draws the posture map (countries shaded by side on the date, the frontier,
range rings, the sites with the same symbols as the interactive map, labels that do not
collide, a legend, a scale bar, a north arrow, the date and the data attribution);
:func:`distance_chart` draws the sites sorted by distance to the opposing frontier.
:func:`save_figure` writes PNG, SVG or PDF with reproducible bytes.

The figures are drawn in ETRS89 Lambert azimuthal equal-area (EPSG:3035), for display only:
every measurement comes from :mod:`geo.distance` on the WGS84 ellipsoid.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from matplotlib.transforms import Bbox
from pyproj import Geod, Transformer

from geo import _data
from geo._errors import GeoError, InputError
from geo._output import atomic_writer, check_output_path
from geo.dates import parse_as_of
from geo.styles import BASE, EAST, WEST, LayerStyle, layer_styles

#: The projection of the static figures (display only).
DISPLAY_CRS = "EPSG:3035"
#: Default figure size in centimetres: the text width and most of the height of an A4 page.
A4_SIZE_CM = (17.0, 22.0)
#: Output formats :func:`save_figure` writes.
FORMATS = ("png", "svg", "pdf")
#: Default radius of the range rings, in kilometres.
DEFAULT_RING_KM = (300.0,)
_CM = 1 / 2.54
_GEOD = Geod(ellps="WGS84")
_REGION_LONLAT = (-12.0, 33.0, 52.0, 73.0)
_SIMPLIFY_M = 400.0
_FONT = "DejaVu Sans"
_RC: Any = {
    "font.family": _FONT,
    "svg.hashsalt": "flankmap",
    "svg.fonttype": "path",
    "pdf.compression": 6,
    "path.simplify": True,
    "axes.unicode_minus": False,
}
_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def attribution(*, version: str | None = None) -> str:
    """Return the data attribution line printed under every figure.

    Parameters
    ----------
    version : str, optional
        The flankmap version to name; default the installed one.

    Returns
    -------
    text : str
        One line naming the border dataset, its point of view and the layers.

    Examples
    --------
    >>> attribution(version="1.0").startswith("Borders: Natural Earth 1:10m")
    True
    """
    if version is None:
        from geo import __version__ as version
    return (
        f"Borders: Natural Earth 1:10m admin-0 v{_data.NE_VERSION} (point of view of Germany, "
        f"public domain). Sites: flankmap {version} layers, sources cited per feature. "
        "Projection ETRS89-LAEA (EPSG:3035)."
    )


@functools.cache
def _to_display() -> Transformer:
    return Transformer.from_crs("EPSG:4326", DISPLAY_CRS, always_xy=True)


@functools.cache
def _basemap() -> gpd.GeoDataFrame:
    """Countries of the wider region, projected and simplified for display."""
    from geo.borders import countries

    frame = countries()
    frame = frame[frame.intersects(shapely.box(*_REGION_LONLAT))]
    frame = frame.set_geometry(frame.geometry.clip_by_rect(*_REGION_LONLAT))
    frame = frame.to_crs(DISPLAY_CRS)
    frame = frame.set_geometry(frame.geometry.simplify(_SIMPLIFY_M, preserve_topology=True))
    return frame[~frame.geometry.is_empty]


def _project(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> Any:
    return frame.to_crs(DISPLAY_CRS)


def _anchor_points(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Projected x, y of each site (a polygon's representative point)."""
    points = shapely.point_on_surface(sites.geometry.values)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    x, y = _to_display().transform(lon, lat)
    return np.column_stack([x, y])


def ring_lonlat(lon: float, lat: float, radius_m: float, *, n_points: int = 181) -> np.ndarray:
    """Return the geodesic circle of a radius around a point, as lon/lat vertices.

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

    Examples
    --------
    >>> ring = ring_lonlat(26.0, 53.0, 100_000, n_points=4)
    >>> ring.shape
    (5, 2)
    """
    az = np.linspace(0.0, 360.0, n_points, endpoint=False)
    lons, lats, _ = _GEOD.fwd(
        np.full(n_points, lon), np.full(n_points, lat), az, np.full(n_points, radius_m)
    )
    ring = np.column_stack([lons, lats])
    return np.vstack([ring, ring[:1]])


def _extent(
    points: np.ndarray, lines: gpd.GeoDataFrame, aspect: float, pad: float = 0.08
) -> tuple[float, float, float, float]:
    """Return the sites' box (else the frontier's), padded and fitted to ``aspect``."""
    if len(points):
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    elif len(lines):
        x0, y0, x1, y1 = _project(lines).total_bounds
    else:
        (x0, x1), (y0, y1) = _to_display().transform([14.0, 40.0], [45.0, 62.0])
    w, h = max(x1 - x0, 300e3), max(y1 - y0, 300e3)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad) + 100e3, h * (1 + 2 * pad) + 100e3
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def _nice_length(target_m: float) -> float:
    exp = 10 ** math.floor(math.log10(target_m))
    for step in (1, 2, 5, 10):
        if step * exp >= target_m:
            return step * exp
    return 10 * exp  # pragma: no cover


def _draw_scale_bar(ax: Any, extent: tuple[float, float, float, float]) -> None:
    """Draw a scale bar whose length is geodesically true where it stands."""
    x0, x1, y0, y1 = extent
    width = x1 - x0
    nominal = _nice_length(width / 5)
    start = (x0 + 0.04 * width, y0 + 0.035 * (y1 - y0))
    inverse = Transformer.from_crs(DISPLAY_CRS, "EPSG:4326", always_xy=True)
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


def _draw_north_arrow(ax: Any, extent: tuple[float, float, float, float]) -> None:
    """Draw an arrow to true north at its own position (meridians converge in LAEA)."""
    x0, x1, y0, y1 = extent
    base = (x1 - 0.06 * (x1 - x0), y1 - 0.13 * (y1 - y0))
    inverse = Transformer.from_crs(DISPLAY_CRS, "EPSG:4326", always_xy=True)
    lon, lat = inverse.transform(*base)
    nx, ny = _to_display().transform(lon, lat + 0.5)
    dx, dy = nx - base[0], ny - base[1]
    norm = math.hypot(dx, dy)
    size = 0.045 * (y1 - y0)
    ux, uy = dx / norm, dy / norm
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
    )


_FURNITURE = {"north-arrow", "north-arrow-area", *(f"scale-bar-{i}" for i in range(4))}


def layer_titles(names: Iterable[str]) -> dict[str, str]:
    """Return the title of each named layer (from the layer file; else the name in words).

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
    from geo.layers import list_layers

    wanted = list(names)
    try:
        known = {info.name: info.title for info in list_layers()}
    except GeoError:  # no layers folder, or an invalid layer: fall back to the names
        known = {}
    return {name: known.get(name, name.replace("_", " ")) for name in wanted}


class _Boxes:
    """Boxes in display coordinates, tested for overlap all at once."""

    def __init__(self, boxes: np.ndarray | None = None) -> None:
        self.array = boxes if boxes is not None else np.empty((0, 4))

    def add(self, box: Bbox) -> None:
        self.array = np.vstack([self.array, [box.x0, box.y0, box.x1, box.y1]])

    def count(self, box: Bbox) -> int:
        b = self.array
        inside = (b[:, 0] < box.x1) & (b[:, 2] > box.x0) & (b[:, 1] < box.y1) & (b[:, 3] > box.y0)
        return int(inside.sum())

    def hits(self, box: Bbox) -> bool:
        b = self.array
        return bool(
            np.any(
                (b[:, 0] < box.x1) & (b[:, 2] > box.x0) & (b[:, 1] < box.y1) & (b[:, 3] > box.y0)
            )
        )


#: Label positions tried in order: (dx, dy) in points from the marker, then alignment.
_CANDIDATES = [
    (5, 0, "left", "center"),
    (-5, 0, "right", "center"),
    (0, 5, "center", "bottom"),
    (0, -5, "center", "top"),
    (4, 4, "left", "bottom"),
    (4, -4, "left", "top"),
    (-4, 4, "right", "bottom"),
    (-4, -4, "right", "top"),
]
_LABEL_BOX = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75}


def _line_boxes(ax: Any, lines: Sequence[np.ndarray], half_px: float) -> np.ndarray:
    """Small boxes along lines (data coordinates), every ``half_px`` pixels or so."""
    rows = []
    for xy in lines:
        if len(xy) < 2:
            continue
        disp = ax.transData.transform(xy)
        steps = np.hypot(*np.diff(disp, axis=0).T)
        dist = np.concatenate([[0.0], np.cumsum(steps)])
        samples = np.arange(0.0, dist[-1] + half_px, half_px)
        x = np.interp(samples, dist, disp[:, 0])
        y = np.interp(samples, dist, disp[:, 1])
        rows.append(np.column_stack([x - half_px, y - half_px, x + half_px, y + half_px]))
    return np.vstack(rows) if rows else np.empty((0, 4))


def _try_place(
    ax: Any,
    xy: tuple[float, float],
    text: str,
    *,
    taken: _Boxes,
    frame: Bbox,
    renderer: Any,
    fontsize: float,
    scales: Sequence[float],
) -> Any:
    for scale in scales:
        for dx, dy, ha, va in _CANDIDATES:
            artist = ax.annotate(
                text,
                xy,
                xytext=(dx * scale, dy * scale),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                linespacing=1.0,
                color=BASE["text"],
                zorder=15,
                bbox=_LABEL_BOX,
                arrowprops=(
                    {"arrowstyle": "-", "lw": 0.5, "color": "#444444", "shrinkA": 0, "shrinkB": 2}
                    if scale > 1.5
                    else None
                ),
            )
            box = artist.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1
            if inside and frame.y0 <= box.y0 and box.y1 <= frame.y1 and not taken.hits(box):
                taken.add(box)
                return artist
            artist.remove()
    return None


def place_labels(
    ax: Any,
    points: np.ndarray,
    texts: Sequence[str],
    *,
    gids: Sequence[str] | None = None,
    obstacles: Sequence[Bbox] = (),
    lines: Sequence[np.ndarray] = (),
    fontsize: float = 6.0,
    marker_pt: float = 7.0,
    wrap: int = 30,
) -> tuple[list[Any], list[int]]:
    """Place text labels beside points so that no two labels and no label and marker overlap.

    A greedy search: each label in turn takes the first of a few positions around its point
    (right, left, above, below, then the diagonals, then the same farther out with a leader
    line) whose box stays inside the axes and touches no placed label, no marker, no obstacle
    and no line. A label that finds no free place is replaced by a small number
    (``1``, ``2``...), placed the same way, for a key elsewhere.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose limits are already set.
    points : numpy.ndarray
        Shape ``(n, 2)``, data coordinates of the points.
    texts : sequence of str
        One label per point, placed in this order (put the important ones first); long
        labels are wrapped.
    gids : sequence of str, optional
        An id per label, set as the text's ``gid`` (SVG ``id``).
    obstacles : sequence of matplotlib.transforms.Bbox
        Further boxes in display coordinates to keep clear (legend, scale bar...).
    lines : sequence of numpy.ndarray
        Lines in data coordinates (arrays of x, y rows) that labels should not cover.
    fontsize : float
        Label size in points.
    marker_pt : float
        The width of a marker in points, kept clear around every point.
    wrap : int
        Wrap labels longer than this many characters.

    Returns
    -------
    labels : list of matplotlib.text.Text
        The label of each point, in the order given (a number label where the text did not
        fit, ``None`` where not even a number did).
    numbered : list of int
        Indices (into ``points``) of the points labelled with a number, in number order.
    """
    import textwrap

    fig = ax.figure
    renderer = _renderer(fig)
    px = fig.dpi / 72.0
    display = ax.transData.transform(points) if len(points) else np.empty((0, 2))
    half = marker_pt * px / 2
    markers = np.column_stack(
        [display[:, 0] - half, display[:, 1] - half, display[:, 0] + half, display[:, 1] + half]
    )
    extra = np.array([[b.x0, b.y0, b.x1, b.y1] for b in obstacles]).reshape(-1, 4)
    line_boxes = _line_boxes(ax, lines, 1.2 * px)
    taken = _Boxes(np.vstack([markers, extra, line_boxes]))
    first_line = len(markers) + len(extra)
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    missing: list[int] = []
    for i, ((x, y), text) in enumerate(zip(points, texts, strict=True)):
        label = _try_place(
            ax,
            (x, y),
            textwrap.fill(text, wrap, break_on_hyphens=False),
            taken=taken,
            frame=frame,
            renderer=renderer,
            fontsize=fontsize,
            scales=(1.0, 2.4, 4.0),
        )
        placed.append(label)
        if label is None:
            missing.append(i)
    numbered: list[int] = []
    for i in missing:
        label = None
        # A number may finally cross a line (never a label or a marker) rather than be lost.
        lineless = np.delete(taken.array, np.s_[first_line : first_line + len(line_boxes)], axis=0)
        for boxes in (taken, _Boxes(lineless)):
            label = label or _try_place(
                ax,
                tuple(points[i]),
                str(len(numbered) + 1),
                taken=boxes,
                frame=frame,
                renderer=renderer,
                fontsize=fontsize,
                scales=(0.8, 2.0, 3.2, 4.4, 6.0, 8.0),
            )
            if label is not None and boxes is not taken:
                taken.add(label.get_window_extent(renderer))
        if label is not None:
            label.set_fontweight("bold")
            numbered.append(i)
        placed[i] = label
    if gids is not None:
        for gid, label in zip(gids, placed, strict=True):
            if label is not None:
                label.set_gid(gid)
    return placed, numbered


def _renderer(fig: Any) -> Any:
    """Return the Agg renderer of a figure from :func:`_new_figure`, to measure text."""
    canvas: FigureCanvasAgg = fig.canvas
    return canvas.get_renderer()


def _new_figure(size_cm: tuple[float, float], dpi: float) -> Figure:
    fig = Figure(figsize=(size_cm[0] * _CM, size_cm[1] * _CM), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _check_size(size_cm: tuple[float, float], dpi: float) -> None:
    w, h = size_cm
    if not (3 <= w <= 200 and 3 <= h <= 200):
        raise InputError(f"figure size {w} x {h} cm is out of range: give 3 to 200 cm a side")
    if not 30 <= dpi <= 1200:
        raise InputError(f"dpi {dpi} is out of range: give 30 to 1200")


def map_figure(
    sites: gpd.GeoDataFrame | None = None,
    *,
    as_of: str | dt.date | None = None,
    layers: Iterable[str] | None = None,
    styles: Mapping[str, LayerStyle] | None = None,
    frontier: str = "RUS,BLR:NATO",
    rings_km: Sequence[float] = DEFAULT_RING_KM,
    ring_sites: Iterable[str] | None = None,
    labels: bool = True,
    title: str | None = None,
    size_cm: tuple[float, float] = A4_SIZE_CM,
    dpi: float = 200,
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
        Label the sites with their names (those that find a free place).
    title : str, optional
        Default ``"Military posture on NATO's eastern flank, <date>"``.
    size_cm : tuple of float
        Width and height in centimetres; default fits an A4 page.
    dpi : float
        Resolution of raster output.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure; layer markers, the legend, the frontier, rings and labels carry ``gid``
        values (``layer-<name>``, ``legend``, ``frontier``, ``ring-<id>-<km>``,
        ``label-<id>``) that become ``id`` attributes in SVG.

    Raises
    ------
    InputError
        If the size, the date or the frontier is invalid, or a ring site is unknown.

    Examples
    --------
    >>> fig = map_figure(labels=False, size_cm=(8, 10), dpi=50)
    >>> fig.axes[0].get_legend() is not None
    True
    """
    from geo.borders import frontier as frontier_lines
    from geo.borders import nato_members, parse_frontier
    from geo.layers import load_layers

    _check_size(size_cm, dpi)
    day = parse_as_of(as_of)
    layer_names = list(layers) if layers is not None else None
    if sites is None:
        sites = load_layers(layer_names, as_of=day)
    if styles is None:
        everything = load_layers(layer_names) if len(sites) else sites
        styles = layer_styles(everything, extra=sites["layer"].unique())
    side_a, side_b = parse_frontier(frontier, as_of=day)
    lines = frontier_lines(side_a, side_b, as_of=day)

    with mpl.rc_context(_RC):
        fig = _new_figure(size_cm, dpi)
        ax = fig.add_axes((0.01, 0.045, 0.98, 0.885))
        ax.set_axis_off()
        ax.set_gid("map")
        points = _anchor_points(sites) if len(sites) else np.empty((0, 2))
        w_in, h_in = size_cm[0] * 0.98 * _CM, size_cm[1] * 0.885 * _CM
        extent = _extent(points, lines, w_in / h_in)
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
        _draw_countries(ax, extent, set(nato_members(day)), set(side_a))
        if len(lines):
            _project(lines).plot(
                ax=ax, color=BASE["frontier"], linewidth=2.2, zorder=6, capstyle="round"
            )
            ax.collections[-1].set_gid("frontier")
        _draw_rings(ax, sites, rings_km, ring_sites)
        handles = _draw_sites(ax, sites, points, styles)
        handles += [
            Line2D([], [], color=BASE["frontier"], lw=2.2, label=_frontier_label(frontier)),
            Patch(facecolor=BASE["territory_west"], edgecolor=BASE["border"], label="NATO members"),
            Patch(
                facecolor=BASE["territory_east"],
                edgecolor=BASE["border"],
                label=" and ".join(_names(side_a)),
            ),
        ]
        if rings_km and any(str(a.get_gid()).startswith("ring-") for a in ax.patches):
            radii = ", ".join(f"{r:g}" for r in rings_km)
            handles.append(
                Line2D([], [], color=BASE["ring"], lw=0.9, ls=(0, (4, 2)), label=f"{radii} km")
            )
        legend = ax.legend(
            handles=handles,
            loc="upper left",
            fontsize=6.5,
            frameon=True,
            framealpha=0.92,
            edgecolor="#999999",
            borderpad=0.6,
            handlelength=1.6,
            title=f"On {day.isoformat()}",
            title_fontsize=7,
        )
        legend.set_gid("legend")
        legend.set_zorder(30)
        _draw_scale_bar(ax, extent)
        _draw_north_arrow(ax, extent)
        fig.text(
            0.5,
            0.975,
            title or f"Military posture on NATO's eastern flank, {day.isoformat()}",
            ha="center",
            va="top",
            fontsize=11,
            fontweight="bold",
            color=BASE["text"],
            gid="title",
        )
        fig.text(
            0.5,
            0.012,
            attribution(),
            ha="center",
            va="bottom",
            fontsize=5.2,
            color="#444444",
            wrap=True,
            gid="attribution",
        )
        if labels and len(sites):
            _label_sites(fig, ax, sites, points, styles, legend, lines)
    return fig


def _label_sites(
    fig: Figure,
    ax: Any,
    sites: gpd.GeoDataFrame,
    points: np.ndarray,
    styles: Mapping[str, LayerStyle],
    legend: Any,
    lines: gpd.GeoDataFrame,
) -> None:
    """Label every site: its name where it fits, else a number explained in a key."""
    renderer = _renderer(fig)
    obstacles = [legend.get_window_extent(renderer)]
    obstacles += [t.get_window_extent(renderer) for t in ax.texts]
    obstacles += [p.get_window_extent(renderer) for p in ax.patches if p.get_gid() in _FURNITURE]
    line_xy = []
    if len(lines):
        parts = shapely.get_parts(_project(lines).geometry.values)
        line_xy = [shapely.get_coordinates(part) for part in parts]
    order = _label_order(sites, styles)
    placed, numbered = place_labels(
        ax,
        points[order],
        [str(sites["name"].iloc[i]) for i in order],
        gids=[f"label-{sites['id'].iloc[i]}" for i in order],
        obstacles=obstacles,
        lines=line_xy,
    )
    if numbered:
        key = "\n".join(
            f"{n}  {sites['name'].iloc[order[i]]}" for n, i in enumerate(numbered, start=1)
        )
        _place_key(ax, key, points, [p for p in placed if p is not None])
    fig.flankmap_unlabelled = [  # type: ignore[attr-defined]
        str(sites["id"].iloc[order[i]]) for i, p in enumerate(placed) if p is None
    ]


#: Where the key of numbered labels may go, in axes fractions, tried in order.
_KEY_SPOTS = [
    (0.985, 0.012, "right", "bottom"),
    (0.015, 0.09, "left", "bottom"),
    (0.985, 0.1, "right", "bottom"),
    (0.5, 0.09, "center", "bottom"),
    (0.985, 0.5, "right", "center"),
    (0.015, 0.5, "left", "center"),
    (0.985, 0.8, "right", "top"),
    (0.5, 0.012, "center", "bottom"),
]


def _place_key(ax: Any, key: str, points: np.ndarray, labels: Sequence[Any]) -> None:
    """Put the key of numbered labels where it covers no marker and no label."""
    renderer = _renderer(ax.figure)
    display = ax.transData.transform(points)
    half = 4 * ax.figure.dpi / 72.0
    rows = [[x - half, y - half, x + half, y + half] for x, y in display]
    boxes = [t.get_window_extent(renderer) for t in [*labels, *ax.texts]]
    boxes += [p.get_window_extent(renderer) for p in ax.patches if p.get_gid() in _FURNITURE]
    rows += [[b.x0, b.y0, b.x1, b.y1] for b in boxes]
    legend = ax.get_legend()
    if legend is not None:
        b = legend.get_window_extent(renderer)
        rows.append([b.x0, b.y0, b.x1, b.y1])
    taken = _Boxes(np.array(rows).reshape(-1, 4))
    best: tuple[int, Any] | None = None
    for x, y, ha, va in _KEY_SPOTS:
        text = ax.text(
            x,
            y,
            key,
            transform=ax.transAxes,
            ha=ha,
            va=va,
            multialignment="left",
            fontsize=5.5,
            linespacing=1.25,
            color=BASE["text"],
            zorder=30,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "#999999", "alpha": 0.92},
            gid="label-key",
        )
        covered = taken.count(text.get_window_extent(renderer).expanded(1.04, 1.04))
        if covered == 0:
            if best is not None:
                best[1].remove()
            return
        if best is None or covered < best[0]:
            if best is not None:
                best[1].remove()
            best = (covered, text)
        else:
            text.remove()


def _names(codes: Iterable[str]) -> list[str]:
    from geo.borders import countries

    return [str(n) for n in countries(codes)["name"]]


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


def _draw_countries(
    ax: Any, extent: tuple[float, float, float, float], west: set[str], east: set[str]
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
        if len(frame):
            frame.plot(
                ax=ax, facecolor=colours[gid], edgecolor=BASE["border"], linewidth=0.35, zorder=1
            )
            ax.collections[-1].set_gid(gid)


def _draw_rings(
    ax: Any,
    sites: gpd.GeoDataFrame,
    rings_km: Sequence[float],
    ring_sites: Iterable[str] | None,
) -> None:
    if not rings_km or not len(sites):
        return
    if ring_sites is None:
        mask = (sites["operator"] == "RUS") & (sites["country"] == "BLR")
        chosen = sites[mask]
    else:
        wanted = list(ring_sites)
        unknown = sorted(set(wanted) - set(sites["id"]))
        if unknown:
            raise InputError(f"ring site(s) {', '.join(unknown)} not among the sites drawn")
        chosen = sites[sites["id"].isin(wanted)]
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
    ax: Any, sites: gpd.GeoDataFrame, points: np.ndarray, styles: Mapping[str, LayerStyle]
) -> list[Any]:
    handles: list[Any] = []
    if not len(sites):
        return handles
    titles = layer_titles(sorted(sites["layer"].unique()))
    areas = sites[sites.geom_type != "Point"]
    for layer, frame in areas.groupby("layer", sort=True):
        style = styles[str(layer)]
        _project(frame).plot(
            ax=ax, facecolor=style.colour, alpha=0.35, edgecolor=style.colour, lw=0.6, zorder=5
        )
        ax.collections[-1].set_gid(f"area-{layer}")
    active = sites["status"].eq("active").to_numpy()
    for layer in sorted(sites["layer"].unique()):
        style = styles[str(layer)]
        mask = sites["layer"].eq(layer).to_numpy()
        for solid in (True, False):
            sel = mask & (active == solid)
            if not sel.any():
                continue
            collection = ax.scatter(
                points[sel, 0],
                points[sel, 1],
                s=34,
                marker=style.mpl_marker,
                facecolor=style.colour if solid else "white",
                edgecolor=BASE["text"] if solid else style.colour,
                linewidths=0.6 if solid else 1.3,
                zorder=10,
            )
            collection.set_gid(f"layer-{layer}" if solid else f"layer-{layer}-not-active")
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
                label=f"{titles[str(layer)]} ({count})",
            )
        )
    if not active.all():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markersize=6,
                markerfacecolor="white",
                markeredgecolor="#555555",
                markeredgewidth=1.2,
                label="hollow: planned or being built",
            )
        )
    return handles


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def distance_chart(
    analysis: pd.DataFrame,
    *,
    as_of: str | dt.date | None = None,
    styles: Mapping[str, LayerStyle] | None = None,
    title: str | None = None,
    size_cm: tuple[float, float] | None = None,
    dpi: float = 200,
) -> Figure:
    """Draw the sites as horizontal bars, sorted by distance to the opposing frontier.

    Parameters
    ----------
    analysis : pandas.DataFrame
        The result of :func:`geo.distance.site_analysis`: columns ``id``, ``name``, ``layer``,
        ``side``, ``opposing_distance_m`` and ``opposing_distance_min_m`` /
        ``opposing_distance_max_m`` (the uncertainty range, drawn as an error bar).
    as_of : str, datetime.date or None
        The date shown in the title; default today.
    styles : mapping, optional
        Layer name to :class:`geo.styles.LayerStyle`; default from ``analysis``.
    title : str, optional
        Default ``"Distance to the opposing frontier, <date>"``.
    size_cm : tuple of float, optional
        Width and height; default 17 cm wide and tall enough for every bar.
    dpi : float
        Resolution of raster output.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One bar per site (``gid`` ``bar-<id>``), the nearest at the top, coloured by layer,
        and a legend (``gid`` ``legend``) of the layers.

    Raises
    ------
    InputError
        If a required column is missing or the size is out of range.
    """
    needed = ["id", "name", "layer", "opposing_distance_m"]
    missing = [c for c in needed if c not in analysis.columns]
    if missing:
        raise InputError(
            f"distance chart needs the columns {', '.join(missing)}: "
            "pass the result of geo.distance.site_analysis"
        )
    day = parse_as_of(as_of)
    data = analysis.sort_values(["opposing_distance_m", "id"], ascending=[False, True])
    n = len(data)
    if size_cm is None:
        size_cm = (17.0, min(max(6.0, 2.6 + 0.42 * n), 190.0))
    _check_size(size_cm, dpi)
    if styles is None:
        styles = layer_styles(data)
    km = data["opposing_distance_m"].to_numpy(dtype=float) / 1000
    with mpl.rc_context(_RC):
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
            ax.text(km[i], y[i], f"  {km[i]:,.0f}", va="center", ha="left", fontsize=6)
        ax.set_yticks(y, [_shorten(str(v), 52) for v in data["name"]], fontsize=6.5)
        ax.set_xlabel("Geodesic distance to the nearest point of the opposing frontier (km)")
        ax.xaxis.label.set_fontsize(7.5)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlim(0, max(float(km.max()) * 1.12, 10) if n else 10)
        ax.set_ylim(-0.6, n - 0.4)
        ax.grid(axis="x", color="#dddddd", lw=0.5)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        titles = layer_titles(sorted(data["layer"].unique()))
        handles = [
            Patch(facecolor=styles[name].colour, edgecolor=BASE["text"], label=titles[name])
            for name in sorted(data["layer"].unique())
        ]
        # The nearest sites are at the top with the shortest bars: the legend goes there.
        legend = ax.legend(handles=handles, loc="upper right", fontsize=6.5, framealpha=0.92)
        legend.set_gid("legend")
        ax.set_title(
            title or f"Distance to the opposing frontier, {day.isoformat()}",
            fontsize=10,
            fontweight="bold",
        )
        fig.text(
            0.5,
            0.004,
            attribution(),
            ha="center",
            va="bottom",
            fontsize=5,
            color="#444444",
            wrap=True,
            gid="attribution",
        )
        fig.tight_layout(rect=(0, 0.025, 1, 1))
    return fig


def save_figure(figure: Figure, path: Path | str, *, dpi: float | None = None) -> Path:
    """Write a figure as PNG, SVG or PDF (by the file suffix) with reproducible bytes.

    No creation date or software version goes into the file, SVG ids come from a fixed salt,
    and the file is written atomically.

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
    size_cm: tuple[float, float] | None = None,
    dpi: float = 200,
) -> Figure:
    """Load the layers, measure the sites and draw :func:`distance_chart`.

    Parameters
    ----------
    names : iterable of str, optional
        Layer names; default every shipped layer.
    as_of : str, datetime.date or None
        The date; default today.
    size_cm : tuple of float, optional
        Width and height; default 17 cm wide and tall enough for every bar.
    dpi : float
        Resolution of raster output.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The chart.

    Raises
    ------
    InputError, LayerNotFoundError, LayerValidationError
    """
    from geo import distance
    from geo.layers import load_layers

    day = parse_as_of(as_of)
    names = list(names) if names is not None else None
    sites = load_layers(names, as_of=day)
    if not len(sites):
        raise InputError(f"no site is active on {day.isoformat()} in the layers chosen")
    styles = layer_styles(load_layers(names))
    analysis = distance.site_analysis(sites, as_of=day)
    return distance_chart(analysis, as_of=day, styles=styles, size_cm=size_cm, dpi=dpi)


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
        If ``fmt`` is not supported.

    Examples
    --------
    >>> figure_bytes(Figure(figsize=(1, 1)), "png")[:4]
    b'\x89PNG'
    """
    import io

    if fmt not in FORMATS:
        raise InputError(f"figure format {fmt!r} is not one of {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    with mpl.rc_context(_RC):
        figure.savefig(
            buffer, format=fmt, dpi=dpi or figure.dpi, metadata=_METADATA[fmt], facecolor="white"
        )
    return buffer.getvalue()


__all__ = [
    "A4_SIZE_CM",
    "DISPLAY_CRS",
    "FORMATS",
    "WEST",
    "attribution",
    "check_figure_path",
    "distance_chart",
    "distance_figure",
    "figure_bytes",
    "layer_titles",
    "map_figure",
    "place_labels",
    "ring_lonlat",
    "save_figure",
]
