"""Countries, NATO membership by date, and the land frontiers between groups of countries.

The geometry is Natural Earth 1:10m admin-0 countries (version 5.1.1, point of view of
Germany), used at full resolution. Countries are keyed by ISO 3166-1 alpha-3 code.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import _data
from geo._errors import InputError
from geo.dates import parse_as_of

#: NATO members and the date each joined (the day its instrument of accession was deposited;
#: the twelve founders from the Treaty's entry into force). Source: NATO, "NATO member
#: countries", https://www.nato.int/cps/en/natohq/topics_52044.htm. Germany joined as the
#: Federal Republic in 1955; the map uses today's borders for every date.
NATO_ACCESSION: dict[str, dt.date] = {
    **dict.fromkeys(
        ["BEL", "CAN", "DNK", "FRA", "ISL", "ITA", "LUX", "NLD", "NOR", "PRT", "GBR", "USA"],
        dt.date(1949, 8, 24),
    ),
    "GRC": dt.date(1952, 2, 18),
    "TUR": dt.date(1952, 2, 18),
    "DEU": dt.date(1955, 5, 6),
    "ESP": dt.date(1982, 5, 30),
    **dict.fromkeys(["CZE", "HUN", "POL"], dt.date(1999, 3, 12)),
    **dict.fromkeys(["BGR", "EST", "LVA", "LTU", "ROU", "SVK", "SVN"], dt.date(2004, 3, 29)),
    "ALB": dt.date(2009, 4, 1),
    "HRV": dt.date(2009, 4, 1),
    "MNE": dt.date(2017, 6, 5),
    "MKD": dt.date(2020, 3, 27),
    "FIN": dt.date(2023, 4, 4),
    "SWE": dt.date(2024, 3, 7),
}

#: The states on the Russian side of the frontier flankmap measures by default.
EAST_STATES = ("RUS", "BLR")
#: The operators whose sites stand on the Russian side: those states, and the Soviet Union
#: (``SUN``), which ran many of the same sites until 1991 (a layer's ``operators`` history).
EAST_OPERATORS = (*EAST_STATES, "SUN")
#: The default frontier: Russia and Belarus against the NATO members on the analysis date.
DEFAULT_FRONTIER = f"{','.join(EAST_STATES)}:NATO"
#: The two sides, as named in analysis results: the operators of :data:`EAST_STATES`, and
#: everyone else.
EAST, WEST = "/".join(EAST_STATES), "NATO"


def side_of(operator: str) -> str:
    """Return the side an operator stands on: :data:`EAST` or :data:`WEST`.

    Parameters
    ----------
    operator : str
        ISO alpha-3 code of the operating state (any case), or ``NATO``.

    Returns
    -------
    side : str
        ``"RUS/BLR"`` for the :data:`EAST_OPERATORS` (the Soviet Union included), else
        ``"NATO"``.

    Examples
    --------
    >>> side_of("RUS"), side_of("USA")
    ('RUS/BLR', 'NATO')
    """
    return EAST if str(operator).upper() in EAST_OPERATORS else WEST


_NE_COLUMNS = ["ADM0_A3", "ISO_A3_EH", "NAME_EN", "SOV_A3"]


def nato_members(as_of: str | dt.date | None = None) -> list[str]:
    """Return the ISO alpha-3 codes of the NATO members on a date.

    Parameters
    ----------
    as_of : str, datetime.date or None
        ``YYYY-MM-DD``; default today.

    Returns
    -------
    codes : list of str
        Sorted codes of the members on that date.

    Examples
    --------
    >>> "FIN" in nato_members("2023-04-03"), "FIN" in nato_members("2023-04-04")
    (False, True)
    """
    day = parse_as_of(as_of)
    return sorted(code for code, joined in NATO_ACCESSION.items() if joined <= day)


@functools.cache
def _countries_cached() -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(_data.countries_path(), columns=_NE_COLUMNS)
    codes = [
        _data.iso_code(a, e) for a, e in zip(frame["ADM0_A3"], frame["ISO_A3_EH"], strict=True)
    ]
    frame = frame.rename(columns={"NAME_EN": "name"})[["name", "geometry"]]
    frame.index = pd.Index(codes, name="iso_a3")
    frame = frame.sort_index(kind="stable")
    # A few countries are several records (e.g. France and its overseas regions): only those
    # are merged. The others keep their record's geometry; no dissolve of the whole world.
    repeated = frame.index.duplicated(keep=False)
    if repeated.any():
        several = frame[repeated]
        merged = several.groupby(level=0, sort=True).agg(
            name=("name", "first"), geometry=("geometry", shapely.union_all)
        )
        frame = gpd.GeoDataFrame(
            pd.concat([frame[~repeated], merged]).sort_index(kind="stable"),
            geometry="geometry",
            crs=frame.crs,
        )
    frame.geometry = shapely.make_valid(frame.geometry.values)
    return frame


def countries(codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Return country polygons by ISO alpha-3 code.

    Parameters
    ----------
    codes : iterable of str, optional
        Codes to return, in that order; default every country.

    Returns
    -------
    countries : geopandas.GeoDataFrame
        Indexed by ``iso_a3``, columns ``name`` and ``geometry`` (EPSG:4326, full 1:10m).

    Raises
    ------
    InputError
        If a code names no country of the dataset.

    Examples
    --------
    >>> countries(["BLR"]).loc["BLR", "name"]
    'Belarus'
    """
    frame = _countries_cached()
    if codes is None:
        return frame.copy()
    codes = list(codes)
    unknown = [c for c in codes if c not in frame.index]
    if unknown:
        raise InputError(f"unknown country code(s) {', '.join(unknown)}: use ISO 3166-1 alpha-3")
    return frame.loc[codes].copy()


def country_codes() -> frozenset[str]:
    """Return every ISO alpha-3 code that the border dataset knows.

    Returns
    -------
    codes : frozenset of str
        The codes.
    """
    return _data.country_codes()


def resolve_group(spec: str | Iterable[str], *, as_of: str | dt.date | None = None) -> list[str]:
    """Turn a group specification into a sorted list of country codes.

    Parameters
    ----------
    spec : str or iterable of str
        Comma-separated ISO alpha-3 codes; ``NATO`` stands for the members on ``as_of``.
    as_of : str, datetime.date or None
        The date for ``NATO``; default today.

    Returns
    -------
    codes : list of str
        Sorted, without duplicates.

    Raises
    ------
    InputError
        If the group is empty or names an unknown code.

    Examples
    --------
    >>> resolve_group("rus, blr")
    ['BLR', 'RUS']
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    codes: set[str] = set()
    known = country_codes()
    for item in items:
        code = item.strip().upper()
        if not code:
            continue
        if code == "NATO":
            members = nato_members(as_of)
            if not members:
                founded = min(NATO_ACCESSION.values()).isoformat()
                raise InputError(
                    f"NATO had no members on {parse_as_of(as_of).isoformat()}: the North "
                    f"Atlantic Treaty entered into force on {founded}"
                )
            codes.update(members)
        elif code in known:
            codes.add(code)
        else:
            raise InputError(
                f"unknown country code {item.strip()!r} in group {spec!r}: "
                "use ISO 3166-1 alpha-3 codes or NATO"
            )
    if not codes:
        raise InputError(f"group {spec!r} names no country")
    return sorted(codes)


def parse_frontier(spec: str, *, as_of: str | dt.date | None = None) -> tuple[list[str], list[str]]:
    """Parse ``"A:B"`` (two groups, e.g. ``"RUS,BLR:NATO"``) into two lists of codes.

    Parameters
    ----------
    spec : str
        Two group specifications separated by a colon.
    as_of : str, datetime.date or None
        The date for ``NATO``.

    Returns
    -------
    groups : tuple of two lists of str
        The two groups.

    Raises
    ------
    InputError
        If the form is wrong or the groups overlap.
    """
    parts = spec.split(":")
    if len(parts) != 2:
        raise InputError(
            f"frontier {spec!r} must be two groups separated by ':', e.g. RUS,BLR:NATO"
        )
    side_a = resolve_group(parts[0], as_of=as_of)
    side_b = resolve_group(parts[1], as_of=as_of)
    both = sorted(set(side_a) & set(side_b))
    if both:
        raise InputError(f"frontier {spec!r}: {', '.join(both)} stands on both sides")
    return side_a, side_b


def ring_edges(geom: shapely.Geometry) -> np.ndarray:
    """All boundary edges of a polygonal geometry as rows ``x0, y0, x1, y1``."""
    rings = shapely.get_parts(shapely.boundary(geom))
    rows = []
    for ring in rings:
        xy = shapely.get_coordinates(ring)
        if len(xy) >= 2:
            rows.append(np.hstack([xy[:-1], xy[1:]]))
    return np.vstack(rows) if rows else np.empty((0, 4))


def edge_keys(edges: np.ndarray) -> np.ndarray:
    """Direction-free keys for edges, so that a shared edge has one key in both countries."""
    start, end = edges[:, :2], edges[:, 2:]
    swap = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    ordered = np.where(swap[:, None], np.hstack([end, start]), edges)
    ordered = np.ascontiguousarray(np.round(ordered, 9))
    return ordered.view(np.dtype((np.void, ordered.dtype.itemsize * 4))).ravel()


def shared_border(code_a: str, code_b: str) -> shapely.MultiLineString | shapely.LineString:
    """Return the land boundary that two countries share, as merged lines.

    Natural Earth's admin-0 polygons are cut from one topology, so a common border is made of
    edges that both polygons hold; those edges are matched exactly and merged into lines.

    Parameters
    ----------
    code_a, code_b : str
        ISO alpha-3 codes.

    Returns
    -------
    border : shapely.LineString or shapely.MultiLineString
        Empty if the countries do not touch.

    Examples
    --------
    >>> shared_border("POL", "FRA").is_empty
    True
    """
    frame = countries([code_a, code_b])
    geom_a, geom_b = frame.geometry.iloc[0], frame.geometry.iloc[1]
    if not shapely.intersects(shapely.envelope(geom_a), shapely.envelope(geom_b)):
        return shapely.MultiLineString()
    edges_a = ring_edges(geom_a)
    edges_b = ring_edges(geom_b)
    common = np.isin(edge_keys(edges_a), edge_keys(edges_b))
    if not common.any():
        return shapely.MultiLineString()
    segments = shapely.linestrings(edges_a[common].reshape(-1, 2, 2))
    return shapely.line_merge(shapely.union_all(segments))


def frontier(
    side_a: str | Iterable[str],
    side_b: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
) -> gpd.GeoDataFrame:
    """Return the land frontier between two groups of countries, labelled by country pair.

    Parameters
    ----------
    side_a, side_b : str or iterable of str
        Groups as in :func:`resolve_group` (``"RUS,BLR"``, ``"NATO"``).
    as_of : str, datetime.date or None
        Date for ``NATO``; default today.

    Returns
    -------
    frontier : geopandas.GeoDataFrame
        One row per touching country pair: ``a`` (side A code), ``b`` (side B code), ``pair``
        (the two codes in alphabetical order joined by ``-``, e.g. ``BLR-POL``), ``length_km``
        (geodesic length on WGS84) and the line ``geometry``.

    Raises
    ------
    InputError
        If a group is invalid or the groups overlap.

    Examples
    --------
    >>> f = frontier("RUS,BLR", "NATO", as_of="2021-10-20")
    >>> sorted(f["pair"])[:3]
    ['BLR-LTU', 'BLR-LVA', 'BLR-POL']
    """
    codes_a = resolve_group(side_a, as_of=as_of)
    codes_b = resolve_group(side_b, as_of=as_of)
    both = sorted(set(codes_a) & set(codes_b))
    if both:
        raise InputError(f"{', '.join(both)} stands on both sides of the frontier")
    frame = _countries_cached()
    tree = shapely.STRtree(frame.loc[codes_b].geometry.values)
    rows = []
    for code_a in codes_a:
        hits = tree.query(frame.geometry[code_a], predicate="intersects")
        for code_b in sorted(np.asarray(codes_b)[hits]):
            line = shared_border(code_a, code_b)
            if line.is_empty:
                continue
            rows.append(
                {
                    "a": code_a,
                    "b": code_b,
                    "pair": "-".join(sorted((code_a, code_b))),
                    "length_km": geodesic_length_m(line) / 1000.0,
                    "geometry": line,
                }
            )
    result = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["a", "b", "pair", "length_km", "geometry"]),
        geometry="geometry",
        crs="EPSG:4326",
    )
    return result.sort_values("pair", ignore_index=True)


def geodesic_length_m(geom: shapely.Geometry) -> float:
    """Return the WGS84 geodesic length of a (multi)line on lon/lat, in metres.

    Parameters
    ----------
    geom : shapely.Geometry
        A LineString or MultiLineString in EPSG:4326.

    Returns
    -------
    length_m : float
        Sum of the geodesic lengths of its segments.

    Examples
    --------
    >>> round(geodesic_length_m(shapely.LineString([(0, 0), (1, 0)])))
    111319
    """
    from pyproj import Geod

    return float(Geod(ellps="WGS84").geometry_length(geom))


def territory(
    codes: str | Iterable[str], *, as_of: str | dt.date | None = None
) -> shapely.Geometry:
    """Return the union of a group's country polygons.

    Parameters
    ----------
    codes : str or iterable of str
        A group as in :func:`resolve_group`.
    as_of : str, datetime.date or None
        Date for ``NATO``.

    Returns
    -------
    area : shapely.Geometry
        (Multi)polygon in EPSG:4326.
    """
    group = resolve_group(codes, as_of=as_of)
    return shapely.union_all(countries(group).geometry.values)
