"""A big dated user file on the canvas follows the date slider: points and legend count."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from geo import maps
from geo.dates import active_on

pytestmark = pytest.mark.browser

MAP_LAYERS = Path(__file__).resolve().parents[1] / "data" / "maps_layers"
AS_OF = "2021-10-20"
#: (since, until, points): 3,000 points in three dated groups.
GROUPS = (("2015", "", 1000), ("2018-03", "2021-06", 1200), ("2022-02-24", "", 800))
#: The points each day shows: the groups in service then.
EXPECTED = {"2019-01-01": 2200, AS_OF: 1000, "2023-01-01": 1800, "2010-05-05": 0}


@pytest.fixture(scope="module")
def dated_canvas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A map with a 3,000-point dated file: a 60 x 50 grid, 0.1 degree by 0.06 apart.

    At zoom 7 the points are at least 9 px apart (no two share the canvas's 8 px cells), so
    every point of the day in view is drawn.
    """
    folder = tmp_path_factory.mktemp("canvas-dates")
    rows, k = ["name,lat,lon,since,until"], 0
    for since, until, count in GROUPS:
        for _ in range(count):
            lon, lat = 19.0 + 0.1 * (k % 60), 52.0 + 0.06 * (k // 60)
            rows.append(f"p{k},{lat:.2f},{lon:.1f},{since},{until}")
            k += 1
    points = folder / "dated.csv"
    points.write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / "map.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        maps.save_map(maps.build_map(as_of=AS_OF, add=[points]), path)
    return path


def shown(page, slug: str = "dated") -> dict[str, object]:
    """The canvas layer's count, its label in the layer control, and the points drawn."""
    return page.evaluate(
        """slug => { const s = flankmap.maps[0], cloud = s.overlays[slug];
                     return { count: cloud.count, drawn: cloud.drawn, label: cloud.fmLabel.text,
                              counted: s.counts[slug] }; }""",
        slug,
    )


def test_the_built_page_counts_the_points_of_its_date(dated_canvas):
    text = dated_canvas.read_text(encoding="utf-8")
    data = json.loads(re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", text).group(1))
    layer = next(ov for ov in data["overlays"] if ov.get("slug") == "dated")
    assert layer["pts"]["n"] == 3000  # every date shipped, the slider chooses
    # per group of points (a group also shares its side, border...), each group's days
    assert sorted({tuple(days) for days in layer["pts"]["days"]}) == [
        ("2015-01-01", ""),
        ("2018-03-01", "2021-06-30"),
        ("2022-02-24", ""),
    ]
    assert layer["label"] == "dated.csv (added) (1,000)"


def test_the_slider_day_filters_the_canvas_and_its_count(dated_canvas, open_offline):
    opened = open_offline(dated_canvas)
    page = opened.page
    page.wait_for_function("flankmap.maps[0].overlays.dated.loaded")
    page.evaluate("flankmap.maps[0].map.setView([53.5, 22.0], 7, {animate: false})")
    for day, expected in EXPECTED.items():
        page.evaluate(f"flankmap.maps[0].setDay('{day}')")
        now = shown(page)
        assert now["count"] == expected, day
        assert now["counted"] == expected, day
        assert now["drawn"] == expected, day
        assert now["label"] == f"dated.csv (added) ({expected:,})", day
    # the layer control shows the count of the day
    page.evaluate("flankmap.maps[0].setDay('2019-01-01')")
    page.locator(".leaflet-control-layers").first.hover()
    assert "dated.csv (added) (2,200)" in page.locator(".leaflet-control-layers").first.inner_text()
    # point 1200 (of 2018-2021) is found on a day of its own, not on a day without it
    at = page.evaluate("flankmap.maps[0].map.latLngToContainerPoint([52.0 + 0.06 * 20, 19.0])")
    page.evaluate("flankmap.maps[0].setDay('2023-01-01')")
    assert page.evaluate(f"flankmap.maps[0].overlays.dated.nearest({json.dumps(at)})") == -1
    page.evaluate("flankmap.maps[0].setDay('2019-01-01')")
    assert page.evaluate(f"flankmap.maps[0].overlays.dated.nearest({json.dumps(at)})") == 1200
    assert opened.errors == []
    assert opened.requests == []


@pytest.fixture(scope="module")
def daily_canvas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, str]]]:
    """3,000 points that each start on their own day (too many dates for the groups)."""
    folder = tmp_path_factory.mktemp("canvas-daily")
    rows, spans = ["name,lat,lon,since,until"], []
    start = dt.date(2012, 1, 1)
    for k in range(3000):
        since = (start + dt.timedelta(days=k)).isoformat()
        until = "" if k % 3 else (start + dt.timedelta(days=k + 400)).isoformat()[:7]
        lon, lat = 19.0 + 0.1 * (k % 60), 52.0 + 0.06 * (k // 60)
        rows.append(f"d{k},{lat:.2f},{lon:.1f},{since},{until}")
        spans.append((since, until))
    points = folder / "daily.csv"
    points.write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / "map.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        maps.save_map(maps.build_map(as_of=AS_OF, add=[points]), path)
    return path, spans


def test_points_with_days_of_their_own_follow_the_slider(daily_canvas, open_offline):
    path, spans = daily_canvas
    text = path.read_text(encoding="utf-8")
    data = json.loads(re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", text).group(1))
    layer = next(ov for ov in data["overlays"] if ov.get("slug") == "daily")
    assert layer["pts"]["epoch"] == "2011-12-31"
    assert "days" not in layer["pts"]
    assert len(layer["p"]["rows"]) < 30  # the groups (side, border...) do not split on dates
    opened = open_offline(path)
    page = opened.page
    page.wait_for_function("flankmap.maps[0].overlays.daily.loaded")
    page.evaluate("flankmap.maps[0].map.setView([53.5, 22.0], 7, {animate: false})")
    for day in ("2011-06-01", "2013-02-11", "2015-07-31", AS_OF):
        expected = sum(active_on(s, u, dt.date.fromisoformat(day)) for s, u in spans)
        page.evaluate(f"flankmap.maps[0].setDay('{day}')")
        now = shown(page, "daily")
        assert (now["count"], now["drawn"], now["counted"]) == (expected,) * 3, day
        assert now["label"] == f"daily.csv (added) ({expected:,})", day
    page.evaluate("flankmap.maps[0].overlays.daily.open(4)")
    assert "since 2012-01-05" in page.locator(".leaflet-popup-content").last.inner_text()
    page.evaluate("flankmap.maps[0].overlays.daily.open(0)")
    assert "2012-01-01 – 2013-02" in page.locator(".leaflet-popup-content").last.inner_text()
    assert opened.errors == []
    assert opened.requests == []
