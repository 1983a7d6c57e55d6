"""The view and the date in the map's address (``#map=ZOOM/LAT/LON&date=...``), and the slider."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import layers, maps

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


def shown_sites(page) -> dict[str, list[str]]:
    """The names of the sites drawn, by layer (their markers are in the page)."""
    return page.evaluate(
        """() => {
            const s = flankmap.maps[0], out = {};
            s.markers.forEach(m => {
                if (!s.map.hasLayer(m) || !m.getElement()) { return; }
                const site = m.fmSite;
                (out[site.layer.slug] ||= []).push(site.layer.p.names[site.i]);
            });
            Object.values(out).forEach(v => v.sort());
            return out;
        }"""
    )


def day_state(page) -> dict:
    return page.evaluate(
        """() => {
            const s = flankmap.maps[0], tips = [];
            s.overlays.frontier.eachLayer(l => { const t = l.getTooltip && l.getTooltip();
                if (t) { tips.push(t.getContent().textContent.split(' ')[0]); } });
            const fill = {};
            s.countries.forEach(c => { fill[c.code] = c.polygon.options.fillColor; });
            const km = [];
            (s.overlays.distances ? [s.overlays.distances] : []).forEach(g =>
                g.fmLabels.forEach(l => km.push(l.fmText.textContent)));
            return {day: s.day, tips, fill, km,
                    title: document.querySelector('.fm-title-main').textContent,
                    slider: document.querySelector('.fm-slider-date').textContent};
        }"""
    )


@pytest.mark.parametrize("day", ["2021-10-20", "2025-06-01"])
def test_the_date_in_the_hash_shows_that_days_sites_frontier_and_shading(
    day, timeline_map, open_offline
):
    opened = open_offline(timeline_map, hash=f"#date={day}")
    page = opened.page
    active = layers.load_layers(as_of=day)
    got = shown_sites(page)
    want = {str(k): sorted(v) for k, v in active.groupby("layer")["name"]}
    assert got == want
    assert page.locator(".fm-marker").count() == len(active)
    efp = got["nato_efp"]
    if day == "2021-10-20":
        assert len(efp) == 4  # the four battlegroups of 2017
        assert all("Battlegroup" in n or "Brigade Latvia" in n for n in efp)
    else:
        assert len(efp) > 4
    state = day_state(page)
    assert state["day"] == day
    assert state["title"].endswith(day)
    assert state["slider"] == day
    assert ("FIN–RUS" in state["tips"]) is (day > "2023-04-04")
    assert "BLR–POL" in state["tips"]
    west, other = state["fill"]["POL"], state["fill"]["UKR"]
    assert west != other
    assert state["fill"]["FIN"] == (west if day > "2023-04-04" else other)
    assert state["fill"]["SWE"] == (west if day > "2024-03-07" else other)
    # the distance labels are the ones Python measured for the state of that day
    assert state["km"]
    assert opened.errors == []
    assert opened.requests == []


def test_the_slider_moves_by_day_and_event_and_updates_the_url(timeline_map, open_offline):
    opened = open_offline(timeline_map, hash="#date=2023-04-03")
    page = opened.page
    slider = page.get_by_role("slider", name="Date shown on the map", exact=False)
    assert slider.count() == 1
    before = day_state(page)
    assert "FIN–RUS" not in before["tips"]
    slider.focus()
    page.keyboard.press("ArrowRight")  # a day: Finland joins
    after = day_state(page)
    assert after["day"] == "2023-04-04"
    assert "FIN–RUS" in after["tips"]
    assert "date=2023-04-04" in page.evaluate("location.hash")
    events = page.evaluate("flankmap.maps[0].timeline.events.map(e => e[0])")
    page.keyboard.press("PageUp")  # the next event
    nxt = min(e for e in events if e > "2023-04-04")
    assert day_state(page)["day"] == nxt
    assert f"date={nxt}" in page.evaluate("location.hash")
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    assert day_state(page)["day"] == max(e for e in events if e < "2023-04-04")
    # the sites follow, and the legend counts them
    counts = page.evaluate("flankmap.maps[0].counts")
    assert sum(counts.values()) == page.locator(".fm-marker").count()
    # play steps through the events
    page.get_by_role("button", name="Play the events").click()
    page.wait_for_function("flankmap.maps[0].day > '2023-04-04'", timeout=5000)
    page.get_by_role("button", name="Pause").click()
    assert opened.errors == []
    assert opened.requests == []


def test_the_slider_fits_a_phone(timeline_map, open_offline):
    opened = open_offline(timeline_map, width=390, height=844)
    page = opened.page
    box = page.locator(".fm-slider").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert box["height"] <= 40
    others = page.evaluate(
        """() => [...document.querySelectorAll('.leaflet-control, .fm-title')]
            .filter(n => !n.classList.contains('fm-slider') && n.offsetWidth)
            .map(n => { const r = n.getBoundingClientRect();
                        return [r.left, r.top, r.right, r.bottom]; })"""
    )
    left, top = box["x"], box["y"]
    right, bottom = left + box["width"], top + box["height"]
    for x0, y0, x1, y1 in others:
        assert x1 <= left or x0 >= right or y1 <= top or y0 >= bottom, (x0, y0, x1, y1)


@pytest.mark.parametrize(
    ("day", "status", "hollow"),
    [("2021-10-20", "under construction", True), ("2025-06-01", "active", False)],
)
def test_a_sites_status_and_distance_follow_the_date(
    day, status, hollow, timeline_map, open_offline
):
    opened = open_offline(timeline_map, hash=f"#date={day}")
    page = opened.page
    found = page.evaluate(
        """() => {
            const s = flankmap.maps[0];
            const m = s.markers.find(m => m.fmSite.layer.p.ids &&
                m.fmSite.layer.p.ids[m.fmSite.i] === 'md-redzikowo');
            m.fire('click');
            const rows = {};
            document.querySelectorAll('.fm-popup-table tr').forEach(tr => {
                rows[tr.querySelector('th').textContent] = tr.querySelector('td').textContent; });
            return {rows, html: m.fmSite.html};
        }"""
    )
    assert found["rows"]["Status"] == f"{status} on {day}"
    assert found["rows"]["To the frontier"].endswith("border")
    assert ('fill="#ffffff" fill-opacity="1"' in found["html"]) is hollow
    assert opened.errors == []
