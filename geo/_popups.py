"""The text of the map's popups and tooltips: one row per field, plain text.

Values from layers and user files become strings here (never HTML: the script sets them with
``textContent``); :data:`POPUP_FIELDS` are the row labels in order.
"""

from __future__ import annotations

import json
import math
from typing import Any

from geo import layers
from geo._payload import as_number, as_text
from geo.styles import (
    CONFIDENCE_MEANINGS,
    EAST,
    OTHER,
    WEST,
    Mark,
)
from geo.text import km_label

#: Labels of the popup rows, in order (sites carry one value per label, "" when unknown;
#: rows no site has are left out). A user file's own columns follow them.
POPUP_FIELDS = (
    "Operator",
    "Host country",
    "Side",
    "Status",
    "Confidence",
    "Dates",
    "Last verified",
    "To the frontier",
    "Coordinates",
    "Location note",
)


def place_name(code: Any, names: dict[str, str]) -> str:
    code = as_text(code)
    if not code:
        return ""
    if code == "NATO":
        return "NATO"
    name = names.get(code) or layers.EXTRA_OPERATOR_NAMES.get(code)
    return f"{name} ({code})" if name else code


def coordinates_text(lat: float, lon: float, uncertainty_m: float) -> str:
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    text = f"{abs(lat):.4f}° {ns}, {abs(lon):.4f}° {ew}"
    if math.isfinite(uncertainty_m):
        text += f" ± {uncertainty_m:,.0f} m"
    return text


#: A distance range without coordinate uncertainty is shown from this width (the borders').
RANGE_SHOWN_M = 1000.0


def frontier_text(row: dict[str, Any]) -> str:
    dist = as_number(row.get("opposing_distance_m"))
    if not math.isfinite(dist):
        return ""
    unc = as_number(row.get("coord_uncertainty_m"))
    text = km_label(dist, uncertainty_m=unc)
    border = as_text(row.get("opposing_border"))
    if border:
        text += f" to the {border.replace('-', '–')} border"
    low = as_number(row.get("opposing_distance_min_m"))
    high = as_number(row.get("opposing_distance_max_m"))
    if not (math.isfinite(low) and math.isfinite(high)):
        return text
    low_text, high_text = km_label(low, uncertainty_m=unc), km_label(high, uncertainty_m=unc)
    # The range says something when the coordinate is uncertain or the borders are coarse
    # (Natural Earth), not for the few metres of a surveyed border alone.
    if low_text != high_text and (unc > 0 or high - low >= RANGE_SHOWN_M):
        text += f" ({low_text} to {high_text} within the uncertainty of the site and the borders)"
    return text


def side_text(row: dict[str, Any], names: dict[str, str]) -> str:
    """Where a user point stands: the side and, when known, the country."""
    side = as_text(row.get("side"))
    where = place_name(row.get("located_in"), names)
    text = {
        EAST: "Russia & Belarus",
        WEST: "NATO",
        OTHER: "neither NATO nor Russia & Belarus",
    }.get(side, side)
    return f"{text} (in {where})" if text and where else text


def host_text(row: dict[str, Any], names: dict[str, str]) -> str:
    """Return the host country, and the country the point lies in when that is another.

    ``located_in`` (on the borders measured to; ``""`` in no country's territory) shows a
    site whose coordinate stands on the wrong side of a border; absent, the host alone.
    """
    host = place_name(row.get("country"), names)
    if not host or "located_in" not in row or row.get("located_in") is None:
        return host  # without a host, the side's row names the country (side_text)
    where = as_text(row.get("located_in"))
    if where == as_text(row.get("country")):
        return host
    lies = f"in {place_name(where, names)}" if where else "in no country's territory"
    return f"{host}; the point lies {lies} on the borders measured to"


def kind_text(kind: Any) -> str:
    text = as_text(kind).replace("_", " ")
    return text[:1].upper() + text[1:]


def confidence_text(value: Any) -> str:
    word = as_text(value).strip()
    meaning = CONFIDENCE_MEANINGS.get(word.lower())
    return f"{word}: {meaning}" if meaning else word


def source_rows(value: Any) -> list[list[str]]:
    if not isinstance(value, list | tuple):
        return []
    out = []
    for source in value:
        if isinstance(source, dict):
            out.append(
                [
                    as_text(source.get("title")),
                    as_text(source.get("url")),
                    as_text(source.get("publisher")),
                    as_text(source.get("accessed")),
                ]
            )
    return out


def timeline_rows(value: Any) -> list[list[str]]:
    if not isinstance(value, list | tuple):
        return []
    return [
        [
            as_text(step.get("date")),
            as_text(step.get("status")).replace("_", " "),
            as_text(step.get("event")),
        ]
        for step in value
        if isinstance(step, dict)
    ]


def aliases_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(as_text(v) for v in value if as_text(v))
    return as_text(value)


def cell_text(value: Any) -> str:
    """Return a user file's value as popup text (nested GeoJSON values as compact JSON)."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return as_text(value)


def look_row(mark: Mark, colour: str) -> list[Any]:
    dash = " ".join(f"{d:g}" for d in mark.dash)
    return [
        colour,
        1 if mark.hollow else 0,
        mark.fill_opacity,
        dash,
        mark.outline_width,
        mark.badge,
    ]


def dated_steps(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [s for s in value if isinstance(s, dict) and as_text(s.get("date"))]


__all__ = [
    "POPUP_FIELDS",
    "RANGE_SHOWN_M",
    "aliases_text",
    "cell_text",
    "confidence_text",
    "coordinates_text",
    "dated_steps",
    "frontier_text",
    "host_text",
    "kind_text",
    "look_row",
    "place_name",
    "side_text",
    "source_rows",
    "timeline_rows",
]
