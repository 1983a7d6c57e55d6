"""Tests of geo.points: reading user point files and writing results."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import geojson, points
from geo._errors import InputError
from geo.points import read_points
from geo.writers import write_points


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _feature(lon, lat, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_csv_keeps_columns_in_order(tmp_path):
    path = _write(
        tmp_path, "p.csv", "name,lon,note,lat\nVilnius,25.28,capital,54.687\nRiga,24.1,,56.95\n"
    )
    frame = read_points(path)
    assert list(frame.columns) == ["name", "lon", "note", "lat", "geometry"]
    assert frame["name"].tolist() == ["Vilnius", "Riga"]
    assert frame.crs.to_epsg() == 4326
    np.testing.assert_allclose(frame.geometry.x, [25.28, 24.1])
    np.testing.assert_allclose(frame.geometry.y, [54.687, 56.95])


def test_csv_latitude_longitude_any_case_and_bom(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("\ufeffID,Latitude,LONGITUDE\n1,54.7,25.3\n".encode())
    frame = read_points(path)
    assert frame.geometry.iloc[0].equals(shapely.Point(25.3, 54.7))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lat,lon\n54,25\nabc,25\n", r"^p\.csv: row 2: field 'lat': 'abc' is not a number$"),
        (
            "lat,lon\n54,25\n91,25\n",
            r"^p\.csv: row 2: field 'lat': 91\.0 is outside -90\.\.90 \(lat and lon swapped\?\)$",
        ),
        ("lat,lon\n200,25\n", r"^p\.csv: row 1: field 'lat': 200\.0 is outside -90\.\.90$"),
        (
            "lat,lon\n25,254\n",
            r"^p\.csv: row 1: field 'lon': 254\.0 is outside -180\.\.180$",
        ),
        (
            "lat,lon\n125.3,54.7\n",
            r"^p\.csv: row 1: field 'lat': 125\.3 is outside -90\.\.90 \(lat and lon swapped\?\)$",
        ),
        ("lat,lon\n54,nan\n", r"row 1: field 'lon': 'nan' is not a finite number"),
        ("lat,lon\n54, \n", r"^p\.csv: row 1: field 'lon': is empty$"),
        ("lat,lon,lat\n54,25,1\n", r"^p\.csv: header: field 'lat': is the name of two columns$"),
        ("name,x,y\na,1,2\n", r"^p\.csv: has no lat/lon columns \(columns: name, x, y\)"),
        ("", r"^p\.csv: is empty$"),
        ("lat,lon\n", r"^p\.csv: has a header but no data rows$"),
        ("lat,lon,n\n54,25\n", r"^p\.csv: row 1: has 2 fields, the header has 3$"),
        (
            "lat,lon,coord_uncertainty_m\n54,25,-3\n",
            r"row 1: field 'coord_uncertainty_m': '-3' is negative",
        ),
    ],
)
def test_csv_errors_name_file_row_and_field(tmp_path, text, message):
    path = _write(tmp_path, "p.csv", text)
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("name,lat,lon\nŁódź,51.7,19.4\n".encode("cp1250"))
    with pytest.raises(InputError, match=r"^p\.csv: is not UTF-8 \(byte 13, line 2\)"):
        read_points(path)


def test_geojson_points(tmp_path):
    path = _write(tmp_path, "p.geojson", _collection(_feature(25.28, 54.687, name="Vilnius")))
    frame = read_points(path)
    assert frame["name"].tolist() == ["Vilnius"]
    assert frame.geometry.iloc[0].equals(shapely.Point(25.28, 54.687))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"type": "FeatureCollection", "features": [}',
            r"^p\.geojson: is not valid JSON \(line 1, column 44: ",
        ),
        ('{"type": "Feature"}', r"^p\.geojson: field 'type': is a single Feature, not a Feature"),
        ('{"type": "Point"}', r"^p\.geojson: field 'type': 'Point' is not a GeoJSON Feature"),
        (
            _collection(_feature(25, 54), {"type": "Feature", "properties": {}}),
            r"^p\.geojson: feature 2: field 'geometry': is missing$",
        ),
        (
            _collection(_feature(25, 54), _feature(54, 125)),
            r"^p\.geojson: feature 2: field 'geometry': 125\.0 is outside -90\.\.90 \(lat and lon swapped\?\)$",
        ),
        (_collection(), r"^p\.geojson: field 'features': is empty"),
    ],
)
def test_geojson_errors(tmp_path, text, message):
    path = _write(tmp_path, "p.geojson", text)
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_geopackage_in_another_crs_is_reprojected(tmp_path):
    source = gpd.GeoDataFrame(
        {"name": ["Vilnius"], "coord_uncertainty_m": [250.0]},
        geometry=gpd.points_from_xy([25.28], [54.687]),
        crs="EPSG:4326",
    )
    path = tmp_path / "p.gpkg"
    source.to_crs(3035).to_file(path, driver="GPKG")
    frame = read_points(path)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.iloc[0].x == pytest.approx(25.28, abs=1e-7)
    assert frame.geometry.iloc[0].y == pytest.approx(54.687, abs=1e-7)
    assert frame["coord_uncertainty_m"].tolist() == [250.0]


def test_geoparquet(tmp_path):
    path = tmp_path / "p.parquet"
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([25.28], [54.687]), crs=4326)
    write_points(frame, path)
    assert read_points(path).geometry.iloc[0].equals(shapely.Point(25.28, 54.687))


def test_plain_parquet_with_lat_lon_columns(tmp_path):
    # No 'geo' metadata: read from its lat/lon columns as a CSV is, errors by row and field.
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"id": ["a", "b"], "lat": [54.687, 55.0], "lon": [25.28, 24.0]}).to_parquet(
        path, index=False
    )
    got = read_points(path)
    assert got["id"].tolist() == ["a", "b"]
    assert got["lat"].tolist() == [54.687, 55.0]
    assert got.geometry.iloc[0].equals(shapely.Point(25.28, 54.687))
    bad = tmp_path / "bad.parquet"
    pd.DataFrame(
        {"id": ["a", "b", "c"], "lat": [54.7, None, 95.0], "lon": [25.0, 24.0, 20.0]}
    ).to_parquet(bad, index=False)
    with pytest.raises(InputError, match=r"^bad\.parquet: row 2: field 'lat': is empty$"):
        read_points(bad)
    kept = read_points(bad, skip_invalid=True)
    assert kept["id"].tolist() == ["a"]
    rejected = next(c.rejected for c in points.scan_points(bad, skip_invalid=True))
    assert rejected["reason"].tolist() == [
        "is empty",
        "95.0 is outside -90..90 (lat and lon swapped?)",
    ]
    assert rejected["raw"].tolist()[0] == '{"id": "b", "lat": null, "lon": 24.0}'
    text = tmp_path / "text.parquet"
    pd.DataFrame(
        {"id": ["a", "a"], "latitude": ["54.7", "55"], "longitude": [25.0, 24.0]}
    ).to_parquet(text, index=False)
    with pytest.raises(
        InputError, match=r"^text\.parquet: row 2: field 'id': 'a' is used by row 1"
    ):
        read_points(text)
    other = tmp_path / "other.parquet"
    pd.DataFrame({"id": ["a"], "x": [1.0]}).to_parquet(other, index=False)
    with pytest.raises(
        InputError, match=r"^other\.parquet: has no 'geo' metadata .* no lat/lon columns"
    ):
        read_points(other)


def test_unknown_type_and_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"^p\.txt: unknown file type '\.txt'"):
        read_points(_write(tmp_path, "p.txt", "lat,lon\n1,2\n"))
    with pytest.raises(InputError, match=r"^nothing\.csv: no such file"):
        read_points(tmp_path / "nothing.csv")


# --- every kind of bad input: one file each in tests/data/bad_points -------------------------

BAD = Path(__file__).parent / "data" / "bad_points"
EXPECTED = json.loads((BAD / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_is_one_clear_line(name):
    with pytest.raises(InputError) as info:
        read_points(BAD / name)
    assert str(info.value) == EXPECTED[name]
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"{name}: ")


def test_a_folder_is_not_a_point_file(tmp_path):
    with pytest.raises(InputError, match=r": is a folder, not a file of points$"):
        read_points(tmp_path)


def test_another_crs_is_reprojected_and_said(data_dir, caplog):
    with caplog.at_level("WARNING", logger="geo.points"):
        frame = read_points(data_dir / "points_3035.geojson")
    assert caplog.messages == [
        "points_3035.geojson: reprojected from EPSG:3035 to WGS84 (EPSG:4326)"
    ]
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.iloc[0].x == pytest.approx(25.28, abs=1e-6)
    assert frame.geometry.iloc[0].y == pytest.approx(54.687, abs=1e-6)


# --- skipping invalid rows -----------------------------------------------------------------


def test_skip_invalid_sets_rows_aside_with_reasons(tmp_path, caplog):
    path = _write(
        tmp_path,
        "p.csv",
        "id,lat,lon\na,54.7,25.3\nb,abc,25\n\nc,125,54\na,55,26\nd,,25\ne,56,24\n,,\n",
    )
    chunks = list(points.scan_points(path, skip_invalid=True, chunk_rows=2))
    rejected = pd.concat([c.rejected for c in chunks], ignore_index=True)
    assert rejected[["row", "field"]].values.tolist() == [
        [2, "lat"],
        [4, "lat"],
        [5, "id"],
        [6, "lat"],
    ]
    assert rejected["reason"].tolist() == [
        "'abc' is not a number",
        "125.0 is outside -90..90 (lat and lon swapped?)",
        "'a' is used by row 1 too",
        "is empty",
    ]
    assert rejected["raw"].tolist() == ["b,abc,25", "c,125,54", "a,55,26", "d,,25"]
    good = pd.concat([c.points for c in chunks], ignore_index=True)
    assert good["id"].tolist() == ["a", "e"]
    assert np.concatenate([c.rows for c in chunks]).tolist() == [1, 7]
    with caplog.at_level("WARNING", logger="geo.points"):
        frame = read_points(path, skip_invalid=True)
    assert frame["id"].tolist() == ["a", "e"]
    assert caplog.messages == [
        "p.csv: skipped 4 invalid row(s); the first, row 2: field 'lat': 'abc' is not a number"
    ]


def test_skip_invalid_geojson_keeps_good_features(tmp_path):
    path = BAD / "null_geometry.geojson"
    (chunk,) = points.scan_points(path, skip_invalid=True)
    assert chunk.points["id"].tolist() == ["a"]
    assert chunk.rejected[["row", "field", "reason"]].values.tolist() == [
        [2, "geometry", "is null"]
    ]
    assert json.loads(chunk.rejected["raw"][0])["properties"] == {"id": "b"}


def test_whole_file_problems_raise_even_when_skipping():
    for name in ("not_utf8.csv", "no_lat_lon.csv", "invalid_json.geojson", "header_only.csv"):
        with pytest.raises(InputError, match=f"^{name}: "):
            read_points(BAD / name, skip_invalid=True)


# --- chunks --------------------------------------------------------------------------------


def test_chunks_give_the_same_points_in_order(tmp_path):
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(-89, 89, 1000), rng.uniform(-179, 179, 1000)
    text = "id,lat,lon\n" + "".join(
        f"p{i},{float(a)!r},{float(o)!r}\n" for i, (a, o) in enumerate(zip(lat, lon, strict=True))
    )
    path = _write(tmp_path, "p.csv", text)
    chunks = list(points.scan_points(path, chunk_rows=128))
    assert len(chunks) == 8
    assert chunks[-1].done == chunks[-1].total == path.stat().st_size
    whole = read_points(path)
    joined = pd.concat([c.points for c in chunks], ignore_index=True)
    assert joined["id"].tolist() == whole["id"].tolist() == [f"p{i}" for i in range(1000)]
    np.testing.assert_array_equal(joined["lat"], lat)
    np.testing.assert_array_equal(whole.geometry.x, lon)


def test_duplicate_ids_are_found_across_chunks(tmp_path):
    path = _write(tmp_path, "p.csv", "id,lat,lon\na,1,2\nb,1,2\nc,1,2\nb,1,2\n")
    with pytest.raises(InputError, match=r"^p\.csv: row 4: field 'id': 'b' is used by row 2 too$"):
        list(points.scan_points(path, chunk_rows=3))


# --- junk that must fail fast ------------------------------------------------------------


class _Counting(io.RawIOBase):
    def __init__(self, path: Path | int) -> None:
        self.handle = open(path, "rb")  # noqa: SIM115  (a path, or an open file descriptor)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.handle.readinto(buffer)
        self.read_bytes += n
        return n

    def close(self) -> None:
        self.handle.close()
        super().close()


def _sparse(path: Path, head: bytes, size: int = 1 << 30) -> Path:
    """A 1 GiB file that takes no disk: ``head`` then zeros (a hole)."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


@pytest.mark.parametrize(
    ("name", "head", "message", "limit"),
    [
        ("junk.csv", b"", r"^junk\.csv: is not a text file \(NUL byte at byte 0\)$", 1 << 16),
        ("junk.csv", b"\xff\xfe" * 40_000, r"^junk\.csv: is not UTF-8 \(byte 0, line 1\)", 1 << 24),
        ("junk.csv", b"x" * 70_000, r"^junk\.csv: line 1 is longer than 8 MiB", 1 << 25),
        (
            "junk.csv",
            b"a;b;c\n" * 20_000,
            r"^junk\.csv: has no lat/lon columns \(columns: a;b;c\)",
            1 << 24,
        ),
        (
            "junk.geojson",
            b"\x00" * 10,
            r"^junk\.geojson: is not valid JSON: it starts with",
            1 << 16,
        ),
    ],
)
def test_a_gigabyte_of_junk_fails_after_reading_little(
    tmp_path, monkeypatch, name, head, message, limit
):
    path = _sparse(tmp_path / name, head)
    opened: list[_Counting] = []

    def counting(p: Path | int):
        opened.append(_Counting(p))
        return io.BufferedReader(opened[-1])

    monkeypatch.setattr(points, "_open_bytes", counting)
    monkeypatch.setattr(geojson, "_reader", counting)
    with pytest.raises(InputError, match=message):
        read_points(path)
    assert opened
    assert sum(c.read_bytes for c in opened) <= limit


# --- property-based fuzzing of the readers ---------------------------------------------------


def _read_or_error(path: Path, skip: bool) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Read a fuzzed file: the frame, or the message of the InputError (any other fails)."""
    try:
        return read_points(path, skip_invalid=skip), None
    except InputError as exc:
        return None, str(exc)


_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-400, 400).map(str),
    st.text(max_size=6),
    st.sampled_from(["", " ", "nan", "-0", "1e400", '"', "\n", "54.7", "25.3"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.sampled_from(["lat,lon", "id,lat,lon", "Latitude,LONGITUDE,x", "a,b"]),
    rows=st.lists(st.lists(_cell, min_size=0, max_size=4), max_size=8),
    skip=st.booleans(),
)
def test_fuzz_csv_reader_gives_points_or_one_line_error(tmp_path, header, rows, skip):
    path = tmp_path / "fuzz.csv"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    path.write_text(header + "\n" + out.getvalue(), encoding="utf-8")
    frame, error = _read_or_error(path, skip)
    if error is not None:
        assert error.startswith("fuzz.csv: ")
        assert "\n" not in error
        return
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    assert np.isfinite(np.r_[x, y]).all()
    assert (np.abs(y) <= 90).all()
    assert (np.abs(x) <= 180).all()
    assert frame.crs.to_epsg() == 4326


_json = st.recursive(
    st.none() | st.booleans() | st.floats(-200, 200) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
_geometry = st.one_of(
    _json,
    st.builds(
        lambda kind, coords: {"type": kind, "coordinates": coords},
        st.sampled_from(["Point", "LineString", "Polygon", "MultiPoint", "Nonsense"]),
        _json,
    ),
    st.builds(
        lambda x, y: {"type": "Point", "coordinates": [x, y]},
        st.floats(-400, 400),
        st.floats(-400, 400),
    ),
)
_features = st.lists(
    st.one_of(
        _json,
        st.builds(
            lambda g, p: {"type": "Feature", "geometry": g, "properties": p},
            _geometry,
            st.dictionaries(
                st.sampled_from(["id", "name", "coord_uncertainty_m"]), _json, max_size=3
            ),
        ),
    ),
    max_size=5,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    top=st.one_of(
        _json, st.builds(lambda f: {"type": "FeatureCollection", "features": f}, _features)
    ),
    skip=st.booleans(),
)
def test_fuzz_geojson_reader_gives_points_or_one_line_error(tmp_path, top, skip):
    path = tmp_path / "fuzz.geojson"
    path.write_text(json.dumps(top), encoding="utf-8")
    frame, error = _read_or_error(path, skip)
    if error is not None:
        assert error.startswith("fuzz.geojson: ")
        assert "\n" not in error
        return
    values = np.asarray(frame.geometry.values, dtype=object)
    assert not shapely.is_missing(values).any()
    xy = shapely.get_coordinates(values)
    assert np.isfinite(xy).all()
    assert (np.abs(xy[:, 1]) <= 90).all()


def _frame(n: int, start: int = 0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(start, start + n)], "distance_m": np.arange(n) + 0.5},
        geometry=gpd.points_from_xy(np.linspace(20, 30, n), np.linspace(50, 60, n)),
        crs=4326,
    )


def test_geoparquet_is_read_by_row_groups(tmp_path):
    frame = _frame(1000)
    frame["coord_uncertainty_m"] = 10.0
    frame.loc[700, "coord_uncertainty_m"] = -1.0
    path = write_points(frame, tmp_path / "p.parquet")
    chunks = list(points.scan_points(path, chunk_rows=100, skip_invalid=True))
    assert len(chunks) == 10
    assert [c.done for c in chunks][-1] == chunks[-1].total == 1000
    joined = pd.concat([c.points for c in chunks], ignore_index=True)
    assert joined["id"].tolist() == [f"p{i}" for i in range(1000) if i != 700]
    rejected = pd.concat([c.rejected for c in chunks])
    assert rejected[["row", "field"]].values.tolist() == [[701, "coord_uncertainty_m"]]
    with pytest.raises(InputError, match=r"^p\.parquet: feature 701: field 'coord_uncertainty_m'"):
        read_points(path)


# --- hostile files: each format opened only by its own reader, no other file, no network -----


def _vrt(source: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="secret">'
        f"<SrcDataSource>{source}</SrcDataSource><GeometryType>wkbPoint</GeometryType>"
        '<GeometryField encoding="PointFromColumns" x="lon" y="lat"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


@pytest.fixture
def http_log():
    """A local HTTP server that records every request made to it."""
    import http.server
    import threading

    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            requests.append(f"{self.command} {self.path}")
            body = b"id,secret,lat,lon\nr1,REMOTE-VALUE,54.7,25.3\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        do_GET = do_HEAD = _answer  # noqa: N815 (the names http.server calls)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".parquet"])
def test_a_vrt_in_disguise_reads_no_other_file(tmp_path, suffix):
    _write(tmp_path, "secret.csv", "id,secret,lat,lon\ns1,TOP-SECRET-VALUE,54.7,25.3\n")
    path = _write(tmp_path, f"evil{suffix}", _vrt(str(tmp_path / "secret.csv")))
    kind = {".gpkg": "a GeoPackage", ".parquet": "a Parquet file"}.get(suffix)
    message = (
        rf"^evil\{suffix}: is not {kind} \(.*\); it starts with '<OGRVRTData…'$"
        if kind
        else r"^evil\.geojson: is not valid JSON: it starts with '<OGRVRTDataSource><…'"
    )
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_a_vrt_in_disguise_fetches_no_url(tmp_path, http_log):
    url, requests = http_log
    path = _write(tmp_path, "evil.gpkg", _vrt(f"/vsicurl/{url}/remote.csv"))
    with pytest.raises(InputError, match=r"^evil\.gpkg: is not a GeoPackage"):
        read_points(path)
    assert requests == []


@pytest.mark.parametrize(
    "given",
    ["/vsicurl/http://127.0.0.1:1/p.csv", "/vsizip//tmp/p.zip/p.csv", "https://example.org/p.csv"],
)
def test_virtual_paths_and_urls_are_refused(given):
    with pytest.raises(InputError, match=r"is a GDAL virtual path or a URL; flankmap reads local"):
        read_points(given)


def test_gdal_reads_with_the_safe_options_and_restores_them(tmp_path, monkeypatch):
    import pyogrio

    gpd.GeoDataFrame({"id": ["a"]}, geometry=gpd.points_from_xy([25.0], [54.0]), crs=4326).to_file(
        tmp_path / "ok:colon.gpkg", driver="GPKG"
    )
    seen: dict[str, object] = {}
    real = pyogrio.read_dataframe

    def spy(name, *args, **kwargs):
        seen["name"] = name
        seen.update({k: pyogrio.get_gdal_config_option(k) for k in points.GDAL_READ_OPTIONS})
        return real(name, *args, **kwargs)

    monkeypatch.setattr(pyogrio, "read_dataframe", spy)
    pyogrio.set_gdal_config_options({"ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": "YES"})
    try:
        frame = read_points(tmp_path / "ok:colon.gpkg")
        after = pyogrio.get_gdal_config_option("ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW")
    finally:
        pyogrio.set_gdal_config_options({"ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": None})
    assert frame["id"].tolist() == ["a"]
    assert seen["name"] == f'GPKG:"{tmp_path / "ok:colon.gpkg"}"'  # this driver, no other
    assert seen["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"] == ".flankmap-no-network"
    assert seen["ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW"] == "NO"
    assert seen["OGR_SQLITE_ALLOW_EXTERNAL_ACCESS"] == "NO"
    assert after == "YES"  # the caller's setting is back


def test_an_sqlite_file_that_is_no_geopackage(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "plain.gpkg") as db:
        db.execute("create table t (lat real, lon real)")
    with pytest.raises(InputError, match=r"^plain\.gpkg: cannot be read \(.*\)$"):
        read_points(tmp_path / "plain.gpkg")


def test_a_geopackage_of_several_layers_names_them(tmp_path):
    path = tmp_path / "two.gpkg"
    for name in ("bases", "depots\x1b[2J"):
        gpd.GeoDataFrame(
            {"id": [name]}, geometry=gpd.points_from_xy([25.0], [54.0]), crs=4326
        ).to_file(path, layer=name, driver="GPKG")
    with pytest.raises(
        InputError,
        match=r"^two\.gpkg: holds 2 layers \('bases', 'depots\\x1b\[2J'\); flankmap reads a "
        r"GeoPackage of one layer: save the layer you want in a file of its own$",
    ):
        read_points(path)


def test_a_fifo_is_not_a_regular_file(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(InputError, match=r"^pipe\.csv: is not a regular file \(a FIFO"):
        read_points(tmp_path / "pipe.csv")


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (  # GDAL would renumber the repeated Feature id with a RuntimeWarning
            [
                {**_feature(25, 54, name="a"), "id": 1},
                {**_feature(25, 55, name="b"), "id": 1},
            ],
            r"^p\.geojson: feature 2: field 'id': '1' is used by feature 1 too$",
        ),
        (  # GDAL would warn "Non closed ring detected" before an error
            [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[25, 54], [26, 54], [26, 55]]],
                    },
                }
            ],
            r"^p\.geojson: feature 1: field 'geometry': is not a valid Polygon \(ring 1 is not "
            r"closed: its last position is not its first\)$",
        ),
    ],
)
def test_gdal_warnings_become_flankmap_errors(tmp_path, features, message):
    path = _write(tmp_path, "p.geojson", _collection(*features))
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_numeric_feature_ids_are_kept(tmp_path):
    path = _write(
        tmp_path,
        "p.geojson",
        _collection({**_feature(25, 54), "id": 7}, {**_feature(25, 55), "id": 8}),
    )
    assert read_points(path)["id"].tolist() == [7, 8]


def test_library_warnings_are_one_line_notices(tmp_path, caplog):
    path = _write(
        tmp_path, "p.geojson", _collection(_feature(25, 54, n=[1, 2]), _feature(25, 55, n="x"))
    )
    with caplog.at_level("WARNING", logger="geo.points"):
        frame = read_points(path)  # warnings are errors in the tests: none may escape
    assert frame["n"].tolist() == ["[ 1, 2 ]", "x"]
    assert caplog.messages == [
        "p.geojson: field 'n': mixes lists or objects with other values; kept as text"
    ]


# --- GeoParquet: reads bounded by bytes, not only by rows ----------------------------------


def _parquet(path: Path, n: int, notes, **options) -> Path:
    import pyarrow.parquet as pq
    from geopandas.io.arrow import _geopandas_to_arrow

    frame = gpd.GeoDataFrame(
        {"id": [f"a{i}" for i in range(n)]},
        geometry=gpd.points_from_xy([25.0] * n, [54.0] * n),
        crs=4326,
    )
    table = _geopandas_to_arrow(frame, index=False).append_column("notes", notes)
    pq.write_table(table, path, compression="zstd", **options)
    return path


def test_a_repeated_large_value_is_refused_before_it_expands(tmp_path, monkeypatch):
    import pyarrow as pa

    monkeypatch.setattr(points, "PARQUET_ROW_BYTES", 1 << 20)
    path = _parquet(tmp_path / "bomb.parquet", 8, pa.array(["x" * (2 << 20)] * 8))
    assert path.stat().st_size < 20_000
    with pytest.raises(
        InputError,
        match=r"^bomb\.parquet: row group 1: field 'notes': holds a value of 2\.1 MB, which any "
        r"row may repeat; flankmap reads rows of at most 1 MB$",
    ):
        read_points(path)


def test_large_plain_rows_are_refused_from_the_metadata(tmp_path, monkeypatch):
    import pyarrow as pa

    monkeypatch.setattr(points, "PARQUET_ROW_BYTES", 1 << 20)
    path = _parquet(
        tmp_path / "plain.parquet", 4, pa.array(["x" * (2 << 20)] * 4), use_dictionary=False
    )
    with pytest.raises(
        InputError,
        match=r"^plain\.parquet: row group 1: holds 8\.4 MB when decompressed for 4 rows \(2\.1 MB "
        r"a row, from .* in the file\); flankmap reads rows of at most 1 MB$",
    ):
        read_points(path)


def test_a_dictionary_bomb_is_refused_by_its_decoded_size(tmp_path, monkeypatch):
    import pyarrow as pa

    monkeypatch.setattr(points, "PARQUET_EXPANSION_FLOOR", 4 << 20)
    indices = pa.array(np.zeros(2000, np.int32))
    notes = pa.DictionaryArray.from_arrays(indices, pa.array(["y" * 50_000]))
    path = _parquet(tmp_path / "dict.parquet", 2000, notes)  # 100 MB of text from a few KB
    assert path.stat().st_size < 20_000
    with pytest.raises(
        InputError,
        match=r"^dict\.parquet: decodes to more than 4\.2 MB from .* KB in the file; flankmap "
        r"refuses such a decompression bomb$",
    ):
        for _ in points.scan_points(path):
            pass


def test_geoparquet_batches_are_bounded_by_bytes(tmp_path, monkeypatch):
    import pyarrow as pa

    path = _parquet(
        tmp_path / "wide.parquet", 200, pa.array([f"{i:04d}" * 2500 for i in range(200)])
    )
    whole = read_points(path)
    monkeypatch.setattr(points, "PARQUET_BATCH_BYTES", 200_000)  # about 20 rows of 10 KB
    chunks = list(points.scan_points(path, chunk_rows=1000))
    assert max(len(c.points) for c in chunks) <= 20
    assert len(chunks) >= 10
    pd.testing.assert_frame_equal(
        pd.concat([c.points for c in chunks], ignore_index=True), whole, check_like=False
    )


def test_geo_metadata_naming_a_missing_column_is_one_line(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    write_points(gpd.GeoDataFrame(geometry=gpd.points_from_xy([25.0], [54.0]), crs=4326), path)
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"geo"])
    meta["columns"] = {"geom": meta["columns"]["geometry"]}
    meta["primary_column"] = "geom"
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(meta)}), path)
    with pytest.raises(
        InputError,
        match=r"^p\.parquet: has 'geo' metadata naming the geometry column 'geom', which the file "
        r"does not have \(columns: geometry\)$",
    ):
        read_points(path)


# --- numbers: finite, plain; headers: fast, checked; user columns kept ----------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id,lat,lon,coord_uncertainty_m\na,54.7,25.3,inf\n",
            r"^p\.csv: row 1: field 'coord_uncertainty_m': 'inf' is not a finite number$",
        ),
        (
            "id,lat,lon,coord_uncertainty_m\na,54.7,25.3,1e400\n",
            r"^p\.csv: row 1: field 'coord_uncertainty_m': '1e400' is not a finite number$",
        ),
        (
            "id,lat,lon\na,5_4.7,25.3\n",
            r"^p\.csv: row 1: field 'lat': '5_4\.7' is not a plain number \(digits 0-9, '\.', "
            r"no '_'; e\.g\. 54\.7\)$",
        ),
        (
            "id,lat,lon\na,54.7,\u0662\u0665.\u0663\n",
            r"^p\.csv: row 1: field 'lon': '٢٥\.٣' is not a plain",
        ),
        (
            "id,lat,lon\na,\uff15\uff14.\uff17,25.3\n",
            r"^p\.csv: row 1: field 'lat': '５４\.７' is not a plain",
        ),
        (
            "id,lat,lon,coord_uncertainty_m\na,54.7,25.3,1_0\n",
            r"^p\.csv: row 1: field 'coord_uncertainty_m': '1_0' is not a plain number",
        ),
        (
            "id|lat|lon\na|54.7|25.3\n",
            r"^p\.csv: has no lat/lon columns \(columns: id\|lat\|lon\); its header holds '\|': "
            r"flankmap reads files separated by commas, semicolons or tabs, so save it with one "
            r"of these between the columns$",
        ),
        ("id;lat;lon\na;54,7;25.3\n", r"^p\.csv: row 1: field 'lon': '25\.3' has a '\.', but"),
        (
            "id,,,lat,lon\na,b,c,54.7,25.3\n",
            r"^p\.csv: header: columns 2, 3 have no name; give every column a name$",
        ),
        (
            "id,lat,LAT,lon\na,1,2,3\n",
            r"^p\.csv: header: field 'LAT': is the name of two columns \('lat' too; names are "
            r"matched in any case\)$",
        ),
    ],
)
def test_csv_numbers_and_headers(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        read_points(_write(tmp_path, "p.csv", text))


def test_non_finite_numbers_from_other_formats_are_refused(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "coord_uncertainty_m": [1.0, np.inf], "speed": [1.0, 2.0]},
        geometry=gpd.points_from_xy([25.0, 25.1], [54.0, 54.1]),
        crs=4326,
    )
    frame.to_file(tmp_path / "u.gpkg", driver="GPKG")
    with pytest.raises(
        InputError, match=r"^u\.gpkg: feature 2: field 'coord_uncertainty_m': inf is not a finite"
    ):
        read_points(tmp_path / "u.gpkg")
    frame["coord_uncertainty_m"] = [1.0, np.nan]
    frame.to_file(tmp_path / "n.gpkg", driver="GPKG")
    with pytest.raises(
        InputError,
        match=r"^n\.gpkg: feature 2: field 'coord_uncertainty_m': nan is empty or not a number$",
    ):
        read_points(tmp_path / "n.gpkg")
    frame["coord_uncertainty_m"] = [1.0, 2.0]
    frame["speed"] = [1.0, -np.inf]
    write_points(frame, tmp_path / "s.parquet")
    with pytest.raises(
        InputError, match=r"^s\.parquet: feature 2: field 'speed': -inf is not a finite"
    ):
        read_points(tmp_path / "s.parquet")


def test_an_infinite_number_in_a_csv_is_refused(tmp_path):
    path = _write(tmp_path, "p.csv", "id,lat,lon,coord_uncertainty_m\na,54.7,25.3,inf\n")
    with pytest.raises(InputError, match="is not a finite number"):
        read_points(path)


def test_a_wide_header_is_checked_in_linear_time(tmp_path):
    import time

    names = [f"c{i}" for i in range(200_000)]
    start = time.perf_counter()
    points._check_header(tmp_path / "w.csv", names, [n.lower() for n in names])
    assert time.perf_counter() - start < 2  # the count per name took 111 s for 100,000
    path = _write(
        tmp_path,
        "wide.csv",
        ",".join(["lat", "lon", *names[:20_000]]) + "\n" + ",".join(["54", "25"] + ["x"] * 20_000),
    )
    assert read_points(path).shape == (1, 20_003)
    with pytest.raises(InputError, match=r"header: field 'c5': is the name of two columns"):
        read_points(_write(tmp_path, "dup.csv", "lat,lon,c5," + ",".join(names) + "\n"))


def test_uncertainty_is_recognised_in_any_case(tmp_path):
    frame = read_points(
        _write(tmp_path, "p.csv", "id,lat,lon,Coord_Uncertainty_M\na,54.7,25.3,100\n")
    )
    assert list(frame.columns) == ["id", "lat", "lon", "coord_uncertainty_m", "geometry"]
    assert frame["coord_uncertainty_m"].tolist() == [100.0]
    with pytest.raises(InputError, match=r"field 'COORD_UNCERTAINTY_M': '-1' is negative"):
        read_points(_write(tmp_path, "q.csv", "lat,lon,COORD_UNCERTAINTY_M\n54.7,25.3,-1\n"))


def test_a_user_column_named_geometry_is_kept(tmp_path, caplog):
    path = _write(tmp_path, "p.csv", "id,geometry,lat,lon\na,POINT(1 2),54.7,25.3\n")
    with caplog.at_level("WARNING", logger="geo.points"):
        frame = read_points(path)
    assert frame["geometry_input"].tolist() == ["POINT(1 2)"]
    assert frame.geometry.iloc[0].equals(shapely.Point(25.3, 54.7))
    assert caplog.messages == [
        "p.csv: column 'geometry' is kept as 'geometry_input' (flankmap's geometry column has "
        "that name)"
    ]
    caplog.clear()
    gj = _write(tmp_path, "p.geojson", _collection(_feature(25, 54, geometry="area 7")))
    with caplog.at_level("WARNING", logger="geo.points"):
        frame = read_points(gj)
    assert frame["geometry_input"].tolist() == ["area 7"]
    assert caplog.messages == [
        "p.geojson: property 'geometry' is kept as 'geometry_input' (flankmap's geometry column "
        "has that name)"
    ]


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            {"type": "Point", "coordinates": ["25", "54"]},
            r"feature 1: field 'geometry': has the coordinate \"25\", which is not a number$",
        ),
        (
            {"type": "Point", "coordinates": [True, False]},
            r"feature 1: field 'geometry': has the coordinate true, which is not a number$",
        ),
        (
            {"type": "LineString", "coordinates": [[25, 54], [25, None]]},
            r"feature 1: field 'geometry': has the coordinate null, which is not a number$",
        ),
    ],
)
def test_coordinates_that_are_not_numbers_are_named(tmp_path, geometry, message):
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    with pytest.raises(InputError, match=message):
        read_points(_write(tmp_path, "p.geojson", _collection(feature)))


@pytest.mark.parametrize("where", ["top", "property", "coordinates"])
def test_deeply_nested_geojson_is_one_line(tmp_path, where):
    deep = "[" * 5000 + "]" * 5000

    def feature(props: str, coordinates: str) -> str:
        return (
            '{"type":"Feature","properties":{"x":' + props + "},"
            '"geometry":{"type":"Point","coordinates":' + coordinates + "}}"
        )

    start = '{"type":"FeatureCollection","features":['
    body = {
        "top": start + '],"x":' + deep + "}",
        "property": start + feature(deep, "[25,54]") + "]}",
        "coordinates": start + feature("1", deep) + "]}",
    }[where]
    with pytest.raises(
        InputError,
        match=r"^deep\.geojson: nests arrays or objects too deeply to be read \(GeoJSON needs a "
        r"few levels\)$",
    ):
        read_points(_write(tmp_path, "deep.geojson", body))


def test_a_crs_member_flankmap_cannot_read_is_refused(tmp_path):
    crs = {"type": "name", "properties": {"name": "EPSG:999999"}}
    text = json.dumps({"type": "FeatureCollection", "crs": crs, "features": [_feature(25, 54)]})
    with pytest.raises(
        InputError,
        match=r"^p\.geojson: field 'crs': 'EPSG:999999' is not a CRS flankmap knows; GeoJSON is "
        r"WGS84 lon/lat: remove the 'crs' member, or name a known one such as EPSG:3035$",
    ):
        read_points(_write(tmp_path, "p.geojson", text))


def test_3d_points_are_not_said_to_be_reprojected(tmp_path, caplog):
    path = _write(
        tmp_path,
        "p.geojson",
        _collection(
            {**_feature(25, 54), "geometry": {"type": "Point", "coordinates": [25, 54, 120]}}
        ),
    )
    with caplog.at_level("WARNING", logger="geo.points"):
        frame = read_points(path)
    assert caplog.messages == []
    assert frame.crs.to_epsg() == 4326


def test_the_fast_number_check_with_the_cast_takes_what_the_pattern_takes():
    """Every short text of number characters: bytes checked, then cast, as the pattern."""
    import itertools
    import re

    import pyarrow as pa

    pattern = re.compile(points._FAST_NUMBER)
    texts = ["".join(t) for n in range(6) for t in itertools.product("10.+-eE", repeat=n)] + [
        "1e400",
        " 1",
        "1_0",
        "nan",
        "inf",
        "٣",
        "0x1",
    ]
    for text in texts:
        cell = pa.array([text], pa.string())
        fast = points._fast_numbers(cell, ".")
        if fast:
            try:
                pa.compute.cast(cell, pa.float64())
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                fast = False
        assert fast == bool(pattern.match(text)), text
