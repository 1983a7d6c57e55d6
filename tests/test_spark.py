"""geo.spark on a local SparkSession: mapInArrow over the broadcast target gives geo.distance's
result, row for row.

Skips, saying why, when pyspark or Java is missing (``pip install 'flankmap[spark]'``, Java 17),
except where FLANKMAP_REQUIRE_SPARK=1 (CI), where it fails instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from geo import distance
from geo._errors import InputError


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install 'flankmap[spark]'"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Spark needs Java 17 or later: no java on PATH and no JAVA_HOME"
    return None


if (_why := _missing()) is not None:
    if os.environ.get("FLANKMAP_REQUIRE_SPARK") == "1":
        raise RuntimeError(f"FLANKMAP_REQUIRE_SPARK=1 but {_why}")
    pytest.skip(_why, allow_module_level=True)

# pyspark 4 warns on import that it is not tested with pandas 3: this test (and geo.spark)
# move data with Arrow only (createDataFrame of a pyarrow Table, mapInArrow, toArrow).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pyspark.sql import SparkSession

from geo.spark import distances  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

AS_OF = "2024-01-01"


@pytest.fixture(scope="module")
def spark():
    # The executors' Python must import this flankmap: the test's own interpreter (PYTHONPATH
    # is inherited by the workers).
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[1]")
        .appName("flankmap-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "700")  # several batches
        .config("spark.driver.memory", "1g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _points(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "lon": rng.uniform(12, 34, n),
            "lat": rng.uniform(45, 62, n),
            "coord_uncertainty_m": rng.choice([0.0, 250.0, 5000.0], n),
            "border": "user text",  # a result name: kept as border_input
        }
    )


def _expected(table: pd.DataFrame, **target) -> pd.DataFrame:
    points = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326
    )
    return pd.DataFrame(distance.distances(points, as_of=AS_OF, **target).drop(columns="geometry"))


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert got.columns.tolist() == want.columns.tolist()
    assert got["id"].tolist() == want["id"].tolist()  # every id, in the input order
    for name in want.columns:
        if want[name].dtype.kind == "f":
            np.testing.assert_array_equal(got[name].to_numpy(float), want[name].to_numpy(float))
        else:
            assert got[name].astype(str).tolist() == want[name].astype(str).tolist(), name


@pytest.mark.parametrize(
    "target",
    [{"frontier": "RUS,BLR:NATO"}, {"to": "RUS,BLR"}],
    ids=["frontier", "territory"],
)
def test_spark_equals_the_in_memory_result_row_for_row(spark, target):
    table = _points(3000, seed=4)
    frame = spark.createDataFrame(pa.Table.from_pandas(table, preserve_index=False)).repartition(
        3
    )  # three partitions of shuffled rows
    frame = frame.sortWithinPartitions("id").cache()  # one order, read twice
    got = distances(frame, as_of=AS_OF, **target).toArrow().to_pandas()
    order = frame.select("id").toArrow().to_pandas()["id"]
    want = _expected(table.set_index("id").loc[order].reset_index(), **target)
    assert frame.rdd.getNumPartitions() == 3
    assert len(got) == 3000
    _assert_same(got, want)
    assert got.columns.tolist()[:6] == [
        "id",
        "lon",
        "lat",
        "coord_uncertainty_m",
        "border_input",
        "distance_m",
    ]
    if "to" in target:
        assert {"RUS", "BLR", ""} <= set(got["inside"])
        assert (got.loc[got["inside"] != "", "distance_m"] == 0).all()
    else:
        assert {"BLR-POL", "LTU-RUS"} <= set(got["border"])


def test_parquet_parts_keep_ids_and_order_and_nulls_stay_null(spark, tmp_path):
    table = _points(2000, seed=7).drop(columns=["coord_uncertainty_m", "border"])
    table.loc[[5, 1500], "lon"] = np.nan  # NULL in Parquet
    folder = tmp_path / "points"
    folder.mkdir()
    for k in range(4):
        part = table.iloc[k * 500 : (k + 1) * 500]
        part.to_parquet(folder / f"part-{k}.parquet", index=False)
    read = spark.read.parquet(str(folder))
    got = distances(read, frontier="BLR:POL,LTU", as_of=AS_OF).toArrow().to_pandas()
    order = read.select("id").toArrow().to_pandas()["id"].tolist()
    assert sorted(order) == sorted(table["id"])
    assert got["id"].tolist() == order
    got = got.set_index("id").loc[table["id"]].reset_index()
    nulls = table["lon"].isna().to_numpy()
    assert got.loc[nulls, ["distance_m", "border", "located_in"]].isna().all().all()
    want = _expected(table[~nulls].reset_index(drop=True), frontier="BLR:POL,LTU")
    _assert_same(got[~nulls].reset_index(drop=True), want)


def test_bad_input_is_named(spark):
    frame = spark.createDataFrame(pa.table({"x": [23.0], "lat": [53.0]}))
    with pytest.raises(InputError, match="no column 'lon'"):
        distances(frame, frontier="BLR:POL", as_of=AS_OF)
    frame = spark.createDataFrame(pa.table({"lon": ["23"], "lat": [53.0]}))
    with pytest.raises(InputError, match="'lon' is string, not a number"):
        distances(frame, frontier="BLR:POL", as_of=AS_OF)
    frame = spark.createDataFrame(pa.table({"lon": [23.0, 24.0], "lat": [53.0, 95.0]}))
    with pytest.raises(InputError):
        distances(frame, frontier="BLR:XXX", as_of=AS_OF)
    out = distances(frame, frontier="BLR:POL", as_of=AS_OF)  # lazy: fails when run
    with pytest.raises(Exception, match=r"lat 95\.0 is not a position"):
        out.collect()
