"""Shared fixtures. Tiny hand-made data lives in tests/data/."""

from __future__ import annotations

import copy
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
