"""Writing outputs: points per format (CSV, GeoJSON, GeoParquet); atomic replacement, modes, links, devices and FIFOs, environment errors.

Devices are never written in these tests: the decision for a character or block device is
tested on its ``st_mode``; FIFOs and sockets are made in ``tmp_path``.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import writers
from geo._errors import InputError, OutputError
from geo.points import read_points
from geo.writers import (
    WRITERS,
    CsvWriter,
    GeoJsonWriter,
    GeoParquetWriter,
    atomic_writer,
    check_output_path,
    output_kind,
    output_target,
    point_writer,
    write_points,
    writer_for,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _temps(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFREG | 0o644, "file"),
        (stat.S_IFCHR | 0o666, "stream"),  # /dev/null, /dev/full, a terminal
        (stat.S_IFIFO | 0o600, "stream"),
        (stat.S_IFBLK | 0o660, "a block device"),
        (stat.S_IFSOCK | 0o755, "a socket"),
        (stat.S_IFDIR | 0o755, "a folder"),
    ],
)
def test_output_kind_never_replaces_what_is_not_a_regular_file(mode, kind):
    assert output_kind(mode) == kind


def test_a_character_device_is_written_through_not_replaced(tmp_path, monkeypatch):
    """The decision for a device, on a stand-in: a FIFO whose stat says character device."""
    target = tmp_path / "null"
    os.mkfifo(target)
    real_stat = os.stat

    def device_stat(path, *args, **kwargs):
        info = real_stat(path, *args, **kwargs)
        if Path(path) == target:
            fields = list(info)
            fields[stat.ST_MODE] = stat.S_IFCHR | 0o666
            return os.stat_result(fields)
        return info

    monkeypatch.setattr(writers.os, "stat", device_stat)
    monkeypatch.setattr(writers.os, "lstat", device_stat)
    assert output_target(target) == writers.OutputTarget(target, stream=True)


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(path, "rb") as handle:
            into.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def test_fifo_output_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo, 0o600)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    with atomic_writer(fifo, "w") as handle:
        handle.write("a,b\n")
    reader.join(10)
    assert got == [b"a,b\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _temps(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("socket", r"^output '.*s\.sock' is a socket; give a file name$"),
        ("folder", r"^output '.*out\.csv' is a folder; give a file name$"),
    ],
)
def test_sockets_and_folders_are_refused(tmp_path, make, message):
    if make == "socket":
        path = tmp_path / "s.sock"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    else:
        path = tmp_path / "out.csv"
        path.mkdir()
    try:
        with pytest.raises(InputError, match=message):
            check_output_path(path)
        with pytest.raises(InputError, match=message), atomic_writer(path) as handle:
            handle.write("x")
    finally:
        if make == "socket":
            server.close()
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_an_existing_file_keeps_its_mode(tmp_path, mode):
    out = tmp_path / "private.csv"
    out.write_text("old\n")
    out.chmod(mode)
    with atomic_writer(out) as handle:
        handle.write("new\n")
    assert out.read_text() == "new\n"
    assert stat.S_IMODE(out.stat().st_mode) == mode


@pytest.mark.parametrize(("umask", "mode"), [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)])
def test_a_new_file_honours_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        with atomic_writer(tmp_path / "new.csv") as handle:
            handle.write("x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == mode


def test_a_link_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "site").mkdir()
    real = tmp_path / "site" / "map.html"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "map.html"
    link.symlink_to(real)
    with atomic_writer(link) as handle:
        handle.write("new")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert _temps(tmp_path) == []
    assert _temps(real.parent) == []


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to("target.csv")
    with atomic_writer(link) as handle:
        handle.write("x")
    assert link.is_symlink()
    assert (tmp_path / "target.csv").read_text() == "x"


def test_a_link_into_a_missing_folder_is_one_line(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "gone" / "out.csv")
    with pytest.raises(InputError, match=r"is a link into the folder '.*gone', which does not"):
        check_output_path(link)


@pytest.mark.skipif(not IS_ROOT, reason="making a link owned by another user needs root")
def test_a_stranger_link_in_a_sticky_shared_folder_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = shared / "out.csv"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)
    with pytest.raises(InputError, match=r"is a link that another user made in a shared folder"):
        check_output_path(link)
    assert victim.read_text() == "precious"


def test_a_long_name_still_gets_a_temporary_file(tmp_path):
    """A 250-character name is valid; `.NAME.XXXXXXXX.tmp` would not be."""
    out = tmp_path / ("o" * 246 + ".csv")
    seen = []
    with atomic_writer(out) as handle:
        seen = _temps(tmp_path)
        handle.write("x")
    assert len(seen) == 1
    assert len(seen[0].name) <= 255
    assert out.read_text() == "x"
    assert _temps(tmp_path) == []


def test_a_name_longer_than_the_file_system_allows_is_one_line(tmp_path):
    with pytest.raises(
        InputError, match=r"^output name 'o+…' is 304 bytes long; the file system allows 255$"
    ):
        check_output_path(tmp_path / ("o" * 300 + ".csv"))


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
)
def test_a_failed_write_names_the_output_and_keeps_the_old_file(
    tmp_path, monkeypatch, code, reason
):
    out = tmp_path / "out.csv"
    out.write_text("old\n")

    def failing_write(self, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(writers._OutputFile, "_write", failing_write)
    message = rf"^{out}: cannot write: {reason}$"
    with pytest.raises(OutputError, match=message) as caught, atomic_writer(out) as handle:
        handle.write("new\n" * 100_000)
    assert caught.value.errno == code
    assert out.read_text() == "old\n"
    assert _temps(tmp_path) == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EACCES, "Permission denied"), (errno.EROFS, "Read-only file system")],
)
def test_a_folder_that_takes_no_file_is_one_line(tmp_path, monkeypatch, code, reason):
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    real_open = os.open

    def refusing_open(path, flags, *args):
        if str(path).endswith(".tmp"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(writers.os, "open", refusing_open)
    message = rf"^{out}: cannot create a file in the folder '{tmp_path}': {reason}$"
    with pytest.raises(OutputError, match=message), atomic_writer(out) as handle:
        handle.write("new")
    assert out.read_text() == "old\n"


@pytest.mark.skipif(IS_ROOT, reason="root may write into a folder without write permission")
def test_a_read_only_folder_is_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    out = folder / "out.csv"
    out.write_text("old\n")
    folder.chmod(0o555)
    try:
        message = r"cannot create a file in the folder .*denied"
        with pytest.raises(OutputError, match=message), atomic_writer(out) as handle:
            handle.write("new")
    finally:
        folder.chmod(0o755)
    assert out.read_text() == "old\n"
    assert _temps(folder) == []


# --- points, one writer per format ----------------------------------------------------------


def test_write_csv_adds_coordinates_and_json_cells(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "sources": [[{"title": "t"}]], "distance_m": [12.5]},
        geometry=gpd.points_from_xy([25.0], [54.0]),
        crs=4326,
    )
    out = write_points(frame, tmp_path / "out.csv", results=["distance_m"])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,sources,lat,lon,distance_m"
    assert lines[1] == 'a,"[{""title"": ""t""}]",54,25,12.5'
    plain = write_points(frame, tmp_path / "plain.csv")  # no results named: after every column
    assert plain.read_text(encoding="utf-8").splitlines()[0] == "id,sources,distance_m,lat,lon"
    geojson = write_points(frame, tmp_path / "out.geojson")
    assert json.loads(geojson.read_text())["features"][0]["properties"]["distance_m"] == 12.5
    with pytest.raises(InputError, match=r"unknown output type '\.xlsx'"):
        write_points(frame, tmp_path / "out.xlsx")


# --- writing in chunks -----------------------------------------------------------------------


def _frame(n: int, start: int = 0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(start, start + n)], "distance_m": np.arange(n) + 0.5},
        geometry=gpd.points_from_xy(np.linspace(20, 30, n), np.linspace(50, 60, n)),
        crs=4326,
    )


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".parquet"])
def test_point_writer_chunks_equal_one_write(tmp_path, suffix):
    whole = pd.concat([_frame(3), _frame(0, 3), _frame(4, 3)], ignore_index=True)
    one = write_points(gpd.GeoDataFrame(whole, crs=4326), tmp_path / f"one{suffix}")
    with point_writer(tmp_path / f"many{suffix}") as write:
        for part in (_frame(3), _frame(0, 3), _frame(4, 3)):
            write(part)
    many = tmp_path / f"many{suffix}"
    if suffix == ".parquet":
        got = gpd.read_parquet(many)
        assert got["id"].tolist() == whole["id"].tolist()
        assert got.geometry.geom_equals(whole.geometry).all()
        assert got.crs.to_epsg() == 4326
    else:
        assert many.read_bytes() == one.read_bytes()
        assert read_points(many)["id"].tolist() == whole["id"].tolist()


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".parquet"])
def test_point_writer_error_midway_leaves_the_old_file(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    path.write_text("old", encoding="utf-8")

    def fail_midway() -> None:
        with point_writer(path) as write:
            write(_frame(3))
            raise InputError("boom")

    with pytest.raises(InputError, match="boom"):
        fail_midway()
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_no_geojson_output_holds_infinity(tmp_path):
    frame = gpd.GeoDataFrame({"x": [np.inf]}, geometry=gpd.points_from_xy([25.0], [54.0]), crs=4326)
    with pytest.raises(InputError, match=r"^o\.geojson: a value is inf or -inf, which JSON cannot"):
        write_points(frame, tmp_path / "o.geojson")
    assert not (tmp_path / "o.geojson").exists()


def test_each_suffix_has_its_writer():
    assert {
        ".csv": CsvWriter,
        ".geojson": GeoJsonWriter,
        ".parquet": GeoParquetWriter,
        ".geoparquet": GeoParquetWriter,
        ".gpkg": writers.GeoPackageWriter,
        ".fgb": writers.FlatGeobufWriter,
        ".kml": writers.KmlWriter,
        ".kmz": writers.KmzWriter,
    } == WRITERS
    assert writer_for("A.GeoJSON") is GeoJsonWriter
    with pytest.raises(InputError, match=r"^out\.json: unknown output type '\.json'"):
        writer_for("out.json")


def test_an_empty_geojson_output_is_an_empty_collection(tmp_path):
    with point_writer(tmp_path / "e.geojson"):
        pass
    assert json.loads((tmp_path / "e.geojson").read_text()) == {
        "type": "FeatureCollection",
        "features": [],
    }


def test_the_fast_byte_checks_of_text_cells_agree_with_the_patterns():
    import pyarrow as pa

    cells = ["ab", "", "=1", "x,y", 'é"', "-5", "ok"]
    for kind in (pa.string(), pa.large_string()):
        array = pa.array(cells, kind)
        for start in range(len(cells)):
            for stop in range(start, len(cells) + 1):
                part = array[start:stop]
                chunked = pa.chunked_array([part, array[:start]], kind)
                got = cells[start:stop]
                for text in (part, chunked):
                    extra = cells[:start] if text is chunked else []
                    every = got + extra
                    assert writers._has_bytes(text, writers._QUOTED_BYTES) == any(
                        c in s for s in every for c in ',"\r\n'
                    )
                    assert writers._has_bytes(text, writers._FORMULA_BYTES, first=True) == any(
                        s[:1] in ("=", "+", "-", "@", "\t", "\r") and s for s in every
                    )


def test_point_table_writes_the_bytes_of_its_geodataframe(tmp_path: Path) -> None:
    """A PointTable (positions, no geometries) gives the GeoParquet bytes of its frame."""
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(-180, 180, 50), rng.uniform(-90, 90, 50)
    frame = pd.DataFrame(
        {"id": [f"p{i}" for i in range(50)], "distance_m": rng.uniform(0, 1e6, 50)}
    )
    frame.attrs["flankmap"] = {"borders": {"name": "test"}}
    table = writers.PointTable(frame, lon, lat)
    with point_writer(tmp_path / "table.parquet") as write:
        write(writers.PointTable(frame.iloc[:20], lon[:20], lat[:20]))
        write(writers.PointTable(frame.iloc[20:].reset_index(drop=True), lon[20:], lat[20:]))
    with point_writer(tmp_path / "frame.parquet") as write:
        write(table.geodataframe(stop=20))
        write(writers.PointTable(frame.iloc[20:].reset_index(drop=True), lon[20:], lat[20:]))
    with point_writer(tmp_path / "plain.parquet") as write:
        whole = table.geodataframe()
        write(whole.iloc[:20])
        write(whole.iloc[20:])
    plain = (tmp_path / "plain.parquet").read_bytes()
    assert (tmp_path / "table.parquet").read_bytes() == plain
    assert (tmp_path / "frame.parquet").read_bytes() == plain
    back = gpd.read_parquet(tmp_path / "table.parquet")
    assert back.crs == "EPSG:4326"
    assert np.array_equal(back.geometry.x, lon)
    assert np.array_equal(back.geometry.y, lat)
