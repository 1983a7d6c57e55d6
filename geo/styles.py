"""Symbols and colours shared by the interactive map, the static figures and the report page.

A layer's symbol (a colour and a marker shape) depends only on its name and on the side it
stands on, so that the same layer looks the same in every output. The side of a layer is the
side of most of its features' operators: ``RUS/BLR`` for Russia and Belarus, ``NATO`` for
everyone else. Each side has its own palette (warm colours for ``RUS/BLR``, cool colours for
``NATO``); within a side, layers take colours and shapes in the order of their names.

Use :func:`layer_styles` on the unfiltered layers (every date), so that a layer keeps its
symbol when another layer has no feature on the analysis date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypedDict

import pandas as pd

from geo.borders import EAST, WEST, side_of
from geo.layers import layer_titles

#: The font of every figure (matplotlib), shipped with matplotlib.
FONT = "DejaVu Sans"

#: User points that stand on neither side (e.g. in Ukraine or Moldova), and their colour.
OTHER, OTHER_COLOUR = "other", "#7f7f7f"

#: Marker shapes, each with its matplotlib marker and an SVG path on a 20 x 20 box.
MARKERS: dict[str, tuple[str, str]] = {
    "circle": ("o", "M10 2a8 8 0 1 0 0.001 0z"),
    "square": ("s", "M3 3h14v14H3z"),
    "triangle": ("^", "M10 1.5L18.5 17.5H1.5z"),
    "diamond": ("D", "M10 1L19 10L10 19L1 10z"),
    "pentagon": ("p", "M10 1.5L18.6 7.8L15.3 17.9H4.7L1.4 7.8z"),
    "triangle_down": ("v", "M1.5 2.5H18.5L10 18.5z"),
    "hexagon": ("h", "M10 1.5L17.4 5.75V14.25L10 18.5L2.6 14.25V5.75z"),
}
_SHAPE_ORDER = ("circle", "square", "triangle", "diamond", "pentagon", "triangle_down", "hexagon")
#: Warm colours for the ``RUS/BLR`` side, cool ones for ``NATO`` (colour-blind aware picks).
PALETTES: dict[str, tuple[str, ...]] = {
    EAST: ("#c0392b", "#e67e22", "#8e1b4f", "#a0522d", "#d4a017", "#ff6f61"),
    WEST: ("#1f5fbf", "#138d75", "#6c3483", "#2e9fd8", "#4d7c0f", "#5d6d7e", "#0b3d91"),
}

#: Colours of the base map, shared by the figure and the map.
BASE = {
    "frontier": "#d1006f",
    "ring": "#7a1f1f",
    "territory_west": "#dde8f6",
    "territory_east": "#f7dfd9",
    "territory_other": "#efefec",
    "water": "#ffffff",
    "border": "#8c8c8c",
    "text": "#1a1a1a",
}


@dataclass(frozen=True)
class LayerStyle:
    """How one layer is drawn: a fill colour, a marker shape and the layer's side."""

    colour: str
    shape: str
    side: str

    @property
    def mpl_marker(self) -> str:
        """The matplotlib marker code of :attr:`shape`."""
        return MARKERS[self.shape][0]

    def svg(self, *, size: int = 14, title: str = "") -> str:
        """Return the symbol as a small inline SVG element (for HTML legends and tables).

        Parameters
        ----------
        size : int
            Width and height in CSS pixels.
        title : str
            Tooltip and accessible name; escaped here.

        Returns
        -------
        svg : str
            An ``<svg>`` element.

        Examples
        --------
        >>> LayerStyle("#1f5fbf", "square", "NATO").svg(size=10)[:40]
        '<svg xmlns="http://www.w3.org/2000/svg" '
        """
        from html import escape

        label = f"<title>{escape(title)}</title>" if title else ""
        path = MARKERS[self.shape][1]
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 20 20" role="img" aria-label="{escape(title, quote=True)}">{label}'
            f'<path d="{path}" fill="{self.colour}" stroke="#1a1a1a" stroke-width="1.5"/></svg>'
        )


def layer_sides(frame: pd.DataFrame) -> dict[str, str]:
    """Return the side of each layer of a frame, from most of its features' operators.

    Parameters
    ----------
    frame : pandas.DataFrame
        Loaded layers, with columns ``layer`` and ``operator``.

    Returns
    -------
    sides : dict
        Layer name to ``"RUS/BLR"`` or ``"NATO"``, by name; a tie goes to ``NATO``.
    """
    sides: dict[str, str] = {}
    for name, group in frame.groupby("layer", sort=True):
        east = sum(side_of(op) == EAST for op in group["operator"])
        sides[str(name)] = EAST if east * 2 > len(group) else WEST
    return sides


def assign_styles(sides: Mapping[str, str]) -> dict[str, LayerStyle]:
    """Give each layer a colour and a shape from its side's palette, in the order of names.

    Parameters
    ----------
    sides : mapping
        Layer name to side (``"RUS/BLR"`` or ``"NATO"``).

    Returns
    -------
    styles : dict
        Layer name to :class:`LayerStyle`, by name.

    Examples
    --------
    >>> s = assign_styles({"b": "NATO", "a": "NATO", "c": "RUS/BLR"})
    >>> s["a"].colour, s["b"].shape, s["c"].side
    ('#1f5fbf', 'square', 'RUS/BLR')
    """
    styles: dict[str, LayerStyle] = {}
    for side in (EAST, WEST):
        names = sorted(n for n, s in sides.items() if s == side)
        palette = PALETTES[side]
        for i, name in enumerate(names):
            styles[name] = LayerStyle(
                colour=palette[i % len(palette)],
                shape=_SHAPE_ORDER[i % len(_SHAPE_ORDER)],
                side=side,
            )
    return dict(sorted(styles.items()))


def layer_styles(frame: pd.DataFrame, *, extra: Iterable[str] = ()) -> dict[str, LayerStyle]:
    """Return the symbol of every layer in a frame of loaded layers.

    Parameters
    ----------
    frame : pandas.DataFrame
        Loaded layers (columns ``layer`` and ``operator``), best unfiltered by date.
    extra : iterable of str
        Further layer names without features here; they are put on the ``NATO`` side.

    Returns
    -------
    styles : dict
        Layer name to :class:`LayerStyle`, by name.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"layer": ["x", "y"], "operator": ["RUS", "NATO"]})
    >>> {name: s.side for name, s in layer_styles(frame).items()}
    {'x': 'RUS/BLR', 'y': 'NATO'}
    """
    sides = layer_sides(frame)
    for name in extra:
        sides.setdefault(name, WEST)
    return assign_styles(sides)


def styles_for(
    frame: pd.DataFrame, *, extra: Iterable[str] = ()
) -> tuple[dict[str, LayerStyle], dict[str, str]]:
    """Return the symbol and the title of every layer in a frame of loaded layers.

    What the map, the figures and the report draw their legends from: :func:`layer_styles`
    and :func:`geo.layers.layer_titles` of the same layers.

    Parameters
    ----------
    frame : pandas.DataFrame
        Loaded layers (columns ``layer`` and ``operator``), best unfiltered by date, so that a
        layer keeps its symbol on every date.
    extra : iterable of str
        Further layer names without features here (users' files): they get a symbol on the
        ``NATO`` side, and no title.

    Returns
    -------
    styles : dict
        Layer name to :class:`LayerStyle`, by name.
    titles : dict
        Name of each layer of the frame to its title, by name.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"layer": ["my_sites"], "operator": ["RUS"]})
    >>> styles, titles = styles_for(frame, extra=["user:a.csv"])
    >>> sorted(styles), titles
    (['my_sites', 'user:a.csv'], {'my_sites': 'my sites'})
    """
    styles = layer_styles(frame, extra=extra)
    return styles, layer_titles(sorted({str(name) for name in frame["layer"]}))


# --- certainty: how sure a site is, drawn the same way in the map and the figures --------------

#: The values of a feature's ``confidence`` (layer schema v2), surest first.
CONFIDENCES = ("confirmed", "reported", "claimed")
#: What each confidence value means, for legends and popups.
CONFIDENCE_MEANINGS = {
    "confirmed": "official statement or several independent reliable sources",
    "reported": "credible press or OSINT, not officially confirmed",
    "claimed": "one party's claim or a single weak source",
}
#: Statuses drawn hollow: the site is not (yet) in service.
HOLLOW_STATUSES = frozenset({"planned", "under_construction"})


class ScatterStyle(TypedDict):
    """Keyword arguments of ``Axes.scatter`` that draw a certainty mark (:meth:`Mark.mpl_kwargs`)."""

    facecolor: tuple[str, float]
    edgecolor: str
    linewidths: float
    linestyle: str | tuple[int, tuple[float, ...]]


@dataclass(frozen=True)
class Mark:
    """How a site's certainty changes its symbol (its shape and colour come from the layer).

    Confirmed (or unrated) sites in service are solid; ``reported`` ones have a lighter fill
    and a dashed outline, ``claimed`` ones a pale fill, a dotted outline and a ``?``; planned
    sites and sites under construction are hollow (white inside, outlined in the layer's
    colour). Dash lengths are in units of the 20-unit symbol box.
    """

    hollow: bool = False
    fill_opacity: float = 1.0
    dash: tuple[float, ...] = ()
    outline_width: float = 1.5
    badge: str = ""

    def fill(self, colour: str) -> str:
        """Return the fill colour of the symbol of a layer drawn in ``colour``."""
        return "#ffffff" if self.hollow else colour

    def outline(self, colour: str) -> str:
        """Return the outline colour of the symbol of a layer drawn in ``colour``."""
        return colour if self.hollow else BASE["text"]

    def mpl_kwargs(self, colour: str, *, scale: float = 0.4) -> ScatterStyle:
        """Keyword arguments for ``Axes.scatter`` that draw this mark in ``colour``.

        Parameters
        ----------
        colour : str
            The layer's colour.
        scale : float
            Points per unit of the 20-unit symbol box (line widths and dashes).

        Returns
        -------
        kwargs : ScatterStyle
            ``facecolor``, ``edgecolor``, ``linewidths`` and ``linestyle``.

        Examples
        --------
        >>> mark_of("planned", "").mpl_kwargs("#1f5fbf")["facecolor"]
        ('#ffffff', 1.0)
        """
        linestyle: str | tuple[int, tuple[float, ...]] = (
            (0, tuple(d * scale for d in self.dash)) if self.dash else "solid"
        )
        return {
            "facecolor": (self.fill(colour), 1.0 if self.hollow else self.fill_opacity),
            "edgecolor": self.outline(colour),
            "linewidths": self.outline_width * scale,
            "linestyle": linestyle,
        }


_CONFIDENCE_MARKS = {
    "confirmed": {},
    "reported": {"fill_opacity": 0.5, "dash": (3.0, 2.0), "outline_width": 1.8},
    "claimed": {"fill_opacity": 0.2, "dash": (1.0, 1.8), "outline_width": 1.8, "badge": "?"},
}


def mark_of(status: object, confidence: object) -> Mark:
    """Return the certainty mark of a site from its status on the date and its confidence.

    Parameters
    ----------
    status : str
        ``planned``, ``under_construction``, ``active`` or ``ended``.
    confidence : str
        ``confirmed``, ``reported``, ``claimed``, or empty where the data does not say (drawn
        as confirmed).

    Returns
    -------
    mark : Mark
        The mark; equal inputs give equal marks.

    Examples
    --------
    >>> mark_of("active", "confirmed") == mark_of("active", "")
    True
    >>> mark_of("under_construction", "reported").hollow, mark_of("active", "claimed").badge
    (True, '?')
    """
    options = dict(_CONFIDENCE_MARKS.get(str(confidence or "").strip().lower(), {}))
    if str(status or "") in HOLLOW_STATUSES:
        options["hollow"] = True
        options["outline_width"] = 2.6
    return Mark(**options)  # type: ignore[arg-type]


def side_styles(style: LayerStyle, *, east: LayerStyle) -> dict[str, LayerStyle]:
    """Return the symbols of a user layer whose points may stand on either side.

    A user layer keeps its shape; its points are coloured by the side they stand on: the
    layer's own (cool) colour on the NATO side, a warm colour on the ``RUS/BLR`` side, grey
    elsewhere.

    Parameters
    ----------
    style : LayerStyle
        The layer's style on the NATO side (from :func:`layer_styles`).
    east : LayerStyle
        Its style on the ``RUS/BLR`` side (from :func:`assign_styles`).

    Returns
    -------
    styles : dict
        ``{"NATO": ..., "RUS/BLR": ..., "other": ...}``.
    """
    return {
        WEST: style,
        EAST: LayerStyle(colour=east.colour, shape=style.shape, side=EAST),
        OTHER: LayerStyle(colour=OTHER_COLOUR, shape=style.shape, side=OTHER),
    }


__all__ = [
    "BASE",
    "CONFIDENCES",
    "CONFIDENCE_MEANINGS",
    "EAST",
    "FONT",
    "HOLLOW_STATUSES",
    "MARKERS",
    "OTHER",
    "OTHER_COLOUR",
    "PALETTES",
    "WEST",
    "LayerStyle",
    "Mark",
    "ScatterStyle",
    "assign_styles",
    "layer_sides",
    "layer_styles",
    "mark_of",
    "side_of",
    "side_styles",
    "styles_for",
]
