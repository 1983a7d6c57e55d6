import datetime as dt

import pytest

from geo.dates import active_on, date_bounds, parse_as_of


@pytest.mark.parametrize(
    ("value", "bounds"),
    [
        ("2021", (dt.date(2021, 1, 1), dt.date(2021, 12, 31))),
        ("2024-02", (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("2021-10-20", (dt.date(2021, 10, 20), dt.date(2021, 10, 20))),
    ],
)
def test_date_bounds(value, bounds):
    assert date_bounds(value) == bounds


@pytest.mark.parametrize("value", ["21", "2021-1", "2021-10-1", "2021/10/20", "", "2021-00"])
def test_bad_dates(value):
    with pytest.raises(ValueError, match=repr(value)):
        date_bounds(value)


def test_active_on_counts_whole_partial_dates():
    assert active_on("2017", "2022-04", dt.date(2017, 1, 1))
    assert active_on("2017", "2022-04", dt.date(2022, 4, 30))
    assert not active_on("2017", "2022-04", dt.date(2022, 5, 1))
    assert active_on("2017", "", dt.date(2100, 1, 1))


def test_parse_as_of():
    assert parse_as_of(None) == dt.date.today()
    with pytest.raises(ValueError, match=r"'2021-10' is not a date of the form YYYY-MM-DD"):
        parse_as_of("2021-10")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2021-02-29", r"^as-of date '2021-02-29' is not a date: February 2021 has 28 days$"),
        ("2021-04-31", r"is not a date: April 2021 has 30 days$"),
        ("2021-13-01", r"^as-of date '2021-13-01' is not a date: month 13 is not 1 to 12$"),
        ("0000-01-01", r"^as-of date '0000-01-01' is not a date: there is no year 0$"),
        ("20211020", r"^as-of date '20211020' is not a date of the form YYYY-MM-DD$"),
        ("2021-W42-3", r"^as-of date '2021-W42-3' is not a date of the form YYYY-MM-DD$"),
        ("2021-10-20T00:00", r"is not a date of the form YYYY-MM-DD$"),
    ],
)
def test_as_of_is_exactly_yyyy_mm_dd(value, message):
    with pytest.raises(ValueError, match=message):
        parse_as_of(value)
    assert parse_as_of("2024-02-29") == dt.date(2024, 2, 29)
