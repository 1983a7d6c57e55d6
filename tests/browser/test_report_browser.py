"""The report page in headless Chromium with the network blocked.

Uses the ``open_offline`` fixture (tests/browser/conftest.py). The report embeds its map in an
``<iframe srcdoc>``, so the map is awaited inside each frame.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from geo import layers, report

pytestmark = pytest.mark.browser

AS_OF = "2022-03-01"
COMPARE = ("2022-03-01", "2024-01-01")


def _map_frames(opened: Any) -> list[Any]:
    return [f for f in opened.page.frames if f != opened.page.main_frame]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    """The report and the comparison report of the test layers, and the active sites."""
    folder = tmp_path_factory.mktemp("report")
    layers_dir = Path(__file__).resolve().parents[1] / "data" / "layers_mini"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(layers_dir))
        single = report.save_report(
            folder / "report.html", report.build_report(as_of=AS_OF, rings_km=[300])
        )
        compare = report.save_report(folder / "compare.html", report.build_report(compare=COMPARE))
        active = layers.load_layers(as_of=AS_OF)
    return single, compare, active


@pytest.fixture
def opened(open_offline):
    """Open a report page; wait for the map in each of its frames."""
    return functools.partial(open_offline, height=900, wait=False, frames=True)


def test_no_request_no_error_rows_and_sources(opened, built):
    path, _, active = built
    page = opened(path)
    frames = _map_frames(page)
    assert len(frames) == 1
    rows = page.page.locator("#sites-table tbody tr")
    assert rows.count() == len(active)
    ids = sorted(r.removeprefix("site-") for r in rows.evaluate_all("rs => rs.map(r => r.id)"))
    assert ids == sorted(active["id"])
    hrefs = set(page.page.locator(".references a").evaluate_all("as => as.map(a => a.href)"))
    urls = {s["url"] for sources in active["sources"] for s in sources}
    assert urls <= hrefs
    page.page.wait_for_timeout(300)
    assert page.requests == []
    assert page.errors == []


def test_table_sorts_by_a_heading(opened, built):
    path, _, active = built
    page = opened(path).page
    # Keyboard activation: the same handler as a click, and no race with the map frame's layout.
    page.locator("#sites-table th.col-name button").press("Enter")
    names = page.locator("#sites-table tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, key=str.casefold)
    page.locator("#sites-table th.col-name button").press("Enter")
    again = page.locator("#sites-table tbody tr td:first-child").all_inner_texts()
    assert again == names[::-1]
    assert page.locator("#sites-table th.col-name").get_attribute("aria-sort") == "descending"
    page.locator("#sites-table th.col-opposing button").press("Enter")
    km = page.locator("#sites-table tbody tr td.num:nth-of-type(8)").evaluate_all(
        "cells => cells.map(c => parseFloat(c.dataset.sort))"
    )
    assert km == sorted(km)
    assert len(km) == len(active)


def test_print_shows_the_figure_not_the_map(opened, built):
    path, _, _ = built
    page = opened(path).page
    assert page.locator(".map-frame").is_visible()
    assert not page.locator(".print-map img").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".map-frame").is_visible()
    assert page.locator(".print-map img").is_visible()
    natural = page.locator(".print-map img").evaluate("img => img.naturalWidth")
    assert natural > 500
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


def test_compare_toggles_two_map_states(opened, built):
    _, path, _ = built
    page = opened(path)
    assert len(_map_frames(page)) == 2
    panes = page.page.locator(".map-pane")
    later = page.page.locator(f'.map-pane[data-state="{COMPARE[1]}"]')
    earlier = page.page.locator(f'.map-pane[data-state="{COMPARE[0]}"]')
    assert panes.count() == 2
    assert later.is_visible()
    assert not earlier.is_visible()
    page.page.locator(f'input[name=map-state][value="{COMPARE[0]}"]').check()
    assert earlier.is_visible()
    assert not later.is_visible()
    changes = page.page.locator("#sites-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.change)"
    )
    assert set(changes) <= {"added", "ended", "kept"}
    assert "ended" in changes
    assert page.requests == []
    assert page.errors == []


@pytest.mark.parametrize("mode", ["interactive", "static", "compare"])
def test_hostile_corpus_shows_literally(hostile_layers, hostile_corpus, open_offline, mode):
    """Every text shown as written in the table, no script run (page or map frames), no request."""
    options: dict[str, Any] = {"compare": ("2021-10-20", "2025-01-01")} if mode == "compare" else {}
    if not options:
        options["as_of"] = "2021-10-20"
    page_text = report.build_report(interactive=mode != "static", **options)
    path = report.save_report(hostile_layers.parent / f"{mode}.html", page_text)
    opened = open_offline(path, height=900, wait=False, frames=mode != "static")
    page = opened.page
    names = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#sites-table tbody tr')]
            .map(r => [r.id, r.querySelector('td.col-name').lastChild.textContent]))"""
    )
    for text_id, text in hostile_corpus:
        assert names[f"site-hostile-{text_id}"] == " " + text, text_id
    legend = page.locator("ul.layers").inner_text()
    assert "Layer {{7*7}} <b>bold</b> $x$" in legend
    page.locator("#sites-table th.col-name button").press("Enter")  # sorting runs on the texts
    for row in page.locator("#sites-table tbody tr td.col-name").all()[:3]:
        row.hover()
    page.wait_for_timeout(300)
    for frame in page.frames:
        assert frame.evaluate("window.__xss") is None
    assert page.locator("img:not(.static-map)").count() == 0
    assert page.locator("script").count() == 1
    assert not Path("PWNED").exists()
    assert opened.requests == []
    assert opened.errors == []


def test_a_10000_character_site_name_keeps_the_page_within_the_viewport(
    tmp_path, monkeypatch, write_layer, feature, open_offline
):
    feature["properties"]["name"] = "W" * 10_000
    feature["properties"]["sources"][0]["title"] = "T" * 10_000
    write_layer([feature], name="x" * 60)
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    title = "Y" * 3_000
    for static in (True, False):
        path = report.save_report(
            tmp_path / f"long-{static}.html",
            report.build_report(as_of="2021-10-20", interactive=not static, title=title),
        )
        page = open_offline(path, width=1280, height=900, wait=False, frames=not static).page
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280
        cell = page.locator("#sites-table td.col-name").bounding_box()
        assert cell is not None
        assert cell["width"] < 500
