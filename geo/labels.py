"""Labels that do not collide, and the key of the labels that did not fit, for the figures.

:func:`place_labels` puts a text beside each point of a matplotlib axes so that no two labels,
no label and marker, and no label and line overlap, with a leader line when the label has to
stand farther out; what finds no place becomes a number, listed by :func:`draw_key` below the
map. :func:`figure_text` is the one place that makes a text from a layer, a user or a file
safe to draw.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import textwrap
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import Bbox

from geo.styles import BASE, FONT
from geo.text import shorten

__all__ = [
    "FAR_NAME_SCALES",
    "KEY_CHARS",
    "KEY_FONT",
    "KEY_GAP_PT",
    "LABEL_CHARS",
    "LEGEND_CHARS",
    "NAME_SCALES",
    "TITLE_CHARS",
    "agg_renderer",
    "draw_key",
    "figure_text",
    "key_layout",
    "measuring",
    "place_labels",
]

#: The longest texts drawn, in characters: a site's label, a name in the key of numbered
#: labels or in the chart, a layer in a legend, a title. Longer texts end in an ellipsis.
LABEL_CHARS, KEY_CHARS, LEGEND_CHARS, TITLE_CHARS = 100, 120, 70, 150


_SHOWN_CONTROLS = {"\t": " ", "\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n"}
_CONTROL_RE = re.compile(
    r"\r\n|[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]"
)


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHOWN_CONTROLS:
        return _SHOWN_CONTROLS[char]
    if char == "\ufeff":  # a byte order mark: invisible, and it breaks the PDF backend
        return ""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def figure_text(text: object, *, limit: int | None = None) -> str:
    r"""Return a text as every figure draws it: literally, and valid in PNG, SVG and PDF.

    This is the one place that makes a text from a layer, a user or a file safe to draw.
    The figures draw no mathtext (``$x^2$`` stays ``$x^2$``; see ``text.parse_math`` in
    their style), and this function

    - shows each control character as a visible escape (``\x1b``), except that a tab becomes
      a space, and ``\r\n``, ``\r`` and the line and paragraph separators U+2028 and U+2029
      a line break (control characters have no glyph, most of them may not appear in SVG,
      which is XML, and matplotlib drops what follows U+2029);
    - shows the noncharacters U+FFFE and U+FFFF and lone surrogates the same way (``\ufffe``);
    - removes U+FEFF (a byte order mark, invisible, which breaks matplotlib's PDF output);
    - cuts a text longer than ``limit`` characters, ending it in an ellipsis.

    Parameters
    ----------
    text : object
        The text (anything else is converted with ``str``).
    limit : int, optional
        The most characters to keep; default all.

    Returns
    -------
    text : str
        The text to draw.

    Examples
    --------
    >>> figure_text("Price $5bn\ufeff\x1b[31m")
    'Price $5bn\\x1b[31m'
    >>> figure_text("Training area number 12", limit=12)
    'Training ar…'
    """
    shown = _CONTROL_RE.sub(_shown, str(text))
    return shorten(shown, limit) if limit is not None else shown


# --- measuring text ---------------------------------------------------------------------

#: The text measurements of the current :func:`measuring` block, or None outside one.
_MEASURED: contextvars.ContextVar[dict[tuple[Any, ...], Any] | None] = contextvars.ContextVar(
    "flankmap_measured", default=None
)


@contextlib.contextmanager
def measuring() -> Iterator[None]:
    """Measure each text once inside the block: the layout passes of one figure.

    A figure is laid out several times (each pass a new matplotlib figure, with a new
    renderer, so matplotlib's own cache of text metrics starts empty each time), and the
    key's word-wrapping measures the same line prefixes again and again. Inside the block
    a text measured once at a size, font and resolution gives its width and height from
    memory: the same numbers the renderer gave, so the figure comes out byte for byte the
    same. The memory ends with the block, so that each figure still measures (and warns
    about the glyphs its font lacks: see ``geo.figures``) every text it draws.

    Examples
    --------
    >>> with measuring():
    ...     pass
    """
    token = _MEASURED.set({})
    try:
        yield
    finally:
        _MEASURED.reset(token)


def _remembered(key: tuple[Any, ...], measure: Any) -> tuple[float, float]:
    """Return ``measure()`` (width, height), from the :func:`measuring` memory if it has it."""
    memory = _MEASURED.get()
    if memory is None:
        return measure()  # type: ignore[no-any-return]
    found: tuple[float, float] | None = memory.get(key)
    if found is None:
        found = memory[key] = measure()
    return found


def _line_widths(renderer: Any, font: FontProperties) -> Any:
    """Return a function giving the width in pixels of one line of plain text in ``font``.

    The widths are those the renderer gives, each text measured once per function (and, in
    a :func:`measuring` block, once per block, font and resolution): the key's word-wrapping
    asks for the same words and lines tens of thousands of times, so the memory is a plain
    dictionary of texts, found without hashing the font again for each.
    """
    memory = _MEASURED.get()
    widths: dict[str, float] = {}
    if memory is not None:
        widths = memory.setdefault(("lines", font.copy(), renderer.dpi), widths)

    def measure(text: str) -> float:
        found = widths.get(text)
        if found is None:
            width, _, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
            found = widths[text] = float(width)
        return found

    return measure


def _label_size(
    ax: Any, xy: tuple[float, float], text: str, *, fontsize: float, renderer: Any
) -> tuple[float, float]:
    """Return the width and height in pixels of a label as :func:`_try_place` draws it."""

    def measure() -> tuple[float, float]:
        probe = ax.annotate(text, xy, fontsize=fontsize, linespacing=1.0, ha="left", va="bottom")
        extent = probe.get_window_extent(renderer)
        probe.remove()
        return float(extent.width), float(extent.height)

    font = FontProperties(size=fontsize)  # what the probe gets: the rc font at this size
    return _remembered(("label", text, font, renderer.dpi), measure)


# --- placing labels ---------------------------------------------------------------------


class _Boxes:
    """Boxes in display coordinates (rows of x0, y0, x1, y1), tested for overlap all at once."""

    def __init__(self, boxes: np.ndarray | None = None) -> None:
        self.array = boxes if boxes is not None else np.empty((0, 4))
        self._by_x0: tuple[np.ndarray, np.ndarray, float] | None = None

    def add(self, box: Bbox | np.ndarray) -> None:
        rows = np.array(box.extents if isinstance(box, Bbox) else box, dtype=float)
        self.array = np.vstack([self.array, rows.reshape(-1, 4)])
        self._by_x0 = None

    def _near(self, q: np.ndarray) -> np.ndarray:
        """Return the stored boxes that touch the box around all of ``q``.

        Only they can touch one of ``q``: a cheap pass over every box before the pairwise test.
        Many boxes (the line's, thousands) are first narrowed down to those whose left side
        lies between the query's left side less the widest box and its right side.
        """
        a = self.array
        if len(a) >= _INDEXED_FROM:
            x0, rows, widest = self._sorted()
            lo = np.searchsorted(x0, q[:, 0].min() - 2 * widest, side="left")
            a = rows[lo : np.searchsorted(x0, q[:, 2].max(), side="left")]
        near = (a[:, 0] < q[:, 2].max()) & (a[:, 2] > q[:, 0].min())
        near &= (a[:, 1] < q[:, 3].max()) & (a[:, 3] > q[:, 1].min())
        touching: np.ndarray = a[near]
        return touching

    def _sorted(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Return the boxes by their left side, their left sides and the widest box's width."""
        if self._by_x0 is None:
            a = self.array[~np.isnan(self.array).any(axis=1)]  # (touch nothing)
            rows = a[np.argsort(a[:, 0], kind="stable")]
            with np.errstate(invalid="ignore"):  # NaN for a box from -inf to -inf: skipped
                widths = rows[:, 2] - rows[:, 0]
            widest = float(np.max(widths, initial=0.0, where=~np.isnan(widths)))
            self._by_x0 = (rows[:, 0].copy(), rows, widest)
        return self._by_x0

    def each(self, boxes: np.ndarray) -> np.ndarray:
        """Return, for each of the given boxes (rows), how many stored boxes touch it.

        The :meth:`count` of each box alone, all at once.
        """
        q = np.asarray(boxes, dtype=float).reshape(-1, 4)
        counts = np.zeros(len(q), dtype=int)
        valid = ~np.isnan(q).any(axis=1)  # (a box with a NaN side touches nothing)
        if not valid.any() or not len(self.array):
            return counts
        q = q[valid]
        b = self._near(q)[:, None, :]
        touch = (b[..., 0] < q[:, 2]) & (b[..., 2] > q[:, 0]) & (b[..., 1] < q[:, 3])
        touch &= b[..., 3] > q[:, 1]
        counts[valid] = touch.sum(axis=0)
        return counts

    def count(self, box: Bbox | np.ndarray) -> int:
        """Return how many stored boxes touch any of the given boxes."""
        q = np.array(box.extents if isinstance(box, Bbox) else box, dtype=float).reshape(-1, 4)
        q = q[~np.isnan(q).any(axis=1)]  # (a box with a NaN side touches nothing)
        if not len(q) or not len(self.array):
            return 0
        near = self._near(q)
        if len(q) == 1 or not len(near):
            return len(near)
        b = near[:, None, :]
        touch = (b[..., 0] < q[:, 2]) & (b[..., 2] > q[:, 0]) & (b[..., 1] < q[:, 3])
        touch &= b[..., 3] > q[:, 1]
        return int(touch.any(axis=1).sum())


#: A :class:`_Boxes` of this many boxes sorts them by their left side to find the near ones.
_INDEXED_FROM = 256


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
_HA = {"left": 0.0, "center": 0.5, "right": 1.0}
_VA = {"bottom": 0.0, "center": 0.5, "top": 1.0}
_LABEL_PAD = 0.1
_LABEL_BOX = {"boxstyle": f"square,pad={_LABEL_PAD}", "fc": "white", "ec": "none", "alpha": 0.75}
#: Offsets farther than this many times the nearest get a leader line to their point.
_LEADER_SCALE = 1.5
#: How far names go from their point by default (multiples of the :data:`_CANDIDATES` offsets).
NAME_SCALES: tuple[float, ...] = (1.0, 2.4, 4.0)
#: Farther, for a map with room to spare (a region's): up to about 65 pt away on a leader.
FAR_NAME_SCALES: tuple[float, ...] = (*NAME_SCALES, 6.0, 8.5, 11.5, 15.0)


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


def _leader_boxes(point: np.ndarray, box: np.ndarray, clear: float, half: float) -> np.ndarray:
    """Small boxes along a leader line from the centre of ``box`` to ``point`` (display units).

    Only the visible part counts: outside the label's box and farther than ``clear`` from the
    point (its own marker).
    """
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    n = max(int(np.hypot(*(centre - point)) / half), 2)
    t = np.linspace(0.0, 1.0, n)[:, None]
    xy = centre + t * (point - centre)
    outside = (xy[:, 0] < box[0]) | (xy[:, 0] > box[2]) | (xy[:, 1] < box[1]) | (xy[:, 1] > box[3])
    outside &= np.abs(xy - point).max(axis=1) > clear + half
    xy = xy[outside]
    return np.column_stack([xy - half, xy + half])


def _leader(
    point: np.ndarray, box: np.ndarray, scale: float, clear_px: float, px: float
) -> np.ndarray:
    """Return the boxes of the leader line of a label at ``scale`` (none for a near label)."""
    if scale > _LEADER_SCALE:
        return _leader_boxes(point, box, clear_px, 0.6 * px)
    return np.empty((0, 4))


def _markers_near(box: np.ndarray, markers: _Boxes, own: _Boxes, clear_px: float) -> int:
    """How many markers other than the label's own stand close to a label at a leader's end."""
    near = box + 1.5 * clear_px * np.array([-1, -1, 1, 1])
    return markers.count(near) - own.count(near)


def _score(
    point: np.ndarray,
    box: np.ndarray,
    scale: float,
    boxes: Sequence[_Boxes],
    markers: _Boxes | None,
    own: _Boxes,
    *,
    clear_px: float,
    px: float,
    below: float,
    covers: int | None = None,
) -> tuple[int, np.ndarray] | None:
    """Score a candidate place, with its leader; None if the score is not below ``below``.

    The score is 10 for each box of ``boxes`` the label covers and 1 for each its leader
    crosses (when forced, a leader crossing something is better than a label covering it),
    plus, for a label at a leader's end, the markers beside it other than its own. The
    counting stops as soon as the score cannot end below ``below`` (the marker term is at
    least -1: the label's own marker counted once too many): the same answers, less work.
    ``covers``, if given, is how many of ``boxes`` the label covers (they are not counted).
    """
    slack = 1 if markers is not None and scale > _LEADER_SCALE else 0
    covered = 0
    if covers is not None:
        covered = 10 * covers
        if covered - slack >= below:
            return None
    for b in () if covers is not None else boxes:
        covered += 10 * b.count(box)
        if covered - slack >= below:
            return None
    leader = _leader(point, box, scale, clear_px, px)
    if markers is not None and len(leader):
        covered += _markers_near(box, markers, own, clear_px)
    if covered >= below:  # what is left to count only adds
        return None
    for b in boxes:
        covered += b.count(leader)
        if covered >= below:
            return None
    return covered, leader


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
    clear_px: float,
    avoid: _Boxes | None = None,
    markers: _Boxes | None = None,
    force: bool = False,
) -> Any:
    """Place ``text`` at the first free candidate position, or return ``None``.

    The text is measured once and every candidate box is computed from that; far positions
    have a leader line, which must be free too. A free position touches no box of ``taken``
    or ``avoid``, and a label at the end of a leader keeps clear of ``markers`` (else it would
    seem to name the marker beside it); with ``force``, the position that touches the fewest
    is taken when none is free. The label's box and leader are added to ``taken``.
    """
    px = ax.figure.dpi / 72.0
    width, height = _label_size(ax, xy, text, fontsize=fontsize, renderer=renderer)
    pad = _LABEL_PAD * fontsize * px
    w, h = width + 2 * pad, height + 2 * pad
    point = ax.transData.transform([xy])[0]
    own = _Boxes(np.concatenate([point - clear_px, point + clear_px]).reshape(1, 4))
    boxes = [b for b in (taken, avoid) if b is not None]
    # Every place's box at once, inside the frame, in the order tried.
    tried = [(scale, candidate) for scale in scales for candidate in _CANDIDATES]
    ox = point[0] + np.array([c[0] * scale * px for scale, c in tried])
    oy = point[1] + np.array([c[1] * scale * px for scale, c in tried])
    x0 = ox - np.array([_HA[c[2]] for _, c in tried]) * width - pad
    y0 = oy - np.array([_VA[c[3]] for _, c in tried]) * height - pad
    every = np.column_stack([x0, y0, x0 + w, y0 + h])
    outside = (every[:, 0] < frame.x0) | (every[:, 2] > frame.x1)
    outside |= (every[:, 1] < frame.y0) | (every[:, 3] > frame.y1)
    places = [(*tried[i], every[i]) for i in np.flatnonzero(~outside)]
    # The boxes each place covers, counted for all the places at once. Unforced, only a
    # free place (score 0) will do: those that cover a box (10 or more) are ruled out.
    covering = np.zeros(len(places), dtype=int)
    if places:
        for b in boxes:
            covering += b.each(every[~outside])
    best: tuple[int, float, tuple[int, int, str, str], np.ndarray, np.ndarray] | None = None
    for (scale, candidate, box), covers in zip(places, covering.tolist(), strict=True):
        if covers and not force:
            continue
        # Forced, the lowest score.
        below = (best[0] if best is not None else np.inf) if force else 1
        scored = _score(
            point,
            box,
            scale,
            boxes,
            markers,
            own,
            clear_px=clear_px,
            px=px,
            below=below,
            covers=covers,
        )
        if scored is None:
            continue
        covered, leader = scored
        if best is None or covered < best[0]:
            best = (covered, scale, candidate, box, leader)
        if covered == 0:
            break
    if best is None or (best[0] > 0 and not force):
        return None
    _, scale, (dx, dy, ha, va), box, leader = best
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
            if scale > _LEADER_SCALE
            else None
        ),
    )
    taken.add(box)
    taken.add(leader)
    return artist


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
    name_scales: Sequence[float] = NAME_SCALES,
) -> tuple[list[Any], list[int]]:
    """Place text labels beside points so that no two labels and no label and marker overlap.

    A greedy search: each label in turn takes the first of a few positions around its point
    (right, left, above, below, then the diagonals, then the same farther out with a leader
    line) whose box and leader line stay inside the axes and touch no placed label or leader,
    no marker, no obstacle and no line. A label that finds no free place is replaced by a
    small number (``1``, ``2``...) for a key elsewhere, placed the same way but farther out
    if need be; a number may cross a line, and where no place at all is free it takes the
    place that covers the fewest boxes, so that every point gets a label or a number.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes whose limits are already set.
    points : numpy.ndarray
        Shape ``(n, 2)``, data coordinates of the points.
    texts : sequence of str
        One label per point, placed in this order (put the important ones first); each is
        drawn as :func:`figure_text` makes it, cut at :data:`LABEL_CHARS` characters and
        wrapped.
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
    name_scales : sequence of float
        How far from its point a name may go, as multiples of the nearest positions, tried in
        turn (beyond 1.5 with a leader line); default :data:`NAME_SCALES`. A map with room
        to spare (a region) gives farther ones, e.g. :data:`FAR_NAME_SCALES`, so that fewer
        names become numbers.

    Returns
    -------
    labels : list of matplotlib.text.Text
        The label of each point, in the order given (a number label where the text did not
        fit; ``None`` only for a point outside the axes).
    numbered : list of int
        Indices (into ``points``) of the points labelled with a number, in number order.
    """
    fig = ax.figure
    renderer = agg_renderer(fig)
    px = fig.dpi / 72.0
    display = ax.transData.transform(points) if len(points) else np.empty((0, 2))
    half = marker_pt * px / 2
    markers = np.column_stack(
        [display[:, 0] - half, display[:, 1] - half, display[:, 0] + half, display[:, 1] + half]
    )
    extra = np.array([[b.x0, b.y0, b.x1, b.y1] for b in obstacles]).reshape(-1, 4)
    taken = _Boxes(np.vstack([markers, extra]))
    line_boxes = _Boxes(_line_boxes(ax, lines, 1.2 * px))
    frame = ax.get_window_extent(renderer)
    place = functools.partial(
        _try_place,
        ax,
        renderer=renderer,
        frame=frame,
        fontsize=fontsize,
        clear_px=half,
        markers=_Boxes(markers),
    )
    placed: list[Any] = []
    missing: list[int] = []
    for i, ((x, y), text) in enumerate(zip(points, texts, strict=True)):
        wrapped = textwrap.fill(figure_text(text, limit=LABEL_CHARS), wrap, break_on_hyphens=False)
        label = place((x, y), wrapped, taken=taken, avoid=line_boxes, scales=name_scales)
        placed.append(label)
        if label is None:
            missing.append(i)
    numbered: list[int] = []
    number_scales = (0.8, 1.3, 2.0, 3.2, 4.4, 6.0, 8.0, 10.0)
    for i in missing:
        xy = (float(points[i][0]), float(points[i][1]))
        number = str(len(numbered) + 1)
        # A number may cross a line rather than be lost, and at worst may touch a box.
        label = place(xy, number, taken=taken, avoid=line_boxes, scales=number_scales)
        if label is None:
            label = place(xy, number, taken=taken, scales=number_scales, force=True)
        if label is None:  # the point is outside the axes
            continue
        label.set_fontweight("bold")
        numbered.append(i)
        placed[i] = label
    if gids is not None:
        for gid, label in zip(gids, placed, strict=True):
            if label is not None:
                label.set_gid(gid)
    return placed, numbered


def agg_renderer(fig: Any) -> Any:
    """Return the Agg renderer of a figure (with an Agg canvas), to measure text."""
    canvas: FigureCanvasAgg = fig.canvas
    return canvas.get_renderer()  # type: ignore[no-untyped-call]


# --- the key of numbered labels ----------------------------------------------------------

#: Font size of the key of numbered labels, in points.
KEY_FONT = 5.5
#: Space between the map and the key, and between the key's columns, in points.
KEY_GAP_PT, _KEY_GUTTER_PT = 6.0, 10.0


class _KeyLayout:
    """Where each entry of the key goes: columns of (number, wrapped name, top offset)."""

    def __init__(
        self,
        columns: list[list[tuple[int, str, float]]],
        col_width_px: float,
        number_px: float,
        height_px: float,
        dpi: float,
        fontsize: float,
    ) -> None:
        self.columns = columns
        self.col_width_px = col_width_px
        self.number_px = number_px
        self.height_px = height_px
        self.height_in = height_px / dpi
        self.fontsize = fontsize


def _wrap_px(text: str, width_px: float, measure: Any) -> str:
    """Wrap ``text`` at spaces so that each line is at most ``width_px`` wide (if it can).

    The lines are those of measuring each line with the next word in turn, with a fraction
    of the measurements (each costs some 10 us a character, and a key wraps hundreds of
    names at several widths): a line with one word more is as wide as the line, plus the
    word, plus what the space adds between the two letters around it (:func:`_join_px`:
    exact for this font, whose glyphs and kerning are laid out one after another, as
    ``tests/test_labels.py`` checks on every name). Only where that sum comes within
    :data:`_WRAP_SURE_PX` a word of the width is the line measured whole, and decides. A text
    with marks, format characters or right-to-left letters (laid out in context) is measured
    line by line as before.
    """
    words = text.split()
    if not _plain(text):
        return _wrap_measured(words, width_px, measure)
    lines: list[str] = []
    line_px = unsure = 0.0  # the width of the last line, and how far it may be off
    for word in words:
        if lines:
            joined = f"{lines[-1]} {word}"
            sum_px = line_px + _join_px(lines[-1][-1], word[0], measure) + measure(word)
            sure = unsure + _WRAP_SURE_PX
            if sum_px + sure <= width_px:  # fits for sure
                lines[-1], line_px, unsure = joined, sum_px, sure
                continue
            if sum_px - sure <= width_px:  # too close to tell: measure
                whole = measure(joined)
                if whole <= width_px:
                    lines[-1], line_px, unsure = joined, whole, 0.0
                    continue
        lines.append(word)
        line_px, unsure = measure(word), 0.0
    return "\n".join(lines)


#: How far (in pixels) a sum of word widths may be from the measured line for each word: a
#: line is measured whole where its sum comes within this much of the width, per word summed.
_WRAP_SURE_PX = 2.0


def _join_px(before: str, after: str, measure: Any) -> float:
    """Return what a space between two letters adds to the widths of the texts around it.

    That is a part from the letter before the space (its kerning with the space and what
    it leaves blank at its right) and a part from the letter after, each measured once
    against a reference letter: ``join("a", "b") = join("a", "n") + join("n", "b") -
    join("n", "n")``, a handful of measurements a font instead of one for each pair.
    """

    def join(a: str, b: str) -> float:
        return float(measure(f"{a} {b}") - measure(a) - measure(b))

    ref = _JOIN_REF
    return join(before, ref) + join(ref, after) - join(ref, ref)


#: The letter each side of a space is measured against (see :func:`_join_px`).
_JOIN_REF = "n"


def _plain(text: str) -> bool:
    """Whether a text is laid out letter after letter: no marks, format characters, or RTL."""
    return all(
        unicodedata.category(char)[0] not in "MC"
        and unicodedata.bidirectional(char) not in _RTL_CLASSES
        for char in text
    )


_RTL_CLASSES = frozenset({"R", "AL", "AN"})  # (the explicit embeddings are format characters)


def _wrap_measured(words: Sequence[str], width_px: float, measure: Any) -> str:
    """:func:`_wrap_px` measuring each line with the next word: the same lines, more slowly."""
    lines: list[str] = []
    for word in words:
        if lines and measure(f"{lines[-1]} {word}") <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def key_layout(fig: Figure, entries: Sequence[tuple[str, str]], *, fontsize: float) -> _KeyLayout:
    """Lay the key out in as many columns as fit the map's width, balanced, numbers down first.

    More columns make the key lower but wrap long names on more lines: the fewest columns
    that make it at most a little higher than the lowest layout win.
    """
    renderer = agg_renderer(fig)
    px = fig.dpi / 72.0
    prop = FontProperties(family=FONT, size=fontsize)
    bold = FontProperties(family=FONT, size=fontsize, weight="bold")

    measure = _line_widths(renderer, prop)

    one = fig.text(0, 0, "lp", fontsize=fontsize, linespacing=_KEY_SPACING)
    first = one.get_window_extent(renderer).height
    one.set_text("lp\nlp")
    pitch = one.get_window_extent(renderer).height - first
    one.remove()
    gap = 0.25 * fontsize * px
    width = 0.98 * fig.bbox.width
    gutter = _KEY_GUTTER_PT * px
    number_px = _line_widths(renderer, bold)(f"{len(entries)}  ")
    layouts: list[_KeyLayout] = []
    for ncols in range(1, len(entries) + 1):
        col_w = (width - (ncols - 1) * gutter) / ncols
        if ncols > 1 and col_w - number_px < 14 * fontsize * px:
            break
        names = [_wrap_px(name, col_w - number_px, measure) for _, name in entries]
        heights = [first + name.count("\n") * pitch + gap for name in names]
        columns = _balance(heights, ncols)
        layout: list[list[tuple[int, str, float]]] = []
        tallest = 0.0
        for col in columns:
            top = 0.0
            layout.append([])
            for i in col:
                layout[-1].append((i + 1, names[i], top))
                top += heights[i]
            tallest = max(tallest, top - gap)
        layouts.append(_KeyLayout(layout, col_w, number_px, tallest, fig.dpi, fontsize))
    lowest = min(k.height_px for k in layouts)
    return next(k for k in layouts if k.height_px <= lowest * _KEY_SLACK + pitch)


def _balance(heights: Sequence[float], ncols: int) -> list[list[int]]:
    """Split items, in order, into at most ``ncols`` columns with the lowest tallest column."""

    def split(limit: float) -> list[list[int]] | None:
        columns: list[list[int]] = [[]]
        used = 0.0
        for i, h in enumerate(heights):
            if columns[-1] and used + h > limit:
                columns.append([])
                used = 0.0
            columns[-1].append(i)
            used += h
        return columns if len(columns) <= ncols else None

    lo, hi = max(heights), sum(heights)
    for _ in range(40):
        mid = (lo + hi) / 2
        if split(mid) is None:
            lo = mid
        else:
            hi = mid
    columns = split(hi)
    assert columns is not None
    return columns


#: Line spacing of the key's names.
_KEY_SPACING = 1.15
#: A key may be this much higher than its lowest layout to wrap fewer names.
_KEY_SLACK = 1.2


def draw_key(
    fig: Figure,
    ax: Any,
    entries: Sequence[tuple[str, str]],
    *,
    key_in: float,
    below_px: float = 0.0,
) -> None:
    """Draw the key of numbered labels in the room below the map (its font shrinks to fit).

    The room is ``key_in`` inches high, ``below_px`` pixels below the map (what lies
    between them, e.g. a legend below the map).
    """
    renderer = agg_renderer(fig)
    frame = ax.get_window_extent(renderer)
    px = fig.dpi / 72.0
    room = key_in * fig.dpi - KEY_GAP_PT * px
    fontsize = KEY_FONT
    key = key_layout(fig, entries, fontsize=fontsize)
    while key.height_px > room and fontsize > 3.5:
        fontsize -= 0.25
        key = key_layout(fig, entries, fontsize=fontsize)
    top = frame.y0 - below_px - KEY_GAP_PT * px
    left = 0.01 * fig.bbox.width
    to_fig = fig.transFigure.inverted()
    for c, column in enumerate(key.columns):
        x = left + c * (key.col_width_px + _KEY_GUTTER_PT * px)
        for number, name, offset in column:
            fid = entries[number - 1][0]
            for dx, text, ha, weight, gid in (
                (key.number_px * 0.8, str(number), "right", "bold", f"key-number-{fid}"),
                (key.number_px, name, "left", "normal", f"key-name-{fid}"),
            ):
                fx, fy = to_fig.transform((x + dx, top - offset))
                fig.text(
                    fx,
                    fy,
                    text,
                    ha=ha,
                    va="top",
                    fontsize=fontsize,
                    fontweight=weight,
                    linespacing=_KEY_SPACING,
                    color=BASE["text"],
                    gid=gid,
                )
