"""geo.geojson: the one FeatureCollection reader and the one geometry check."""

from __future__ import annotations

import json
import os
import threading

import pytest

from geo import geojson, layers
from geo._errors import InputError, LayerValidationError
from geo.geojson import geometry_problem, read_collection

COLLECTION = {"type": "FeatureCollection", "features": []}


# --- the reader -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"^c\.geojson: is empty$"),
        (b"  \n", r"^c\.geojson: is empty$"),
        (b"\xff\xfe{}", r"^c\.geojson: is not UTF-8 \(byte 0\); save it as UTF-8$"),
        (b"[1, 2]", r"^c\.geojson: is not valid JSON: it starts with '\[1, 2\]', a GeoJSON"),
        (b'{"type": ', r"^c\.geojson: is not valid JSON \(line 1, column 10: "),
        (b'{"type": "Point"}', r"^c\.geojson: field 'type': 'Point' is not a GeoJSON Feature"),
        (b"{}", r"^c\.geojson: field 'type': None is not a GeoJSON FeatureCollection$"),
        (
            b'{"type": "FeatureCollection", "features": {}}',
            r"^c\.geojson: field 'features': is not a list$",
        ),
    ],
)
def test_what_is_not_a_feature_collection_is_one_line(tmp_path, data, message):
    path = tmp_path / "c.geojson"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_collection(path)


def test_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(COLLECTION).encode())
    assert read_collection(path) == COLLECTION


def test_a_utf8_error_after_the_first_block_is_found(tmp_path):
    path = tmp_path / "late.geojson"
    padding = " " * (1 << 17)
    path.write_bytes(b'{"type": "FeatureCollection", ' + padding.encode() + b'"x": "\xe9"}')
    with pytest.raises(InputError, match=r"^late\.geojson: is not UTF-8 \(byte 131108\)"):
        read_collection(path)


def test_the_size_limit_and_the_error_class_are_the_callers(tmp_path):
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps(COLLECTION), encoding="utf-8")
    size = path.stat().st_size
    assert read_collection(path, max_bytes=size) == COLLECTION
    with pytest.raises(
        LayerValidationError,
        match=rf"^big\.geojson: field 'file': is {size} bytes, more than a layer file may be "
        rf"\({size - 1}\)$",
    ):
        read_collection(
            path, max_bytes=size - 1, field="file", what="a layer file", error=LayerValidationError
        )


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    path = tmp_path / "pipe.geojson"
    os.mkfifo(path)
    done = threading.Event()
    failure: list[BaseException] = []

    def read() -> None:
        try:
            read_collection(path)
        except InputError as exc:
            failure.append(exc)
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(10), "the reader waited for a writer"
    assert str(failure[0]) == (
        "pipe.geojson: is a FIFO, not a GeoJSON file; remove it from the folder"
    )


def test_a_missing_file_and_a_dangling_link(tmp_path):
    with pytest.raises(InputError, match=r"^gone\.geojson: does not exist$"):
        read_collection(tmp_path / "gone.geojson")
    (tmp_path / "link.geojson").symlink_to(tmp_path / "gone.geojson")
    with pytest.raises(InputError, match=r"^link\.geojson: is a link to a missing file$"):
        read_collection(tmp_path / "link.geojson")


def test_junk_is_judged_on_its_first_block(tmp_path, monkeypatch):
    path = tmp_path / "junk.geojson"
    with path.open("wb") as handle:  # 1 GiB of '<' that takes no disk beyond the first block
        handle.write(b"<" * (1 << 16))
        handle.truncate(1 << 30)
    read: list[int] = []
    real = geojson._reader

    def counting(fd: int):
        handle = real(fd)
        original = handle.read

        def counted(n: int = -1) -> bytes:
            data = original(n)
            read.append(len(data))
            return data

        handle.read = counted
        return handle

    monkeypatch.setattr(geojson, "_reader", counting)
    with pytest.raises(InputError, match=r"^junk\.geojson: is not valid JSON: it starts with '<"):
        read_collection(path)
    assert sum(read) == 1 << 16


# --- the layers' wording (moved from test_layers) ----------------------------------------------


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.geojson"
    path.write_bytes(json.dumps({"type": "FeatureCollection", "features": []}).encode() + b"\xe9")
    with pytest.raises(LayerValidationError, match=r"latin\.geojson: field 'file': is not UTF-8"):
        layers.read_layer_file(path)


def test_feature_instead_of_collection(tmp_path, feature):
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(feature), encoding="utf-8")
    with pytest.raises(
        LayerValidationError,
        match=r"one\.geojson: field 'type': is a single Feature, not a FeatureCollection; wrap it",
    ):
        layers.read_layer_file(path)


def test_a_deeply_nested_layer_file_is_one_line(tmp_path):
    path = tmp_path / "deep.geojson"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text('{"type": "FeatureCollection", "features": [], "x": ' + deep + "}")
    with pytest.raises(
        LayerValidationError,
        match=r"^deep\.geojson: field 'file': nests arrays or objects too deeply to be read",
    ):
        layers.read_layer_file(path)


# --- the geometry check -----------------------------------------------------------------------


SQUARE = [[25, 54], [26, 54], [26, 55], [25, 55], [25, 54]]


@pytest.mark.parametrize(
    ("geometry", "options", "problem"),
    [
        ({"type": "Point", "coordinates": [25.3, 54.7]}, {}, None),
        ({"type": "Polygon", "coordinates": [SQUARE]}, {"bounds": True}, None),
        (None, {}, "is null"),
        ({}, {}, "is missing"),
        ("POINT (25 54)", {}, "is missing"),
        (
            {"type": "Point", "coordinates": ["25", 54]},
            {},
            'has the coordinate "25", which is not a number',
        ),
        (
            {"type": "LineString", "coordinates": [[25, 54], [26, None]]},
            {},
            "has the coordinate null, which is not a number",
        ),
        (
            {"type": "Polygon", "coordinates": [[25, 54]]},
            {},
            "is not a valid GeoJSON Polygon (coordinates [[25, 54]])",
        ),
        ({"type": "Point", "coordinates": []}, {}, "is empty"),
        (
            {
                "type": "GeometryCollection",
                "geometries": [{"type": "Point", "coordinates": [1, 2]}],
            },
            {"types": ("Point", "Polygon")},
            "GeometryCollection is not one of Point, Polygon",
        ),
        (
            {"type": "Point", "coordinates": [200.0, 54.0]},
            {"bounds": True},
            "longitude 200.0 is outside -180..180",
        ),
        (
            {"type": "Point", "coordinates": [200.0, 54.0]},
            {},
            None,  # the point readers check the range later, with a hint for swapped columns
        ),
        (
            {"type": "Point", "coordinates": [float("nan"), 54.0]},
            {"bounds": True},
            "coordinate [nan, 54.0] is not finite",
        ),
        (
            {"type": "Polygon", "coordinates": [SQUARE[:-1]]},
            {},
            "is not a valid Polygon (ring 1 is not closed: its last position is not its first)",
        ),
        (
            {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE[:-1]]]},
            {},
            "is not a valid MultiPolygon (polygon 2, ring 1 is not closed: its last position is "
            "not its first)",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[25, 54], [26, 55], [26, 54], [25, 55], [25, 54]]],
            },
            {},
            "is not a valid Polygon (Self-intersection[25.5 54.5])",
        ),
    ],
)
def test_geometry_problem(geometry, options, problem):
    assert geometry_problem(geometry, **options) == problem


def test_layers_and_points_share_the_geometry_check(tmp_path, write_layer, feature):
    feature["geometry"] = {"type": "Polygon", "coordinates": [SQUARE[:-1]]}
    feature["properties"]["coord_basis"] = "area_centroid"
    reason = geometry_problem(feature["geometry"])
    with pytest.raises(LayerValidationError, match=rf"field 'geometry': {reason[:20]}"):
        layers.read_layer_file(write_layer([feature]))
    from geo.points import read_points

    path = tmp_path / "p.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(InputError, match=r"^p\.geojson: feature 1: field 'geometry': is not a"):
        read_points(path)
