"""Writing output files: points and sites in seven formats, rejected rows, maps and pages.

Points and sites are written as CSV, GeoJSON, GeoParquet, GeoPackage, FlatGeobuf, KML or KMZ
by one :class:`Writer` per format (:data:`WRITERS` maps a file suffix to its writer,
:data:`FORMATS` a format name), through :func:`point_writer` (frames one after another into one file),
:func:`write_points` (one frame) and :func:`write_parts` (a dask frame, a few partitions at
a time); :func:`rejected_writer` writes the side file of rejected rows. Notices (cells that a
spreadsheet would run as formulas) go to the ``geo.writers`` logger.

Every output is written atomically where it is a file, in place where it is a stream.
What an output path may name, and what a write does to it:

- **a new name** in an existing folder: the content goes to a temporary file
  ``.NAME.XXXXXXXX.tmp`` beside it, created with the permissions ``0666`` minus the umask, and
  is renamed into place only when it is complete;
- **an existing regular file**: replaced the same way; the new file keeps the old one's
  permission bits (and its owner and group where the process may set them). Other hard links
  to the old file keep the old content;
- **a symbolic link**: followed; the file it points to is written as above and the link stays
  a link (a dangling link's target is created). A link in a sticky, world-writable folder
  such as ``/tmp`` that belongs neither to the user nor to the folder's owner is refused, as
  the kernel's ``protected_symlinks`` rule does for the shell;
- **a character device or a FIFO** (``/dev/null``, ``/dev/stdout``, a named pipe): written
  through, in place, and never replaced; such a write cannot be atomic, and a FIFO waits for
  its reader;
- **a folder, a socket or a block device**: refused with an :class:`InputError`.

An error while writing (a full or read-only disk, no permission to create the temporary
file) raises an :class:`OutputError` that names the output and the reason; the temporary file
is removed and an existing file stays as it was, whatever stops the write (an exception,
Ctrl-C, or a signal that the command line turns into an exception).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import InputError, OutputError
from geo.points import (
    COORDINATE_COLUMNS,
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    REJECTED_COLUMNS,
    _csv_raw,
    _flat,
    _PartIds,
    _text_buffers,
)

__all__ = [
    "FORMATS",
    "FORMULA_START",
    "WRITERS",
    "CsvWriter",
    "FlatGeobufWriter",
    "GeoJsonWriter",
    "GeoPackageWriter",
    "GeoParquetWriter",
    "KmlWriter",
    "KmzWriter",
    "OutputTarget",
    "Writer",
    "atomic_writer",
    "check_output_path",
    "output_kind",
    "output_target",
    "point_writer",
    "rejected_writer",
    "write_parts",
    "write_points",
    "write_text_atomic",
    "writer_for",
]

logger = logging.getLogger(__name__)

#: What :func:`output_kind` says about each file type that is not written.
_REFUSED = {
    stat.S_IFDIR: "a folder",
    stat.S_IFSOCK: "a socket",
    stat.S_IFBLK: "a block device",
}
_TMP_SUFFIX = ".tmp"
_TOKEN_CHARS = 8


def output_kind(mode: int) -> str:
    """Decide how an existing output is written, from its ``st_mode`` (links followed).

    Parameters
    ----------
    mode : int
        The ``st_mode`` of :func:`os.stat` on the output.

    Returns
    -------
    kind : str
        ``"file"`` (a regular file: replaced atomically), ``"stream"`` (a character device or
        a FIFO: written through in place, never replaced), or what the output is when it
        cannot be written (``"a folder"``, ``"a socket"``, ``"a block device"``).

    Examples
    --------
    >>> import stat
    >>> output_kind(stat.S_IFREG | 0o644), output_kind(stat.S_IFCHR | 0o666)
    ('file', 'stream')
    >>> output_kind(stat.S_IFBLK | 0o660)
    'a block device'
    """
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    return _REFUSED.get(stat.S_IFMT(mode), "not a file")


@dataclass(frozen=True)
class OutputTarget:
    """Where an output goes: see :func:`output_target`."""

    #: The file to replace (a link resolved), or the stream to write through.
    path: Path
    #: Write through in place (a character device or a FIFO) instead of replacing.
    stream: bool = False
    #: The existing file's status, whose mode (and owner) the new file keeps; None if new.
    existing: os.stat_result | None = None


def _show(path: Path | str, limit: int = 80) -> str:
    text = str(path)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _check_name(path: Path) -> None:
    """Refuse a file name longer than the file system allows (before any work is done)."""
    size = len(os.fsencode(path.name))
    limit = _name_max(path.parent if path.parent.is_dir() else Path("."))
    if size > limit:
        raise InputError(
            f"output name {_show(path.name, 40)} is {size:,} bytes long; "
            f"the file system allows {limit}"
        )


def _check_link_owner(link: Path, info: os.stat_result) -> None:
    """Refuse a link that the kernel's protected_symlinks rule would not follow."""
    try:
        folder = os.stat(link.parent)
    except OSError:
        return
    sticky_public = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if sticky_public and info.st_uid not in (os.geteuid(), folder.st_uid):
        raise InputError(
            f"output {_show(link)} is a link that another user made in a shared folder; "
            "write to the file itself or remove the link"
        )


def output_target(path: Path | str) -> OutputTarget:
    """Decide where and how an output path is written (see the module docstring).

    Parameters
    ----------
    path : pathlib.Path or str
        The output as the user gave it.

    Returns
    -------
    target : OutputTarget
        The file to replace atomically (links followed), or the stream to write through.

    Raises
    ------
    InputError
        If the path is a folder, a socket or a block device, its folder does not exist, its
        name is longer than the file system allows, or it is a link that cannot be followed.
    """
    given = Path(path)
    _check_name(given)
    try:
        info = os.lstat(given)
    except FileNotFoundError:
        if not given.parent.is_dir():
            raise InputError(
                f"output folder {_show(given.parent)} does not exist; create it first"
            ) from None
        return OutputTarget(given)
    except OSError as exc:
        raise InputError(f"output {_show(given)}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        _check_link_owner(given, info)
        real = Path(os.path.realpath(given))
        try:
            info = os.stat(given)
        except FileNotFoundError:  # a dangling link: create the file it names
            _check_name(real)
            if not real.parent.is_dir():
                raise InputError(
                    f"output {_show(given)} is a link into the folder {_show(real.parent)}, "
                    "which does not exist"
                ) from None
            return OutputTarget(real)
        except OSError as exc:
            raise InputError(f"output {_show(given)}: {exc.strerror or exc}") from None
    else:
        real = given
    kind = output_kind(info.st_mode)
    if kind == "stream":
        return OutputTarget(given, stream=True)
    if kind != "file":
        raise InputError(f"output {_show(given)} is {kind}; give a file name")
    if real != given:
        try:
            same = os.stat(real)
        except OSError:
            same = None
        if same is None or (same.st_dev, same.st_ino) != (info.st_dev, info.st_ino):
            raise InputError(f"output {_show(given)}: cannot find the file that the link names")
    return OutputTarget(real, existing=info)


def check_output_path(path: Path | str, *, inputs: tuple[Path | str, ...] = ()) -> Path:
    """Check that an output path can be written without harming an input.

    Parameters
    ----------
    path : pathlib.Path or str
        Where the output will go.
    inputs : tuple of paths
        Files the command reads; the output must not overwrite one of them.

    Returns
    -------
    path : pathlib.Path
        The output path, as given.

    Raises
    ------
    InputError
        If the folder does not exist, the path is a folder, a socket or a block device, its
        name is longer than the file system allows, it is a link that cannot be followed, or
        it names an input file.
    """
    out = Path(path)
    output_target(out)
    for source in inputs:
        src = Path(source)
        if src.exists() and out.exists() and os.path.samefile(src, out):
            raise InputError(f"output {str(out)!r} would overwrite the input {str(src)!r}")
    return out


def _write_error(path: Path, exc: OSError, doing: str = "cannot write") -> OutputError:
    """Build an OutputError that names the output as the user gave it, and the reason."""
    error = OutputError(f"{path}: {doing}: {exc.strerror or exc}")
    error.errno, error.filename = exc.errno, str(path)
    return error


class _OutputFile(io.FileIO):
    """A raw file whose write errors name the output (not the temporary file)."""

    #: The system write (tests replace it to simulate a full or read-only disk).
    _write = io.FileIO.write

    def __init__(self, fd: int, name: Path) -> None:
        super().__init__(fd, "wb", closefd=True)
        self._output = name

    def write(self, data: Any) -> int:
        try:
            return self._write(data) or 0
        except OSError as exc:
            raise _write_error(self._output, exc) from None

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:
            raise _write_error(self._output, exc) from None


def _wrap(fd: int, mode: str, name: Path) -> IO[Any]:
    raw = _OutputFile(fd, name)
    buffered = io.BufferedWriter(raw)
    if "b" in mode:
        return buffered
    return io.TextIOWrapper(buffered, encoding="utf-8", newline="\n", write_through=False)


def _temp_name(final: Path) -> str:
    """Return a hidden name beside ``final`` that fits the file system's name length."""
    room = _name_max(final.parent) - 2 - _TOKEN_CHARS - len(_TMP_SUFFIX)
    name = os.fsencode(final.name)[: max(room, 1)].decode(errors="ignore")
    token = secrets.token_hex(_TOKEN_CHARS // 2)
    return f".{name}.{token}{_TMP_SUFFIX}"


def _create_temp(final: Path, given: Path, existing: os.stat_result | None) -> tuple[int, Path]:
    """Create the temporary file: 0666 minus the umask, or private until given the old mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = final.parent / _temp_name(final)
        try:
            fd = os.open(tmp, flags, 0o600 if existing is not None else 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise _write_error(
                given, exc, f"cannot create a file in the folder {str(final.parent)!r}"
            ) from None
        if existing is not None:
            try:
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, existing.st_uid, existing.st_gid)
                os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)
            except BaseException:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp
    raise OutputError(f"{given}: cannot create a temporary file in {str(final.parent)!r}")


@contextlib.contextmanager
def atomic_writer(path: Path | str, mode: str = "w") -> Iterator[IO[Any]]:
    r"""Open a temporary file beside ``path`` and move it into place only on success.

    An error or interrupt inside the ``with`` block removes the temporary file and leaves any
    existing file at ``path`` untouched. A character device or a FIFO is written through in
    place instead; a symbolic link is followed (see the module docstring).

    Parameters
    ----------
    path : pathlib.Path or str
        The final file.
    mode : str
        ``"w"`` for text (UTF-8, ``\n`` line ends) or ``"wb"`` for bytes.

    Yields
    ------
    handle : file object
        The temporary file (or the stream), open for writing.

    Raises
    ------
    InputError
        If the path cannot be an output (see :func:`output_target`).
    OutputError
        If the file cannot be created or written (no permission, a full or read-only disk).
    """
    given = Path(path)
    target = output_target(given)
    if target.stream:
        try:
            fd = os.open(target.path, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise _write_error(given, exc) from None
        with _wrap(fd, mode, given) as handle:
            yield handle
        return
    fd, tmp = _create_temp(target.path, given, target.existing)
    try:
        with _wrap(fd, mode, given) as handle:
            yield handle
        try:
            os.replace(tmp, target.path)
        except OSError as exc:
            raise _write_error(given, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write text to ``path`` atomically (see :func:`atomic_writer`).

    Parameters
    ----------
    path : pathlib.Path or str
        The file.
    text : str
        Its content.
    """
    with atomic_writer(path, "w") as handle:
        handle.write(text)


# --------------------------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------------------------


def _csv_table(frame: gpd.GeoDataFrame, results: Collection[str] = ()) -> pd.DataFrame:
    """Return the CSV columns of a frame: lat and lon added where missing, lists as JSON.

    The lat and lon columns go after the caller's columns, before the ``results`` it appended.
    """
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    lower = {str(c).lower() for c in table.columns}
    if not any(lat in lower and lon in lower for lat, lon in COORDINATE_COLUMNS):
        position = len([c for c in table.columns if c not in results])
        points = shapely.point_on_surface(np.asarray(frame.geometry.values, dtype=object))
        table.insert(position, "lat", shapely.get_y(points))
        table.insert(position + 1, "lon", shapely.get_x(points))
    for column in table.columns:
        if pd.api.types.is_object_dtype(table[column]):
            table[column] = table[column].map(_flat)
    return table


#: A spreadsheet (Excel, LibreOffice) runs a CSV cell that starts with one of these as a
#: formula ("CSV injection", OWASP): ``=``, ``+``, ``-``, ``@``, a tab or a carriage return.
FORMULA_START = "^[=+\\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_FORMULA_RE = re.compile(FORMULA_START)
_NUMBER_RE = re.compile(_PLAIN_NUMBER)


def _is_formula(text: str) -> bool:
    """Whether a spreadsheet would take a text cell for a formula (a plain number is not)."""
    return bool(_FORMULA_RE.match(text)) and not _NUMBER_RE.match(text)


class _Formulas:
    """Counts (and with ``safe`` neutralises) the CSV cells a spreadsheet would run.

    Neutralising is OWASP's: a leading ``'`` makes the cell text. The count is said once,
    when the file is complete (:meth:`notice`).
    """

    def __init__(self, path: Path, safe: bool) -> None:
        self.path, self.safe, self.count = path, safe, 0

    def cell(self, text: str) -> str:
        if not _is_formula(text):
            return text
        self.count += 1
        return "'" + text if self.safe else text

    def column(self, text: Any) -> Any:
        """Arrow strings of one text column, checked (and neutralised)."""
        import pyarrow.compute as pc

        if not _has_bytes(text, _FORMULA_BYTES, first=True):  # the usual case, checked fast
            return text
        starts = pc.match_substring_regex(text, FORMULA_START)
        if not pc.any(starts).as_py():
            return text
        hits = pc.and_(starts, pc.invert(pc.match_substring_regex(text, _PLAIN_NUMBER)))
        found = int(pc.sum(hits).as_py() or 0)
        if not found:
            return text
        self.count += found
        return (
            pc.if_else(hits, pc.binary_join_element_wise("'", text, ""), text)
            if self.safe
            else text
        )

    def notice(self) -> None:
        if not self.count:
            return
        if self.safe:
            logger.warning(
                "%s: wrote %d cell(s) that start with =, +, - or @ with a leading ' so that a "
                "spreadsheet shows them as text (excel-safe)",
                self.path.name,
                self.count,
            )
        else:
            logger.warning(
                "%s: %d cell(s) start with =, +, - or @, which a spreadsheet may run as "
                "formulas; write with --excel-safe (excel_safe=True) to neutralise them",
                self.path.name,
                self.count,
            )


def _csv_text(column: pd.Series, formulas: _Formulas | None = None) -> Any:
    """Return a column as Arrow strings: floats shortest round-trip, missing values empty.

    Text cells (not numbers) go through ``formulas`` (see :class:`_Formulas`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(column, from_pandas=True)
        text = pc.cast(array, pa.string())
    except (pa.ArrowException, TypeError, ValueError):  # mixed Python objects
        text = pa.array(
            ["" if v is None or v is pd.NA or v != v else str(v) for v in column], pa.string()
        )
    text = pc.fill_null(text, "")
    numeric = pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
    if numeric:  # the text of a number never needs quotes
        return text
    if formulas is not None:
        text = formulas.column(text)
    if _has_bytes(text, _QUOTED_BYTES):
        needs = pc.match_substring_regex(text, '[",\r\n]')
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        text = pc.if_else(needs, quoted, text)
    return text


#: The first characters of a cell that :data:`FORMULA_START` matches, and those that make a
#: CSV cell need quotes: all ASCII, so never a byte inside another UTF-8 character.
_FORMULA_BYTES = b"=+-@\t\r"
_QUOTED_BYTES = b'",\r\n'


def _has_bytes(text: Any, which: bytes, *, first: bool = False) -> bool:
    """Whether Arrow strings hold one of the ASCII bytes ``which`` (``first``: as first byte).

    Read from the strings' buffers: one pass over the bytes, no regular expression.
    """
    wanted = np.frombuffer(which, np.uint8)
    for offsets, data in _text_buffers(text):
        if first:
            starts = offsets[:-1][offsets[1:] > offsets[:-1]]
            if np.isin(data[starts], wanted).any():
                return True
        elif np.isin(data[offsets[0] : offsets[-1]], wanted).any():
            return True
    return False


def _csv_bytes(table: pd.DataFrame, *, header: bool, formulas: _Formulas | None = None) -> bytes:

    parts: list[bytes] = []
    if header:
        names = [str(c) for c in table.columns]
        if formulas is not None:
            names = [formulas.cell(name) for name in names]
        parts.append((_csv_raw(names) + "\n").encode("utf-8"))
    if len(table):
        cells = [_csv_text(table[c], formulas) for c in table.columns]
        parts.append(_lines(cells))
    return b"".join(parts)


def _lines(cells: list[Any]) -> bytes:
    """Return the CSV lines of columns of finished cell text (quoted where needed)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(cells))]
    out = io.BytesIO()
    try:  # pyarrow's writer as it is: refuses a cell with a quote, separator or line break
        pacsv.write_csv(
            pa.table(dict(zip(names, cells, strict=True))),
            out,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
        return out.getvalue()
    except pa.ArrowInvalid:  # quoted cells: the lines joined here
        lines = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
        return _joined(pc.binary_join_element_wise(lines, "", "\n"))


def _joined(lines: Any) -> bytes:
    """Return the bytes of Arrow strings one after another (their data buffer, sliced)."""
    import pyarrow as pa

    out = []
    for chunk in lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]:
        if not len(chunk):
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], width)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        out.append(chunk.buffers()[2][int(offsets[0]) : int(offsets[-1])].to_pybytes())
    return b"".join(out)


class Writer:
    """Write frames of points, one after another, into one open binary file.

    A subclass writes one format: :meth:`open` writes what comes before the first frame,
    :meth:`write` appends a frame, :meth:`close` completes the file after the last one, and
    :meth:`abort` releases what an error leaves open (the file is then thrown away). Every
    frame is given the columns of the first. Register a new format in :data:`WRITERS`.

    Parameters
    ----------
    handle : binary file object
        The file to write (see :func:`atomic_writer`).
    path : pathlib.Path
        The output as the user gave it, for messages.
    formulas : _Formulas
        Counts (and neutralises) the CSV cells a spreadsheet would run as formulas.
    results : collection of str
        Columns the caller appended to its points (e.g. distances): a CSV that needs
        ``lat`` and ``lon`` gets them before these, after the caller's own columns.
    styles : mapping, optional
        The symbol of each layer (:func:`geo.styles.layer_styles`), for the formats that
        draw (KML, KMZ); default from the rows written.
    """

    #: The file suffixes (lower case) this writer is chosen for.
    suffixes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        handle: IO[bytes],
        path: Path,
        *,
        formulas: _Formulas,
        results: Collection[str] = (),
        styles: Mapping[str, Any] | None = None,
    ) -> None:
        self.handle, self.path, self.formulas, self.results = handle, path, formulas, results
        self.styles = styles
        self.columns: list[Any] | None = None

    def open(self) -> None:
        """Write what comes before the first frame (nothing by default)."""

    def write(self, frame: gpd.GeoDataFrame) -> None:
        """Append a frame of points (EPSG:4326), given the columns of the first frame."""
        first = self.columns is None
        if self.columns is None:
            self.columns = list(frame.columns)
        elif list(frame.columns) != self.columns:
            frame = frame.reindex(columns=self.columns)
        self._write(frame, first=first)

    def _write(self, frame: gpd.GeoDataFrame, *, first: bool) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Complete the file after the last frame (nothing by default)."""

    def abort(self) -> None:
        """Release what an error midway leaves open (nothing by default)."""


class CsvWriter(Writer):
    """CSV: the columns in order, lists as JSON text, numbers in their shortest exact form.

    Takes a plain DataFrame too (points kept as their ``lat`` and ``lon`` columns).
    """

    suffixes = CSV_SUFFIXES

    def _write(self, frame: gpd.GeoDataFrame, *, first: bool) -> None:
        if isinstance(frame, gpd.GeoDataFrame):
            table = _csv_table(frame, self.results)
        else:  # points without geometries, that have lat and lon columns (a CSV's own)
            table = pd.DataFrame(frame)
            for column in table.columns:
                if pd.api.types.is_object_dtype(table[column]):
                    table[column] = table[column].map(_flat)
        self.handle.write(_csv_bytes(table, header=first, formulas=self.formulas))


class GeoJsonWriter(Writer):
    """A GeoJSON FeatureCollection; NaN is written as null."""

    suffixes = (".geojson",)
    _START = b'{"type": "FeatureCollection", "features": ['

    def open(self) -> None:
        """Write the start of the collection."""
        self.handle.write(self._START)
        self._features = False

    def _write(self, frame: gpd.GeoDataFrame, *, first: bool) -> None:
        features = frame.to_geo_dict(drop_id=True)["features"]
        if not features:
            return
        try:  # NaN is written as null; an infinite number has no JSON form
            text = json.dumps(features, ensure_ascii=False, allow_nan=False)[1:-1]
        except ValueError:
            raise InputError(
                f"{self.path.name}: a value is inf or -inf, which JSON cannot hold"
            ) from None
        self.handle.write(((", " if self._features else "") + text).encode())
        self._features = True

    def close(self) -> None:
        """Write the end of the collection."""
        self.handle.write(b"]}")


@dataclass(frozen=True)
class PointTable:
    """Points kept as columns and positions, for :class:`GeoParquetWriter` to take as they are.

    Writing them makes no geometries: the point WKB is built from the positions directly.

    Attributes
    ----------
    frame : pandas.DataFrame
        The columns, without the geometry (its ``attrs`` written as a frame's).
    lon, lat : numpy.ndarray
        The position of each row, degrees (EPSG:4326), finite.
    geometry : str
        The name of the geometry column, written after the others.
    """

    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    geometry: str = "geometry"

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[Any]:
        """The columns as written: the frame's, then the geometry."""
        return [*self.frame.columns, self.geometry]

    def geodataframe(self, stop: int | None = None) -> gpd.GeoDataFrame:
        """Return the rows (up to ``stop``) as a GeoDataFrame of points, geometry last."""
        out = pd.DataFrame(self.frame.iloc[:stop].copy(deep=False))
        out[self.geometry] = gpd.points_from_xy(self.lon[:stop], self.lat[:stop])
        frame = gpd.GeoDataFrame(out, geometry=self.geometry, crs="EPSG:4326")
        frame.attrs = dict(self.frame.attrs)
        return frame


#: One 2-D point in ISO WKB, little-endian: byte order 1, type 1 (Point), x, y (21 bytes).
_POINT_WKB = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _point_wkb(lon: np.ndarray, lat: np.ndarray) -> Any:
    """Return the points as an Arrow binary array of WKB, the bytes shapely.to_wkb gives."""
    import pyarrow as pa

    n = len(lon)
    cells = np.empty(n, _POINT_WKB)
    cells["order"], cells["kind"], cells["x"], cells["y"] = 1, 1, lon, lat
    offsets = np.arange(0, (n + 1) * _POINT_WKB.itemsize, _POINT_WKB.itemsize, dtype=np.int32)
    data = pa.py_buffer(cells.view(np.uint8))
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), data])


class GeoParquetWriter(Writer):
    """GeoParquet: one row group per frame, the schema of the first frame.

    Takes a :class:`PointTable` too (written as the GeoDataFrame of its points would be).
    """

    suffixes = PARQUET_SUFFIXES

    def open(self) -> None:
        """Start with no Parquet writer: the first frame gives the schema."""
        self._parquet: Any = None
        self._schema: Any = None
        self._point_field: Any = None  # the geometry field and 'geo' metadata of a PointTable
        self._point_geo: bytes = b""

    def write(self, frame: gpd.GeoDataFrame | PointTable) -> None:
        """Append a frame of points, or a :class:`PointTable`."""
        if isinstance(frame, PointTable):
            # Only while the offsets of the WKB fit Arrow's binary type (2 GiB a chunk).
            fits = len(frame.lon) * _POINT_WKB.itemsize < 2**31
            if fits and (self.columns is None or frame.columns == self.columns):
                if self.columns is None:
                    self.columns = frame.columns
                self._write_points(frame)
                return
            frame = frame.geodataframe()
        super().write(frame)

    def _write_points(self, points: PointTable) -> None:
        """Write a PointTable as geopandas' ``_geopandas_to_arrow`` would its GeoDataFrame."""
        import pyarrow as pa
        from geopandas.io.arrow import _geopandas_to_arrow

        if self._point_field is None:
            # The geometry field and the 'geo' metadata (CRS, encoding), from one row; the
            # column names are checked as for a frame.
            sample = _geopandas_to_arrow(points.geodataframe(stop=1), index=False)
            self._point_field = sample.schema.field(points.geometry)
            self._point_geo = sample.schema.metadata[b"geo"]
        # As geopandas: the other columns from pandas, the geometry a null column replaced.
        attrs = pd.DataFrame(points.frame.copy(deep=False))
        attrs[points.geometry] = None
        table = pa.Table.from_pandas(attrs, preserve_index=False)
        table = table.set_column(
            table.num_columns - 1, self._point_field, _point_wkb(points.lon, points.lat)
        )
        metadata = {**table.schema.metadata, b"geo": self._point_geo}
        if points.frame.attrs:
            metadata[b"PANDAS_ATTRS"] = json.dumps(points.frame.attrs).encode()
        self._append(table.replace_schema_metadata(metadata), points.frame.attrs)

    def _write(self, frame: gpd.GeoDataFrame, *, first: bool) -> None:
        from geopandas.io.arrow import _geopandas_to_arrow

        # dask-geopandas writes through this helper too (geopandas has no public one).
        self._append(_geopandas_to_arrow(frame, index=False), frame.attrs)

    def _append(self, table: Any, attrs: Mapping[str, Any]) -> None:
        """Write a table made from a frame with these ``attrs``; the first gives the schema."""
        import pyarrow.parquet as pq

        # The bbox and the geometry types of the first chunk would not describe the whole
        # file: drop them.
        meta = json.loads(table.schema.metadata[b"geo"])
        for column in meta["columns"].values():
            column.pop("bbox", None)
            column["geometry_types"] = []
        extra = {b"geo": json.dumps(meta)}
        if "flankmap" in attrs:  # what the results were measured to (geo.distance)
            extra[b"flankmap"] = json.dumps(attrs["flankmap"], ensure_ascii=False)
        table = table.replace_schema_metadata({**table.schema.metadata, **extra})
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.handle, table.schema)
            self._schema = table.schema
        self._parquet.write_table(table.cast(self._schema))

    def close(self) -> None:
        """Write the Parquet footer (nothing when no frame was written)."""
        self.abort()

    def abort(self) -> None:
        """Close the Parquet writer."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None


def _gdal_table(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a frame GDAL can write: lists and dicts as JSON text, the CRS EPSG:4326."""
    table = frame.copy()
    for column in table.columns:
        if column != table.geometry.name and pd.api.types.is_object_dtype(table[column]):
            table[column] = table[column].map(_flat)
    if table.crs is None:
        table = table.set_crs("EPSG:4326")
    table.columns = [str(c) for c in table.columns]
    return table


#: GDAL's option for the time it writes into a file (GeoPackage's ``last_change``).
_GDAL_DATE_OPTION = "OGR_CURRENT_DATE"


def _fixed_date() -> str:
    """Return the time written into GDAL files, so that the same data gives the same bytes.

    ``SOURCE_DATE_EPOCH`` (seconds, the reproducible-builds convention) when it is set, else
    the Unix epoch: the time of writing is not a property of the data.

    Examples
    --------
    >>> len(_fixed_date())  # 1970-01-01T00:00:00.000Z unless SOURCE_DATE_EPOCH is set
    24
    """
    import datetime as dt
    import os

    try:
        seconds = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    except ValueError:
        seconds = 0
    when = dt.datetime.fromtimestamp(max(seconds, 0), tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _GdalWriter(Writer):
    """A format GDAL writes (through pyogrio), to a path: a scratch folder beside the output.

    The file is built in a hidden folder ``.NAME.XXXXXXXX.tmp`` beside the output (in the
    system's temporary folder when the output is a stream), then copied into the file that
    :func:`atomic_writer` gives; the scratch folder is removed whatever happens.
    """

    #: The GDAL driver.
    driver: ClassVar[str] = ""
    #: Whether the driver appends a frame to an existing layer (else frames are joined).
    appends: ClassVar[bool] = False
    #: GDAL layer creation options.
    options: ClassVar[tuple[tuple[str, str], ...]] = ()

    def open(self) -> None:
        """Create the scratch folder."""
        import tempfile

        target = output_target(self.path)
        folder = None if target.stream else target.path.parent
        try:
            self._scratch = Path(
                tempfile.mkdtemp(prefix=f".{self.path.name[:80]}.", suffix=_TMP_SUFFIX, dir=folder)
            )
        except OSError as exc:
            raise _write_error(self.path, exc, "cannot create a scratch folder") from None
        self._file = self._scratch / f"out{self.suffixes[0]}"
        self._frames: list[gpd.GeoDataFrame] = []
        self._written = False

    def _write(self, frame: gpd.GeoDataFrame, *, first: bool) -> None:
        if self.appends:
            self._gdal(frame)
        else:
            self._frames.append(frame)

    def _gdal(self, frame: gpd.GeoDataFrame) -> None:
        import pyogrio

        table = _gdal_table(frame)
        layer = self.path.stem or "points"
        before = pyogrio.get_gdal_config_option(_GDAL_DATE_OPTION)
        pyogrio.set_gdal_config_options({_GDAL_DATE_OPTION: _fixed_date()})
        try:
            pyogrio.write_dataframe(
                table,
                self._file,
                layer=layer,
                driver=self.driver,
                append=self._written,
                layer_options=dict(self.options) or None,
            )
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            raise OutputError(f"{self.path}: cannot write {self.driver}: {exc}") from None
        finally:
            pyogrio.set_gdal_config_options({_GDAL_DATE_OPTION: before})
        self._written = True

    def close(self) -> None:
        """Write what is buffered, copy the file into the output, remove the scratch folder."""
        import shutil

        try:
            if self._frames:
                frames = self._frames
                joined = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
                self._gdal(gpd.GeoDataFrame(joined, crs=frames[0].crs))
            elif not self._written:
                self._gdal(gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326"))
            with self._file.open("rb") as source:
                shutil.copyfileobj(source, self.handle, 1 << 20)
        finally:
            self.abort()

    def abort(self) -> None:
        """Remove the scratch folder."""
        import shutil

        shutil.rmtree(self._scratch, ignore_errors=True)
        self._frames = []


class GeoPackageWriter(_GdalWriter):
    """GeoPackage (GDAL): one table named after the file, every column with its type.

    Lists and dicts are JSON text, partial dates text; the CRS is EPSG:4326.
    """

    suffixes = (".gpkg",)
    driver = "GPKG"
    appends = True


class FlatGeobufWriter(_GdalWriter):
    """FlatGeobuf (GDAL): every column with its type, lists and dicts as JSON, EPSG:4326.

    FlatGeobuf cannot be appended to: the frames are joined and written when the file is
    closed. The rows keep their order (no spatial index, which would sort them).
    """

    suffixes = (".fgb",)
    driver = "FlatGeobuf"
    options = (("SPATIAL_INDEX", "NO"),)


class KmlWriter(Writer):
    """KML for Google Earth: folders per layer, dates as time spans, styles as on the map.

    See :mod:`geo._kml`. The frames are kept until the file is closed (the folders and
    styles need every row).
    """

    suffixes = (".kml",)

    def open(self) -> None:
        """Start with no rows."""
        self._frames: list[gpd.GeoDataFrame] = []

    def _write(self, frame: gpd.GeoDataFrame, *, first: bool) -> None:
        self._frames.append(frame)

    def _document(self) -> bytes:
        from geo._kml import kml_bytes

        frames = self._frames
        if not frames:
            frames = [gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326")]
        joined = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        frame = gpd.GeoDataFrame(joined, geometry=frames[0].geometry.name, crs=frames[0].crs)
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs("EPSG:4326")
        return kml_bytes(frame, name=self.path.stem, styles=self.styles)

    def close(self) -> None:
        """Write the document."""
        self.handle.write(self._document())
        self.abort()

    def abort(self) -> None:
        """Drop the rows."""
        self._frames = []


class KmzWriter(KmlWriter):
    """KMZ: the KML document zipped as ``doc.kml``, the same bytes for the same rows."""

    suffixes = (".kmz",)

    def close(self) -> None:
        """Write the zip."""
        from geo._kml import kmz_bytes

        self.handle.write(kmz_bytes(self._document()))
        self.abort()


#: The writer of each output file suffix (lower case).
WRITERS: dict[str, type[Writer]] = {
    suffix: kind
    for kind in (
        CsvWriter,
        GeoJsonWriter,
        GeoParquetWriter,
        GeoPackageWriter,
        FlatGeobufWriter,
        KmlWriter,
        KmzWriter,
    )
    for suffix in kind.suffixes
}
#: The writer of each format name (``--format``): the first suffix without its dot.
FORMATS: dict[str, type[Writer]] = {kind.suffixes[0][1:]: kind for kind in WRITERS.values()}


def writer_for(path: Path | str, *, format: str | None = None) -> type[Writer]:
    """Return the :class:`Writer` of an output file, from a format name or its suffix.

    Parameters
    ----------
    path : pathlib.Path or str
        The output file.
    format : str, optional
        A format name of :data:`FORMATS` (``csv``, ``geojson``, ``parquet``, ``gpkg``,
        ``fgb``, ``kml``, ``kmz``), any case; default from the file's suffix.

    Returns
    -------
    writer : type
        A :class:`Writer` subclass from :data:`WRITERS`.

    Raises
    ------
    InputError
        If the format is unknown, or no writer writes files with that suffix.

    Examples
    --------
    >>> writer_for("out.CSV").__name__, writer_for("out.geoparquet").__name__
    ('CsvWriter', 'GeoParquetWriter')
    >>> writer_for("sites.out", format="KMZ").__name__
    'KmzWriter'
    """
    path = Path(path)
    if format is not None:
        key = str(format).strip().lower().lstrip(".")
        if key not in FORMATS:
            raise InputError(f"unknown format {format!r}; use {', '.join(FORMATS)}")
        return FORMATS[key]
    suffix = path.suffix.lower()
    if suffix not in WRITERS:
        choices = ", ".join(kind.suffixes[0] for kind in FORMATS.values())
        raise InputError(f"{path.name}: unknown output type {suffix!r}; use {choices}")
    return WRITERS[suffix]


@contextlib.contextmanager
def rejected_writer(
    path: str | Path | None, *, with_file: bool = False, excel_safe: bool = False
) -> Iterator[Callable[[pd.DataFrame], None]]:
    """Write rejected rows to a CSV side file, atomically; a no-op without a path.

    Parameters
    ----------
    path : str, pathlib.Path or None
        The side file; ``None`` discards the rows.
    with_file : bool
        Put a first column ``file`` (the input the rows came from) before
        :data:`REJECTED_COLUMNS`.
    excel_safe : bool
        Write a leading ``'`` before every cell that starts with ``=``, ``+``, ``-`` or ``@``
        (a spreadsheet would run it as a formula). Either way such cells are counted and
        said once on the ``geo.writers`` logger.

    Yields
    ------
    write : callable
        ``write(frame)`` appends rejected rows; the file holds the header even when no row
        was rejected, and appears only when the ``with`` block ends without an error.
    """
    if path is None:
        yield lambda frame: None
        return
    columns = ["file", *REJECTED_COLUMNS] if with_file else REJECTED_COLUMNS
    formulas = _Formulas(Path(path), excel_safe)
    with atomic_writer(path, "w") as handle:
        handle.write(",".join(columns) + "\n")

        def write(frame: pd.DataFrame) -> None:
            frame = frame.reindex(columns=columns)
            for column in ("file", "field", "reason", "raw"):
                if column in frame.columns:
                    frame[column] = [
                        formulas.cell(str(v)) if isinstance(v, str) else v for v in frame[column]
                    ]
            frame.to_csv(handle, index=False, header=False, lineterminator="\n")

        yield write
    formulas.notice()


@contextlib.contextmanager
def point_writer(
    path: str | Path,
    *,
    excel_safe: bool = False,
    results: Collection[str] = (),
    format: str | None = None,
    styles: Mapping[str, Any] | None = None,
) -> Iterator[Callable[[gpd.GeoDataFrame], None]]:
    """Write frames of points one after another into one file, atomically.

    The file appears (or replaces an old one) only when the ``with`` block ends without an
    error; an error midway leaves no partial file and any old file untouched.

    Parameters
    ----------
    path : str or pathlib.Path
        A file of a format of :data:`WRITERS` (see :func:`write_points`).
    excel_safe : bool
        As in :func:`write_points`.
    results : collection of str
        As in :func:`write_points`.
    format : str, optional
        As in :func:`write_points`.
    styles : mapping, optional
        As in :func:`write_points`.

    Yields
    ------
    write : callable
        ``write(frame)`` appends a GeoDataFrame (EPSG:4326); every frame must have the
        columns of the first.

    Raises
    ------
    InputError
        If the file type is unknown.
    """
    path = Path(path)
    kind = writer_for(path, format=format)
    formulas = _Formulas(path, excel_safe)
    with atomic_writer(path, "wb") as handle:
        writer = kind(handle, path, formulas=formulas, results=results, styles=styles)
        writer.open()
        try:
            yield writer.write
        except BaseException:
            writer.abort()
            raise
        writer.close()
    formulas.notice()


def write_points(
    frame: gpd.GeoDataFrame,
    path: str | Path,
    *,
    excel_safe: bool = False,
    results: Collection[str] = (),
    format: str | None = None,
    styles: Mapping[str, Any] | None = None,
) -> Path:
    """Write a frame of points or sites to a file of any format of :data:`WRITERS`, atomically.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Points (EPSG:4326) with their columns.
    path : str or pathlib.Path
        ``.csv`` (the columns in order, ``lat`` and ``lon`` added after them when the frame
        has no coordinate columns, lists as JSON text, numbers in their shortest exact form,
        missing values empty), ``.geojson``, ``.parquet`` (GeoParquet), ``.gpkg``
        (GeoPackage) or ``.fgb`` (FlatGeobuf; both with every column typed, lists and dicts
        as JSON text, EPSG:4326), ``.kml`` or ``.kmz`` (Google Earth: dates as time spans,
        the popup content as the description, styles as on the map; see :mod:`geo._kml`).
    excel_safe : bool
        For a CSV: write a leading ``'`` before every text cell (and column name) that starts
        with ``=``, ``+``, ``-`` or ``@`` and is not a number, which a spreadsheet would run
        as a formula. Either way such cells are counted and said once on the ``geo.writers``
        logger.
    results : collection of str
        The columns the caller appended to its points (e.g. distances): a CSV that needs
        ``lat`` and ``lon`` gets them before these, after the points' own columns; default
        after every column.
    format : str, optional
        A format name of :data:`FORMATS`; default from the suffix of ``path``.
    styles : mapping, optional
        For KML and KMZ: the symbol of each layer (:func:`geo.styles.layer_styles` on the
        unfiltered layers, as the map has them); default from the rows written.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the file type or the format is unknown.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd, shapely
    >>> frame = gpd.GeoDataFrame(
    ...     {"name": ["Vilnius"], "distance_m": [1.5]},
    ...     geometry=[shapely.Point(25.28, 54.687)], crs="EPSG:4326",
    ... )
    >>> out = write_points(frame, Path(tempfile.mkdtemp()) / "d.csv", results=["distance_m"])
    >>> print(out.read_text(), end="")
    name,lat,lon,distance_m
    Vilnius,54.687,25.28,1.5
    """
    with point_writer(
        path, excel_safe=excel_safe, results=results, format=format, styles=styles
    ) as write:
        write(frame)
    return Path(path)


def write_parts(
    frame: Any,
    path: str | Path,
    *,
    on_progress: Callable[[int, int, int], None] | None = None,
    excel_safe: bool = False,
    parts: list[Path] | None = None,
    results: Collection[str] = (),
    format: str | None = None,
) -> int:
    """Compute a dask frame a few partitions at a time and write them in order to one file.

    Parameters
    ----------
    frame : dask_geopandas.GeoDataFrame
        Points with results, e.g. from :func:`geo.distance.distances`.
    path : str or pathlib.Path
        The file, as for :func:`write_points` (written atomically).
    on_progress : callable, optional
        Called as ``on_progress(parts_done, parts, rows_written)`` after each batch.
    excel_safe : bool
        As in :func:`write_points`.
    parts : list of pathlib.Path, optional
        The file of each partition (:func:`geo.points.part_files`), to name in messages.
    results : collection of str
        As in :func:`write_points`.
    format : str, optional
        As in :func:`write_points`.

    Returns
    -------
    rows : int
        Rows written.

    Raises
    ------
    InputError
        As :func:`geo.points.read_points` for a part, or if an ``id`` repeats one of an earlier part.
    """
    from dask.base import compute

    ids = _PartIds(parts)
    partitions = frame.to_delayed()
    options: dict[str, str] = {}
    try:
        from distributed import default_client

        window = 2 * max(1, len(default_client().nthreads()))  # type: ignore[no-untyped-call]
    except (ImportError, ValueError):
        # No cluster: one part after another in this process. The engine already uses every
        # core for a part, and dask's threaded scheduler ran two parts' pandas work at once,
        # which crashed now and then inside pandas (Arrow strings, 3 runs in 8).
        window = 4
        options["scheduler"] = "synchronous"
    rows = 0
    with point_writer(path, excel_safe=excel_safe, results=results, format=format) as write:
        for start in range(0, len(partitions), window):
            batch = compute(*partitions[start : start + window], **options)  # type: ignore[no-untyped-call]
            for part in batch:
                ids.check(part)
                write(part)
                rows += len(part)
            if on_progress is not None:
                on_progress(min(start + window, len(partitions)), len(partitions), rows)
    return rows
