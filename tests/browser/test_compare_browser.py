"""The compare page: the later map marks what was added and what ended; the header follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import report

pytestmark = pytest.mark.browser

LAYERS_MINI = Path(__file__).resolve().parents[1] / "data" / "layers_mini"
# east-depot is in service from 2022-02 to 2022-04: added in the first pair, ended in the second
PAIRS = {"added": ("2021-06-01", "2022-03-01"), "ended": ("2022-03-01", "2024-01-01")}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("compare")
    out = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(LAYERS_MINI))
        for kind, pair in PAIRS.items():
            out[kind] = report.save_report(
                folder / f"{kind}.html", report.build_report(compare=pair)
            )
    return out


def shown_figures(page) -> list[str]:
    """The header figures on screen (those of the other date are in the page, hidden)."""
    return [f.inner_text() for f in page.locator("header .state-figures").all() if f.is_visible()]


def marks(frame) -> dict:
    return frame.evaluate(
        """() => { const s = flankmap.maps[0], out = {day: s.day, sites: {}, legend: {}};
            s.markers.forEach(m => {
                if (!s.map.hasLayer(m) || !m.getElement()) { return; }
                const el = m.getElement(), site = m.fmSite;
                out.sites[site.layer.p.ids[site.i]] = {
                    change: el.getAttribute("data-change") || "",
                    ringed: !!el.querySelector(".fm-added"),
                    faded: !!el.querySelector(".fm-ended"),
                    label: el.getAttribute("aria-label"),
                    tip: m.getTooltip().getContent().textContent};
            });
            ["added", "ended"].forEach(k => {
                if (s.legendWords[k]) { out.legend[k] = s.legendWords[k].textContent; } });
            return out; }"""
    )


@pytest.mark.parametrize("kind", ["added", "ended"])
def test_the_later_map_marks_the_change_and_the_header_follows_the_toggle(
    kind, pages, open_offline
):
    old, new = PAIRS[kind]
    opened = open_offline(pages[kind], height=900, wait=False, frames=True)
    page = opened.page
    # the later date is shown first: its figures, and how many sites changed
    figures = shown_figures(page)
    assert len(figures) == 1
    assert figures[0].startswith(f"On {new}:")
    counts = "1 added and 0 ended" if kind == "added" else "0 added and 1 ended"
    assert f"{counts} since {old}" in figures[0]
    frames = {f.evaluate("flankmap.maps[0].day"): f for f in page.frames if f != page.main_frame}
    later, earlier = marks(frames[new]), marks(frames[old])
    depot = later["sites"]["east-depot"]
    assert depot["change"] == kind
    assert depot["ringed"] is (kind == "added")
    assert depot["faded"] is (kind == "ended")
    assert f"{kind} since {old}" in depot["label"]
    if kind == "ended":
        assert depot["tip"].endswith(f"ended: in service on {old}, not on {new}")
    else:
        assert depot["tip"].endswith(f"added since {old}")
    # the other sites are not marked; the legend says what the marks mean, with counts
    assert all(not s["change"] for k, s in later["sites"].items() if k != "east-depot")
    assert (
        later["legend"][kind]
        == f"{kind.capitalize()}{' (faded)' if kind == 'ended' else ''} since {old} (1)"
    )
    # the earlier map marks nothing
    assert earlier["legend"] == {}
    assert all(not s["change"] for s in earlier["sites"].values())
    # toggling the date switches the header figures
    page.locator(f"input[name=map-state][value='{old}']").check()
    figures = shown_figures(page)
    assert len(figures) == 1
    assert figures[0].startswith(f"On {old}:")
    assert "since" not in figures[0]
    page.locator(f"input[name=map-state][value='{new}']").check()
    assert shown_figures(page)[0].startswith(f"On {new}:")
    assert opened.errors == []
    assert opened.requests == []
