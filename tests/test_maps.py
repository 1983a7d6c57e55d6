"""Tests of geo.maps: offline single file, reproducible bytes, escaping, atomic output.

The browser tests that open the map in Chromium live in tests/browser/.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import html
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geo import _basemap, _bulk, _overlays, _payload, _popups, layers, maps
from geo._errors import InputError
from geo.text import km_label

DATA = Path(__file__).parent / "data"
MAP_LAYERS = DATA / "maps_layers"
HOSTILE = '<img src=x onerror="window.__xss=1">'
HOSTILE_COLUMN = "<i onclick=window.__xss=9>{{ col }}</i>"
AS_OF = "2021-10-20"


@pytest.fixture
def map_layers(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point FLANKMAP_LAYERS_DIR at the map fixture (a hostile layer and five test sites)."""
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(MAP_LAYERS))
    return MAP_LAYERS


def payload(document: str) -> dict:
    """The data the map's script draws, parsed back from the HTML."""
    match = re.search(r"flankmap\.render\(map_\w+, (\{.*\})\);", document)
    assert match, "no flankmap.render call in the document"
    return json.loads(match.group(1))


def sites(data: dict) -> dict[str, dict]:
    return {ov["slug"]: ov for ov in data["overlays"] if ov["type"] == "sites"}


def test_script_json_cannot_close_the_script():
    text = maps.script_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_map_is_one_offline_file(map_layers):
    document = maps.render_html(maps.build_map(as_of=AS_OF))
    head = document.split("flankmap.render(")[0]  # markup and inlined code, before the data
    assert not re.search(r"<script[^>]+src=", document)
    assert not re.search(r"<link[^>]+stylesheet", document)
    for cdn in ("cdn.", "jquery", "bootstrap", "font-awesome", "fontawesome", "googleapis"):
        assert cdn not in document.lower(), cdn
    assert "sourceMappingURL" not in document
    assert not re.search(r"url\((?!data:|#default#VML)", head), "a stylesheet fetches a file"
    assert 'L.version="1.9.4"' in document or "1.9.4" in document


def test_only_active_features_and_nato_on_the_date(map_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    active = layers.load_layers(as_of=AS_OF)
    for slug, overlay in sites(data).items():
        expected = active[active["layer"] == slug]
        # every date's sites are in the file, for the slider; those of the day are marked so
        shown = [
            name
            for name, first, last in zip(
                overlay["p"]["names"], overlay["since"], overlay["until"], strict=True
            )
            if (not first or first <= AS_OF) and (not last or last >= AS_OF)
        ]
        assert sorted(shown) == sorted(expected["name"]), slug
    names = [n for overlay in sites(data).values() for n in overlay["p"]["names"]]
    assert "East depot" in names  # from 2022-02: not on the day, but on the slider
    # a map of its day only holds nothing of later days
    only = payload(maps.render_html(maps.build_map(as_of=AS_OF, timeline=False)))
    assert "timeline" not in only
    assert "East depot" not in json.dumps(only)
    assert "West future base" not in json.dumps(only)
    legend = dict(data["basemap"]["legend"])
    assert legend["west"] == f"NATO member on {AS_OF}"
    groups = {code: group for code, group, _ in data["basemap"]["countries"]}
    assert groups["FIN"] == "other"
    assert groups["POL"] == "west"
    assert groups["BLR"] == "east"
    later = payload(maps.render_html(maps.build_map(as_of="2024-06-01")))
    groups = {code: group for code, group, _ in later["basemap"]["countries"]}
    assert groups["FIN"] == "west"
    assert groups["SWE"] == "west"
    assert later["title"] == "NATO's eastern flank on 2024-06-01"


def test_popup_carries_only_the_shown_properties(map_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    overlay = sites(data)["sites"]
    # No site of this fixture has a side (user points), a confidence or a last-verified date.
    absent = {"Side", "Confidence", "Last verified"}
    assert overlay["p"]["fields"] == [f for f in maps.POPUP_FIELDS if f not in absent]
    i = overlay["p"]["names"].index("West battlegroup")
    varying = iter(overlay["p"]["rows"][i])
    fixed = overlay["p"]["fixed"]
    row = {
        field: fixed[str(k)] if str(k) in fixed else next(varying)
        for k, field in enumerate(overlay["p"]["fields"])
    }
    assert row["Operator"] == "NATO; lead nation United States of America (USA)"
    assert row["Host country"] == "Poland (POL)"
    assert row["Dates"] == "since 2017-04"
    assert row["Status"] == f"active on {AS_OF}"
    assert row["Coordinates"].endswith("± 500 m")
    assert re.match(r"[\d.,]+ km", row["To the frontier"])
    assert overlay["p"]["sources"][i] == [
        ["Test source", "https://example.org/west-bg", "Example", "2026-11-25"]
    ]
    assert "notes" not in overlay["p"]  # no site of the fixture has notes: none are sent
    assert "timeline" not in overlay["p"]


def test_hostile_text_never_becomes_markup(map_layers):
    document = maps.render_html(maps.build_map(as_of=AS_OF))
    for raw in ("<img", 'onerror="window', "<b onmouseover", "<script>window", "</script><script>"):
        assert raw not in document, raw
    data = payload(document)
    hostile = sites(data)["hostile"]
    assert hostile["p"]["names"] == [HOSTILE]  # kept as text, drawn with textContent
    assert hostile["legend"].startswith("<img src=x")
    assert hostile["slug"] == "hostile"
    assert "<title>&lt;" not in document  # the title is the map's own, escaped anyway


def test_no_text_reaches_a_template_engine(hostile_layers, hostile_csv, hostile_corpus):
    """Template syntax in a layer, a user file or its name is data: it runs nothing, stays as is."""
    texts = [text for _, text in hostile_corpus]
    fmap = maps.build_map(as_of=AS_OF, add=[hostile_csv])
    for document in (maps.render_html(fmap), html.unescape(maps.render_fragment(fmap))):
        assert not Path("PWNED").exists()
        data = payload(document)
        layer = sites(data)["hostile"]
        assert layer["p"]["names"] == texts
        assert layer["legend"] == "Layer {{7*7}} <b>bold</b> $x$"
        notes = [row[-1] for row in layer["p"]["rows"]]
        assert notes == texts  # the location note, the last field that varies
        assert [s[0][0] for s in layer["p"]["sources"]] == texts
        assert [s[0][2] for s in layer["p"]["sources"]] == texts  # the publisher
        assert layer["p"]["notes"] == texts
        assert [t[0][2] for t in layer["p"]["timeline"]] == texts  # the timeline's event
        assert layer["p"]["aka"] == texts
        user = next(ov for ov in sites(data).values() if ov["slug"] != "hostile")
        assert user["p"]["names"] == texts
        assert user["legend"] == f"{hostile_csv.name} (added)"
        assert user["p"]["notes"] == texts
        assert user["p"]["aka"] == texts
        # the file's own columns: a hostile column name, and hostile values
        assert user["p"]["fields"][-2:] == ["remark", HOSTILE_COLUMN]
        assert [row[-2:] for row in user["p"]["rows"]] == [[t, t] for t in texts]
        assert f"{len(texts)} added points in 1 file" in data["subtitle"]
        for raw in ("<img", "<script>window", "</script><script>"):
            assert raw not in document.split("flankmap.render(")[1], raw


def test_ids_are_deterministic_and_not_random(map_layers):
    one = maps.render_html(maps.build_map(as_of=AS_OF))
    two = maps.render_html(maps.build_map(as_of=AS_OF))
    assert one == two
    ids = re.findall(r'id="(map_\w+)"', one)
    assert len(ids) == 1
    assert not re.search(r"[0-9a-f]{32}", one.split("<style>")[0])


def build_in_subprocess(out: Path, cwd: Path, seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed, "FLANKMAP_LAYERS_DIR": str(MAP_LAYERS)}
    subprocess.run(
        [sys.executable, "-m", "geo", "map", "-o", str(out), "--as-of", AS_OF, "--rings", "100"],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.mark.slow
def test_same_bytes_across_processes_hash_seeds_and_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build_in_subprocess(tmp_path / "a" / "map.html", tmp_path / "a", "1")
    second = build_in_subprocess(tmp_path / "b" / "other.html", tmp_path / "b", "4242")
    assert first == second
    assert str(tmp_path).encode() not in first


def test_range_rings_are_geodesic(map_layers):
    fmap = maps.build_map(as_of=AS_OF, rings_km=[100, 300], ring_sites=["east-radar"])
    data = payload(maps.render_html(fmap))
    rings = next(ov for ov in data["overlays"] if ov["type"] == "rings")
    assert len(rings["rings"]) == 2  # one site, two radii
    geod = Geod(ellps="WGS84")
    for (codes, _colour, tip, label, *_top), radius_km in zip(
        rings["rings"], [100, 300], strict=True
    ):
        assert tip == f"{radius_km} km from East radar"
        assert label == f"{radius_km} km"
        lon = lat = 0
        errors = []
        for i in range(0, len(codes), 2):
            lon += codes[i] / rings["scale"]
            lat += codes[i + 1] / rings["scale"]
            errors.append(geod.inv(26.5, 52.9, lon, lat)[2] - radius_km * 1000)
        assert max(abs(e) for e in errors) < 15  # metres: rounding to 1e-4 degree
        assert len(errors) >= _overlays.RING_POINTS


def test_ring_sites_must_exist(map_layers):
    with pytest.raises(InputError, match=r"ring site.*nowhere"):
        maps.build_map(as_of=AS_OF, rings_km=[100], ring_sites=["nowhere"])
    # Without rings too: a misspelt id is not silently dropped.
    with pytest.raises(InputError, match=r"ring site.*nowhere"):
        maps.build_map(as_of=AS_OF, ring_sites=["nowhere"])


def test_distance_lines_for_each_active_site(map_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    shown = [ov for ov in data["overlays"] if ov["type"] == "distances"]
    lines = [line for ov in shown for line in ov["lines"]]
    active = layers.load_layers(as_of=AS_OF)
    assert len(lines) == len(active)
    for line in lines:
        assert re.fullmatch(r"[\d.,]+ km", line[4])
    # by default only the lines of the sites near the opposing side are drawn
    for ov in shown:
        near = ov["slug"] == "distances"
        assert ov["show"] is near
        for line in ov["lines"]:
            km = Geod(ellps="WGS84").inv(line[1], line[0], line[3], line[2])[2] / 1000
            assert (km <= maps.NEAR_KM + 1) is near


def test_frontier_is_drawn_and_highlighted(map_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    front = data["overlays"][0]
    assert front["type"] == "frontier"
    assert front["lines"]
    tips = {line["tooltip"].split(" ")[0] for line in front["lines"]}
    assert "BLR–POL" in tips
    assert "FIN–RUS" not in tips


def test_no_tiles_by_default_and_tiles_on_request(map_layers):
    plain = maps.render_html(maps.build_map(as_of=AS_OF))
    assert payload(plain)["tiles"] is None
    tiled = payload(maps.render_html(maps.build_map(as_of=AS_OF, tiles="OpenStreetMap.Mapnik")))
    assert tiled["tiles"]["url"].startswith("https://")
    with pytest.raises(InputError, match="unknown tile provider"):
        maps.build_map(as_of=AS_OF, tiles="No.Such.Tiles")


def test_bad_options_raise_input_errors(map_layers):
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        maps.build_map(as_of="20-10-2021")
    with pytest.raises(InputError, match="ring radius"):
        maps.build_map(as_of=AS_OF, rings_km=[-5])


def test_build_map_displays_in_jupyter(map_layers):
    fmap = maps.build_map(as_of=AS_OF)
    assert isinstance(fmap, folium.Map)
    shown = fmap._repr_html_()
    assert "<iframe srcdoc=" in shown
    assert "cdn.jsdelivr" not in shown


def test_fragment_is_an_iframe_with_the_whole_map(map_layers, tmp_path):
    fmap = maps.build_map(as_of=AS_OF)
    out = maps.save_map(fmap, tmp_path / "frag.html", fragment=True)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<iframe ")
    assert text.endswith("</iframe>\n")
    assert 'sandbox="allow-scripts' in text
    assert "<script" not in text

    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', text).group(1))
    assert srcdoc == maps.render_html(fmap)


def test_interrupted_write_keeps_the_old_file(map_layers, tmp_path, monkeypatch):
    out = tmp_path / "map.html"
    out.write_text("good map", encoding="utf-8")
    fmap = maps.build_map(as_of=AS_OF)

    def broken(_fmap, **_options):
        raise KeyboardInterrupt

    monkeypatch.setattr(maps, "render_html", broken)
    with pytest.raises(KeyboardInterrupt):
        maps.save_map(fmap, out)
    assert out.read_text(encoding="utf-8") == "good map"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


def test_display_borders_are_simplified_but_keep_shared_edges():
    countries = maps.display_countries()
    assert {"POL", "BLR", "LTU", "RUS", "UKR"} <= set(countries.index)
    pol, blr = countries.loc["POL", "geometry"], countries.loc["BLR", "geometry"]
    shared = pol.intersection(blr)
    assert shared.length > 3  # degrees: the common edge survives simplification
    assert pol.buffer(0).intersection(blr.buffer(0)).area < 1e-6  # no overlap


def test_default_map_stays_small():
    """The shipped layers on today's date: well under 1.5 MB."""
    document = maps.render_html(maps.build_map())
    assert len(document.encode("utf-8")) < 1_500_000


def test_add_user_file_as_its_own_overlay(map_layers):
    csv_path = DATA / "maps_points.csv"
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[csv_path])))
    user = sites(data)["maps_points"]
    # every date's points, dated for the slider: "Old site" ended in 2010
    assert user["label"] == "maps_points.csv (added) (3)"
    names = ['<img src=x onerror="window.__xss=6">', "Kaunas depot", "Old site"]
    assert user["p"]["names"] == names
    assert user["until"] == ["", "", "2010-12-31"]
    assert "· 2 added points in 1 file" in data["subtitle"]  # those of the date
    assert user["bulk"] is False
    assert "To the frontier" in user["p"]["fields"]
    others = {ov["colour"] for slug, ov in sites(data).items() if slug != "maps_points"}
    assert user["colour"] not in others


def test_big_user_layers_are_drawn_on_a_canvas(map_layers):
    data = payload(
        maps.render_html(
            maps.build_map(as_of=AS_OF, add=[DATA / "maps_points.csv"], bulk_threshold=1)
        )
    )
    user = sites(data)["maps_points"]
    assert user["bulk"] is True
    assert "tips" not in user["p"]


def km_code_text(code: int) -> str:
    """What the script writes for a distance code (the map script's kmText), in Python."""
    if not code:
        return ""
    if code < 1002:
        return f"{(code - 1) / 100:.2f} km"
    if code < 2003:
        return f"{(code - 1002) / 10:.1f} km"
    return f"{code - 2003:,} km"


def test_km_codes_write_what_km_label_writes():
    rng = np.random.default_rng(7)
    metres = np.concatenate(
        [
            rng.uniform(0, 20_000_000, 20_000),
            rng.uniform(0, 120_000, 20_000),
            np.arange(0, 120_000, 5.0),  # every tie of the three precisions
            [9_995, 9_994.999999, 9_999.9, 99_950, 99_949.99, 0.0, 1e-9, 20_037_508.34],
        ]
    )
    codes = _bulk.km_codes(metres)
    assert codes.dtype == np.uint16
    assert [km_code_text(int(c)) for c in codes] == [km_label(m) for m in metres]
    assert _bulk.km_codes([math.nan]).tolist() == [0]
    with pytest.raises(ValueError, match="from 0 to 60,000 km"):
        _bulk.km_codes([-1.0])


def test_binary_texts_are_joined_from_any_column():
    chunks = pd.concat(
        [
            pd.Series(["a\nb", ""], dtype="string[pyarrow]"),
            pd.Series(["é"], dtype="string[pyarrow]"),
        ],
        ignore_index=True,
    )
    for texts in (chunks, chunks.astype(object), chunks.astype(str)):
        assert _bulk.joined_texts(texts) == "a b\n\né".encode()


def decode_bulk(layer: dict) -> list[dict[str, str]]:
    """Each point of a binary layer as the script shows it: name, id and popup rows."""
    pts, p = layer["pts"], layer["p"]
    raw = gzip.decompress(base64.b64decode(pts["data"]))
    n, width = pts["n"], pts["group"]

    def planes(dtype: str, size: int, at: int) -> np.ndarray:
        data = np.frombuffer(raw, np.uint8, n * size, at).reshape(size, n).T.copy()
        return data.view(dtype).ravel()

    lon = planes("<i4", 4, 0) / pts["scale"]
    lat = planes("<i4", 4, 4 * n) / pts["scale"]
    group = planes(f"<u{width}", width, 8 * n)
    km = planes("<u2", 2, (8 + width) * n)
    offset, texts = (10 + width) * n, {}
    if "epoch" in pts:  # each point's first and last day after the epoch
        offset += 4 * n
    for key, size, *prefix in pts["texts"]:
        if prefix:  # a prefix and numbers: int32 steps from the number before
            numbers = np.cumsum(planes("<i4", 4, offset).astype(np.int64))
            texts[str(key)] = [f"{prefix[0]}{v}" for v in numbers.tolist()]
        else:
            texts[str(key)] = raw[offset : offset + size].decode("utf-8").split("\n")
        offset += size
    assert offset == len(raw)
    points = []
    for i in range(n):
        row, nxt, shown = p["rows"][group[i]], 0, {}
        for k, field in enumerate(p["fields"]):
            if k == pts["xy"]:
                value = (
                    _popups.coordinates_text(float(lat[i]), float(lon[i]), math.nan) + pts["unc"]
                )
            elif str(k) in texts:
                value = texts[str(k)][i]
            else:
                value = p["fixed"][str(k)] if str(k) in p["fixed"] else row[(nxt := nxt + 1) - 1]
                if k == pts["km"]:
                    value = km_code_text(int(km[i])) + value if km[i] else ""
            if value:
                shown[field] = value
        look = layer["looks"][pts["looks"][group[i]]]
        points.append(
            {"name": texts["names"][i], "id": texts.get("ids", [""] * n)[i], "look": look, **shown}
        )
    return points


def decode_json(layer: dict) -> list[dict[str, str]]:
    """Each point of a JSON (marker) layer: name, id and popup rows."""
    p, points = layer["p"], []
    for i, name in enumerate(p["names"]):
        row, nxt, shown = p["rows"][i], 0, {}
        for k, field in enumerate(p["fields"]):
            value = p["fixed"][str(k)] if str(k) in p["fixed"] else row[(nxt := nxt + 1) - 1]
            if value:
                shown[field] = value
        look = layer["looks"][layer["look"][i] if "look" in layer else 0]
        points.append({"name": name, "id": p.get("ids", [""] * len(p["names"]))[i], "look": look})
        points[-1].update(shown)
    return points


def test_big_user_layers_ship_binary_points_that_show_as_the_json_ones(map_layers, tmp_path):
    """A big user layer's binary points show the texts the per-point JSON shows."""
    rng = np.random.default_rng(3)
    n = 400
    lat, lon = np.round(rng.uniform(43, 61, n), 5), np.round(rng.uniform(12, 32, n), 5)
    lines = ["id,name,lat,lon,status,comment"]
    for i in range(n):
        name = "" if i % 7 == 0 else f"site {i}" if i % 5 else HOSTILE
        status = ["", "active", "planned"][i % 3]
        comment = "" if i % 4 else f'"{HOSTILE_COLUMN}, {i}"'
        lines.append(
            f"{'' if i % 11 == 0 else f'p{i}'},{name},{lat[i]},{lon[i]},{status},{comment}"
        )
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    binary = sites(payload(maps.render_html(maps.build_map(add=[path], bulk_threshold=100))))
    plain = sites(payload(maps.render_html(maps.build_map(add=[path], bulk_threshold=n))))
    big, small = binary["many"], plain["many"]
    assert big["bulk"] is True
    assert "pts" in big
    assert big["lat"] == []
    assert big["p"]["names"] == []
    assert big["label"] == small["label"] == f"many.csv (added) ({n:,})"
    assert small["bulk"] is False
    assert "pts" not in small
    shown, expected = decode_bulk(big), decode_json(small)
    assert shown == expected
    assert {p["name"] for p in shown} >= {HOSTILE, "site 1", "(unnamed)", "p7"}
    assert any("km to the" in p["To the frontier"] for p in shown)
    assert len({p["Side"] for p in shown}) >= 2  # points on both sides, coloured by side
    assert len({p["look"][0] for p in shown}) >= 2


def test_big_layers_ship_numbered_texts_as_numbers(map_layers, tmp_path):
    """Ids, names and columns that are one prefix and a number go as int32 steps, same text."""
    rng = np.random.default_rng(5)
    n = 300
    lat, lon = np.round(rng.uniform(43, 61, n), 5), np.round(rng.uniform(12, 32, n), 5)
    order = rng.permutation(n)  # steps up and down
    lines = ["id,name,lat,lon,count,code"]
    for i in range(n):
        code = f"0{i}" if i == 7 else str(i)  # one leading zero: shipped as text
        count = 2**31 - 1 if i == 3 else i * 1000
        lines.append(f"p{i},site {order[i]},{lat[i]},{lon[i]},{count},{code}")
    path = tmp_path / "counted.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    big = sites(payload(maps.render_html(maps.build_map(add=[path], bulk_threshold=100))))
    small = sites(payload(maps.render_html(maps.build_map(add=[path], bulk_threshold=n))))
    parts = {str(part[0]): part[2:] for part in big["counted"]["pts"]["texts"]}
    assert parts.pop("names") == ["site "]
    assert parts.pop("ids") == ["p"]
    assert sorted(parts.values()) == [[], [""]]  # count as numbers, code as text
    shown = decode_bulk(big["counted"])
    assert shown == decode_json(small["counted"])
    assert [p["id"] for p in shown[:3]] == ["p0", "p1", "p2"]
    assert shown[3]["count"] == "2147483647"
    assert shown[7]["code"] == "07"


def test_big_site_files_ship_binary_points_that_show_as_the_json_ones(map_layers, tmp_path):
    """A big file with operator and country columns: measured as the layers, still binary."""
    rng = np.random.default_rng(9)
    n = 300
    lat, lon = np.round(rng.uniform(50, 58, n), 5), np.round(rng.uniform(20, 30, n), 5)
    lines = ["name,lat,lon,operator,country,confidence,since,status"]
    for i in range(n):
        operator, country = ["LTU", "POL", "RUS", "USA"][i % 4], ["LTU", "POL", "BLR"][i % 3]
        since = ["2019-01-01", "", ""][i % 3]
        confidence = ["high", "low", ""][i % 3]
        lines.append(f"s{i},{lat[i]},{lon[i]},{operator},{country},{confidence},{since},active")
    path = tmp_path / "garrisons.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    big = sites(payload(maps.render_html(maps.build_map(add=[path], bulk_threshold=100))))
    small = sites(payload(maps.render_html(maps.build_map(add=[path], bulk_threshold=n))))
    assert "pts" in big["garrisons"]
    assert decode_bulk(big["garrisons"]) == decode_json(small["garrisons"])


def test_a_big_file_measured_in_a_child_makes_the_same_page(
    map_layers, tmp_path, monkeypatch, only_new_threads_counted
):
    """Points measured in a forked child (APART_POINTS or more) give the page made here."""
    from geo import _apart

    rng = np.random.default_rng(11)
    n = 300
    lat, lon = np.round(rng.uniform(43, 61, n), 5), np.round(rng.uniform(12, 32, n), 5)
    lines = ["id,name,lat,lon,since"] + [
        f"p{i},{HOSTILE if i % 9 == 0 else f'site {i}'},{lat[i]},{lon[i]},{2000 + i % 25}"
        for i in range(n)
    ]
    path = tmp_path / "apart.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(maps, "APART_POINTS", 100)
    forked: list[bool] = []

    class Recorded(_apart.Apart):
        def __init__(self, func):
            super().__init__(func)
            forked.append(self._process is not None)

    monkeypatch.setattr(_apart, "Apart", Recorded)
    kwargs = {"as_of": AS_OF, "add": [path], "bulk_threshold": 100}
    apart = maps.render_html(maps.build_map(**kwargs))
    assert forked == [True]
    monkeypatch.setattr(_apart, "ENABLED", False)
    here = maps.render_html(maps.build_map(**kwargs))
    assert forked == [True, False]
    assert apart == here
    layer = sites(payload(apart))["apart"]
    assert "pts" in layer
    assert HOSTILE in {p["name"] for p in decode_bulk(layer)}


def test_big_files_with_skipped_rows_show_and_report_what_small_ones_do(map_layers, tmp_path):
    """Skip-invalid over a file read as plain columns: same kept points, same rejected rows."""
    n = 240
    lines = ["name,lat,lon,operator,country,since,until"]
    for i in range(n):
        lat, lon, since, until = f"{50 + i % 60 / 10}", f"{20 + i // 60}", "2015", ""
        operator, country = ["POL", "RUS", "USA"][i % 3], ["LTU", "POL", "BLR"][i % 3]
        if i % 17 == 3:
            lat = "north"  # the reader's own check
        elif i % 17 == 5:
            since = "soon"  # a bad date: the user layer's check
        elif i % 17 == 7:
            country = "XXX"  # a bad code, read by the site analysis
        elif i % 17 == 9:
            since, until = "2020", "2019"  # until before since
        elif i % 17 == 11:
            until = "2016-06-30"  # ended: shown on its dates by the slider only
        lines.append(f"s{i},{lat},{lon},{operator},{country},{since},{until}")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def build(threshold: int) -> tuple[dict, list[pd.DataFrame]]:
        rejected: list[pd.DataFrame] = []
        built = maps.build_map(
            as_of=AS_OF,
            add=[path],
            bulk_threshold=threshold,
            skip_invalid=True,
            on_rejected=lambda _path, rows: rejected.append(rows),
        )
        return sites(payload(maps.render_html(built)))["mixed"], rejected

    (big, big_rejected), (small, small_rejected) = build(100), build(n)
    assert "pts" in big
    assert "pts" not in small
    assert decode_bulk(big) == decode_json(small)
    # a canvas counts the map date's points, markers every date's (as for the small files)
    assert (big["label"], small["label"]) == ("mixed.csv (added) (170)", "mixed.csv (added) (184)")
    rows = pd.concat(big_rejected, ignore_index=True)
    pd.testing.assert_frame_equal(rows, pd.concat(small_rejected, ignore_index=True))
    assert sorted(set(rows["field"])) == ["country", "lat", "since", "until"]
    assert len(rows) == 4 * len(range(3, n, 17))  # every bad row, once
    with pytest.raises(InputError, match=r"^mixed\.csv: row 4: field 'lat'"):
        maps.build_map(as_of=AS_OF, add=[path], bulk_threshold=100)


def test_big_files_of_many_dates_ship_each_points_days(map_layers, tmp_path):
    """Over DATE_GROUPS distinct dates: days per point (uint16 after an epoch), dates as text."""
    n = _bulk.DATE_GROUPS + 44
    start = dt.date(2012, 1, 1)
    lines = ["name,lat,lon,since,until"]
    for i in range(n):
        since = (start + dt.timedelta(days=3 * i)).isoformat()
        until = "" if i % 2 else f"{2030 + i % 5}"
        lines.append(f"s{i},{50 + i % 70 / 10},{20 + i // 70},{since},{until}")
    path = tmp_path / "daily.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kwargs = {"as_of": "2026-01-01", "add": [path], "timeline": False}
    big = sites(payload(maps.render_html(maps.build_map(**kwargs, bulk_threshold=100))))["daily"]
    small = sites(payload(maps.render_html(maps.build_map(**kwargs, bulk_threshold=n))))["daily"]
    pts = big["pts"]
    assert pts["epoch"] == "2011-12-31"
    assert "days" not in pts
    assert len(big["p"]["rows"]) < 20  # the groups do not split on the dates
    assert decode_bulk(big) == decode_json(small)  # the same dates text in every popup
    raw = gzip.decompress(base64.b64decode(pts["data"]))
    at = (10 + pts["group"]) * n
    days = np.frombuffer(raw, np.uint8, 4 * n, at).reshape(2, 2, n).transpose(0, 2, 1).copy()
    first, last = days.view("<u2").reshape(2, n)
    epoch = dt.date.fromisoformat(pts["epoch"])
    shown = [
        (
            (epoch + dt.timedelta(days=int(a))).isoformat() if a else "",
            (epoch + dt.timedelta(days=int(b))).isoformat() if b else "",
        )
        for a, b in zip(first, last, strict=True)
    ]
    assert shown == list(zip(small["since"], small["until"], strict=True))


def test_big_user_layers_with_uncertainties_keep_the_json_points(map_layers):
    data = maps.build_map(as_of=AS_OF, add=[DATA / "maps_points.csv"], bulk_threshold=1)
    user = sites(payload(maps.render_html(data)))["maps_points"]
    assert user["bulk"] is True
    assert "pts" not in user  # the distance range within the uncertainty needs the JSON
    # a canvas layer ships every date; the slider draws those of its day (2 on AS_OF)
    names = ['<img src=x onerror="window.__xss=6">', "Kaunas depot", "Old site"]
    assert user["p"]["names"] == names
    assert (user["since"], user["until"]) == (
        ["2019-01-01", "2015-01-01", "2000-01-01"],
        ["", "", "2010-12-31"],
    )
    undated = maps.build_map(
        as_of=AS_OF, add=[DATA / "maps_points.csv"], bulk_threshold=1, timeline=False
    )
    assert sites(payload(maps.render_html(undated)))["maps_points"]["p"]["names"] == names[:2]


def test_binary_points_are_small_and_reproducible(map_layers, tmp_path):
    rng = np.random.default_rng(5)
    n = 20_000
    lat, lon = np.round(rng.uniform(43, 61, n), 5), np.round(rng.uniform(12, 32, n), 5)
    body = "".join(
        f"p{i},site {i},{a},{b}\n" for i, (a, b) in enumerate(zip(lat, lon, strict=True))
    )
    path = tmp_path / "p.csv"
    path.write_text("id,name,lat,lon\n" + body, encoding="utf-8")
    first = maps.render_html(maps.build_map(as_of=AS_OF, add=[path]))
    second = maps.render_html(maps.build_map(as_of=AS_OF, add=[path]))
    assert first == second
    layer = sites(payload(first))["p"]
    assert len(json.dumps(layer)) / n < 17  # lon, lat, distance, group, name, id: about 16 B
    assert "site 1" not in first  # the names are inside the binary


def test_bad_user_file_names_file_and_row(map_layers, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat,lon\nA,54.0,24.0\nB,abc,24.0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv: row 2: field 'lat'"):
        maps.build_map(as_of=AS_OF, add=[bad])
    dated = tmp_path / "dated.csv"
    dated.write_text("name,lat,lon,since,until\nA,54.0,24.0,soon,\n", encoding="utf-8")
    message = "dated.csv: row 1: field 'since': 'soon' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        maps.build_map(as_of=AS_OF, add=[dated])


def test_user_files_with_the_same_name_are_told_apart(map_layers, tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "pts.csv").write_text("id,lat,lon\na,54.7,25.3\n", encoding="utf-8")
    (tmp_path / "x" / "pts.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":[24,55]}}]}',
        encoding="utf-8",
    )
    added = [tmp_path / "x" / "pts.csv", tmp_path / "y" / "pts.csv", tmp_path / "x" / "pts.geojson"]
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=added)))
    user = [ov for ov in data["overlays"] if ov["type"] == "sites" and "(added)" in ov["legend"]]
    assert [ov["legend"] for ov in user] == [
        "x/pts.csv (added)",
        "y/pts.csv (added)",
        "pts.geojson (added)",
    ]
    assert len({(ov["colour"], ov["symbol"]) for ov in user}) == 3
    assert len({ov["slug"] for ov in user}) == 3


def test_a_user_file_given_twice_is_refused(map_layers, tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("id,lat,lon\na,54.7,25.3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^pts\.csv: is added twice; give each file once$"):
        maps.build_map(as_of=AS_OF, add=[path, tmp_path / "." / "pts.csv"])


# --- what the data knows about itself: certainty, notes, timelines, user columns ------------

CERTAINTY = DATA / "maps_certainty"


@pytest.fixture
def certainty_layers(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The certainty test layer: schema v2's confidence, last_verified and aliases."""
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(CERTAINTY))
    return CERTAINTY


def popup_rows(overlay: dict, i: int) -> dict[str, str]:
    """The popup rows of site i: field label to value."""
    p = overlay["p"]
    varying = iter(p["rows"][i])
    return {
        field: p["fixed"][str(k)] if str(k) in p["fixed"] else next(varying)
        for k, field in enumerate(p["fields"])
    }


def test_certainty_is_drawn_and_explained(certainty_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    layer = sites(data)["certainty"]
    names = layer["p"]["names"]
    look = {name: layer["looks"][layer["look"][i]] for i, name in enumerate(names)}
    colour = layer["colour"]
    assert look["Confirmed base"] == [colour, 0, 1.0, "", 1.5, ""]
    assert look["Reported depot"] == [colour, 0, 0.5, "3 2", 1.8, ""]
    assert look["Claimed launchers"] == [colour, 0, 0.2, "1 1.8", 1.8, "?"]
    assert look["Planned radar"][1] == 1  # hollow
    assert look["Building site"][1] == 1  # under construction on the date
    assert len({json.dumps(v) for v in look.values()}) == 4  # planned and building look alike
    rows = popup_rows(layer, names.index("Reported depot"))
    assert rows["Confidence"] == "reported: credible press or OSINT, not officially confirmed"
    assert rows["Last verified"] == "2026-10-01"
    assert rows["Status"] == f"active on {AS_OF}"
    legend = [text for _, text in data["certainty"]]
    assert legend == [
        "Solid: confirmed, or not rated",
        "Reported: credible press or OSINT, not officially confirmed",
        "Claimed: one party's claim or a single weak source",
        "Hollow: planned or under construction",
    ]
    assert layer["unc"][names.index("Claimed launchers")] == 8000


def test_without_confidence_every_symbol_is_solid_and_unexplained(map_layers):
    # the day's sites only: the slider's other days have planned (hollow) sites
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, timeline=False)))
    for overlay in sites(data).values():
        assert all(look[1:] == [0, 1.0, "", 1.5, ""] for look in overlay["looks"])
        assert "Confidence" not in overlay["p"]["fields"]
    assert data["certainty"] == []


def test_a_user_file_with_confidence_is_drawn_the_same_way(map_layers):
    data = payload(
        maps.render_html(maps.build_map(as_of=AS_OF, add=[CERTAINTY / "certainty.geojson"]))
    )
    user = sites(data)["certainty"]
    dashes = {look[3] for look in user["looks"]}
    assert {"", "3 2", "1 1.8"} <= dashes
    assert any(look[1] == 1 for look in user["looks"])


def test_popups_carry_notes_timeline_aliases_and_access_dates(certainty_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    layer = sites(data)["certainty"]
    p = layer["p"]
    i = p["names"].index("Reported depot")
    assert p["notes"][i] == "Location is reported, not officially confirmed."
    assert p["timeline"][i] == [
        ["1982", "under construction", "Construction began"],
        ["2003-10-01", "active", "Commissioned"],
    ]
    assert p["sources"][i][0][3] == "2026-11-25"
    assert p["aka"][p["names"].index("Confirmed base")] == "Base Alpha; Objekt 17"
    assert p["ids"][i] == "reported-depot"


def test_user_points_get_the_analysis_coloured_by_their_side(map_layers):
    path = DATA / "maps_user_columns.csv"
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[path])))
    user = sites(data)["maps_user_columns"]
    names = user["p"]["names"]
    colour = {
        name: user["looks"][user.get("look", [0] * len(names))[i]][0]
        for i, name in enumerate(names)
    }
    assert colour["Kaunas store"] == user["colour"]  # NATO side: the layer's own colour
    assert colour["Brest watch"] != user["colour"]  # Belarus: a warm colour
    assert colour["Lviv point"] == "#7f7f7f"  # Ukraine: neither side
    brest = popup_rows(user, names.index("Brest watch"))
    assert brest["Side"] == "Russia & Belarus (in Belarus (BLR))"
    assert re.match(r"[\d.]+ km to the BLR–POL border", brest["To the frontier"])
    kaunas = popup_rows(user, names.index("Kaunas store"))
    assert kaunas["Side"] == "NATO (in Lithuania (LTU))"
    expected = maps.format_km(
        distance_to("RUS,BLR", 23.9, 54.9)
    )  # a point in NATO is measured to Russia and Belarus
    assert kaunas["To the frontier"].startswith(expected)
    lines = [line for ov in data["overlays"] if ov["type"] == "distances" for line in ov["lines"]]
    assert sum(1 for line in lines if line[5].startswith(("Brest watch", "Kaunas store"))) == 2
    assert "3 added points in 1 file" in data["subtitle"]
    shipped = layers.load_layers(as_of=AS_OF)
    counted = f"{len(shipped)} sites in {shipped['layer'].nunique()} layers · 3 added points"
    assert data["subtitle"].startswith(counted)  # the shipped sites, counted apart


def distance_to(group: str, lon: float, lat: float) -> float:
    from geo import distance

    return float(distance.to_territory([lon], [lat], group, as_of=AS_OF)["distance_m"].iloc[0])


def test_user_columns_in_popups_all_or_chosen(map_layers):
    path = DATA / "maps_user_columns.csv"
    every = sites(payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[path]))))
    user = every["maps_user_columns"]
    assert user["p"]["fields"][-2:] == ["unit", "strength"]
    rows = popup_rows(user, 0)
    assert rows["unit"] == "38th Brigade"
    assert rows["strength"] == "about 800"
    assert user["p"]["notes"][0] == "Seen from the road on 2025-05-01"
    assert user["p"]["aka"][0] == "Brest-Litovsk post"
    assert "lat" not in user["p"]["fields"]
    chosen = maps.build_map(as_of=AS_OF, add=[path], popup_fields=["strength"])
    user = sites(payload(maps.render_html(chosen)))["maps_user_columns"]
    assert "unit" not in user["p"]["fields"]
    assert user["p"]["fields"][-1] == "strength"
    with pytest.raises(
        InputError,
        match=r"popup field 'nope' is a column of none of the added files \(their own columns: strength, unit\)",
    ):
        maps.build_map(as_of=AS_OF, add=[path], popup_fields=["nope"])


def test_distance_labels_are_no_more_precise_than_the_coordinate():
    assert maps.format_km_within(7_390, 8_000) == "7 km"
    assert maps.format_km_within(7_390, 500) == "7.4 km"
    assert maps.format_km_within(7_390, float("nan")) == "7.39 km"
    assert maps.format_km_within(22_800, 1_000) == "23 km"
    assert maps.format_km_within(1_234_000, 25_000) == "1,230 km"
    assert maps.format_km_within(float("nan"), 10) == ""


def test_stacked_sites_share_one_point_in_the_data(certainty_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    layer = sites(data)["certainty"]
    points = [(lat, lon) for lat, lon in zip(layer["lat"], layer["lon"], strict=True)]
    assert points.count((53.29333, 28.64222)) == 2


# --- place names --------------------------------------------------------------------------


def test_towns_by_zoom_capitals_first_only_what_the_zoom_levels_need():
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    places = data["basemap"]["places"]
    assert places["zooms"] == [tier[1] for tier in _basemap.PLACE_TIERS]
    tiers = [t[3] for t in places["towns"]]
    assert tiers == sorted(tiers)
    towns = {t[0]: t for t in places["towns"]}
    for name in ("Warsaw", "Vilnius", "Minsk", "Moscow", "Riga", "Tallinn", "Helsinki", "Kyiv"):
        assert towns[name][3] == 0, name
    gap = ("Suwałki", "Augustów", "Ełk", "Marijampolė", "Kaunas", "Alytus", "Hrodna", "Gusev")
    for name in gap:
        assert places["zooms"][towns[name][3]] <= 8, name
    assert "Šilainiai" not in towns  # a district of Kaunas
    # small towns far from the frontier and the sites are not shipped
    assert all(t[3] < 3 for t in places["towns"] if t[2] < -5)
    assert "GeoNames (CC BY 4.0)" in data["attribution"]
    regions = data["basemap"]["regions"]
    assert regions[0][0] == "Kaliningrad\noblast (Russia)"
    assert 54 < regions[0][1] < 55.5
    assert 19.5 < regions[0][2] < 23


def test_the_suwalki_gap_is_named_and_sourced():
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    areas = next(ov for ov in data["overlays"] if ov["type"] == "areas")
    gap = areas["areas"][0]
    assert gap["name"] == "Suwałki Gap"
    assert "Kaliningrad" in gap["text"]
    assert "Belarus" in gap["text"]
    width = re.search(r"([\d,]+) km across", gap["text"])
    assert width is not None
    assert 55 <= int(width.group(1)) <= 75  # "about 65 km" in the literature
    assert gap["sources"][0][1] == "https://doi.org/10.31374/sjms.21"


# --- the page: pinch zoom, the CDN guard, the fragment ------------------------------------


def test_pinch_zoom_is_allowed_and_the_page_has_a_language(map_layers):
    document = maps.render_html(maps.build_map(as_of=AS_OF))
    assert "user-scalable=no" not in document
    assert "maximum-scale" not in document
    assert '<meta name="viewport" content="width=device-width, initial-scale=1" />' in document
    assert document.startswith('<!DOCTYPE html>\n<html lang="en">')


def test_a_plugin_from_a_cdn_is_refused_unless_online(map_layers, tmp_path):
    from folium import plugins

    fmap = maps.build_map(as_of=AS_OF)
    plugins.MiniMap().add_to(fmap)
    with pytest.raises(InputError, match=r"would not work offline: MiniMap \(https://cdnjs"):
        maps.render_html(fmap)
    out = tmp_path / "m.html"
    with pytest.raises(InputError, match="online=True"):
        maps.save_map(fmap, out)
    assert not out.exists()
    document = maps.render_html(fmap, online=True)
    assert "https://cdnjs.cloudflare.com" in document
    maps.save_map(fmap, out, online=True)
    assert out.exists()


def test_a_link_added_to_the_page_by_hand_is_refused_too(map_layers):
    fmap = maps.build_map(as_of=AS_OF)
    from branca.element import MacroElement
    from folium.template import Template

    class Remote(MacroElement):
        _template = Template(
            '{% macro header(this, kwargs) %}<script src="https://example.org/x.js"></script>'
            "{% endmacro %}"
        )

    Remote().add_to(fmap)
    with pytest.raises(InputError, match=r"https://example\.org/x\.js"):
        maps.render_html(fmap)


def test_timeline_states_follow_nato_and_ship_exact_distances():
    """One frontier state per accession; each distance as the engine measures it that day."""
    import datetime as dt

    import numpy as np

    from geo import borders, distance
    from geo.sites import site_analysis

    data = payload(maps.render_html(maps.build_map(as_of="2025-06-01")))
    timeline = data["timeline"]
    starts = [state["start"] for state in timeline["states"]]
    joined = sorted({d.isoformat() for d in borders.NATO_ACCESSION.values()})
    assert starts == [s for s in joined if timeline["start"] <= s <= timeline["end"]]
    assert timeline["start"] <= "2014-01-01"
    assert timeline["end"] >= "2025-06-01"
    by_start = {state["start"]: state for state in timeline["states"]}
    assert "FIN-RUS" not in by_start["2020-03-27"]["pairs"]
    assert "FIN-RUS" in by_start["2023-04-04"]["pairs"]
    assert "FIN" in by_start["2023-04-04"]["west"]
    assert "FIN" not in by_start["2020-03-27"]["west"]
    assert "Finland joins NATO" in dict(timeline["events"])["2023-04-04"]
    frontier = next(ov for ov in data["overlays"] if ov["type"] == "frontier")
    assert by_start["2024-03-07"]["legend"] == frontier["legend"]
    frame = layers.load_layers(as_of="2025-06-01")
    for slug, overlay in sites(data).items():
        own = frame[frame["layer"] == slug].reset_index(drop=True)
        on = [
            k
            for k, (first, last) in enumerate(zip(overlay["since"], overlay["until"], strict=True))
            if (not first or first <= "2025-06-01") and (not last or last >= "2025-06-01")
        ]
        assert [overlay["p"]["names"][k] for k in on] == list(own["name"])
        # the state of the build day: the analysis that the map shows on that day
        analysed = site_analysis(own, as_of="2025-06-01")
        rows = by_start["2024-03-07"]["to"][slug]
        np.testing.assert_allclose(
            [rows[k][0] for k in on], analysed["opposing_distance_m"], atol=0.1
        )
        # earlier states: the Russian sites measured directly to the NATO of that day
        east = np.flatnonzero((analysed["side"] == borders.EAST).to_numpy())
        if not len(east):
            continue
        lon, lat = _payload.anchor_points(own.iloc[east]).T
        for start in ("2004-03-29", "2017-06-05"):
            direct = distance.to_territory(lon, lat, "NATO", as_of=dt.date.fromisoformat(start))
            shipped = [by_start[start]["to"][slug][on[k]][0] for k in east]
            np.testing.assert_allclose(shipped, direct["distance_m"], atol=0.1)


def test_the_soviet_union_is_named_in_popups(tmp_path, monkeypatch, write_layer, feature):
    feature["properties"].update(
        country="RUS", operator="SUN", status="ended", since="1985", until="1991-12-26"
    )
    feature["geometry"]["coordinates"] = [30.3, 59.9]
    write_layer([feature], name="soviet")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    data = payload(maps.render_html(maps.build_map(as_of="1990-01-01")))
    rows = popup_rows(sites(data)["soviet"], 0)
    assert rows["Operator"] == "Soviet Union (SUN)"
    assert rows["Host country"] == "Russia (RUS)"
    assert _popups.place_name("NATO", {}) == "NATO"
    assert _popups.place_name("XYZ", {}) == "XYZ"


@pytest.mark.parametrize("source", ["osm", "naturalearth"])
def test_the_frontier_legend_gives_the_length_of_the_borders_measured(source):
    """The line drawn is Natural Earth's, simplified; its length is that of the borders measured."""
    from geo import borders

    day = "2026-06-01"
    data = payload(maps.render_html(maps.build_map(as_of=day, borders=source, timeline=False)))
    frontier = next(ov for ov in data["overlays"] if ov["type"] == "frontier")
    measured = borders.frontier("RUS,BLR", "NATO", as_of=day, borders=source)
    total = float(measured["length_km"].sum())
    legend = f"Land frontier Russia & Belarus – NATO ({total:,.0f} km)"
    if source == "osm":  # from the detail zoom on, the line measured to is drawn
        legend += "; from zoom 8 as measured, on OpenStreetMap country borders"
    assert frontier["legend"] == legend
    blr_pol = float(measured.set_index("pair").loc["BLR-POL", "length_km"])
    assert any(
        line["tooltip"] == f"BLR–POL frontier: {blr_pol:,.0f} km" for line in frontier["lines"]
    )


DATED_USER = (
    "name,lat,lon,since,until\n"
    "Old,54.0,24.0,2015,2019-06\n"
    "Mid,54.2,24.5,2018-03,\n"
    "New,54.4,25.0,2023-05-02,\n"
    "Always,54.6,23.0,,\n"
)


def test_a_dated_user_file_ships_every_row_with_its_days_for_the_slider(map_layers, tmp_path):
    dated = tmp_path / "dated.csv"
    dated.write_text(DATED_USER, encoding="utf-8")
    plain = tmp_path / "plain.csv"
    plain.write_text("name,lat,lon\nP1,53.5,23.5\n", encoding="utf-8")
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[dated, plain])))
    user = sites(data)["dated"]
    assert user["p"]["names"] == ["Old", "Mid", "New", "Always"]
    # partial dates as their first and last days, as the shipped layers' are
    assert user["since"] == ["2015-01-01", "2018-03-01", "2023-05-02", ""]
    assert user["until"] == ["2019-06-30", "", "", ""]
    assert "since" not in sites(data)["plain"]  # no dates: shown on every day
    # the counts of the build date: Mid and Always of the dated file, and P1
    assert "· 3 added points in 2 files" in data["subtitle"]
    # distance lines for every date's points (the slider shows those of the day)
    tips = [line[5] for ov in data["overlays"] if ov["type"] == "distances" for line in ov["lines"]]
    assert {tip.split(":")[0] for tip in tips} >= {"Old", "Mid", "New", "Always", "P1"}
    # a map of the build date only keeps the points active on it, with no days
    fixed = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[dated], timeline=False)))
    assert sites(fixed)["dated"]["p"]["names"] == ["Mid", "Always"]


def test_a_user_file_with_only_since_or_until_is_dated(map_layers, tmp_path):
    since = tmp_path / "since.csv"
    since.write_text("name,lat,lon,since\nA,54.0,24.0,2016\nB,54.1,24.1,2024-01\n", "utf-8")
    until = tmp_path / "until.csv"
    until.write_text("name,lat,lon,until\nC,54.0,24.0,2019\nD,54.1,24.1,\n", "utf-8")
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[since, until])))
    assert sites(data)["since"]["since"] == ["2016-01-01", "2024-01-01"]
    assert sites(data)["since"]["until"] == ["", ""]
    assert sites(data)["until"]["since"] == ["", ""]
    assert sites(data)["until"]["until"] == ["2019-12-31", ""]


def test_a_big_dated_user_file_keeps_every_date_on_its_canvas(map_layers, tmp_path):
    """A file drawn on a canvas (more points than ``bulk_threshold``) is dated by the slider too.

    Its points of every date are in the binary member with their groups' days; the label
    counts the map date's.
    """
    dated = tmp_path / "dated.csv"
    dated.write_text(DATED_USER, encoding="utf-8")
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, add=[dated], bulk_threshold=3)))
    user = sites(data)["dated"]
    assert user["bulk"]
    assert user["pts"]["n"] == 4
    days = sorted(map(tuple, user["pts"]["days"]))
    assert days == sorted(
        {("2015-01-01", "2019-06-30"), ("2018-03-01", ""), ("2023-05-02", ""), ("", "")}
    )
    assert "(2)" in user["label"]  # Mid and Always on the map date


def test_changes_since_marks_the_compare_date_in_the_payload(map_layers):
    data = payload(maps.render_html(maps.build_map(as_of=AS_OF, changes_since="2019-01-01")))
    assert data["changesSince"] == "2019-01-01"
    assert "changesSince" not in payload(maps.render_html(maps.build_map(as_of=AS_OF)))
    with pytest.raises(InputError, match="need the timeline and a date before"):
        maps.build_map(as_of=AS_OF, changes_since=AS_OF)
    with pytest.raises(InputError, match="need the timeline"):
        maps.build_map(as_of=AS_OF, changes_since="2019-01-01", timeline=False)


def decoded(codes: list[int], scale: int) -> np.ndarray:
    """Lon/lat of delta codes, as the map's script decodes them."""
    return np.cumsum(np.asarray(codes, dtype=np.int64).reshape(-1, 2), axis=0) / scale


@pytest.fixture(scope="module")
def osm_and_ne_maps() -> dict[str, dict]:
    """The shipped layers' map on one date, measured to OSM and to Natural Earth."""
    return {
        source: payload(maps.render_html(maps.build_map(as_of="2026-06-01", borders=source)))
        for source in ("osm", "naturalearth")
    }


def test_the_analysis_frontier_is_shipped_only_when_it_is_not_the_display(osm_and_ne_maps):
    """OSM: the detail lines (every timeline state's pairs) and fills; Natural Earth: none."""
    ne = osm_and_ne_maps["naturalearth"]
    assert "detail" not in ne["overlays"][0]
    assert all("detail" not in state for state in ne["timeline"]["states"])
    osm = osm_and_ne_maps["osm"]
    detail = osm["overlays"][0]["detail"]
    assert detail["zoom"] == _overlays.DETAIL_ZOOM
    assert detail["scale"] == _payload.DETAIL_SCALE
    assert "EST-RUS" in detail["shown"]
    assert "FIN-RUS" in detail["shown"]
    for state in osm["timeline"]["states"]:
        assert state["detail"]
        assert set(state["detail"]) <= set(detail["pairs"])
        assert set(state["detail"]) == set(state["pairs"])  # the same parts, OSM's lines
    codes = {row[0] for row in detail["fills"]}
    assert {"EST", "RUS", "LTU", "BLR"} <= codes


def test_the_analysis_lines_lie_on_the_osm_frontier(osm_and_ne_maps):
    """Every vertex drawn is on the OSM frontier to within the encoding; not on Natural Earth's."""
    import shapely

    from geo import borders

    detail = osm_and_ne_maps["osm"]["overlays"][0]["detail"]
    osm = borders.frontier("RUS,BLR", "NATO", as_of="2026-06-01", borders="osm").set_index("pair")
    ne = borders.frontier("RUS,BLR", "NATO", as_of="2026-06-01", borders="naturalearth")
    ne = ne.set_index("pair")
    step = 0.5 / detail["scale"] * math.sqrt(2)  # the rounding of one vertex, degrees
    for pair, lines in detail["pairs"].items():
        xy = np.vstack([decoded(c, detail["scale"]) for line in lines for c in line["coords"]])
        points = shapely.points(xy)
        to_osm = shapely.distance(points, osm.geometry[pair])
        assert to_osm.max() <= step + 1e-9, pair
        assert np.median(shapely.distance(points, ne.geometry[pair])) > 20 * step, pair
        km = float(osm.loc[pair, "length_km"])
        assert lines[0]["tooltip"] == f"{pair.replace('-', '–')} frontier: {km:,.0f} km"


def test_the_detail_zoom_is_where_the_two_frontiers_differ_visibly():
    """At DETAIL_ZOOM the median NE-to-OSM offset is over half the line's width, not before."""
    import shapely
    from pyproj import Geod as _Geod

    from geo import borders

    osm = borders.frontier("RUS,BLR", "NATO", as_of="2026-06-01", borders="osm").set_index("pair")
    ne = borders.frontier("RUS,BLR", "NATO", as_of="2026-06-01", borders="naturalearth")
    ne = ne.set_index("pair")
    geod, offsets = _Geod(ellps="WGS84"), []
    for pair in osm.index:
        points = shapely.line_interpolate_point(
            shapely.line_merge(osm.geometry[pair]), np.linspace(0, 1, 500), normalized=True
        )
        ends = shapely.get_coordinates(shapely.shortest_line(points, ne.geometry[pair]))
        ends = ends.reshape(-1, 2, 2)
        offsets.append(geod.inv(ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1])[2])
    median_m = float(np.median(np.concatenate(offsets)))
    assert 700 < median_m < 1500

    def pixels(zoom: float) -> float:  # Web Mercator metres per pixel at 56° N
        return median_m / (156543.03 * math.cos(math.radians(56)) / 2**zoom)

    width = 4  # the frontier's weight in the payload
    assert pixels(_overlays.DETAIL_ZOOM) > width / 2 > pixels(_overlays.DETAIL_ZOOM - 1)


def test_a_popup_shows_a_site_that_lies_outside_its_host_country():
    """located_in on the analysis borders: named in the host row only when it differs."""
    names = {"EST": "Estonia", "RUS": "Russia"}
    assert _popups.host_text({"country": "EST", "located_in": "EST"}, names) == "Estonia (EST)"
    assert _popups.host_text({"country": "EST", "located_in": "RUS"}, names) == (
        "Estonia (EST); the point lies in Russia (RUS) on the borders measured to"
    )
    assert _popups.host_text({"country": "EST", "located_in": ""}, names) == (
        "Estonia (EST); the point lies in no country's territory on the borders measured to"
    )
    assert _popups.host_text({"country": "EST"}, names) == "Estonia (EST)"
    assert _popups.host_text({"located_in": "EST"}, names) == ""  # a user point: see Side


def test_shipped_sites_popups_name_the_country_they_lie_in_when_not_their_host():
    """Every shipped site: its host row adds located_in (OSM) exactly where that differs."""
    from geo import distance

    data = payload(maps.render_html(maps.build_map(as_of="2026-06-01", timeline=False)))
    names = _basemap.display_names()
    frame = layers.load_layers(as_of="2026-06-01")
    hosts = dict(zip(frame["name"], frame["country"], strict=True))
    checked = 0
    for overlay in sites(data).values():
        if overlay["user"]:
            continue
        where = distance.located_in(overlay["lon"], overlay["lat"])
        for i, name in enumerate(overlay["p"]["names"]):
            host = popup_rows(overlay, i)["Host country"]
            country = hosts[name]
            if where[i] == country:
                assert host == _popups.place_name(country, names)
            else:
                lies = _popups.place_name(where[i], names) or "no country's territory"
                assert host.endswith(f"lies in {lies} on the borders measured to"), name
            checked += 1
    assert checked > 50


def test_no_fill_corrections_where_tiles_show_through_the_fills():
    """With online tiles the fills are translucent: the lines are corrected, not the fills."""
    plain = payload(maps.render_html(maps.build_map(as_of="2026-06-01", timeline=False)))
    assert plain["overlays"][0]["detail"]["fills"]
    tiled = maps.build_map(as_of="2026-06-01", timeline=False, tiles="OpenStreetMap.Mapnik")
    detail = payload(maps.render_html(tiled))["overlays"][0]["detail"]
    assert detail["pairs"] == plain["overlays"][0]["detail"]["pairs"]
    assert "fills" not in detail
