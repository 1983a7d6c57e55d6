"""Writing output files atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from geo._errors import InputError


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
        The output path.

    Raises
    ------
    InputError
        If the folder does not exist, the path is a folder, or it names an input file.
    """
    out = Path(path)
    if out.is_dir():
        raise InputError(f"output {str(out)!r} is a folder; give a file name")
    if not out.parent.is_dir():
        raise InputError(f"output folder {str(out.parent)!r} does not exist; create it first")
    for source in inputs:
        src = Path(source)
        if src.exists() and out.exists() and os.path.samefile(src, out):
            raise InputError(f"output {str(out)!r} would overwrite the input {str(src)!r}")
    return out


@contextlib.contextmanager
def atomic_writer(path: Path | str, mode: str = "w") -> Iterator[IO]:
    r"""Open a temporary file beside ``path`` and move it into place only on success.

    An error or interrupt inside the ``with`` block removes the temporary file and leaves any
    existing file at ``path`` untouched.

    Parameters
    ----------
    path : pathlib.Path or str
        The final file.
    mode : str
        ``"w"`` for text (UTF-8, ``\n`` line ends) or ``"wb"`` for bytes.

    Yields
    ------
    handle : file object
        The temporary file, open for writing.
    """
    final = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    try:
        if "b" in mode:
            handle: IO = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding="utf-8", newline="\n")
        with handle:
            yield handle
        os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
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
