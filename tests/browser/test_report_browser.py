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
