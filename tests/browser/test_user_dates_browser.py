"""A dated ``--add`` file on the map: the date slider shows and hides its points."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import maps

pytestmark = pytest.mark.browser

MAP_LAYERS = Path(__file__).resolve().parents[1] / "data" / "maps_layers"
# Partial dates as the layers have them: since a year, until a month, since a day; one undated.
DATED = (
    "name,lat,lon,since,until\n"
    "Old,54.0,24.0,2015,2019-06\n"
    "Mid,54.2,24.5,2018-03,\n"
    "New,54.4,25.0,2023-05-02,\n"
    "Always,54.6,23.0,,\n"
)


@pytest.fixture(scope="module")
def dated_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("user-dates")
    (folder / "dated.csv").write_text(DATED, encoding="utf-8")
    (folder / "plain.csv").write_text("name,lat,lon\nP1,53.5,23.5\nP2,53.6,23.6\n", "utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
        fmap = maps.build_map(as_of="2021-10-20", add=[folder / "dated.csv", folder / "plain.csv"])
    return maps.save_map(fmap, folder / "map.html")


def user_state(page) -> dict:
    return page.evaluate(
        """() => {
            const s = flankmap.maps[0], out = {dated: [], plain: []};
            s.markers.forEach(m => {
                const site = m.fmSite;
                if (site.layer.slug in out && s.map.hasLayer(m) && m.getElement()) {
                    out[site.layer.slug].push(site.layer.p.names[site.i]);
                }
            });
            Object.values(out).forEach(v => v.sort());
            const label = slug => s.overlays[slug].fmLabel.text;
            return {names: out, dated: label("dated"), plain: label("plain"),
                    about: document.querySelector('.fm-legend-about').textContent};
        }"""
    )


@pytest.mark.parametrize(
    ("day", "dated", "count"),
    [
        ("2016-05-01", ["Always", "Old"], 2),
        ("2019-06-30", ["Always", "Mid", "Old"], 3),  # until 2019-06 lasts to its last day
        ("2019-07-01", ["Always", "Mid"], 2),
        ("2025-01-01", ["Always", "Mid", "New"], 3),
    ],
)
def test_a_dated_user_file_follows_the_slider(day, dated, count, dated_map, open_offline):
    opened = open_offline(dated_map, hash=f"#date={day}")
    state = user_state(opened.page)
    assert state["names"]["dated"] == dated
    assert state["names"]["plain"] == ["P1", "P2"]  # no dates: on every day
    assert state["dated"] == f"dated.csv (added) ({count})"
    assert state["plain"] == "plain.csv (added) (2)"
    assert f"· {count + 2} added points in 2 files" in state["about"]
    assert opened.errors == []
    assert opened.requests == []


def test_moving_the_slider_shows_n_then_m_points_and_their_distance_lines(dated_map, open_offline):
    opened = open_offline(dated_map)
    page = opened.page
    assert user_state(page)["names"]["dated"] == ["Always", "Mid"]  # the build date

    def lines() -> dict[str, int]:
        return page.evaluate(
            """() => { const s = flankmap.maps[0], out = {};
                ["distances", "distances-far"].forEach(slug => {
                  const g = s.overlays[slug];
                  if (!g) { return; }
                  g.eachLayer(l => { const t = l.getTooltip && l.getTooltip();
                    if (t) { const name = t.getContent().textContent.split(':')[0];
                             out[name] = (out[name] || 0) + 1; } });
                });
                return out; }"""
        )

    before = lines()
    assert {"Always", "Mid"} <= set(before)
    assert not {"Old", "New"} & set(before)
    page.evaluate("flankmap.maps[0].setDay('2024-02-01')")
    assert user_state(page)["names"]["dated"] == ["Always", "Mid", "New"]
    after = lines()
    assert {"Always", "Mid", "New"} <= set(after)
    assert "Old" not in after
    page.evaluate("flankmap.maps[0].setDay('2015-06-01')")
    assert user_state(page)["names"]["dated"] == ["Always", "Old"]
    assert "date=2015-06-01" in page.evaluate("location.hash")
    assert opened.errors == []
