"""A map, figure and report focused on a region (--bbox, --region) and the Suwałki Gap drawn."""

from __future__ import annotations

import json
import re

import pytest

from geo import maps, regions
from geo._errors import InputError
from geo.cli import main
from geo.text import km_label

GAP_BOX = (21.0, 53.0, 26.0, 56.0)  # the issue's --bbox example around the gap


def payload(document: str) -> dict:
    """The data the map's script draws, parsed back from the HTML."""
    match = re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", document)
    assert match, "no flankmap.render call in the document"
    return json.loads(match.group(1))


def overlays(data: dict) -> dict[str, dict]:
    return {ov["slug"]: ov for ov in data["overlays"]}


@pytest.fixture(scope="module")
def region_maps() -> dict[str, dict]:
    return {
        "default": payload(maps.render_html(maps.build_map(as_of="2025-06-01"))),
        "region": payload(
            maps.render_html(
                maps.build_map(as_of="2025-06-01", region=regions.focus(region="suwalki-gap"))
            )
        ),
        "bbox": payload(maps.render_html(maps.build_map(as_of="2025-06-01", region=GAP_BOX))),
        "finland": payload(
            maps.render_html(
                maps.build_map(as_of="2025-06-01", region=regions.region("finland-border").bbox)
            )
        ),
    }


def test_the_map_opens_on_the_region(region_maps):
    west, south, east, north = regions.region("suwalki-gap").bbox
    assert region_maps["region"]["bounds"] == [[south, west], [north, east]]
    assert region_maps["bbox"]["bounds"] == [[53.0, 21.0], [56.0, 26.0]]
    assert region_maps["default"]["bounds"] != region_maps["region"]["bounds"]


def test_the_map_draws_the_measured_gap_where_the_region_holds_it(region_maps):
    line, length_m = regions.suwalki_gap()
    (lon0, lat0), (lon1, lat1) = line.coords
    for which in ("region", "bbox"):
        gap = overlays(region_maps[which])["suwalki-gap"]
        assert gap["type"] == "distances"
        ((a_lat, a_lon, b_lat, b_lon, label, tip),) = gap["lines"]
        assert (a_lat, a_lon, b_lat, b_lon) == pytest.approx((lat0, lon0, lat1, lon1), abs=1e-5)
        assert label == km_label(length_m) == "66.0 km"
        assert "Kaliningrad oblast" in tip
    assert "suwalki-gap" not in overlays(region_maps["default"])
    assert "suwalki-gap" not in overlays(region_maps["finland"])


def test_a_bad_region_box_is_refused():
    with pytest.raises(InputError, match="is not a box"):
        maps.build_map(region=(26, 53, 21, 56))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--bbox", "21,53,26"], "is not four comma-separated numbers W,S,E,N"),
        (["--region", "mars"], "no region named 'mars'; regions: suwalki-gap"),
        (["--bbox", "21,53,26,56", "--region", "baltics"], "give a bbox or a region, not both"),
    ],
)
def test_cli_map_refuses_a_bad_region_in_one_line(option, message, tmp_path, capsys):
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), *option]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_map_takes_a_region(tmp_path):
    out = tmp_path / "gap.html"
    assert main(["map", "-o", str(out), "--region", "suwalki-gap", "--as-of", "2025-06-01"]) == 0
    data = payload(out.read_text(encoding="utf-8"))
    assert "suwalki-gap" in overlays(data)
    box = tmp_path / "box.html"
    assert main(["map", "-o", str(box), "--bbox", "21,53,26,56", "--as-of", "2025-06-01"]) == 0
    assert payload(box.read_text(encoding="utf-8"))["bounds"] == [[53.0, 21.0], [56.0, 26.0]]
