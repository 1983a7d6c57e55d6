"""Countries, NATO membership by date, and the land frontiers between groups of countries.

Countries are keyed by ISO 3166-1 alpha-3 code. Their geometry comes from a border source
(:func:`geo._data.border_source`), chosen with the keyword ``borders``:

``osm`` (the default for analysis)
    The OpenStreetMap extract ``geo/data/borders_osm.parquet`` (© OpenStreetMap contributors,
    ODbL; 10 m resolution; Europe and its neighbours to 70°E, see ``docs/borders-osm.md``).
    A *land frontier* is its ``land`` and ``water`` lines: rivers and lakes (the Narva, Lake
    Peipus, the Bug, the Neman) count, the lines between territorial seas do not. A
    *territory* is the country with its lakes, rivers **and territorial sea** (the area under
    its sovereignty, airspace included): a documented choice, so a point at sea is "in
    Russia" within the 12-nautical-mile limit. Countries outside the extract (the United
    States, Canada) are left out of a group; a group with none inside is an error.
``naturalearth``
    Natural Earth 1:10m admin-0 countries (version 5.1.1, point of view of Germany), used at
    full resolution; a frontier is the edges two polygons share. It is also the simplified
    basemap that maps and figures draw.
``FILE``
    A GeoPackage or GeoJSON file of countries with an ISO alpha-3 column; frontiers are the
    edges its polygons share, as for Natural Earth.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import _borders_osm, _data
from geo._data import BorderSource
from geo._errors import InputError, located
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
    path = _data.countries_path()
    frame = pyogrio.read_dataframe(
        path, columns=_NE_COLUMNS, encoding=_data.countries_encoding(path)
    )
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


#: Natural Earth's code of a country the OpenStreetMap extract keys otherwise.
_OSM_CODES = {"KOS": "XKX"}
_NE_CODES = {osm: ne for ne, osm in _OSM_CODES.items()}


def file_code_field(path: Path, driver: str) -> str:
    """Return the ISO alpha-3 column of a ``FILE`` border source, after reading it once.

    Raises
    ------
    InputError
        If the file cannot be read, has no polygons, or no column of valid codes.
    """
    return _read_file(str(path), driver)[1]


@functools.cache
def _read_file(path: str, driver: str) -> tuple[gpd.GeoDataFrame, str]:
    from geo import points  # its guarded GDAL reading

    name = Path(path)
    with points._gdal_guard():
        try:
            frame = pyogrio.read_dataframe(points._driver_path(driver, name))
        except InputError:
            raise
        except Exception as exc:  # pyogrio raises its own and GDAL's errors
            raise InputError(
                located(name, "", "", f"cannot be read as {driver} ({points._first_line(exc)})")
            ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or not len(frame):
        raise InputError(located(name, "", "", "holds no country polygons"))
    lower = {str(c).lower(): str(c) for c in frame.columns if c != frame.geometry.name}
    fields = [lower[f] for f in _data.BORDER_CODE_FIELDS if f in lower]
    if not fields:
        raise InputError(
            located(
                name,
                "",
                "",
                "has no ISO 3166-1 alpha-3 column: name one of "
                + ", ".join(_data.BORDER_CODE_FIELDS),
            )
        )
    field = fields[0]
    codes = frame[field].astype(str).str.strip().str.upper()
    bad = np.flatnonzero(~codes.str.fullmatch(r"[A-Z]{3}").to_numpy())
    if len(bad):
        value = str(frame[field].iloc[bad[0]])
        raise InputError(
            located(
                name,
                f"feature {bad[0] + 1}",
                field,
                f"{value[:40]!r} is not an ISO 3166-1 alpha-3 code",
            )
        )
    kinds = shapely.get_type_id(frame.geometry.values)
    wrong = np.flatnonzero(~np.isin(kinds, [3, 6]))
    if len(wrong):
        raise InputError(
            located(name, f"feature {wrong[0] + 1}", "geometry", "is not a (multi)polygon")
        )
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    out = gpd.GeoDataFrame(
        {"name": codes.to_numpy()},
        geometry=shapely.make_valid(frame.geometry.values),
        crs="EPSG:4326",
        index=pd.Index(codes.to_numpy(), name="iso_a3"),
    )
    out = out.dissolve(level=0, aggfunc="first") if out.index.duplicated().any() else out
    return out.sort_index(kind="stable"), field


@functools.cache
def _source_countries(source: BorderSource) -> gpd.GeoDataFrame:
    """Country polygons of a source: index ``iso_a3``, columns ``name`` and ``geometry``."""
    if source.name == "naturalearth" and not source.path:
        return _countries_cached()
    if source.name == "osm" and not source.path:
        frame = _borders_osm.countries()
        names = _countries_cached()["name"]
        frame.insert(0, "name", [str(names.get(_NE_CODES.get(c, c), c)) for c in frame.index])
        return frame
    return _read_file(source.path, _data.BORDER_FILE_DRIVERS[Path(source.path).suffix.lower()])[0]


def source_codes(codes: Iterable[str], source: BorderSource) -> list[str]:
    """Return the codes of a group that the source holds, in its own keys (Kosovo ``XKX``).

    Raises
    ------
    InputError
        If the source holds none of them.
    """
    codes = list(codes)
    if source.name == "osm" and not source.path:
        codes = [_OSM_CODES.get(c, c) for c in codes]
    known = _source_countries(source).index
    kept = sorted({c for c in codes if c in known})
    if not kept:
        raise InputError(
            f"{', '.join(codes)}: not in the border source {source.name} "
            "(outside its coverage); use borders 'naturalearth'"
        )
    return kept


def countries(
    codes: Iterable[str] | None = None, *, borders: str | BorderSource | None = None
) -> gpd.GeoDataFrame:
    """Return country polygons by ISO alpha-3 code.

    Parameters
    ----------
    codes : iterable of str, optional
        Codes to return, in that order; default every country.
    borders : str or BorderSource, optional
        The border source (see the module docstring); default ``osm``.

    Returns
    -------
    countries : geopandas.GeoDataFrame
        Indexed by ``iso_a3``, columns ``name`` and ``geometry`` (EPSG:4326, full
        resolution). An OSM country has its lakes, rivers and territorial sea.

    Raises
    ------
    InputError
        If a code names no country of the dataset.

    Examples
    --------
    >>> countries(["BLR"]).loc["BLR", "name"]
    'Belarus'
    >>> countries(["EST"], borders="naturalearth").index.tolist()
    ['EST']
    """
    source = _data.border_source(borders)
    frame = _source_countries(source)
    if codes is None:
        return frame.copy()
    codes = list(codes)
    unknown = [c for c in codes if c not in frame.index]
    if unknown:
        raise InputError(
            f"unknown country code(s) {', '.join(unknown)} in the border source "
            f"{source.name}: use ISO 3166-1 alpha-3"
        )
    return frame.loc[codes].copy()


def country_codes() -> frozenset[str]:
    """Return every ISO alpha-3 code that the border dataset knows.

    Returns
    -------
    codes : frozenset of str
        The codes.
    """
    return _data.country_codes()


def resolve_group(
    spec: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> list[str]:
    """Turn a group specification into a sorted list of country codes.

    Parameters
    ----------
    spec : str or iterable of str
        Comma-separated ISO alpha-3 codes; ``NATO`` stands for the members on ``as_of``.
    as_of : str, datetime.date or None
        The date for ``NATO``; default today.
    borders : str or BorderSource, optional
        A border source whose own codes are also accepted (a ``FILE`` may hold others);
        by default only the codes of Natural Earth, which knows every country.

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
    if borders is not None:
        known = known | frozenset(_source_countries(_data.border_source(borders)).index)
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


def shared_border(
    code_a: str, code_b: str, *, borders: str | BorderSource | None = None
) -> shapely.MultiLineString | shapely.LineString:
    """Return the land boundary that two countries share, as merged lines.

    For Natural Earth (and a ``FILE`` source), whose admin-0 polygons are cut from one
    topology, a common border is made of edges that both polygons hold; those edges are
    matched exactly and merged into lines. For OSM it is their ``land`` and ``water`` lines.

    Parameters
    ----------
    code_a, code_b : str
        ISO alpha-3 codes.
    borders : str or BorderSource, optional
        The border source; default ``osm``.

    Returns
    -------
    border : shapely.LineString or shapely.MultiLineString
        Empty if the countries do not touch.

    Examples
    --------
    >>> shared_border("POL", "FRA").is_empty
    True
    """
    source = _data.border_source(borders)
    if source.frontier_from == "lines":
        found = frontier([code_a], [code_b], borders=source)
        return found.geometry.iloc[0] if len(found) else shapely.MultiLineString()
    return _shared_edges(_source_countries(source), code_a, code_b)


def _shared_edges(
    frame: gpd.GeoDataFrame, code_a: str, code_b: str
) -> shapely.MultiLineString | shapely.LineString:
    unknown = [c for c in (code_a, code_b) if c not in frame.index]
    if unknown:
        raise InputError(f"unknown country code(s) {', '.join(unknown)}: use ISO 3166-1 alpha-3")
    geom_a, geom_b = frame.geometry[code_a], frame.geometry[code_b]
    if not shapely.intersects(shapely.envelope(geom_a), shapely.envelope(geom_b)):
        return shapely.MultiLineString()
    edges_a = ring_edges(geom_a)
    edges_b = ring_edges(geom_b)
    common = np.isin(edge_keys(edges_a), edge_keys(edges_b))
    if not common.any():
        return shapely.MultiLineString()
    segments = shapely.linestrings(edges_a[common].reshape(-1, 2, 2))
    return shapely.line_merge(shapely.union_all(segments))


@functools.cache
def _touching(source: BorderSource, code: str) -> frozenset[str]:
    """Return the codes of the source's countries whose polygons meet the country's."""
    frame = _source_countries(source)
    hits = shapely.STRtree(frame.geometry.values).query(
        frame.geometry[code], predicate="intersects"
    )
    return frozenset(str(c) for c in frame.index[hits])


@functools.cache
def _pair_border(
    source: BorderSource, code_a: str, code_b: str
) -> tuple[shapely.Geometry, float] | None:
    """Return the border of two countries of a polygon source and its length in km, or None.

    Cached: the frontier of every date (a map's date slider draws one per NATO accession) is
    made of the same few pairs.
    """
    line = _shared_edges(_source_countries(source), code_a, code_b)
    return None if line.is_empty else (line, geodesic_length_m(line) / 1000.0)


def frontier(
    side_a: str | Iterable[str],
    side_b: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> gpd.GeoDataFrame:
    """Return the land frontier between two groups of countries, labelled by country pair.

    Parameters
    ----------
    side_a, side_b : str or iterable of str
        Groups as in :func:`resolve_group` (``"RUS,BLR"``, ``"NATO"``).
    as_of : str, datetime.date or None
        Date for ``NATO``; default today.
    borders : str or BorderSource, optional
        The border source: ``osm`` (default; land and water lines, rivers and lakes kept,
        lines at sea left out), ``naturalearth`` or a file (the edges polygons share).
        Countries the source does not hold (for OSM: outside its coverage, e.g. USA, CAN) are
        left out.

    Returns
    -------
    frontier : geopandas.GeoDataFrame
        One row per touching country pair: ``a`` (side A code), ``b`` (side B code), ``pair``
        (the two codes in alphabetical order joined by ``-``, e.g. ``BLR-POL``), ``length_km``
        (geodesic length on WGS84) and the line ``geometry``.

    Raises
    ------
    InputError
        If a group is invalid, the groups overlap or the source holds no country of a group.

    Examples
    --------
    >>> f = frontier("RUS,BLR", "NATO", as_of="2021-10-20")
    >>> sorted(f["pair"])[:3]
    ['BLR-LTU', 'BLR-LVA', 'BLR-POL']
    >>> bool(frontier("BLR", "POL").length_km[0] > frontier("BLR", "POL", borders="naturalearth").length_km[0])
    True
    """
    source = _data.border_source(borders)
    codes_a = resolve_group(side_a, as_of=as_of, borders=source)
    codes_b = resolve_group(side_b, as_of=as_of, borders=source)
    both = sorted(set(codes_a) & set(codes_b))
    if both:
        raise InputError(f"{', '.join(both)} stands on both sides of the frontier")
    codes_a, codes_b = source_codes(codes_a, source), source_codes(codes_b, source)
    if source.frontier_from == "lines":
        return _borders_osm.frontier(codes_a, codes_b)
    rows = []
    for code_a in codes_a:
        touching = _touching(source, code_a)
        for code_b in sorted(c for c in codes_b if c in touching):
            found = _pair_border(source, code_a, code_b)
            if found is None:
                continue
            rows.append(
                {
                    "a": code_a,
                    "b": code_b,
                    "pair": "-".join(sorted((code_a, code_b))),
                    "length_km": found[1],
                    "geometry": found[0],
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
    codes: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> shapely.Geometry:
    """Return the union of a group's country polygons.

    Parameters
    ----------
    codes : str or iterable of str
        A group as in :func:`resolve_group`.
    as_of : str, datetime.date or None
        Date for ``NATO``.
    borders : str or BorderSource, optional
        The border source; default ``osm``, whose territory includes lakes, rivers and the
        territorial sea. Countries the source does not hold are left out.

    Returns
    -------
    area : shapely.Geometry
        (Multi)polygon in EPSG:4326.

    Examples
    --------
    >>> bool(territory("EST").contains(shapely.Point(28.2019, 59.3766)))
    True
    """
    source = _data.border_source(borders)
    group = source_codes(resolve_group(codes, as_of=as_of, borders=source), source)
    return shapely.union_all(countries(group, borders=source).geometry.values)
