"""geo.distance on dask: a local cluster of two processes gives the in-memory result row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
dask_geopandas = pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")

import geopandas as gpd  # noqa: E402
import pyogrio  # noqa: E402

from geo import distance, points, writers  # noqa: E402
from geo.cli import main  # noqa: E402


def _points(n: int = 400) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(12, 32, n), rng.uniform(43, 61, n)
    return gpd.GeoDataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "coord_uncertainty_m": rng.uniform(0, 500, n),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def client():
    # The active memory manager drops spare replicas of data no task needs any more, which
    # would race with the check that the broadcast reached every worker: keep it off here.
    with (
        dask.config.set({"distributed.scheduler.active-memory-manager.start": False}),
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Both workers must be up before a test scatters: a broadcast reaches only the workers
        # connected at that moment.
        client.wait_for_workers(2, timeout=60)
        yield client


def _same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        if column == expected.geometry.name:
            assert got[column].geom_equals(expected[column]).all()
        else:
            pd.testing.assert_series_equal(got[column], expected[column], check_dtype=False)


@pytest.mark.slow
@pytest.mark.parametrize("kind", [{"frontier": "RUS,BLR:NATO"}, {"to": "RUS,BLR"}])
def test_local_cluster_matches_in_memory_row_by_row(client, kind):
    frame = _points()
    expected = distance.distances(frame, as_of="2025-01-01", **kind)
    ddf = dask_geopandas.from_geopandas(frame, npartitions=4)
    lazy = distance.distances(ddf, as_of="2025-01-01", **kind)
    assert isinstance(lazy, dask_geopandas.GeoDataFrame)
    assert list(lazy.columns) == list(expected.columns)  # meta given, nothing computed yet
    got = lazy.compute().reset_index(drop=True)
    _same(expected, got)
    # The target went to the workers once, as one scattered object on every worker.
    held = client.run(lambda dask_worker: list(dask_worker.data.keys()))
    assert all(any("Target" in str(key) for key in keys) for keys in held.values())


@pytest.mark.slow
def test_cli_engine_dask_over_a_folder_of_parts(client, tmp_path, capsys):
    frame = _points(300)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        writers.write_points(frame.iloc[part], folder / f"part{i}.parquet")
    out = tmp_path / "out.parquet"
    args = ["distances", "--engine", "dask", "--points", str(folder), "-o", str(out)]
    address = client.scheduler.address
    assert main([*args, "--scheduler", address, "--as-of", "2025-01-01"]) == 0
    assert "wrote" in capsys.readouterr().out
    got = points.read_points(out)
    expected = distance.distances(frame.reset_index(drop=True), as_of="2025-01-01")
    _same(expected, got)


def test_cli_engine_dask_writes_the_format_given(tmp_path, capsys):
    frame = _points(60)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 2)):
        writers.write_points(frame.iloc[part], folder / f"part{i}.parquet")
    out = tmp_path / "out.dat"
    args = ["distances", "--engine", "dask", "--points", str(folder), "--format", "fgb"]
    assert main([*args, "-o", str(out), "--as-of", "2025-01-01"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert out.read_bytes()[:3] == b"fgb"
    got = pyogrio.read_dataframe(out)
    expected = distance.distances(frame.reset_index(drop=True), as_of="2025-01-01")
    np.testing.assert_array_equal(got["distance_m"], expected["distance_m"])


def test_dask_engine_errors_are_one_line(tmp_path, capsys):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("lat,lon\n54,25\n", encoding="utf-8")
    (folder / "b.parquet").write_bytes(b"PAR1")
    out = tmp_path / "out.parquet"
    assert main(["distances", "--engine", "dask", "--points", str(folder), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "flankmap: error: parts: the folder mixes .csv and .parquet parts; use one kind\n"
    )
    (folder / "b.parquet").unlink()
    (folder / "c.csv").write_text("lat,lon\n54,25\n54,x\n", encoding="utf-8")
    assert main(["distances", "--engine", "dask", "--points", str(folder), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "flankmap: error: c.csv: row 2: field 'lon': 'x' is not a number\n"
    )
    assert not out.exists()


def test_ids_are_checked_across_parts(tmp_path, capsys):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("id,lat,lon\nx,54,25\na,54.7,25.3\n", encoding="utf-8")
    (folder / "d.csv").write_text("id,lat,lon\n\nb,55,25\na,55.1,24\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    assert main(["distances", "--engine", "dask", "--points", str(folder), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "flankmap: error: d.csv: row 3: field 'id': 'a' is used by a.csv row 2 too (ids must be "
        "unique across the parts)\n"
    )
    assert not out.exists()


def test_dask_meta_keeps_colliding_columns():
    frame = _points(40).assign(border="mine")
    parts = dask_geopandas.from_geopandas(frame, npartitions=2)
    result = distance.distances(parts, as_of="2021-10-20")
    assert "border_input" in result.columns
    computed = result.compute()
    assert list(computed.columns) == list(result.columns)
    assert (computed["border_input"] == "mine").all()


@pytest.mark.slow
def test_plain_parquet_parts_are_read_like_csv_parts(client, tmp_path, capsys):
    # Parts with id, lat, lon columns and no 'geo' metadata: the same result as CSV parts.
    frame = _points(200).drop(columns="coord_uncertainty_m")
    plain = pd.DataFrame({"id": frame["id"], "lat": frame.geometry.y, "lon": frame.geometry.x})
    results = {}
    for kind in ("csv", "parquet"):
        folder = tmp_path / kind
        folder.mkdir()
        for i, part in enumerate(np.array_split(np.arange(len(plain)), 2)):
            rows = plain.iloc[part]
            if kind == "csv":
                rows.to_csv(folder / f"part{i}.csv", index=False)
            else:
                rows.to_parquet(folder / f"part{i}.parquet", index=False)
        out = tmp_path / f"out_{kind}.parquet"
        args = ["distances", "--engine", "dask", "--points", str(folder), "-o", str(out)]
        assert main([*args, "--scheduler", client.scheduler.address]) == 0
        assert "wrote" in capsys.readouterr().out
        results[kind] = points.read_points(out)
    _same(results["csv"], results["parquet"])
    assert results["parquet"]["id"].tolist() == plain["id"].tolist()
