"""A map focused on a region (--region, --bbox) in headless Chromium with the network blocked."""

from __future__ import annotations

import pytest

from geo import maps, regions

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def region_map(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("region") / "gap.html"
    maps.save_map(
        maps.build_map(as_of="2025-06-01", region=regions.focus(region="suwalki-gap")), path
    )
    return path


def test_the_map_opens_on_the_region_with_the_gap_drawn(region_map, open_offline):
    opened = open_offline(region_map)
    page = opened.page
    assert opened.requests == []
    assert opened.errors == []
    west, south, east, north = regions.region("suwalki-gap").bbox
    shown = page.evaluate(
        "(() => { const b = flankmap.maps[0].map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    # fitBounds shows the whole box, at a zoom where it is not lost in the flank.
    assert shown[0] <= west + 0.5
    assert shown[1] <= south + 0.5
    assert shown[2] >= east - 0.5
    assert shown[3] >= north - 0.5
    assert shown[2] - shown[0] < 20
    gap = page.evaluate("flankmap.maps[0].overlays['suwalki-gap'].getLayers().length")
    assert gap > 0
    assert page.locator(".fm-distance-label", has_text="66.0 km").count() >= 1
