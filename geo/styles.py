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

import pandas as pd

from geo import borders

#: Operators whose sites stand on the Russian side of the frontier.
EAST_OPERATORS = frozenset(borders.EAST_STATES)
#: The two sides, as named in analysis results.
EAST, WEST = "RUS/BLR", "NATO"

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


def side_of(operator: str) -> str:
    """Return the side an operator stands on.

    Parameters
    ----------
    operator : str
        ISO alpha-3 code of the operating state, or ``NATO``.

    Returns
    -------
    side : str
        ``"RUS/BLR"`` or ``"NATO"``.

    Examples
    --------
    >>> side_of("RUS"), side_of("USA")
    ('RUS/BLR', 'NATO')
    """
    return EAST if str(operator).upper() in EAST_OPERATORS else WEST


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
