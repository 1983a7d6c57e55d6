"""The view and the date in the map's address (``#map=ZOOM/LAT/LON&date=...``), and the slider."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import maps

pytestmark = pytest.mark.browser

HOSTILE_HASH = "#map=8/54.2/23.3&date=<img src=x onerror=window.__xss=1>&layers=<b>,frontier"


@pytest.fixture(scope="module")
def timeline_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default map of the shipped layers on a fixed date."""
    path = tmp_path_factory.mktemp("timeline") / "flankmap.html"
    maps.save_map(maps.build_map(as_of="2025-06-01"), path)
    return path


def view(page) -> list[float]:
    return page.evaluate(
        """() => { const m = flankmap.maps[0].map, c = m.getCenter();
                   return [m.getZoom(), c.lat, c.lng]; }"""
    )


def test_the_hash_opens_the_suwalki_gap_and_follows_the_map(timeline_map, open_offline):
    opened = open_offline(timeline_map, hash="#map=8/54.2/23.3")
    page = opened.page
    zoom, lat, lon = view(page)
    assert zoom == 8
    assert lat == pytest.approx(54.2, abs=1e-6)
    assert lon == pytest.approx(23.3, abs=1e-6)
    length = page.evaluate("history.length")
    page.evaluate("flankmap.maps[0].map.setView([55.5, 21.1], 7, {animate: false})")
    page.wait_for_function("location.hash.startsWith('#map=7/55.5')")
    assert page.evaluate("location.hash").startswith("#map=7/55.5")
    assert "/21.1" in page.evaluate("location.hash")
    assert page.evaluate("history.length") == length  # replaced, not pushed
    page.evaluate("flankmap.maps[0].map.setView([52, 20], 6, {animate: false})")
    page.wait_for_function("location.hash.startsWith('#map=6/52')")
    assert page.evaluate("history.length") == length
    # a hash edited by hand moves the map
    page.evaluate("location.hash = '#map=9/54.5/22.5'")
    page.wait_for_function("flankmap.maps[0].map.getZoom() === 9")
    assert view(page)[1] == pytest.approx(54.5, abs=1e-6)
    assert opened.errors == []
    assert opened.requests == []


def test_the_hash_names_the_visible_layers(timeline_map, open_offline):
    opened = open_offline(timeline_map, hash="#map=6/54/24&layers=frontier")
    page = opened.page
    shown = page.evaluate(
        """() => { const s = flankmap.maps[0];
                   return Object.keys(s.overlays).filter(k => s.map.hasLayer(s.overlays[k])); }"""
    )
    assert shown == ["frontier"]
    assert page.locator(".fm-marker").count() == 0
    assert "layers=frontier" in page.evaluate("location.hash")


@pytest.mark.parametrize(
    "bad",
    [
        HOSTILE_HASH,
        "#map=99/54.2/23.3",
        "#map=8/954.2/23.3",
        "#map=8/abc/23.3",
        "#map=8/54.2/23.3/9",
        "#date=2021-02-30&map=%E0%A4%A",
        "#%3Cscript%3E=1&=&&map",
    ],
)
def test_an_invalid_hash_is_ignored_safely(bad, timeline_map, open_offline):
    plain = open_offline(timeline_map)
    expected = view(plain.page)
    opened = open_offline(timeline_map, hash=bad)
    page = opened.page
    page.wait_for_timeout(100)
    got = view(page)
    if bad.startswith("#map=8/54.2/23.3&"):
        assert got == pytest.approx([8, 54.2, 23.3])  # the valid part is used
    else:
        assert got == pytest.approx(expected)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert opened.errors == []
    assert opened.requests == []


def test_a_fragment_in_a_sandboxed_frame_degrades_gracefully(tmp_path, open_offline):
    fragment = maps.render_fragment(maps.build_map(as_of="2025-06-01"))
    host = tmp_path / "host.html"
    host.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>host</title></head>"
        f"<body>{fragment}</body></html>",
        encoding="utf-8",
    )
    opened = open_offline(host, wait=False, frames=True, hash="#map=8/54.2/23.3")
    frame = opened.page.frames[1]
    frame.evaluate("flankmap.maps[0].map.setView([55, 22], 7, {animate: false})")
    opened.page.wait_for_timeout(200)
    assert frame.evaluate("flankmap.maps[0].map.getZoom()") == 7
    # the sandboxed frame cannot read or change the host's address: it is left alone
    assert opened.page.evaluate("location.hash") == "#map=8/54.2/23.3"
    assert opened.errors == []
    assert opened.requests == []
