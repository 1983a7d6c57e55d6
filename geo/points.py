"""Reading the point files that users bring: CSV, GeoJSON, GeoPackage and GeoParquet.

Every problem becomes one :class:`geo.InputError` line that names the file, the row (1-based
data row of a CSV, 1-based feature of the other formats) and the field, e.g.
``points.csv: row 7: field 'lat': 'abc' is not a number``. With ``skip_invalid`` the bad rows
are set aside with their reason instead (:func:`scan_points`, :data:`REJECTED_COLUMNS`); a
problem of the whole file (not UTF-8, not JSON, no lat/lon columns) is an error either way.

Large files are read in chunks (:func:`scan_points`): a CSV is decoded block by block, so a
file of junk fails on its first bad block, and memory stays bounded by the chunk size. Notices
that are not errors (a file reprojected to WGS84, rows skipped) go to the ``geo.points``
logger; the command line prints them on stderr. GeoJSON is read by :mod:`geo.geojson`; the
points go back to files through :mod:`geo.writers`.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import dataclasses
import functools
import io
import itertools
import json
import logging
import math
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo._errors import InputError, located, shorten
from geo.geojson import geometry_problem, read_collection

__all__ = [
    "CHUNK_ROWS",
    "COORDINATE_COLUMNS",
    "GDAL_READ_OPTIONS",
    "PARQUET_BATCH_BYTES",
    "PARQUET_COLUMN_CHUNK_BYTES",
    "PARQUET_EXPANSION_FLOOR",
    "PARQUET_MAX_EXPANSION",
    "PARQUET_ROW_BYTES",
    "REJECTED_COLUMNS",
    "UNCERTAINTY",
    "PointChunk",
    "PointColumns",
    "part_files",
    "read_parts",
    "read_point_columns",
    "read_points",
    "scan_columns",
    "scan_points",
]

logger = logging.getLogger(__name__)

#: Accepted coordinate column pairs of a CSV, matched ignoring case.
COORDINATE_COLUMNS = (("lat", "lon"), ("latitude", "longitude"))
CSV_SUFFIXES = (".csv",)
GEOJSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
PARQUET_SUFFIXES = (".parquet", ".geoparquet")
#: The column of coordinate uncertainty in metres, recognised in any case.
UNCERTAINTY = "coord_uncertainty_m"
#: Columns of the side file of rejected rows: source row (or feature) number, the field at
#: fault, the reason, and the raw row (CSV text, or the feature as JSON).
REJECTED_COLUMNS = ["row", "field", "reason", "raw"]
#: Rows per chunk when a file is read in chunks.
CHUNK_ROWS = 100_000

_FIRST_BLOCK = 1 << 16  # the first read: enough to judge a file without reading it all
_BLOCK = 8 << 20
_MAX_LINE = 8 << 20  # a longer line means the file is not a CSV
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class PointChunk:
    """One chunk of a point file, as yielded by :func:`scan_points`.

    Attributes
    ----------
    points : geopandas.GeoDataFrame
        The valid rows, EPSG:4326, index from 0.
    rows : numpy.ndarray
        The 1-based row (CSV) or feature number of each point in the file.
    rejected : pandas.DataFrame
        The rows set aside (only with ``skip_invalid``), columns :data:`REJECTED_COLUMNS`.
    done, total : int
        Progress through the file: bytes for a CSV, rows for the other formats.
    """

    points: gpd.GeoDataFrame
    rows: np.ndarray
    rejected: pd.DataFrame
    done: int
    total: int


class _Problems:
    """Problems found in one chunk: the first per row wins (checks run in priority order)."""

    def __init__(self, path: Path, unit: str) -> None:
        self.path, self.unit = path, unit
        self.found: dict[int, tuple[str, str]] = {}  # position in chunk -> (field, reason)

    def add(self, position: int | np.integer, field: str, reason: str) -> None:
        self.found.setdefault(int(position), (field, reason))

    def mask(self, n: int) -> np.ndarray:
        bad = np.zeros(n, bool)
        bad[list(self.found)] = True
        return bad

    def settle(self, numbers: np.ndarray, raw: Callable[[int], str], *, skip: bool) -> pd.DataFrame:
        """Raise for the first problem, or (``skip``) return the rejected rows."""
        order = sorted(self.found)
        if order and not skip:
            field, reason = self.found[order[0]]
            raise InputError(located(self.path, f"{self.unit} {numbers[order[0]]}", field, reason))
        return pd.DataFrame(
            {
                "row": np.asarray([numbers[i] for i in order], dtype=np.int64),
                "field": [self.found[i][0] for i in order],
                "reason": [self.found[i][1] for i in order],
                "raw": [raw(i) for i in order],
            },
            columns=REJECTED_COLUMNS,
        )


def _plain(text: str) -> bool:
    """Tell whether a number's text is plain: ASCII only, no '_'.

    Python's float reads '5_4.7' as 54.7, and Arabic-Indic or full-width digits; flankmap
    refuses them.
    """
    return text.isascii() and "_" not in text


def _number_problem(text: str) -> str | None:
    """Why a cell is not a finite number, or None."""
    value = text.strip()
    if not value:
        return "is empty"
    try:
        number = float(value)
    except ValueError:
        return f"{shorten(value)!r} is not a number"
    if not _plain(value):
        return f"{shorten(value)!r} is not a plain number (digits 0-9, '.', no '_'; e.g. 54.7)"
    if not math.isfinite(number):
        return f"{value!r} is not a finite number"
    return None


def _position_problem(lat: float, lon: float, names: tuple[str, str]) -> tuple[str, str] | None:
    """Field and reason when lat/lon is not a position; hints at swapped columns."""
    if not -90 <= lat <= 90:
        hint = " (lat and lon swapped?)" if abs(lon) <= 90 and abs(lat) <= 180 else ""
        return names[0], f"{lat!r} is outside -90..90{hint}"
    if not -180 <= lon <= 180:
        return names[1], f"{lon!r} is outside -180..180"
    return None


def _floats(values: list[str] | tuple[str, ...]) -> np.ndarray:
    """Cells as floats, NaN where a cell is not a plain number (fast path for clean columns)."""
    try:
        out = np.array(values, dtype=float)
    except ValueError:
        out = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(
            float, copy=True
        )
    if not _plain("".join(values)):  # one pass over the whole column, then the culprits
        out[[i for i, value in enumerate(values) if not _plain(value)]] = np.nan
    return out


def _number_text(value: object) -> str:
    """Return a value for a message: numbers as Python writes them (not ``np.float64(nan)``)."""
    if isinstance(value, bool | np.bool_):
        return repr(bool(value))
    if isinstance(value, int | np.integer):
        return repr(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return repr(shorten(str(value)))


class _IdRegistry:
    """Ids seen so far, kept as 64-bit hashes with the row that used each first.

    The hashes are Python's own of the id text (one process holds the registry).

    Memory is 16 bytes per row; two different ids share a hash with a probability of about
    ``n² / 2⁶⁵`` (3e-6 for ten million rows).
    """

    def __init__(self) -> None:
        self.hashes = np.empty(0, np.uint64)
        self.rows = np.empty(0, np.int64)

    def check(
        self, ids: np.ndarray, rows: np.ndarray, *, text: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Register ids; return (positions that repeat an earlier id, the earlier row).

        ``text``: the ids are already Python strings (none missing).
        """
        if text:
            present = np.flatnonzero(ids != "")
        else:
            text_ids = pd.Series(ids, dtype=object).astype(str).to_numpy(dtype=object)
            present = np.flatnonzero(pd.notna(ids) & (text_ids != ""))
            ids = text_ids
        if not len(present):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        chosen = ids[present]
        hashed = np.fromiter(map(hash, chosen), np.int64, count=len(chosen)).view(np.uint64)
        # Each id's first position in this chunk keeps it; the hashes come sorted.
        unique, first_pos, inverse = np.unique(hashed, return_index=True, return_inverse=True)
        # Earlier chunks first (sorted queries: one pass through the registry).
        where = np.searchsorted(self.hashes, unique)
        seen = where < len(self.hashes)
        seen[seen] = self.hashes[where[seen]] == unique[seen]
        hit = seen[inverse]
        first_row = np.full(len(hashed), -1, np.int64)
        first_row[hit] = self.rows[where[inverse[hit]]]
        # Then repeats within this chunk.
        inner = (first_pos[inverse] != np.arange(len(hashed))) & ~hit
        first_row[inner] = rows[present[first_pos[inverse[inner]]]]
        repeat = hit | inner
        fresh = ~seen
        # One copy of the registry per chunk, no sort of it: memory peaks at twice its size.
        self.hashes = np.insert(self.hashes, where[fresh], unique[fresh])
        self.rows = np.insert(self.rows, where[fresh], rows[present[first_pos[fresh]]])
        return present[repeat], first_row[repeat]


def _check_ids(
    problems: _Problems,
    registry: _IdRegistry,
    ids: Any,
    numbers: np.ndarray,
    ok: np.ndarray,
    field: str,
) -> None:
    positions = np.flatnonzero(ok)
    repeat, first = registry.check(np.asarray(ids, dtype=object)[positions], numbers[positions])
    for pos, row in zip(positions[repeat], first, strict=True):
        value = shorten(str(ids[pos]))
        problems.add(pos, field, f"{value!r} is used by {problems.unit} {row} too")


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _open_bytes(path: Path) -> BinaryIO:
    """Open a file for reading bytes (a seam for the tests that count what is read)."""
    return path.open("rb")


class _Blocks:
    """Whole lines of a text file, handed out a number of lines at a time.

    Fails on the first block that is not in the file's encoding (UTF-8 unless told), holds a
    NUL byte in its first 64 KiB, or has a line longer than 8 MiB, without reading further.
    ``done`` counts the bytes handed out so far, ``line`` the lines.
    """

    def __init__(self, path: Path, handle: BinaryIO, encoding: str = "utf-8") -> None:
        self.path, self.handle, self.encoding = path, handle, encoding
        self.label = _ENCODING_LABELS.get(encoding, encoding)
        self.done = 0
        self.line = 0
        self.buffer = b""
        self.start = 0  # where the lines not yet handed out begin in the buffer
        self.newlines = 0
        self.first = True
        self.eof = False

    def _fail(self, reason: str) -> InputError:
        return InputError(located(self.path, "", "", reason))

    def _undecodable(self, data: bytes, exc: UnicodeDecodeError) -> InputError:
        line = self.line + data.count(b"\n", 0, exc.start) + 1
        hint = "save it as UTF-8" if self.encoding == "utf-8" else "give its encoding"
        return self._fail(
            f"is not {self.label} (byte {self.done + exc.start}, line {line}); {hint}"
        )

    def _read(self) -> None:
        block = self.handle.read(_FIRST_BLOCK if self.first else _BLOCK)
        if self.first:
            self.first = False
            if self.encoding == "utf-8" and block.startswith(_BOM):
                block, self.done = block[len(_BOM) :], len(_BOM)
            nul = block.find(b"\0")
            if nul >= 0:
                raise self._fail(f"is not a text file (NUL byte at byte {nul + self.done})")
            try:  # judge the first block even if it holds no whole line
                codecs.getincrementaldecoder(self.encoding)().decode(block, final=False)
            except UnicodeDecodeError as exc:
                raise self._undecodable(block, exc) from None
        if not block:
            self.eof = True
        self.buffer += block

    def _cut(self, lines: int) -> tuple[int, int]:
        """Return where the next ``lines`` lines end in the buffer, and the breaks before.

        The end is -1 while the buffer does not hold them all.
        """
        if lines <= 64:
            at, found = self.start - 1, 0
            while found < lines:
                at = self.buffer.find(b"\n", at + 1)
                if at < 0:
                    return -1, found
                found += 1
            return at + 1, found
        breaks = np.flatnonzero(np.frombuffer(self.buffer, np.uint8)[self.start :] == 10)
        if len(breaks) < lines:
            return -1, len(breaks)
        return self.start + int(breaks[lines - 1]) + 1, lines

    def take(self, lines: int) -> tuple[bytes, str]:
        """Return the next ``lines`` lines (fewer at the end) as bytes and decoded text.

        ``newlines`` then holds the number of line breaks handed out.
        """
        while True:
            cut, found = self._cut(lines)
            if cut >= 0:
                break
            if self.eof:
                cut = len(self.buffer)
                break
            last = self.buffer.rfind(b"\n", self.start) + 1 or self.start
            if len(self.buffer) - last > _MAX_LINE:
                raise self._fail(
                    f"line {self.line + found + 1} is longer than {_MAX_LINE >> 20} MiB; "
                    "is this a CSV file?"
                )
            self.buffer, self.start = self.buffer[self.start :], 0
            self._read()
        data, self.start = self.buffer[self.start : cut], cut
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise self._undecodable(data, exc) from None
        self.newlines = found
        self.line += found
        self.done += len(data)
        return data, text

    def lines(self, step: int = 4096) -> Iterator[str]:
        """Yield the remaining lines, decoded, one by one."""
        while True:
            data, text = self.take(step)
            if not data:
                return
            yield from io.StringIO(text, newline="")


def _encoding(encoding: str | None) -> str:
    """Return the codec name of an encoding a CSV may be in (one that keeps ASCII as is)."""
    if encoding is None:
        return "utf-8"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(
            f"unknown encoding {shorten(encoding)!r}; give e.g. utf-8, cp1252 or latin-1"
        ) from None
    sample = 'id,lat;lon\t\n\r"0123456789.-+eE_'
    try:
        same = sample.encode(name) == sample.encode("ascii")
    except UnicodeError:
        same = False
    if not same:
        raise InputError(
            f"encoding {shorten(encoding)!r} is not supported for CSV files (it changes ASCII "
            "text); give e.g. utf-8, cp1252 or latin-1"
        )
    return name


def _other_separator(header: list[str]) -> str | None:
    """Return the separator (';', tab, '|') that would split the header into lat and lon."""
    joined = ",".join(header)
    for separator in (";", "\t", "|"):
        cells = {cell.strip().lower() for cell in joined.split(separator)}
        if any(a in cells and b in cells for a, b in COORDINATE_COLUMNS):
            return separator
    return None


def _check_header(path: Path, header: list[str], lower: list[str]) -> None:
    """Fail on a repeated column name (or a repeated lat, lon, id or uncertainty in any case)."""
    counts = collections.Counter(header)
    repeated = sorted(name for name, n in counts.items() if n > 1)
    if repeated:
        name = repeated[0]
        if not name.strip():
            where = [str(i + 1) for i, n in enumerate(header) if n == name]
            raise InputError(
                located(
                    path,
                    "header",
                    "",
                    f"columns {', '.join(where[:5])} have no name; give every column a name",
                )
            )
        raise InputError(located(path, "header", name, "is the name of two columns"))
    special = {"lat", "lon", "latitude", "longitude", "id", UNCERTAINTY}
    counts = collections.Counter(name for name in lower if name in special)
    for name, n in counts.items():
        if n > 1:
            same = [header[i] for i, low in enumerate(lower) if low == name]
            raise InputError(
                located(
                    path,
                    "header",
                    same[1],
                    f"is the name of two columns ({same[0]!r} too; names are matched in any case)",
                )
            )


def _kept_names(path: Path, header: list[str], canonical: dict[int, str]) -> list[str]:
    """Return the column names as flankmap keeps them.

    The uncertainty column takes its own name (whatever its case), and a user column named
    ``geometry`` (the name of the geometry column) becomes ``geometry_input``, with a notice.
    """
    names = list(header)
    for i, name in canonical.items():
        names[i] = name
    if "geometry" in names:
        new = _free_name("geometry_input", names)
        names[names.index("geometry")] = new
        logger.warning(
            "%s: column 'geometry' is kept as %r (flankmap's geometry column has that name)",
            path.name,
            new,
        )
    return names


def _free_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name2``, ``name3``... whichever is not taken."""
    taken = set(taken)
    if name not in taken:
        return name
    return next(f"{name}{k}" for k in itertools.count(2) if f"{name}{k}" not in taken)


def _csv_raw(cells: list[str], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="", delimiter=delimiter).writerow(cells)
    return out.getvalue()


_ENCODING_LABELS = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "iso8859-1": "Latin-1"}
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
#: A number as the fast path takes it: ASCII digits, one decimal mark, an exponent; anything
#: else (spaces, '_', other digits, 'nan'...) goes to the row-by-row checks.
_FAST_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_FAST_NUMBER_COMMA = r"^[+-]?([0-9]+,?[0-9]*|,[0-9]+)([eE][+-]?[0-9]+)?$"


@dataclass
class _Layout:
    """What the header of a CSV says, and what the rows read so far have settled."""

    path: Path
    header: list[str]  # the names as kept
    names: tuple[str, str]  # the lat and lon columns as written
    names_unc: str
    i_lat: int
    i_lon: int
    i_unc: int
    i_id: int
    delimiter: str
    skip: bool
    registry: _IdRegistry
    encoding: str = "utf-8"
    decimal: str = ""  # "." or ",", once a number with a mark has been read; "" before
    decimal_row: int = 0
    said: bool = False

    def say(self) -> None:
        """Say once, on the ``geo.points`` logger, how a file that is not plain CSV is read."""
        if self.said:
            return
        self.said = True
        said = []
        if self.delimiter != ",":
            said.append(f"columns separated by {_SEPARATOR_NAMES[self.delimiter]}")
        if self.decimal == ",":
            said.append(f"decimal comma (as in row {self.decimal_row})")
        if self.encoding != "utf-8":
            said.append(f"encoding {_ENCODING_LABELS.get(self.encoding, self.encoding)}")
        if said:
            logger.warning("%s: read with %s", self.path.name, ", ".join(said))

    @property
    def width(self) -> int:
        return len(self.header)

    def number_columns(self) -> list[int]:
        return [self.i_lat, self.i_lon] + ([self.i_unc] if self.i_unc >= 0 else [])


@dataclass(frozen=True)
class PointColumns:
    """One chunk of a CSV of points without geometries, as yielded by :func:`scan_columns`.

    Attributes
    ----------
    frame : pandas.DataFrame
        The valid rows (lat, lon and ``coord_uncertainty_m`` as floats, the other columns as
        text), index from 0.
    lon, lat : numpy.ndarray
        The positions of the rows, degrees.
    rows, rejected, done, total
        As in :class:`PointChunk`.
    geometry : str or None
        For the points of a GeoParquet file: the name of its geometry column, which ``frame``
        leaves out. None for a CSV.
    """

    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    rows: np.ndarray
    rejected: pd.DataFrame
    done: int
    total: int
    geometry: str | None = None


def _parse_rows(layout: _Layout, text: str, first_line: int) -> list[list[str]]:
    """Split decoded whole lines into records with Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise InputError(
            located(layout.path, f"line {first_line + reader.line_num}", "", _csv_problem(exc))
        ) from None


def _csv_problem(exc: csv.Error) -> str:
    problem = str(exc)
    if "NUL" in problem:
        return "holds a NUL byte; is this a text file?"
    if "field limit" in problem:
        return f"has a field longer than {csv.field_size_limit():,} characters"
    return problem


def _settle_decimal(layout: _Layout, cells: list[str], numbers: np.ndarray) -> None:
    """Fix the decimal mark of a file not separated by commas from its first marked number."""
    if layout.decimal or layout.delimiter == ",":
        layout.decimal = layout.decimal or "."
        layout.say()
        return
    for pos, text in enumerate(cells):
        dot, comma = "." in text, "," in text
        if dot != comma:
            layout.decimal, layout.decimal_row = ("," if comma else "."), int(numbers[pos])
            layout.say()
            return


def _decimal_cells(
    layout: _Layout, cells: list[str], problems: _Problems, positions: np.ndarray, field: str
) -> list[str]:
    """Cells with the file's decimal comma made a '.'; a cell with the other mark is a problem.

    A file separated by commas writes decimals with '.'; one separated by semicolons or tabs
    with the mark of its first lat or lon that has one. A cell that has the other mark, or a
    ',' before the mark is known, is refused: it is never read as some other number.
    """
    if layout.delimiter == ",":
        return cells
    other = "." if layout.decimal == "," else ","
    out = []
    for k, text in enumerate(cells):
        if other in text:
            if layout.decimal:
                mark = "a decimal comma" if other == "," else "a '.'"
                reason = (
                    f"{shorten(text)!r} has {mark}, but this file writes decimals with "
                    f"{layout.decimal!r} (row {layout.decimal_row}); use one decimal mark"
                )
            else:
                reason = (
                    f"{shorten(text)!r} is not a plain number (no lat or lon so far shows the "
                    "decimal mark of this file; write it with '.')"
                )
            problems.add(positions[k], field, reason)
            out.append("")
        else:
            out.append(text.replace(",", ".") if layout.decimal == "," else text)
    return out


def _python_chunk(
    layout: _Layout, rows: list[list[str]], start: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame, bool]:
    """Check rows one by one, wording every message.

    Returns the frame, lon, lat, row numbers, rejected rows, and whether the chunk held a row
    that is not blank.
    """
    path, header, names, width = layout.path, layout.header, layout.names, layout.width
    i_lat, i_lon, i_unc, i_id = layout.i_lat, layout.i_lon, layout.i_unc, layout.i_id
    numbers = np.arange(start + 1, start + len(rows) + 1)
    problems = _Problems(path, "row")
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    blank = np.zeros(len(rows), bool)
    for pos in np.flatnonzero(lengths != width):
        if not any(cell.strip() for cell in rows[pos]):
            blank[pos] = True
        else:
            problems.add(pos, "", f"has {lengths[pos]} fields, the header has {width}")
    full = np.flatnonzero(lengths == width)
    columns: list[Any] = [[] for _ in header]
    if len(full):
        columns = [list(c) for c in zip(*(rows[i] for i in full), strict=True)]
    if not layout.decimal:
        _settle_decimal(
            layout, columns[i_lat] + columns[i_lon], np.concatenate([numbers[full]] * 2)
        )
    numeric = {
        i: _decimal_cells(layout, columns[i], problems, full, header_name)
        for i, header_name in ((i_lat, names[0]), (i_lon, names[1]), (i_unc, layout.names_unc))
        if i >= 0
    }
    lat = np.full(len(rows), np.nan)
    lon = np.full(len(rows), np.nan)
    lat[full], lon[full] = _floats(numeric[i_lat]), _floats(numeric[i_lon])
    bad = np.zeros(len(rows), bool)
    bad[full] = ~(
        np.isfinite(lat[full])
        & np.isfinite(lon[full])
        & (np.abs(lat[full]) <= 90)
        & (np.abs(lon[full]) <= 180)
    )
    where_full = np.full(len(rows), -1)
    where_full[full] = np.arange(len(full))
    for pos in np.flatnonzero(bad):
        cells = rows[pos]
        if not any(cell.strip() for cell in cells):
            blank[pos] = True
            continue
        k = where_full[pos]
        texts = (numeric[i_lat][k], numeric[i_lon][k])
        for name, text, shown in zip(names, texts, (cells[i_lat], cells[i_lon]), strict=True):
            reason = _number_problem(text)
            if reason:
                problems.add(pos, name, reason.replace(repr(text.strip()), repr(shown.strip())))
                break
        else:
            where = _position_problem(float(texts[0]), float(texts[1]), names)
            if where:
                problems.add(pos, *where)
    valid = np.zeros(len(rows), bool)
    valid[full] = True
    valid &= ~problems.mask(len(rows)) & ~blank
    unc = None
    if i_unc >= 0:
        unc = np.full(len(rows), np.nan)
        unc[full] = _floats(numeric[i_unc])
        for pos in np.flatnonzero(valid & ~(np.isfinite(unc) & (unc >= 0))):
            text = numeric[i_unc][where_full[pos]]
            shown = rows[pos][i_unc]
            reason = _number_problem(text) or f"{shown!r} is negative"
            problems.add(
                pos, layout.names_unc, reason.replace(repr(text.strip()), repr(shown.strip()))
            )
        valid &= ~problems.mask(len(rows))
    if i_id >= 0:
        ids = np.full(len(rows), "", dtype=object)
        ids[full] = columns[i_id]
        _check_ids(problems, layout.registry, ids, numbers, valid, header[i_id])
        valid &= ~problems.mask(len(rows))
    rejected = problems.settle(
        numbers, lambda i: _csv_raw(rows[i], layout.delimiter), skip=layout.skip
    )
    keep = np.flatnonzero(valid[full])  # positions among the full-length rows
    frame = (
        pd.DataFrame(
            {
                name: pd.array(np.asarray(col, dtype=object)[keep], dtype=str)
                for name, col in zip(header, columns, strict=True)
            },
            columns=header,
        )
        if len(keep)
        else pd.DataFrame({name: pd.array([], dtype=str) for name in header})
    )
    chosen = full[keep]
    frame[names[0]] = lat[chosen]
    frame[names[1]] = lon[chosen]
    if unc is not None:
        frame[UNCERTAINTY] = unc[chosen]
    return frame, lon[chosen], lat[chosen], numbers[chosen], rejected, bool((~blank).any())


#: What :func:`_arrow_table` returns for quoted lines it cannot vouch for.
_UNSURE = "unsure"


def _arrow_table(layout: _Layout, data: bytes, lines: int, quoted: bool) -> Any:
    """Split whole lines into string columns with pyarrow, one record a line.

    Returns the table; None when pyarrow finds no such table (a row's field count, say); or,
    for ``quoted`` lines, :data:`_UNSURE` unless every line that holds a quote is one whole
    record that Python's csv module reads (strictly) into the same cells as pyarrow.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    width = layout.width
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(width)], block_size=max(len(data), 1 << 16)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"' if quoted else False,
                double_quote=quoted,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _UNSURE if quoted else None
    if table.num_rows != lines:
        return _UNSURE if quoted else None
    if not quoted:
        return table
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw == 10) + 1
    which = np.unique(np.searchsorted(ends, np.flatnonzero(raw == 34), side="right"))
    starts = np.concatenate([[0], ends])
    ends = np.append(ends, len(data))
    texts = [data[starts[i] : ends[i]].decode("utf-8") for i in which]
    try:
        records = list(csv.reader(texts, delimiter=layout.delimiter, strict=True))
    except csv.Error:
        return _UNSURE
    if len(records) != len(texts) or any(len(r) != width for r in records):
        return _UNSURE
    picked = table.take(pa.array(which))
    for j in range(width):
        if picked.column(j).to_pylist() != [r[j] for r in records]:
            return _UNSURE
    return table


def _text_buffers(text: Any) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the offsets (int64) and the UTF-8 bytes of each chunk of Arrow strings.

    Cell ``k`` of a chunk is ``data[offsets[k]:offsets[k + 1]]``.
    """
    import pyarrow as pa

    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if not len(chunk):
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets: np.ndarray = np.frombuffer(chunk.buffers()[1], width)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ].astype(np.int64)
        yield offsets, np.frombuffer(chunk.buffers()[2] or b"", np.uint8)


#: The bytes of a number as :data:`_FAST_NUMBER` has it.
_NUMBER_BYTES = np.frombuffer(b"0123456789.+-eE", np.uint8)


def _fast_numbers(text: Any, decimal: str) -> bool:
    """Whether every cell may be a number as the fast path takes it; the cast settles the rest.

    With a decimal point, a pass over the bytes: only digits, '.', '+', '-', 'e' and 'E'. Of
    such cells Arrow's cast to float reads exactly those :data:`_FAST_NUMBER` matches (a
    digit before or after the point, a whole exponent; an empty cell is no number) and
    refuses the others, so the chunk goes to the row-by-row checks as with the pattern.
    """
    import pyarrow.compute as pc

    if decimal == ".":
        return all(
            np.isin(data[offsets[0] : offsets[-1]], _NUMBER_BYTES).all()
            for offsets, data in _text_buffers(text)
        )
    return bool(pc.all(pc.match_substring_regex(text, _FAST_NUMBER_COMMA)).as_py())


def _fast_chunk(
    layout: _Layout, table: Any, start: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame] | None:
    """Check a chunk's columns (from :func:`_arrow_table`) vectorised; None if a row fails.

    Every check of :func:`_python_chunk` is made on whole columns; a chunk where any fails is
    read again by it, to word the message.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = table.num_rows
    limit = csv.field_size_limit()
    for column in table.columns:
        if len(column) and (pc.max(pc.binary_length(column)).as_py() or 0) > limit:
            return None
    numbers = np.arange(start + 1, start + lines + 1)
    for i in (layout.i_lat, layout.i_lon):  # as _python_chunk: the first lat, else lon
        if layout.decimal:
            break
        text = table.column(i)
        one = pc.xor(pc.match_substring(text, "."), pc.match_substring(text, ","))
        at = pc.index(one, True).as_py()
        if at >= 0:
            _settle_decimal(layout, [text[at].as_py()], numbers[at : at + 1])
    if not layout.decimal:
        return None
    values: dict[int, np.ndarray] = {}
    for i in layout.number_columns():
        text = table.column(i)
        if not _fast_numbers(text, layout.decimal):
            return None
        if layout.decimal == ",":
            text = pc.replace_substring(text, ",", ".")
        try:
            values[i] = pc.cast(text, pa.float64()).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    lat, lon = values[layout.i_lat], values[layout.i_lon]
    if not _valid_degrees(lon, lat):
        return None
    if layout.i_unc >= 0 and not (
        np.isfinite(values[layout.i_unc]).all() and (values[layout.i_unc] >= 0).all()
    ):
        return None
    if layout.i_id >= 0:
        saved = layout.registry.hashes, layout.registry.rows
        ids = table.column(layout.i_id).to_numpy(zero_copy_only=False)
        repeat, _ = layout.registry.check(ids, numbers, text=True)
        if len(repeat):
            layout.registry.hashes, layout.registry.rows = saved
            return None
    frame = pd.DataFrame(
        {name: table.column(i).to_pandas() for i, name in enumerate(layout.header)},
        columns=layout.header,
    )
    frame[layout.names[0]] = lat
    frame[layout.names[1]] = lon
    if layout.i_unc >= 0:
        frame[UNCERTAINTY] = values[layout.i_unc]
    return frame, lon, lat, numbers, pd.DataFrame(columns=REJECTED_COLUMNS)


def _valid_degrees(lon: np.ndarray, lat: np.ndarray) -> bool:
    """Whether every lon and lat is a finite number of degrees within its range."""
    return bool(
        np.isfinite(lon).all()
        and np.isfinite(lat).all()
        and (np.abs(lat) <= 90).all()
        and (np.abs(lon) <= 180).all()
    )


def _csv_layout(path: Path, blocks: _Blocks, skip: bool) -> _Layout:
    """Read the header: columns, separator, the lat/lon pair."""
    source = blocks.lines(step=1)
    seen: list[str] = []

    def lines() -> Iterator[str]:
        for line in source:
            seen.append(line)
            yield line

    reader = csv.reader(lines())
    header: list[str] = []
    while not header or not any(cell.strip() for cell in header):
        seen.clear()
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(located(path, "", "", "is empty")) from None
        except csv.Error as exc:
            raise InputError(
                located(path, f"line {reader.line_num}", "", _csv_problem(exc))
            ) from None
    delimiter = ","
    if not _lat_lon(header):
        separator = _other_separator(header)
        if separator in _SEPARATOR_NAMES:
            delimiter = separator
            try:
                header = next(csv.reader(iter(seen), delimiter=delimiter))
            except csv.Error as exc:
                raise InputError(located(path, "header", "", _csv_problem(exc))) from None
    lower = [name.strip().lower() for name in header]
    pair = _lat_lon(header)
    if pair is None:
        listed = shorten(", ".join(header), 200)
        hint = "name them lat and lon, or latitude and longitude"
        if _other_separator(header) == "|":
            hint = (
                "its header holds '|': flankmap reads files separated by commas, semicolons "
                "or tabs, so save it with one of these between the columns"
            )
        raise InputError(
            located(path, "", "", f"has no lat/lon columns (columns: {listed}); {hint}")
        )
    i_lat, i_lon = pair
    _check_header(path, header, lower)
    i_unc = lower.index(UNCERTAINTY) if UNCERTAINTY in lower else -1
    return _Layout(
        path=path,
        header=_kept_names(path, header, {i_unc: UNCERTAINTY} if i_unc >= 0 else {}),
        names=(header[i_lat], header[i_lon]),
        names_unc=header[i_unc] if i_unc >= 0 else UNCERTAINTY,
        i_lat=i_lat,
        i_lon=i_lon,
        i_unc=i_unc,
        i_id=lower.index("id") if "id" in lower else -1,
        delimiter=delimiter,
        skip=skip,
        registry=_IdRegistry(),
    )


def _lat_lon(header: list[str]) -> tuple[int, int] | None:
    lower = [name.strip().lower() for name in header]
    for lat_name, lon_name in COORDINATE_COLUMNS:
        if lat_name in lower and lon_name in lower:
            return lower.index(lat_name), lower.index(lon_name)
    return None


def _scan_csv_arrays(
    path: Path, chunk_rows: int, skip: bool, encoding: str | None = None
) -> Iterator[PointColumns]:
    codec = _encoding(encoding)
    if codec == "utf-8-sig":
        codec = "utf-8"
    total = path.stat().st_size
    with _open_bytes(path) as handle:
        blocks = _Blocks(path, handle, codec)
        layout = _csv_layout(path, blocks, skip)
        layout.encoding = codec
        start = 0
        seen_data = False
        legacy: Iterator[list[str]] | None = None
        while True:
            if legacy is None:
                first_line = blocks.line
                data, text = blocks.take(chunk_rows)
                if not data:
                    break
                quoted = b'"' in data
                lines = blocks.newlines + (not data.endswith(b"\n"))
                table = None
                if b"\0" not in data and (
                    b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")
                ):
                    utf8 = data if codec == "utf-8" else text.encode("utf-8")
                    table = _arrow_table(layout, utf8, lines, quoted)
                if quoted and (table is None or table is _UNSURE):
                    # Quotes that may hold a line break: Python's csv module from here on,
                    # record by record.
                    lead = first_line
                    stream = itertools.chain(io.StringIO(text, newline=""), blocks.lines())
                    reader = csv.reader(stream, delimiter=layout.delimiter)
                    legacy = reader
                else:  # every line is one record
                    fast = _fast_chunk(layout, table, start) if table is not None else None
                    if fast is not None:
                        frame, lon, lat, numbers, rejected = fast
                        start += lines
                        seen_data = True
                    else:
                        rows = _parse_rows(layout, text, first_line)
                        frame, lon, lat, numbers, rejected, data_rows = _python_chunk(
                            layout, rows, start
                        )
                        start += len(rows)
                        seen_data = seen_data or data_rows
            if legacy is not None:
                try:
                    rows = list(itertools.islice(legacy, chunk_rows))
                except csv.Error as exc:
                    raise InputError(
                        located(path, f"line {lead + reader.line_num}", "", _csv_problem(exc))
                    ) from None
                if not rows:
                    break
                frame, lon, lat, numbers, rejected, data_rows = _python_chunk(layout, rows, start)
                start += len(rows)
                seen_data = seen_data or data_rows
            yield PointColumns(frame, lon, lat, numbers, rejected, blocks.done, total)
        layout.say()
        if not seen_data:
            raise InputError(located(path, "", "", "has a header but no data rows"))


def _scan_csv(
    path: Path, chunk_rows: int, skip: bool, encoding: str | None = None
) -> Iterator[PointChunk]:
    for chunk in _scan_csv_arrays(path, chunk_rows, skip, encoding):
        points = gpd.GeoDataFrame(
            chunk.frame, geometry=gpd.points_from_xy(chunk.lon, chunk.lat), crs="EPSG:4326"
        )
        yield PointChunk(points, chunk.rows, chunk.rejected, chunk.done, chunk.total)


# --------------------------------------------------------------------------------------------
# GeoJSON, GeoPackage, GeoParquet
# --------------------------------------------------------------------------------------------

# Each format is opened only by its own reader, after its signature is checked: a CSV by
# Python's csv module (UTF-8 text), GeoJSON by json and then GDAL's GeoJSON driver, GeoPackage
# (an SQLite file) by GDAL's GPKG driver, GeoParquet (PAR1) by pyarrow. GDAL is never left to
# guess the driver, so a file named .gpkg cannot be an OGR VRT that reads other files or URLs,
# and no reader is given a /vsi* path or a URL.

#: GDAL configuration while a user file is read (set in this one place, restored after).
GDAL_READ_OPTIONS: dict[str, str] = {
    # /vsicurl/, /vsis3/ and the other network file systems open no name.
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".flankmap-no-network",
    "GDAL_HTTP_MAX_RETRY": "0",
    # No listing of the folder beside the file, no sibling files.
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    # An SQLite view or trigger may not open other data sources or call GDAL's SQL functions.
    "ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": "NO",
    "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "OGR_SQLITE_LOAD_EXTENSIONS": "",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    # A ring that does not close is an error, not silently closed.
    "OGR_GEOMETRY_ACCEPT_UNCLOSED_RING": "NO",
}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PARQUET_MAGIC = b"PAR1"


def _first_line(exc: BaseException | str) -> str:
    """Return the first non-empty line of a library's message, for a one-line error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return shorten(lines[0], 200) if lines else type(exc).__name__


@contextlib.contextmanager
def _gdal_guard() -> Iterator[None]:
    """Hold :data:`GDAL_READ_OPTIONS` (and PROJ without network) while GDAL reads a file."""
    import pyproj.network

    old = {name: pyogrio.get_gdal_config_option(name) for name in GDAL_READ_OPTIONS}
    network = pyproj.network.is_network_enabled()
    pyogrio.set_gdal_config_options(GDAL_READ_OPTIONS)
    pyproj.network.set_network_enabled(False)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)
        pyproj.network.set_network_enabled(network)


def _driver_path(driver: str, path: Path) -> str:
    """Return the name that makes GDAL open ``path`` with ``driver`` and no other."""
    name = str(path.resolve())
    if driver == "GPKG":  # GPKG:"file" (quoted: a ':' in the name would start a table name)
        if '"' in name:
            raise InputError(
                located(path, "", "", "has a '\"' in its path; rename the file or its folder")
            )
        return f'GPKG:"{name}"'
    return f"{driver}:{name}"


def _relay_warnings(path: Path, caught: list[warnings.WarningMessage]) -> None:
    """Say a library's warnings once each, as one line in flankmap's words."""
    said: set[str] = set()
    for warning in caught:
        text = str(warning.message)
        column = re.match(r"Could not parse column '(.*)' as JSON", text)
        if column:
            text = (
                f"field {column.group(1)!r}: mixes lists or objects with other values; kept as text"
            )
        elif "Several features with id" in text:
            continue  # GDAL's own feature numbers; flankmap checks the ids itself
        else:
            text = _first_line(text)
        if text not in said:
            said.add(text)
            logger.warning("%s: %s", path.name, text)


def _check_signature(path: Path, suffix: str) -> None:
    """Fail unless a GeoPackage starts like an SQLite file and a Parquet file is framed by PAR1.

    (A CSV is checked as it is read, a GeoJSON file by :func:`geo.geojson.read_collection`.)
    """
    if suffix not in GPKG_SUFFIXES + PARQUET_SUFFIXES:
        return
    with _open_bytes(path) as handle:
        head = handle.read(len(_SQLITE_MAGIC))
        tail = b""
        if suffix in PARQUET_SUFFIXES and path.stat().st_size >= 8:
            handle.seek(-4, io.SEEK_END)
            tail = handle.read(4)
    if not head:
        raise InputError(located(path, "", "", "is empty"))
    start = shorten(head.decode("utf-8", "replace"), 12)
    if suffix in GPKG_SUFFIXES and head != _SQLITE_MAGIC:
        raise InputError(
            located(path, "", "", f"is not a GeoPackage (an SQLite file); it starts with {start!r}")
        )
    if suffix in PARQUET_SUFFIXES and not (
        head.startswith(_PARQUET_MAGIC) and tail == _PARQUET_MAGIC
    ):
        raise InputError(
            located(
                path, "", "", f"is not a Parquet file (PAR1 ... PAR1); it starts with {start!r}"
            )
        )


def _load_collection(path: Path) -> dict[str, Any]:
    data = read_collection(path)
    if not data["features"]:
        raise InputError(located(path, "", "features", "is empty: the file holds no points"))
    _check_crs_member(path, data.get("crs"))
    return data


def _check_crs_member(path: Path, crs: Any) -> None:
    """Fail on a (pre-2016) GeoJSON ``crs`` member that names no CRS pyproj knows.

    GDAL would read the coordinates as WGS84 without a word.
    """
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or crs.get("type") != "name":
        raise InputError(
            located(
                path,
                "",
                "crs",
                f"{shorten(json.dumps(crs), 60)} is not a named CRS; GeoJSON is WGS84 lon/lat: "
                "remove the 'crs' member",
            )
        )
    import pyproj

    try:
        pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError:
        raise InputError(
            located(
                path,
                "",
                "crs",
                f"{shorten(name)!r} is not a CRS flankmap knows; GeoJSON is WGS84 lon/lat: remove "
                "the 'crs' member, or name a known one such as EPSG:3035",
            )
        ) from None


def _read_geojson(path: Path, skip: bool) -> tuple[gpd.GeoDataFrame, np.ndarray, pd.DataFrame]:
    data = _load_collection(path)
    features = data["features"]
    problems = _Problems(path, "feature")
    for pos, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(pos, "type", "is not a GeoJSON Feature")
            continue
        if "geometry" not in feature:
            problems.add(pos, "geometry", "is missing")
            continue
        reason = geometry_problem(feature["geometry"])
        if reason:
            problems.add(pos, "geometry", reason)
    numbers = np.arange(1, len(features) + 1)
    rejected = problems.settle(
        numbers, lambda i: json.dumps(features[i], ensure_ascii=False), skip=skip
    )
    keep = np.flatnonzero(~problems.mask(len(features)))
    if len(keep) == len(features):
        frame = _read_ogr(path, "GeoJSON")
    elif not len(keep):
        frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    else:  # GDAL reads the good features from a cleaned copy, with the GeoJSON driver
        cleaned = {**data, "features": [features[i] for i in keep]}
        with tempfile.TemporaryDirectory(prefix="flankmap-") as folder:
            copy = Path(folder) / "cleaned.geojson"
            copy.write_text(json.dumps(cleaned), encoding="utf-8")
            frame = _read_ogr(path, "GeoJSON", copy)
    frame.attrs.clear()
    # GDAL gives the geometry column the name of a "geometry" property: keep the property.
    if any(
        isinstance(features[i].get("properties"), dict) and "geometry" in features[i]["properties"]
        for i in keep
    ):
        values = [(features[i].get("properties") or {}).get("geometry") for i in keep]
        new = _free_name("geometry_input", frame.columns)
        frame.insert(
            len(frame.columns) - 1, new, pd.Series(values, dtype=object).map(_flat).to_numpy()
        )
        logger.warning(
            "%s: property 'geometry' is kept as %r (flankmap's geometry column has that name)",
            path.name,
            new,
        )
    # GDAL takes a numeric Feature "id" as its own feature number: keep it as the id column.
    top_ids = [features[i].get("id") for i in keep]
    if "id" not in frame.columns and any(value is not None for value in top_ids):
        values = pd.Series(top_ids, dtype=None if None not in top_ids else object)
        frame.insert(0, "id", values.to_numpy())
    return frame, numbers[keep], rejected


def _read_ogr(path: Path, driver: str, source: Path | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON or GeoPackage file with GDAL's driver for it, and nothing else.

    ``source`` is another file to read in ``path``'s stead (a cleaned copy of a GeoJSON file).
    """
    name = _driver_path(driver, source or path)
    with _gdal_guard(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if driver == "GPKG":
                layers = pyogrio.list_layers(name)
                if len(layers) > 1:
                    listed = ", ".join(repr(str(layer)) for layer in layers[:, 0][:10])
                    more = f" and {len(layers) - 10} more" if len(layers) > 10 else ""
                    raise InputError(
                        located(
                            path,
                            "",
                            "",
                            f"holds {len(layers)} layers ({listed}{more}); flankmap reads a "
                            "GeoPackage of one layer: save the layer you want in a file of its own",
                        )
                    )
            frame = pyogrio.read_dataframe(name)
        except InputError:
            raise
        except Exception as exc:  # pyogrio raises its own and GDAL's errors
            raise InputError(
                located(path, "", "", f"cannot be read ({_first_line(exc)})")
            ) from None
    _relay_warnings(path, caught)
    if not isinstance(frame, gpd.GeoDataFrame):  # a table without geometry
        raise InputError(
            located(path, "", "", "has no geometry column: it holds a table, not points")
        )
    return frame


#: Most bytes of decoded data in one frame read from a GeoParquet file: a batch that holds
#: more is cut into smaller frames (memory is bounded by bytes, not only by rows).
PARQUET_BATCH_BYTES = 64 << 20
#: Most bytes of decoded data one GeoParquet row may hold; a larger row is refused.
PARQUET_ROW_BYTES = 8 << 20
#: Most bytes of one column of one row group before decoding (its largest page is within).
PARQUET_COLUMN_CHUNK_BYTES = 512 << 20
#: A file that decodes to more than this many times its size, and to more than
#: :data:`PARQUET_EXPANSION_FLOOR` bytes, is refused.
PARQUET_MAX_EXPANSION = 200
PARQUET_EXPANSION_FLOOR = 1 << 30


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.1f} KB"


def _parquet_plan(path: Path, source: Any, probe: Any, chunk_rows: int) -> list[tuple[int, int]]:
    """Return the rows per batch of each row group: no batch decodes to over a budget.

    The budget is :data:`PARQUET_BATCH_BYTES`. The sizes come from the Parquet metadata and, for a text column stored with a dictionary
    (where one long value may be repeated on every row), from that dictionary's longest
    value: ``probe`` reads a row group's dictionaries without expanding them. Refuses, before
    any data is decompressed, a row group whose rows would hold more than
    :data:`PARQUET_ROW_BYTES` each, or a column chunk over :data:`PARQUET_COLUMN_CHUNK_BYTES`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    plan = []
    meta = source.metadata
    names = source.schema_arrow.names
    for group in range(meta.num_row_groups):
        info = meta.row_group(group)
        rows = max(info.num_rows, 1)
        size = info.total_byte_size
        disk = sum(info.column(c).total_compressed_size for c in range(info.num_columns))
        where = f"row group {group + 1}"
        if size / rows > PARQUET_ROW_BYTES:
            raise InputError(
                located(
                    path,
                    where,
                    "",
                    f"holds {_mb(size)} when decompressed for {info.num_rows:,} rows "
                    f"({_mb(size / rows)} a row, from {_mb(disk)} in the file); flankmap reads rows "
                    f"of at most {PARQUET_ROW_BYTES >> 20} MB",
                )
            )
        dictionaries = []
        for c in range(info.num_columns):
            chunk = info.column(c)
            if chunk.total_uncompressed_size > PARQUET_COLUMN_CHUNK_BYTES:
                raise InputError(
                    located(
                        path,
                        where,
                        chunk.path_in_schema,
                        f"holds {_mb(chunk.total_uncompressed_size)} when decompressed; flankmap "
                        f"reads at most {PARQUET_COLUMN_CHUNK_BYTES >> 20} MB of a column per row "
                        "group: write the file with smaller row groups",
                    )
                )
            if (
                chunk.has_dictionary_page
                and chunk.physical_type == "BYTE_ARRAY"
                and chunk.path_in_schema in names
            ):
                dictionaries.append(chunk.path_in_schema)
        worst = size / rows  # bytes a row, as stored
        if dictionaries and info.num_rows:
            first = next(probe.iter_batches(batch_size=1, row_groups=[group], columns=dictionaries))
            for name, column in zip(first.schema.names, first.columns, strict=True):
                if not pa.types.is_dictionary(column.type) or not len(column.dictionary):
                    continue
                longest = int(pc.max(pc.binary_length(column.dictionary)).as_py() or 0)
                if longest > PARQUET_ROW_BYTES:
                    raise InputError(
                        located(
                            path,
                            where,
                            name,
                            f"holds a value of {_mb(longest)}, which any row may repeat; flankmap "
                            f"reads rows of at most {PARQUET_ROW_BYTES >> 20} MB",
                        )
                    )
                worst += longest
        plan.append((group, max(1, min(chunk_rows, int(PARQUET_BATCH_BYTES // max(worst, 1))))))
    return plan


def _row_bytes(column: Any, cache: dict[int, np.ndarray] | None = None, key: int = 0) -> np.ndarray:
    """Bytes each row of an Arrow array takes once decoded (a dictionary's values expanded).

    Within a row group pyarrow hands out one dictionary per column that only grows from batch
    to batch: ``cache[key]`` keeps the sizes of its entries, so each is measured once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    n = len(column)
    if pa.types.is_dictionary(kind):
        known = np.zeros(0) if cache is None else cache.get(key, np.zeros(0))
        values = column.dictionary
        if len(values) < len(known):
            known = np.zeros(0)
        per_entry = np.concatenate([known, _row_bytes(values.slice(len(known)))])
        if cache is not None:
            cache[key] = per_entry
        if not len(per_entry):
            return np.zeros(n)
        index = pc.fill_null(column.indices, 0).to_numpy(zero_copy_only=False)
        return np.asarray(per_entry[index] + kind.index_type.bit_width // 8, dtype=float)
    if kind in (pa.string(), pa.binary(), pa.large_string(), pa.large_binary()):
        lengths = pc.fill_null(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
        return np.asarray(lengths, dtype=float) + 8
    width = getattr(kind, "bit_width", 0)
    if width > 0:
        return np.full(n, max(width // 8, 1), dtype=float)
    return np.full(n, column.nbytes / max(n, 1))  # nested: spread evenly


def _check_geo_metadata(path: Path, geo: bytes, names: list[str]) -> None:
    try:
        meta = json.loads(geo)
        primary = meta["primary_column"]
        columns = list(meta["columns"])
    except (ValueError, KeyError, TypeError):
        raise InputError(
            located(path, "", "", "has 'geo' metadata that is not GeoParquet's")
        ) from None
    for name in [primary, *columns]:
        if name not in names:
            raise InputError(
                located(
                    path,
                    "",
                    "",
                    f"has 'geo' metadata naming the geometry column {str(name)!r}, which the file "
                    f"does not have (columns: {shorten(', '.join(names), 120)})",
                )
            )


def _parquet_frame(path: Path, table: Any, plain: bool) -> pd.DataFrame:
    """Return a batch of :func:`_parquet_batches` as a GeoDataFrame (plain frame if ``plain``)."""
    from geopandas.io.arrow import _arrow_to_geopandas

    try:
        # dask-geopandas converts with this helper too (geopandas has no public one).
        return table.to_pandas() if plain else _arrow_to_geopandas(table)
    except Exception as exc:  # pyarrow and shapely raise their own errors for broken data
        raise InputError(
            located(path, "", "", f"cannot be read as GeoParquet ({_first_line(exc)})")
        ) from None


def _parquet_batches(path: Path, chunk_rows: int) -> Iterator[tuple[Any, int, bool]]:
    """GeoParquet row groups as Arrow tables, in batches bounded by rows and by decoded bytes.

    Yields each table (the file's schema metadata kept) with the file's row count and whether
    the file is plain Parquet; see :func:`_parquet_plan` and the limits
    :data:`PARQUET_BATCH_BYTES` to :data:`PARQUET_MAX_EXPANSION`. :func:`_parquet_frame`
    makes a frame of a table: a plain Parquet file (no ``geo`` metadata) with lat/lon columns
    gives plain frames, for :func:`_plain_points`.
    """
    import pyarrow as pa  # a dependency of flankmap
    import pyarrow.parquet as pq

    disk = path.stat().st_size
    limit = max(PARQUET_EXPANSION_FLOOR, PARQUET_MAX_EXPANSION * disk)
    with _open_bytes(path) as handle, _open_bytes(path) as probe_handle:
        try:
            source = pq.ParquetFile(handle)
            schema = source.schema_arrow
            metadata = schema.metadata or {}
            plain = b"geo" not in metadata
            if plain and _lat_lon(list(schema.names)) is None:
                listed = shorten(", ".join(schema.names), 200)
                raise InputError(
                    located(
                        path,
                        "",
                        "",
                        "has no 'geo' metadata (a plain Parquet file, not GeoParquet) and no "
                        f"lat/lon columns (columns: {listed}); name them lat and lon, or "
                        "latitude and longitude",
                    )
                )
            if not plain:
                _check_geo_metadata(path, metadata[b"geo"], schema.names)
            texts = [
                f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_binary(f.type)
            ]
            texts += [
                f.name
                for f in schema
                if pa.types.is_large_string(f.type) or pa.types.is_large_binary(f.type)
            ]
            probe = pq.ParquetFile(probe_handle, read_dictionary=texts)
            plan = _parquet_plan(path, source, probe, chunk_rows)
            total, decoded = source.metadata.num_rows, 0
            for group, batch_rows in plan:
                done = 0
                cache: dict[int, np.ndarray] = {}  # sizes of dictionary entries, by column
                for batch in source.iter_batches(batch_size=batch_rows, row_groups=[group]):
                    sizes = np.zeros(len(batch))
                    for key, column in enumerate(batch.columns):
                        sizes += _row_bytes(column, cache, key)
                    big = np.flatnonzero(sizes > PARQUET_ROW_BYTES)
                    if len(big):
                        raise InputError(
                            located(
                                path,
                                f"row group {group + 1}, row {done + int(big[0]) + 1:,}",
                                "",
                                f"holds {_mb(sizes[big[0]])} when decoded; flankmap reads rows of "
                                f"at most {PARQUET_ROW_BYTES >> 20} MB",
                            )
                        )
                    done += len(batch)
                    decoded += int(sizes.sum())
                    if decoded > limit:
                        raise InputError(
                            located(
                                path,
                                "",
                                "",
                                f"decodes to more than {_mb(limit)} from {_mb(disk)} in the file; "
                                "flankmap refuses such a decompression bomb",
                            )
                        )
                    table = pa.Table.from_batches([batch]).replace_schema_metadata(metadata)
                    yield table, total, plain
        except InputError:
            raise
        except Exception as exc:  # pyarrow raises its own errors for broken files
            raise InputError(
                located(path, "", "", f"cannot be read as GeoParquet ({_first_line(exc)})")
            ) from None


def _crs_name(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _frame_raw(frame: gpd.GeoDataFrame, pos: int) -> str:
    record = {k: v for k, v in frame.iloc[pos].items() if k != frame.geometry.name}
    geom = frame.geometry.iloc[pos]
    record["geometry"] = None if geom is None else geom.wkt
    return json.dumps(record, ensure_ascii=False, default=str)


def _coordinate_problem(value: object, number: float) -> str:
    """Why a lat or lon value of a plain Parquet file is not a finite number."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "is empty"
    if isinstance(value, str):
        return _number_problem(value) or f"{_number_text(value)} is not a number"
    if math.isinf(number):
        return f"{_number_text(value)} is not a finite number"
    return f"{_number_text(value)} is not a number"


def _plain_points(path: Path, frame: pd.DataFrame) -> tuple[gpd.GeoDataFrame, _Problems]:
    """Points of a plain Parquet batch from its lat/lon columns, as a CSV's; the bad rows found.

    The lat/lon columns become floats and stay in the frame (as a CSV's do); a row whose
    lat or lon is empty, not a number or not a position is named by row and field.
    """
    names = [str(c) for c in frame.columns]
    pair = _lat_lon(names)
    assert pair is not None  # checked by _parquet_batches
    problems = _Problems(path, "row")
    coords = []
    for i in pair:
        column = frame.iloc[:, i]
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for pos in np.flatnonzero(~np.isfinite(values)):
            problems.add(pos, names[i], _coordinate_problem(column.iloc[pos], values[pos]))
        coords.append(values)
    lat, lon = coords
    field_names = (names[pair[0]], names[pair[1]])
    for pos in np.flatnonzero(
        np.isfinite(lat) & np.isfinite(lon) & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    ):
        where = _position_problem(float(lat[pos]), float(lon[pos]), field_names)
        if where:
            problems.add(pos, *where)
    frame = frame.copy()
    frame[field_names[0]], frame[field_names[1]] = lat, lon
    bad = problems.mask(len(frame))
    geometry = gpd.points_from_xy(np.where(bad, 0.0, lon), np.where(bad, 0.0, lat))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326"), problems


def _plain_raw(frame: pd.DataFrame, pos: int) -> str:
    """Return a plain Parquet row as JSON, as read (a missing value as null)."""
    record = {
        str(k): None if isinstance(v, float) and math.isnan(v) else v
        for k, v in frame.iloc[pos].items()
    }
    return json.dumps(record, ensure_ascii=False, default=str)


def _check_frame(
    path: Path,
    frame: gpd.GeoDataFrame,
    numbers: np.ndarray,
    registry: _IdRegistry,
    skip: bool,
    raw: Callable[[int], str] | None = None,
    problems: _Problems | None = None,
) -> tuple[gpd.GeoDataFrame, np.ndarray, pd.DataFrame]:
    """Check a frame read by GDAL or pyarrow: geometry, coordinates, uncertainty, ids.

    ``problems`` holds those found before (a plain Parquet file's lat/lon); they come first.
    """
    if frame.crs is None or _is_wgs84(frame.crs):
        frame = frame.set_crs("EPSG:4326", allow_override=True)
    else:
        frame = frame.to_crs("EPSG:4326")
    frame = frame.reset_index(drop=True)
    lower = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}
    if UNCERTAINTY in lower and lower[UNCERTAINTY] != UNCERTAINTY:
        frame = frame.rename(columns={lower[UNCERTAINTY]: UNCERTAINTY})
    n = len(frame)
    problems = _Problems(path, "feature") if problems is None else problems
    values = np.asarray(frame.geometry.values, dtype=object)
    for pos in np.flatnonzero(shapely.is_missing(values)):
        problems.add(pos, "geometry", "is null")
    for pos in np.flatnonzero(~shapely.is_missing(values) & shapely.is_empty(values)):
        problems.add(pos, "geometry", "is empty")
    xy = shapely.get_coordinates(values)
    owner = np.repeat(np.arange(n), shapely.get_num_coordinates(values))
    bad = np.flatnonzero(
        ~np.isfinite(xy).all(axis=1) | (np.abs(xy[:, 1]) > 90) | (np.abs(xy[:, 0]) > 180)
    )
    for index in bad:
        lon, lat = (float(v) for v in xy[index])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            problems.add(owner[index], "geometry", f"coordinate [{lon}, {lat}] is not finite")
        else:
            where = _position_problem(lat, lon, ("geometry", "geometry"))
            if where:
                problems.add(owner[index], *where)
    polygonal = np.flatnonzero(
        np.isin(shapely.get_type_id(values), (3, 6)) & ~shapely.is_valid(values)
    )
    for pos in polygonal:
        if int(pos) not in problems.found:
            kind = values[pos].geom_type
            problems.add(
                pos, "geometry", f"is not a valid {kind} ({shapely.is_valid_reason(values[pos])})"
            )
    if UNCERTAINTY in frame.columns:
        column = frame[UNCERTAINTY]
        unc = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        for pos in np.flatnonzero(~np.isfinite(unc) | (unc < 0)):
            problems.add(pos, UNCERTAINTY, _uncertainty_problem(column.iloc[pos], unc[pos]))
        frame[UNCERTAINTY] = unc
    for name in frame.columns:  # JSON and the distances have no room for an infinite number
        if name != frame.geometry.name and pd.api.types.is_float_dtype(frame[name]):
            for pos in np.flatnonzero(np.isinf(frame[name].to_numpy(dtype=float))):
                problems.add(
                    pos, str(name), f"{_number_text(frame[name].iloc[pos])} is not a finite number"
                )
    if "id" in lower:
        ok = ~problems.mask(n)
        ids = frame[lower["id"]].to_numpy(dtype=object)
        _check_ids(problems, registry, ids, numbers, ok, str(lower["id"]))
    rejected = problems.settle(numbers, raw or (lambda i: _frame_raw(frame, i)), skip=skip)
    keep = np.flatnonzero(~problems.mask(n))
    return frame.iloc[keep].reset_index(drop=True), numbers[keep], rejected


def _uncertainty_problem(value: object, number: float) -> str:
    """Why a value read by GDAL or pyarrow is not a coordinate uncertainty in metres."""
    if value is None or value is pd.NA:
        return "is empty"
    if isinstance(value, str):
        return _number_problem(value) or f"{_number_text(value)} is negative"
    if math.isnan(number):
        return f"{_number_text(value)} is empty or not a number"
    if math.isinf(number):
        return f"{_number_text(value)} is not a finite number"
    return f"{_number_text(value)} is negative"


def _is_wgs84(crs: Any) -> bool:
    """Whether a CRS is WGS84 lon/lat (EPSG:4326, OGC:CRS84, or EPSG:4979 with heights)."""
    try:
        return bool(crs.to_2d().equals("EPSG:4326", ignore_axis_order=True))
    except Exception:  # a CRS pyproj cannot make 2-D
        return False


def _reprojection_notice(path: Path, crs: Any) -> None:
    if crs is not None and not _is_wgs84(crs):
        logger.warning("%s: reprojected from %s to WGS84 (EPSG:4326)", path.name, _crs_name(crs))


def _fast_geometry(table: Any, geometry: str) -> bool:
    """Whether the batches of a GeoParquet file may be read as positions (its first batch).

    Yes for a WKB geometry column, the only one, in WGS 84 or with no CRS; no for other
    encodings, several geometry columns or another CRS (reprojected as a frame).
    """
    import pyarrow as pa
    from geopandas.io.arrow import _arrow_to_geopandas

    if not table.num_rows or table.schema.field(geometry).type not in (
        pa.binary(),
        pa.large_binary(),
    ):
        return False
    try:  # one row as geopandas reads it: its geometry columns and CRS
        sample = _arrow_to_geopandas(table.slice(0, 1))
    except Exception:  # read the usual way, the batch says what is wrong
        return False
    names = [c for c in sample.columns if isinstance(sample[c].dtype, gpd.array.GeometryDtype)]
    return names == [geometry] and (sample.crs is None or _is_wgs84(sample.crs))


#: A 2-D point in ISO WKB, little-endian: byte order 1, type 1 (Point), x, y (21 bytes).
_POINT_WKB = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _wkb_positions(column: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Return lon and lat of an Arrow column of WKB when every row is a finite 2-D point.

    Only little-endian ISO WKB points of finite coordinates within [-180, 180] x [-90, 90];
    None for any other column (nulls, other shapes, Z, SRID, big-endian, empty points).
    """
    import pyarrow as pa

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(column)
    if not n or column.null_count:
        return None
    width = 4 if column.type == pa.binary() else 8
    _, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(
        offsets_buffer, np.int32 if width == 4 else np.int64, n + 1, column.offset * width
    )
    size = _POINT_WKB.itemsize
    if int(offsets[-1] - offsets[0]) != n * size or (np.diff(offsets) != size).any():
        return None
    cells = np.frombuffer(data_buffer, _POINT_WKB, n, int(offsets[0]))
    if not ((cells["order"] == 1).all() and (cells["kind"] == 1).all()):
        return None
    lon, lat = cells["x"].astype(float), cells["y"].astype(float)
    if not _valid_degrees(lon, lat):
        return None
    return lon, lat


def _fast_parquet(
    table: Any, geometry: str, numbers: np.ndarray, registry: _IdRegistry
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
    """Check a GeoParquet batch of points vectorised, without geometries; None if a row fails.

    Every check of :func:`_check_frame` is made on whole columns; a batch where any fails
    (or that holds other than 2-D points) is read again by it, to word the message.
    """
    import pyarrow as pa

    positions = _wkb_positions(table.column(geometry))
    if positions is None:
        return None
    lon, lat = positions
    # As geopandas reads it, the geometry column left out.
    frame = table.drop_columns([geometry]).to_pandas().reset_index(drop=True)
    lower = {str(c).lower(): c for c in frame.columns}
    if UNCERTAINTY in lower and lower[UNCERTAINTY] != UNCERTAINTY:
        frame = frame.rename(columns={lower[UNCERTAINTY]: UNCERTAINTY})
    if UNCERTAINTY in frame.columns:
        unc = pd.to_numeric(frame[UNCERTAINTY], errors="coerce").to_numpy(dtype=float)
        if not (np.isfinite(unc).all() and (unc >= 0).all()):
            return None
        frame[UNCERTAINTY] = unc
    for name in frame.columns:
        if pd.api.types.is_float_dtype(frame[name]) and np.isinf(frame[name].to_numpy(float)).any():
            return None
    if "id" in lower:
        name = lower["id"]
        where = table.schema.get_field_index(str(name))
        kind = table.schema.field(where).type if where >= 0 else None
        text = kind in (pa.string(), pa.large_string()) and not table.column(where).null_count
        ids = (
            table.column(where).to_numpy(zero_copy_only=False)
            if text
            else frame[name].to_numpy(dtype=object)
        )
        saved = registry.hashes, registry.rows
        repeat, _ = registry.check(ids, numbers, text=text)
        if len(repeat):
            registry.hashes, registry.rows = saved
            return None
    return frame, lon, lat


def _scan_parquet(
    path: Path, chunk_rows: int, skip: bool, *, columns: bool = False, avoid: Iterable[str] = ()
) -> Iterator[PointChunk | PointColumns]:
    """Read a (Geo)Parquet file batch by batch, checking every row.

    ``columns``: yield a batch of WGS 84 2-D points, all valid, as :class:`PointColumns`
    (its geometry column by name only, no geometries made), the others as
    :class:`PointChunk`. ``avoid``: names the geometry column must not have for that.
    """
    registry = _IdRegistry()
    first, start = True, 0
    fast: str | None = None  # the geometry column, when batches are read as positions
    for table, total, plain in _parquet_batches(path, chunk_rows):
        numbers = np.arange(start + 1, start + table.num_rows + 1)
        if first and columns and not plain:
            geometry = str(json.loads(table.schema.metadata[b"geo"])["primary_column"])
            if geometry not in set(avoid) and _fast_geometry(table, geometry):
                fast = geometry
        quick = _fast_parquet(table, fast, numbers, registry) if fast is not None else None
        if quick is not None and fast is not None:
            # WGS 84 or no CRS (_fast_geometry): no reprojection to tell
            first = False
            start += table.num_rows
            empty = pd.DataFrame(columns=REJECTED_COLUMNS)
            yield PointColumns(*quick, numbers, empty, start, total, fast)
            continue
        batch = _parquet_frame(path, table, plain)
        if first:
            _reprojection_notice(path, getattr(batch, "crs", None))
            first = False
        start += len(batch)
        if isinstance(batch, gpd.GeoDataFrame):
            checked = _check_frame(path, batch, numbers, registry, skip)
        else:  # a plain Parquet file: points from its lat/lon columns
            points, found = _plain_points(path, batch)
            checked = _check_frame(
                path,
                points,
                numbers,
                registry,
                skip,
                raw=functools.partial(_plain_raw, batch),
                problems=found,
            )
        yield PointChunk(*checked, start, total)
    if first or not start:
        raise InputError(located(path, "", "", "holds no features"))


def _scan_other(path: Path, suffix: str, chunk_rows: int, skip: bool) -> Iterator[PointChunk]:
    registry = _IdRegistry()
    if suffix in PARQUET_SUFFIXES:
        yield from _scan_parquet(path, chunk_rows, skip)  # type: ignore[misc]
        return
    if suffix in GEOJSON_SUFFIXES:
        frame, numbers, early = _read_geojson(path, skip)
    else:
        frame = _read_ogr(path, "GPKG")
        numbers, early = np.arange(1, len(frame) + 1), pd.DataFrame(columns=REJECTED_COLUMNS)
        if not len(frame):
            raise InputError(located(path, "", "", "holds no features"))
    _reprojection_notice(path, frame.crs)
    points, rows, rejected = _check_frame(path, frame, numbers, registry, skip)
    if len(early):
        rejected = pd.concat([early, rejected]).sort_values("row", kind="stable")
        rejected = rejected.reset_index(drop=True)
    yield PointChunk(points, rows, rejected, len(numbers) + len(early), len(numbers) + len(early))


def _checked_path(path: str | Path) -> tuple[Path, str]:
    given = str(path)
    if given.startswith(("/vsi", "\\vsi")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", given):
        raise InputError(
            f"{given!r}: is a GDAL virtual path or a URL; flankmap reads local files only"
        )
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder, not a file of points")
    if not path.is_file():
        if path.exists():
            raise InputError(
                f"{path.name}: is not a regular file (a FIFO, device or socket); "
                "give a file of points"
            )
        raise InputError(f"{path.name}: no such file ({path})")
    suffix = path.suffix.lower()
    known = CSV_SUFFIXES + GEOJSON_SUFFIXES + GPKG_SUFFIXES + PARQUET_SUFFIXES
    if suffix not in known:
        raise InputError(
            f"{path.name}: unknown file type {suffix or '(none)'!r}; use {', '.join(known)}"
        )
    return path, suffix


def scan_points(
    path: str | Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    skip_invalid: bool = False,
    encoding: str | None = None,
) -> Iterator[PointChunk]:
    r"""Read a file of points chunk by chunk, checking every row.

    Parameters
    ----------
    path : str or pathlib.Path
        A file as for :func:`read_points`.
    chunk_rows : int
        Rows per chunk of a CSV or GeoParquet file (the other formats come in one chunk).
    skip_invalid : bool
        Set bad rows aside in each chunk's ``rejected`` instead of raising.
    encoding : str, optional
        As in :func:`read_points`.

    Yields
    ------
    chunk : PointChunk
        The valid points of the next rows, in file order, and the rows set aside.

    Raises
    ------
    InputError
        As :func:`read_points`; with ``skip_invalid`` only for problems of the whole file.
        Errors are raised when the chunk that holds them is reached.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = path.write_text("id,lat,lon\na,54.7,25.3\nb,x,25\n")
    >>> [(len(c.points), c.rejected["reason"].tolist())
    ...  for c in scan_points(path, skip_invalid=True)]
    [(1, ["'x' is not a number"])]
    """
    path, suffix = _checked_path(path)
    _check_signature(path, suffix)
    if suffix in CSV_SUFFIXES:
        return _scan_csv(path, chunk_rows, skip_invalid, encoding)
    return _scan_other(path, suffix, chunk_rows, skip_invalid)


def _scan_geoparquet_columns(
    path: str | Path, *, chunk_rows: int, skip_invalid: bool, avoid: Iterable[str] = ()
) -> Iterator[PointChunk | PointColumns]:
    """Read a (Geo)Parquet file as :func:`scan_points`, its batches of points as positions.

    A batch of valid WGS 84 2-D points comes as :class:`PointColumns` (no geometries made),
    any other as :class:`PointChunk`; the checks and messages are those of
    :func:`scan_points`. ``avoid``: names the geometry column must not have for the former.
    """
    checked, suffix = _checked_path(path)
    if suffix not in PARQUET_SUFFIXES:
        raise InputError(f"{checked.name}: is not a Parquet file; read it with scan_points")
    _check_signature(checked, suffix)
    return _scan_parquet(checked, chunk_rows, skip_invalid, columns=True, avoid=avoid)


def scan_columns(
    path: str | Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    skip_invalid: bool = False,
    encoding: str | None = None,
) -> Iterator[PointColumns]:
    r"""Read a CSV of points chunk by chunk, as :func:`scan_points`, without making geometries.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV file as for :func:`read_points`.
    chunk_rows, skip_invalid, encoding
        As in :func:`scan_points`.

    Yields
    ------
    chunk : PointColumns
        The valid rows of the next lines and their lon/lat, in file order.

    Raises
    ------
    InputError
        As :func:`scan_points`; also when ``path`` is not a CSV file.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = path.write_text("id;lat;lon\na;54,7;25,3\n")
    >>> [(c.frame["id"].tolist(), c.lat.tolist()) for c in scan_columns(path)]
    [(['a'], [54.7])]
    """
    path, suffix = _checked_path(path)
    if suffix not in CSV_SUFFIXES:
        raise InputError(f"{path.name}: is not a CSV file; read it with scan_points")
    return _scan_csv_arrays(path, chunk_rows, skip_invalid, encoding)


def read_points(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    on_rejected: Callable[[pd.DataFrame], None] | None = None,
    encoding: str | None = None,
    check: Callable[[gpd.GeoDataFrame], Iterable[tuple[int, str, str]]] | None = None,
) -> gpd.GeoDataFrame:
    r"""Read a file of points into a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV with ``lat`` and ``lon`` (or ``latitude`` and ``longitude``, any case) columns,
        other columns kept as text in their order; separated by commas, or by semicolons or
        tabs (told by the header; such a file may write decimals with ',', found from its
        first lat or lon that has a mark and then required of every number), with a notice
        on the ``geo.points`` logger saying how it was read; or a GeoJSON
        FeatureCollection, GeoPackage or GeoParquet file (another CRS is reprojected, with a
        notice on the ``geo.points`` logger). A ``coord_uncertainty_m`` column, where present,
        must hold non-negative metres; an ``id`` column must not repeat a value.
    skip_invalid : bool
        Drop bad rows (with a notice that counts them) instead of raising.
    on_rejected : callable, optional
        With ``skip_invalid``: called with each non-empty frame of rejected rows (columns
        :data:`REJECTED_COLUMNS`), e.g. to write them to a side file.
    encoding : str, optional
        The encoding of a CSV file: UTF-8 by default (a byte order mark is skipped), or one
        that keeps ASCII as is, e.g. ``"cp1252"`` (Windows-1252) or ``"latin-1"``. The other
        formats are read as their format says.
    check : callable, optional
        The caller's own checks of its columns: called with the valid points of each chunk,
        it yields ``(position, field, reason)`` of each bad one, which is then reported
        (``row N`` or ``feature N``) or, with ``skip_invalid``, set aside as the reader's
        own problems are.

    Returns
    -------
    points : geopandas.GeoDataFrame
        The file's columns and a ``geometry`` column, EPSG:4326.

    Raises
    ------
    InputError
        One line naming the file, the row or feature and the field: unknown format, empty
        file, not UTF-8, invalid JSON, missing columns, a value that is empty or not a
        number, a latitude outside -90..90 (with a hint when lat and lon look swapped), a null
        or invalid geometry, a repeated id.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "p.csv").write_text("name,Lat,Lon\nVilnius,54.687,25.280\n")
    >>> read_points(folder / "p.csv")[["name", "Lat", "Lon"]].values.tolist()
    [['Vilnius', 54.687, 25.28]]
    """
    chunks = [
        c if check is None else _checked(c, Path(path), check, skip=skip_invalid)
        for c in scan_points(path, skip_invalid=skip_invalid, encoding=encoding)
    ]
    frames = [c.points for c in chunks]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    _report_rejected(Path(path), [c.rejected for c in chunks], on_rejected)
    return gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs="EPSG:4326")


def read_point_columns(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    on_rejected: Callable[[pd.DataFrame], None] | None = None,
    encoding: str | None = None,
    check: Callable[[gpd.GeoDataFrame], Iterable[tuple[int, str, str]]] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Read a CSV file of points as :func:`read_points` does, without point geometries.

    The same rows, checks, notices and rejected rows; the columns as a plain frame (lat and
    lon among them, as floats) and each row's lon and lat: a million points take no
    million shapely objects. ``check`` is called with the chunk's columns, and with its
    points (a GeoDataFrame) only where it finds a problem.

    Returns
    -------
    frame : pandas.DataFrame
        The file's columns, index from 0 (those of :func:`read_points`, without ``geometry``).
    lon, lat : numpy.ndarray
        Degrees, one per row.

    Raises
    ------
    InputError
        As :func:`read_points`; also when ``path`` is not a CSV file.
    """
    chunks = []
    for chunk in scan_columns(path, skip_invalid=skip_invalid, encoding=encoding):
        if check is not None and next(iter(check(chunk.frame)), None) is not None:
            points = gpd.GeoDataFrame(
                chunk.frame, geometry=gpd.points_from_xy(chunk.lon, chunk.lat), crs="EPSG:4326"
            )
            found = _checked(
                PointChunk(points, chunk.rows, chunk.rejected, chunk.done, chunk.total),
                Path(path),
                check,
                skip=skip_invalid,
            )
            kept = found.points.geometry.values
            chunk = dataclasses.replace(
                chunk,
                frame=pd.DataFrame(found.points.drop(columns=found.points.geometry.name)),
                lon=shapely.get_x(kept),
                lat=shapely.get_y(kept),
                rows=found.rows,
                rejected=found.rejected,
            )
        chunks.append(chunk)
    if len(chunks) == 1:
        frame, lon, lat = chunks[0].frame, chunks[0].lon, chunks[0].lat
    else:
        frame = pd.concat([c.frame for c in chunks], ignore_index=True)
        lon = np.concatenate([c.lon for c in chunks])
        lat = np.concatenate([c.lat for c in chunks])
    _report_rejected(Path(path), [c.rejected for c in chunks], on_rejected)
    return frame, lon, lat


def _report_rejected(
    path: Path,
    rejected: Sequence[pd.DataFrame],
    on_rejected: Callable[[pd.DataFrame], None] | None,
) -> None:
    """Pass each chunk's rejected rows on, and log how many were skipped and the first."""
    if on_rejected is not None:
        for rows in rejected:
            if len(rows):
                on_rejected(rows)
    total = sum(len(rows) for rows in rejected)
    if total:
        first = next(rows for rows in rejected if len(rows)).iloc[0]
        logger.warning(
            "%s: skipped %d invalid row(s); the first, row %d: %s",
            path.name,
            total,
            first["row"],
            f"field {first['field']!r}: {first['reason']}" if first["field"] else first["reason"],
        )


def _checked(
    chunk: PointChunk,
    path: Path,
    check: Callable[[gpd.GeoDataFrame], Iterable[tuple[int, str, str]]],
    *,
    skip: bool,
) -> PointChunk:
    """Apply the caller's ``check`` to a chunk: raise, or set its bad points aside."""
    problems = _Problems(path, "row" if path.suffix.lower() in CSV_SUFFIXES else "feature")
    for position, field, reason in check(chunk.points):
        problems.add(position, field, reason)
    if not problems.found:
        return chunk
    rejected = problems.settle(chunk.rows, lambda i: _frame_raw(chunk.points, i), skip=skip)
    keep = ~problems.mask(len(chunk.points))
    if len(chunk.rejected):
        rejected = pd.concat([chunk.rejected, rejected], ignore_index=True)
        rejected = rejected.sort_values("row", kind="stable", ignore_index=True)
    return dataclasses.replace(
        chunk,
        points=chunk.points[keep].reset_index(drop=True),
        rows=chunk.rows[keep],
        rejected=rejected,
    )


def _flat(value: object) -> object:
    """Turn lists and dicts (layer sources, timelines) into JSON text for a CSV cell."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


# --------------------------------------------------------------------------------------------
# Parts on dask
# --------------------------------------------------------------------------------------------


def _read_part(path: Path, columns: list[str]) -> gpd.GeoDataFrame:
    frame = read_points(path)
    if list(frame.columns) != columns:
        raise InputError(
            located(
                path,
                "",
                "",
                f"has columns {', '.join(map(str, frame.columns))}; the first part has "
                f"{', '.join(columns)}: every part needs the same columns",
            )
        )
    return frame


def part_files(path: str | Path) -> list[Path]:
    """Return the part files of a folder (or one file) as :func:`read_parts` reads them.

    Parameters
    ----------
    path : str or pathlib.Path
        As in :func:`read_parts`.

    Returns
    -------
    files : list of pathlib.Path
        In name order: one partition each.

    Raises
    ------
    InputError
        If the folder holds no parts or mixes kinds, or the file cannot be read.
    """
    path = Path(path)
    if not path.is_dir():
        return [_checked_path(path)[0]]
    kinds = CSV_SUFFIXES + PARQUET_SUFFIXES
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in kinds and not p.name.startswith((".", "_"))
    )
    if not files:
        raise InputError(f"{path.name}: the folder holds no .csv or .parquet parts")
    if len({p.suffix.lower() in CSV_SUFFIXES for p in files}) > 1:
        raise InputError(f"{path.name}: the folder mixes .csv and .parquet parts; use one kind")
    return files


def _row_of(path: Path, position: int) -> int:
    """Return the row (or feature) number of the point at ``position`` among the points."""
    seen = 0
    for chunk in scan_points(path):
        if position < seen + len(chunk.rows):
            return int(chunk.rows[position - seen])
        seen += len(chunk.rows)
    return position + 1


class _PartIds:
    """Checks that no id of a part repeats an id of an earlier part (each part checks its own).

    Registered rows encode (part, position); the row numbers in the files are found again only
    for an error message.
    """

    _SHIFT = 1 << 40

    def __init__(self, files: list[Path] | None) -> None:
        self.files, self.registry, self.part = files, _IdRegistry(), 0

    def _name(self, part: int) -> str:
        return self.files[part].name if self.files else f"partition {part + 1}"

    def _where(self, part: int, position: int) -> str:
        if not self.files:
            return f"point {position + 1}"
        unit = "row" if self.files[part].suffix.lower() in CSV_SUFFIXES else "feature"
        return f"{unit} {_row_of(self.files[part], position)}"

    def check(self, frame: pd.DataFrame) -> None:
        part, self.part = self.part, self.part + 1
        field = next((c for c in frame.columns if str(c).lower() == "id"), None)
        if field is None or not len(frame):
            return
        ids = frame[field].to_numpy(dtype=object)
        codes = part * self._SHIFT + np.arange(len(frame))
        repeat, first = self.registry.check(ids, codes)
        if len(repeat):
            pos, earlier = int(repeat[0]), int(first[0])
            other, other_pos = divmod(earlier, self._SHIFT)
            raise InputError(
                f"{self._name(part)}: {self._where(part, pos)}: field {str(field)!r}: "
                f"{shorten(str(ids[pos]))!r} is used by {self._name(other)} "
                f"{self._where(other, other_pos)} too (ids must be unique across the parts)"
            )


def read_parts(path: str | Path) -> Any:
    """Read a folder of CSV or GeoParquet parts (or one file) as a dask-geopandas frame.

    Each part becomes one partition, read and checked as by :func:`read_points` when the frame
    is computed (on the workers).

    Parameters
    ----------
    path : str or pathlib.Path
        A folder of ``.csv`` or ``.parquet`` files with the same columns (names starting with
        ``.`` or ``_`` are left out), read in name order; or one such file.

    Returns
    -------
    points : dask_geopandas.GeoDataFrame
        One partition per part, EPSG:4326.

    Raises
    ------
    InputError
        If dask-geopandas is missing, the folder holds no parts or mixes kinds, or the first
        part cannot be read; a bad later part raises when computed.
    """
    try:
        import dask.dataframe as dd
        import dask_geopandas  # noqa: F401  (registers the GeoDataFrame backend)
        from dask.base import tokenize
        from dask.delayed import delayed
    except ImportError:
        raise InputError(
            "the dask engine needs dask-geopandas: pip install 'flankmap[dask]'"
        ) from None
    files = part_files(path)
    first = next(iter(scan_points(files[0], chunk_rows=1)))
    meta = first.points.iloc[:0]
    columns = list(meta.columns)
    parts = [
        delayed(_read_part, pure=True)(
            file,
            columns,
            dask_key_name=f"flankmap-part-{i}-{tokenize(str(file), file.stat().st_mtime_ns)}",
        )
        for i, file in enumerate(files)
    ]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)
