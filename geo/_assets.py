"""The files of ``geo/assets/`` (the map's and the report's scripts and styles), read to inline.

A page made by flankmap loads nothing: each asset goes into a ``<script>`` or ``<style>``
element of the page, so it may not contain the text that would close that element.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["ASSETS", "check_inline", "read", "tidy"]

#: The folder of the assets.
ASSETS = Path(__file__).resolve().parent / "assets"


def tidy(text: str) -> str:
    r"""Drop trailing blanks on lines and runs of more than one empty line.

    Examples
    --------
    >>> tidy("a  \n\n\n\nb")
    'a\n\nb'
    """
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text)


def check_inline(text: str, element: str) -> str:
    """Return a text to inline into an HTML ``element`` (``script`` or ``style``), checked.

    Raises
    ------
    RuntimeError
        If the text holds ``</element`` (in any case), which would end the element early.

    Examples
    --------
    >>> check_inline("a { color: red }", "style")
    'a { color: red }'
    """
    closing = f"</{element}"
    if closing in text.lower():
        raise RuntimeError(f"an inlined asset contains {closing!r}; it cannot be inlined")
    return text


@functools.cache
def read(name: str) -> str:
    """Return the text of the asset ``name`` (e.g. ``"report.css"``), tidied and checked.

    Examples
    --------
    >>> "sites-table" in read("report.js")
    True
    """
    text = tidy((ASSETS / name).read_text(encoding="utf-8"))
    return check_inline(text, "style" if name.endswith(".css") else "script")


def joined(folder: str) -> str:
    """Return the parts of a script kept in ``folder`` (``NN-name.js``), joined in order.

    The map's own runtime is one script in several files, each about one concern (the
    helpers and the basemap, the overlays, the controls, the view and the date), so that no
    file grows past a reader's screenfuls; joined, they are the one script the page inlines.

    Examples
    --------
    >>> text = joined("flankmap")
    >>> text.lstrip().startswith("/*") and "fm.render" in text
    True
    """
    parts = sorted((ASSETS / folder).glob("[0-9][0-9]-*.js"))
    if not parts:
        raise RuntimeError(f"no script parts in {folder!r} of the package's assets")
    return "".join(part.read_text(encoding="utf-8") for part in parts)
