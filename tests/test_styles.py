"""Tests of geo.styles: the layer symbols and certainty marks the map, figures and report share."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from geo import layers
from geo.styles import (
    CONFIDENCE_MEANINGS,
    CONFIDENCES,
    EAST,
    MARKERS,
    OTHER,
    OTHER_COLOUR,
    WEST,
    LayerStyle,
    Mark,
    layer_styles,
    mark_of,
    side_styles,
    styles_for,
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


def test_styles_are_distinct_and_escape_their_title(mini_layers):
    every = layers.load_layers()
    styles = layer_styles(every)
    assert len({(s.colour, s.shape) for s in styles.values()}) == len(styles)
    assert all(s.shape in MARKERS for s in styles.values())
    assert styles["east"].side == "RUS/BLR"
    assert styles["west"].side == "NATO"
    svg = styles["east"].svg(title='<b>"x"</b>')
    assert "<b>" not in svg
    assert re.search(r'fill="#[0-9a-f]{6}"', svg)


def _layers(names_operators: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"layer": list(names_operators), "operator": list(names_operators.values())}
    )


def test_existing_styles_stay_when_a_layer_is_added():
    shipped = {"b_bases": "RUS", "d_depots": "RUS", "c_brigades": "POL", "e_hq": "NATO"}
    before = layer_styles(_layers(shipped))
    # a user's file (map --add): on the NATO side, after the shipped layers
    with_user = layer_styles(_layers(shipped), extra=["user:points.csv"])
    assert {n: with_user[n] for n in before} == before
    # a layer of the other side leaves a side's symbols alone
    more_east = layer_styles(_layers({**shipped, "a_airfields": "RUS"}))
    assert {n: more_east[n] for n in ("c_brigades", "e_hq")} == {
        n: before[n] for n in ("c_brigades", "e_hq")
    }
    # a layer named after the others of its side keeps theirs
    more_west = layer_styles(_layers({**shipped, "f_fleet": "NATO"}))
    assert {n: more_west[n] for n in before} == before
    assert len({(s.colour, s.shape) for s in more_west.values()}) == len(more_west)


def test_styles_for_gives_styles_and_titles_of_the_same_layers(mini_layers):
    every = layers.load_layers()
    styles, titles = styles_for(every, extra=["user:x.csv"])
    assert styles == layer_styles(every, extra=["user:x.csv"])
    assert list(titles) == sorted(set(every["layer"]))
    assert titles == layers.layer_titles(sorted(set(every["layer"])))
