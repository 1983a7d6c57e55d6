"""geo.duckdb: SQL functions over the exact engine give geo.distance's result, row for row."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import geopandas as gpd  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from geo import borders, distance  # noqa: E402
from geo._errors import InputError  # noqa: E402
from geo.duckdb import register  # noqa: E402

AS_OF = "2024-01-01"
FIELDS = ["distance_m", "nearest_lat", "nearest_lon", "border", "bearing_deg"]


def _points(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"id": np.arange(n), "lon": rng.uniform(12, 34, n), "lat": rng.uniform(45, 62, n)}
    )


def _expected(frame: pd.DataFrame, **target) -> gpd.GeoDataFrame:
    points = gpd.GeoDataFrame(
        frame[["id"]], geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326
    )
    return distance.distances(points, as_of=AS_OF, **target)


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _struct_frame(con, table: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    con.register("pts", table)
    select = ", ".join(f"(flankmap_nearest(lon, lat)).{f} AS {f}" for f in fields)
    return con.sql(f"SELECT id, flankmap_distance_m(lon, lat) AS d, {select} FROM pts").df()


def test_frontier_functions_equal_distances_exactly(con):
    # 5000 rows are three Arrow batches: batching must not change a single bit.
    table = _points(5000)
    assert register(con, frontier="RUS,BLR:NATO", as_of=AS_OF) == [
        "frontier_m",
        "flankmap_distance_m",
        "flankmap_nearest",
    ]
    got = _struct_frame(con, table, FIELDS)
    want = _expected(table, frontier="RUS,BLR:NATO")
    assert got["id"].tolist() == table["id"].tolist()
    np.testing.assert_array_equal(got["d"].to_numpy(), want["distance_m"].to_numpy())
    for field in FIELDS:
        np.testing.assert_array_equal(got[field].to_numpy(), want[field].to_numpy())
    assert set(got["border"]) >= {"BLR-POL", "LTU-RUS"}


def test_default_frontier_is_the_documented_one(con):
    table = _points(50, seed=9)
    register(con, as_of=AS_OF)
    con.register("pts", table)
    got = con.sql("SELECT flankmap_distance_m(lon, lat) AS d FROM pts").df()["d"].to_numpy()
    want = distance.to_frontier(table["lon"], table["lat"], "RUS,BLR:NATO", as_of=AS_OF)
    np.testing.assert_array_equal(got, want["distance_m"].to_numpy())


def test_a_frontier_frame_measures_as_its_spec(con):
    table = _points(2500, seed=8)
    frame = borders.frontier(["RUS", "BLR"], borders.resolve_group("NATO", as_of=AS_OF))
    register(con, frontier=frame.to_crs("EPSG:3035"), as_of=AS_OF)  # any CRS
    got = _struct_frame(con, table, FIELDS)
    want = _expected(table, frontier="RUS,BLR:NATO")
    assert got["border"].tolist() == want["border"].tolist()
    # The frame went to EPSG:3035 and back: the lines moved by nanometres at most.
    np.testing.assert_allclose(got["distance_m"], want["distance_m"], rtol=0, atol=1e-3)
    register(con, frontier=frame, as_of=AS_OF, prefix="same", name="same_m")
    con.register("pts", table)
    exact = con.sql("SELECT same_distance_m(lon, lat) AS d, same_m(lon, lat) AS m FROM pts").df()
    np.testing.assert_array_equal(exact["d"].to_numpy(), want["distance_m"].to_numpy())
    np.testing.assert_array_equal(exact["m"].to_numpy(), want["distance_m"].to_numpy())


def test_territory_functions_equal_distances_and_say_inside(con):
    table = _points(3000, seed=5)
    register(con, to="RUS,BLR", as_of=AS_OF, prefix="east")
    con.register("pts", table)
    got = con.sql(
        "SELECT id, east_distance_m(lon, lat) AS d, (east_nearest(lon, lat)).inside AS inside, "
        "(east_nearest(lon, lat)).border AS border FROM pts"
    ).df()
    want = _expected(table, to="RUS,BLR")
    np.testing.assert_array_equal(got["d"].to_numpy(), want["distance_m"].to_numpy())
    assert got["inside"].tolist() == want["inside"].tolist()
    assert got["border"].tolist() == want["border"].tolist()
    assert {"RUS", "BLR", ""} <= set(got["inside"])
    assert (got.loc[got["inside"] != "", "d"] == 0).all()


def test_query_over_parquet_keeps_row_order(con, tmp_path):
    table = _points(4500, seed=11)
    path = tmp_path / "points.parquet"
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path, row_group_size=1000)
    register(con, frontier="BLR:POL,LTU", as_of=AS_OF)
    got = con.sql(
        "SELECT id, flankmap_distance_m(lon, lat) AS d FROM read_parquet(?)", params=[str(path)]
    ).df()
    want = _expected(table, frontier="BLR:POL,LTU")
    assert got["id"].tolist() == list(range(4500))
    np.testing.assert_array_equal(got["d"].to_numpy(), want["distance_m"].to_numpy())


def test_null_in_null_out(con):
    register(con, frontier="BLR:POL", as_of=AS_OF)
    rows = con.sql(
        "SELECT id, flankmap_distance_m(lon, lat), flankmap_nearest(lon, lat) FROM (VALUES "
        "(1, 23.0, 53.0), (2, NULL, 53.0), (3, 23.0, NULL), (4, NULL, NULL), (5, 24.0, 52.0)"
        ") t(id, lon, lat) ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert [r[1] is None for r in rows] == [False, True, True, True, False]
    assert [r[2] is None for r in rows] == [False, True, True, True, False]
    want = distance.to_frontier([23.0, 24.0], [53.0, 52.0], "BLR:POL", as_of=AS_OF)
    assert [rows[0][1], rows[4][1]] == want["distance_m"].tolist()
    assert rows[4][2]["border"] == "BLR-POL"


_ROWS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(12, 34)),
        st.one_of(st.none(), st.floats(45, 62)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(rows=_ROWS)
def test_any_rows_give_the_engine_result_or_null_in_place(rows):
    with duckdb.connect() as con:
        register(con, frontier="BLR:POL,LTU", as_of=AS_OF)
        table = pd.DataFrame(
            {
                "i": range(len(rows)),
                "lon": pd.array([r[0] for r in rows], dtype="Float64"),
                "lat": pd.array([r[1] for r in rows], dtype="Float64"),
            }
        )
        con.register("pts", table)
        got = con.sql("SELECT flankmap_distance_m(lon, lat) AS d FROM pts ORDER BY i").df()["d"]
    known = [i for i, (lon, lat) in enumerate(rows) if lon is not None and lat is not None]
    assert got.isna().tolist() == [i not in known for i in range(len(rows))]
    if known:
        want = distance.to_frontier(
            [rows[i][0] for i in known], [rows[i][1] for i in known], "BLR:POL,LTU", as_of=AS_OF
        )
        np.testing.assert_array_equal(got.iloc[known].to_numpy(), want["distance_m"].to_numpy())


@pytest.mark.parametrize(
    ("lon", "lat", "shown"),
    [
        ("23.0", "95.0", "lat 95.0"),
        ("23.0", "-90.5", "lat -90.5"),
        ("181.0", "53.0", "lon 181.0"),
        ("'nan'::DOUBLE", "53.0", "lon nan"),
        ("23.0", "'inf'::DOUBLE", "lat inf"),
    ],
)
def test_a_value_that_is_not_a_position_stops_the_query_naming_it(con, lon, lat, shown):
    register(con, frontier="BLR:POL", as_of=AS_OF)
    query = f"SELECT flankmap_distance_m(lon, lat) FROM (VALUES (23.0, 53.0), ({lon}, {lat})) t(lon, lat)"
    with pytest.raises(duckdb.InvalidInputException, match=f"flankmap_distance_m: .*{shown}"):
        con.sql(query).fetchall()


def test_register_checks_its_arguments_before_any_query(con):
    with pytest.raises(InputError, match="not both"):
        register(con, frontier="BLR:POL", to="RUS")
    with pytest.raises(InputError):
        register(con, frontier="BLR:XXX", as_of=AS_OF)
    with pytest.raises(InputError, match="prefix"):
        register(con, frontier="BLR:POL", prefix="bad name; DROP")
    with pytest.raises(InputError, match="name 'bad name'"):
        register(con, frontier="BLR:POL", name="bad name")
    with pytest.raises(InputError, match="name 'flankmap_nearest'"):
        register(con, frontier="BLR:POL", name="flankmap_nearest")
    assert con.sql(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name LIKE 'flankmap%' "
        "OR function_name IN ('frontier_m', 'territory_m')"
    ).fetchall() == [(0,)]


def test_a_second_target_needs_other_names_and_adds_nothing_until_given(con):
    register(con, frontier="BLR:POL", as_of=AS_OF)
    with pytest.raises(
        InputError,
        match="has a function flankmap_distance_m, flankmap_nearest, frontier_m already",
    ):
        register(con, frontier="BLR:LTU", as_of=AS_OF)
    with pytest.raises(InputError, match="has a function frontier_m already"):
        register(con, frontier="BLR:LTU", as_of=AS_OF, prefix="ltu")
    assert register(con, frontier="BLR:LTU", as_of=AS_OF, prefix="ltu", name="ltu_m") == [
        "ltu_m",
        "ltu_distance_m",
        "ltu_nearest",
    ]
    [(pol, ltu)] = con.sql("SELECT frontier_m(25.0, 54.0), ltu_m(25.0, 54.0)").fetchall()
    want = distance.to_frontier([25.0, 25.0], [54.0, 54.0], "BLR:POL", as_of=AS_OF)
    assert pol == want.loc[0, "distance_m"]
    assert ltu == distance.to_frontier([25.0], [54.0], "BLR:LTU", as_of=AS_OF).loc[0, "distance_m"]


def test_the_issue_spelling_over_a_parquet_glob(con, tmp_path, monkeypatch):
    # SELECT frontier_m(lon, lat) FROM 'points/*.parquet', and territory_m for to=.
    table = _points(3000, seed=12)
    (tmp_path / "points").mkdir()
    for k in range(3):
        part = table.iloc[k * 1000 : (k + 1) * 1000]
        part.to_parquet(tmp_path / "points" / f"part-{k}.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    register(con, frontier="RUS,BLR:NATO", as_of=AS_OF)
    register(con, to="RUS,BLR", as_of=AS_OF, prefix="east")
    got = con.sql(
        "SELECT id, frontier_m(lon, lat) AS f, territory_m(lon, lat) AS t "
        "FROM 'points/*.parquet' ORDER BY id"
    ).df()
    want_f = _expected(table, frontier="RUS,BLR:NATO")
    want_t = _expected(table, to="RUS,BLR")
    assert got["id"].tolist() == table["id"].tolist()
    np.testing.assert_array_equal(got["f"].to_numpy(), want_f["distance_m"].to_numpy())
    np.testing.assert_array_equal(got["t"].to_numpy(), want_t["distance_m"].to_numpy())


@pytest.mark.parametrize("target", [{"frontier": "RUS,BLR:NATO"}, {"to": "RUS,BLR"}])
def test_queries_only_evaluate_what_register_prepared(con, monkeypatch, target):
    # Nothing is built (border data read, lines made, a CRS used) inside DuckDB's threads:
    # empty the caches, register, break every builder, then query points inside and beyond
    # the coverage of the OSM extract (the latter measured on Natural Earth).
    points = pd.DataFrame(
        {"id": [0, 1, 2], "lon": [24.0, -60.0, 150.0], "lat": [54.0, -30.0, -40.0]}
    )
    want = _expected(points, **target)
    distance._frontier_lines.cache_clear()
    distance._territory_target.cache_clear()
    register(con, as_of=AS_OF, **target)

    def broken(*args, **kwargs):
        raise AssertionError("built in a query")

    monkeypatch.setattr(borders, "countries", broken)
    monkeypatch.setattr(borders, "frontier", broken)
    monkeypatch.setattr(distance, "target", broken)
    monkeypatch.setattr(distance, "line_set", broken)
    monkeypatch.setattr(gpd.GeoDataFrame, "to_crs", broken)
    name = "territory_m" if "to" in target else "frontier_m"
    got = con.sql(
        f"SELECT {name}(lon, lat) AS d FROM (VALUES (0, 24.0, 54.0), (1, -60.0, -30.0), "
        "(2, 150.0, -40.0)) t(i, lon, lat) ORDER BY i"
    ).df()["d"]
    np.testing.assert_array_equal(got.to_numpy(), want["distance_m"].to_numpy())


def test_integer_columns_are_cast(con):
    register(con, frontier="BLR:POL", as_of=AS_OF)
    [(got,)] = con.sql("SELECT flankmap_distance_m(23, 53)").fetchall()
    want = distance.to_frontier([23.0], [53.0], "BLR:POL", as_of=AS_OF).loc[0, "distance_m"]
    assert got == want
    assert math.isfinite(got)


@pytest.mark.slow
def test_a_million_parquet_rows_match_the_in_memory_result_in_order(con, tmp_path):
    table = _points(1_000_000, seed=1)
    path = tmp_path / "million.parquet"
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), path)
    register(con, frontier="RUS,BLR:NATO", as_of=AS_OF)
    got = con.sql(
        "SELECT id, frontier_m(lon, lat) AS d FROM read_parquet(?)", params=[str(path)]
    ).df()
    assert len(got) == 1_000_000
    np.testing.assert_array_equal(got["id"].to_numpy(), table["id"].to_numpy())
    want = distance.to_frontier(table["lon"], table["lat"], "RUS,BLR:NATO", as_of=AS_OF)
    np.testing.assert_array_equal(got["d"].to_numpy(), want["distance_m"].to_numpy())
