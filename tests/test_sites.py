"""Tests of geo.sites: the flank analysis of sites, and sites within range of each other."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import borders, distance, sites
from geo._errors import InputError
from geo.layers import read_layer_file

GEOD = Geod(ellps="WGS84")


def test_within_range_is_geodesic_and_sorted():
    a = gpd.GeoDataFrame(
        {"id": ["m", "k"]}, geometry=gpd.points_from_xy([26.5, 20.5], [52.9, 54.7]), crs=4326
    )
    b = gpd.GeoDataFrame(
        {"id": ["p", "q", "r"]},
        geometry=gpd.points_from_xy([21.0, 24.0, 40.0], [52.2, 54.7, 50.0]),
        crs=4326,
    )
    pairs = sites.within_range(a, b, 300_000)
    expected = []
    for ia, ga in zip(a["id"], a.geometry, strict=True):
        for ib, gb in zip(b["id"], b.geometry, strict=True):
            d = GEOD.inv(ga.x, ga.y, gb.x, gb.y)[2]
            if d <= 300_000:
                expected.append((ia, ib, d))
    expected.sort(key=lambda row: (row[0], row[2]))
    assert [tuple(r) for r in pairs[["id_a", "id_b"]].to_numpy()] == [e[:2] for e in expected]
    np.testing.assert_allclose(pairs["distance_m"], [e[2] for e in expected])


@pytest.mark.parametrize("source", ["osm", "naturalearth"])
def test_site_analysis_on_fixture_layer(data_dir, source):
    layer = read_layer_file(data_dir / "sites_small.geojson")
    out = sites.site_analysis(layer, as_of="2025-01-01", borders=source).set_index("id")
    assert out["side"].to_dict() == {
        "test-radar-blr": "RUS/BLR",
        "test-base-kaliningrad": "RUS/BLR",
        "test-battlegroup-ltu": "NATO",
        "test-training-area-pol": "NATO",
    }
    east = out.loc[["test-radar-blr", "test-base-kaliningrad"]]
    nato = distance.to_territory(
        [26.5, 20.51], [52.9, 54.71], "NATO", as_of="2025-01-01", borders=source
    )
    np.testing.assert_allclose(east["opposing_distance_m"], nato["distance_m"])
    assert list(east["opposing_border"]) == list(nato["border"])
    # The range holds the coordinate's uncertainty and the border source's accuracy.
    unc = out["coord_uncertainty_m"].astype(float) + {"osm": 10.0, "naturalearth": 9600.0}[source]
    d = out["opposing_distance_m"]
    np.testing.assert_allclose(out["opposing_distance_min_m"], np.maximum(0, d - unc))
    np.testing.assert_allclose(out["opposing_distance_max_m"], d + unc)
    # The training area is measured from a point inside its polygon.
    area = layer.set_index("id").geometry["test-training-area-pol"]
    rus_blr = distance.to_territory(*_surface_point(area), "RUS,BLR", borders=source)
    assert out.loc["test-training-area-pol", "opposing_distance_m"] == pytest.approx(
        rus_blr.loc[0, "distance_m"]
    )
    # The host border is the nearest of the host country's land borders with its neighbours.
    host = out.loc["test-battlegroup-ltu"]
    by_neighbour = {
        nbr: distance.to_frontier([24.11], [55.08], f"LTU:{nbr}", borders=source).loc[
            0, "distance_m"
        ]
        for nbr in ("BLR", "LVA", "POL", "RUS")
    }
    nearest = min(by_neighbour, key=by_neighbour.get)
    assert host["host_border"] == "-".join(sorted(("LTU", nearest)))
    assert host["host_border_distance_m"] == pytest.approx(by_neighbour[nearest])


def _surface_point(geom):
    point = shapely.point_on_surface(geom)
    return [point.x], [point.y]


def test_within_range_of_nothing_and_a_bad_radius():
    a = gpd.GeoDataFrame({"id": ["m"]}, geometry=gpd.points_from_xy([26.5], [52.9]), crs=4326)
    pairs = sites.within_range(a, a.iloc[:0], 1000.0)
    assert list(pairs.columns) == ["id_a", "id_b", "distance_m"]
    assert not len(pairs)
    with pytest.raises(InputError, match="radius_m -1 must be a non-negative number"):
        sites.within_range(a, a, -1)


def test_sides_are_the_borders_vocabulary():
    frame = gpd.GeoDataFrame(
        {"operator": ["RUS", "BLR", "USA", "NATO"], "country": ["BLR", "BLR", "POL", "LTU"]},
        geometry=gpd.points_from_xy([27.5, 28.0, 21.0, 24.0], [53.9, 53.0, 52.2, 55.0]),
        crs=4326,
    )
    out = sites.site_analysis(frame, as_of="2025-01-01")
    assert out["side"].tolist() == [borders.EAST, borders.EAST, borders.WEST, borders.WEST]
    assert sites.EASTERN_OPERATORS == borders.EAST_STATES
    # Without an uncertainty column the range is the border source's accuracy (OSM: 10 m).
    np.testing.assert_allclose(out["opposing_distance_min_m"], out["opposing_distance_m"] - 10)
    np.testing.assert_allclose(out["opposing_distance_max_m"], out["opposing_distance_m"] + 10)


def test_site_analysis_refuses_bad_frames():
    frame = gpd.GeoDataFrame({"operator": ["RUS"]}, geometry=[shapely.Point(27, 53)], crs=4326)
    with pytest.raises(InputError, match="site frame lacks column"):
        sites.site_analysis(frame)
    with pytest.raises(InputError, match="host country 'XXX' is not a known ISO alpha-3 code"):
        sites.site_analysis(frame.assign(country="XXX"), as_of="2025-01-01")
