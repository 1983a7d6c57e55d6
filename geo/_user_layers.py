"""The user files a map adds (``--add``): reading, checking, dating and naming them.

A user file is read by :func:`geo.points.read_points` with :func:`user_problems` as its
extra check (dates, an ``until`` before its ``since``, operator and country codes; each
distinct value checked once), dated for the map's slider (:func:`dated_by_slider`,
:func:`active_on`), named by as much of its path as tells it apart (:func:`user_labels`),
and its own columns chosen for the popups (:func:`chosen_columns`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import borders, layers
from geo._errors import InputError, shorten
from geo._payload import (
    as_geo,
    as_text,
    plain_points,
    point_columns,
)

#: Columns of a user file that the popup shows in its own rows (or not at all), so that they
#: are not listed again among the file's own columns.
KNOWN_COLUMNS = frozenset(
    {
        "id",
        "name",
        "kind",
        "operator",
        "country",
        "status",
        "since",
        "until",
        "coord_uncertainty_m",
        "coord_note",
        "notes",
        "timeline",
        "sources",
        "lead_nation",
        "confidence",
        "last_verified",
        "aliases",
        "layer",
    }
)


COORDINATE_NAMES = frozenset({"lat", "lon", "latitude", "longitude", "lng", "x", "y"})


def read_user_layer(
    path: Path | str,
    as_of: dt.date,
    *,
    skip_invalid: bool = False,
    on_rejected: Callable[[pd.DataFrame], None] | None = None,
    encoding: str | None = None,
    every_date: bool = False,
    plain_over: int | None = None,
) -> gpd.GeoDataFrame:
    """Read a user file; where it has ``since`` or ``until``, keep what is active on ``as_of``.

    A file with one of the two columns gets the other, empty (an open end), so that it is
    dated as the shipped layers are. With ``every_date`` every row is kept: the map's date
    slider shows and hides them (see :func:`active_rows`).

    Bad dates (and an ``until`` before its ``since``), and bad ``operator``/``country``
    codes where both columns are there (the site analysis reads them), are reported with
    their row and field, or skipped with ``skip_invalid``, as the reader's own problems are.

    With ``plain_over``, a CSV file of more rows than that comes as a plain point frame
    (:func:`geo._payload.plain_points`: its columns, lon and lat among them, and no shapely
    points); :func:`geo._payload.as_geo` makes it the GeoDataFrame it would otherwise be.
    """
    from geo import points

    options: dict[str, Any] = {
        "skip_invalid": skip_invalid,
        "on_rejected": on_rejected,
        "encoding": encoding,
        "check": user_problems,
    }
    frame: gpd.GeoDataFrame
    if plain_over is not None and Path(path).suffix.lower() in points.CSV_SUFFIXES:
        table, lon, lat = points.read_point_columns(path, **options)
        frame = plain_table(table, lon, lat)
        if len(frame) <= plain_over:
            frame = as_geo(frame)
    else:
        frame = points.read_points(path, **options)
    present = {"since", "until"} & set(frame.columns)
    if not present:
        return frame
    for column in ("since", "until"):
        if column not in present:
            frame[column] = ""
    return frame if every_date else active_rows(frame, as_of)


def plain_table(table: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """Mark a CSV file's columns as a plain point frame by its lat and lon columns.

    The columns are those the reader found (:data:`geo.points.COORDINATE_COLUMNS`), holding
    the points' lon and lat; where they do not (a name given twice), the frame gets its
    points as a GeoDataFrame.
    """
    from geo import points

    names = [str(c) for c in table.columns]
    for lat_name, lon_name in points.COORDINATE_COLUMNS:
        lower = [n.strip().lower() for n in names]
        if lower.count(lat_name) == 1 and lower.count(lon_name) == 1:
            x, y = names[lower.index(lon_name)], names[lower.index(lat_name)]
            if (
                table[x].dtype == np.float64
                and table[y].dtype == np.float64
                and np.array_equal(table[x].to_numpy(), lon)
                and np.array_equal(table[y].to_numpy(), lat)
            ):
                return plain_points(table, x, y)
            break
    geometry = gpd.points_from_xy(lon, lat)
    return gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:4326")


def active_rows(frame: gpd.GeoDataFrame, as_of: dt.date) -> gpd.GeoDataFrame:
    """Keep the rows of a dated user file that are active on ``as_of`` (all if undated)."""
    if not {"since", "until"} <= set(frame.columns):
        return frame
    keep = active_on(frame, as_of)
    if keep.all():
        return frame
    return frame.loc[keep].reset_index(drop=True)


def dated_by_slider(frame: gpd.GeoDataFrame) -> bool:
    """Whether the date slider dates a user file's points: it has ``since`` and ``until``.

    Markers and canvas layers alike (:mod:`geo._bulk` ships a canvas layer's days).
    """
    return {"since", "until"} <= set(frame.columns)


def active_on(frame: gpd.GeoDataFrame, as_of: dt.date) -> np.ndarray:
    """Whether each row's ``since``-``until`` holds ``as_of`` (each distinct pair tested once)."""
    from geo.dates import active_on

    pairs, inverse = date_pairs(frame)
    active = np.array([active_on(since, until, as_of) for since, until in pairs], dtype=bool)
    rows: np.ndarray = active[inverse]
    return rows


def date_pairs(frame: gpd.GeoDataFrame) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Return the distinct ``(since, until)`` texts of a frame and each row's index into them."""
    since, since_texts = column_texts(frame, "since")
    until, until_texts = column_texts(frame, "until")
    width = len(until_texts)
    codes, inverse = np.unique(since * width + until, return_inverse=True)
    pairs = [(since_texts[c // width], until_texts[c % width]) for c in codes]
    return pairs, inverse.ravel()


def canvas_dated(frame: gpd.GeoDataFrame, bulk_threshold: int) -> bool:
    """Whether a user file is dated and drawn on a canvas: the slider then filters its points."""
    if not {"since", "until"} <= set(frame.columns) or len(frame) <= bulk_threshold:
        return False
    if point_columns(frame) is not None:  # a plain point frame: points only
        return True
    return bool((frame.geometry.geom_type == "Point").all())


def column_texts(frame: gpd.GeoDataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    """Return a column's distinct texts (missing: ``""``) and each row's index into them."""
    try:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    except TypeError:  # unhashable values (lists from a GeoJSON file): by their text
        codes, uniques = pd.factorize(frame[column].map(as_text), use_na_sentinel=True)
    texts = [as_text(v) for v in uniques]
    codes = np.where(codes < 0, len(texts), codes)
    return codes, [*texts, ""]


def user_problems(frame: gpd.GeoDataFrame) -> Iterator[tuple[int, str, str]]:
    """Yield ``(position, field, reason)`` for the bad dates and codes of a user file.

    Each distinct value is checked once; the problems come by position, then field.
    """
    from geo.dates import date_bounds

    columns = set(frame.columns)
    dated = tuple(field for field in ("since", "until") if field in columns)
    coded = ("operator", "country") if {"operator", "country"} <= columns else ()
    if not dated and not coded:
        return
    known = borders.country_codes() if coded else frozenset()
    operators = known | set(layers.EXTRA_OPERATORS)
    found: list[tuple[int, float, str, str]] = []  # position, field's rank, field, reason
    for rank, field in enumerate((*dated, *coded)):
        codes, texts = column_texts(frame, field)
        reasons: list[str | None] = []
        for value in texts:
            reason = None
            if field in dated and value:
                try:
                    date_bounds(value)
                except ValueError as exc:
                    reason = str(exc)
            elif field == "operator" and value not in operators:
                reason = code_problem(value, "an ISO alpha-3 code, NATO or SUN")
            elif field == "country" and value not in known:
                reason = code_problem(value, "a known ISO alpha-3 code")
            reasons.append(reason)
        bad = np.flatnonzero([r is not None for r in reasons])
        for where in np.flatnonzero(np.isin(codes, bad)):
            found.append((int(where), rank, field, str(reasons[codes[where]])))
    if len(dated) == 2:  # an until before its since, each distinct pair tested once
        pairs, inverse = date_pairs(frame)
        for k, (first, last) in enumerate(pairs):
            try:
                wrong = bool(first and last) and date_bounds(last)[1] < date_bounds(first)[0]
            except ValueError:  # a bad date, reported above
                continue
            if wrong:
                reason = f"{shorten(last)!r} is before since {shorten(first)!r}"
                for where in np.flatnonzero(inverse == k):
                    found.append((int(where), 1.5, "until", reason))
    for position, _, field, reason in sorted(found):
        yield position, field, reason


def code_problem(code: str, should_be: str) -> str:
    return f"{shorten(code)!r} is not {should_be}" if code else "is empty"


def user_labels(paths: Sequence[Path]) -> list[str]:
    """Name each user file by its file name, or by as much of its path as tells it apart.

    Raises
    ------
    InputError
        If one file is given twice.
    """
    resolved = [p.resolve() for p in paths]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise InputError(f"{paths[i].name}: is added twice; give each file once")
    labels = []
    for full in resolved:
        depth = 1
        while depth < len(full.parts) and any(
            other != full and other.parts[-depth:] == full.parts[-depth:] for other in resolved
        ):
            depth += 1
        labels.append("/".join(full.parts[-depth:]))
    return labels


def user_columns(frame: gpd.GeoDataFrame) -> list[str]:
    """Return a user file's own columns: those the popup does not already show, in order."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [
        str(c)
        for c in frame.columns
        if c != geometry and str(c) not in KNOWN_COLUMNS and str(c).lower() not in COORDINATE_NAMES
    ]


def chosen_columns(
    frames: Sequence[tuple[Path, gpd.GeoDataFrame]], popup_fields: Sequence[str] | None
) -> list[list[str]]:
    """Return the own columns each user file shows: all, or those chosen, in chosen order.

    Raises
    ------
    InputError
        If a chosen column is in none of the files.
    """
    own = [user_columns(frame) for _, frame in frames]
    if popup_fields is None:
        return own
    chosen = list(dict.fromkeys(str(f).strip() for f in popup_fields if str(f).strip()))
    if not frames:
        raise InputError("popup fields name columns of added files, but no file is added")
    for name in chosen:
        if not any(name in frame.columns for _, frame in frames):
            columns = sorted({c for cols in own for c in cols})
            raise InputError(
                f"popup field {name!r} is a column of none of the added files "
                f"(their own columns: {', '.join(columns) or 'none'})"
            )
    return [[c for c in chosen if c in cols] for cols in own]


__all__ = [
    "COORDINATE_NAMES",
    "KNOWN_COLUMNS",
    "active_on",
    "active_rows",
    "canvas_dated",
    "chosen_columns",
    "code_problem",
    "column_texts",
    "date_pairs",
    "dated_by_slider",
    "plain_table",
    "read_user_layer",
    "user_columns",
    "user_labels",
    "user_problems",
]
