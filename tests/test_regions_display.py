"""A map, figure and report focused on a region (--bbox, --region) and the Suwałki Gap drawn."""

from __future__ import annotations

import pytest

from geo import maps, regions
from geo._errors import InputError
from geo.text import km_label

GAP_BOX = (21.0, 53.0, 26.0, 56.0)  # the issue's --bbox example around the gap


@pytest.fixture(scope="module")
def region_maps(map_payload) -> dict[str, dict]:
    return {
        "default": map_payload(maps.render_html(maps.build_map(as_of="2025-06-01"))),
        "region": map_payload(
            maps.render_html(
                maps.build_map(as_of="2025-06-01", region=regions.focus(region="suwalki-gap"))
            )
        ),
        "bbox": map_payload(maps.render_html(maps.build_map(as_of="2025-06-01", region=GAP_BOX))),
        "finland": map_payload(
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


def test_the_map_draws_the_measured_gap_where_the_region_holds_it(region_maps, map_overlays):
    line, length_m = regions.suwalki_gap()
    (lon0, lat0), (lon1, lat1) = line.coords
    for which in ("region", "bbox"):
        gap = map_overlays(region_maps[which])["suwalki-gap"]
        assert gap["type"] == "distances"
        ((a_lat, a_lon, b_lat, b_lon, label, tip),) = gap["lines"]
        assert (a_lat, a_lon, b_lat, b_lon) == pytest.approx((lat0, lon0, lat1, lon1), abs=1e-5)
        assert label == km_label(length_m) == "66.0 km"
        assert "Kaliningrad oblast" in tip
    assert "suwalki-gap" not in map_overlays(region_maps["default"])
    assert "suwalki-gap" not in map_overlays(region_maps["finland"])


def test_a_bad_region_box_is_refused():
    with pytest.raises(InputError, match="is not a box"):
        maps.build_map(region=(26, 53, 21, 56))


def _gids(fig) -> set[str]:
    ax = fig.axes[0]
    return {str(a.get_gid()) for a in [*ax.lines, *ax.texts, *ax.collections, *ax.patches]}


def test_the_figure_draws_the_region_and_the_gap():
    from pyproj import Transformer

    from geo import figures, layers

    box = regions.region("suwalki-gap").bbox
    fig = figures.map_figure(as_of="2025-06-01", region=box, labels=False, size_cm=(12, 14), dpi=50)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    to_map = Transformer.from_crs("EPSG:4326", figures.DISPLAY_CRS, always_xy=True)
    for lon, lat in [(box[0], box[1]), (box[2], box[3]), (box[0], box[3]), (box[2], box[1])]:
        x, y = to_map.transform(lon, lat)
        assert x0 - 1 <= x <= x1 + 1
        assert y0 - 1 <= y <= y1 + 1
    assert x1 - x0 < 1_000_000  # the region (and room for the legend), not the flank (2,500 km)
    assert {"suwalki-gap", "suwalki-gap-length"} <= _gids(fig)
    length = next(t for t in ax.texts if t.get_gid() == "suwalki-gap-length").get_text()
    assert length == km_label(regions.suwalki_gap()[1])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"Suwałki Gap: {length}, Kaliningrad oblast to Belarus" in legend
    # Only the sites in the region are drawn.
    inside = regions.within(layers.load_layers(as_of="2025-06-01"), box)
    drawn = sum(
        len(c.get_offsets())
        for c in ax.collections
        if str(c.get_gid()).startswith("layer-") and not str(c.get_gid()).endswith("not-active")
    )
    assert 0 < drawn <= len(inside)


def test_the_default_figure_has_no_gap_line():
    from geo import figures

    fig = figures.map_figure(as_of="2025-06-01", labels=False, size_cm=(12, 14), dpi=50)
    assert "suwalki-gap" not in _gids(fig)


def test_the_report_lists_only_the_sites_in_the_region():
    from geo import layers, report

    box = (21.0, 53.0, 26.0, 56.0)
    data = report.report_data(as_of="2025-06-01", region=box)
    everything = report.report_data(as_of="2025-06-01")
    expected = set(regions.within(layers.load_layers(as_of="2025-06-01"), box)["id"])
    assert set(data.rows["id"]) == expected
    assert 0 < len(expected) < len(everything.rows)
    assert data.region == box
    table = report.sites_table(data)
    assert len(table) == len(expected)
