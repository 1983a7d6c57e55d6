"""Tests of geo._folium: the folium/branca internals it relies on, and their pinned range."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import folium
import pytest
from branca.element import Element
from packaging.requirements import Requirement

from geo import _folium

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _pinned() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    return {r.name: r for r in requirements if r.name in {"folium", "branca"}}


@pytest.mark.parametrize("package", ["folium", "branca"])
def test_the_installed_version_is_in_the_pinned_range(package):
    requirement = _pinned()[package]
    assert any(spec.operator == "<" for spec in requirement.specifier), (
        f"{package} has no upper bound"
    )
    installed = metadata.version(package)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{package} {installed} is outside the tested range {requirement.specifier}: "
        "check geo/_folium.py against it, then widen the pin"
    )


def test_ids_come_from_the_prefix_and_the_hook_is_restored():
    with _folium.deterministic_ids("c0ffee00"):
        fmap = folium.Map(tiles=None)
        page = _folium.Page()
        page.add_child(fmap)
    names = [element.get_name() for element in _folium.elements(page)]
    assert all(name.rsplit("_", 1)[1].startswith("c0ffee00") for name in names), names
    assert len(set(names)) == len(names)
    assert Element()._id != Element()._id  # branca's own random ids again
    assert len(Element()._id) == 32


def test_the_hook_is_restored_after_an_error():
    with pytest.raises(RuntimeError, match="inside"), _folium.deterministic_ids("dead0000"):
        raise RuntimeError("inside")
    assert not Element()._id.startswith("dead0000")


def test_deferred_text_is_never_templated():
    with _folium.deterministic_ids("0badc0de"):
        fmap = folium.Map(tiles=None)
        fmap.default_js, fmap.default_css = [], []
        page = _folium.Page()
        page.add_child(fmap)
        _folium.HeaderText("Head", "<style>/* {{ 7*7 }} */</style>").add_to(fmap)
        _folium.MapCall("Call", "flankmap.render", '{"a":"{% raw %}{{ 6*7 }}"}').add_to(fmap)
    html = page.render()
    assert "<style>/* {{ 7*7 }} */</style>" in html
    assert 'flankmap.render(map_0badc0de001, {"a":"{% raw %}{{ 6*7 }}"});' in html
    assert "/* 49 */" not in html
    assert '"a":"42"' not in html
    assert html == page.render()  # a second render is the same page


def test_a_map_call_takes_a_function_name_only():
    with pytest.raises(ValueError, match="not a script function name"):
        _folium.MapCall("Call", "alert(1);x", "{}")
