"""Writing output files: atomically where the output is a file, in place where it is a stream.

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
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from geo._errors import InputError, OutputError

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


def _wrap(fd: int, mode: str, name: Path) -> IO:
    raw = _OutputFile(fd, name)
    buffered = io.BufferedWriter(raw)  # type: ignore[type-var]
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
def atomic_writer(path: Path | str, mode: str = "w") -> Iterator[IO]:
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
