"""Texts the map, the figures, the report and the command line show: one rule each.

- :func:`km_label` writes a distance with its unit, for a label, a popup or a bar of the
  chart (and ``geo/assets/flankmap/`` (the map's script) ``formatKm`` follows the same rule; a browser test
  ties the two);
- :func:`km_cell` writes the same number without the unit, for a table cell (report, CLI);
- :func:`dates_text` writes the period a site is active;
- :func:`shorten` cuts a long text to a number of characters, ending it in an ellipsis.

The precision of a distance grows with its size: two decimals under 10 km, one under
100 km, whole kilometres from 100 km (``"8.42 km"``, ``"42.1 km"``, ``"1,234 km"``), and
never finer than the coordinate uncertainty allows when one is given. A site 42,140 m away
reads ``42.1`` everywhere.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["dates_text", "km_cell", "km_label", "shorten"]

#: What a table cell shows for a missing distance.
MISSING = "–"


def _metres(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def km_label(metres: Any, *, uncertainty_m: Any = math.nan) -> str:
    """Write a distance in metres as kilometres, with the unit, at a precision suiting its size.

    Two decimals under 10 km, one under 100 km, whole kilometres above. With an
    ``uncertainty_m``, the distance is rounded to the power of ten (in metres) at or below the
    uncertainty, and never shown finer than without it.

    Parameters
    ----------
    metres : float
        The distance (anything ``float`` accepts; NaN, None or text for a missing one).
    uncertainty_m : float, optional
        How far the site may be from its coordinate, in metres; NaN or 0 for unknown.

    Returns
    -------
    text : str
        e.g. ``"8.42 km"``, ``"42.1 km"``, ``"1,234 km"``; ``""`` for a missing distance.

    Examples
    --------
    >>> km_label(1_234_000), km_label(42_140), km_label(8_421), km_label(float("nan"))
    ('1,234 km', '42.1 km', '8.42 km', '')
    >>> km_label(7_390, uncertainty_m=8_000), km_label(7_390, uncertainty_m=500)
    ('7 km', '7.4 km')
    >>> km_label(829_400, uncertainty_m=10_000), km_label(152_300, uncertainty_m=1_000)
    ('830 km', '152 km')
    """
    metres = _metres(metres)
    if not math.isfinite(metres):
        return ""
    km = metres / 1000.0
    uncertainty_m = _metres(uncertainty_m)
    if not (math.isfinite(uncertainty_m) and uncertainty_m > 0):
        if km < 10:
            return f"{km:.2f} km"
        if km < 100:
            return f"{km:.1f} km"
        return f"{km:,.0f} km"
    shown = 10.0 if km < 10 else 100.0 if km < 100 else 1000.0  # the step above, in m
    step = max(shown, 10.0 ** math.floor(math.log10(uncertainty_m)))
    value = round(metres / step) * step / 1000.0
    decimals = max(0, 3 - round(math.log10(step)))
    return f"{value:,.{decimals}f} km"


def km_cell(metres: Any, *, missing: str = MISSING) -> str:
    """Write a distance in metres as kilometres for a table cell: :func:`km_label` without unit.

    Parameters
    ----------
    metres : float
        The distance (anything ``float`` accepts; NaN, None or text for a missing one).
    missing : str, optional
        The text for a missing distance; default an en dash.

    Returns
    -------
    text : str
        e.g. ``"8.42"``, ``"42.1"``, ``"1,234"``.

    Examples
    --------
    >>> km_cell(42_140), km_cell(None), km_cell(float("nan"), missing="-")
    ('42.1', '–', '-')
    """
    label = km_label(metres)
    return label.removesuffix(" km") if label else missing


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def dates_text(since: Any, until: Any) -> str:
    """Write the period from ``since`` to ``until``, either of which may be missing.

    Parameters
    ----------
    since, until : str or None
        ISO dates (or any text); None, NaN or ``""`` when unknown.

    Returns
    -------
    text : str
        ``"since – until"``, ``"since X"``, ``"until X"``, or ``""`` when both are missing.

    Examples
    --------
    >>> dates_text("2017-01-01", "2024-06-30"), dates_text("2017-01-01", None)
    ('2017-01-01 – 2024-06-30', 'since 2017-01-01')
    >>> dates_text(None, "2024-06-30"), dates_text(None, float("nan"))
    ('until 2024-06-30', '')
    """
    since, until = _text(since), _text(until)
    if since and until:
        return f"{since} – {until}"
    if since:
        return f"since {since}"
    return f"until {until}" if until else ""


def shorten(text: str, limit: int) -> str:
    """Cut a text longer than ``limit`` characters, ending it in an ellipsis.

    Parameters
    ----------
    text : str
        The text.
    limit : int
        The most characters to keep, the ellipsis included.

    Returns
    -------
    text : str
        The text, or its first ``limit - 1`` characters (trailing spaces dropped) and ``…``.

    Examples
    --------
    >>> shorten("Training area number 12", 12), shorten("Tapa", 12)
    ('Training ar…', 'Tapa')
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
