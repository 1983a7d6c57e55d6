"""Shared fixtures. Tiny hand-made data lives in tests/data/."""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import struct
import threading
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import layers

DATA = Path(__file__).parent / "data"
#: The independent geodesic reference of the distance tests (pyproj directly, no geo code).
GEOD = Geod(ellps="WGS84")

VALID_FEATURE: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [26.4578, 52.8781]},
    "properties": {
        "id": "test-site",
        "name": "Test site",
        "kind": "early_warning_radar",
        "country": "BLR",
        "operator": "RUS",
        "status": "active",
        "since": "2003",
        "until": "",
        "coord_uncertainty_m": 500,
        "coord_note": "hand-made test coordinate",
        "sources": [
            {
                "title": "A source",
                "url": "https://example.org/source",
                "publisher": "Example",
                "accessed": "2026-11-25",
            }
        ],
    },
}


@pytest.fixture
def only_new_threads_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count only the threads a test starts (geo._apart forks only where there is no other).

    Tests run earlier in this process leave idle thread pools (the kernel's, a stream's),
    which would keep every piece of work in this process; the command line forks before it
    starts any.
    """
    count = threading.active_count
    earlier = count() - 1
    monkeypatch.setattr(threading, "active_count", lambda: count() - earlier)


@pytest.fixture
def data_dir() -> Path:
    """The folder of tiny test data."""
    return DATA


@pytest.fixture
def feature() -> dict[str, Any]:
    """A fresh copy of a valid feature to break in a test."""
    return copy.deepcopy(VALID_FEATURE)


@pytest.fixture
def write_layer(tmp_path: Path):
    """Write a FeatureCollection of the given features to tmp_path/<name>.geojson."""

    def _write(features: list[dict[str, Any]], name: str = "test_layer") -> Path:
        path = tmp_path / f"{name}.geojson"
        collection = {
            "type": "FeatureCollection",
            "name": name,
            "title": name.replace("_", " ").title(),
            "description": "test layer",
            "features": features,
        }
        path.write_text(json.dumps(collection), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def mini_layers(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point FLANKMAP_LAYERS_DIR at the two-layer fixture in tests/data/layers_mini."""
    folder = DATA / "layers_mini"
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def every_layer() -> gpd.GeoDataFrame:
    """Every shipped layer, as ``layers.load_layers()`` gives them."""
    return layers.load_layers()


def _fifo_reader(folder: Path, name: str = "pipe") -> tuple[Path, list[bytes], threading.Thread]:
    """A FIFO ``folder/name`` and a started thread that reads it whole into the list."""
    fifo = folder / name
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    return fifo, got, reader


@pytest.fixture
def fifo_reader() -> Callable[..., tuple[Path, list[bytes], threading.Thread]]:
    """``fifo_reader(folder, name="pipe")``: a FIFO there and a thread reading it whole."""
    return _fifo_reader


@pytest.fixture
def map_layers(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point FLANKMAP_LAYERS_DIR at the map fixture (a hostile layer and five test sites)."""
    folder = DATA / "maps_layers"
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(folder))
    return folder


def _map_payload(document: str) -> dict[str, Any]:
    """The data the map's script draws, parsed back from the HTML."""
    match = re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", document)
    assert match, "no flankmap.render call in the document"
    payload: dict[str, Any] = json.loads(match.group(1))
    return payload


def _map_overlays(data: dict[str, Any], kind: str | None = None) -> dict[str, dict[str, Any]]:
    """The overlays of a map payload by slug, those of one ``type`` if ``kind`` is given."""
    return {ov["slug"]: ov for ov in data["overlays"] if kind is None or ov["type"] == kind}


@pytest.fixture(scope="session")
def map_payload() -> Callable[[str], dict[str, Any]]:
    """``map_payload(document)``: the data the map's script draws, parsed back from the HTML."""
    return _map_payload


@pytest.fixture(scope="session")
def map_overlays() -> Callable[..., dict[str, dict[str, Any]]]:
    """``map_overlays(payload, kind=None)``: a map payload's overlays by slug (of one type)."""
    return _map_overlays


class _Page(HTMLParser):
    """Collect the rows of the sites table, the links and the resources a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.links: list[str] = []
        self.resources: list[str] = []
        self.references: list[str] = []
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "sites-table":
            self._in_table = True
        if tag == "tr" and self._in_table and a.get("id", "").startswith("site-"):
            self.rows.append(a["id"].removeprefix("site-"))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "li" and a.get("id", "").startswith("ref-"):
            self.references.append(a["id"])
        for key in ("src", "href"):
            value = a.get(key) or ""
            if tag in ("img", "script", "link", "iframe", "source") and value:
                self.resources.append(value)

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


@pytest.fixture(scope="session")
def report_page() -> Callable[[str], _Page]:
    """``report_page(html)``: the sites table's rows, the links and the resources of a report."""
    return _parse


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="session")
def png_size() -> Callable[[bytes], tuple[int, int]]:
    """``png_size(data)``: the width and height in pixels of a PNG file's bytes."""
    return _png_size


def hostile_texts() -> list[tuple[str, str]]:
    """The hostile corpus of tests/data/hostile/corpus.json as (id, text) pairs."""
    doc = json.loads((DATA / "hostile" / "corpus.json").read_text(encoding="utf-8"))
    return [(entry["id"], entry["text"]) for entry in doc["texts"]]


#: Where the hostile features stand: a grid over Belarus and Lithuania, one per text.
def _hostile_point(index: int) -> list[float]:
    return [round(24.0 + (index % 6) * 0.8, 4), round(53.0 + (index // 6) * 0.6, 4)]


@pytest.fixture
def hostile_corpus() -> list[tuple[str, str]]:
    """The hostile corpus: texts that every output must show literally (see its file)."""
    return hostile_texts()


@pytest.fixture
def hostile_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A layers folder whose one layer carries a hostile text in every text field.

    FLANKMAP_LAYERS_DIR points at it; the working folder is an empty folder, so a text that
    runs code (``touch PWNED``) leaves a file there that the test can look for.
    """
    folder = tmp_path / "hostile_layers"
    folder.mkdir()
    features = []
    for index, (text_id, text) in enumerate(hostile_texts()):
        feature = copy.deepcopy(VALID_FEATURE)
        feature["geometry"]["coordinates"] = _hostile_point(index)
        props = feature["properties"]
        props.update(
            id=f"hostile-{text_id}",
            name=text,
            coord_note=text,
            notes=text,
            timeline=[{"date": "2003", "status": "active", "event": text}],
            aliases=[text],
        )
        props["sources"][0].update(title=text, publisher=text)
        features.append(feature)
    collection = {
        "type": "FeatureCollection",
        "name": "hostile",
        "title": "Layer {{7*7}} <b>bold</b> $x$",
        "description": "{% raw %} hostile layer for the tests",
        "features": features,
    }
    (folder / "hostile.geojson").write_text(json.dumps(collection), encoding="utf-8")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(folder))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return folder


@pytest.fixture
def hostile_csv(tmp_path: Path) -> Path:
    """A user CSV with a hostile file name and a hostile text in every text column."""
    path = tmp_path / "{{7*7}} {% raw %} '$x$'.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "notes", "aliases", "lat", "lon", "remark", HOSTILE_COLUMN])
        for index, (text_id, text) in enumerate(hostile_texts()):
            lon, lat = _hostile_point(index)
            # a little north of the layer's feature: two sites at one point would stack
            writer.writerow([text_id, text, text, text, round(lat + 0.25, 4), lon, text, text])
    return path


#: A column name of the hostile CSV that is itself hostile.
HOSTILE_COLUMN = "<i onclick=window.__xss=9>{{ col }}</i>"


# --- an independent geodesic reference: densified segments, no geo code -------------------


def _densified_min(lon, lat, seg, az, windows, step):
    """Minimum of Geod.inv from a point to points every ``step`` m of the given windows."""
    counts = [int(np.ceil((b - a) / step)) + 1 for _, a, b in windows]
    which = np.repeat([w[0] for w in windows], counts)
    along = np.concatenate(
        [np.linspace(a, b, k) for (_, a, b), k in zip(windows, counts, strict=True)]
    )
    x, y, _ = GEOD.fwd(seg[which, 0], seg[which, 1], az[which], along)
    dist = GEOD.inv(np.full(len(x), lon), np.full(len(x), lat), x, y)[2]
    return dist, which, along


def _brute_force(lon: float, lat: float, seg: np.ndarray) -> float:
    """Independent reference: geodesic segments densified (10 m, then 1 cm near the minimum).

    Segments are kept by the triangle inequality: no point of a segment of length L is closer
    than (d_start + d_end - L) / 2, so a segment above the nearest vertex cannot win.
    """
    n = len(seg)
    az, _, length = GEOD.inv(seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3])
    d0 = GEOD.inv(np.full(n, lon), np.full(n, lat), seg[:, 0], seg[:, 1])[2]
    d1 = GEOD.inv(np.full(n, lon), np.full(n, lat), seg[:, 2], seg[:, 3])[2]
    best = min(d0.min(), d1.min())
    keep = np.flatnonzero((d0 + d1 - length) / 2 <= best)
    dist, which, along = _densified_min(
        lon, lat, seg, az, [(i, 0.0, length[i]) for i in keep], 10.0
    )
    best = min(best, dist.min())
    if best > 1000:  # 10 m spacing is then within (5 m)² / 2d < 1.3 cm
        return best
    close = np.flatnonzero(dist <= best + 10.0)
    windows = [
        (which[i], max(0.0, along[i] - 10), min(length[which[i]], along[i] + 10)) for i in close
    ]
    return min(best, _densified_min(lon, lat, seg, az, windows, 0.01)[0].min())


def _boundary_segments(geom: shapely.Geometry) -> np.ndarray:
    """Edges of geometries' boundaries (or of their lines) as rows lon0, lat0, lon1, lat1."""
    rows = []
    for part in shapely.get_parts(np.atleast_1d(np.asarray(geom, dtype=object))):
        lines = shapely.boundary(part) if shapely.get_dimensions(part) == 2 else part
        for line in shapely.get_parts(lines):
            xy = shapely.get_coordinates(line)
            rows.append(np.hstack([xy[:-1], xy[1:]]))
    return np.vstack(rows)


@pytest.fixture(scope="session")
def brute_force():
    """``brute_force(lon, lat, segments)``: the geodesic distance from a point to segments.

    Each segment (a row lon0, lat0, lon1, lat1, a geodesic) is densified to 10 m, then to 1 cm
    near the minimum: exact to about a centimetre, with no code of ``geo``.
    """
    return _brute_force


@pytest.fixture(scope="session")
def boundary_segments():
    """``boundary_segments(geom)``: the edges of a geometry's boundary, one row per edge."""
    return _boundary_segments
