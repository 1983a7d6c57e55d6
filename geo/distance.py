"""Exact geodesic distances on WGS84 from points and shapes to a frontier or a territory.

The targets are built from the country data of :mod:`geo.borders`, from the border source
chosen with ``borders=`` (``osm`` by default, ``naturalearth`` or a file; see
:mod:`geo.borders`): a *frontier* is the land border between two groups of countries (rivers
and lakes included, lines at sea left out), a *territory* is a group's area (with OSM: land,
lakes, rivers and territorial sea; a point inside it is at distance 0). Results of
:func:`distances` and :func:`measure_file` say which country each point lies in
(``located_in``), and their ``distance_min_m``/``distance_max_m`` include the source's
positional accuracy. :func:`to_frontier` and :func:`to_territory` measure
lon/lat arrays, :func:`distances` a (dask-)GeoDataFrame of any geometry, and
:func:`measure_file` a point file chunk by chunk in bounded memory. The numerics, exact to well
under a millimetre, are in :mod:`geo.geodesic`; the flank analysis of sites in :mod:`geo.sites`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo import _borders_osm, _data, _pipeline
from geo import borders as border_data
from geo._data import BorderSource
from geo._errors import InputError
from geo.dates import parse_as_of
from geo.geodesic import (
    GEOD,
    RESULT_COLUMNS,
    LineSet,
    ecef,
    line_set,
    nearest,
    wgs84_geometries,
)

__all__ = [
    "FAR_M",
    "RESULT_COLUMNS",
    "MeasuredFile",
    "Target",
    "distances",
    "kept_names",
    "located_in",
    "measure",
    "measure_columns",
    "measure_file",
    "point_result",
    "result_columns",
    "target",
    "territory_lower_bound_m",
    "territory_of",
    "to_frontier",
    "to_territory",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Border lines from the country data
# --------------------------------------------------------------------------------------------


def _frame_lines(frame: gpd.GeoDataFrame) -> LineSet:
    """Line set of a frontier frame (rows with ``pair`` and line ``geometry``)."""
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    labels = frame["pair"] if "pair" in frame.columns else pd.Series([""] * len(frame))
    lines = []
    for geom, label in zip(frame.geometry, labels, strict=True):
        if geom is None or geom.is_empty:
            continue
        for part in shapely.get_parts(shapely.boundary(geom) if geom.area > 0 else geom):
            lines.append((shapely.get_coordinates(part), str(label)))
    return line_set(lines)


@functools.lru_cache(maxsize=16)
def _frontier_lines(
    side_a: tuple[str, ...], side_b: tuple[str, ...], source: BorderSource
) -> LineSet:
    return _frame_lines(border_data.frontier(side_a, side_b, borders=source))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (exclusive) of each run of True in a boolean array."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def boundary_lines(
    codes: tuple[str, ...], *, coast: bool, borders: str | BorderSource | None = None
) -> LineSet:
    """Outer boundary of a group's area, labelled by country pair (``RUS-coast`` at sea).

    With ``coast=False`` only the land borders (over land, rivers and lakes) with countries
    outside the group are kept. ``borders`` is the border source (default ``osm``).
    """
    return _boundary_lines(tuple(codes), coast, _data.border_source(borders))


@functools.lru_cache(maxsize=32)
def _boundary_lines(codes: tuple[str, ...], coast: bool, source: BorderSource) -> LineSet:
    if source.frontier_from == "lines":
        found = _borders_osm.territory_boundary(
            border_data.source_codes(codes, source), coast=coast
        )
        if not coast:
            found = found[found["kind"].isin(_borders_osm.FRONTIER_KINDS)]
        return line_set(
            [
                (shapely.get_coordinates(geom), str(label))
                for geom, label in zip(found.geometry, found["border"], strict=True)
            ]
        )
    codes = tuple(border_data.source_codes(codes, source))
    frame = border_data.countries(borders=source)
    tree = shapely.STRtree(frame.geometry.values)
    members = set(codes)
    lines = []
    for code in codes:
        geom = frame.geometry[code]
        neighbours = [frame.index[i] for i in tree.query(geom, predicate="intersects")]
        neighbour_keys = {
            other: border_data.edge_keys(border_data.ring_edges(frame.geometry[other]))
            for other in neighbours
            if other != code
        }
        rings = [shapely.get_coordinates(r) for r in shapely.get_parts(shapely.boundary(geom))]
        edges = np.vstack([np.hstack([xy[:-1], xy[1:]]) for xy in rings])
        keys = border_data.edge_keys(edges)
        labels = np.full(len(edges), f"{code}-coast", dtype=object)
        keep = np.full(len(edges), coast)
        for other, other_keys in neighbour_keys.items():
            shared = np.isin(keys, other_keys)
            labels[shared] = "-".join(sorted((code, other)))
            keep[shared] = other not in members
        # Natural Earth cuts polygons at the antimeridian: that cut is no border.
        keep &= ~((np.abs(edges[:, 0]) == 180) & (np.abs(edges[:, 2]) == 180))
        first = 0
        for xy in rings:
            ring = slice(first, first + len(xy) - 1)
            first = ring.stop
            if keep[ring].all():
                lines.append((xy, list(labels[ring])))
                continue
            ring_edges, ring_labels = edges[ring], labels[ring]
            for start, end in _runs(keep[ring]):
                line = np.vstack([ring_edges[start:end, :2], ring_edges[end - 1, 2:]])
                lines.append((line, list(ring_labels[start:end])))
    return line_set(lines)


@dataclass(frozen=True)
class Target:
    """What points are measured to: border lines, and for a territory its countries.

    Small enough to pickle and send once to every dask worker. Build one with
    :func:`target`.
    """

    lines: LineSet
    country_codes: tuple[str, ...] = ()  # a territory's countries (empty for a frontier)
    country_shapes: tuple[shapely.Geometry, ...] = ()
    source: BorderSource = _data.BORDER_SOURCES[_data.DEFAULT_BORDERS]
    #: How to build the same target on Natural Earth, for points beyond the source's coverage:
    #: ``("frontier", side_a, side_b)``, ``("territory", codes)``, or ``()`` (no fallback).
    spec: tuple[Any, ...] = ()

    @property
    def territory(self) -> bool:
        """Whether the target is a territory (points inside it are at distance 0)."""
        return bool(self.country_codes)


#: Points located at once (located_in), to bound the memory of a query.
_INSIDE_CHUNK = 100_000


@functools.lru_cache(maxsize=16)
def _territory_target(codes: tuple[str, ...], source: BorderSource) -> Target:
    codes = tuple(border_data.source_codes(codes, source))
    frame = border_data.countries(codes, borders=source)
    return Target(
        boundary_lines(codes, coast=True, borders=source),
        tuple(str(c) for c in frame.index),
        tuple(frame.geometry.values),
        source,
        ("territory", codes),
    )


_NATURAL_EARTH = _data.BORDER_SOURCES["naturalearth"]
#: Shortest meridian degree on WGS84 (at the equator), metres: a lower bound of an arc.
_DEGREE_LAT_M = 110_574.0


def _beyond_coverage(
    source: BorderSource, lon: np.ndarray, lat: np.ndarray, dist: np.ndarray
) -> np.ndarray:
    """Return the indices of the points whose distance on the source may be too long.

    For the OSM extract, a point farther from the border than from the edge of the extract's
    coverage box might have a nearer border outside it (``coverage_margin_m``). A quick lower
    bound of the margin (arc to the bounding parallels, chord to the bounding meridians' planes)
    clears most points before the exact one is computed.
    """
    if source.frontier_from != "lines" or not len(lon):
        return np.empty(0, dtype=np.int64)
    x0, y0, x1, y1 = _borders_osm.load().box
    rho = 6_378_137.0 * np.cos(np.radians(lat))
    quick = np.minimum.reduce(
        [
            (lat - y0) * _DEGREE_LAT_M,
            (y1 - lat) * _DEGREE_LAT_M,
            rho * np.abs(np.sin(np.radians(lon - x0))),
            rho * np.abs(np.sin(np.radians(x1 - lon))),
        ]
    )
    inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    maybe = np.flatnonzero(~inside | (dist > quick))
    if not len(maybe):
        return maybe
    margin = _borders_osm.coverage_margin_m(lon[maybe], lat[maybe])
    return maybe[dist[maybe] > margin]


def _covered(target: Target, lon: np.ndarray, lat: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Measure points to a target; those beyond the source's coverage on Natural Earth.

    Returns the result and the indices of the points measured on Natural Earth.
    """
    result = (
        _territory_result(target, lon, lat) if target.territory else nearest(target.lines, lon, lat)
    )
    beyond = _beyond_coverage(target.source, lon, lat, result["distance_m"].to_numpy())
    if not len(beyond) or not target.spec:
        return result, np.empty(0, dtype=np.int64)
    if target.spec[0] == "territory":
        fallback = _territory_target(target.spec[1], _NATURAL_EARTH)
        again = _territory_result(fallback, lon[beyond], lat[beyond])
    else:
        again = nearest(_frontier_lines(*target.spec[1:], _NATURAL_EARTH), lon[beyond], lat[beyond])
    again.index = beyond
    for name in again.columns:
        values = result[name].to_numpy(
            dtype=object if name in ("border", "inside") else float, copy=True
        )
        values[beyond] = again[name].to_numpy()
        result[name] = values.astype(str) if name in ("border", "inside") else values
    if "inside" in result.columns:
        result["inside"] = pd.array(result["inside"].to_numpy(dtype=str), dtype=str)
    x0, y0, x1, y1 = _borders_osm.load().box
    logger.info(
        "%d point(s) beyond the coverage of %s (lon %g..%g, lat %g..%g): measured on Natural Earth",
        len(beyond),
        target.source.name,
        x0,
        x1,
        y0,
        y1,
    )
    return result, beyond


@functools.lru_cache(maxsize=8)
def _country_tree(source: BorderSource) -> tuple[np.ndarray, shapely.STRtree]:
    frame = border_data.countries(borders=source)
    shapes = frame.geometry.to_numpy()
    shapely.prepare(shapes)
    return frame.index.to_numpy(dtype=object), shapely.STRtree(shapes)


def located_in(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, borders: str | BorderSource | None = None
) -> np.ndarray:
    """Return the country each point lies in, on a border source: which side it is on.

    Parameters
    ----------
    lon, lat : float or array-like
        Points in degrees (WGS84).
    borders : str or BorderSource, optional
        The border source; default ``osm``. Outside the OSM extract's coverage the answer
        comes from Natural Earth.

    Returns
    -------
    codes : numpy.ndarray of str
        ISO alpha-3 code per point, ``""`` where no country holds it (at sea beyond the
        territorial seas; with Natural Earth, off the coast). A point exactly on a border
        counts for the code that sorts first.

    Examples
    --------
    >>> located_in([28.2019, 28.2115], [59.3766, 59.3765]).tolist()
    ['EST', 'RUS']
    """
    lon, lat = _coords(lon, lat)
    numbers, names = _located_numbers(lon, lat, _data.border_source(borders))
    codes: np.ndarray = names[numbers].astype(str)
    return codes


def _located_numbers(
    lon: np.ndarray, lat: np.ndarray, source: BorderSource
) -> tuple[np.ndarray, np.ndarray]:
    """Return :func:`located_in` as numbers into a list of codes (checked lon/lat).

    The codes are those of the source's countries, then Natural Earth's for the points beyond
    the OSM extract, then ``""`` (last: number -1).
    """
    numbers = np.full(len(lon), -1, dtype=np.int64)
    rest = np.arange(len(lon))
    names: list[np.ndarray] = []
    if source.frontier_from == "lines":
        extract = _borders_osm.load()
        x0, y0, x1, y1 = extract.box
        box = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        inside = np.flatnonzero(box)
        osm_names = extract.countries.index.to_numpy()
        for start in range(0, len(inside), _INSIDE_CHUNK):
            part = inside[start : start + _INSIDE_CHUNK]
            numbers[part] = _borders_osm.shapes_at(extract.tree, osm_names, lon[part], lat[part])
        names.append(osm_names)
        rest = np.flatnonzero(~box)
        source = _data.BORDER_SOURCES["naturalearth"]
    if len(rest):
        tree_names, tree = _country_tree(source)
        first = sum(len(n) for n in names)
        for start in range(0, len(rest), _INSIDE_CHUNK):
            part = rest[start : start + _INSIDE_CHUNK]
            found = _borders_osm.shapes_at(tree, tree_names, lon[part], lat[part])
            numbers[part] = np.where(found >= 0, found + first, -1)
        names.append(tree_names)
    return numbers, np.concatenate([*(n.astype(object) for n in names), [""]])


def _text_column(numbers: np.ndarray, names: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Return ``names[numbers]`` as a pandas ``str`` array, without a Python string per row."""
    import pyarrow as pa

    codes = np.where(numbers >= 0, numbers, len(names) - 1).astype(np.int32)
    dictionary = pa.array(names.tolist(), type=pa.large_string())
    text = pa.DictionaryArray.from_arrays(pa.array(codes), dictionary).cast(pa.large_string())
    return pd.array(text, dtype=str)


def _inside(target: Target, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """ISO code of the target country that contains each point, ``""`` elsewhere.

    Each country is tested once, prepared, against the points in its bounding box, given as
    coordinates (no point geometries): far faster than testing each point against unprepared
    countries.
    """
    out = np.full(len(lon), "", dtype=object)
    for code, shape in zip(target.country_codes, target.country_shapes, strict=True):
        west, south, east, north = shapely.bounds(shape)
        box = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
        if len(box):
            out[box[shapely.contains_xy(shape, lon[box], lat[box])]] = code
    return out


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _coords(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lon = np.atleast_1d(np.asarray(lon, dtype=float)).ravel()
    lat = np.atleast_1d(np.asarray(lat, dtype=float)).ravel()
    if lon.shape != lat.shape:
        raise InputError(f"lon has {lon.size} values but lat has {lat.size}")
    bad = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lat) > 90))
    if len(bad):
        i = bad[0]
        raise InputError(
            f"point {i + 1}: lat {lat[i]:g}, lon {lon[i]:g} is not a position "
            "(lat must be -90..90, both finite)"
        )
    return ((lon + 180.0) % 360.0) - 180.0, lat


def to_frontier(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    frontier: str | gpd.GeoDataFrame = border_data.DEFAULT_FRONTIER,
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> pd.DataFrame:
    """Return the exact geodesic distance from points to a land frontier.

    Parameters
    ----------
    lon, lat : float or array-like
        Points in degrees (WGS84).
    frontier : str or geopandas.GeoDataFrame
        ``"A:B"``, two groups of ISO alpha-3 codes (``NATO`` for the members on ``as_of``), or
        a frame from :func:`geo.borders.frontier`.
    as_of : str, datetime.date or None
        Date for ``NATO``; default today.
    borders : str or BorderSource, optional
        The border source of an ``"A:B"`` frontier: ``osm`` (default), ``naturalearth`` or
        a GeoPackage/GeoJSON file of countries (:func:`geo._data.border_source`).

    Returns
    -------
    result : pandas.DataFrame
        One row per point, in input order: ``distance_m``, ``nearest_lat``, ``nearest_lon``
        (the nearest frontier point), ``border`` (its country pair, e.g. ``BLR-POL``) and
        ``bearing_deg`` (initial azimuth from the point towards it).

    Raises
    ------
    InputError
        If a point is not a position, or the frontier or the date is invalid.

    Examples
    --------
    >>> r = to_frontier([23.0], [53.0], "BLR:POL")
    >>> r.loc[0, "border"], bool(0 < r.loc[0, "distance_m"] < 200_000)
    ('BLR-POL', True)
    """
    lon, lat = _coords(lon, lat)
    source = _data.border_source(borders)
    if isinstance(frontier, gpd.GeoDataFrame):
        return nearest(_frame_lines(frontier), lon, lat)
    side_a, side_b = border_data.parse_frontier(str(frontier), as_of=parse_as_of(as_of))
    spec = ("frontier", tuple(side_a), tuple(side_b))
    lines = _frontier_lines(*spec[1:], source)
    return _covered(Target(lines, source=source, spec=spec), lon, lat)[0]


def to_territory(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    group: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> pd.DataFrame:
    """Return the exact geodesic distance from points to a group's territory.

    The boundary of the territory includes its coast (with OSM, the outer limit of the
    territorial sea); a point inside is at distance 0.

    Parameters
    ----------
    lon, lat : float or array-like
        Points in degrees (WGS84).
    group : str or iterable of str
        ISO alpha-3 codes (``"RUS,BLR"``) or ``NATO`` for the members on ``as_of``.
    as_of : str, datetime.date or None
        Date for ``NATO``; default today.
    borders : str or BorderSource, optional
        The border source: ``osm`` (default; the territory holds lakes, rivers and the
        territorial sea, and countries outside the extract are left out), ``naturalearth``
        or a file.

    Returns
    -------
    result : pandas.DataFrame
        The columns of :func:`to_frontier` (``border`` is ``RUS-coast`` where the nearest point
        is on a coast; empty inside) and ``inside``: the code of the group's country that
        contains the point, ``""`` otherwise. Inside, the nearest point is the point itself
        and ``bearing_deg`` is NaN.

    Raises
    ------
    InputError
        If a point is not a position, or the group or the date is invalid.

    Examples
    --------
    >>> r = to_territory([27.56, 24.0], [53.90, 56.0], "BLR")
    >>> r["inside"].tolist(), bool(r.loc[1, "distance_m"] > 0)
    (['BLR', ''], True)
    >>> to_territory([28.2019, 28.2115], [59.3766, 59.3765], "RUS")["inside"].tolist()
    ['', 'RUS']
    """
    lon, lat = _coords(lon, lat)
    source = _data.border_source(borders)
    codes = tuple(border_data.resolve_group(group, as_of=parse_as_of(as_of), borders=source))
    return _covered(_territory_target(codes, source), lon, lat)[0]


def territory_lower_bound_m(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    group: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> np.ndarray:
    """Return a lower bound of :func:`to_territory`'s distance, without building the target.

    The bound holds for the distance to the group's countries on the source and on Natural
    Earth (where :func:`to_territory` measures the points beyond the source's coverage): it
    is the distance to the box around both, bounded from below by the meridian arc to its
    parallels and the chord to the planes of its meridians; 0 in the box.

    Examples
    --------
    >>> far = territory_lower_bound_m([25.0], [60.0], "ESP")[0]
    >>> bool(far > 1_000_000 and far <= to_territory([25.0], [60.0], "ESP").loc[0, "distance_m"])
    True
    """
    lon, lat = _coords(lon, lat)
    source = _data.border_source(borders)
    codes = border_data.resolve_group(group, as_of=parse_as_of(as_of), borders=source)
    box = _group_box(tuple(codes), source)
    if box is None:
        return np.zeros(len(lon))
    west, south, east, north = box
    bound = np.maximum.reduce(
        [np.zeros(len(lat)), (south - lat) * _DEGREE_LAT_M, (lat - north) * _DEGREE_LAT_M]
    )
    if east - west < 180:  # the box lies beyond the plane of each of its side meridians
        rho = 6_378_137.0 * np.cos(np.radians(lat))  # at most the distance to the axis
        for gap in (west - lon, lon - east):
            beyond = (gap > 0) & (gap < 90)
            chord = rho * np.sin(np.radians(np.where(beyond, gap, 0.0)))
            bound = np.where(beyond, np.maximum(bound, chord), bound)
    return np.asarray(bound, dtype=float)


@functools.lru_cache(maxsize=64)
def _group_box(
    codes: tuple[str, ...], source: BorderSource
) -> tuple[float, float, float, float] | None:
    """Return the box around the group's countries on the source and on Natural Earth."""
    boxes = []
    for on in dict.fromkeys([source, _NATURAL_EARTH]):
        with contextlib.suppress(InputError):  # a source that holds none of them
            held = border_data.source_codes(codes, on)
            boxes.append(border_data.countries(held, borders=on).total_bounds)
    if not boxes:
        return None
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return float(west), float(south), float(east), float(north)


def territory_of(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    group: str | Iterable[str],
    *,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> np.ndarray:
    """Return the code of the group's country that contains each point (``""`` outside).

    The ``inside`` column of :func:`to_territory` (same ``borders``), without measuring any
    distance.

    Examples
    --------
    >>> territory_of([27.56, 13.4], [53.9, 52.52], "RUS,BLR").tolist()
    ['BLR', '']
    """
    lon, lat = _coords(lon, lat)
    source = _data.border_source(borders)
    codes = tuple(border_data.resolve_group(group, as_of=parse_as_of(as_of), borders=source))
    return _inside(_territory_target(codes, source), lon, lat)


def _territory_result(target: Target, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    inside = _inside(target, lon, lat)
    columns: dict[str, np.ndarray] = {
        "distance_m": np.zeros(len(lon)),
        "nearest_lat": np.array(lat, dtype=float),
        "nearest_lon": np.array(lon, dtype=float),
        "border": np.full(len(lon), "", dtype=object),
        "bearing_deg": np.full(len(lon), np.nan),
    }
    outside = np.flatnonzero(inside == "")
    if len(outside):  # filled in column by column: no pandas row indexing of a million rows
        found = nearest(target.lines, lon[outside], lat[outside])
        for name in RESULT_COLUMNS:
            columns[name][outside] = found[name].to_numpy()
    result = pd.DataFrame(columns, index=pd.RangeIndex(len(lon)), copy=False)
    result["border"] = result["border"].astype(str)
    result["inside"] = pd.array(inside, dtype=str)
    return result


#: Frontier vertices of recently used line sets: (lines, lon, lat, label code, k-d tree).
_VERTICES: dict[int, tuple[LineSet, np.ndarray, np.ndarray, np.ndarray, cKDTree]] = {}


def _line_vertices(lines: LineSet) -> tuple[np.ndarray, np.ndarray, np.ndarray, cKDTree]:
    """Return every vertex of the lines (both ends of each segment), its label, a k-d tree."""
    cached = _VERTICES.get(id(lines))
    if cached is None or cached[0] is not lines:
        lon = np.concatenate([lines.seg_lon, lines.seg_lon1])
        lat = np.concatenate([lines.seg_lat, lines.seg_lat1])
        label = np.concatenate([lines.seg_label, lines.seg_label])
        if len(_VERTICES) >= 16:
            _VERTICES.pop(next(iter(_VERTICES)))
        cached = (lines, lon, lat, label, cKDTree(ecef(lon, lat)))
        _VERTICES[id(lines)] = cached
    return cached[1:]


def _segment_strings(lines: LineSet) -> tuple[np.ndarray, shapely.STRtree]:
    """Return the segments as lon/lat line strings, in an R-tree (for intersections)."""
    strings = shapely.linestrings(
        np.stack(
            [
                np.column_stack([lines.seg_lon, lines.seg_lat]),
                np.column_stack([lines.seg_lon1, lines.seg_lat1]),
            ],
            axis=1,
        )
    )
    return strings, shapely.STRtree(strings)


def _shape_lines(shape: shapely.Geometry) -> LineSet | None:
    """Return a line set of a shape's lines and polygon rings (None for points only)."""
    lines = []
    pending = [shape]
    while pending:
        part = pending.pop()
        kind = part.geom_type
        if kind.startswith("Multi") or kind == "GeometryCollection":
            pending.extend(shapely.get_parts(part))
        elif kind == "Polygon":
            lines += [(shapely.get_coordinates(r), "") for r in [part.exterior, *part.interiors]]
        elif kind in ("LineString", "LinearRing"):
            lines.append((shapely.get_coordinates(part), ""))
    if not lines:
        return None
    try:
        return line_set(lines)
    except InputError:  # no line of two distinct positions
        return None


def _shape_result(target: Target, shapes: np.ndarray) -> pd.DataFrame:
    """Distance from each line or polygon (or multi-point) to the target: from its nearest point.

    A shape that touches or crosses the frontier, or touches a territory, is at distance 0,
    its nearest point a point they share. Otherwise the nearest pair of points lies at a
    vertex of the shape or at a vertex of the border (the edges being geodesics), so both
    are measured exactly: the shape's vertices to the border by :func:`nearest`, and the
    border vertices that might be nearer to the shape's edges.
    """
    m = len(shapes)
    dist = np.full(m, np.inf)
    near_lat, near_lon, bearing = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    label = np.full(m, -1, dtype=np.int64)
    inside = np.full(m, "", dtype=object)
    lines = target.lines
    # Touching or crossing: distance 0 at a shared point.
    if target.territory:
        tree = shapely.STRtree(np.asarray(target.country_shapes, dtype=object))
        hit, other = tree.query(shapes, predicate="intersects")
        first = np.r_[True, hit[1:] != hit[:-1]] if len(hit) else np.zeros(0, bool)
        order = np.lexsort((other, hit))
        hit, other = hit[order], other[order]
        first = np.r_[True, hit[1:] != hit[:-1]] if len(hit) else first
        hit, other = hit[first], other[first]
        shared = shapely.intersection(
            shapes[hit], np.asarray(target.country_shapes, dtype=object)[other]
        )
        inside[hit] = np.asarray(target.country_codes, dtype=object)[other]
    else:
        strings, tree = _segment_strings(lines)
        hit, other = tree.query(shapes, predicate="intersects")
        order = np.lexsort((other, lines.label_rank[lines.seg_label[other]], hit))
        hit, other = hit[order], other[order]
        first = np.r_[True, hit[1:] != hit[:-1]] if len(hit) else np.zeros(0, bool)
        hit, other = hit[first], other[first]
        shared = shapely.intersection(shapes[hit], strings[other])
        label[hit] = lines.seg_label[other]
    if len(hit):
        at = shapely.point_on_surface(shared)
        dist[hit], near_lon[hit], near_lat[hit] = 0.0, shapely.get_x(at), shapely.get_y(at)
    rest = np.setdiff1d(np.arange(m), hit)
    # The shapes' vertices to the border.
    if len(rest):
        xy, owner = shapely.get_coordinates(shapes[rest], return_index=True)
        lon, lat = _coords(xy[:, 0], xy[:, 1])
        found = nearest(lines, lon, lat)
        d = found["distance_m"].to_numpy()
        order = np.lexsort((d, owner))
        best = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        j = rest[owner[best]]
        dist[j] = d[best]
        near_lat[j] = found["nearest_lat"].to_numpy()[best]
        near_lon[j] = found["nearest_lon"].to_numpy()[best]
        bearing[j] = found["bearing_deg"].to_numpy()[best]
        codes = {text: i for i, text in enumerate(lines.labels)}
        label[j] = [codes.get(text, -1) for text in found["border"].to_numpy()[best]]
    # The border's vertices to the shapes' edges, where they may be nearer.
    v_lon, v_lat, v_label, v_tree = _line_vertices(lines)
    for j in rest:
        edges = _shape_lines(shapes[j])
        if edges is None:
            continue
        # A border vertex nearer to the shape than dist[j] is within dist[j] + 1 km (half a
        # piece) of one of the shape's samples; the chord never exceeds the geodesic.
        balls = v_tree.query_ball_point(edges.tree.data, dist[j] + 1001.0)
        candidates = np.unique(np.concatenate([np.asarray(b, dtype=np.int64) for b in balls]))
        if not len(candidates):
            continue
        found = nearest(edges, v_lon[candidates], v_lat[candidates])
        d = found["distance_m"].to_numpy()
        rank = lines.label_rank[v_label[candidates]]
        k = np.lexsort((rank, d))[0]
        if d[k] < dist[j]:
            c = candidates[k]
            foot_lat, foot_lon = found["nearest_lat"].iloc[k], found["nearest_lon"].iloc[k]
            dist[j], near_lat[j], near_lon[j], label[j] = d[k], v_lat[c], v_lon[c], v_label[c]
            bearing[j] = np.mod(GEOD.inv(foot_lon, foot_lat, v_lon[c], v_lat[c])[0], 360.0)
    border = np.where(label >= 0, lines.labels[np.maximum(label, 0)], "").astype(str)
    if target.territory:
        border[inside != ""] = ""
    result = pd.DataFrame(
        {
            "distance_m": dist,
            "nearest_lat": near_lat,
            "nearest_lon": near_lon,
            "border": border,
            "bearing_deg": bearing,
        }
    )
    if target.territory:
        result["inside"] = pd.array(inside.astype(str), dtype=str)
    return result


def with_uncertainty(
    result: pd.DataFrame,
    frame: pd.DataFrame,
    prefix: str = "",
    *,
    accuracy_m: float | npt.ArrayLike = 0.0,
) -> None:
    """Add the distance range a coordinate uncertainty and the border's accuracy allow, in place.

    Parameters
    ----------
    result : pandas.DataFrame
        Has ``{prefix}distance_m``; gets ``{prefix}distance_min_m = max(0, d - u - a)`` and
        ``{prefix}distance_max_m = d + u + a``.
    frame : pandas.DataFrame
        The measured rows, in the order of ``result``; nothing is added without a
        ``coord_uncertainty_m`` column.
    prefix : str
        Prefix of the distance columns (``"opposing_"`` for :func:`geo.sites.site_analysis`).
    accuracy_m : float or array-like
        ``a``, the positional accuracy of the border source
        (:attr:`geo._data.BorderSource.accuracy_m`), one value or one per row.
    """
    if "coord_uncertainty_m" not in frame.columns:
        return
    unc = pd.to_numeric(frame["coord_uncertainty_m"], errors="coerce").to_numpy(dtype=float)
    unc = unc + np.asarray(accuracy_m, dtype=float)
    dist = result[f"{prefix}distance_m"].to_numpy(dtype=float)
    result[f"{prefix}distance_min_m"] = np.maximum(0.0, dist - unc)
    result[f"{prefix}distance_max_m"] = dist + unc


def distances(
    points: gpd.GeoDataFrame,
    *,
    frontier: str | gpd.GeoDataFrame | None = None,
    to: str | Iterable[str] | None = None,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> gpd.GeoDataFrame:
    """Append distances to a frontier or a territory to a frame of points.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
        Points, or any geometry (a line, polygon or multi-point is measured from its nearest
        point, 0 where it touches or crosses the target); any CRS. A dask frame is measured partition by partition: the border lines are prepared once and sent to
        each worker once (scattered to all workers when a ``dask.distributed`` client is
        running), and the result is a lazy dask frame with the same columns.
    frontier : str or geopandas.GeoDataFrame, optional
        As in :func:`to_frontier`; the default when ``to`` is not given is ``RUS,BLR:NATO``.
    to : str or iterable of str, optional
        A group as in :func:`to_territory`.
    as_of : str, datetime.date or None
        Date for ``NATO``; default today.
    borders : str or BorderSource, optional
        The border source: ``osm`` (default), ``naturalearth`` or a file of countries.

    Returns
    -------
    result : geopandas.GeoDataFrame or dask_geopandas.GeoDataFrame
        ``points`` with ``distance_m``, ``nearest_lat``, ``nearest_lon``, ``border``,
        ``bearing_deg`` appended (and ``inside`` for a territory), then ``located_in`` (the
        country the point, or a shape's representative point, lies in on the same borders,
        ``""`` at sea: so a point on the wrong side shows); with a ``coord_uncertainty_m``
        column also ``distance_min_m = max(0, d - u - a)`` and ``distance_max_m = d + u + a``,
        ``a`` the border source's positional accuracy (10 m for OSM, 9.6 km for Natural
        Earth).

    Raises
    ------
    InputError
        If both ``frontier`` and ``to`` are given, or an input is invalid.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"coord_uncertainty_m": [500.0]},
    ...                        geometry=gpd.points_from_xy([24.0], [56.0]), crs=4326)
    >>> out = distances(pts, to="BLR")
    >>> bool(out.loc[0, "distance_max_m"] - out.loc[0, "distance_m"] == 510.0)
    True
    >>> out.loc[0, "located_in"]
    'LTU'
    """
    prepared = target(frontier=frontier, to=to, as_of=as_of, borders=borders)
    columns = points._meta.columns if _is_dask(points) else points.columns
    _say_kept(
        kept_names(columns, result_columns(columns, prepared), points.geometry.name), "points"
    )
    if _is_dask(points):
        return _distances_dask(points, prepared)
    return measure(points, prepared)


def target(
    *,
    frontier: str | gpd.GeoDataFrame | None = None,
    to: str | Iterable[str] | None = None,
    as_of: str | dt.date | None = None,
    borders: str | BorderSource | None = None,
) -> Target:
    """Prepare what :func:`distances` measures to, once (it can then be sent to workers).

    Parameters
    ----------
    frontier, to, as_of, borders
        As in :func:`distances`.

    Returns
    -------
    target : Target
        The border lines (and a territory's countries), and the border source.

    Raises
    ------
    InputError
        If both ``frontier`` and ``to`` are given, or one is invalid.

    Examples
    --------
    >>> target(to="BLR").country_codes
    ('BLR',)
    """
    if frontier is not None and to is not None:
        raise InputError("give a frontier or a territory (to=...), not both")
    source = _data.border_source(borders)
    if to is not None:
        codes = border_data.resolve_group(to, as_of=parse_as_of(as_of), borders=source)
        return _territory_target(tuple(codes), source)
    if isinstance(frontier, gpd.GeoDataFrame):
        return Target(_frame_lines(frontier), source=source)
    side_a, side_b = border_data.parse_frontier(
        str(frontier or border_data.DEFAULT_FRONTIER), as_of=parse_as_of(as_of)
    )
    spec = ("frontier", tuple(side_a), tuple(side_b))
    return Target(_frontier_lines(*spec[1:], source), source=source, spec=spec)


def _side_and_accuracy(
    result: pd.DataFrame,
    beyond: np.ndarray,
    target: Target,
    lon: np.ndarray,
    lat: np.ndarray,
    frame: pd.DataFrame,
) -> None:
    """Add ``located_in`` and the uncertainty range (the coordinate's and the borders')."""
    result["located_in"] = _text_column(*_located_numbers(lon, lat, target.source))
    accuracy = np.full(len(result), target.source.accuracy_m)
    accuracy[beyond] = max(target.source.accuracy_m, _NATURAL_EARTH.accuracy_m)
    with_uncertainty(result, frame, accuracy_m=accuracy)


def measure(points: gpd.GeoDataFrame, target: Target) -> gpd.GeoDataFrame:
    """Append distances to a prepared :class:`Target` to a frame of points.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        As in :func:`distances`.
    target : Target
        From :func:`target`.

    Returns
    -------
    result : geopandas.GeoDataFrame
        As in :func:`distances`.

    Raises
    ------
    InputError
        If a point has no geometry or is not a position.
    """
    values = wgs84_geometries(points) if len(points) else np.empty(0, dtype=object)
    simple = shapely.get_type_id(values) == 0
    if simple.all():
        lon, lat = _coords(shapely.get_x(values), shapely.get_y(values))
        result, beyond = _covered(target, lon, lat)
    else:  # lines and polygons count from their nearest point
        lon, lat = np.zeros(len(values)), np.zeros(len(values))
        lon[simple], lat[simple] = shapely.get_x(values[simple]), shapely.get_y(values[simple])
        lon, lat = _coords(lon, lat)
        result, beyond = _covered(target, lon, lat)
        result.loc[~simple, :] = _shape_result(target, values[~simple]).set_index(
            np.flatnonzero(~simple)
        )[result.columns]
        where = shapely.point_on_surface(values[~simple])
        lon[~simple], lat[~simple] = _coords(shapely.get_x(where), shapely.get_y(where))
    _side_and_accuracy(result, beyond, target, lon, lat, points)
    out = points.rename(columns=kept_names(points.columns, result.columns, points.geometry.name))
    for name in result.columns:
        out[name] = _column_values(result[name])
    geometry = out.pop(out.geometry.name)
    out[geometry.name] = geometry
    measured = gpd.GeoDataFrame(out, geometry=geometry.name, crs=points.crs)
    measured.attrs["flankmap"] = {"borders": _source_record(target.source)}
    return measured


def _source_record(source: BorderSource) -> dict[str, Any]:
    """Return the border source as written into a GeoParquet file's ``flankmap`` metadata."""
    return {
        "name": source.name,
        "title": source.title,
        "version": source.version,
        "url": source.url,
        "licence": source.licence,
        "attribution": source.attribution,
        "accuracy_m": source.accuracy_m,
        "accuracy_source": source.accuracy_source,
    }


def _column_values(column: pd.Series) -> Any:
    """Return a result column to set into another frame by position (no index alignment).

    Text columns stay Arrow strings: their values as a NumPy array would be made Python
    strings, one per row, and then Arrow strings again.
    """
    return column.array if isinstance(column.dtype, pd.StringDtype) else column.to_numpy()


def result_columns(columns: Iterable[object], target: Target) -> list[str]:
    """Return the names of the columns :func:`measure` appends to a frame of ``columns``.

    Parameters
    ----------
    columns : iterable
        The frame's columns.
    target : Target
        From :func:`target`.

    Returns
    -------
    names : list of str
        :data:`RESULT_COLUMNS`, ``inside`` for a territory, ``located_in``, and
        ``distance_min_m``, ``distance_max_m`` where the frame has ``coord_uncertainty_m``.
    """
    names = list(RESULT_COLUMNS) + (["inside"] if target.territory else []) + ["located_in"]
    if "coord_uncertainty_m" in columns:
        names += ["distance_min_m", "distance_max_m"]
    return names


def kept_names(
    columns: Iterable[object], results: Iterable[str], geometry: object = None
) -> dict[object, str]:
    """Return the new names of a frame's columns that have the name of a result column.

    Such a column is kept, as ``NAME_input`` (``NAME_input2``... if that is taken too),
    instead of being overwritten by the result.

    Parameters
    ----------
    columns : iterable
        The frame's columns.
    results : iterable of str
        The result columns (:func:`result_columns`).
    geometry : object, optional
        The geometry column, which is never renamed.

    Returns
    -------
    renames : dict
        Old name to new name, for the columns that need one.

    Examples
    --------
    >>> kept_names(["id", "distance_m", "geometry"], ["distance_m", "border"], "geometry")
    {'distance_m': 'distance_m_input'}
    """
    columns = list(columns)
    results = list(results)
    taken = {str(c) for c in columns} | set(results)
    renames: dict[object, str] = {}
    for name in columns:
        if name != geometry and name in results:
            new = f"{name}_input"
            k = 2
            while new in taken:
                new, k = f"{name}_input{k}", k + 1
            taken.add(new)
            renames[name] = new
    return renames


def _say_kept(renames: dict[object, str], where: str) -> None:
    if renames:
        listed = ", ".join(f"{str(old)!r} as {new!r}" for old, new in renames.items())
        logger.warning("%s: kept the column(s) %s (the results take their names)", where, listed)


def point_result(target: Target, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """Return the distance of points (checked lon/lat) to a prepared :class:`Target`.

    Parameters
    ----------
    target : Target
        From :func:`target`.
    lon, lat : numpy.ndarray
        Degrees.

    Returns
    -------
    result : pandas.DataFrame
        As :func:`to_frontier` or :func:`to_territory`.
    """
    return _covered(target, lon, lat)[0]


def measure_columns(
    frame: pd.DataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    target: Target,
    *,
    geometry: str | None = None,
) -> pd.DataFrame:
    """Append distances to a prepared :class:`Target` to a frame of points given as lon/lat.

    As :func:`measure`, for points kept as columns (no geometries made).

    Parameters
    ----------
    frame : pandas.DataFrame
        The points' columns, in the order of ``lon`` and ``lat``.
    lon, lat : numpy.ndarray
        Degrees, checked positions.
    target : Target
        From :func:`target`.
    geometry : str, optional
        The name of a geometry column the points have outside ``frame`` (a GeoParquet
        file's): no column is renamed to it.

    Returns
    -------
    result : pandas.DataFrame
        ``frame`` with the result columns appended (a column with the name of a result kept
        as ``NAME_input``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = target(frontier="RUS,BLR:NATO", as_of="2025-01-01")
    >>> frame = pd.DataFrame({"id": ["a"], "lat": [56.0], "lon": [24.0]})
    >>> out = measure_columns(frame, frame["lon"].to_numpy(), frame["lat"].to_numpy(), t)
    >>> out.columns[:4].tolist(), bool(out["distance_m"].iloc[0] > 0)
    (['id', 'lat', 'lon', 'distance_m'], True)
    """
    lon, lat = _coords(lon, lat)
    result, beyond = _covered(target, lon, lat)
    _side_and_accuracy(result, beyond, target, lon, lat, frame)
    names = [*frame.columns] + ([geometry] if geometry is not None else [])
    out = frame.rename(columns=kept_names(names, result.columns, geometry))
    for name in result.columns:
        out[name] = _column_values(result[name])
    out.attrs["flankmap"] = {"borders": _source_record(target.source)}
    return out


#: Distance beyond which a point is far from the borders measured (the swapped-columns check).
FAR_M = 2_000_000.0
_SWAP_SAMPLE = 2000


class _SwapCheck:
    """Notice when every point of a file is far from the borders measured, near with lat/lon swapped.

    Columns mixed up put a point for the Baltics in the Middle East.
    """

    def __init__(self) -> None:
        self.far, self.count, self.other = True, 0, False
        self.lon: list[np.ndarray] = []
        self.lat: list[np.ndarray] = []

    def add(
        self, lon: np.ndarray, lat: np.ndarray, dist: np.ndarray, *, other: bool = False
    ) -> None:
        self.other = self.other or other
        if not self.far or not len(dist):
            return
        self.far = bool((dist > FAR_M).all())
        room = _SWAP_SAMPLE - sum(len(a) for a in self.lon)
        if self.far and room > 0:
            self.lon.append(np.asarray(lon[:room], float))
            self.lat.append(np.asarray(lat[:room], float))
        self.count += len(dist)

    def say(self, target: Target, name: str) -> None:
        if self.other or not self.far or not self.count:
            return
        lon, lat = np.concatenate(self.lon), np.concatenate(self.lat)
        if (np.abs(lon) > 90).any():
            return  # they cannot be latitudes
        near = point_result(target, *_coords(lat, lon))["distance_m"].to_numpy()
        if (near <= FAR_M).all():
            logger.warning(
                "%s: every point is more than %s km from the borders measured, but with lat "
                "and lon swapped the points would be within %s km of them: are the lat and lon "
                "columns swapped?",
                name,
                f"{FAR_M / 1000:,.0f}",
                f"{max(1.0, float(near.max()) / 1000):,.0f}",
            )


@dataclass(frozen=True)
class MeasuredFile:
    """What :func:`measure_file` did: rows measured and rejected, and the result if kept."""

    rows: int
    rejected: int
    frame: gpd.GeoDataFrame | None


def measure_file(
    path: str | Path,
    out: str | Path | None = None,
    *,
    frontier: str | gpd.GeoDataFrame | None = None,
    to: str | Iterable[str] | None = None,
    as_of: str | dt.date | None = None,
    chunk_rows: int | None = None,
    skip_invalid: bool = False,
    rejected: str | Path | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    excel_safe: bool = False,
    borders: str | BorderSource | None = None,
    encoding: str | None = None,
    format: str | None = None,
) -> MeasuredFile:
    """Measure a point file chunk by chunk, in bounded memory, keeping the input order.

    The border lines are prepared once; each chunk read by :func:`geo.points.scan_points` is
    measured and appended to ``out`` through one atomic writer, so an error midway leaves no
    partial file and an existing ``out`` untouched.

    Parameters
    ----------
    path : str or pathlib.Path
        A points file as in :func:`geo.points.read_points`.
    out : str, pathlib.Path or None
        A file of any format of :data:`geo.writers.WRITERS` (``.csv``, ``.geojson``,
        ``.parquet``, ``.gpkg``, ``.fgb``, ``.kml``, ``.kmz``) to write; ``None`` keeps the
        result in memory.
    frontier, to, as_of, borders
        As in :func:`distances`.
    chunk_rows : int, optional
        Rows per chunk; default :data:`geo.points.CHUNK_ROWS`.
    skip_invalid : bool
        Set bad rows aside instead of raising.
    rejected : str, pathlib.Path or None
        With ``skip_invalid``: the CSV side file for the rejected rows and their reasons.
    on_progress : callable, optional
        Called as ``on_progress(done, total, rows)`` after each chunk (bytes or rows of the
        input done and in all, rows handled so far).
    excel_safe : bool
        Neutralise the CSV cells a spreadsheet would run as formulas, in ``out`` and
        ``rejected`` (see :func:`geo.writers.write_points`).
    encoding : str, optional
        Of a CSV file (default UTF-8), e.g. ``"cp1252"`` or ``"latin-1"``.
    format : str, optional
        The format of ``out``, a name of :data:`geo.writers.FORMATS`; default from its suffix.

    Returns
    -------
    run : MeasuredFile
        The counts, and the result frame when ``out`` is ``None``.

    Raises
    ------
    InputError
        As :func:`geo.points.read_points`, for the first bad row unless ``skip_invalid``.
    """
    from geo import points as point_files
    from geo import writers

    prepared = target(frontier=frontier, to=to, as_of=as_of, borders=borders)
    n_rows = n_rejected = 0
    parts: list[gpd.GeoDataFrame] = []
    with contextlib.ExitStack() as stack:
        write = (
            stack.enter_context(
                writers.point_writer(
                    out,
                    format=format,
                    excel_safe=excel_safe,
                    # every column measure may append, whatever the chunks hold
                    results=result_columns(["coord_uncertainty_m"], prepared),
                )
            )
            if out
            else parts.append
        )
        write_rejected = stack.enter_context(
            writers.rejected_writer(rejected, excel_safe=excel_safe)
        )
        rows = chunk_rows or point_files.CHUNK_ROWS
        swapped = _SwapCheck()
        columns_only = Path(path).suffix.lower() in point_files.CSV_SUFFIXES
        # A CSV is measured from its lon/lat columns: geometries only for the outputs that
        # hold them.
        bare = out is not None and issubclass(
            writers.writer_for(out, format=format), writers.CsvWriter
        )
        as_table = out is not None and issubclass(
            writers.writer_for(out, format=format), writers.GeoParquetWriter
        )
        parquet = Path(path).suffix.lower() in point_files.PARQUET_SUFFIXES
        chunks: Iterable[Any] = (
            point_files.scan_columns(
                path, chunk_rows=rows, skip_invalid=skip_invalid, encoding=encoding
            )
            if columns_only
            # GeoParquet points are measured from their positions too, without geometries
            # (a batch of other shapes, or with a bad row, as a frame).
            else point_files._scan_geoparquet_columns(
                path,
                chunk_rows=rows,
                skip_invalid=skip_invalid,
                avoid=result_columns(["coord_uncertainty_m"], prepared),
            )
            if parquet
            else point_files.scan_points(path, chunk_rows=rows, skip_invalid=skip_invalid)
        )
        # The next chunk is read and the last one written on threads of their own while this
        # one is measured (see geo._pipeline); the order and every message stay the same.
        chunks = stack.enter_context(_pipeline.read_ahead(chunks))
        if out:
            write = stack.enter_context(_pipeline.write_behind(write))
        for number, chunk in enumerate(chunks):
            as_columns = isinstance(chunk, point_files.PointColumns)
            frame = chunk.frame if as_columns else chunk.points
            if not number:
                geometry = chunk.geometry if as_columns else frame.geometry.name
                names = [*frame.columns] + ([geometry] if as_columns and geometry else [])
                renames = kept_names(names, result_columns(names, prepared), geometry)
                _say_kept(renames, Path(path).name)
            if as_columns:
                result = measure_columns(
                    frame, chunk.lon, chunk.lat, prepared, geometry=chunk.geometry
                )
                swapped.add(chunk.lon, chunk.lat, result["distance_m"].to_numpy())
                name = chunk.geometry or "geometry"
                if (as_table or chunk.geometry) and name not in result.columns:
                    # GeoParquet is written from the positions: no geometries made
                    result = writers.PointTable(result, chunk.lon, chunk.lat, name)
                    if not as_table:
                        result = result.geodataframe()
                elif not bare:
                    result = gpd.GeoDataFrame(
                        result, geometry=gpd.points_from_xy(chunk.lon, chunk.lat), crs="EPSG:4326"
                    )
            else:
                result = measure(frame, prepared)
                values = np.asarray(frame.geometry.values, dtype=object)
                if len(values) and (shapely.get_type_id(values) == 0).all():
                    swapped.add(
                        shapely.get_x(values),
                        shapely.get_y(values),
                        result["distance_m"].to_numpy(),
                    )
                else:
                    swapped.add(np.empty(0), np.empty(0), np.empty(0), other=len(values) > 0)
            write(result)
            write_rejected(chunk.rejected)
            n_rows += len(result)
            n_rejected += len(chunk.rejected)
            if on_progress is not None:
                on_progress(chunk.done, chunk.total, n_rows + n_rejected)
        swapped.say(prepared, Path(path).name)
    if out is not None:
        return MeasuredFile(n_rows, n_rejected, None)
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return MeasuredFile(n_rows, n_rejected, frame)


def _is_dask(frame: object) -> bool:
    return type(frame).__module__.startswith(("dask", "dask_geopandas")) and hasattr(
        frame, "map_partitions"
    )


def _result_meta(meta: gpd.GeoDataFrame, target: Target) -> gpd.GeoDataFrame:
    """Return the empty frame that :func:`measure` returns for ``meta`` (dask needs it)."""
    columns: dict[str, pd.Series] = {
        "distance_m": pd.Series(dtype=float),
        "nearest_lat": pd.Series(dtype=float),
        "nearest_lon": pd.Series(dtype=float),
        "border": pd.Series(np.empty(0, dtype=str)),
        "bearing_deg": pd.Series(dtype=float),
    }
    if target.territory:
        columns["inside"] = pd.Series(pd.array(np.empty(0, dtype=str), dtype=str))
    columns["located_in"] = pd.Series(np.empty(0, dtype=str))
    if "coord_uncertainty_m" in meta.columns:
        columns["distance_min_m"] = pd.Series(dtype=float)
        columns["distance_max_m"] = pd.Series(dtype=float)
    geometry = meta.geometry.name
    out = meta.rename(columns=kept_names(meta.columns, columns, geometry)).drop(columns=geometry)
    for name, empty in columns.items():
        out[name] = empty.to_numpy()
    out[geometry] = meta[geometry]
    return gpd.GeoDataFrame(out, geometry=geometry, crs=meta.crs)


def _distances_dask(points: Any, prepared: Target) -> Any:
    """Measure a dask-geopandas frame: one task per partition, the target sent once."""
    from dask.delayed import delayed

    shared: object = delayed(prepared, pure=True)
    try:
        from distributed import default_client

        client = default_client()  # type: ignore[no-untyped-call]
    except (ImportError, ValueError):  # no distributed, or no client running
        client = None
    if client is not None:
        # A fresh key per call (hash=False): reusing the key of an earlier, just released
        # scatter of the same target races with its release ("lost dependencies").
        shared = client.scatter(prepared, broadcast=True, hash=False)
    meta = _result_meta(points._meta, prepared)
    return points.map_partitions(measure, shared, meta=meta, align_dataframes=False)
