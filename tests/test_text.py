"""Tests of geo.text: one km rule, one date-range text and one shortening for every output."""

from __future__ import annotations

import math

import pytest

from geo.text import dates_text, km_cell, km_label, shorten


@pytest.mark.parametrize(
    ("metres", "label"),
    [
        (0, "0.00 km"),
        (8_421, "8.42 km"),
        (9_994, "9.99 km"),
        (9_999, "10.00 km"),  # rounds up, stays in its step
        (10_000, "10.0 km"),
        (42_140, "42.1 km"),
        (99_999, "100.0 km"),
        (100_000, "100 km"),
        (1_234_000, "1,234 km"),
        (2_125, "2.12 km"),  # an exact tie (2.125 km) goes to the even digit
        (100_500, "100 km"),
        (101_500, "102 km"),
    ],
)
def test_km_label_precision_follows_the_size(metres, label):
    assert km_label(metres) == label
    assert km_cell(metres) == label.removesuffix(" km")


@pytest.mark.parametrize("missing", [math.nan, None, "", "abc", math.inf])
def test_a_missing_distance(missing):
    assert km_label(missing) == ""
    assert km_cell(missing) == "–"
    assert km_cell(missing, missing="-") == "-"


def test_a_site_reads_the_same_in_the_map_the_chart_and_the_tables():
    assert km_label(42_140) == "42.1 km"
    assert km_cell(42_140) == "42.1"


@pytest.mark.parametrize(
    ("metres", "uncertainty_m", "label"),
    [
        (7_390, 8_000, "7 km"),
        (7_390, 500, "7.4 km"),
        (7_390, 0, "7.39 km"),
        (7_390, math.nan, "7.39 km"),
        (22_800, 1_000, "23 km"),
        (1_234_000, 25_000, "1,230 km"),
        (829_400, 10_000, "830 km"),
    ],
)
def test_km_label_is_no_finer_than_the_uncertainty(metres, uncertainty_m, label):
    assert km_label(metres, uncertainty_m=uncertainty_m) == label


@pytest.mark.parametrize(
    ("since", "until", "text"),
    [
        ("2017-01-01", "2024-06-30", "2017-01-01 – 2024-06-30"),
        ("2017-01-01", None, "since 2017-01-01"),
        ("2017-01-01", "", "since 2017-01-01"),
        (None, "2024-06-30", "until 2024-06-30"),
        ("", "2024-06-30", "until 2024-06-30"),
        (math.nan, math.nan, ""),
    ],
)
def test_dates_text(since, until, text):
    assert dates_text(since, until) == text


def test_shorten_keeps_the_limit_with_the_ellipsis():
    assert shorten("x" * 100, 40) == "x" * 39 + "…"
    assert len(shorten("x" * 100, 40)) == 40
    assert shorten("Training area  number", 15) == "Training area…"  # no space before it
    assert shorten("x" * 40, 40) == "x" * 40
