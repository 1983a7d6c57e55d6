"""Error classes raised by flankmap.

Every error a user can cause derives from :class:`GeoError`; the command line turns one into a
single line on stderr and exit code 2.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DataDirError",
    "GeoError",
    "InputError",
    "LayerNotFoundError",
    "LayerValidationError",
    "OutputError",
    "located",
    "shorten",
]


class GeoError(Exception):
    """Base class of every error flankmap raises on purpose."""


class DataDirError(GeoError, FileNotFoundError):
    """The layers folder or the border data could not be found."""


class LayerNotFoundError(GeoError, KeyError):
    """No layer has the requested name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LayerValidationError(GeoError, ValueError):
    """A layer file or a user file breaks the layer schema."""


class InputError(GeoError, ValueError):
    """An argument or an input file cannot be used as given."""


class OutputError(GeoError, OSError):
    """An output cannot be written: a full or read-only disk, no permission to create it."""

    def __str__(self) -> str:  # OSError would show errno and filename, which it also has
        return str(self.args[0]) if self.args else ""


def located(path: str | os.PathLike[str], where: str, field: str, problem: str) -> str:
    """Return the one-line message of a problem in a file: file, place, field, problem.

    Parameters
    ----------
    path : str or os.PathLike
        The file; only its name is shown.
    where : str
        The place in the file (``"row 7"``, ``"feature kaliningrad-1"``, ``"header"``), or
        ``""`` for the whole file.
    field : str
        The field at fault, or ``""``.
    problem : str
        What is wrong, as a phrase that follows the field.

    Returns
    -------
    message : str
        ``NAME: WHERE: field 'FIELD': PROBLEM``, leaving out an empty place or field.

    Examples
    --------
    >>> located("data/points.csv", "row 7", "lat", "'abc' is not a number")
    "points.csv: row 7: field 'lat': 'abc' is not a number"
    >>> located("points.csv", "", "", "is empty")
    'points.csv: is empty'
    """
    parts = [Path(path).name]
    if where:
        parts.append(where)
    if field:
        parts.append(f"field {field!r}")
    return ": ".join([*parts, problem])


def shorten(text: str, limit: int = 60) -> str:
    """Cut a text that a message shows to ``limit`` characters, ending it with ``…``.

    Parameters
    ----------
    text : str
        The text, e.g. a value from a user file.
    limit : int
        The most characters kept.

    Returns
    -------
    text : str
        ``text`` itself, or its first ``limit - 1`` characters and ``…``.

    Examples
    --------
    >>> shorten("Daugavpils", 6), shorten("Riga", 6)
    ('Dauga…', 'Riga')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"
