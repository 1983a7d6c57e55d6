"""The frontier drawn in headless Chromium: Natural Earth's at low zoom, OSM's (measured to) high.

The default map measures to the OSM borders; from the frontier's detail zoom it draws their
line and corrects the basemap's fill along it, so that Narva castle (Estonian bank) is drawn in
Estonia, as it is measured (issue 11).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geo import maps

pytestmark = pytest.mark.browser

DAY = "2026-06-01"
NARVA_CASTLE = (59.3766, 28.2019)
IVANGOROD_FORTRESS = (59.3765, 28.2115)

DRAWN = """() => {
    const state = flankmap.maps[0], out = [];
    state.overlays.frontier.eachLayer(l => {
        if (!l.options.interactive) { return; }  // the white casing
        l.getLatLngs().flat(2).forEach(p => out.push([p.lat, p.lng]));
    });
    return {zoom: state.map.getZoom(), points: out};
}"""


@pytest.fixture(scope="module")
def osm_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The shipped layers' map on DAY, measured to OSM (the default), and its data."""
    path = tmp_path_factory.mktemp("detail") / "map.html"
    maps.save_map(maps.build_map(as_of=DAY), path)
    text = path.read_text(encoding="utf-8")
    match = re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", text)
    assert match
    return path, json.loads(match.group(1))


def decoded(lines: list[dict], scale: int) -> np.ndarray:
    parts = [
        np.cumsum(np.asarray(c, dtype=np.int64).reshape(-1, 2), axis=0) / scale
        for line in lines
        for c in line["coords"]
    ]
    return np.vstack(parts)[:, ::-1]  # lat, lon as Leaflet holds them


def same_points(drawn: list[list[float]], expected: np.ndarray) -> bool:
    got = np.round(np.asarray(drawn), 7)
    want = np.round(expected, 7)
    return got.shape == want.shape and bool(
        (np.unique(got, axis=0) == np.unique(want, axis=0)).all()
    )


def pixel(page, lat: float, lon: float) -> tuple[int, int, int]:
    """The basemap's colour at a point (the other panes and the controls hidden)."""
    page.evaluate(
        """() => {
            const panes = flankmap.maps[0].map.getPanes();
            Object.keys(panes).forEach(name => {
                if (name !== "mapPane" && name !== "fm-basemap") {
                    panes[name].style.display = "none";
                }
            });
            document.querySelectorAll('.leaflet-control-container').forEach(
                c => { c.style.display = "none"; });
        }"""
    )
    point = page.evaluate(
        f"(() => {{ const p = flankmap.maps[0].map.latLngToContainerPoint([{lat}, {lon}]);"
        " return [p.x, p.y]; })()"
    )
    png = page.screenshot(clip={"x": point[0], "y": point[1], "width": 1, "height": 1})
    r, g, b, *_ = Image.open(io.BytesIO(png)).convert("RGB").getpixel((0, 0))
    return r, g, b


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]


def test_high_zoom_draws_the_osm_frontier_and_narva_castle_in_estonia(osm_map, open_offline):
    path, data = osm_map
    detail = data["overlays"][0]["detail"]
    lat, lon = NARVA_CASTLE
    page = open_offline(path, width=900, height=700, hash=f"#map=12/{lat}/{lon}").page
    drawn = page.evaluate(DRAWN)
    assert drawn["zoom"] == 12
    state = data["timeline"]["states"][-1]
    expected = decoded([ln for p in state["detail"] for ln in detail["pairs"][p]], detail["scale"])
    assert same_points(drawn["points"], expected)
    low = decoded([ln for p in state["pairs"] for ln in data["timeline"]["pairs"][p]], 10000)
    assert not same_points(drawn["points"], low)
    styles = data["basemap"]["styles"]
    assert pixel(page, *NARVA_CASTLE) == rgb(styles["west"]["fill"])  # Estonia's fill
    assert pixel(page, *IVANGOROD_FORTRESS) == rgb(styles["east"]["fill"])  # Russia's


def test_low_zoom_draws_the_simplified_line(osm_map, open_offline):
    path, data = osm_map
    page = open_offline(path, width=900, height=700, hash="#map=6/58/27").page
    drawn = page.evaluate(DRAWN)
    assert drawn["zoom"] == 6
    front = data["overlays"][0]
    assert same_points(drawn["points"], decoded(front["lines"], front["scale"]))
    page.evaluate("flankmap.maps[0].map.setZoom(12)")
    page.wait_for_timeout(300)
    detail = front["detail"]
    fine = decoded([ln for p in detail["shown"] for ln in detail["pairs"][p]], detail["scale"])
    assert same_points(page.evaluate(DRAWN)["points"], fine)


def test_a_state_of_the_slider_draws_its_own_osm_frontier(osm_map, open_offline):
    """On 2021-10-20 (before Finland joined) zoom 12 draws that state's OSM parts only."""
    path, data = osm_map
    day = "2021-10-20"
    page = open_offline(path, width=900, height=700, hash=f"#map=12/60.5/28.0&date={day}").page
    detail = data["overlays"][0]["detail"]
    state = [s for s in data["timeline"]["states"] if s["start"] <= day][-1]
    assert "FIN-RUS" not in state["detail"]
    assert "FIN-RUS" in detail["shown"]
    expected = decoded([ln for p in state["detail"] for ln in detail["pairs"][p]], detail["scale"])
    assert same_points(page.evaluate(DRAWN)["points"], expected)
    page.evaluate("flankmap.setDay(flankmap.maps[0], '2026-06-01')")
    now = decoded([ln for p in detail["shown"] for ln in detail["pairs"][p]], detail["scale"])
    assert same_points(page.evaluate(DRAWN)["points"], now)
