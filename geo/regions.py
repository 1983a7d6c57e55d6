"""Named regions to focus a map, figure or report on, and the Suwałki Gap measured.

The registry is the data file ``geo/data/regions.json``: each region has an id (such as
``suwalki-gap``), a title, a short description, a source where its name is a term of art, and
an *extent* that names border data: countries, shared borders, coasts, Kaliningrad oblast or
the Suwałki Gap line. Its box (west, south, east, north) is derived here from that data and a
margin in km; no box is typed by hand. A box is a framing choice, not a fact.

:func:`suwalki_gap` measures the gap: the shortest geodesic between Kaliningrad oblast (the
Russian polygon that contains Kaliningrad city) and Belarus, with the exact engine of
:mod:`geo.geodesic`, on the Natural Earth borders or on the OpenStreetMap extract.

This module is analysis: it never imports map code.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from geo import borders
from geo._errors import InputError
from geo.geodesic import line_set, nearest
from geo.view import check_bbox

__all__ = [
    "BORDER_DATA",
    "REGIONS_PATH",
    "Region",
    "Source",
    "belarus",
    "focus",
    "gap_path",
    "kaliningrad",
    "list_regions",
    "parse_bbox",
    "region",
    "shows_gap",
    "suwalki_gap",
    "within",
]

#: The registry file shipped inside the package.
REGIONS_PATH = Path(__file__).resolve().parent / "data" / "regions.json"
#: The border data :func:`suwalki_gap` can measure on, and the border source each one is (a
#: new source of :data:`geo._data.BORDER_SOURCES` is one entry here).
_BORDER_SOURCES = {"natural-earth": "naturalearth", "osm": "osm"}
#: The border data :func:`suwalki_gap` can measure on.
BORDER_DATA = tuple(_BORDER_SOURCES)
#: Extent kinds of the registry, and the field each needs.
_EXTENT_FIELDS = {
    "countries": "codes",
    "coasts": "codes",
    "borders": "pairs",
    "kaliningrad": None,
    "suwalki-gap": None,
}
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Source:
    """Where a region's name comes from: ``title``, ``url`` and the ``accessed`` date."""

    title: str
    url: str
    accessed: str


@dataclass(frozen=True)
class Region:
    """One named region of the registry.

    Attributes
    ----------
    id : str
        The name used on the command line, e.g. ``suwalki-gap``.
    title, description : str
        What the region is, for titles and listings.
    bbox : tuple of float
        West, south, east, north in degrees, derived from ``extent`` and ``margin_km``.
    extent : str
        How the box is derived, in words.
    margin_km : float
        How far the box reaches beyond the border data on every side, km.
    source : Source or None
        The source of the name, where it is a term of art.
    """

    id: str
    title: str
    description: str
    bbox: tuple[float, float, float, float]
    extent: str
    margin_km: float
    source: Source | None


def _query_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _fail(path: Path, record: str, field: str, problem: str) -> InputError:
    return InputError(f"{path.name}: region {record!r}, field {field!r}: {problem}")


def _text(path: Path, record: str, entry: Mapping[str, Any], field: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, record, field, "must be a non-empty text")
    return value


def _source(path: Path, record: str, value: Any) -> Source | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(path, record, "source", "must be an object with title, url, accessed")
    title, url, accessed = (_text(path, record, value, f) for f in ("title", "url", "accessed"))
    if not url.startswith("https://"):
        raise _fail(path, record, "source", f"url {url!r} must start with https://")
    return Source(title, url, accessed)


def _codes(path: Path, record: str, value: Any, field: str) -> list[str]:
    known = borders.country_codes()
    if not isinstance(value, list) or not value:
        raise _fail(path, record, field, "must be a non-empty list")
    bad = [c for c in value if not isinstance(c, str) or c not in known]
    if bad:
        raise _fail(path, record, field, f"{bad[0]!r} is not an ISO alpha-3 code of the borders")
    return list(value)


@functools.cache
def _registry(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read and check the registry file: (anchors, region records)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read the region registry: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("regions"), list):
        raise InputError(f"{path.name}: the region registry needs a 'regions' list")
    records = []
    for number, entry in enumerate(data["regions"], start=1):
        if not isinstance(entry, dict):
            raise InputError(f"{path.name}: region {number} is not an object")
        ident = entry.get("id")
        record = ident if isinstance(ident, str) else f"#{number}"
        for name in ("id", "title", "description"):
            _text(path, record, entry, name)
        extent = entry.get("extent")
        if not isinstance(extent, dict) or extent.get("kind") not in _EXTENT_FIELDS:
            raise _fail(path, record, "extent", f"kind must be one of {', '.join(_EXTENT_FIELDS)}")
        field = _EXTENT_FIELDS[extent["kind"]]
        if field == "codes":
            _codes(path, record, extent.get("codes"), "extent.codes")
        elif field == "pairs":
            pairs = extent.get("pairs")
            if not isinstance(pairs, list) or not pairs:
                raise _fail(path, record, "extent.pairs", "must be a non-empty list of pairs")
            for pair in pairs:
                if len(_codes(path, record, pair, "extent.pairs")) != 2:
                    raise _fail(path, record, "extent.pairs", f"{pair!r} is not a pair")
        margin = entry.get("margin_km")
        if isinstance(margin, bool) or not isinstance(margin, int | float):
            raise _fail(path, record, "margin_km", "must be a number of km")
        if not (math.isfinite(margin) and 0 <= margin <= 1000):
            raise _fail(path, record, "margin_km", f"{margin!r} is not between 0 and 1000 km")
        _source(path, record, entry.get("source"))
        records.append(entry)
    ids = [_query_key(r["id"]) for r in records]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path.name}: two regions have the same id")
    anchors = data.get("anchors", {})
    return anchors, records


def _anchor(name: str) -> tuple[float, float]:
    anchors, _ = _registry(REGIONS_PATH)
    entry = anchors[name]
    return float(entry["lon"]), float(entry["lat"])


# --------------------------------------------------------------------------------------------
# Kaliningrad, Belarus and the gap between them
# --------------------------------------------------------------------------------------------


def _check_data(data: str) -> str:
    if data not in BORDER_DATA:
        raise InputError(f"border data {data!r} is not one of {', '.join(BORDER_DATA)}")
    return data


def _country(code: str, data: str) -> shapely.Geometry:
    source = _BORDER_SOURCES[_check_data(data)]
    return borders.countries([code], borders=source).geometry.iloc[0]


@functools.cache
def kaliningrad(*, data: str = "natural-earth") -> shapely.Polygon:
    """Return Kaliningrad oblast: the polygon of Russia that contains Kaliningrad city.

    Parameters
    ----------
    data : {"natural-earth", "osm"}
        The border data: Natural Earth 1:10m land, or the OpenStreetMap extract (land with
        lagoons and territorial sea).

    Returns
    -------
    oblast : shapely.Polygon
        In EPSG:4326.

    Examples
    --------
    >>> round(kaliningrad().bounds[0], 1), round(kaliningrad().bounds[2], 1)
    (19.6, 22.8)
    """
    city = shapely.Point(_anchor("kaliningrad-city"))
    parts = [p for p in shapely.get_parts(_country("RUS", data)) if p.contains(city)]
    if len(parts) != 1:  # the shipped data always has it: this guards a changed data file
        raise InputError(f"no single Russian polygon of the {data} borders holds Kaliningrad")
    return parts[0]


@functools.cache
def belarus(*, data: str = "natural-earth") -> shapely.Geometry:
    """Return Belarus's territory in the chosen border data (see :func:`kaliningrad`).

    Examples
    --------
    >>> belarus().geom_type
    'Polygon'
    """
    return _country("BLR", data)


def _rings(geom: shapely.Geometry) -> list[np.ndarray]:
    return [shapely.get_coordinates(r) for r in shapely.get_parts(shapely.boundary(geom))]


def _nearest_pair(
    from_geom: shapely.Geometry, to_geom: shapely.Geometry
) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Shortest geodesic from a vertex of one boundary to the other boundary."""
    coords = np.vstack(_rings(from_geom))
    result = nearest(line_set((xy, "") for xy in _rings(to_geom)), coords[:, 0], coords[:, 1])
    best = int(np.argmin(result["distance_m"].to_numpy()))
    row = result.iloc[best]
    foot = (float(row["nearest_lon"]), float(row["nearest_lat"]))
    return float(row["distance_m"]), (float(coords[best, 0]), float(coords[best, 1])), foot


@functools.cache
def suwalki_gap(*, data: str = "natural-earth") -> tuple[shapely.LineString, float]:
    """Return the Suwałki Gap: the shortest geodesic between Kaliningrad oblast and Belarus.

    Two boundaries made of geodesic segments that do not cross are closest at a vertex of one
    of them, so the exact distance from every vertex of each boundary to the other boundary
    (:func:`geo.geodesic.nearest`) gives the shortest line.

    Parameters
    ----------
    data : {"natural-earth", "osm"}
        The border data (see :func:`kaliningrad`).

    Returns
    -------
    line : shapely.LineString
        From Kaliningrad oblast to Belarus (lon, lat); the path between the two ends is the
        geodesic.
    length_m : float
        Its geodesic length on WGS84, metres.

    Raises
    ------
    InputError
        If ``data`` is not one of :data:`BORDER_DATA`.

    Examples
    --------
    >>> line, length_m = suwalki_gap()
    >>> 60_000 < length_m < 70_000
    True
    """
    oblast, blr = kaliningrad(data=data), belarus(data=data)
    there = _nearest_pair(oblast, blr)
    back = _nearest_pair(blr, oblast)
    if there[0] <= back[0]:
        length, start, end = there
    else:
        length, end, start = back
    return shapely.LineString([start, end]), length


# --------------------------------------------------------------------------------------------
# Boxes
# --------------------------------------------------------------------------------------------


def _widen(bounds: tuple[float, ...], margin_km: float) -> tuple[float, float, float, float]:
    """Widen lon/lat bounds by a geodesic margin on every side, rounded out to 0.01 degree."""
    west, south, east, north = (float(b) for b in bounds)
    m = margin_km * 1000.0
    mid_lon = (west + east) / 2
    south = float(_GEOD.fwd(mid_lon, south, 180.0, m)[1])
    north = float(_GEOD.fwd(mid_lon, north, 0.0, m)[1])
    poleward = north if abs(north) >= abs(south) else south  # where a km spans most longitude
    west = float(_GEOD.fwd(west, poleward, 270.0, m)[0])
    east = float(_GEOD.fwd(east, poleward, 90.0, m)[0])
    box = (
        max(math.floor(west * 100) / 100, -180.0),
        max(math.floor(south * 100) / 100, -90.0),
        min(math.ceil(east * 100) / 100, 180.0),
        min(math.ceil(north * 100) / 100, 90.0),
    )
    return check_bbox(box)


def _coast_bounds(codes: Iterable[str]) -> tuple[float, ...]:
    frame = borders.countries(borders="naturalearth")
    tree = shapely.STRtree(frame.geometry.values)
    edges = []
    for code in codes:
        own = borders.ring_edges(frame.geometry[code])
        keys = borders.edge_keys(own)
        shared = np.zeros(len(own), bool)
        for i in tree.query(frame.geometry[code], predicate="intersects"):
            if frame.index[i] != code:
                other = borders.ring_edges(frame.geometry.iloc[i])
                shared |= np.isin(keys, borders.edge_keys(other))
        edges.append(own[~shared])
    xy = np.vstack(edges).reshape(-1, 2)
    return (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())


def _extent(extent: Mapping[str, Any]) -> tuple[tuple[float, ...], str]:
    kind = extent["kind"]
    if kind == "countries":
        codes = extent["codes"]
        geom = shapely.union_all(borders.countries(codes, borders="naturalearth").geometry.values)
        return geom.bounds, f"the bounds of {', '.join(codes)}"
    if kind == "coasts":
        codes = extent["codes"]
        return _coast_bounds(codes), f"the bounds of the sea coasts of {', '.join(codes)}"
    if kind == "borders":
        pairs = [tuple(p) for p in extent["pairs"]]
        lines = shapely.union_all(
            [borders.shared_border(a, b, borders="naturalearth") for a, b in pairs]
        )
        return lines.bounds, "the bounds of the borders " + ", ".join("-".join(p) for p in pairs)
    if kind == "kaliningrad":
        return kaliningrad().bounds, "the bounds of Kaliningrad oblast"
    line, _ = suwalki_gap()
    return line.bounds, "the bounds of the Suwałki Gap line"


@functools.cache
def _regions() -> tuple[Region, ...]:
    _, records = _registry(REGIONS_PATH)
    out = []
    for entry in records:
        bounds, how = _extent(entry["extent"])
        margin = float(entry["margin_km"])
        out.append(
            Region(
                id=entry["id"],
                title=entry["title"],
                description=entry["description"],
                bbox=_widen(bounds, margin),
                extent=f"{how} (Natural Earth) plus {margin:g} km",
                margin_km=margin,
                source=_source(REGIONS_PATH, entry["id"], entry.get("source")),
            )
        )
    return tuple(out)


def list_regions() -> list[Region]:
    """Return the named regions of the registry, in its order.

    Returns
    -------
    regions : list of Region
        Each with its derived box.

    Examples
    --------
    >>> [r.id for r in list_regions()][:3]
    ['suwalki-gap', 'baltics', 'belarus']
    """
    return list(_regions())


def region(name: str) -> Region:
    """Return a named region; names match ignoring case and punctuation.

    Parameters
    ----------
    name : str
        A region id such as ``suwalki-gap`` (``Suwalki_Gap`` matches too).

    Returns
    -------
    region : Region
        The region with its box.

    Raises
    ------
    InputError
        If no region has that name; the message lists the regions.

    Examples
    --------
    >>> region("Kaliningrad").title
    'Kaliningrad oblast'
    """
    wanted = _query_key(name)
    regions = _regions()
    for found in regions:
        if _query_key(found.id) == wanted:
            return found
    raise InputError(f"no region named {name!r}; regions: {', '.join(r.id for r in regions)}")


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse a box written ``W,S,E,N`` (degrees), as the ``--bbox`` option takes it.

    Parameters
    ----------
    text : str
        Four comma-separated numbers in ASCII digits: west, south, east, north.

    Returns
    -------
    bbox : tuple of float
        The checked box (see :func:`geo.view.check_bbox`).

    Raises
    ------
    InputError
        If the text is not four plain numbers that make a box.

    Examples
    --------
    >>> parse_bbox("21,53,26,56")
    (21.0, 53.0, 26.0, 56.0)
    """
    parts = str(text).split(",")
    ok = len(parts) == 4 and all(
        re.fullmatch(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*", p, flags=re.ASCII) for p in parts
    )
    if not ok:
        raise InputError(
            f"bbox {text!r} is not four comma-separated numbers W,S,E,N in degrees, "
            "e.g. 21,53,26,56"
        )
    return check_bbox(float(p) for p in parts)


def focus(
    *, bbox: str | Iterable[float] | None = None, region: str | None = None
) -> tuple[float, float, float, float] | None:
    """Return the box to show for a ``--bbox`` or a ``--region`` (the ``region`` of a View).

    Parameters
    ----------
    bbox : str or iterable of float, optional
        ``"W,S,E,N"`` (see :func:`parse_bbox`) or four numbers.
    region : str, optional
        A region name (see :func:`region`).

    Returns
    -------
    box : tuple of float or None
        West, south, east, north in degrees; ``None`` when neither is given (the whole
        default extent).

    Raises
    ------
    InputError
        If both are given, or either is invalid.

    Examples
    --------
    >>> focus(region="kaliningrad") == region("kaliningrad").bbox
    True
    >>> focus(bbox="21,53,26,56")
    (21.0, 53.0, 26.0, 56.0)
    """
    if bbox is not None and region is not None:
        raise InputError("give a bbox or a region, not both")
    if region is not None:
        return _named(region).bbox
    if bbox is None:
        return None
    return parse_bbox(bbox) if isinstance(bbox, str) else check_bbox(bbox)


_named = region


def within(frame: gpd.GeoDataFrame, box: Iterable[float] | None) -> gpd.GeoDataFrame:
    """Return the rows of a lon/lat GeoDataFrame whose geometry meets a box.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in EPSG:4326 (sites, lines).
    box : iterable of float or None
        West, south, east, north in degrees; ``None`` keeps every row.

    Returns
    -------
    rows : geopandas.GeoDataFrame
        The rows whose geometry intersects the box (its edges included), in their order.

    Examples
    --------
    >>> import geopandas as gpd
    >>> sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy([23.0, 30.0], [54.0, 54.0]))
    >>> len(within(sites, (21, 53, 26, 56)))
    1
    """
    if box is None:
        return frame
    shape = shapely.box(*check_bbox(box))
    lonlat = frame if frame.crs is None or frame.crs.equals("EPSG:4326") else frame.to_crs(4326)
    return frame[shapely.intersects(lonlat.geometry.to_numpy(), shape)]


def gap_path(*, data: str = "natural-earth", n_points: int = 32) -> shapely.LineString:
    """Return the Suwałki Gap line along its geodesic, for drawing.

    Parameters
    ----------
    data : {"natural-earth", "osm"}
        The border data (see :func:`suwalki_gap`).
    n_points : int
        Points of the path, both ends included (at least 2).

    Returns
    -------
    path : shapely.LineString
        Lon/lat points on the geodesic from Kaliningrad oblast to Belarus.

    Examples
    --------
    >>> len(gap_path(n_points=5).coords)
    5
    """
    line, _ = suwalki_gap(data=data)
    (x0, y0), (x1, y1) = shapely.get_coordinates(line)
    middle = _GEOD.npts(x0, y0, x1, y1, max(int(n_points), 2) - 2)
    return shapely.LineString([(x0, y0), *middle, (x1, y1)])


def shows_gap(box: Iterable[float] | None) -> bool:
    """Tell whether a region shown holds the whole Suwałki Gap line (so it is drawn there).

    Parameters
    ----------
    box : iterable of float or None
        West, south, east, north; ``None`` (the whole default extent) draws no gap line.

    Returns
    -------
    shown : bool

    Examples
    --------
    >>> shows_gap(region("suwalki-gap").bbox), shows_gap((21, 53, 26, 56)), shows_gap(None)
    (True, True, False)
    """
    if box is None:
        return False
    return bool(shapely.box(*check_bbox(box)).contains(suwalki_gap()[0]))
