"""Rich display in Jupyter: the layer list and distance tables as HTML tables.

A notebook shows the value of the last line of a cell through its ``_repr_html_`` method.
:func:`geo.layers.list_layers` returns a :class:`LayerList`, which has one;
:func:`distance_table` wraps a result of :mod:`geo.distance` in a :class:`Table`. Every text,
from a layer file or a user's file, is escaped: it shows literally and never becomes markup.
A map from :func:`geo.maps.build_map` displays itself (folium's ``_repr_html_``): an
``<iframe>`` holding the same self-contained page as the saved file, with no request to the
internet.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas loads only for a distance table: listing layers needs none
    import pandas as pd

    from geo.layers import LayerInfo

__all__ = ["LayerList", "Table", "distance_table"]

_STYLE = (
    "<style>.flankmap-table{border-collapse:collapse;font-size:0.9em}"
    ".flankmap-table th,.flankmap-table td{border:1px solid #ccc;padding:2px 6px;"
    "text-align:left;vertical-align:top}.flankmap-table td.n{text-align:right}</style>"
)


def _cell(value: Any, *, number: bool) -> str:
    css = ' class="n"' if number else ""
    return f"<td{css}>{html.escape(str(value), quote=True)}</td>"


def html_table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Sequence[bool] | None = None,
    caption: str = "",
) -> str:
    """Return an HTML table; every header, cell and caption text is escaped.

    Parameters
    ----------
    header : sequence of str
        The column titles.
    rows : iterable of sequences
        The cells of each row, shown with :func:`str`.
    numeric : sequence of bool, optional
        Which columns to align right.
    caption : str
        A caption under the table.

    Returns
    -------
    html : str
        One ``<table>``, with its style.

    Examples
    --------
    >>> html_table(["name"], [["<b>x</b>"]]).count("&lt;b&gt;x&lt;/b&gt;")
    1
    """
    right = list(numeric) if numeric is not None else [False] * len(header)
    head = "".join(f"<th>{html.escape(str(h), quote=True)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(_cell(v, number=n) for v, n in zip(row, right, strict=True)) + "</tr>"
        for row in rows
    )
    tail = f"<caption>{html.escape(caption, quote=True)}</caption>" if caption else ""
    return (
        f'{_STYLE}<table class="flankmap-table">{tail}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


class LayerList(list["LayerInfo"]):
    """The layers of :func:`geo.layers.list_layers`: a list that a notebook shows as a table."""

    def _repr_html_(self) -> str:
        rows = [
            [info.name, info.title, info.count, info.first, info.last, info.description]
            for info in self
        ]
        return html_table(
            ["name", "title", "features", "first", "last", "description"],
            rows,
            numeric=[False, False, True, False, False, False],
        )


class Table:
    """A frame shown as an HTML table in a notebook (see :func:`distance_table`).

    Parameters
    ----------
    html : str
        The table.
    text : str
        What ``repr`` shows outside a notebook.
    """

    def __init__(self, html: str, text: str) -> None:
        self.html = html
        self._text = text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self._text


def _format(value: Any, column: str) -> str:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        if math.isnan(value):
            return ""
    else:
        return str(value)
    if column.endswith("_m"):
        return f"{value / 1000:,.1f}"
    if column.endswith(("lat", "lon")):
        return f"{value:.5f}"
    if column.endswith("_deg"):
        return f"{value:.1f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def distance_table(frame: pd.DataFrame, *, max_rows: int = 100) -> Table:
    """Wrap a distance result so that a notebook shows it as an HTML table.

    Columns in metres (their name ends in ``_m``) are shown in km with one decimal and titled
    ``… (km)``; latitudes and longitudes with five decimals; bearings with one; NaN as an empty
    cell. The geometry column is left out (the nearest point's columns say where it is).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        A result of :func:`geo.distance.distances`, :func:`geo.distance.to_frontier` or any
        frame.
    max_rows : int
        Rows shown; the caption tells how many more there are.

    Returns
    -------
    table : Table
        Its ``_repr_html_`` is the table; ``table.html`` is the same text.

    Examples
    --------
    >>> import pandas as pd
    >>> t = distance_table(pd.DataFrame({"id": ["<i>a</i>"], "distance_m": [12345.0]}))
    >>> "<th>distance (km)</th>" in t.html, '<td class="n">12.3</td>' in t.html
    (True, True)
    >>> "&lt;i&gt;a&lt;/i&gt;" in t.html
    True
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    columns = [c for c in frame.columns if c != geometry]
    shown = frame[columns].head(max_rows)
    header = [
        f"{str(c)[:-2].rstrip('_')} (km)" if str(c).endswith("_m") else str(c) for c in columns
    ]
    numeric = [shown[c].dtype.kind in "iuf" for c in columns]
    rows = [
        [_format(value, str(c)) for value, c in zip(row, columns, strict=True)]
        for row in shown.itertuples(index=False, name=None)
    ]
    more = len(frame) - len(shown)
    caption = f"{len(frame)} rows, the first {len(shown)} shown" if more > 0 else ""
    return Table(
        html_table(header, rows, numeric=numeric, caption=caption),
        f"<flankmap table: {len(frame)} rows × {len(columns)} columns>",
    )
