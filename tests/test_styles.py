"""Tests of geo.styles: the certainty marks that the map and the figures share."""

from __future__ import annotations

import pytest

from geo.styles import (
    CONFIDENCE_MEANINGS,
    CONFIDENCES,
    EAST,
    OTHER,
    OTHER_COLOUR,
    WEST,
    LayerStyle,
    Mark,
    mark_of,
    side_styles,
)


def test_every_confidence_has_a_meaning():
    assert set(CONFIDENCES) == set(CONFIDENCE_MEANINGS)


@pytest.mark.parametrize("status", ["active", "planned", "under_construction"])
def test_reported_claimed_and_confirmed_differ_whatever_the_status(status):
    marks = {c: mark_of(status, c) for c in CONFIDENCES}
    assert len(set(marks.values())) == 3
    assert marks["confirmed"] == mark_of(status, "")  # not rated: drawn as confirmed
    assert marks["claimed"].badge == "?"
    assert marks["reported"].dash
    assert marks["claimed"].fill_opacity < marks["reported"].fill_opacity < 1


def test_planned_and_under_construction_are_hollow():
    for status in ("planned", "under_construction"):
        mark = mark_of(status, "confirmed")
        assert mark.hollow
        assert mark.fill("#c0392b") == "#ffffff"
        assert mark.outline("#c0392b") == "#c0392b"
    assert not mark_of("active", "confirmed").hollow
    assert mark_of("active", "Reported") == mark_of("active", "reported")  # any case


def test_matplotlib_arguments_follow_the_mark():
    kwargs = mark_of("active", "reported").mpl_kwargs("#1f5fbf")
    assert kwargs["facecolor"] == ("#1f5fbf", 0.5)
    assert kwargs["linestyle"] == (0, pytest.approx((1.2, 0.8)))
    assert Mark().mpl_kwargs("#1f5fbf")["linestyle"] == "solid"


def test_user_points_take_the_colour_of_their_side():
    west = LayerStyle("#1f5fbf", "hexagon", WEST)
    styles = side_styles(west, east=LayerStyle("#c0392b", "circle", EAST))
    assert styles[WEST] == west
    assert styles[EAST] == LayerStyle("#c0392b", "hexagon", EAST)
    assert styles[OTHER].colour == OTHER_COLOUR
    assert {s.shape for s in styles.values()} == {"hexagon"}
