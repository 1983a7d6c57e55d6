"""The only code that relies on folium's and branca's internals (private, fenced, pinned).

folium gives the map its page scaffold and the Jupyter display; everything it would fetch or
template is kept out:

- :func:`deterministic_ids` sets branca's id hook (``Element._generate_id``, called once by
  every element it makes) to a counter after a hash of the map's data, so the same map has
  the same ids and bytes in every process, and no id is random;
- :class:`Deferred` elements (:class:`HeaderText`, :class:`MapCall`) write a placeholder into
  the templated page, and :class:`Page` swaps their text in after branca's Jinja2 rendering,
  so no template engine ever reads the data;
- :func:`elements` walks an element tree, :func:`page_of` finds a map's page.

The supported range of folium and branca is pinned in ``pyproject.toml``; a test fails when
the installed versions leave it, because what this module relies on is not public API.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
from collections.abc import Iterator
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geo._assets import tidy
from geo._errors import InputError

__all__ = [
    "Deferred",
    "HeaderText",
    "MapCall",
    "Page",
    "deterministic_ids",
    "elements",
    "page_of",
]

_IDS_LOCK = threading.Lock()


@contextlib.contextmanager
def deterministic_ids(prefix: str) -> Iterator[None]:
    """Give every branca element made inside the block the id ``prefix`` + a counter.

    Parameters
    ----------
    prefix : str
        Letters and digits, e.g. a hash of the map's data.

    Examples
    --------
    >>> with deterministic_ids("ab12"):
    ...     first, second = Element(), Element()
    >>> first.get_name(), second.get_name()
    ('element_ab12001', 'element_ab12002')
    """
    counter = itertools.count(1)
    hook = Element.__dict__["_generate_id"]

    def generate_id(cls: type[Element]) -> str:
        return f"{prefix}{next(counter):03d}"

    with _IDS_LOCK:  # the hook is one class attribute: one map at a time
        Element._generate_id = classmethod(generate_id)  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            Element._generate_id = hook  # type: ignore[method-assign]


def elements(root: Element) -> Iterator[Element]:
    """Yield an element and all its descendants, parents first, children in order."""
    yield root
    for child in root._children.values():
        yield from elements(child)


class Deferred(MacroElement):
    """Text that enters the page only after folium's templating has finished.

    branca compiles the output of every element's macros as a new Jinja2 template, so any
    text placed there is evaluated (``{{ 7*7 }}`` would become ``49``, and worse). A deferred
    element's macro writes only a placeholder made of its id; :class:`Page` swaps the text in
    after rendering, so no template engine ever sees the data.
    """

    def __init__(self, name: str, text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = name
        self.text = text

    @property
    def token(self) -> str:
        """The placeholder that stands for :attr:`text` in the templated page."""
        return f"/*flankmap-deferred:{self.get_name()}*/"


class HeaderText(Deferred):
    """Text (styles, scripts) put into the page header as it is."""

    _template = Template("{% macro header(this, kwargs) %}{{ this.token }}\n{% endmacro %}")


class MapCall(Deferred):
    """A script line ``function(map, text)``, the text being JSON for the map's script."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.function }}({{ this._parent.get_name() }}, {{ this.token }});\n"
        "{% endmacro %}"
    )

    def __init__(self, name: str, function: str, text: str) -> None:
        if not re.fullmatch(r"[A-Za-z_$][\w$.]*", function):
            raise ValueError(f"{function!r} is not a script function name")
        super().__init__(name, text)
        self.function = function


_DEFERRED_RE = re.compile(r"/\*flankmap-deferred:([0-9A-Za-z_]+)\*/")
_VIEWPORT_RE = re.compile(r'<meta name="viewport" content="[^"]*"\s*/>')
_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1" />'


class Page(Figure):
    """The HTML page around a map: folium's page, with deferred text put in after templating.

    Each render starts from the page as it was made: what an earlier render added to the
    header, body or script (folium's links to a plugin's CDN files) is dropped first.
    """

    def __init__(self) -> None:
        super().__init__()
        self._made = {part: set(part._children) for part in (self.header, self.html, self.script)}

    def render(self, **kwargs: Any) -> str:
        """Render the page; the text of every :class:`Deferred` element goes in last."""
        for part, names in self._made.items():
            for name in [name for name in part._children if name not in names]:
                del part._children[name]
        deferred = {e.get_name(): e.text for e in elements(self) if isinstance(e, Deferred)}
        page = tidy(super().render(**kwargs))
        # folium's page forbids pinch zoom; readers may enlarge a popup or the legend.
        page = _VIEWPORT_RE.sub(_VIEWPORT, page, count=1)
        page = page.replace("<html>", '<html lang="en">', 1)
        # One pass: the text put in is never scanned again, whatever it holds.
        return _DEFERRED_RE.sub(lambda m: deferred.get(m.group(1), m.group(0)), page)


def page_of(fmap: folium.Map) -> Page:
    """Return the :class:`Page` that holds a map built by ``geo.maps.build_map``."""
    root = fmap.get_root()
    if not isinstance(root, Page):
        raise InputError("the map is not inside a page (folium Figure); build it with build_map")
    return root
