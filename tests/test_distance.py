"""Tests of geo.distance: frontiers and territories from the country data, frames and files.

The engine itself (exactness against a brute-force reference, its properties) is tested in
test_geodesic.py.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo import borders, distance, geodesic
from geo._errors import InputError

GEOD = Geod(ellps="WGS84")
#: The LTU-BLR-LVA and POL-BLR-UKR tripoints as Natural Earth 1:10m has them.
TRIPOINT_LTU_BLR_LVA = (26.594531, 55.666991)
TRIPOINT_POL_BLR_UKR = (23.606238241000142, 51.517399191000024)
#: A Natural Earth vertex of the Estonia-Russia border on the Narva river, at Narva.
NARVA_RIVER = (28.186475464000125, 59.37492991100005)


def test_territory_matches_brute_force_reference(brute_force, boundary_segments):
    area = borders.territory("RUS,BLR")
    seg = boundary_segments(area)
    seg = seg[np.abs(seg[:, 0]) < 180]
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(12, 32, 60), rng.uniform(43, 61, 60)
    result = distance.to_territory(lon, lat, "RUS,BLR")
    outside = np.flatnonzero(result["inside"] == "")[:25]
    reference = np.array([brute_force(lon[i], lat[i], seg) for i in outside])
    error = np.abs(result["distance_m"].to_numpy()[outside] - reference)
    assert error.max() <= 1.0
    inside = result["inside"] != ""
    assert (result.loc[inside, "distance_m"] == 0).all()
    assert set(result.loc[inside, "inside"]) <= {"RUS", "BLR"}
    contains = shapely.contains_xy(area, lon, lat)
    np.testing.assert_array_equal(contains, inside.to_numpy())


def test_narva_river_point():
    result = distance.to_frontier(
        [NARVA_RIVER[0]], [NARVA_RIVER[1]], "RUS,BLR:NATO", borders="naturalearth"
    )
    assert result.loc[0, "distance_m"] < 1e-3
    assert result.loc[0, "border"] == "EST-RUS"
    # In Narva town, on the Estonian bank: the river is a few hundred metres to the east.
    town = distance.to_frontier([28.175], [59.377], "RUS,BLR:NATO", borders="naturalearth")
    assert town.loc[0, "border"] == "EST-RUS"
    assert 100 < town.loc[0, "distance_m"] < 1500
    assert 0 < town.loc[0, "bearing_deg"] < 135
    vertex_gap = GEOD.inv(*NARVA_RIVER, town.loc[0, "nearest_lon"], town.loc[0, "nearest_lat"])[2]
    assert vertex_gap < 2000


@pytest.mark.parametrize(
    ("point", "frontier", "labels"),
    [
        (TRIPOINT_LTU_BLR_LVA, "RUS,BLR:NATO", {"BLR-LTU", "BLR-LVA"}),
        (TRIPOINT_POL_BLR_UKR, "BLR:POL,UKR", {"BLR-POL", "BLR-UKR"}),
    ],
)
def test_tripoints_are_on_the_frontier(point, frontier, labels):
    result = distance.to_frontier(
        [point[0]], [point[1]], frontier, as_of="2025-01-01", borders="naturalearth"
    )
    assert result.loc[0, "distance_m"] < 0.5  # coordinates rounded to 1e-6 degree
    assert result.loc[0, "border"] in labels


@settings(max_examples=25, deadline=None)
@given(lon=st.floats(12, 32), lat=st.floats(43, 61))
@example(lon=24.5, lat=56.0)  # nearest point: the BLR-LTU-LVA tripoint, a tie of two labels
def test_frontier_sides_are_symmetric(lon, lat):
    forward = distance.to_frontier([lon], [lat], "RUS,BLR:NATO")
    backward = distance.to_frontier([lon], [lat], "NATO:BLR,RUS")
    pd.testing.assert_frame_equal(forward, backward)


def test_bad_points_raise_one_line():
    with pytest.raises(InputError, match=r"point 2: lat 95, lon 20 is not a position"):
        distance.to_frontier([20, 20], [50, 95])
    with pytest.raises(InputError, match="lon has 2 values but lat has 1"):
        distance.to_frontier([20, 21], [50])
    with pytest.raises(InputError, match="must be two groups"):
        distance.to_frontier([20], [50], "RUS")
    with pytest.raises(InputError, match="as-of date 'yesterday'"):
        distance.to_frontier([20], [50], as_of="yesterday")


def test_nato_frontier_follows_the_date():
    helsinki = ([24.94], [60.17])
    before = distance.to_frontier(*helsinki, "RUS,BLR:NATO", as_of="2023-04-03")
    after = distance.to_frontier(*helsinki, "RUS,BLR:NATO", as_of="2023-04-04")
    assert before.loc[0, "border"] == "EST-RUS"
    assert after.loc[0, "border"] == "FIN-RUS"
    assert after.loc[0, "distance_m"] < before.loc[0, "distance_m"]


def test_territory_labels_coast_and_inside():
    result = distance.to_territory([27.56, 19.0, 24.0], [53.90, 55.2, 56.0], "RUS,BLR")
    assert result["inside"].tolist() == ["BLR", "", ""]
    assert result.loc[0, "distance_m"] == 0
    assert np.isnan(result.loc[0, "bearing_deg"])
    assert result.loc[1, "border"] == "RUS-coast"  # at sea off Kaliningrad
    assert result.loc[2, "border"] in {"BLR-LVA", "BLR-LTU", "LTU-RUS", "LVA-RUS"}


@pytest.mark.parametrize(("source", "accuracy_m"), [("osm", 10.0), ("naturalearth", 9600.0)])
def test_distances_appends_columns_and_uncertainty(source, accuracy_m):
    points = gpd.GeoDataFrame(
        {"name": ["a", "b"], "coord_uncertainty_m": [1000.0, 5e6]},
        geometry=gpd.points_from_xy([24.0, 23.5], [56.0, 53.0]),
        crs="EPSG:4326",
    )
    out = distance.distances(points, borders=source)
    assert list(out.columns) == [
        "name",
        "coord_uncertainty_m",
        *distance.RESULT_COLUMNS,
        "located_in",
        "distance_min_m",
        "distance_max_m",
        "geometry",
    ]
    assert out["located_in"].tolist() == ["LTU", "POL"]
    d = out["distance_m"].to_numpy()
    # The range holds the coordinate's uncertainty and the border source's accuracy.
    unc = np.array([1000, 5e6]) + accuracy_m
    np.testing.assert_allclose(out["distance_min_m"], np.maximum(0, d - unc))
    np.testing.assert_allclose(out["distance_max_m"], d + unc)
    projected = distance.distances(points.to_crs(3035), borders=source)
    np.testing.assert_allclose(projected["distance_m"], d, atol=1e-6)
    with pytest.raises(InputError, match="not both"):
        distance.distances(points, frontier="RUS:NATO", to="RUS")


@pytest.mark.parametrize("source", ["naturalearth", "osm"])
def test_distances_to_a_territory_against_an_independent_computation(
    brute_force, boundary_segments, source
):
    """Inside: the country that contains the point (shapely), at 0; outside: the brute force."""
    lon = np.array([27.56, 24.0, 23.5, 37.62, 19.0, 30.0])  # Minsk, Latvia, Poland, Moscow,
    lat = np.array([53.90, 56.0, 53.0, 55.75, 55.2, 45.0])  # off Kaliningrad, the Black Sea
    points = gpd.GeoDataFrame(
        {"coord_uncertainty_m": [0.0, 100.0, 2e5, 0.0, 50.0, 0.0]},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    out = distance.distances(points, to="RUS,BLR", borders=source)
    countries = borders.countries(["BLR", "RUS"], borders=source)
    expected_inside = [
        next((str(c) for c, g in countries.geometry.items() if g.contains(shapely.Point(x, y))), "")
        for x, y in zip(lon, lat, strict=True)
    ]
    assert expected_inside == ["BLR", "", "", "RUS", "", ""]
    assert out["inside"].tolist() == expected_inside
    inside = out["inside"].to_numpy() != ""
    assert (out.loc[inside, "distance_m"] == 0).all()
    np.testing.assert_allclose(out.loc[inside, "nearest_lon"], lon[inside], atol=1e-12)
    np.testing.assert_allclose(out.loc[inside, "nearest_lat"], lat[inside], atol=1e-12)
    assert out.loc[inside, "bearing_deg"].isna().all()
    assert (out.loc[inside, "border"] == "").all()
    seg = boundary_segments(borders.territory("RUS,BLR", borders=source))
    seg = seg[np.abs(seg[:, 0]) < 180]
    for i in np.flatnonzero(~inside):
        reference = brute_force(lon[i], lat[i], seg)
        assert out.loc[i, "distance_m"] == pytest.approx(reference, abs=1.0)
        # The nearest point is on the territory's boundary and at the distance reported.
        back = GEOD.inv(lon[i], lat[i], out.loc[i, "nearest_lon"], out.loc[i, "nearest_lat"])
        assert back[2] == pytest.approx(out.loc[i, "distance_m"], abs=1e-6)
        assert np.mod(back[0], 360) == pytest.approx(out.loc[i, "bearing_deg"], abs=1e-9)
        # ... on the stretch of border it names (a land border, or a country's coast).
        foot = shapely.Point(out.loc[i, "nearest_lon"], out.loc[i, "nearest_lat"])
        a, b = out.loc[i, "border"].split("-")
        named = (
            countries.geometry[a].boundary
            if b == "coast"
            else borders.territory(a, borders=source).boundary
        )
        assert named.distance(foot) < 1e-4  # degrees: the geodesic strays < 10 m from the line
    assert out.loc[4, "border"] == "RUS-coast"  # at sea off Kaliningrad
    unc = points["coord_uncertainty_m"].to_numpy() + distance._data.border_source(source).accuracy_m
    np.testing.assert_allclose(out["distance_min_m"], np.maximum(0, out["distance_m"] - unc))
    np.testing.assert_allclose(out["distance_max_m"], out["distance_m"] + unc)


def test_measure_file_in_chunks_equals_one_pass(tmp_path):
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(50, 58, 250).round(5), rng.uniform(18, 30, 250).round(5)
    path = tmp_path / "p.csv"
    rows = "".join(f"p{i},{a:.5f},{o:.5f}\n" for i, (a, o) in enumerate(zip(lat, lon, strict=True)))
    path.write_text("id,lat,lon\n" + rows + "bad,x,1\n", encoding="utf-8")
    seen = []
    run = distance.measure_file(
        path,
        as_of="2025-01-01",
        chunk_rows=60,
        skip_invalid=True,
        rejected=tmp_path / "rejected.csv",
        on_progress=lambda done, total, n: seen.append(n),
    )
    assert (run.rows, run.rejected) == (250, 1)
    assert seen[-1] == 251
    assert len(seen) >= 4
    whole = distance.to_frontier(lon, lat, "RUS,BLR:NATO", as_of="2025-01-01")
    np.testing.assert_allclose(run.frame["distance_m"], whole["distance_m"], atol=1e-6)
    assert run.frame["id"].tolist() == [f"p{i}" for i in range(250)]
    rejected = (tmp_path / "rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "row,field,reason,raw"
    assert rejected[1].startswith("251,lat,'x' is not a number")


# --- lines, polygons and multi-points: measured from their nearest point ------------------


def _densified(shape: shapely.Geometry, step: float = 20.0) -> np.ndarray:
    """Points every ``step`` metres along the geodesic edges of a shape (its rings, lines)."""
    parts = []
    for part in shapely.get_parts(shape):
        rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
        for ring in rings:
            xy = shapely.get_coordinates(ring)
            for (x0, y0), (x1, y1) in itertools.pairwise(xy):
                n = max(1, int(GEOD.inv(x0, y0, x1, y1)[2] // step))
                parts.append(np.array([(x0, y0), *GEOD.npts(x0, y0, x1, y1, n), (x1, y1)]))
    return np.vstack(parts)


def _far_shapes(rng: np.random.Generator, lines) -> list[shapely.Geometry]:
    """Random small lines and polygons at least 5 km from the border lines."""
    shapes: list[shapely.Geometry] = []
    while len(shapes) < 16:
        x, y = rng.uniform(19, 32), rng.uniform(50, 58)
        dx, dy = rng.uniform(-0.6, 0.6, 2)
        if len(shapes) % 2:
            shape = shapely.LineString([(x, y), (x + dx, y + dy), (x + dx, y)])
        else:
            shape = shapely.Polygon([(x, y), (x + abs(dx), y), (x, y + abs(dy) + 0.05)])
        xy = _densified(shape, 500.0)
        if geodesic.nearest(lines, xy[:, 0], xy[:, 1])["distance_m"].min() > 5000:
            shapes.append(shape)
    return shapes


@pytest.mark.parametrize("to", [None, "RUS,BLR"])
def test_lines_and_polygons_are_measured_from_their_nearest_point(to):
    prepared = distance.target(to=to, as_of="2025-01-01")
    shapes = _far_shapes(np.random.default_rng(11), prepared.lines)
    frame = gpd.GeoDataFrame({"n": range(len(shapes))}, geometry=shapes, crs=4326)
    result = distance.measure(frame, prepared)
    for shape, row in zip(shapes, result.itertuples(), strict=True):
        xy = _densified(shape)
        reference = geodesic.nearest(prepared.lines, xy[:, 0], xy[:, 1])
        best = reference["distance_m"].idxmin()
        if to and row.inside:
            assert row.distance_m == 0
            continue
        # Never above the densified reference, and within 1 cm of it (20 m spacing, >= 5 km).
        assert row.distance_m <= reference["distance_m"][best] + 1e-6
        assert row.distance_m == pytest.approx(reference["distance_m"][best], abs=0.01)
        assert row.border == reference["border"][best]
        # The reported border point is at the reported distance from the shape.
        edges = distance._shape_lines(shape)
        back = geodesic.nearest(edges, [row.nearest_lon], [row.nearest_lat])["distance_m"][0]
        assert back == pytest.approx(row.distance_m, abs=0.01)
        assert 0 <= row.bearing_deg < 360


def test_shapes_that_touch_or_cross_the_target_are_at_zero():
    prepared = distance.target(frontier="RUS,BLR:NATO", as_of="2025-01-01")
    crossing = shapely.LineString([(23.0, 53.0), (25.0, 54.0)])  # Poland into Belarus
    around = shapely.Polygon([(25.0, 54.3), (26.0, 54.3), (26.0, 55.0), (25.0, 54.3)])
    frame = gpd.GeoDataFrame(geometry=[crossing, around], crs=4326)
    result = distance.measure(frame, prepared)
    assert result["distance_m"].tolist() == [0.0, 0.0]
    assert result["border"].tolist() == ["BLR-POL", "BLR-LTU"]
    assert result["bearing_deg"].isna().all()
    for shape, row in zip(frame.geometry, result.itertuples(), strict=True):
        assert shapely.distance(shape, shapely.Point(row.nearest_lon, row.nearest_lat)) < 1e-9
    inside = distance.measure(frame, distance.target(to="BLR"))
    assert inside["distance_m"].tolist() == [0.0, 0.0]
    assert inside["inside"].tolist() == ["BLR", "BLR"]
    assert inside["border"].tolist() == ["", ""]


def test_a_multipoint_counts_from_its_nearest_point():
    prepared = distance.target(as_of="2025-01-01")
    multi = shapely.MultiPoint([(20.0, 52.0), (24.0, 54.0), (30.0, 60.0)])
    collection = shapely.GeometryCollection([shapely.Point(20.0, 52.0), shapely.Point(24.0, 54.0)])
    frame = gpd.GeoDataFrame(geometry=[multi, collection], crs=4326)
    result = distance.measure(frame, prepared)
    each = distance.to_frontier(
        [20.0, 24.0, 30.0], [52.0, 54.0, 60.0], "RUS,BLR:NATO", as_of="2025-01-01"
    )
    nearest_one = each["distance_m"].idxmin()
    for row in result.itertuples():
        assert row.distance_m == each["distance_m"][nearest_one]
        assert row.bearing_deg == each["bearing_deg"][nearest_one]


def test_points_and_shapes_mixed_keep_their_order():
    prepared = distance.target(as_of="2025-01-01")
    shapes = [
        shapely.Point(25.0, 54.0),
        shapely.LineString([(20.0, 52.0), (21.0, 52.5)]),
        shapely.Point(21.0, 52.2),
    ]
    result = distance.measure(
        gpd.GeoDataFrame({"k": [0, 1, 2]}, geometry=shapes, crs=4326), prepared
    )
    points = distance.to_frontier([25.0, 21.0], [54.0, 52.2], "RUS,BLR:NATO", as_of="2025-01-01")
    assert result["k"].tolist() == [0, 1, 2]
    assert result["distance_m"][0] == points["distance_m"][0]
    assert result["distance_m"][2] == points["distance_m"][1]
    assert 0 < result["distance_m"][1] < result["distance_m"][2] + 100_000


def test_narva_castle_is_in_estonia_and_ivangorod_fortress_in_russia():
    """On the default (OSM) borders each fortress is on its own bank of the Narva."""
    lon, lat = [28.2019, 28.2115], [59.3766, 59.3765]  # Narva castle, Ivangorod fortress
    russia = distance.to_territory(lon, lat, "RUS")
    estonia = distance.to_territory(lon, lat, "EST")
    assert russia["inside"].tolist() == ["", "RUS"]
    assert estonia["inside"].tolist() == ["EST", ""]
    # Each is a few hundred metres from the river, on the other side of it.
    assert 50 < russia.loc[0, "distance_m"] < 600
    assert 50 < estonia.loc[1, "distance_m"] < 600
    assert russia.loc[0, "border"] == estonia.loc[1, "border"] == "EST-RUS"
    assert distance.located_in(lon, lat).tolist() == ["EST", "RUS"]
    # Natural Earth's generalised line puts the castle in Russia: the error the default fixes.
    assert distance.to_territory(lon, lat, "RUS", borders="naturalearth")["inside"].tolist() == [
        "RUS",
        "RUS",
    ]


def test_located_in_shows_a_point_on_the_wrong_side():
    points = gpd.GeoDataFrame(
        {"id": ["castle", "fortress", "atlantic"]},
        geometry=gpd.points_from_xy([28.2019, 28.2115, -40.0], [59.3766, 59.3765, 40.0]),
        crs=4326,
    )
    osm = distance.distances(points)
    ne = distance.distances(points, borders="naturalearth")
    assert osm["located_in"].tolist() == ["EST", "RUS", ""]
    assert ne["located_in"].tolist() == ["RUS", "RUS", ""]


def test_points_beyond_the_osm_coverage_are_measured_on_natural_earth():
    # Alaska is nearer to Russia's Chukotka than to anything in the extract (cut at 70°E).
    lon, lat = [-165.0, 25.0], [65.0, 55.0]
    osm = distance.to_territory(lon, lat, "RUS")
    ne = distance.to_territory(lon, lat, "RUS", borders="naturalearth")
    assert osm.loc[0, "distance_m"] == ne.loc[0, "distance_m"]
    assert osm.loc[0, "distance_m"] < 300_000
    assert osm.loc[1, "distance_m"] != ne.loc[1, "distance_m"]  # inside: OSM's own answer
    pts = gpd.GeoDataFrame(
        {"coord_uncertainty_m": [0.0, 0.0]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    out = distance.distances(pts, to="RUS")
    # The fallback's range is Natural Earth's, the rest OSM's.
    np.testing.assert_allclose(out["distance_max_m"] - out["distance_m"], [9600.0, 10.0])


def test_a_file_of_countries_is_a_border_source(tmp_path):
    ne = borders.countries(["EST", "LVA", "RUS"], borders="naturalearth")
    path = tmp_path / "three.gpkg"
    ne.reset_index()[["iso_a3", "geometry"]].to_file(path, driver="GPKG")
    front = borders.frontier("RUS", "EST,LVA", borders=str(path))
    expected = borders.frontier("RUS", "EST,LVA", borders="naturalearth")
    assert front["pair"].tolist() == ["EST-RUS", "LVA-RUS"]
    np.testing.assert_allclose(front["length_km"], expected["length_km"], rtol=1e-9)
    lon, lat = [28.2019, 26.0], [59.3766, 57.0]
    np.testing.assert_allclose(
        distance.to_frontier(lon, lat, "RUS:EST,LVA", borders=str(path))["distance_m"],
        distance.to_frontier(lon, lat, "RUS:EST,LVA", borders="naturalearth")["distance_m"],
        rtol=1e-12,
    )
    assert distance.to_territory(lon, lat, "LVA", borders=str(path))["inside"].tolist() == [
        "",
        "LVA",
    ]


@pytest.mark.parametrize("borders", ["osm", "naturalearth"])
@pytest.mark.parametrize("group", ["ESP", "GRC,TUR", "FIN", "BGR,EST,LTU,LVA,ROU,SVK,SVN"])
def test_territory_lower_bound_never_exceeds_the_distance(group, borders):
    rng = np.random.default_rng(20261203)
    lon, lat = rng.uniform(-30.0, 60.0, 400), rng.uniform(25.0, 75.0, 400)
    bound = distance.territory_lower_bound_m(lon, lat, group, borders=borders)
    exact = distance.to_territory(lon, lat, group, borders=borders)["distance_m"].to_numpy()
    assert (bound <= exact).all()
    assert (bound[exact == 0] == 0).all()  # inside the territory
    assert (bound > 0.8 * exact).sum() > 100  # and it is a useful bound far away


# --- GeoParquet points read as positions: the same results and messages as geometries -------


def _geoparquet_cases(tmp_path):
    """GeoParquet files of points, valid and hostile, each with a reason to leave the fast path."""
    rng = np.random.default_rng(11)
    n = 90
    lon, lat = rng.uniform(18, 30, n).round(5), rng.uniform(50, 58, n).round(5)
    ids = [f"p{i}" for i in range(n)]

    def frame(geometry, **columns):
        data = {"id": ids, "name": [f"site {i}" for i in range(n)], **columns}
        return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")

    points = gpd.points_from_xy(lon, lat)
    cases = {"valid": frame(points)}
    empty = points.copy()
    empty[50] = shapely.Point()  # in the second batch
    cases["empty_point"] = frame(empty)
    far = points.copy()
    far[70] = shapely.Point(25.0, 95.0)
    cases["latitude_beyond_90"] = frame(far)
    cases["negative_uncertainty"] = frame(
        points, coord_uncertainty_m=np.where(np.arange(n) == 40, -5.0, 10.0)
    )
    cases["infinite_number"] = frame(points, speed=np.where(np.arange(n) == 65, np.inf, 1.0))
    repeated = list(ids)
    repeated[75] = "p3"  # an id of the first batch, again in the third
    cases["repeated_id"] = frame(points).assign(id=repeated)
    mixed = points.copy()
    mixed[45] = shapely.LineString([(24.0, 55.0), (24.5, 55.5)])
    cases["a_line"] = frame(mixed)
    cases["projected_crs"] = frame(points).to_crs(3035)
    middle = frame(points).rename_geometry("geom")
    cases["geometry_named_geom_in_the_middle"] = middle[["id", "geom", "name"]]
    paths = {}
    for name, data in cases.items():
        path = tmp_path / f"{name}.parquet"
        data.to_parquet(path)
        paths[name] = path
    return paths


def _run(path, out, **options):
    try:
        distance.measure_file(
            path, out, as_of="2025-01-01", borders="naturalearth", chunk_rows=30, **options
        )
    except InputError as exc:
        return f"error: {exc}"
    return out.read_bytes()


def test_geoparquet_read_as_positions_gives_the_bytes_of_geometries(tmp_path, monkeypatch):
    """Every case gives the same output, error or rejected rows read either way."""
    from geo import points as point_files

    paths = _geoparquet_cases(tmp_path)

    def run_all(prefix: str) -> dict:
        runs = {}
        for name, path in paths.items():
            for suffix in (".parquet", ".csv"):
                runs[name, suffix] = _run(path, tmp_path / f"{prefix}_{name}{suffix}")
            rejected = tmp_path / f"{prefix}_rejected_{name}.csv"
            runs[name, "skip"] = (
                _run(
                    path,
                    tmp_path / f"{prefix}_skip_{name}.parquet",
                    skip_invalid=True,
                    rejected=rejected,
                ),
                rejected.read_bytes(),
            )
        return runs

    fast = run_all("fast")
    chunks = list(
        point_files._scan_geoparquet_columns(paths["valid"], chunk_rows=30, skip_invalid=False)
    )
    assert [type(c).__name__ for c in chunks] == ["PointColumns"] * 3
    assert chunks[0].geometry == "geometry"
    monkeypatch.setattr(point_files, "_wkb_positions", lambda column: None)  # geometries only
    slow = run_all("slow")
    for key, value in fast.items():
        assert value == slow[key], key
    assert fast["empty_point", ".csv"] == (
        "error: empty_point.parquet: feature 51: field 'geometry': is empty"
    )
    assert fast["repeated_id", ".parquet"].startswith(
        "error: repeated_id.parquet: feature 76: field 'id': 'p3' is used by feature 4"
    )
    assert fast["valid", ".parquet"][:4] == b"PAR1"
