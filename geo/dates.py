"""Partial ISO dates (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) as used by the layers."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from geo._errors import InputError

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """Return the first and last day that a partial ISO date covers.

    Parameters
    ----------
    value : str
        ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    Returns
    -------
    bounds : tuple of datetime.date
        ``(first_day, last_day)``.

    Raises
    ------
    ValueError
        If ``value`` is not one of the three forms or names no real day.

    Examples
    --------
    >>> date_bounds("2022-02")
    (datetime.date(2022, 2, 1), datetime.date(2022, 2, 28))
    """
    match = _DATE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if not 1 <= month <= 12:
        raise ValueError(f"{value!r} has month {month}, which is not 1 to 12")
    if day is None:
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    try:
        day_date = dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{value!r} names no real day") from None
    return day_date, day_date


def parse_as_of(value: str | dt.date | None) -> dt.date:
    """Return the analysis date: ``value`` as a date, or today when it is ``None``.

    Parameters
    ----------
    value : str, datetime.date or None
        A full ISO date ``YYYY-MM-DD``, a date, or ``None`` for today.

    Returns
    -------
    as_of : datetime.date
        The date.

    Raises
    ------
    InputError
        If the string is not a full ISO date (``InputError`` is a ``ValueError``).

    Examples
    --------
    >>> parse_as_of("2021-10-20")
    datetime.date(2021, 10, 20)
    """
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    # Python's fromisoformat also takes 20211020 and 2021-W42-3: only YYYY-MM-DD is a date here.
    match = (
        re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", value) if isinstance(value, str) else None
    )
    if match is None:
        raise InputError(f"as-of date {value!r} is not a date of the form YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise InputError(f"as-of date {value!r} is not a date: month {month} is not 1 to 12")
    if year < 1:
        raise InputError(f"as-of date {value!r} is not a date: there is no year 0")
    try:
        return dt.date(year, month, day)
    except ValueError:
        last = calendar.monthrange(year, month)[1]
        raise InputError(
            f"as-of date {value!r} is not a date: {calendar.month_name[month]} {year} has "
            f"{last} days"
        ) from None


def active_on(since: str, until: str, as_of: dt.date) -> bool:
    """Whether an interval of partial dates covers ``as_of``.

    ``since`` counts from its first day; ``until`` counts to its last day, and an empty
    ``until`` means the interval lasts.

    Parameters
    ----------
    since, until : str
        Partial ISO dates; ``until`` may be empty.
    as_of : datetime.date
        The day to test.

    Returns
    -------
    active : bool
        True if ``as_of`` lies in the interval.

    Examples
    --------
    >>> import datetime as dt
    >>> active_on("2017", "", dt.date(2016, 12, 31))
    False
    """
    if since and date_bounds(since)[0] > as_of:
        return False
    return not (until and date_bounds(until)[1] < as_of)
