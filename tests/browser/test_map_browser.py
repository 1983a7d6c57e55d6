"""The built map in headless Chromium with the network blocked.

Two maps are built once: the default map of the shipped layers (today) and a map of the test
layers in tests/data/maps_layers (one of them hostile) on a fixed date.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from geo import _bulk, layers, maps
from geo.text import km_label

pytestmark = pytest.mark.browser

MAP_LAYERS = Path(__file__).resolve().parents[1] / "data" / "maps_layers"
HOSTILE = '<img src=x onerror="window.__xss=1">'
HOSTILE_COLUMN = "<i onclick=window.__xss=9>{{ col }}</i>"
AS_OF = "2021-10-20"


@pytest.fixture(scope="module")
def default_map(tmp_path_factory: pytest.TempPathFactory):
    """The default map file and the active features of the shipped layers."""
    path = tmp_path_factory.mktemp("default") / "flankmap.html"
    today = dt.date.today()
    maps.save_map(maps.build_map(as_of=today), path)
    return path, layers.load_layers(as_of=today)


@pytest.fixture(scope="module")
def test_map(tmp_path_factory: pytest.TempPathFactory):
    """A map of the test layers on AS_OF, with a 100 km range ring, and its active features."""
    path = tmp_path_factory.mktemp("test") / "test.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        maps.save_map(maps.build_map(as_of=AS_OF, rings_km=[100]), path)
        active = layers.load_layers(as_of=AS_OF)
    return path, active


def marker_counts(page) -> dict[str, int]:
    return page.evaluate(
        """() => {
            const out = {};
            document.querySelectorAll('.fm-marker').forEach(m => {
                const cls = [...m.classList].find(c => c.startsWith('fm-layer-'));
                const name = cls.slice('fm-layer-'.length);
                out[name] = (out[name] || 0) + 1;
            });
            return out;
        }"""
    )


def expected_counts(active) -> dict[str, int]:
    return {str(k): int(v) for k, v in active.groupby("layer").size().items() if v}


def mark_marker(page, layer: str, lat: float) -> str:
    """Tag the marker of a layer at a latitude so that a test can click it."""
    page.evaluate(
        """([layer, lat]) => {
            flankmap.maps[0].overlays[layer].eachLayer(l => {
                if (l.getLatLng && Math.abs(l.getLatLng().lat - lat) < 1e-6) {
                    l.getElement().setAttribute('data-test', 'target');
                }
            });
        }""",
        [layer, lat],
    )
    return "[data-test=target]"


@pytest.mark.parametrize("which", ["default_map", "test_map"])
def test_offline_no_requests_no_errors_every_feature_drawn(which, request, open_offline):
    path, active = request.getfixturevalue(which)
    page = open_offline(path)
    page.page.wait_for_timeout(300)  # anything late would show up now
    assert page.requests == []
    assert page.errors == []
    assert marker_counts(page.page) == expected_counts(active)
    assert page.page.locator(".leaflet-control-layers").count() == 1
    assert page.page.locator(".fm-legend").count() == 1
    assert page.page.locator(".leaflet-control-scale").count() == 1
    assert page.page.locator(".fm-title").inner_text().count("NATO's eastern flank on") == 1
    frontier = page.page.evaluate("flankmap.maps[0].overlays.frontier.getLayers().length")
    assert frontier > 0


def test_layer_control_toggles_an_overlay(test_map, open_offline):
    path, active = test_map
    page = open_offline(path).page
    expected = expected_counts(active)["sites"]
    assert page.locator(".fm-layer-sites").count() == expected
    page.hover(".leaflet-control-layers")
    label = page.locator(".leaflet-control-layers-overlays label", has_text="Test sites")
    label.click()
    assert page.locator(".fm-layer-sites").count() == 0
    label.click()
    assert page.locator(".fm-layer-sites").count() == expected


def test_popup_shows_the_site(test_map, open_offline):
    page = open_offline(test_map[0]).page
    page.click(mark_marker(page, "sites", 53.8))
    popup = page.locator(".leaflet-popup-content")
    text = popup.inner_text()
    for expected in (
        "West battlegroup",
        "Battlegroup · Test sites",
        "NATO; lead nation United States of America (USA)",
        "Poland (POL)",
        f"active on {AS_OF}",
        "since 2017-04",
        "km to the",
        "± 500 m",
        "Test source",
    ):
        assert expected in text, expected
    link = popup.locator("a", has_text="Test source")
    assert link.get_attribute("href") == "https://example.org/west-bg"
    assert link.get_attribute("rel") == "noopener noreferrer"


def test_hostile_text_stays_inert(test_map, open_offline):
    opened = open_offline(test_map[0])
    page = opened.page
    marker = page.locator(".fm-layer-hostile")
    marker.hover()
    assert HOSTILE in page.locator(".leaflet-tooltip").inner_text()
    marker.click()
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert HOSTILE in popup
    assert "<script>window.__xss=3</script>" in popup
    assert '<b onmouseover="window.__xss=4">source</b>' in popup
    assert "</script><script>window.__xss=5</script>" in popup
    page.hover(".leaflet-control-layers")
    control = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert '<img src=x onerror="window.__xss=2"> layer' in control
    assert '<img src=x onerror="window.__xss=2"> layer' in page.locator(".fm-legend").inner_text()
    page.locator(".fm-popup a").hover()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == test_map[0].read_text(encoding="utf-8").count(
        "<script"
    )
    assert opened.errors == []
    assert opened.requests == []


def test_measuring_tool_is_geodesic(test_map, open_offline):
    page = open_offline(test_map[0]).page
    warsaw_minsk = page.evaluate("flankmap.geodesicDistance(52.2297, 21.0122, 53.9, 27.5667)")
    expected = Geod(ellps="WGS84").inv(21.0122, 52.2297, 27.5667, 53.9)[2]
    assert abs(warsaw_minsk - expected) < 0.01
    page.click(".fm-measure a")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + 300, box["y"] + 400)
    page.mouse.click(box["x"] + 700, box["y"] + 420)
    readout = page.locator(".fm-measure-readout").inner_text()
    assert readout.startswith("Total ")
    assert readout.endswith("km (geodesic, WGS84)")
    total = page.evaluate("flankmap.maps[0].measure.total()")
    assert total > 1000


def test_fullscreen_button(test_map, open_offline):
    page = open_offline(test_map[0]).page
    state = """() => Boolean(document.fullscreenElement) ||
        document.querySelector('.folium-map').classList.contains('fm-pseudo-fullscreen')"""
    page.click(".fm-fullscreen a")
    page.wait_for_function(state)
    page.click(".fm-fullscreen a")
    page.wait_for_function(f"!({state})()")


def test_online_tiles_fail_gracefully_offline(tmp_path, open_offline):
    path = tmp_path / "tiles.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        maps.save_map(maps.build_map(as_of=AS_OF, tiles="OpenStreetMap.Mapnik"), path)
    opened = open_offline(path)
    page = opened.page
    page.wait_for_selector(".fm-notice", state="visible", timeout=10000)
    assert "offline basemap" in page.locator(".fm-notice").inner_text()
    assert all("tile.openstreetmap.org" in url for url in opened.requests)
    assert page.locator(".fm-marker").count() > 0


def test_fragment_works_in_a_host_page_even_when_first_hidden(test_map, tmp_path, open_offline):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        fragment = maps.render_fragment(maps.build_map(as_of=AS_OF))
    host = tmp_path / "host.html"
    host.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>host</title></head><body>"
        f"<h1>Report</h1><div id='wrap' style='display:none'>{fragment}</div></body></html>",
        encoding="utf-8",
    )
    opened = open_offline(host, wait=False)
    page = opened.page
    page.wait_for_timeout(300)
    page.evaluate("document.getElementById('wrap').style.display = 'block'")
    frame = page.frames[1]
    frame.wait_for_function("window.flankmap && window.flankmap.maps.length > 0")
    frame.wait_for_function("document.querySelectorAll('.fm-marker').length > 0")
    assert frame.locator(".fm-marker").count() == len(test_map[1])
    assert opened.errors == []
    assert opened.requests == []


def test_big_user_layer_on_canvas_opens_safe_popups(tmp_path, open_offline):
    path = tmp_path / "bulk.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        fmap = maps.build_map(
            as_of=AS_OF, add=[MAP_LAYERS.parent / "maps_points.csv"], bulk_threshold=1
        )
        maps.save_map(fmap, path)
    opened = open_offline(path)
    page = opened.page
    assert page.locator("canvas.fm-cloud").count() == 1
    assert page.locator(".fm-layer-maps_points").count() == 0
    drawn = page.evaluate("flankmap.maps[0].overlays.maps_points.drawn")
    assert drawn == 2
    point = page.evaluate("flankmap.maps[0].map.latLngToContainerPoint([54.0, 24.0])")
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert '<img src=x onerror="window.__xss=6">' in popup
    assert page.evaluate("window.__xss") is None
    assert opened.errors == []
    assert opened.requests == []


def test_hostile_corpus_shows_literally(hostile_layers, hostile_csv, hostile_corpus, open_offline):
    """Every hostile text, from a layer and from a user file, is shown as written and runs nothing.

    Names, notes, aliases, timeline events, sources and publishers, a user file's own columns
    and their names, the legend and the search results.
    """
    path = hostile_layers.parent / "hostile.html"
    maps.save_map(maps.build_map(as_of=AS_OF, add=[hostile_csv]), path)
    assert not Path("PWNED").exists()
    opened = open_offline(path)
    page = opened.page
    texts = sorted(text for _, text in hostile_corpus)
    text_of = "n => n.textContent"
    for selector in (".fm-layer-hostile", ".fm-marker:not(.fm-layer-hostile)"):
        markers = page.locator(selector)
        assert markers.count() == len(texts)
        seen = []
        for i in range(markers.count()):
            markers.nth(i).evaluate("n => n.click()")  # this marker, whatever lies on top
            popup = page.locator(".leaflet-popup-content")
            title = popup.locator(".fm-popup-title").evaluate(text_of)
            seen.append(title)
            assert popup.locator(".fm-popup-notes").evaluate(text_of) == title
            assert popup.locator(".fm-popup-aka").evaluate(text_of) == f"Also: {title}"
            if selector == ".fm-layer-hostile":
                event = popup.locator(".fm-popup-timeline li span").nth(2).evaluate(text_of)
                assert event == f" — {title}"
                assert popup.locator(".fm-popup-sources a").evaluate(text_of) == title
                publisher = popup.locator(".fm-popup-publisher").evaluate(text_of)
                assert publisher == f" — {title}"
            else:
                rows = popup.locator(".fm-popup-table tr").evaluate_all(
                    "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
                )
                assert ["remark", title] in rows
                assert [HOSTILE_COLUMN, title] in rows
            page.locator(".leaflet-popup-close-button").click()
            page.locator(".leaflet-popup-content").wait_for(state="detached")
        assert sorted(seen) == texts
    legend = page.locator(".fm-legend").evaluate(text_of)
    assert "Layer {{7*7}} <b>bold</b> $x$" in legend
    assert hostile_csv.name in legend
    page.click(".fm-search a")
    page.fill(".fm-search-input", "{{7*7}}")
    results = page.locator(".fm-search-name").evaluate_all("ns => ns.map(n => n.textContent)")
    assert "{{7*7}}" in results
    assert page.evaluate("window.__xss") is None
    assert page.locator("img").count() == 0
    assert page.locator(".fm-popup b, .fm-legend b, .fm-popup i, .fm-search i").count() == 0
    assert opened.errors == []
    assert opened.requests == []


#: Distances (m) around each step of the km rule, exact decimal ties (2,125 m is 2.125 km
#: exactly: Python rounds it to the even 2.12) and large values with thousands separators.
KM_VALUES = [
    0,
    1,
    499,
    2_125,
    2_135,
    8_421,
    9_994,
    9_995,
    9_999,
    10_000,
    42_140,
    42_150,
    42_250,
    99_949,
    99_950,
    99_999,
    100_000,
    100_500,
    101_500,
    999_499,
    999_500,
    1_234_000,
    12_345_678,
    123.456,
    5_555.5,
    float("nan"),
]


def test_the_javascript_km_text_is_km_label(test_map, open_offline):
    page = open_offline(test_map[0]).page
    shown = page.evaluate("values => values.map(flankmap.formatKm)", KM_VALUES)
    assert shown == [km_label(v) for v in KM_VALUES]


def test_the_javascript_text_of_km_codes_is_km_label(test_map, open_offline):
    page = open_offline(test_map[0]).page
    values = [v for v in KM_VALUES if v == v] + [i * 5.0 for i in range(0, 24_000, 7)]
    codes = [int(c) for c in _bulk.km_codes(values)]
    shown = page.evaluate("codes => codes.map(flankmap.kmText)", codes)
    assert shown == [km_label(v) for v in values]


def test_binary_user_points_show_their_count_distance_and_side(tmp_path, open_offline):
    """5,000 added points, above the canvas threshold, travel in binary and show as in JSON."""
    n = 5_000
    assert n > maps.BULK_POINTS
    rng = np.random.default_rng(11)
    lat, lon = np.round(rng.uniform(50, 58, n), 5), np.round(rng.uniform(20, 32, n), 5)
    rows = "".join(
        f"p{i},site {i},{a},{b}\n" for i, (a, b) in enumerate(zip(lat, lon, strict=True))
    )
    points = tmp_path / "many.csv"
    points.write_text("id,name,lat,lon\n" + rows, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        path = tmp_path / "many.html"
        maps.save_map(maps.build_map(as_of=AS_OF, add=[points]), path)
        # The same points as per-point JSON (markers): what the popups must say.
        plain = maps.build_map(as_of=AS_OF, add=[points], bulk_threshold=n)
        document = maps.render_html(plain)
    data = json.loads(re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", document).group(1))
    layer = next(ov for ov in data["overlays"] if ov.get("slug") == "many")
    fields, fixed = layer["p"]["fields"], layer["p"]["fixed"]

    def expected(i: int, field: str) -> str:
        k = fields.index(field)
        if str(k) in fixed:
            return fixed[str(k)]
        return layer["p"]["rows"][i][sum(1 for j in range(k) if str(j) not in fixed)]

    opened = open_offline(path)
    page = opened.page
    page.wait_for_function("flankmap.maps[0].overlays.many.loaded === true", timeout=30000)
    assert page.evaluate("flankmap.maps[0].overlays.many.count") == n
    assert page.evaluate("flankmap.maps[0].counts.many") == n
    assert f"many.csv (added) ({n:,})" in page.locator(".leaflet-control-layers").text_content()
    for i in (0, 1234, n - 1):
        page.evaluate(
            "([lat, lon]) => flankmap.maps[0].map.setView([lat, lon], 14, {animate: false})",
            [float(lat[i]), float(lon[i])],
        )
        page.wait_for_timeout(100)
        point = page.evaluate(
            "([lat, lon]) => flankmap.maps[0].map.latLngToContainerPoint([lat, lon])",
            [float(lat[i]), float(lon[i])],
        )
        box = page.locator(".folium-map").bounding_box()
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        popup = page.locator(".leaflet-popup-content")
        assert popup.locator(".fm-popup-title").inner_text() == f"site {i}"
        cells = dict(
            zip(
                popup.locator("th").all_inner_texts(),
                popup.locator("td").all_inner_texts(),
                strict=True,
            )
        )
        assert cells["To the frontier"] == expected(i, "To the frontier")
        assert "km to the" in cells["To the frontier"]
        assert cells["Side"] == expected(i, "Side")
        assert cells["Coordinates"] == expected(i, "Coordinates")
        page.keyboard.press("Escape")
    page.click(".fm-search a")  # the names, indexed at the first search
    page.fill(".fm-search-input", "site 4321")
    names = page.locator(".fm-search-name").evaluate_all("ns => ns.map(n => n.textContent)")
    assert names[0] == "site 4321"
    page.fill(".fm-search-input", "p4321")  # the ids, shipped as numbers, are found too
    names = page.locator(".fm-search-name").evaluate_all("ns => ns.map(n => n.textContent)")
    assert names[0] == "site 4321"
    assert opened.errors == []
    assert opened.requests == []
