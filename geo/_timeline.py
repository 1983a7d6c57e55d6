"""The map's date slider: every date in one file.

The slider spans the layers' dates; :func:`timeline_payload` ships the dated events as ticks
and one frontier state per NATO accession within the span, with every site's exact distance
in each state (computed here with the engine, never in the browser).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np

from geo import _data, borders, view
from geo._basemap import DISPLAY
from geo._overlays import NEAR_KM, add_detail, analysis_frontier, frontier_payload
from geo._payload import (
    SITE_DECIMALS,
    FrontierDetail,
    Timeline,
    TimelineState,
    anchor_points,
    as_number,
    as_text,
)
from geo._popups import dated_steps
from geo.text import km_label

# --- the timeline: every date in one file --------------------------------------------


def on_nearest_day(frame: gpd.GeoDataFrame, day: dt.date) -> gpd.GeoDataFrame:
    """Set each site's status and operator on ``day``, or on its nearest day of service."""
    from geo.dates import date_bounds
    from geo.layers import operator_on, status_on

    frame = frame.copy()
    records = frame.to_dict("records")
    days = []
    for row in records:
        when = day
        if as_text(row.get("since")):
            when = max(when, date_bounds(as_text(row["since"]))[0])
        if as_text(row.get("until")):
            when = min(when, date_bounds(as_text(row["until"]))[1])
        days.append(when)
    frame["base_status"] = frame["status"]
    frame["status"] = [status_on(row, when) for row, when in zip(records, days, strict=True)]
    frame["operator"] = [operator_on(row, when) for row, when in zip(records, days, strict=True)]
    return frame


def active_mask(frame: gpd.GeoDataFrame, day: dt.date) -> np.ndarray:
    """Whether each site is in service on ``day``."""
    from geo.dates import active_on

    return np.array(
        [
            active_on(as_text(s), as_text(u), day)
            for s, u in zip(frame["since"], frame["until"], strict=True)
        ],
        dtype=bool,
    )


def timeline_span(every: gpd.GeoDataFrame, day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the span of the slider: the layers' dates (from NATO's founding) and ``day``."""
    from geo.dates import date_bounds

    founded = min(borders.NATO_ACCESSION.values())
    days = [day]
    for column in ("since", "until"):
        if column in every.columns:
            days.extend(date_bounds(v)[0] for v in every[column] if as_text(v))
    for steps in every["timeline"] if "timeline" in every.columns else ():
        days.extend(date_bounds(str(s["date"]))[0] for s in dated_steps(steps))
    return max(founded, min(days)), max(days)


def timeline_events(every: gpd.GeoDataFrame, start: dt.date, end: dt.date) -> list[list[str]]:
    """Return the dated events in the span: site starts and ends, timeline steps, accessions."""
    from geo.dates import date_bounds

    names = {str(k): str(v) for k, v in borders.countries(borders=DISPLAY)["name"].items()}
    events: list[tuple[dt.date, str]] = []
    for code, joined in borders.NATO_ACCESSION.items():
        events.append((joined, f"{names.get(code, code)} joins NATO"))
    for row in every.to_dict("records"):
        name = as_text(row.get("name")) or as_text(row.get("id"))
        if as_text(row.get("since")):
            events.append((date_bounds(as_text(row["since"]))[0], f"{name}: since"))
        if as_text(row.get("until")):
            events.append((date_bounds(as_text(row["until"]))[1], f"{name}: until"))
        for step in dated_steps(row.get("timeline")):
            status = as_text(step.get("status")).replace("_", " ")
            events.append((date_bounds(as_text(step["date"]))[0], f"{name}: {status}"))
    merged: dict[str, list[str]] = {}
    for when, text in sorted(events):
        if start <= when <= end and text not in merged.setdefault(when.isoformat(), []):
            merged[when.isoformat()].append(text)
    return [[when, "; ".join(texts)] for when, texts in merged.items()]


def distance_entry(
    dist: float, olat: float, olon: float, border: Any, unc: float
) -> list[float | str]:
    """Return a timeline distance row: metres, nearest lat and lon, km label, border."""
    return [
        round(float(dist), 1),
        round(float(olat), SITE_DECIMALS),
        round(float(olon), SITE_DECIMALS),
        km_label(float(dist), uncertainty_m=unc),
        as_text(border).replace("-", "–"),
    ]


#: How far a lower bound must exceed a site's distance so far to skip measuring, metres.
_BOUND_MARGIN_M = 1.0


def state_distances(
    frame: gpd.GeoDataFrame,
    starts: Sequence[dt.date],
    source: str | _data.BorderSource | None = None,
) -> list[list[list[Any] | None]]:
    """Each site's nearest opposing point in each state (from each of ``starts``).

    The exact engine (:func:`geo.distance.to_territory`) measures sites of Russia and Belarus
    to the NATO members of the state, the others to Russia and Belarus. NATO grows by
    accession, and the distance to a union of territories is the least distance to one of
    them, so each accession's members are measured once and a state takes the nearest of
    those that have joined by its start: the same numbers as measuring to the whole union.
    A site is not measured to members who cannot be nearer to it than those before them
    (:func:`geo.distance.territory_lower_bound_m`).
    """
    from geo import distance
    from geo.layers import operator_on

    empty: list[list[list[Any] | None]] = [[None] * len(frame) for _ in starts]
    if not len(frame) or not {"operator", "country"} <= set(frame.columns):
        return empty
    rows = frame.to_dict("records")
    lon, lat = anchor_points(frame).T
    unc = [as_number(row.get("coord_uncertainty_m")) for row in rows]
    eastern = np.array(
        [[operator_on(row, first) in borders.EAST_OPERATORS for row in rows] for first in starts]
    )
    west = np.flatnonzero(~eastern.all(axis=0))
    if len(west):
        found = distance.to_territory(
            lon[west], lat[west], ",".join(borders.EAST_STATES), borders=source
        )
        cols = ("distance_m", "nearest_lat", "nearest_lon", "border")
        for k, (d, y, x, border) in zip(
            west, found[list(cols)].itertuples(index=False), strict=True
        ):
            for s in range(len(starts)):
                if not eastern[s, k]:
                    empty[s][k] = distance_entry(d, y, x, border, unc[k])
    east = np.flatnonzero(eastern.any(axis=0))
    if len(east):
        joined: dict[dt.date, list[str]] = {}
        for code, when in borders.NATO_ACCESSION.items():
            joined.setdefault(when, []).append(code)
        best = np.full(len(east), np.inf)
        found_at: list[tuple[float, float, float, str] | None] = [None] * len(east)
        done: set[dt.date] = set()
        for s, first in enumerate(starts):
            for when in sorted(w for w in joined if w <= first and w not in done):
                done.add(when)
                codes = ",".join(sorted(joined[when]))
                # Each site's distance stands alone: measure only the sites these members
                # might come nearer to than those before them.
                near = np.ones(len(east), dtype=bool)
                if np.isfinite(best).any():
                    bound = distance.territory_lower_bound_m(
                        lon[east], lat[east], codes, borders=source
                    )
                    near = ~(bound > best + _BOUND_MARGIN_M)
                rows = np.flatnonzero(near)
                if not len(rows):
                    continue
                part = distance.to_territory(
                    lon[east[rows]], lat[east[rows]], codes, borders=source
                )
                for j, row in zip(rows.tolist(), part.itertuples(index=False), strict=True):
                    if row.distance_m < best[j]:
                        best[j] = row.distance_m
                        found_at[j] = (row.distance_m, row.nearest_lat, row.nearest_lon, row.border)
            for j, k in enumerate(east):
                hit = found_at[j]
                if eastern[s, k] and hit is not None:
                    empty[s][k] = distance_entry(*hit, unc[k])
    return empty


def timeline_payload(
    every: gpd.GeoDataFrame,
    day: dt.date,
    layer_frames: Sequence[tuple[str, gpd.GeoDataFrame]],
    source: str | _data.BorderSource | None = None,
    *,
    detail: FrontierDetail | None = None,
) -> Timeline:
    """Return the frontier states of the span (one per accession), with each site's distance.

    ``layer_frames`` are ``(slug, sites)`` of the site overlays, in the overlays' order.
    ``detail`` (the frontier overlay's, :func:`geo._overlays.detail_payload`) receives the
    pairs of the borders measured to in every state, and each state names its own.
    """
    start, end = timeline_span(every, day)
    starts = [start, *sorted({d for d in borders.NATO_ACCESSION.values() if start < d <= end})]
    pairs: dict[str, list[dict[str, Any]]] = {}
    states: list[TimelineState] = []
    distances = {slug: state_distances(frame, starts, source) for slug, frame in layer_frames}
    for s, first in enumerate(starts):
        front = borders.frontier(*view.FRONTIER_SIDES, as_of=first, borders=DISPLAY)
        measured = analysis_frontier(first, source)
        lengths = None
        if measured is not None:
            lengths = {
                str(p): float(km)
                for p, km in zip(measured["pair"], measured["length_km"], strict=True)
            }
        overlay, _ = frontier_payload(front, lengths, detail=detail)
        names = []
        for pair in front["pair"]:
            names.append(str(pair))
            if str(pair) not in pairs:
                part, _ = frontier_payload(front[front["pair"] == pair], lengths)
                pairs[str(pair)] = part["lines"]
        state: TimelineState = {
            "start": first.isoformat(),
            "west": borders.nato_members(first),
            "pairs": names,
            "legend": overlay["legend"],
            "to": {slug: rows[s] for slug, rows in distances.items()},
        }
        if detail is not None and measured is not None:
            state["detail"] = add_detail(detail, measured)
        states.append(state)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "nearKm": NEAR_KM,
        "events": timeline_events(every, start, end),
        "pairs": pairs,
        "states": states,
    }


__all__ = [
    "active_mask",
    "distance_entry",
    "on_nearest_day",
    "state_distances",
    "timeline_events",
    "timeline_payload",
    "timeline_span",
]
