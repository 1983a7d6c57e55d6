"""Distances on the OpenStreetMap borders against an independent brute-force reference.

The reference reads the frontier lines straight from the shipped Parquet extract (with pyarrow:
the ``land`` and ``water`` lines whose two sides are in different groups, as
``docs/borders-osm.md`` defines a land frontier), and measures each point to every segment that
could be nearest with nothing but ``pyproj.Geod``: no code of ``geo`` is used for it.

* **Candidates.** A segment is a geodesic between two vertices. The straight chord from the
  point (Earth-centred coordinates) to the segment's chord, less the segment's sagitta, is a
  lower bound of the geodesic distance to any point of the segment; the geodesic distance to
  the nearest vertices is an upper bound of the answer. Every segment whose lower bound is not
  above the upper bound is a candidate: the filter is rigorous, not "the N nearest".
* **Distance to a candidate.** ``Geod.fwd`` walks 16 equal steps along the segment's geodesic
  and ``Geod.inv`` measures the point to each; a golden-section search (60 steps) then closes
  on the minimum between the neighbours of the nearest sample. The search narrows the
  interval to below a micrometre, so the reference is exact to well under a millimetre.

Where the test points come from (each row of :data:`NAMED` and :func:`_sample` says which):

* random points 0-5 km and 50-500 km from random frontier vertices (seeded), and points on the
  segments themselves (the geodesic midpoint of random segments);
* rivers: the Bug is the Belarusian-Polish border northwards from the Belarus-Poland-Ukraine
  tripoint (the tripoint treaty puts it "at the intersection of a line running through the
  middle of the Bug River" with the Mościcki Canal, https://barrysborderpoints.com/tripoints/european-tripoints/byplua;
  the Bug forms 178 km of the border, https://grenspalen.one/international/ibrg/eptex-24-byplua):
  vertices of the extract's BLR-POL line within 25 km of that tripoint (about 40, spread), and points 30 m and
  300 m either side of them. The Neman: the Queen Louise Bridge at Sovetsk/Panemunė
  (55°05′01″N 21°54′20″E, Wikipedia "Queen Louise Bridge"), and the extract's LTU-RUS vertices
  within 10 km of it;
* lakes: Lake Drūkšiai (BLR-LTU), 55°37′17″N 26°36′21″E (Wikipedia "Lake Drūkšiai"); Lake
  Vištytis (LTU-RUS), 54°26′N 22°44′E (Wikipedia "Lake Vištytis"); Lake Peipus (EST-RUS),
  58°41′N 27°29′E (Wikipedia "Lake Peipus"); and extract vertices within 5 km (Drūkšiai) and 3 km (Vištytis) of them;
* tripoints: Belarus-Lithuania-Latvia, the monument at 55°40′50″N 26°37′48″E named in the
  1995 border treaty (Wikipedia "Belarus-Lithuania border"); Lithuania-Poland-Russia,
  54°21′48.3″N 22°47′31.32″E (Italian Wikipedia, "Confine tra la Lituania e la Russia"). The
  Belarus-Lithuania-Poland tripoint on the Marycha (no published coordinate found) and the
  Belarus-Poland-Ukraine one are taken from the extract: the vertex its three lines share.
  Around each tripoint, rings of points at 50 m, 500 m and 2 km;
* Narva castle and Ivangorod fortress, as the issue gives them.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from pyproj import Geod

from geo import distance
from geo.cli import main

GEOD = Geod(ellps="WGS84")
EXTRACT = Path(__file__).resolve().parents[1] / "geo" / "data" / "borders_osm.parquet"
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
#: Smallest radius of curvature of WGS84 (the meridian's at the equator): no geodesic bends
#: more sharply, so a segment of chord c lies within c² / (8 R) of it; doubled for safety.
_R_MIN = _A * (1 - _E2)

#: The frontier of the issue's "done when", and the default frontier on a fixed date.
FRONTIER = "BLR:POL,LTU,LVA"
DEFAULT = "RUS,BLR:NATO"
AS_OF = "2025-01-01"
#: NATO's members on AS_OF (geo.borders.NATO_ACCESSION is not used: the reference is apart).
NATO_2025 = frozenset(
    {"ALB", "BEL", "BGR", "CAN", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GBR", "GRC"}
    | {"HRV", "HUN", "ISL", "ITA", "LTU", "LUX", "LVA", "MKD", "MNE", "NLD", "NOR", "POL", "PRT"}
    | {"ROU", "SVK", "SVN", "SWE", "TUR", "USA"}
)

#: Named points: (name, lon, lat, where the coordinate comes from).
NAMED = [
    ("tripoint BLR-LTU-LVA", 26.0 + 37 / 60 + 48 / 3600, 55.0 + 40 / 60 + 50 / 3600, "treaty"),
    ("tripoint LTU-POL-RUS", 22.792032, 54.363416, "it.wikipedia"),
    ("lake Druksiai", 26.60583, 55.62139, "en.wikipedia"),
    ("lake Vistytis", 22.0 + 44 / 60, 54.0 + 26 / 60, "en.wikipedia"),
    ("lake Peipus", 27.0 + 29 / 60, 58.0 + 41 / 60, "en.wikipedia"),
    (
        "Neman, Queen Louise Bridge",
        21.0 + 54 / 60 + 20 / 3600,
        55.0 + 5 / 60 + 1 / 3600,
        "en.wikipedia",
    ),
    ("Narva castle", 28.2019, 59.3766, "issue 11"),
    ("Ivangorod fortress", 28.2115, 59.3765, "issue 11"),
]


# --- the reference ------------------------------------------------------------------------


def _lines() -> list[tuple[str, str, str, np.ndarray]]:
    """Every line of the extract as (left, right, kind, lon/lat vertices), read with pyarrow."""
    table = pq.read_table(EXTRACT)
    scale = float(json.loads(table.schema.metadata[b"flankmap"])["scale_deg"])
    cols = table.to_pydict()
    return [
        (left, right, kind, np.column_stack([np.asarray(x), np.asarray(y)]) * scale)
        for left, right, kind, x, y in zip(
            cols["left"], cols["right"], cols["kind"], cols["x"], cols["y"], strict=True
        )
    ]


@pytest.fixture(scope="module")
def extract_lines():
    return _lines()


def _frontier_segments(lines, side_a, side_b) -> tuple[np.ndarray, np.ndarray]:
    """Segments (lon0, lat0, lon1, lat1) of the land frontier and the pair of each."""
    rows, pairs = [], []
    for left, right, kind, xy in lines:
        if kind not in ("land", "water"):
            continue
        if (left in side_a and right in side_b) or (left in side_b and right in side_a):
            rows.append(np.hstack([xy[:-1], xy[1:]]))
            pairs += ["-".join(sorted((left, right)))] * (len(xy) - 1)
    return np.vstack(rows), np.asarray(pairs)


def _ecef(lon, lat) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    n = _A / np.sqrt(1 - _E2 * np.sin(phi) ** 2)
    return np.stack(
        [n * np.cos(phi) * np.cos(lam), n * np.cos(phi) * np.sin(lam), n * (1 - _E2) * np.sin(phi)],
        axis=-1,
    )


class Reference:
    """Brute-force geodesic distance from points to a set of geodesic segments."""

    def __init__(self, segments: np.ndarray, pairs: np.ndarray) -> None:
        self.seg, self.pairs = segments, pairs
        self.q0 = _ecef(segments[:, 0], segments[:, 1])
        self.q1 = _ecef(segments[:, 2], segments[:, 3])
        chord = np.linalg.norm(self.q1 - self.q0, axis=1)
        self.sag = 2 * chord**2 / (8 * _R_MIN) + 1e-6
        self.az, _, self.length = GEOD.inv(*segments.T)

    def _candidates(self, lon: float, lat: float) -> np.ndarray:
        p = _ecef(lon, lat)
        d = self.q1 - self.q0
        t = np.clip(np.einsum("ij,ij->i", p - self.q0, d) / np.einsum("ij,ij->i", d, d), 0, 1)
        lower = np.linalg.norm(self.q0 + t[:, None] * d - p, axis=1) - self.sag
        near = np.argsort(lower)[:8]
        ones = np.ones(len(near))
        upper = min(
            GEOD.inv(lon * ones, lat * ones, self.seg[near, 0], self.seg[near, 1])[2].min(),
            GEOD.inv(lon * ones, lat * ones, self.seg[near, 2], self.seg[near, 3])[2].min(),
        )
        return np.flatnonzero(lower <= upper + 1e-3)

    def _along(self, which: np.ndarray, s: np.ndarray, lon: np.ndarray, lat: np.ndarray):
        x, y, _ = GEOD.fwd(self.seg[which, 0], self.seg[which, 1], self.az[which], s)
        return GEOD.inv(lon, lat, x, y)[2]

    def measure(self, lon, lat) -> tuple[np.ndarray, list[dict[str, float]]]:
        """Distance of each point (m) and, per point, the least distance to each near pair."""
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        found = [self._candidates(x, y) for x, y in zip(lon, lat, strict=True)]
        owner = np.repeat(np.arange(len(lon)), [len(f) for f in found])
        which = np.concatenate(found)
        plon, plat, length = lon[owner], lat[owner], self.length[which]
        steps = 16
        grid = np.linspace(0, 1, steps + 1)
        samples = np.stack(
            [self._along(which, f * length, plon, plat) for f in grid], axis=1
        )  # (candidates, steps + 1)
        k = samples.argmin(axis=1)
        lo = np.maximum(k - 1, 0) / steps * length
        hi = np.minimum(k + 1, steps) / steps * length
        ratio = (math.sqrt(5) - 1) / 2
        c, d = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        fc, fd = self._along(which, c, plon, plat), self._along(which, d, plon, plat)
        for _ in range(60):
            left = fc < fd  # the minimum lies in [lo, d]: d becomes hi, c the new d
            hi, lo = np.where(left, d, hi), np.where(left, lo, c)
            probe = np.where(left, hi - ratio * (hi - lo), lo + ratio * (hi - lo))
            fp = self._along(which, probe, plon, plat)
            c, d = np.where(left, probe, d), np.where(left, c, probe)
            fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
        best = np.minimum(samples.min(axis=1), np.minimum(fc, fd))
        result = np.full(len(lon), np.inf)
        np.minimum.at(result, owner, best)
        per_pair: list[dict[str, float]] = [{} for _ in lon]
        for i, pair, value in zip(owner, self.pairs[which], best, strict=True):
            per_pair[i][pair] = min(per_pair[i].get(pair, np.inf), value)
        return result, per_pair


# --- the points ---------------------------------------------------------------------------


def _shared_vertex(lines, pairs: set[str]) -> tuple[float, float]:
    """The one vertex that the lines of all the given pairs (land or water) have in common."""
    ends: dict[str, set[tuple[float, float]]] = {p: set() for p in pairs}
    for left, right, kind, xy in lines:
        pair = "-".join(sorted((left, right)))
        if pair in pairs and kind in ("land", "water"):
            ends[pair] |= {tuple(xy[0]), tuple(xy[-1])}
    (vertex,) = set.intersection(*ends.values())
    return float(vertex[0]), float(vertex[1])


def _around(lon: float, lat: float, radii=(50.0, 500.0, 2000.0), count: int = 8):
    """Rings of points around a place."""
    az = np.tile(np.arange(count) * 360 / count + 7.5, len(radii))
    dist = np.repeat(radii, count)
    x, y, _ = GEOD.fwd(np.full(len(az), lon), np.full(len(az), lat), az, dist)
    return list(zip(x, y, strict=True))


def _beside(segments, pairs, pair, lon, lat, radius_m, offsets=(30.0, 300.0)):
    """Vertices of a pair near a place, and points at the offsets either side of the line."""
    rows = segments[pairs == pair]
    ones = np.ones(len(rows))
    near = rows[GEOD.inv(lon * ones, lat * ones, rows[:, 0], rows[:, 1])[2] <= radius_m]
    near = near[:: max(1, len(near) // 40)]  # at most about 40 vertices, spread along
    az = GEOD.inv(*near.T)[0]
    out = [tuple(v) for v in near[:, :2]]
    for offset in offsets:
        for turn in (-90.0, 90.0):
            x, y, _ = GEOD.fwd(near[:, 0], near[:, 1], az + turn, np.full(len(near), offset))
            out += list(zip(x, y, strict=True))
    return out


def _sample(segments, pairs, rng, near=60, far=60, on=20):
    """Random points 0-5 km and 50-500 km from random vertices, and on random segments."""
    points = []
    for count, lo, hi, kind in ((near, 0.0, 5_000.0, "near"), (far, 50_000.0, 500_000.0, "far")):
        pick = rng.integers(0, len(segments), count)
        x, y, _ = GEOD.fwd(
            segments[pick, 0],
            segments[pick, 1],
            rng.uniform(0, 360, count),
            rng.uniform(lo, hi, count),
        )
        points += [(kind, a, b) for a, b in zip(x, y, strict=True)]
    pick = rng.integers(0, len(segments), on)
    az, _, length = GEOD.inv(*segments[pick].T)
    x, y, _ = GEOD.fwd(segments[pick, 0], segments[pick, 1], az, length / 2)
    points += [("on a segment", a, b) for a, b in zip(x, y, strict=True)]
    return points


def _points(lines, segments, pairs, frontier: str):
    """(kind, lon, lat) for a frontier: random, named, rivers, lakes, tripoints."""
    rng = np.random.default_rng(11)
    points = _sample(segments, pairs, rng)
    named = {name: (lon, lat) for name, lon, lat, _ in NAMED}
    if frontier == FRONTIER:
        byplua = _shared_vertex(lines, {"BLR-POL", "BLR-UKR", "POL-UKR"})
        ltplby = _shared_vertex(lines, {"BLR-POL", "BLR-LTU", "LTU-POL"})
        places = {
            "tripoint BLR-LTU-LVA": named["tripoint BLR-LTU-LVA"],
            "tripoint BLR-LTU-POL (extract)": ltplby,
            "end BLR-POL-UKR (extract)": byplua,
            "lake Druksiai": named["lake Druksiai"],
        }
        points += [("river Bug", *p) for p in _beside(segments, pairs, "BLR-POL", *byplua, 25_000)]
        points += [
            ("lake Druksiai", *p)
            for p in _beside(segments, pairs, "BLR-LTU", *places["lake Druksiai"], 5_000)
        ]
    else:
        places = {
            name: named[name]
            for name in (
                "tripoint LTU-POL-RUS",
                "lake Vistytis",
                "lake Peipus",
                "Neman, Queen Louise Bridge",
                "Narva castle",
                "Ivangorod fortress",
            )
        }
        bridge = places["Neman, Queen Louise Bridge"]
        points += [
            ("river Neman", *p) for p in _beside(segments, pairs, "LTU-RUS", *bridge, 10_000)
        ]
        points += [
            ("lake Vistytis", *p)
            for p in _beside(segments, pairs, "LTU-RUS", *places["lake Vistytis"], 3_000)
        ]
    for name, (lon, lat) in places.items():
        points.append((name, lon, lat))
        points += [(f"around {name}", *p) for p in _around(lon, lat)]
    return points


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[FRONTIER, DEFAULT])
def case(request, extract_lines):
    """(frontier, points, reference distances, reference per-pair distances)."""
    frontier = request.param
    side_a, side_b = frontier.split(":")
    group_b = set(NATO_2025) if side_b == "NATO" else set(side_b.split(","))
    segments, pairs = _frontier_segments(extract_lines, set(side_a.split(",")), group_b)
    points = _points(extract_lines, segments, pairs, frontier)
    lon = np.array([p[1] for p in points])
    lat = np.array([p[2] for p in points])
    reference, per_pair = Reference(segments, pairs).measure(lon, lat)
    return frontier, points, lon, lat, reference, per_pair


def _errors(case):
    frontier, _, lon, lat, reference, _ = case
    result = distance.to_frontier(lon, lat, frontier, as_of=AS_OF)
    return result, np.abs(result["distance_m"].to_numpy() - reference)


def test_the_points_cover_every_kind_of_place(case):
    frontier, points, *_ = case
    kinds = {kind.split(" (")[0] for kind, _, _ in points}
    common = {"near", "far", "on a segment"}
    if frontier == FRONTIER:
        wanted = common | {
            "river Bug",
            "lake Druksiai",
            "tripoint BLR-LTU-LVA",
            "tripoint BLR-LTU-POL",
        }
    else:
        wanted = common | {"river Neman", "lake Vistytis", "lake Peipus", "tripoint LTU-POL-RUS"}
    assert wanted <= kinds
    assert len(points) > 300


def test_distances_agree_with_the_brute_force_reference(case):
    """The issue asks for tens of metres at p99; the method is exact to well under a millimetre."""
    _, points, _, _, reference, _ = case
    result, error = _errors(case)
    assert np.quantile(error, 0.99) < 1e-3, np.quantile(error, 0.99)
    assert error.max() < 1e-2, points[int(error.argmax())]
    # The sample spans the frontier itself to hundreds of kilometres from it.
    assert reference.min() < 1e-6
    assert reference.max() > 300_000
    on = np.array([kind == "on a segment" for kind, _, _ in points])
    assert (result["distance_m"].to_numpy()[on] < 1e-3).all()


def test_the_border_named_is_the_nearest_pair(case):
    _, _, _, _, reference, per_pair = case
    result, _ = _errors(case)
    for border, best, pairs in zip(result["border"], reference, per_pair, strict=True):
        assert pairs[border] - best < 1e-3  # at a tripoint either pair may be named


def test_the_nearest_point_is_on_the_frontier_at_the_distance(case, extract_lines):
    frontier, _, lon, lat, _, _ = case
    result, _ = _errors(case)
    near_lon, near_lat = result["nearest_lon"].to_numpy(), result["nearest_lat"].to_numpy()
    gap = GEOD.inv(lon, lat, near_lon, near_lat)[2]
    np.testing.assert_allclose(gap, result["distance_m"], rtol=0, atol=1e-3)
    side_a, side_b = frontier.split(":")
    group_b = set(NATO_2025) if side_b == "NATO" else set(side_b.split(","))
    segments, pairs = _frontier_segments(extract_lines, set(side_a.split(",")), group_b)
    every = slice(None, None, 7)  # a seventh of them keeps the test quick
    on_line, _ = Reference(segments, pairs).measure(near_lon[every], near_lat[every])
    assert on_line.max() < 1e-3


@pytest.mark.parametrize(
    ("name", "pairs", "within_m"),
    [
        # The published coordinates have 1″ (about 31 m) or 1e-6° precision.
        ("tripoint BLR-LTU-LVA", ("BLR-LTU", "BLR-LVA"), 50.0),
        ("tripoint LTU-POL-RUS", ("LTU-RUS", "POL-RUS"), 50.0),
        # The middle of a 416 m bridge across the river the border follows.
        ("Neman, Queen Louise Bridge", ("LTU-RUS",), 208.0),
    ],
)
def test_published_places_lie_on_the_extract_frontier(extract_lines, name, pairs, within_m):
    """The looked-up points are where the extract's lines are: the test points are what they say."""
    segments, labels = _frontier_segments(extract_lines, {"BLR", "RUS"}, set(NATO_2025))
    lon, lat = next((x, y) for n, x, y, _ in NAMED if n == name)
    _, per_pair = Reference(segments, labels).measure([lon], [lat])
    for pair in pairs:
        assert per_pair[0][pair] < within_m, (pair, per_pair[0])


def _run_cli(tmp_path, frontier, points, rng, *extra):
    path = tmp_path / "points.csv"
    unc = rng.choice([0.0, 25.0, 500.0], len(points))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "kind", "lat", "lon", "coord_uncertainty_m"])
        for i, ((kind, x, y), u) in enumerate(zip(points, unc, strict=True)):
            writer.writerow([f"p{i}", kind, repr(float(y)), repr(float(x)), u])
    out = tmp_path / "out.csv"
    code = main(
        ["distances", "--points", str(path), "--frontier", frontier, "-o", str(out), *extra]
    )
    assert code == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return rows, unc


def test_the_command_line_agrees_with_the_reference(case, tmp_path, capsys):
    """``flankmap distances --points P.csv --frontier ...`` end to end, column by column."""
    frontier, points, _, _, reference, per_pair = case
    rng = np.random.default_rng(5)
    rows, unc = _run_cli(tmp_path, frontier, points, rng, "--as-of", AS_OF)
    assert "© OpenStreetMap contributors" in capsys.readouterr().err
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(len(points))]
    got = np.array([float(r["distance_m"]) for r in rows])
    error = np.abs(got - reference)
    assert np.quantile(error, 0.99) < 1e-3
    assert error.max() < 1e-2
    for row, best, pairs in zip(rows, reference, per_pair, strict=True):
        assert pairs[row["border"]] - best < 1e-3
    # The range adds the coordinate's uncertainty and the OSM extract's 10 m.
    low = np.array([float(r["distance_min_m"]) for r in rows])
    high = np.array([float(r["distance_max_m"]) for r in rows])
    np.testing.assert_allclose(high, got + unc + 10.0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(low, np.maximum(0.0, got - unc - 10.0), rtol=0, atol=1e-6)
    located = {r["kind"]: r["located_in"] for r in rows}
    if frontier == DEFAULT:
        assert located["Narva castle"] == "EST"
        assert located["Ivangorod fortress"] == "RUS"
        assert located["lake Peipus"] in {"EST", "RUS"}  # a lake is part of the territory
    else:
        assert located["lake Druksiai"] in {"BLR", "LTU"}


def test_the_map_puts_narva_castle_in_estonia_and_ivangorod_fortress_in_russia(
    tmp_path, monkeypatch, extract_lines
):
    """The map's popups say the side each fortress is measured on (located_in), per bank."""
    from geo import maps
    from tests.test_maps import MAP_LAYERS, payload, popup_rows, sites

    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
    path = tmp_path / "narva.csv"
    path.write_text(
        "name,lat,lon\nNarva castle,59.3766,28.2019\nIvangorod fortress,59.3765,28.2115\n",
        encoding="utf-8",
    )
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[path])))
    user = sites(data)["narva"]
    names = user["p"]["names"]
    castle = popup_rows(user, names.index("Narva castle"))
    fortress = popup_rows(user, names.index("Ivangorod fortress"))
    assert castle["Side"] == "NATO (in Estonia (EST))"
    assert fortress["Side"] == "Russia & Belarus (in Russia (RUS))"
    # Its distance is the reference's, to the Estonian-Russian line (RUS,BLR against NATO).
    segments, labels = _frontier_segments(extract_lines, {"BLR", "RUS"}, set(NATO_2025))
    (expected,), _ = Reference(segments, labels).measure([28.2019], [59.3766])
    assert castle["To the frontier"].startswith(maps.format_km(expected))
