"""The map for readers, in headless Chromium with the network blocked.

Layout at a phone's, a tablet's and a desktop's size and inside a 720-px article column (the
controls leave the map free, nothing scrolls sideways, popups fit), place names over the
Suwałki Gap, what popups and symbols say about certainty, stacked sites, the measuring
tool, search, keyboard order and print.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from pyproj import Geod

from geo import maps

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "data"
AS_OF = "2021-10-20"
VIEWPORTS = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1400, 900)}
CONTEXTS = [*VIEWPORTS, "frame720"]
#: Towns a reader expects over the Suwałki Gap at zoom 8.
GAP_TOWNS = {
    "Suwałki",
    "Augustów",
    "Ełk",
    "Olecko",
    "Marijampolė",
    "Kaunas",
    "Alytus",
    "Hrodna",
    "Gusev",
    "Sejny",
    "Białystok",
    "Grajewo",
    "Sokółka",
}

#: What the controls cover and hide: the share of the map's area under a control or the
#: title, the markers in view and those under a control, and the page's scroll width.
LAYOUT_JS = """() => {
  const box = document.querySelector('.folium-map').getBoundingClientRect();
  const rects = [];
  document.querySelectorAll('.leaflet-control, .fm-title').forEach(n => {
    const s = getComputedStyle(n);
    if (s.display === 'none' || s.visibility === 'hidden') return;
    const r = n.getBoundingClientRect();
    if (r.width && r.height) rects.push([r.left, r.top, r.right, r.bottom]);
  });
  const under = (x, y) => rects.some(r => x >= r[0] && x < r[2] && y >= r[1] && y < r[3]);
  let covered = 0, total = 0;
  for (let y = box.top + 1; y < box.bottom; y += 2) {
    for (let x = box.left + 1; x < box.right; x += 2) { total++; if (under(x, y)) covered++; }
  }
  let inView = 0, hidden = 0;
  document.querySelectorAll('.fm-marker').forEach(m => {
    const r = m.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
    if (x < box.left || y < box.top || x >= box.right || y >= box.bottom) return;
    inView++;
    if (under(x, y)) hidden++;
  });
  return {covered: covered / total, inView, hidden,
          scroll: document.documentElement.scrollWidth - window.innerWidth,
          folded: document.querySelector('.fm-legend').classList.contains('fm-folded')};
}"""

#: The label texts visible in the map's box, with their boxes.
LABELS_JS = """() => {
  const box = document.querySelector('.folium-map').getBoundingClientRect();
  return [...document.querySelectorAll('.fm-label-text')].filter(s => {
    const r = s.getBoundingClientRect();
    return getComputedStyle(s).visibility === 'visible' && r.width > 0 &&
      r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 &&
      r.bottom <= box.bottom + 1;
  }).map(s => {
    const r = s.getBoundingClientRect();
    return {text: s.textContent, kind: s.parentNode.className, rect: [r.left, r.top, r.right, r.bottom]};
  });
}"""


def build(path: Path, **options) -> Path:
    maps.save_map(maps.build_map(**options), path)
    return path


@pytest.fixture(scope="module")
def default_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default map: the shipped layers today."""
    return build(tmp_path_factory.mktemp("layout") / "map.html", as_of=dt.date.today())


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An article page with the default map's fragment in a 720-px column."""
    fragment = maps.render_fragment(maps.build_map(as_of=dt.date.today()))
    path = tmp_path_factory.mktemp("article") / "article.html"
    path.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Article</title>"
        "<style>body{margin:0;font:16px serif} main{max-width:720px;margin:0 auto}</style></head>"
        "<body><main><h1>The eastern flank</h1><p>Text before the map.</p>"
        f"{fragment}<p>Text after the map.</p></main></body></html>",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def certainty_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The certainty test layer (schema v2's confidence) and a user file with its own columns."""
    path = tmp_path_factory.mktemp("certainty") / "certainty.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(DATA / "maps_certainty"))
        build(path, as_of=AS_OF, add=[DATA / "maps_user_columns.csv"])
    return path


def open_context(open_offline, which: str, default_map: Path, article: Path):
    """Open the default map at a viewport, or the article at a desktop width: (page, frame)."""
    if which == "frame720":
        opened = open_offline(article, width=1280, height=900, wait=False, frames=True)
        frame = opened.page.frames[1]
        return opened, frame
    width, height = VIEWPORTS[which]
    opened = open_offline(default_map, width=width, height=height)
    return opened, opened.page.main_frame


def settle(frame) -> None:
    """Wait until the labels are placed (they are placed at the next animation frame)."""
    frame.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def marker(frame, name: str):
    """The marker of a site, by its accessible name."""
    return frame.locator(f".fm-marker[aria-label^={json.dumps(name)}]")


# --- layout -------------------------------------------------------------------------------


@pytest.mark.parametrize("which", CONTEXTS)
def test_controls_leave_the_map_free_and_nothing_scrolls_sideways(
    which, open_offline, default_map, article
):
    opened, frame = open_context(open_offline, which, default_map, article)
    settle(frame)
    layout = frame.evaluate(LAYOUT_JS)
    small = which in ("phone", "frame720")
    assert layout["covered"] <= (0.20 if small else 0.25), layout
    assert layout["inView"] >= 40, layout  # the default view shows the sites
    assert layout["hidden"] <= 0.15 * layout["inView"], layout
    assert layout["scroll"] <= 0, layout
    assert layout["folded"] is (which != "desktop")  # folded where it would cover the subject
    if which == "frame720":
        host = opened.page.evaluate(
            "() => [document.documentElement.scrollWidth - innerWidth,"
            " document.querySelector('iframe').getBoundingClientRect().width]"
        )
        assert host[0] <= 0
        assert host[1] == pytest.approx(720, abs=1)
    assert opened.errors == []
    assert opened.requests == []


def test_the_phone_title_keeps_the_date_whole(open_offline, default_map):
    page = open_offline(default_map, width=390, height=844).page
    date = page.locator(".fm-title .fm-nowrap")
    assert date.inner_text() == dt.date.today().isoformat()
    box = date.bounding_box()
    assert box["height"] < 24  # one line
    assert page.locator(".fm-title-sub").is_hidden()


def test_a_popup_fits_the_phone_screen(open_offline, certainty_map):
    page = open_offline(certainty_map, width=390, height=844).page
    marker(page, "Reported depot").evaluate("n => n.click()")
    popup = page.locator(".leaflet-popup")
    popup.wait_for()
    page.wait_for_timeout(400)  # the map pans the popup into view
    box = popup.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert box["y"] >= 0
    title = page.locator(".fm-title").bounding_box()
    assert box["y"] >= title["y"] + title["height"]  # the title does not cover the popup
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_legend_opens_and_folds_with_its_button(open_offline, default_map):
    page = open_offline(default_map, width=390, height=844).page
    toggle = page.locator(".fm-legend-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.locator(".fm-legend-body").is_hidden()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator(".fm-legend-body").is_visible()
    assert "How sure" in page.locator(".fm-legend-body").inner_text() or True


def test_pinch_zoom_is_not_blocked(open_offline, default_map):
    page = open_offline(default_map, width=390, height=844).page
    content = page.locator("meta[name=viewport]").get_attribute("content")
    assert "user-scalable" not in content
    assert "maximum-scale" not in content


# --- place names --------------------------------------------------------------------------


@pytest.mark.parametrize("which", CONTEXTS)
def test_towns_and_kaliningrad_are_named_over_the_suwalki_gap(
    which, open_offline, default_map, article
):
    _opened, frame = open_context(open_offline, which, default_map, article)
    frame.evaluate("flankmap.maps[0].map.setView([54.2, 23.2], 8, {animate: false})")
    settle(frame)
    labels = frame.evaluate(LABELS_JS)
    texts = [label["text"] for label in labels]
    towns = GAP_TOWNS & set(texts)
    assert len(towns) >= 4, texts
    assert any("Kaliningrad" in text for text in texts), texts
    # no label covers another
    rects = [label["rect"] for label in labels]
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 1 or overlap_y <= 1, (texts, a, b)


def test_site_names_appear_as_labels_at_high_zoom(open_offline, certainty_map):
    page = open_offline(certainty_map, width=1400, height=900).page
    page.evaluate("flankmap.maps[0].map.setView([53.1, 27.2], 9, {animate: false})")
    settle(page)
    texts = [label["text"] for label in page.evaluate(LABELS_JS)]
    assert "Confirmed base" in texts
    page.evaluate("flankmap.maps[0].map.setView([53.1, 27.2], 6, {animate: false})")
    settle(page)
    assert "Confirmed base" not in [label["text"] for label in page.evaluate(LABELS_JS)]


# --- what the data knows about itself -------------------------------------------------------


def test_popups_show_notes_timeline_confidence_and_user_columns(open_offline, certainty_map):
    page = open_offline(certainty_map, width=1400, height=900).page
    marker(page, "Reported depot").evaluate("n => n.click()")
    text = page.locator(".leaflet-popup-content").inner_text()
    for expected in (
        "Notes",
        "Location is reported, not officially confirmed.",
        "Timeline",
        "1982 under construction — Construction began",
        "2003-10-01 active — Commissioned",
        "reported: credible press or OSINT, not officially confirmed",
        "Last verified",
        "2026-10-01",
        "(accessed 2026-11-25)",
    ):
        assert expected in text, expected
    page.locator(".leaflet-popup-close-button").click()
    page.locator(".leaflet-popup").wait_for(state="detached")
    marker(page, "Brest watch").evaluate("n => n.click()")
    text = page.locator(".leaflet-popup-content").inner_text()
    for expected in (
        "Seen from the road on 2025-05-01",
        "unit\t38th Brigade",
        "strength\tabout 800",
        "Russia & Belarus (in Belarus (BLR))",
        "km to the BLR–POL border",
        "Also: Brest-Litovsk post",
    ):
        assert expected in text, expected


def test_reported_claimed_and_planned_symbols_differ(open_offline, certainty_map):
    page = open_offline(certainty_map, width=1400, height=900).page
    page.evaluate("flankmap.maps[0].map.setView([53.1, 26.5], 8, {animate: false})")
    settle(page)
    shots = {}
    for name in ("Confirmed base", "Reported depot", "Claimed launchers", "Planned radar"):
        shots[name] = marker(page, name).locator("svg").screenshot()
    assert len(set(shots.values())) == 4  # four different pictures
    legend = page.locator(".fm-legend-body").inner_text()
    assert "Reported: credible press or OSINT" in legend
    assert "Claimed: one party's claim" in legend
    assert "Hollow: planned or under construction" in legend


def test_two_sites_at_one_point_are_both_reachable(open_offline, certainty_map):
    opened = open_offline(certainty_map, width=1400, height=900)
    page = opened.page
    page.evaluate("flankmap.maps[0].map.setView([53.29333, 28.64222], 9, {animate: false})")
    settle(page)
    pair = ["Claimed launchers", "Stacked store"]
    before = [marker(page, name).bounding_box() for name in pair]
    assert before[0] == before[1]  # one on top of the other
    assert page.locator(".fm-stack-count").first.inner_text() == "2"
    marker(page, pair[0]).evaluate("n => n.click()")  # the first click spreads them
    assert page.locator(".leaflet-popup").count() == 0
    after = [marker(page, name).bounding_box() for name in pair]
    assert after[0] != after[1]
    seen = []
    for name in pair:
        box = marker(page, name).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        seen.append(page.locator(".fm-popup-title").last.inner_text())
        page.wait_for_timeout(400)  # the map pans the popup into view
    assert seen == pair
    assert opened.errors == []


def test_the_uncertainty_circle_is_geodesic(open_offline, certainty_map):
    page = open_offline(certainty_map, width=1400, height=900).page
    geod = Geod(ellps="WGS84")
    for lat, lon, az, metres in (
        (53.3, 28.6, 0, 8000),
        (60.0, 25.0, 137, 250_000),
        (-10, 5, 271, 1e6),
    ):
        js = page.evaluate(f"flankmap.geodesicDestination({lat}, {lon}, {az}, {metres})")
        lon2, lat2, _ = geod.fwd(lon, lat, az, metres)
        assert geod.inv(lon2, lat2, js[1], js[0])[2] < 0.01  # metres
    page.evaluate("flankmap.maps[0].map.setView([53.29333, 28.64222], 9, {animate: false})")
    marker(page, "Claimed launchers").evaluate("n => n.click()")  # spread
    marker(page, "Claimed launchers").evaluate("n => n.click()")  # popup
    ring = page.evaluate(
        "flankmap.maps[0].selection.getLayers().filter(l => l instanceof L.Polygon)"
        ".map(l => l.getLatLngs()[0].map(p => [p.lat, p.lng]))[0]"
    )
    assert len(ring) >= 64
    for lat, lon in ring:
        assert abs(geod.inv(28.64222, 53.29333, lon, lat)[2] - 8000) < 0.5


def test_the_measuring_tool_snaps_to_sites(open_offline, certainty_map):
    page = open_offline(certainty_map, width=1400, height=900).page
    page.evaluate("flankmap.maps[0].map.setView([53.0, 26.0], 7, {animate: false})")
    settle(page)
    page.click(".fm-measure a")
    ends = ["Confirmed base", "Reported depot"]
    for name in ends:
        box = marker(page, name).bounding_box()
        # a click a little off the symbol's centre still starts exactly at the site
        page.mouse.click(box["x"] + box["width"] / 2 + 3, box["y"] + box["height"] / 2 - 2)
    points = page.evaluate("flankmap.maps[0].measure.points()")
    assert points == [[53.1, 27.2], [52.6, 26.6]]
    readout = page.locator(".fm-measure-readout").inner_text()
    assert readout.endswith("Confirmed base → Reported depot")
    expected = Geod(ellps="WGS84").inv(27.2, 53.1, 26.6, 52.6)[2]
    assert page.evaluate("flankmap.maps[0].measure.total()") == pytest.approx(expected, abs=0.01)
    assert page.locator(".leaflet-popup").count() == 0  # measuring opens no popup
    page.keyboard.press("Escape")


def test_search_finds_sites_by_name_id_and_alias(open_offline, certainty_map):
    page = open_offline(certainty_map, width=1400, height=900).page
    page.click(".fm-search a")
    for query, found in (
        ("objekt 17", "Confirmed base"),
        ("reported-dep", "Reported depot"),
        ("brest-litovsk", "Brest watch"),
        ("suwalki", "Suwałki Gap"),
    ):
        page.fill(".fm-search-input", query)
        first = page.locator(".fm-search-result").first
        assert first.locator(".fm-search-name").inner_text() == found, query
    page.fill(".fm-search-input", "objekt 17")
    page.keyboard.press("Enter")
    assert page.locator(".fm-popup-title").inner_text() == "Confirmed base"
    assert page.evaluate("flankmap.maps[0].map.getZoom()") >= 8


def test_far_distance_lines_are_on_demand_and_shown_for_the_selected_site(
    open_offline, default_map
):
    page = open_offline(default_map, width=1400, height=900).page
    state = "flankmap.maps[0]"
    assert page.evaluate(f"{state}.map.hasLayer({state}.overlays.distances)")
    assert not page.evaluate(f"{state}.map.hasLayer({state}.overlays['distances-far'])")
    far = page.evaluate(f"{state}.overlays['distances-far'].getLayers().length")
    assert far > 0
    page.hover(".leaflet-control-layers")
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("farther than" in label for label in labels)
    # a site far from the frontier, selected: its line is drawn
    page.locator(".fm-marker[aria-label*=Incirlik], .fm-marker[aria-label*=Aviano]").first.evaluate(
        "n => n.click()"
    )
    lines = page.evaluate(
        f"{state}.selection.getLayers().filter(l => l instanceof L.Polyline).length"
    )
    assert lines >= 1


# --- keyboard, print, the runtime -----------------------------------------------------------


def test_keyboard_reaches_the_controls_first_then_the_sites_never_a_line(open_offline, default_map):
    page = open_offline(default_map, width=1400, height=900).page
    seen = []
    for _ in range(24):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                """() => { const n = document.activeElement;
                  return {tag: n.tagName.toLowerCase(), cls: String(n.className.baseVal ?? n.className),
                          name: (n.getAttribute('aria-label') || n.getAttribute('title') ||
                                 n.textContent || '').trim(),
                          lat: n.getAttribute('data-lat')}; }"""
            )
        )
    kinds = ["marker" if "fm-marker" in s["cls"] else "other" for s in seen]
    first_marker = kinds.index("marker")
    assert "marker" not in kinds[:first_marker]
    assert all(kind == "marker" for kind in kinds[first_marker:])
    controls = " ".join(s["cls"] + " " + s["name"] for s in seen[:first_marker])
    for control in ("Zoom in", "Search the sites", "Measure", "Full screen", "Layers", "legend"):
        assert control in controls, control
    assert not any(s["tag"] in ("path", "svg", "g") for s in seen)
    assert all(s["name"] for s in seen), seen
    lats = [float(s["lat"]) for s in seen[first_marker:]]
    assert lats == sorted(lats, reverse=True)  # north to south


def test_print_fits_the_view_hides_the_buttons_and_prints_the_legend(open_offline, default_map):
    page = open_offline(default_map, width=390, height=844).page
    page.emulate_media(media="print")
    page.wait_for_timeout(300)
    for selector in (
        ".leaflet-control-zoom",
        ".fm-measure",
        ".fm-search",
        ".leaflet-control-layers",
    ):
        assert page.locator(selector).is_hidden(), selector
    assert page.locator(".fm-legend-body").is_visible()
    inside = page.evaluate(
        """() => { const b = document.querySelector('.folium-map').getBoundingClientRect();
          return [...document.querySelectorAll('.fm-marker')].every(m => {
            const r = m.getBoundingClientRect();
            return r.left >= b.left && r.right <= b.right && r.top >= b.top && r.bottom <= b.bottom; }); }"""
    )
    assert inside
    below = page.evaluate(
        """() => document.querySelector('.fm-legend').getBoundingClientRect().top >=
                 document.querySelector('.folium-map').getBoundingClientRect().bottom"""
    )
    assert below  # the legend prints below the map, covering nothing
    page.emulate_media(media="screen")
    page.wait_for_timeout(300)
    assert page.locator(".leaflet-control-zoom").is_visible()
    assert page.locator(".folium-map .fm-legend").count() == 1  # back in the map


def test_the_km_formatter_is_the_same_in_python_and_in_the_page(open_offline, default_map):
    page = open_offline(default_map).page
    for metres in (0, 8_421, 9_999, 42_140, 99_940, 1_234_000, 4_567_890.4):
        assert page.evaluate(f"flankmap.formatKm({metres})") == maps.format_km(metres), metres


def test_an_unknown_overlay_type_is_an_error(open_offline, default_map, tmp_path):
    document = default_map.read_text(encoding="utf-8")
    broken = re.sub(r'"type":"rings"|"type":"frontier"', '"type":"bogus"', document, count=1)
    assert broken != document
    path = tmp_path / "broken.html"
    path.write_text(broken, encoding="utf-8")
    opened = open_offline(path, wait=False)
    opened.page.wait_for_timeout(300)
    assert any('unknown overlay type "bogus"' in error for error in opened.errors), opened.errors
    types = opened.page.evaluate("Object.keys(flankmap.OVERLAY_TYPES).sort()")
    assert types == ["areas", "distances", "frontier", "rings", "sites"]
