"""Error classes raised by flankmap.

Every error a user can cause derives from :class:`GeoError`; the command line turns one into a
single line on stderr and exit code 2.
"""

from __future__ import annotations


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
