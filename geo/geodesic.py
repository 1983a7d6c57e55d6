"""The geodesic engine: exact distances on WGS84 from points to labelled lines; range rings.

Every distance here is a geodesic on the WGS84 ellipsoid (GeographicLib through
:class:`pyproj.Geod`); border lines are Natural Earth 1:10m vertices joined by geodesics. Nothing
is measured in a projection.

How a distance is found
    The border lines are cut into pieces of at most 2 km and every piece end becomes a *sample*
    (one per place, however many lines meet there), held in 3-D Earth-centred coordinates
    (ECEF) in a k-d tree.

    1. *Candidates.* The straight 3-D chord between two points of the ellipsoid is never longer
       than the geodesic between them, and a geodesic of length ``L`` whose chord is ``c``
       satisfies ``G(R_max, c) <= L <= G(R_min, c)`` with ``G(R, c) = 2 R asin(c / 2R)``,
       ``R_min = a(1 - e²)`` and ``R_max = a / sqrt(1 - e²)`` the extreme radii of curvature
       (the upper bound is Schur's comparison theorem; the lower one holds to rounding on two
       million random pairs and is widened by a margin). The nearest sample gives an upper bound
       of the answer; the k nearest samples are fetched until every piece that could beat it
       has been seen (a piece whose ends are both ``d`` away is at least
       ``sqrt(d² - piece²/4)`` away). The few points where ``k`` samples do not settle it lie
       near dense lines, where the reach of the longest piece holds dozens of samples: there
       the samples of short pieces and of the others are searched in two trees of their own,
       each to its own pieces' reach, ``k`` growing fourfold until it is certain.
    2. *Contenders.* On each candidate piece the chord distance is computed exactly; a piece is
       kept when it is a local minimum of the distance along its line and its lower bound does
       not exceed the best upper bound. Far from the border this keeps one piece per valley of
       the distance function rather than the hundreds of pieces a plain bound would keep.
    3. *Exact step.* For each contender the foot is refined on the whole border segment (the
       geodesic between two Natural Earth vertices) by Newton steps: ``Geod.fwd`` to the foot,
       ``Geod.inv`` to the point, and an along-track correction from the angle between the
       segment and the direction to the point, clamped to the segment, until the step is under
       half a metre (the distance is then exact to well under a millimetre).

Everything is vectorised over points. Large inputs are processed in chunks to bound memory, the
chunks measured side by side on as many threads as the process may use cores (numpy, the k-d
tree and pyproj release the GIL); a small input, one chunk, spreads its k-d tree query and
geodesic calls over the threads instead. A point's result depends neither on the chunks nor on
the threads.

This module knows nothing of countries or files: :mod:`geo.distance` builds the border lines
and measures frames, :mod:`geo.sites` analyses sites.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geo._errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    from scipy.spatial import cKDTree

__all__ = [
    "GEOD",
    "RESULT_COLUMNS",
    "LineSet",
    "line_set",
    "lonlat_points",
    "nearest",
    "range_ring",
    "wgs84_geometries",
]

GEOD = Geod(ellps="WGS84")
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
#: Smallest and largest radius of curvature of the WGS84 ellipsoid, in metres.
_R_MIN = _A * (1 - _E2)
_R_MAX = _A / math.sqrt(1 - _E2)
#: Radius used for the lower bound of a geodesic from its chord (R_max widened for safety).
_R_LOWER = _R_MAX * (1 + 1e-4)
_R_MEAN = 6371008.8
_PIECE_M = 2000.0
_STEP_TOL_M = 0.5
_MAX_NEWTON = 12
#: Pieces of at most this chord (metres) count as short: near dense lines their samples are
#: searched apart, to a reach of half of it rather than half the longest piece.
_SHORT_M = 400.0
_CHUNK = 100_000
#: Fewest points a thread measures on its own: below twice this, one chunk at a time.
_MIN_PER_THREAD = 10_000
#: Samples fetched per point in the first k-d tree round. The samples within reach of the
#: nearest one number 1-4 for most points, so 2 sent many points into a second, larger query;
#: 4 settles nearly all of them in one (3, 4 and 6 measured alike, 2 up to a fifth slower:
#: benchmarks/bench_kernel_tree.py).
_K_FIRST = 4


def _usable_cores() -> int:
    """Return the number of cores this process may run on (its affinity mask if any)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity masks (macOS, Windows)
        return os.cpu_count() or 1


#: Threads for the vectorised geodesic calls: one per core the process may use.
_THREADS = max(1, _usable_cores())

#: The columns of :func:`nearest`, in order.
RESULT_COLUMNS = ["distance_m", "nearest_lat", "nearest_lon", "border", "bearing_deg"]


def ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return Earth-centred coordinates of points on the WGS84 ellipsoid (height 0).

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Degrees.

    Returns
    -------
    xyz : numpy.ndarray
        Shape ``(n, 3)``, metres.

    Examples
    --------
    >>> ecef(np.array([0.0]), np.array([0.0])).round(1).tolist()
    [[6378137.0, 0.0, 0.0]]
    """
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = _A / np.sqrt(1 - _E2 * sin_phi * sin_phi)
    return np.stack(
        [n * cos_phi * np.cos(lam), n * cos_phi * np.sin(lam), n * (1 - _E2) * sin_phi], axis=-1
    )


def _arc(radius: float, chord: np.ndarray) -> np.ndarray:
    """Arc length on a circle of ``radius`` for a chord: ``G(R, c)``."""
    return 2 * radius * np.arcsin(np.clip(chord / (2 * radius), 0.0, 1.0))


def _chord(radius: float, arc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_arc`."""
    return 2 * radius * np.sin(np.clip(arc / (2 * radius), 0.0, np.pi / 2))


def _threaded(
    func: Callable[..., tuple[np.ndarray, ...]],
    n: int,
    *arrays: np.ndarray,
    threads: int | None = None,
) -> tuple[np.ndarray, ...]:
    """Run a vectorised pyproj call on ``threads`` parts of the inputs, one per thread.

    ``threads`` defaults to :data:`_THREADS`; each element's result does not depend on it.
    """
    threads = _THREADS if threads is None else threads
    if n < 20_000 or threads < 2:
        return tuple(np.asarray(r) for r in func(*arrays))
    bounds = np.linspace(0, n, min(threads, n // 10_000) + 1).astype(np.int64)
    parts = [tuple(a[lo:hi] for a in arrays) for lo, hi in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(len(parts)) as pool:
        results = list(pool.map(lambda args: func(*args), parts))
    return tuple(np.concatenate(column) for column in zip(*results, strict=True))


def _fwd(
    lon: np.ndarray,
    lat: np.ndarray,
    az: np.ndarray,
    dist: np.ndarray,
    *,
    threads: int | None = None,
) -> tuple[np.ndarray, ...]:
    return _threaded(GEOD.fwd, len(lon), lon, lat, az, dist, threads=threads)


def _inv(
    lon1: np.ndarray,
    lat1: np.ndarray,
    lon2: np.ndarray,
    lat2: np.ndarray,
    *,
    threads: int | None = None,
) -> tuple[np.ndarray, ...]:
    return _threaded(GEOD.inv, len(lon1), lon1, lat1, lon2, lat2, threads=threads)


def _inv_once(
    lon1: np.ndarray,
    lat1: np.ndarray,
    lon2: np.ndarray,
    lat2: np.ndarray,
    *,
    threads: int,
) -> tuple[np.ndarray, ...]:
    """:func:`_inv`, computed once for a run of equal consecutive inputs.

    A vertex shared by two lines (a coast and a land border, a label change) is a contender of
    each: the same point and foot, one after the other. Equal inputs give equal outputs, so the
    runs are measured once and copied; nothing else changes.
    """
    n = len(lon1)
    same = np.zeros(n, bool)
    if n > 1:
        same[1:] = (
            (lon2[1:] == lon2[:-1])
            & (lat2[1:] == lat2[:-1])
            & (lon1[1:] == lon1[:-1])
            & (lat1[1:] == lat1[:-1])
        )
    n_same = int(np.count_nonzero(same))
    if n_same < n // 16:  # too few repeats to pay for the copying
        return _inv(lon1, lat1, lon2, lat2, threads=threads)
    first = np.flatnonzero(~same)
    run = np.cumsum(~same) - 1
    results = _inv(lon1[first], lat1[first], lon2[first], lat2[first], threads=threads)
    return tuple(r[run] for r in results)


@dataclass(frozen=True)
class LineSet:
    """Border lines prepared for distance queries (see the module docstring).

    Build one with :func:`line_set`; the arrays are internal.
    """

    labels: np.ndarray  # label text per label code
    label_rank: np.ndarray  # alphabetical rank of each label code
    seg_lon: np.ndarray  # segment start
    seg_lat: np.ndarray
    seg_az: np.ndarray  # forward azimuth at the start
    seg_lon1: np.ndarray  # segment end
    seg_lat1: np.ndarray
    seg_back1: np.ndarray  # azimuth at the end pointing back to the start
    seg_len: np.ndarray  # geodesic length, metres
    seg_label: np.ndarray  # label code
    piece_seg: np.ndarray
    piece_s0: np.ndarray  # where the piece starts along its segment, metres
    piece_len: np.ndarray
    #: (7, n): end a, the chord v from end a to end b, and v·v of each piece, by rows (one
    #: gather per candidate, contiguous rows after it).
    piece_geo: np.ndarray
    #: (n, 6): ECEF of end a of each piece, then the chord from it to a vertex beyond it on
    #: the line (NaN if none); end_b the same for end b.
    end_a: np.ndarray
    end_b: np.ndarray
    next_in_line: np.ndarray  # bool: the next piece continues this line from end b
    sample_start: np.ndarray  # (m + 1,): sample i touches sample_pieces[start[i]:start[i + 1]]
    sample_pieces: np.ndarray
    sample_reach2: np.ndarray  # (m,): the largest (chord / 2)² of the pieces touching a sample
    #: The samples again in two trees, those of short pieces and the others: (tree, sample ids,
    #: the largest sample_reach2 of the tree) each; rows near dense lines search these.
    sample_classes: tuple[tuple[cKDTree, np.ndarray, float], ...]
    tree: cKDTree
    chord_max: float  # longest piece chord, metres
    sag_max: float  # how far a piece's geodesic can leave its chord, metres

    @property
    def n_samples(self) -> int:
        """Number of samples in the k-d tree."""
        return int(self.tree.n)


def _tree(xyz: np.ndarray) -> cKDTree:
    """Return the k-d tree of samples (see :attr:`LineSet.tree`)."""
    from scipy.spatial import cKDTree  # here, not at import: a figure builds no tree

    return cKDTree(xyz, leafsize=32, balanced_tree=False, compact_nodes=False)


def _piece_geo(piece_a: np.ndarray, piece_b: np.ndarray) -> np.ndarray:
    """Return :attr:`LineSet.piece_geo` for pieces from ``piece_a`` to ``piece_b``."""
    v = piece_b - piece_a
    return np.vstack([piece_a.T, v.T, np.einsum("ij,ij->i", v, v)])


_NO_LINE = "no border line to measure to (the groups share no border?)"


def _edges(
    lines: Iterable[tuple[np.ndarray, Sequence[str] | str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the edges of the lines that join two distinct vertices, all lines at once.

    Returns ``(edges, label, line, closed, labels)``: each edge's lon0, lat0, lon1, lat1, its
    label code (into ``labels``, the texts in order of first appearance) and its line (among
    the lines with an edge kept), and whether each such line is a closed ring.

    Raises
    ------
    InputError
        If no line has two distinct vertices.
    """
    items = [(np.asarray(coords, dtype=float)[:, :2], labels) for coords, labels in lines]
    sizes = np.array([len(xy) for xy, _ in items], dtype=np.int64)
    if not (sizes > 1).any():
        raise InputError(_NO_LINE)
    xy = np.concatenate([xy for xy, _ in items])
    start = np.cumsum(sizes) - sizes
    n_edges = np.maximum(sizes - 1, 0)
    inner = np.ones(len(xy), dtype=bool)  # a vertex followed by one of its own line
    inner[(start + sizes - 1)[sizes > 0]] = False
    at = np.flatnonzero(inner)
    edge_line = np.repeat(np.arange(len(items)), n_edges)
    keep = np.any(xy[at + 1] != xy[at], axis=1)
    if not keep.any():
        raise InputError(_NO_LINE)
    shown = np.bincount(edge_line[keep], minlength=len(items)) > 0  # lines with an edge kept
    # Label codes in order of first appearance over every edge of the lines shown.
    texts: list[object] = []
    for (line_xy, labels), taken in zip(items, shown, strict=True):
        if taken:
            texts.extend([labels] * (len(line_xy) - 1) if isinstance(labels, str) else labels)
    codes, uniques = pd.factorize(np.array(texts, dtype=object), use_na_sentinel=False)
    label = np.full(len(at), -1, dtype=np.int64)
    label[np.repeat(shown, n_edges)] = codes
    rank = np.cumsum(shown) - 1
    first, last = xy[start[shown]], xy[(start + sizes - 1)[shown]]
    closed = np.all(first == last, axis=1) & (sizes[shown] > 3)
    edges = np.hstack([xy[at], xy[at + 1]])[keep]
    labels_out = np.empty(len(uniques), dtype=object)
    labels_out[:] = list(uniques)
    return edges, label[keep].astype(np.int32), rank[edge_line[keep]], closed, labels_out


def _places(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the first row of each distinct place (sorted) and each row's place number.

    Places are numbered in order of their first row; rows are equal when their coordinates
    are (as ``numpy.unique(xyz, axis=0)`` finds them, by one stable sort of the three).
    """
    order = np.lexsort((xyz[:, 2], xyz[:, 1], xyz[:, 0]))
    ordered = xyz[order]
    new = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]
    first = order[new]  # the stable sort puts each place's first row first
    place = np.empty(len(first), np.int64)
    place[np.argsort(first)] = np.arange(len(first))
    place_of = np.empty(len(xyz), np.int64)
    place_of[order] = place[np.cumsum(new) - 1]
    return np.sort(first), place_of


def line_set(lines: Iterable[tuple[np.ndarray, Sequence[str] | str]]) -> LineSet:
    """Prepare labelled border lines for :func:`nearest`.

    Parameters
    ----------
    lines : iterable of (coords, labels)
        ``coords`` an ``(k, 2)`` array of lon/lat vertices (a closed ring repeats its first
        vertex at the end); ``labels`` one label per edge, or one label for the whole line.

    Returns
    -------
    lines : LineSet
        The prepared lines.

    Raises
    ------
    InputError
        If there is no line with two distinct vertices.

    Examples
    --------
    >>> ls = line_set([(np.array([[0.0, 0.0], [0.0, 1.0]]), "A-B")])
    >>> int(ls.seg_len.round()[0])
    110574
    """
    from scipy.spatial import cKDTree  # (here: a figure, which measures no distance, skips it)

    edges, seg_label, line_index, closed_line, labels = _edges(lines)
    closed = closed_line[line_index]
    lon0, lat0, lon1, lat1 = edges.T
    az, back1, seg_len = (np.asarray(v) for v in GEOD.inv(lon0, lat0, lon1, lat1))

    # Cut every segment into pieces of at most _PIECE_M metres of geodesic.
    n_pieces = np.maximum(1, np.ceil(seg_len / _PIECE_M).astype(np.int64))
    piece_seg = np.repeat(np.arange(len(edges)), n_pieces)
    first_piece = np.concatenate([[0], np.cumsum(n_pieces)[:-1]])
    k = np.arange(len(piece_seg)) - first_piece[piece_seg]
    piece_len = seg_len[piece_seg] / n_pieces[piece_seg]
    piece_s0 = k * piece_len
    lon_a, lat_a, _ = (
        np.asarray(v) for v in GEOD.fwd(lon0[piece_seg], lat0[piece_seg], az[piece_seg], piece_s0)
    )
    last = k == n_pieces[piece_seg] - 1
    # The end of each piece is the start of the next one, except at a segment's end vertex.
    lon_b = np.where(last, lon1[piece_seg], np.roll(lon_a, -1))
    lat_b = np.where(last, lat1[piece_seg], np.roll(lat_a, -1))
    lon_a = np.where(k == 0, lon0[piece_seg], lon_a)
    lat_a = np.where(k == 0, lat0[piece_seg], lat_a)
    piece_a, piece_b = ecef(lon_a, lat_a), ecef(lon_b, lat_b)

    # Neighbours along each line: pieces are consecutive within a line.
    piece_line = line_index[piece_seg]
    n = len(piece_seg)
    same_next = np.zeros(n, bool)
    same_next[:-1] = piece_line[1:] == piece_line[:-1]
    same_prev = np.zeros(n, bool)
    same_prev[1:] = same_next[:-1]
    nbr_a = np.full((n, 3), np.nan)
    nbr_b = np.full((n, 3), np.nan)
    nbr_a[same_prev] = piece_a[np.flatnonzero(same_prev) - 1]
    nbr_b[same_next] = piece_b[np.flatnonzero(same_next) + 1]
    next_in_line = same_next.copy()
    starts, ends = np.flatnonzero(~same_prev), np.flatnonzero(~same_next)
    ring = closed[piece_seg[starts]]
    nbr_a[starts[ring]] = piece_a[ends[ring]]
    nbr_b[ends[ring]] = piece_b[starts[ring]]
    next_in_line[ends[ring]] = True
    # Open line ends: link to any other line end at the same place (tripoints, label changes).
    open_starts, open_ends = starts[~ring], ends[~ring]
    end_xyz = np.vstack([piece_a[open_starts], piece_b[open_ends]])
    beyond = np.vstack([piece_b[open_starts], piece_a[open_ends]])
    if len(end_xyz) > 1:
        pairs = cKDTree(end_xyz).query_pairs(0.01, output_type="ndarray")
        m = len(open_starts)
        for i, j in pairs:  # a handful of line ends, not one per point
            for here, there in ((i, j), (j, i)):
                target = nbr_a if here < m else nbr_b
                piece = open_starts[here] if here < m else open_ends[here - m]
                target[piece] = beyond[there]

    # Samples: every piece start, plus the end of each open line.
    prev_piece = np.where(same_prev, np.arange(n) - 1, -1)
    prev_piece[starts[ring]] = ends[ring]
    sample_xyz = np.vstack([piece_a, piece_b[open_ends]])
    sample_piece = np.vstack(
        [
            np.column_stack([np.arange(n), prev_piece]),
            np.column_stack([open_ends, -np.ones_like(open_ends)]),
        ]
    )
    # One sample per place: a vertex of two lines (a coast and a land border, a label change)
    # would fill the first k-d tree round with copies and send its rows to a second one.
    first, place_of = _places(sample_xyz)
    sample_place = np.repeat(place_of, 2)
    touching = sample_piece.ravel() >= 0
    by_place = np.argsort(sample_place[touching], kind="stable")
    sample_pieces = sample_piece.ravel()[touching][by_place]
    sample_start = np.r_[0, np.cumsum(np.bincount(sample_place[touching], minlength=len(first)))]
    sample_xyz = sample_xyz[first]
    chord = np.linalg.norm(piece_b - piece_a, axis=1)
    sample_reach2 = np.maximum.reduceat(
        np.einsum("ij,ij->i", piece_b - piece_a, piece_b - piece_a)[sample_pieces] / 4,
        sample_start[:-1],
    )
    return LineSet(
        labels=labels,
        label_rank=np.argsort(np.argsort(labels.astype(str))),
        seg_lon=lon0,
        seg_lat=lat0,
        seg_az=az,
        seg_lon1=lon1,
        seg_lat1=lat1,
        seg_back1=back1,
        seg_len=seg_len,
        seg_label=seg_label,
        piece_seg=piece_seg,
        piece_s0=piece_s0,
        piece_len=piece_len,
        piece_geo=_piece_geo(piece_a, piece_b),
        end_a=np.hstack([piece_a, nbr_a - piece_a]),
        end_b=np.hstack([piece_b, nbr_b - piece_b]),
        next_in_line=next_in_line,
        sample_start=sample_start,
        sample_pieces=sample_pieces,
        sample_reach2=sample_reach2,
        sample_classes=tuple(
            (_tree(sample_xyz[ids]), ids, float(sample_reach2[ids].max()))
            for ids in (
                np.flatnonzero(sample_reach2 <= (_SHORT_M / 2) ** 2),
                np.flatnonzero(sample_reach2 > (_SHORT_M / 2) ** 2),
            )
            if len(ids)
        ),
        # Nodes not shrunk to their data (compact_nodes=False) and leaves of 32: most queries
        # come from far off the border (hundreds of km), and there its queries took a tenth
        # of the time of the compact tree's, the whole kernel 2-6.5x less CPU on the OSM
        # borders (benchmarks/bench_kernel_tree.py, RESULTS-distances.md). The tree finds the same
        # nearest samples whatever its shape: these settings change no result.
        tree=_tree(sample_xyz),
        chord_max=float(chord.max()),
        sag_max=float(piece_len.max() ** 2 / (8 * _R_MIN) * 1.01 + 1e-3),
    )


def _candidate_pairs(
    lines: LineSet, xyz: np.ndarray, *, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, sample) pairs that may hold the nearest piece, and each row's upper bound."""
    k = min(_K_FIRST, lines.n_samples)
    dist, idx = lines.tree.query(xyz, k=k, workers=workers if len(xyz) > 512 else 1)
    if k == 1:
        dist, idx = dist[:, None], idx[:, None]
    # The nearest sample lies on the border: the answer is at most its arc.
    upper = _arc(_R_MIN, dist[:, 0])
    c_up = _chord(_R_LOWER, upper + 0.01 + 1e-9 * upper) + lines.sag_max
    threshold = np.sqrt(c_up * c_up + lines.chord_max**2 / 4)
    hit = dist <= threshold[:, None]
    # Rows whose k-th sample is still within reach need more samples (a NaN row has none).
    pending = np.flatnonzero(hit[:, -1]) if k < lines.n_samples else np.zeros(0, np.int64)
    hit[pending] = False
    r, c = np.nonzero(hit)
    rows, samples = [r], [idx[r, c]]
    if len(pending):
        # These rows lie near dense lines, where the reach of the longest piece (2 km) holds
        # dozens of samples: a piece within c_up of the point has an end within
        # sqrt(c_up² + its chord² / 4), so the samples of short pieces are searched apart, to
        # their own smaller reach, and any sample is kept only within its own reach.
        c2, limit = c_up[pending] ** 2, threshold[pending]
        found = [
            _within(
                lines,
                tree,
                ids,
                xyz[pending],
                np.minimum(np.sqrt(c2 + reach2) * (1 + 1e-9), limit),
                c2,
            )
            for tree, ids, reach2 in lines.sample_classes
        ]
        r = np.concatenate([f[0] for f in found])
        sample = np.concatenate([f[1] for f in found])
        order = np.lexsort((np.concatenate([f[2] for f in found]), r))
        rows.append(pending[r[order]])
        samples.append(sample[order])
    if len(rows) == 1:
        return rows[0], samples[0], upper
    row, sample = np.concatenate(rows), np.concatenate(samples)
    order = np.argsort(row, kind="stable")  # later rounds append rows: group them again
    return row[order], sample[order], upper


def _within(
    lines: LineSet,
    tree: cKDTree,
    ids: np.ndarray,
    xyz: np.ndarray,
    radius: np.ndarray,
    c2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, sample, distance) of the samples of ``tree`` within reach of each row.

    Within ``radius`` of the row, and within the sample's own reach (``c2`` is the squared
    chord bound of each row).
    """
    rows, samples, dists = [], [], []
    pending = np.arange(len(xyz))
    k = min(_K_FIRST, tree.n)
    while len(pending) and k:
        dist, idx = tree.query(xyz[pending], k=k)
        if k == 1:
            dist, idx = dist[:, None], idx[:, None]
        limit = radius[pending]
        done = (dist[:, -1] > limit) | (k >= tree.n)
        sample = ids[np.minimum(idx, tree.n - 1)]
        own = (c2[pending, None] + lines.sample_reach2[sample]) * (1 + 1e-9)
        r, c = np.nonzero((dist <= limit[:, None]) & (dist * dist <= own) & done[:, None])
        rows.append(pending[r])
        samples.append(sample[r, c])
        dists.append(dist[r, c])
        pending = pending[~done]
        k = min(4 * k, tree.n)
    empty = np.zeros(0, np.int64)
    return (
        np.concatenate([empty, *rows]),
        np.concatenate([empty, *samples]),
        np.concatenate([np.zeros(0), *dists]),
    )


def _contenders(
    lines: LineSet, xyz: np.ndarray, *, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, segment, start offset in metres) of the pieces that may hold the answer."""
    row, sample, upper = _candidate_pairs(lines, xyz, workers=workers)
    # Every piece touching each sample.
    start = lines.sample_start[sample]
    count = lines.sample_start[sample + 1] - start
    row = np.repeat(row, count)
    piece = lines.sample_pieces[
        np.repeat(start - (np.cumsum(count) - count), count) + np.arange(len(row))
    ]
    # By coordinate rows (3 or 7 contiguous rows of one value per pair): few, fast passes. The
    # sums run x + z, then + y, always: the offsets, and so the results, never move by a bit.
    geo = np.take(lines.piece_geo, piece, axis=1)
    w = np.take(np.ascontiguousarray(xyz.T), row, axis=1)
    w -= geo[:3]  # from end a to the point
    v = geo[3:6]
    prod = w * v
    raw = prod[0] + prod[2]
    raw += prod[1]
    raw /= geo[6]
    t = np.clip(raw, 0.0, 1.0)
    v *= t
    w -= v  # from the chord's foot to the point
    w *= w
    chord = w[0] + w[2]
    chord += w[1]
    np.sqrt(chord, out=chord)
    # Best upper bound per row: the nearest sample, or the best piece chord (+ its sag); a
    # piece is near when its lower bound does not exceed it, compared as chords (G is monotone).
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    bound = np.minimum(
        upper[row[starts]],
        _arc(_R_MIN, np.minimum.reduceat(chord, starts) + lines.sag_max),
    )
    reach = _chord(_R_LOWER, bound + 0.01 + 1e-9 * bound) + lines.sag_max
    near = chord <= np.repeat(reach, np.diff(np.r_[starts, len(row)]))
    # A piece counts once per valley of the distance along its line: an interior foot, or an
    # end beyond which the line climbs (an end shared with the next piece counts there).
    chosen = near & (raw > 0) & (raw < 1)
    at_a = np.flatnonzero(near & (raw <= 0))
    at_b = np.flatnonzero(near & (raw >= 1))
    at_b = at_b[~lines.next_in_line[piece[at_b]]]
    for i, ends in ((at_a, lines.end_a), (at_b, lines.end_b)):
        end = ends[piece[i]]
        to_p, out = xyz[row[i]] - end[:, :3], end[:, 3:]
        dot = np.einsum("ij,ij->i", to_p, out)
        scale = np.sqrt(np.einsum("ij,ij->i", to_p, to_p) * np.einsum("ij,ij->i", out, out))
        chosen[i] = np.isnan(dot) | (dot <= 1e-9 * scale)
    row, piece, t = row[chosen], piece[chosen], t[chosen]
    offset = lines.piece_s0[piece] + t * lines.piece_len[piece]
    return row, lines.piece_seg[piece], offset


def _point_on(
    lines: LineSet, seg: np.ndarray, offset: np.ndarray, *, threads: int
) -> tuple[np.ndarray, ...]:
    """Point at ``offset`` metres along each segment, and the azimuth from it back to the start.

    Segment ends are known exactly and need no geodesic call.
    """
    lon = np.where(offset <= 0, lines.seg_lon[seg], lines.seg_lon1[seg])
    lat = np.where(offset <= 0, lines.seg_lat[seg], lines.seg_lat1[seg])
    back = np.where(offset <= 0, lines.seg_az[seg] + 180.0, lines.seg_back1[seg])
    inner = np.flatnonzero((offset > 0) & (offset < lines.seg_len[seg]))
    if len(inner):
        s = seg[inner]
        lon[inner], lat[inner], back[inner] = _fwd(
            lines.seg_lon[s], lines.seg_lat[s], lines.seg_az[s], offset[inner], threads=threads
        )
    return lon, lat, back


def _refine(
    lines: LineSet,
    lon: np.ndarray,
    lat: np.ndarray,
    seg: np.ndarray,
    offset: np.ndarray,
    *,
    threads: int,
) -> tuple[np.ndarray, ...]:
    """Newton iteration for the foot on each geodesic segment: distance, foot, bearing."""
    n = len(seg)
    dist, foot_lon, foot_lat, bearing = (np.empty(n) for _ in range(4))
    s = offset.copy()
    seg_len = lines.seg_len[seg]
    active = np.arange(n)
    for _ in range(_MAX_NEWTON):
        every = len(active) == n
        sg = seg if every else seg[active]
        s_act = s if every else s[active]
        qlon, qlat, back = _point_on(lines, sg, s_act, threads=threads)
        plon, plat = (lon, lat) if every else (lon[active], lat[active])
        az_pq, az_qp, d = _inv_once(plon, plat, qlon, qlat, threads=threads)
        dist[active], foot_lon[active], foot_lat[active], bearing[active] = d, qlon, qlat, az_pq
        alpha = np.radians(az_qp - back - 180.0)
        along = _R_MEAN * np.arctan(np.tan(np.minimum(d / _R_MEAN, 1.5)) * np.cos(alpha))
        s_new = np.clip(s_act + along, 0.0, seg_len if every else seg_len[active])
        moved = np.abs(s_new - s_act) > _STEP_TOL_M
        s[active] = s_new
        active = active[moved]
        if not len(active):
            break
    return dist, foot_lat, foot_lon, np.mod(bearing, 360.0)


def _nearest_chunk(
    lines: LineSet, lon: np.ndarray, lat: np.ndarray, threads: int
) -> tuple[np.ndarray, ...]:
    """Measure one chunk: (rows with a result, distance, foot lat, foot lon, bearing, label)."""
    row, seg, offset = _contenders(lines, ecef(lon, lat), workers=threads)
    dist, flat, flon, bear = _refine(lines, lon[row], lat[row], seg, offset, threads=threads)
    # Contenders come grouped by row: keep the first minimum of each group.
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    counts = np.diff(np.r_[starts, len(row)])
    first = starts.copy()
    several = np.flatnonzero(counts > 1)
    if len(several):
        sub = np.flatnonzero(np.repeat(counts > 1, counts))
        sub_starts = np.r_[0, np.cumsum(counts[several])[:-1]]
        best = np.repeat(np.minimum.reduceat(dist[sub], sub_starts), counts[several])
        # Ties (a vertex shared by two border stretches) go to the first label A-Z, then to
        # the shortest distance, then to the first contender: each row's tied contenders
        # (in order) narrowed to the lowest label rank, then to the shortest distance.
        tied = sub[dist[sub] <= best + 1e-6]
        for by_label in (True, False):
            key = lines.label_rank[lines.seg_label[seg[tied]]] if by_label else dist[tied]
            group = np.flatnonzero(np.r_[True, row[tied][1:] != row[tied][:-1]])
            lowest = np.repeat(np.minimum.reduceat(key, group), np.diff(np.r_[group, len(tied)]))
            tied = tied[key == lowest]
        first[several] = tied[np.r_[True, row[tied][1:] != row[tied][:-1]]]
    return (
        row[first],
        dist[first],
        flat[first],
        flon[first],
        bear[first],
        lines.seg_label[seg[first]],
    )


def _label_column(lines: LineSet, label: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Return the label text of each code as a pandas ``str`` array (code -1: empty text)."""
    import pyarrow as pa

    codes = np.where(label >= 0, label, len(lines.labels)).astype(np.int32)
    dictionary = pa.array([*map(str, lines.labels), ""], type=pa.large_string())
    text = pa.DictionaryArray.from_arrays(pa.array(codes), dictionary).cast(pa.large_string())
    return pd.array(text, dtype=str)


def nearest(lines: LineSet, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """Return the exact geodesic distance from each point to the nearest point of the lines.

    Parameters
    ----------
    lines : LineSet
        From :func:`line_set`.
    lon, lat : array-like
        Points in degrees (WGS84).

    Returns
    -------
    result : pandas.DataFrame
        One row per point, in input order: ``distance_m``, ``nearest_lat``, ``nearest_lon``,
        ``border`` (the label of the nearest segment) and ``bearing_deg`` (initial azimuth from
        the point towards the nearest point, 0..360, clockwise from north).

    Examples
    --------
    >>> ls = line_set([(np.array([[0.0, -1.0], [0.0, 1.0]]), "A-B")])
    >>> r = nearest(ls, [1.0], [0.0])
    >>> round(float(r.distance_m[0]), 3), r.border[0], round(float(r.bearing_deg[0]), 6)
    (111319.491, 'A-B', 270.0)
    """
    lon = np.asarray(lon, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    n = len(lon)
    dist, near_lat, near_lon, bearing = (np.full(n, np.nan) for _ in range(4))
    label = np.full(n, -1, dtype=np.int64)
    # Neighbouring points visit the same tree nodes and pieces: a quarter-degree cell order
    # keeps them together (about 15 % faster on a million scattered points). Each point's
    # result does not depend on the order, the chunks or the threads.
    cell = np.floor((lat + 90) * 4) * 1440 + np.floor((lon + 180) * 4)
    order = np.argsort(cell)
    n_chunks = -(-n // _CHUNK)
    threads = min(_THREADS, n // _MIN_PER_THREAD)
    if threads > 1:  # as many chunks per thread, each chunk on one thread
        n_chunks = -(-n_chunks // threads) * threads
    size = -(-n // max(n_chunks, 1))
    parts = [order[start : start + size] for start in range(0, n, size)] if n else []

    def run(part: np.ndarray) -> tuple[np.ndarray, ...]:
        return _nearest_chunk(lines, lon[part], lat[part], 1 if threads > 1 else _THREADS)

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(run, parts))
    else:
        results = [run(part) for part in parts]
    for part, (rows, *values) in zip(parts, results, strict=True):
        target = part[rows]
        for column, value in zip((dist, near_lat, near_lon, bearing, label), values, strict=True):
            column[target] = value
    columns = {
        "distance_m": dist,
        "nearest_lat": near_lat,
        "nearest_lon": near_lon,
        "border": _label_column(lines, label),
        "bearing_deg": bearing,
    }
    return pd.DataFrame({name: columns[name] for name in RESULT_COLUMNS}, copy=False)


def wgs84_geometries(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Return the geometries of a frame in EPSG:4326, checked to be present.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any geometry, any CRS (a frame without one is taken as lon/lat).

    Returns
    -------
    geometries : numpy.ndarray
        The shapely geometries, in lon/lat, as an object array.

    Raises
    ------
    InputError
        If a feature has no geometry or an empty one (named by its 1-based position).

    Examples
    --------
    >>> import geopandas as gpd
    >>> frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([2e6], [6e6]), crs=3857)
    >>> [round(c, 4) for c in wgs84_geometries(frame)[0].coords[0]]
    [17.9663, 47.3537]
    """
    geoms = frame.geometry
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs("EPSG:4326")
    values = np.asarray(geoms.values, dtype=object)
    missing = np.flatnonzero(shapely.is_missing(values) | shapely.is_empty(values))
    if len(missing):
        raise InputError(f"feature {missing[0] + 1} has no geometry")
    return values


def lonlat_points(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the lon/lat of one representative point per feature, in EPSG:4326.

    A point is itself; a line or polygon counts by a point on it
    (:func:`shapely.point_on_surface`).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Any geometry, any CRS.

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees, one per feature, in frame order.

    Raises
    ------
    InputError
        As :func:`wgs84_geometries`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> frame = gpd.GeoDataFrame(geometry=[shapely.box(20, 50, 22, 52)], crs=4326)
    >>> [v.tolist() for v in lonlat_points(frame)]
    [[21.0], [51.0]]
    """
    values = wgs84_geometries(frame)
    points = values.copy()
    other = np.flatnonzero(shapely.get_type_id(values) != 0)
    if len(other):  # polygons and lines count by a point on them
        points[other] = shapely.point_on_surface(values[other])
    return shapely.get_x(points), shapely.get_y(points)


def range_ring(lon: float, lat: float, radius_m: float, *, n_points: int = 256) -> shapely.Polygon:
    """Return a true geodesic circle on WGS84: every vertex is ``radius_m`` from the centre.

    Parameters
    ----------
    lon, lat : float
        Centre in degrees.
    radius_m : float
        Geodesic radius in metres.
    n_points : int
        Number of vertices (at least 3), spaced evenly in azimuth from north.

    Returns
    -------
    ring : shapely.Polygon
        In EPSG:4326 (lon/lat). Longitudes are unwrapped around the centre.

    Raises
    ------
    InputError
        If an argument is out of range, if the circle would contain a pole, or if it would
        cross the antimeridian (a lon/lat polygon cannot hold it; split it yourself).

    Examples
    --------
    >>> ring = range_ring(21.0, 52.2, 100_000, n_points=8)
    >>> x, y = ring.exterior.coords[2]
    >>> round(GEOD.inv(21.0, 52.2, x, y)[2], 6)
    100000.0
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -90 <= lat <= 90):
        raise InputError(f"range ring centre lat {lat!r}, lon {lon!r} is not a position")
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise InputError(f"range ring radius_m {radius_m!r} must be a positive number of metres")
    if int(n_points) != n_points or n_points < 3:
        raise InputError(f"n_points {n_points!r} must be an integer of at least 3")
    for pole in (90.0, -90.0):
        to_pole = GEOD.inv(lon, lat, lon, pole)[2]
        if radius_m >= to_pole:
            raise InputError(
                f"a {radius_m / 1000:.1f} km ring around lat {lat}, lon {lon} contains the "
                f"{'North' if pole > 0 else 'South'} Pole ({to_pole / 1000:.1f} km away); "
                "a lon/lat polygon cannot hold it"
            )
    n = int(n_points)
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    x, y, _ = GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, float(radius_m)))
    x = lon + (np.asarray(x) - lon + 180.0) % 360.0 - 180.0
    if x.max() > 180 or x.min() < -180:
        raise InputError(
            f"a {radius_m / 1000:.1f} km ring around lat {lat}, lon {lon} crosses the "
            "antimeridian; a lon/lat polygon cannot hold it"
        )
    return shapely.Polygon(np.column_stack([x, y]))
