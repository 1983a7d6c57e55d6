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
    >>> "flankmap" in read("flankmap.js")
    True
    """
    text = tidy((ASSETS / name).read_text(encoding="utf-8"))
    return check_inline(text, "style" if name.endswith(".css") else "script")
