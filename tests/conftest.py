"""Shared fixtures. Tiny hand-made data lives in tests/data/."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"

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
