import copy
import html
import re
from pathlib import Path

import pandas as pd
import pytest
import shapely

from geo import layers, report
from geo._errors import InputError
from geo.cli import main

AS_OF = "2022-03-01"


@pytest.fixture
def static_page(mini_layers):
    return report.build_report(as_of=AS_OF, interactive=False, rings_km=[300])


def test_rows_equal_the_active_sites(mini_layers, static_page, report_page):
    active = layers.load_layers(as_of=AS_OF)
    assert sorted(report_page(static_page).rows) == sorted(active["id"])


def test_every_source_is_a_numbered_reference(mini_layers, static_page, report_page):
    parsed = report_page(static_page)
    active = layers.load_layers(as_of=AS_OF)
    urls = {s["url"] for sources in active["sources"] for s in sources}
    assert urls <= set(parsed.links)
    assert parsed.references == [f"ref-{i}" for i in range(1, len(urls) + 1)]
    for n in range(1, len(urls) + 1):
        assert f"#ref-{n}" in parsed.links


def test_title_date_dataset_and_point_of_view(static_page):
    assert "<h1>Military posture on NATO&#x27;s eastern flank</h1>" in static_page
    assert f'<time datetime="{AS_OF}">' in static_page
    assert "Natural Earth" in static_page
    assert "Point of view:</strong> Germany" in static_page


def test_distances_in_km_with_ranges(mini_layers):
    data = report.report_data(as_of=AS_OF)
    table = report.sites_table(data)
    assert list(table["id"]) == list(data.rows["id"])
    assert table["opposing_km"].is_monotonic_increasing
    assert (table["opposing_min_km"] <= table["opposing_km"]).all()
    assert (table["opposing_km"] <= table["opposing_max_km"]).all()
    assert table["host_km"].notna().all()


def test_the_page_loads_nothing(static_page, report_page):
    resources = report_page(static_page).resources
    assert resources, "the print figure is an image"
    assert all(r.startswith("data:image/png;base64,") for r in resources)
    assert not re.search(r"""\bsrc=["']?(https?:)?//""", static_page)
    assert "<link" not in static_page
    assert "Content-Security-Policy" in static_page
    assert "default-src 'none'" in static_page


def test_print_stylesheet_shows_the_figure_instead_of_the_map(mini_layers):
    page = report.build_report(as_of=AS_OF, interactive=True)
    assert "@media print" in page
    assert "@page { size: A4" in page
    assert '<div class="map-frame screen-only">' in page
    assert '<div class="print-only figures"><figure class="print-map"' in page
    assert "<iframe" in page


def test_reproducible_bytes(mini_layers, static_page):
    assert report.build_report(as_of=AS_OF, interactive=False, rings_km=[300]) == static_page


def test_text_is_escaped(tmp_path, monkeypatch, write_layer, feature):
    hostile = '<img src=x onerror="alert(1)">'
    feature["properties"]["name"] = hostile
    feature["properties"]["sources"][0]["title"] = hostile
    feature["properties"]["sources"][0]["publisher"] = "</script><script>alert(2)</script>"
    write_layer([feature], name="hostile")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    page = report.build_report(as_of="2024-01-01", interactive=False)
    assert hostile not in page
    assert "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert page.count("<script>") == 1


def test_compare_two_dates(mini_layers):
    old, new = "2022-03-01", "2024-01-01"
    data = report.report_data(compare=[new, old])
    assert [s.as_of.isoformat() for s in data.states] == [old, new]
    before = set(layers.load_layers(as_of=old)["id"])
    after = set(layers.load_layers(as_of=new)["id"])
    change = dict(zip(data.rows["id"], data.rows["change"], strict=True))
    assert set(change) == before | after
    assert {k for k, v in change.items() if v == "ended"} == before - after
    assert {k for k, v in change.items() if v == "added"} == after - before
    page = report.render_report(data, interactive=False)
    assert f"What changed from {old} to {new}" in page
    assert "Finland" in page  # joined NATO on 2023-04-04
    assert "<td>FIN-RUS</td><td class='num'>0</td>" in page
    assert page.count('class="print-map"') == 2


def test_compare_toggles_two_maps(mini_layers):
    page = report.build_report(compare=["2022-03-01", "2024-01-01"])
    assert page.count('<div class="map-pane') == 2
    assert page.count('name="map-state"') == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"as_of": "2022-01-01", "compare": ["2021-01-01", "2022-01-01"]}, "not both"),
        ({"compare": ["2022-01-01", "2022-01-01"]}, "two different dates"),
        ({"compare": ["2022-01-01"]}, "two different dates"),
        ({"as_of": "2022-13-01"}, "is not a date"),
    ],
)
def test_bad_dates(mini_layers, kwargs, message):
    with pytest.raises(InputError, match=message):
        report.report_data(**kwargs)


def test_bad_rings_and_ring_sites_raise(mini_layers, tmp_path, capsys):
    with pytest.raises(InputError, match="ring radius"):
        report.report_data(as_of=AS_OF, rings_km=[-5])
    with pytest.raises(InputError, match=r"ring site.*nowhere"):
        report.report_data(as_of=AS_OF, rings_km=[300], ring_sites=["nowhere"])
    # A site active on only one of the two compared dates may be ringed.
    data = report.report_data(compare=("2022-03-01", "2024-01-01"), ring_sites=["east-depot"])
    assert data.ring_sites == ["east-depot"]
    out = tmp_path / "r.html"
    assert main(["report", "-o", str(out), "--static", "--rings", "-5"]) == 2
    assert not out.exists()
    assert "ring radius -5 km" in capsys.readouterr().err


# --- the hostile corpus, long texts, glyphs --------------------------------------------------

REPORT_MODES = {
    "interactive": ["--as-of", "2021-10-20"],
    "static": ["--as-of", "2021-10-20", "--static"],
    "compare": ["--compare", "2021-10-20", "2025-01-01"],
}


@pytest.mark.parametrize("mode", sorted(REPORT_MODES))
def test_the_hostile_corpus_is_shown_escaped_and_runs_nothing(
    hostile_layers, hostile_corpus, capsys, mode, report_page
):
    """Every text of the corpus in every report: no crash (mathtext, U+FEFF), no code run."""
    title = "{{7*7}} $x^$ <b>title</b>\ufeff"
    args = ["report", "-o", "report.html", *REPORT_MODES[mode], "--title", title]
    assert main(args) == 0, capsys.readouterr().err
    assert not Path("PWNED").exists()
    page = Path("report.html").read_text(encoding="utf-8")
    rows = report_page(page).rows
    for text_id, text in hostile_corpus:
        assert f"hostile-{text_id}" in rows
        assert f" {html.escape(text)}</td>" in page, text_id  # the site's name cell
    # The features share one source URL: one reference, titled as the first site cites it.
    cites = re.findall(r"<cite>(.*?)</cite>", page)
    assert len(cites) == 1
    assert cites[0] in {html.escape(text) for _, text in hostile_corpus}
    assert f"<h1>{html.escape(title)}</h1>" in page
    assert "Layer {{7*7}} &lt;b&gt;bold&lt;/b&gt; $x$" in page
    for raw in ("<img src=x", "<script>window", "<b>bold", "<b>title"):
        assert raw not in page, raw
    assert page.count("<script>") == 1


def test_missing_glyphs_are_one_line_for_the_whole_report(
    tmp_path, monkeypatch, write_layer, feature, caplog
):
    feature["properties"]["name"] = "東京 北京"
    write_layer([feature], name="glyphs")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    with caplog.at_level("WARNING", logger="geo"):
        report.build_report(compare=["2021-10-20", "2025-01-01"], interactive=False)
    assert [r.getMessage() for r in caplog.records] == [
        "the figure font (DejaVu Sans) has no glyph for 3 characters (U+4EAC, U+5317, U+6771); "
        "they are drawn as boxes"
    ]


def test_long_free_texts_are_bounded_by_the_stylesheet(mini_layers, static_page):
    """A 10,000-character site name wraps in its cell (see the browser test for the width)."""
    assert "overflow-wrap: break-word" in static_page
    assert re.search(r"td\.col-name, td\.col-layer \{ overflow-wrap: anywhere;", static_page)
    assert '<td class="col-name" data-sort=' in static_page


def test_the_static_map_img_has_the_size_of_its_png(mini_layers, static_page):
    import base64
    import struct

    img = re.search(
        r'<img class="static-map" src="data:image/png;base64,([^"]+)"[^>]*>', static_page
    )
    assert img
    png = base64.b64decode(img[1])
    width, height = struct.unpack(">II", png[16:24])
    assert f'width="{width}" height="{height}"' in img[0]
    # 17 x 21 cm at 150 dpi
    assert (width, height) == (int(17 / 2.54 * 150), int(21 / 2.54 * 150))


def test_the_page_inlines_its_style_and_script_files(static_page):
    from geo import _assets

    for name, element in (("report.css", "style"), ("report.js", "script")):
        text = (_assets.ASSETS / name).read_text(encoding="utf-8")
        assert f"</{element}" not in text.lower()
        assert text in static_page, name
    with pytest.raises(RuntimeError, match="contains '</script'"):
        _assets.check_inline("var a = '</SCRIPT>';", "script")
    with pytest.raises(RuntimeError, match="contains '</style'"):
        _assets.check_inline("a::after { content: '</style>' }", "style")


def _site_cells(page: str, site_id: str) -> str:
    match = re.search(rf'<tr id="site-{re.escape(site_id)}"[^>]*>(.*?)</tr>', page)
    assert match, site_id
    return match.group(1)


def test_the_table_shows_confidence_and_last_verified_sortable(
    tmp_path, monkeypatch, write_layer, feature
):
    rated = []
    for i, (confidence, verified) in enumerate(
        [("claimed", "2026-02-01"), ("confirmed", "2025-11-30"), ("reported", ""), ("", "")]
    ):
        one = copy.deepcopy(feature)
        one["properties"]["id"] = f"site-{i}"
        one["geometry"]["coordinates"] = [26.0 + i, 53.0]
        if confidence:
            one["properties"]["confidence"] = confidence
        if verified:
            one["properties"]["last_verified"] = verified
        rated.append(one)
    write_layer(rated, name="rated")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    page = report.build_report(as_of="2026-06-01", interactive=False)
    heads = re.findall(r'<th scope="col" class="col-([a-z_]+)" data-type="([a-z]+)"', page)
    assert ("confidence", "text") in heads
    assert ("last_verified", "text") in heads
    assert '<button type="button">Last verified</button>' in page
    cells = {i: _site_cells(page, f"site-{i}") for i in range(4)}
    assert '<td class="col-confidence" data-sort="2">claimed</td>' in cells[0]
    assert '<td class="col-confidence" data-sort="0">confirmed</td>' in cells[1]
    assert '<td class="col-confidence" data-sort="1">reported</td>' in cells[2]
    assert '<td class="col-confidence" data-sort="3">–</td>' in cells[3]
    assert '<td class="col-last_verified" data-sort="2026-02-01">2026-02-01</td>' in cells[0]
    assert '<td class="col-last_verified" data-sort="">–</td>' in cells[3]
    table = report.sites_table(report.report_data(as_of="2026-06-01"))
    assert table.set_index("id").loc["site-0", "confidence"] == "claimed"
    assert table.set_index("id").loc["site-1", "last_verified"] == "2025-11-30"


def test_confidence_and_last_verified_cells_show_text_literally(mini_layers, hostile_corpus):
    data = report.report_data(as_of=AS_OF)
    texts = [text for _, text in hostile_corpus]
    n = len(data.rows)
    data.rows["confidence"] = [texts[i % len(texts)] for i in range(n)]
    data.rows["last_verified"] = [texts[(i + 1) % len(texts)] for i in range(n)]
    page = report.render_report(data, interactive=False)
    for i in range(n):
        confidence, verified = texts[i % len(texts)], texts[(i + 1) % len(texts)]
        assert f'data-sort="3">{html.escape(confidence)}</td>' in page
        assert f'data-sort="{html.escape(verified, quote=True)}">{html.escape(verified)}</td>' in (
            page
        )
    assert page.count("<script>") == 1


def test_the_soviet_union_is_named(tmp_path, monkeypatch, write_layer, feature):
    feature["properties"].update(
        country="RUS", operator="SUN", status="ended", since="1985", until="1991-12-26"
    )
    feature["geometry"]["coordinates"] = [30.3, 59.9]
    write_layer([feature], name="soviet")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    page = report.build_report(as_of="1990-01-01", interactive=False)
    cells = _site_cells(page, "test-site")
    assert '<td title="Soviet Union">SUN</td>' in cells
    assert '<td title="Russia">RUS</td>' in cells


def _map_payloads(page: str) -> list[dict]:
    """The data of each map frame of a report page, parsed back from its ``srcdoc``."""
    import json

    out = []
    for srcdoc in re.findall(r'srcdoc="([^"]*)"', page):
        match = re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", html.unescape(srcdoc))
        assert match
        out.append(json.loads(match.group(1)))
    return out


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [("2021-06-01", "2022-03-01", "added"), ("2022-03-01", "2024-01-01", "ended")],
)
def test_the_compare_pages_later_map_marks_what_was_added_and_what_ended(
    mini_layers, old, new, kind
):
    data = report.report_data(compare=[old, new])
    page = report.render_report(data)
    first, later = _map_payloads(page)
    assert "changesSince" not in first
    assert later["changesSince"] == old
    # the marks the later map draws, from its shipped days, are the table's changes
    marks = {}
    for ov in later["overlays"]:
        if ov["type"] != "sites":
            continue
        for fid, since, until in zip(ov["p"]["ids"], ov["since"], ov["until"], strict=True):
            was = (not since or since <= old) and (not until or old <= until)
            now = (not since or since <= new) and (not until or new <= until)
            marks[fid] = "added" if now and not was else "ended" if was and not now else "kept"
    change = dict(zip(data.rows["id"], data.rows["change"], strict=True))
    assert {k for k, v in marks.items() if v == "added"} == {
        k for k, v in change.items() if v == "added"
    }
    assert {k for k, v in marks.items() if v == "ended"} == {
        k for k, v in change.items() if v == "ended"
    }
    assert change["east-depot"] == kind  # since 2022-02, until 2022-04


def test_the_compare_pages_header_figures_are_those_of_each_date(mini_layers):
    old, new = "2022-03-01", "2024-01-01"
    data = report.report_data(compare=[old, new])
    page = report.render_report(data)
    figures = re.findall(
        r'<p class="summary state-figures( inactive)?" data-state="([^"]+)">(.*?)</p>', page
    )
    assert [(hidden, day) for hidden, day, _ in figures] == [(" inactive", old), ("", new)]
    for (_, day, text), state in zip(figures, data.states, strict=True):
        assert day == state.as_of.isoformat()
        n_layers = state.sites["layer"].nunique()
        assert f"{len(state.sites):,} sites in {n_layers} layers" in text
        assert f"{len(state.members)} NATO members" in text
        assert f"NATO {state.frontier_km:,.0f} km" in text
        nearest = state.sites.sort_values("opposing_distance_m").iloc[0]
        assert html.escape(str(nearest["name"])) in text
    added = int((data.rows["change"] == "added").sum())
    ended = int((data.rows["change"] == "ended").sum())
    assert f"{added} added and {ended} ended since {old}" in figures[1][2]
    # without maps there is no toggle: both dates' figures are shown
    static = report.render_report(data, interactive=False)
    assert static.count('<p class="summary state-figures" data-state=') == 2


def test_the_map_takes_the_reports_measurements(mini_layers, monkeypatch):
    """The report's map measures only the sites the report did not (other dates' sites)."""
    from geo import maps, sites

    data = report.report_data(compare=["2021-10-20", AS_OF])
    state = data.states[-1]
    assert len(state.sites)
    assert data.every is not None
    measured: list[list[str]] = []
    original = sites.site_analysis

    def counting(frame, **kwargs):
        measured.append([str(i) for i in frame["id"]])
        return original(frame, **kwargs)

    monkeypatch.setattr(sites, "site_analysis", counting)
    given = maps.render_html(
        maps.build_map(data.every, measured=state.sites, as_of=state.as_of, borders=data.borders)
    )
    again = [i for ids in measured for i in ids]
    assert not set(again) & set(state.sites["id"]), "a site the report measured, measured again"
    assert set(again) == set(data.every["id"]) - set(state.sites["id"])
    measured.clear()
    reloaded = maps.render_html(maps.build_map(as_of=state.as_of, borders=data.borders))
    assert set(state.sites["id"]) <= {i for ids in measured for i in ids}
    assert given == reloaded, "the same map as from the layer names, measured afresh"


def test_the_map_measures_again_a_site_that_differs(mini_layers):
    """A measured site whose position changed since is measured again, not taken over."""
    from geo import _timeline, maps
    from geo.dates import parse_as_of

    data = report.report_data(as_of=AS_OF)
    day = parse_as_of(AS_OF)
    group = _timeline.on_nearest_day(data.every, day)
    moved = data.states[0].sites.copy()
    moved.loc[0, "geometry"] = shapely.Point(0.0, 0.0)
    moved.loc[0, "opposing_distance_m"] = -1.0  # a result that must not be taken over
    fresh = maps._analyse(group, day, user=False, borders=data.borders)
    taken = maps._analyse(group, day, user=False, borders=data.borders, measured=moved)
    pd.testing.assert_frame_equal(taken, fresh)


def test_the_print_figure_names_the_sites_only_on_the_static_page(mini_layers, monkeypatch):
    """The interactive page's print-only figure leaves the names to the table below it."""
    from geo import _apart, figures

    labelled: list[bool] = []
    original = figures.map_figure

    def spying(*args, **kwargs):
        labelled.append(kwargs["labels"])
        return original(*args, **kwargs)

    monkeypatch.setattr(figures, "map_figure", spying)
    monkeypatch.setattr(_apart, "ENABLED", False)  # drawn here, where the spy counts
    data = report.report_data(as_of=AS_OF)
    interactive = report.render_report(data, interactive=True)
    static = report.render_report(data, interactive=False)
    assert labelled == [False, True]
    for page in (interactive, static):
        assert page.count('<img class="static-map"') == 1
        for name in data.rows["name"]:  # the table names every site on both pages
            assert html.escape(str(name)) in page


def test_the_print_figures_drawn_apart_are_those_drawn_here(mini_layers, monkeypatch):
    """The figures drawn in a child process while the maps are built give the same page."""
    from geo import _apart

    data = report.report_data(compare=["2021-10-20", AS_OF])
    apart = report.render_report(data, interactive=True)
    monkeypatch.setattr(_apart, "ENABLED", False)
    here = report.render_report(data, interactive=True)
    assert apart == here
    assert apart.count('<img class="static-map"') == 2
