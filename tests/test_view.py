"""Tests of geo.view: the display options (frontier, region, range rings, date) and View."""

from __future__ import annotations

import dataclasses
import datetime as dt

import geopandas as gpd
import pytest

from geo import borders, view
from geo._errors import InputError


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["radar", "base", "bg", "ru-home"],
            "operator": ["RUS", "RUS", "DEU", "RUS"],
            "country": ["BLR", "BLR", "LTU", "RUS"],
        },
        geometry=gpd.points_from_xy([26.5, 28.0, 24.0, 30.0], [52.9, 53.0, 55.0, 59.0]),
        crs=4326,
    )


def test_check_rings_km_keeps_order_and_turns_text_into_numbers():
    assert view.check_rings_km([300, "100", 5000]) == [300.0, 100.0, 5000.0]
    assert view.check_rings_km(()) == []


@pytest.mark.parametrize(
    ("radii", "message"),
    [
        ([0], r"ring radius 0 km is not between 0 and 5000 km"),
        ([-5], r"ring radius -5 km is not between 0 and 5000 km"),
        ([5000.0001], r"ring radius 5000.0001 km is not between"),
        ([float("nan")], r"ring radius nan km"),
        ([float("inf")], r"ring radius inf km"),
        (["far"], r"ring radii \['far'\] are not numbers of km"),
        (None, r"ring radii None are not numbers of km"),
    ],
)
def test_check_rings_km_refuses_bad_radii(radii, message):
    with pytest.raises(InputError, match=message):
        view.check_rings_km(radii)


def test_ring_centres_default_to_russian_sites_in_belarus(sites):
    assert view.ring_centres(sites, None)["id"].tolist() == ["radar", "base"]
    assert view.ring_centres(sites, ["bg", "radar"])["id"].tolist() == ["radar", "bg"]
    assert view.ring_centres(sites, [])["id"].tolist() == []


def test_ring_centres_name_unknown_sites_and_where(sites):
    with pytest.raises(InputError, match=r"ring site\(s\) nope, zz not among the sites drawn"):
        view.ring_centres(sites, ["zz", "radar", "nope"], where="drawn")


def test_check_bbox():
    assert view.check_bbox((20, 53, 28, 57.5)) == (20.0, 53.0, 28.0, 57.5)
    for bad in [(28, 53, 20, 57), (20, 57, 28, 53), (-181, 0, 0, 1), (0, 0, 1, 91)]:
        with pytest.raises(InputError, match="is not a box"):
            view.check_bbox(bad)
    with pytest.raises(InputError, match="needs four numbers"):
        view.check_bbox((1, 2, 3))
    with pytest.raises(InputError, match="is not four numbers"):
        view.check_bbox((1, 2, "x", 4))


def test_view_defaults_are_the_single_defaults():
    default = view.View()
    assert default.frontier == view.FRONTIER == borders.DEFAULT_FRONTIER
    assert view.FRONTIER_SIDES == ("RUS,BLR", "NATO")
    assert default.region is None
    assert default.rings_km == view.MAP_RINGS_KM == ()
    assert default.ring_sites is None
    assert default.as_of is None
    assert view.FIGURE_RINGS_KM == (300.0,)
    for box in (view.BASEMAP_BOX, view.FIGURE_BOX):
        assert view.check_bbox(box) == box


def test_view_checks_and_normalises_its_fields():
    made = view.View(
        frontier="BLR:POL",
        region=[20, "53", 28, 57],
        rings_km=["100", 300],
        ring_sites=["radar"],
        as_of="2024-03-07",
    )
    assert made.region == (20.0, 53.0, 28.0, 57.0)
    assert made.rings_km == (100.0, 300.0)
    assert made.ring_sites == ("radar",)
    assert made.as_of == dt.date(2024, 3, 7)
    assert made == view.View("BLR:POL", (20, 53, 28, 57), (100, 300), ("radar",), made.as_of)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.rings_km = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frontier": "RUS"}, "must be two groups"),
        ({"frontier": "RUS:XYZ"}, "unknown country code 'XYZ'"),
        ({"frontier": "RUS:RUS,POL"}, "RUS stands on both sides"),
        ({"region": (30, 50, 20, 60)}, "is not a box"),
        ({"rings_km": [0]}, "ring radius 0 km"),
        ({"ring_sites": "radar"}, "must be a list of site ids"),
        ({"as_of": "yesterday"}, "as-of date 'yesterday'"),
        ({"frontier": "RUS,BLR:NATO", "as_of": "1949-01-01"}, "NATO had no members"),
    ],
)
def test_view_refuses_bad_fields(kwargs, message):
    with pytest.raises(InputError, match=message):
        view.View(**kwargs)
