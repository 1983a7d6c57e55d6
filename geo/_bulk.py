"""Big point layers (more than :data:`geo.maps.BULK_POINTS`) as one compact binary member.

A user file of a million points cannot be shipped as JSON objects: :func:`bulk_payload` packs
the coordinates, a group per point (its popup row and look) and a distance code as byte
planes in one gzip member, base64 in the page (:class:`geo._payload.BulkPoints` describes the
layout), and the script draws them on one canvas.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geo._payload import (
    LINE_SCALE,
    SITE_DECIMALS,
    BulkPoints,
    Popup,
    SitesOverlay,
    anchor_points,
    as_text,
    point_columns,
)
from geo._popups import (
    POPUP_FIELDS,
    confidence_text,
    kind_text,
    look_row,
    place_name,
    side_text,
)
from geo.styles import (
    MARKERS,
    LayerStyle,
    mark_of,
)
from geo.text import dates_text

#: Fixed point of a big layer's binary coordinates: 1e-5 degree, the sites' 5 decimals.
BULK_SCALE = 10**SITE_DECIMALS
#: The popup fields of a site that a big user layer takes from the file's columns (by
#: group of equal rows); any other known column with a value keeps the layer on JSON.
GROUP_COLUMNS = (
    "operator",
    "lead_nation",
    "country",
    "side",
    "located_in",
    "status",
    "confidence",
    "since",
    "until",
    "last_verified",
    "coord_note",
    "kind",
    "opposing_border",
)
#: First codes of the three precisions of :func:`geo.text.km_label` in :func:`km_codes`.
KM_CODE_BASES = ((1, 2), (1002, 1), (2003, 0))


def km_codes(metres: npt.ArrayLike) -> np.ndarray:
    """Encode distances as uint16 codes of the text :func:`geo.text.km_label` writes.

    0 for a missing distance; ``1 + n`` for ``n / 100`` km (under 10 km, two decimals),
    ``1002 + n`` for ``n / 10`` km (under 100 km), ``2003 + n`` for ``n`` km. The rounding is
    km_label's own (half to even on the exact binary value): a near tie is written by Python.

    Examples
    --------
    >>> km_codes([8_421, 42_140, 1_234_000, float("nan")]).tolist()
    [843, 1423, 3237, 0]
    """
    km = np.asarray(metres, dtype=float) / 1000.0
    codes = np.zeros(km.shape, dtype=np.uint16)
    finite = np.isfinite(km)
    if (km[finite] < 0).any() or (km[finite] >= 60_000).any():
        raise ValueError("distances must be from 0 to 60,000 km")
    classes = (km < 10, (km >= 10) & (km < 100), km >= 100)
    for (base, decimals), where in zip(KM_CODE_BASES, classes, strict=True):
        where &= finite
        x = km[where] * 10.0**decimals
        n = np.rint(x)
        for k in np.flatnonzero(np.abs(x - np.floor(x) - 0.5) < 1e-6):
            n[k] = int(f"{km[where][k]:.{decimals}f}".replace(".", ""))
        codes[where] = base + n.astype(np.uint16)
    return codes


def column_text(frame: gpd.GeoDataFrame, column: str) -> pd.Series | None:
    """Return a column as popup text (missing: ``""``), or None if a value needs :func:`cell_text`."""
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    if values.dtype == object and values.map(lambda v: isinstance(v, dict | list | tuple)).any():
        return None
    return values.where(values.notna(), "").astype(str)


def joined_texts(texts: pd.Series) -> bytes:
    """Return the texts as UTF-8, newlines made spaces, joined by newlines (in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(texts, type=pa.large_string())
    if isinstance(array, pa.ChunkedArray):  # an Arrow-backed column of several chunks
        array = array.combine_chunks()
    array = pc.replace_substring(array, "\n", " ")
    whole = pa.LargeListArray.from_arrays(pa.array([0, len(array)], pa.int64()), array)
    joined = pc.binary_join(whole, pa.scalar("\n", pa.large_string()))[0]
    return bytes(joined.as_buffer().to_pybytes())


#: The numbers of :func:`numbered` texts: decimal, no leading zero, below 2**31.
_NUMBER = r"^(0|[1-9][0-9]{0,9})$"


def numbered(texts: pd.Series) -> tuple[str, bytes] | None:
    r"""Return the prefix and the numbers of texts that are all one prefix and a number.

    Ids and names like ``p1, p2, ...`` or ``site 1, site 2, ...`` are shipped as their
    prefix and each number's step from the one before (int32 byte planes, the first from
    0): a few bytes for a million counted names, where their text costs about two a point.
    The script writes ``prefix + number``, the same text. None when a text is not the
    prefix and a decimal number (no sign, no leading zero, below 2**31).

    Examples
    --------
    >>> prefix, steps = numbered(pd.Series(["p7", "p8", "p10"]))
    >>> prefix, np.frombuffer(steps, np.uint8).reshape(4, 3).T.copy().view("<i4").ravel().tolist()
    ('p', [7, 1, 2])
    >>> numbered(pd.Series(["p7", "p08"])) is None, numbered(pd.Series(["7", ""])) is None
    (True, True)
    >>> numbered(pd.Series(["a\nb1", "a\nb2"])) is None
    True
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(texts):
        return None
    first = str(texts.iloc[0])
    found = re.search(r"(0|[1-9][0-9]{0,9})\Z", first)
    if found is None:
        return None
    prefix = first[: found.start()]
    if "\n" in prefix:  # joined_texts writes a space for it
        return None
    array = pa.array(texts, type=pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if prefix:
        if not pc.all(pc.starts_with(array, prefix)).as_py():
            return None
        array = pc.utf8_slice_codeunits(array, len(prefix))
    if not pc.all(pc.match_substring_regex(array, _NUMBER)).as_py():
        return None
    numbers = pc.cast(array, pa.int64()).to_numpy()
    if (numbers >= 1 << 31).any():
        return None
    steps = np.diff(numbers, prepend=0).astype("<i4")
    return prefix, steps.view(np.uint8).reshape(len(steps), 4).T.tobytes()


def has_text(texts: pd.Series) -> bool:
    return bool((texts != "").to_numpy().any())


def bulk_payload(
    frame: gpd.GeoDataFrame,
    *,
    slug: str,
    title: str,
    style: LayerStyle,
    as_of: dt.date,
    names: dict[str, str],
    user_columns: Sequence[str],
    colours: dict[str, str],
) -> SitesOverlay | None:
    """Return a big user point layer with its points in binary: about 10 to 17 bytes a point.

    The popup's texts are worked out once per group of points that share every column they
    come from (:data:`GROUP_COLUMNS`); the distance text, the coordinates, the names, ids
    and the file's own columns are the script's to write (see :class:`BulkPoints`). None when
    the layer needs what only :func:`geo.maps._sites_payload` gives: coordinate uncertainties (the
    distance range), sources, notes, timelines, aliases or nested values.
    """
    plain = point_columns(frame) is not None  # a plain point frame: points only
    if not plain and not (shapely.get_type_id(frame.geometry.values) == 0).all():
        return None
    suffix = ""  # of the coordinates: no uncertainty, or 0 m everywhere (as site_analysis gives)
    if "coord_uncertainty_m" in frame.columns:
        unc = pd.to_numeric(frame["coord_uncertainty_m"], errors="coerce").to_numpy(dtype=float)
        if (unc == 0).all():
            suffix = " ± 0 m"
        elif not np.isnan(unc).all():
            return None
    for column in ("sources", "notes", "timeline", "aliases"):
        if column not in frame.columns:
            continue
        rich = column_text(frame, column)
        if rich is None or has_text(rich):
            return None
    texts: dict[str, pd.Series] = {}
    for column in ("id", "name", *user_columns):
        text = column_text(frame, column)
        if text is None:
            return None
        texts[column] = text
    dist = frame["opposing_distance_m"].to_numpy(dtype=float)
    try:
        km = km_codes(dist)
    except ValueError:
        return None
    lonlat = anchor_points(frame) if plain else shapely.get_coordinates(frame.geometry.values)
    fixed_xy = np.rint(lonlat * BULK_SCALE).astype("<i4")
    spans = point_days(frame) if {"since", "until"} <= set(frame.columns) else None
    per_point = spans is not None and spans[0] is not None
    present = [c for c in GROUP_COLUMNS if c in frame.columns]
    if per_point:  # many dates: each point carries its days, the groups do not split on them
        present = [c for c in present if c not in ("since", "until")]
    group = np.zeros(len(frame), dtype=np.int64)
    for column in present:  # one code per distinct combination, in order of appearance
        try:
            codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        except TypeError:  # unhashable values
            return None
        group = pd.factorize(group * len(uniques) + codes)[0]
    firsts = np.unique(group, return_index=True)[1]
    base = pd.DataFrame(frame.iloc[firsts][present])  # one row a group
    values, looks_of, looks = [], [], []
    rows = base.to_dict("records")
    for row in rows:
        row = {k: (None if as_text(v) == "" else v) for k, v in row.items()}
        operator = place_name(row.get("operator"), names)
        lead = place_name(row.get("lead_nation"), names)
        if lead:
            operator = f"{operator}; lead nation {lead}" if operator else f"lead nation {lead}"
        status = as_text(row.get("status"))
        border = as_text(row.get("opposing_border"))
        values.append(
            [
                operator,
                place_name(row.get("country"), names),
                side_text(row, names),
                f"{status.replace('_', ' ')} on {as_of.isoformat()}" if status else "",
                confidence_text(row.get("confidence")),
                dates_text(row.get("since"), row.get("until")),
                as_text(row.get("last_verified")),
                f" to the {border.replace('-', '–')} border" if border else "",
                "",
                as_text(row.get("coord_note")),
            ]
        )
        colour = colours.get(as_text(row.get("side")), style.colour)
        look = look_row(mark_of(status, row.get("confidence")), colour)
        if look not in looks:
            looks.append(look)
        looks_of.append(looks.index(look))
    kinds = {kind_text(row.get("kind")) for row in rows}
    if len(kinds) > 1:
        return None
    kind = kinds.pop() if kinds else ""
    km_field, xy_field = POPUP_FIELDS.index("To the frontier"), POPUP_FIELDS.index("Coordinates")
    dates_field = POPUP_FIELDS.index("Dates") if per_point else -1
    fields = [*POPUP_FIELDS, *user_columns]
    used = [
        k
        for k in range(len(POPUP_FIELDS))
        if k in (xy_field, dates_field)
        or (k == km_field and bool(km.any()))
        or any(v[k] for v in values)
    ]
    own = [c for c in user_columns if has_text(texts[c])]
    columns = [*used, *(len(POPUP_FIELDS) + user_columns.index(c) for c in own)]
    fixed = {
        str(j): values[0][k]
        for j, k in enumerate(used)
        if k not in (xy_field, dates_field) and all(v[k] == values[0][k] for v in values)
    }
    varying = [
        k for j, k in enumerate(used) if str(j) not in fixed and k not in (xy_field, dates_field)
    ]
    name_text = texts["name"].where(texts["name"] != "", texts["id"])
    name_text = name_text.where(name_text != "", "(unnamed)")
    parts: list[tuple[str | int, pd.Series]] = [("names", name_text)]
    if has_text(texts["id"]):
        parts.append(("ids", texts["id"]))
    parts += [(columns.index(len(POPUP_FIELDS) + user_columns.index(c)), texts[c]) for c in own]
    if spans is not None and spans[0] is not None:
        parts.append((columns.index(dates_field), spans[3]))
    numbers = [numbered(t) for _, t in parts]
    encoded = [
        joined_texts(t) if found is None else found[1]
        for (_, t), found in zip(parts, numbers, strict=True)
    ]
    width = 1 if len(values) <= 1 << 8 else 2 if len(values) <= 1 << 16 else 4
    arrays = [fixed_xy[:, 0], fixed_xy[:, 1], group.astype(f"<u{width}"), km.astype("<u2")]
    if spans is not None and spans[0] is not None:
        arrays += [spans[1], spans[2]]
    # Byte planes (every low byte, then every next byte...): the high bytes, nearly alike,
    # then cost gzip almost nothing.
    planes = (
        np.ascontiguousarray(a).view(np.uint8).reshape(len(frame), a.itemsize).T.tobytes()
        for a in arrays
    )
    packed = gzip_parts(itertools.chain(planes, encoded))
    shown = len(frame)
    days = None
    if spans is not None and spans[0] is not None:  # each point's days, from an epoch
        today = (as_of - spans[0]).days + 1
        first, last = spans[1], spans[2]
        shown = int((((first == 0) | (first <= today)) & ((last == 0) | (today <= last))).sum())
    elif spans is not None:  # a dated file: the slider filters its groups
        days = [group_days(row.get("since"), row.get("until")) for row in rows]
        today_text = as_of.isoformat()
        active = np.array(
            [(not a or a <= today_text) and (not b or today_text <= b) for a, b in days]
        )
        shown = int(np.bincount(group, minlength=len(days))[active].sum())
    popup: Popup = {
        "names": [],
        "fields": [fields[k] for k in columns],
        "fixed": fixed,
        "rows": [[v[k] for k in varying] for v in values],
        "sources": None,
        "sub": f"{kind} · {title}" if kind else title,
    }
    pts: BulkPoints = {
        "n": len(frame),
        "scale": BULK_SCALE,
        "group": width,
        "looks": looks_of,
        "km": columns.index(km_field) if km_field in columns else -1,
        "xy": columns.index(xy_field),
        "unc": suffix,
        "texts": [
            [key, len(data)] if found is None else [key, len(data), found[0]]
            for (key, _), data, found in zip(parts, encoded, numbers, strict=True)
        ],
        "data": base64.b64encode(packed).decode("ascii"),
    }
    if days is not None:
        pts["days"] = days
    if spans is not None and spans[0] is not None:
        pts["epoch"] = spans[0].isoformat()
    payload: SitesOverlay = {
        "type": "sites",
        "slug": slug,
        "label": f"{title} ({shown:,})",
        "legend": title,
        "user": True,
        "colour": style.colour,
        "symbol": MARKERS[style.shape][1],
        "bulk": True,
        "lat": [],
        "lon": [],
        "scale": LINE_SCALE,
        "areas": None,
        "looks": looks,
        "p": popup,
        "pts": pts,
    }
    return payload


#: The gzip level of the binary member: on a million points (``benchmarks/bench_map.py``,
#: ids and names shipped as numbers), level 4 takes 0.25 s of CPU for 9.92 B a point (with
#: base64), level 1 0.18 s for 10.08, level 6 0.36 s for 9.89, level 9 0.60 s for 9.88.
GZIP_LEVEL = 4


def gzip_parts(parts: Iterable[bytes]) -> bytes:
    """Return the parts, one after another, as one gzip member (mtime 0), compressed in turn.

    The same bytes as ``gzip.compress(b"".join(parts), GZIP_LEVEL, mtime=0)``, without the
    joined copy.

    Examples
    --------
    >>> import gzip
    >>> gzip_parts([b"ab", b"c"]) == gzip.compress(b"abc", GZIP_LEVEL, mtime=0)
    True
    """
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    out = [packer.compress(part) for part in parts]
    out.append(packer.flush())
    return b"".join(out)


#: Distinct ``since``/``until`` pairs up to which a dated file's days go with its groups
#: (``days``); beyond, each point carries its own days (``epoch``) and dates text.
DATE_GROUPS = 256


def point_days(
    frame: gpd.GeoDataFrame,
) -> tuple[dt.date | None, np.ndarray, np.ndarray, pd.Series]:
    """Return each point's first and last day as uint16 days after an epoch, and its dates text.

    ``(epoch, first, last, texts)``: day ``epoch`` is 1, 0 is an open end. The epoch is None
    (the days go with the groups) when the file has at most :data:`DATE_GROUPS` distinct
    pairs, or when its days span more than 65,534 days.
    """
    from geo.dates import date_bounds

    since, since_uniques = pd.factorize(frame["since"].map(as_text))
    until, until_uniques = pd.factorize(frame["until"].map(as_text))
    pairs, inverse = np.unique(since * len(until_uniques) + until, return_inverse=True)
    inverse = inverse.ravel()
    empty = (None, np.empty(0, "<u2"), np.empty(0, "<u2"), pd.Series(dtype=object))
    if len(pairs) <= DATE_GROUPS:
        return empty
    begins = [since_uniques[c // len(until_uniques)] for c in pairs]
    ends = [until_uniques[c % len(until_uniques)] for c in pairs]
    firsts = [date_bounds(b)[0] if b else None for b in begins]
    lasts = [date_bounds(e)[1] if e else None for e in ends]
    known = [d for d in (*firsts, *lasts) if d is not None]
    epoch = min(known) - dt.timedelta(days=1)
    if (max(known) - epoch).days > 0xFFFF:
        return empty

    def codes(days: list[dt.date | None]) -> np.ndarray:
        number = np.array([0 if d is None else (d - epoch).days for d in days], dtype="<u2")
        return number[inverse]

    texts = np.array([dates_text(b, e) for b, e in zip(begins, ends, strict=True)], dtype=object)
    return epoch, codes(firsts), codes(lasts), pd.Series(texts[inverse], index=frame.index)


def group_days(since: Any, until: Any) -> list[str]:
    """Return the first and last day (``YYYY-MM-DD``, ``""`` where open) of partial dates.

    Examples
    --------
    >>> group_days("2022-02", None)
    ['2022-02-01', '']
    """
    from geo.dates import date_bounds

    first = date_bounds(as_text(since))[0].isoformat() if as_text(since) else ""
    last = date_bounds(as_text(until))[1].isoformat() if as_text(until) else ""
    return [first, last]


__all__ = [
    "BULK_SCALE",
    "DATE_GROUPS",
    "GROUP_COLUMNS",
    "GZIP_LEVEL",
    "KM_CODE_BASES",
    "bulk_payload",
    "column_text",
    "group_days",
    "gzip_parts",
    "has_text",
    "joined_texts",
    "km_codes",
    "numbered",
    "point_days",
]
