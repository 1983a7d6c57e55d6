import html
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import matplotlib.colors
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from geo import figures, layers
from geo._errors import InputError
from geo.cli import main
from geo.labels import KEY_CHARS, LABEL_CHARS, LEGEND_CHARS, TITLE_CHARS
from geo.styles import layer_styles

AS_OF = "2023-01-01"
SMALL = (12.0, 15.0)


@pytest.fixture
def mini_figure(mini_layers):
    return figures.map_figure(as_of=AS_OF, size_cm=SMALL, dpi=80)


def test_map_figure_draws_every_layer_legend_and_furniture(mini_figure):
    svg = figures.figure_bytes(mini_figure, "svg").decode()
    active = layers.load_layers(as_of=AS_OF)
    for name in active["layer"].unique():
        assert f'id="layer-{name}"' in svg
    for gid in ("legend", "frontier", "scale-bar-0", "north-arrow", "title", "attribution"):
        assert f'id="{gid}"' in svg, gid
    assert 'id="territory-west"' in svg
    assert 'id="territory-east"' in svg


def test_each_layer_draws_its_active_sites(mini_figure):
    active = layers.load_layers(as_of=AS_OF)
    ax = mini_figure.axes[0]
    drawn = {}
    for collection in ax.collections:
        gid = collection.get_gid() or ""
        if gid.startswith("layer-"):
            name = re.sub(r"(-reported|-claimed)?(-not-active)?$", "", gid.removeprefix("layer-"))
            drawn[name] = drawn.get(name, 0) + len(collection.get_offsets())
    assert drawn == active["layer"].value_counts().to_dict()


def test_legend_names_every_layer_with_its_count(mini_figure):
    labels = [t.get_text() for t in mini_figure.axes[0].get_legend().get_texts()]
    active = layers.load_layers(as_of=AS_OF)
    titles = figures.layer_titles(active["layer"].unique())
    for name, count in active["layer"].value_counts().items():
        assert f"{titles[name]} ({count})" in labels
    assert any(label.startswith("Frontier") for label in labels)
    assert "300 km" in labels


def test_legend_uses_the_shared_styles(mini_layers, mini_figure):
    styles = layer_styles(layers.load_layers())
    ax = mini_figure.axes[0]
    for collection in ax.collections:
        gid = collection.get_gid() or ""
        if gid.startswith("layer-") and not gid.endswith("-not-active"):
            style = styles[gid.removeprefix("layer-")]
            face = collection.get_facecolor()[0]
            assert tuple(np.round(face[:3] * 255)) == tuple(
                int(style.colour[i : i + 2], 16) for i in (1, 3, 5)
            )


def test_labels_do_not_collide(mini_figure):
    ax = mini_figure.axes[0]
    renderer = mini_figure.canvas.get_renderer()
    labels = [t for t in ax.texts if (t.get_gid() or "").startswith("label-")]
    active = layers.load_layers(as_of=AS_OF)
    assert {t.get_gid() for t in labels} == {f"label-{i}" for i in active["id"]}
    boxes = [t.get_window_extent(renderer) for t in labels]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def _crowded_sites(n: int = 24):
    """The mini layers plus a tight cluster of long-named sites (like the Żagań area)."""
    active = layers.load_layers(as_of=AS_OF)
    template = active[active["id"] == "west-bg"].iloc[0]
    rng = np.random.default_rng(7)
    lon = 18.0 + rng.uniform(-0.6, 0.6, n)
    lat = 52.0 + rng.uniform(-0.4, 0.4, n)
    # three markers a few pixels apart, in a row, as at Żagań, Świętoszów and Bolesławiec
    lon[:3], lat[:3] = [18.0, 18.08, 18.16], [52.0, 51.94, 51.88]
    rows = []
    for i in range(n):
        row = template.copy()
        row["id"] = f"crowd-{i}"
        row["name"] = f"Training area number {i} with a rather long name"
        row["geometry"] = shapely.Point(lon[i], lat[i])
        rows.append(row)
    crowd = gpd.GeoDataFrame(rows, geometry="geometry", crs=active.crs)
    return gpd.GeoDataFrame(pd.concat([active, crowd], ignore_index=True), crs=active.crs)


@pytest.fixture(scope="module")
def crowded(request):
    """The crowded map, drawn once for the tests that only look at it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLANKMAP_LAYERS_DIR", str(request.path.parent / "data" / "layers_mini"))
        sites = _crowded_sites()
        return sites, figures.map_figure(sites, as_of=AS_OF, size_cm=SMALL, dpi=80)


def _by_gid(fig) -> dict[str, object]:
    texts = [*fig.texts, *fig.axes[0].texts]
    return {t.get_gid(): t for t in texts if t.get_gid()}


def test_every_site_gets_its_name_or_a_number_listed_in_the_key(crowded):
    sites, fig = crowded
    texts = _by_gid(fig)
    numbers = []
    for fid, name in zip(sites["id"], sites["name"], strict=True):
        label = texts.get(f"label-{fid}")
        assert label is not None, f"{fid} has neither a name nor a number"
        if label.get_text().isdigit():
            assert texts[f"key-number-{fid}"].get_text() == label.get_text()
            assert " ".join(texts[f"key-name-{fid}"].get_text().split()) == name
            numbers.append(int(label.get_text()))
        else:
            assert " ".join(label.get_text().split()) == name
    assert numbers, "the crowd must need numbers"
    assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_key_of_numbers_is_below_the_map_and_covers_nothing(crowded):
    sites, fig = crowded
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    key = [t for gid, t in _by_gid(fig).items() if gid.startswith("key-")]
    assert key
    boxes = [t.get_window_extent(renderer) for t in key]
    frame = ax.get_window_extent(renderer)
    half = 7 * fig.dpi / 72 / 2
    markers = [
        Bbox.from_extents(x - half, y - half, x + half, y + half)
        for x, y in ax.transData.transform(figures._anchor_points(sites))
    ]
    attribution = _by_gid(fig)["attribution"].get_window_extent(renderer)
    for box in boxes:
        assert box.y1 < frame.y0, "the key goes below the map"
        assert fig.bbox.x0 <= box.x0
        assert box.x1 <= fig.bbox.x1
        assert not box.overlaps(attribution)
        assert not any(box.overlaps(m) for m in markers)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_legend_hides_no_site(crowded):
    sites, fig = crowded
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    for x, y in ax.transData.transform(figures._anchor_points(sites)):
        assert not legend.contains(x, y)


def test_rings_around_russian_sites_in_belarus(mini_figure):
    gids = {p.get_gid() for p in mini_figure.axes[0].patches}
    assert "ring-east-radar-300" in gids


def test_ring_sites_and_radii(mini_layers):
    fig = figures.map_figure(
        as_of=AS_OF, size_cm=SMALL, dpi=60, rings_km=(100, 500), ring_sites=["west-bg"]
    )
    gids = {p.get_gid() for p in fig.axes[0].patches}
    assert {"ring-west-bg-100", "ring-west-bg-500"} <= gids
    assert "ring-east-radar-300" not in gids
    with pytest.raises(InputError, match=r"ring site.*nowhere"):
        figures.map_figure(as_of=AS_OF, size_cm=SMALL, dpi=60, ring_sites=["nowhere"])


@pytest.mark.parametrize("radius", [-5, 0, 99_999, float("nan"), float("inf")])
def test_ring_radii_out_of_range_raise(mini_layers, radius):
    with pytest.raises(InputError, match="ring radius"):
        figures.map_figure(as_of=AS_OF, size_cm=SMALL, dpi=60, rings_km=[radius])


def test_ring_lonlat_is_geodesic():
    from pyproj import Geod

    ring = figures.ring_lonlat(26.0, 53.0, 300_000, n_points=16)
    assert np.allclose(ring[0], ring[-1])
    dist = Geod(ellps="WGS84").inv(np.full(17, 26.0), np.full(17, 53.0), ring[:, 0], ring[:, 1])[2]
    assert np.allclose(dist, 300_000, atol=0.01)


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_save_figure_formats_are_reproducible(mini_figure, tmp_path, suffix, magic):
    first = figures.save_figure(mini_figure, tmp_path / f"a{suffix}")
    second = figures.save_figure(mini_figure, tmp_path / f"b{suffix}")
    data = first.read_bytes()
    assert data.startswith(magic)
    assert data == second.read_bytes()
    assert 10_000 < len(data) < 3_000_000
    assert not list(tmp_path.glob(".*.tmp"))


def test_png_size_follows_size_and_dpi(mini_figure, png_size):
    width, height = png_size(figures.figure_bytes(mini_figure, "png", dpi=100))
    assert (width, height) == (int(12 / 2.54 * 100), int(15 / 2.54 * 100))


def test_default_size_fits_a4_text_width():
    width_cm, height_cm = figures.A4_SIZE_CM
    assert width_cm <= 18.0
    assert height_cm <= 25.0


def test_bad_output_and_size(mini_figure, tmp_path):
    with pytest.raises(InputError, match=r"must end in \.png, \.svg or \.pdf"):
        figures.save_figure(mini_figure, tmp_path / "map.jpg")
    with pytest.raises(InputError, match="does not exist"):
        figures.save_figure(mini_figure, tmp_path / "nope" / "map.png")
    with pytest.raises(InputError, match="out of range"):
        figures.map_figure(size_cm=(1, 1))
    with pytest.raises(InputError, match="dpi"):
        figures.map_figure(dpi=5)


def test_empty_date_still_draws(mini_layers):
    fig = figures.map_figure(as_of="1990-01-01", size_cm=SMALL, dpi=50)
    assert fig.axes[0].get_legend() is not None


def _analysis() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["Alpha", "Bravo", "Charlie"],
            "layer": ["east", "west", "west"],
            "operator": ["RUS", "NATO", "USA"],
            "side": ["RUS/BLR", "NATO", "NATO"],
            "opposing_distance_m": [150_000.0, 20_000.0, 400_000.0],
            "opposing_distance_min_m": [149_000.0, 19_000.0, 399_000.0],
            "opposing_distance_max_m": [151_000.0, 21_000.0, 401_000.0],
        }
    )


def test_distance_chart_sorts_bars_nearest_on_top():
    fig = figures.distance_chart(_analysis(), as_of=AS_OF, dpi=60)
    ax = fig.axes[0]
    bars = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("bar-")}
    assert set(bars) == {"bar-a", "bar-b", "bar-c"}
    order = sorted(bars, key=lambda g: -bars[g].get_y())
    assert order == ["bar-b", "bar-a", "bar-c"]
    assert bars["bar-c"].get_width() == pytest.approx(400)
    assert ax.get_legend().get_gid() == "legend"
    svg = figures.figure_bytes(fig, "svg").decode()
    assert 'id="bar-a"' in svg


def test_distance_chart_needs_the_analysis_columns():
    with pytest.raises(InputError, match="opposing_distance_m"):
        figures.distance_chart(pd.DataFrame({"id": [], "name": [], "layer": []}))


# --- every text is drawn literally, in every format -----------------------------------------


_SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def _svg_texts(svg: bytes) -> dict[str, str]:
    """The texts of each SVG group with an id: matplotlib writes ``<text>`` elements.

    Whitespace is removed (labels are wrapped). The texts are escaped again as in the SVG
    source (``&``, ``<`` and ``>``), so that :func:`_as_in_svg` finds them.
    """
    root = ET.fromstring(svg)  # well-formed XML, or this raises

    def texts(element: ET.Element) -> str:
        found = ("".join(t.itertext()) for t in element.iter(_SVG_TEXT))
        return _squeeze(html.escape("".join(found), quote=False))

    out = {g.get("id"): texts(g) for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id")}
    out[""] = texts(root)
    return out


def _squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def _as_in_svg(text: str) -> str:
    """A text as the SVG holds it: &, < and > escaped, no whitespace."""
    return _squeeze(html.escape(text, quote=False))


@pytest.mark.parametrize(
    ("text", "drawn"),
    [
        ("Price $x^$ and $5bn vs $10bn", "Price $x^$ and $5bn vs $10bn"),
        ("a\ufeffb", "ab"),
        ("bell\x07 esc\x1b[31m", "bell\\x07 esc\\x1b[31m"),
        ("nul\x00 vt\x0b del\x7f nel\x85", "nul\\x00 vt\\x0b del\\x7f nel\\x85"),
        ("tab\tcr\rcrlf\r\nend", "tab cr\ncrlf\nend"),
        ("a\u2028b\u2029c", "a\nb\nc"),
        ("non\ufffe\uffff \ud800", "non\\ufffe\\uffff \\ud800"),
        ("{{7*7}} <b> %s {0} \\x41 \u202eevil\u202c \u200b", None),
    ],
)
def test_figure_text_is_literal_and_safe_in_every_format(text, drawn):
    assert figures.figure_text(text) == (text if drawn is None else drawn)


def test_figure_text_cuts_long_texts_with_an_ellipsis():
    assert figures.figure_text("x" * 10_000, limit=80) == "x" * 79 + "…"
    assert figures.figure_text("short", limit=80) == "short"


def _named_sites(names: list[str]) -> gpd.GeoDataFrame:
    sites = layers.load_layers(as_of=AS_OF)
    assert len(names) <= len(sites)
    for i, name in enumerate(names):
        sites.loc[i, "name"] = name
    return sites


TRICKY = ["Budget: $5bn vs $10bn", "a\ufeffb", "ctl\x01\x0b\x1b\x00\ufffe end", "Price $x^$"]


@pytest.mark.parametrize("fmt", figures.FORMATS)
def test_dollars_bom_and_control_characters_in_every_format(mini_layers, fmt):
    """$ is no mathtext (#6), U+FEFF does not break PDF (#13), the SVG stays XML (#14)."""
    fig = figures.map_figure(
        _named_sites(TRICKY[:3]), as_of=AS_OF, size_cm=SMALL, dpi=60, title=TRICKY[3]
    )
    chart = figures.distance_chart(
        _analysis().assign(name=TRICKY[:3]), as_of=AS_OF, dpi=60, title=TRICKY[3]
    )
    for figure in (fig, chart):
        data = figures.figure_bytes(figure, fmt)
        assert data[:4] in (b"\x89PNG", b"<?xm", b"%PDF")
        ax = figure.axes[0]
        texts = [*figure.texts, *ax.texts, *ax.get_legend().get_texts(), ax.title]
        if figure is chart:  # (the map's axis is off: it has no tick labels to draw)
            texts += ax.get_yticklabels()
        assert any("$" in t.get_text() for t in texts)
        assert not any(t.get_parse_math() for t in texts)
    if fmt == "svg":
        drawn = _svg_texts(figures.figure_bytes(fig, "svg"))
        assert drawn["title"] == _squeeze("Price $x^$")
        assert _squeeze("ctl\\x01\\x0b\\x1b\\x00\\ufffe end") in drawn[""]
        assert _squeeze("Budget: $5bn vs $10bn") in drawn[""]


def test_missing_glyphs_are_one_line_not_a_hundred_warnings(mini_layers, tmp_path, caplog):
    names = ["東京 北京 上海 广州 深圳", "देवनागरी लिपि", "ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ"]
    with caplog.at_level("WARNING", logger="geo"):
        fig = figures.map_figure(_named_sites(names), as_of=AS_OF, size_cm=SMALL, dpi=60)
        for suffix in (".png", ".svg", ".pdf"):
            figures.save_figure(fig, tmp_path / f"map{suffix}")  # warnings would be errors
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 3  # one line per file written, the same line
    assert len(set(notices)) == 1
    assert re.fullmatch(
        r"the figure font \(DejaVu Sans\) has no glyph for \d+ characters "
        r"\(U\+[0-9A-F]{4}(, U\+[0-9A-F]{4}){7}, …\); they are drawn as boxes",
        notices[0],
    )


@pytest.mark.parametrize(
    ("size_cm", "dpi"), [((200, 200), 1200), ((130, 130), 1200), ((200, 200), 400), ((3, 200), 900)]
)
def test_the_pixel_count_is_capped(mini_layers, size_cm, dpi):
    """Each side and dpi in range, but a raster of many gigabytes: refused before drawing."""
    with pytest.raises(InputError, match=r"^figure of [\d,]+ x [\d,]+ px .* is too large: at most"):
        figures.map_figure(as_of=AS_OF, size_cm=size_cm, dpi=dpi)
    with pytest.raises(InputError, match=r"is too large"):
        figures.distance_chart(_analysis(), as_of=AS_OF, size_cm=size_cm, dpi=dpi)


def test_a4_at_1200_dpi_is_still_allowed(mini_figure):
    figures._check_size(figures.A4_SIZE_CM, 1200)
    with pytest.raises(InputError, match=r"is too large"):
        figures.figure_bytes(mini_figure, "png", dpi=5000)


def test_a_10000_character_name_is_cut_in_labels_key_legend_and_chart(mini_layers):
    long = "Very long site name " * 500
    sites = _named_sites([long, long])
    sites.loc[2, "layer"] = "x" * 500
    styles = layer_styles(sites)
    fig = figures.map_figure(sites, styles=styles, as_of=AS_OF, size_cm=SMALL, dpi=60, title=long)
    texts = {t.get_gid(): t.get_text() for t in [*fig.texts, *fig.axes[0].texts] if t.get_gid()}
    assert len(texts["title"]) == TITLE_CHARS
    first = sites["id"].iloc[:2].tolist()
    names = [
        v for k, v in texts.items() if k.removeprefix("label-").removeprefix("key-name-") in first
    ]
    assert len(names) >= 2
    for name in names:  # cut, then wrapped on a few lines
        assert len(name.replace("\n", " ")) <= KEY_CHARS
        assert name.endswith("…") or name.isdigit()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert max(len(t) for t in legend) <= LEGEND_CHARS + len(" (99)")
    assert len(figures.figure_bytes(fig, "svg")) < 2_000_000
    chart = figures.distance_chart(_analysis().assign(name=long), as_of=AS_OF, dpi=60)
    labels = [t.get_text() for t in chart.axes[0].get_yticklabels()]
    assert {len(t) for t in labels} == {52}


@pytest.mark.parametrize("kind", ["map", "distances"])
@pytest.mark.parametrize("fmt", figures.FORMATS)
def test_the_hostile_corpus_is_drawn_literally(hostile_layers, hostile_corpus, capsys, kind, fmt):
    """No crash, nothing run, every text where the figure draws it (SVG: as written)."""
    out = Path(f"hostile.{fmt}")
    title = next(text for tid, text in hostile_corpus if tid == "mathtext")
    args = ["figure", "-o", str(out), "--kind", kind, "--as-of", "2021-10-20", "--title", title]
    assert main([*args, "--width-cm", "17"]) == 0, capsys.readouterr().err
    assert not Path("PWNED").exists()
    data = out.read_bytes()
    assert data[:4] in (b"\x89PNG", b"<?xm", b"%PDF")
    if fmt != "svg":
        return
    drawn = _svg_texts(data)
    assert _as_in_svg("Layer {{7*7}} <b>bold</b> $x$") in drawn["legend"]
    for text_id, text in hostile_corpus:
        if kind == "map":
            key = drawn.get(f"key-name-hostile-{text_id}")
            shown = key or drawn[f"label-hostile-{text_id}"]
            limit = KEY_CHARS if key else LABEL_CHARS
        else:
            shown, limit = drawn[""], 52
        assert _as_in_svg(figures.figure_text(text, limit=limit)) in shown, text_id


def test_certainty_is_drawn_with_the_marks_of_the_map_and_explained(monkeypatch, data_dir):
    """Confirmed solid, reported and claimed lighter and dashed, planned/building hollow."""
    from geo.styles import mark_of

    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(data_dir / "maps_certainty"))
    fig = figures.map_figure(as_of=AS_OF, size_cm=SMALL, dpi=80)
    ax = fig.axes[0]
    drawn = {c.get_gid(): c for c in ax.collections if (c.get_gid() or "").startswith("layer-")}
    assert set(drawn) == {
        "layer-certainty",
        "layer-certainty-reported",
        "layer-certainty-claimed",
        "layer-certainty-not-active",
    }
    assert len(drawn["layer-certainty-not-active"].get_offsets()) == 2  # planned and building
    assert len(drawn["layer-certainty-reported"].get_offsets()) == 2
    colour = layer_styles(layers.load_layers())["certainty"].colour
    for gid, (status, confidence) in {
        "layer-certainty": ("active", "confirmed"),
        "layer-certainty-reported": ("active", "reported"),
        "layer-certainty-claimed": ("active", "claimed"),
        "layer-certainty-not-active": ("planned", "confirmed"),
    }.items():
        want = mark_of(status, confidence).mpl_kwargs(colour)
        face = drawn[gid].get_facecolor()[0]
        assert np.allclose(
            face, [*matplotlib.colors.to_rgb(want["facecolor"][0]), want["facecolor"][1]]
        )
        assert np.allclose(drawn[gid].get_linewidths()[0], want["linewidths"])
    alphas = {gid: drawn[gid].get_facecolor()[0][3] for gid in drawn}
    assert alphas["layer-certainty"] == 1.0 > alphas["layer-certainty-reported"]
    assert alphas["layer-certainty-reported"] > alphas["layer-certainty-claimed"]
    assert drawn["layer-certainty"].get_linestyle()[0][1] is None  # solid outline
    assert (
        drawn["layer-certainty-reported"].get_linestyle()
        != drawn["layer-certainty-claimed"].get_linestyle()
    )
    assert [t.get_text() for t in ax.texts].count("?") == 1  # the claimed site's badge
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1:5] == [
        "Solid: confirmed, or not rated",
        "Reported: credible press or OSINT, not officially confirmed",
        "Claimed: one party's claim or a single weak source",
        "Hollow: planned or under construction",
    ]


def test_no_certainty_key_when_every_site_is_solid(mini_layers):
    active = layers.load_layers(as_of=AS_OF)
    solid = active[active["status"].eq("active")]
    fig = figures.map_figure(solid, as_of=AS_OF, size_cm=SMALL, dpi=60, labels=False)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert not any(label.startswith(("Solid:", "Reported:", "Hollow:")) for label in labels)


def _arrow_direction(fig) -> tuple[np.ndarray, np.ndarray]:
    """The north arrow's base (tail middle) and unit direction, from its outline."""
    arrow = next(p for p in fig.axes[0].patches if p.get_gid() == "north-arrow")
    verts = np.unique(np.round(arrow.get_xy(), 3), axis=0)
    tail_mid = None
    best = -1.0
    for tip in verts:
        far = np.argsort(np.hypot(*(verts - tip).T))[-2:]
        length = np.hypot(*(verts[far].mean(axis=0) - tip))
        if length > best:
            best, tail_mid, tip_at = length, verts[far].mean(axis=0), tip
    direction = tip_at - tail_mid
    return tail_mid, direction / np.linalg.norm(direction)


def test_the_north_arrow_stands_among_the_sites_and_follows_their_meridians(mini_figure):
    from pyproj import Proj, Transformer

    base, (ux, uy) = _arrow_direction(mini_figure)
    to_lonlat = Transformer.from_crs(figures.DISPLAY_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(*base)
    proj = Proj(figures.DISPLAY_CRS)
    # pyproj: the angle from true north to grid north, clockwise positive; the arrow to
    # true north therefore leans by minus that angle from the grid's up.
    convergence = proj.get_factors(lon, lat).meridian_convergence
    lean = np.degrees(np.arctan2(-ux, uy))  # counter-clockwise from up, degrees
    assert abs(lean - convergence) < 0.2, (lean, convergence)
    active = layers.load_layers(as_of=AS_OF)
    lons, lats = active.geometry.representative_point().x, active.geometry.representative_point().y
    at_sites = proj.get_factors(lons.to_numpy(), lats.to_numpy()).meridian_convergence
    assert min(at_sites) - 0.5 <= convergence <= max(at_sites) + 0.5
    assert lons.min() <= lon <= lons.max()
    assert lats.min() - 1 <= lat <= lats.max() + 1


def test_the_svg_keeps_text_as_text_and_the_pdf_embeds_truetype(mini_figure):
    svg = figures.figure_bytes(mini_figure, "svg").decode()
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    name = layers.load_layers(as_of=AS_OF)["name"].iloc[0]
    assert any(name in t for t in texts), texts[:20]
    assert any(t.startswith("Military posture") for t in texts)
    pdf = figures.figure_bytes(mini_figure, "pdf")
    assert b"/FontFile2" in pdf  # TrueType program embedded
    assert b"/Subtype /Type3" not in pdf


def test_the_log_scale_spreads_the_sub_100_km_band():
    near = _analysis().assign(opposing_distance_m=[8_000.0, 40_000.0, 1_200_000.0])
    linear = figures.distance_chart(near, as_of=AS_OF, dpi=60).axes[0]
    log = figures.distance_chart(near, as_of=AS_OF, dpi=60, scale="log").axes[0]
    assert linear.get_xscale() == "linear"
    assert log.get_xscale() == "symlog"

    def share(ax, km):  # where km falls across the axis, 0 to 1
        x0, x1 = (ax.transData.transform([[v, 0]])[0, 0] for v in ax.get_xlim())
        return (ax.transData.transform([[km, 0]])[0, 0] - x0) / (x1 - x0)

    assert share(linear, 100) < 0.08
    assert share(log, 100) > 0.4  # the first 100 km take almost half the width
    assert share(log, 8) < share(log, 40) < share(log, 100)
    labels = [t.get_text() for t in log.get_xticklabels()]
    assert labels[:4] == ["0", "10", "20", "50"]
    assert "1,000" in labels
    assert "logarithmic above 10 km" in log.get_xlabel()
    renderer = log.figure.canvas.get_renderer()
    below = log.get_legend().get_window_extent(renderer).y1
    assert below < log.get_window_extent(renderer).y0  # the long bars leave it no room inside
    with pytest.raises(InputError, match="chart scale 'loud' is not one of linear, log"):
        figures.distance_chart(near, scale="loud")


# The inset locator map of region figures.
REGION = (21.0, 53.0, 26.0, 56.0)
REGION_DAY = "2025-06-01"


@pytest.fixture(scope="module")
def region_figure():
    """A figure of the shipped layers focused on ``--bbox 21,53,26,56``."""
    return figures.map_figure(as_of=REGION_DAY, region=REGION, size_cm=(12.0, 15.0), dpi=60)


def _locator(fig):
    found = [a for a in fig.axes[0].child_axes if a.get_gid() == "locator"]
    assert len(found) <= 1
    return found[0] if found else None


def _region_sites(box=REGION):
    from geo import regions

    return regions.within(layers.load_layers(as_of=REGION_DAY), box)


def test_a_region_figure_has_a_locator_with_the_region_outlined(region_figure):
    from pyproj import Transformer

    inset = _locator(region_figure)
    assert inset is not None
    (outline,) = [line for line in inset.lines if line.get_gid() == "locator-box"]
    x, y = outline.get_xydata().T
    to_lonlat = Transformer.from_crs(figures.DISPLAY_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    west, south, east, north = REGION
    assert (lon.min(), lat.min(), lon.max(), lat.max()) == pytest.approx(REGION, abs=1e-6)
    on_edge = (
        np.isclose(lon, west)
        | np.isclose(lon, east)
        | np.isclose(lat, south)
        | np.isclose(lat, north)
    )
    assert on_edge.all(), "every vertex of the outline lies on an edge of the box"
    assert (x[0], y[0]) == pytest.approx((x[-1], y[-1])), "the outline is closed"
    # An overview: the outline is a small part of it, inside it, over drawn countries.
    (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
    assert x0 < x.min() < x.max() < x1
    assert y0 < y.min() < y.max() < y1
    assert x1 - x0 > 5 * (x.max() - x.min())
    assert len(inset.collections) >= 2  # NATO members, the other side, the rest


def test_the_locator_covers_no_site_no_label_and_not_the_legend(region_figure):
    fig = region_figure
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    area = _locator(fig).get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    assert frame.x0 <= area.x0
    assert area.x1 <= frame.x1
    assert frame.y0 <= area.y0
    assert area.y1 <= frame.y1
    assert area.width < 0.3 * frame.width
    half = 7 * fig.dpi / 72 / 2
    for x, y in ax.transData.transform(figures._anchor_points(_region_sites())):
        if frame.contains(x, y):
            assert not area.overlaps(Bbox.from_extents(x - half, y - half, x + half, y + half))
    labels = [t for t in ax.texts if str(t.get_gid()).startswith("label-")]
    assert labels
    for label in labels:
        assert not area.overlaps(label.get_window_extent(renderer)), label.get_text()
    assert not area.overlaps(ax.get_legend().get_window_extent(renderer))


def _sites_at(points):
    template = _region_sites().iloc[0]
    rows = []
    for i, (lon, lat) in enumerate(points):
        row = template.copy()
        row["id"], row["name"] = f"corner-{i}", f"Site {i}"
        row["geometry"] = shapely.Point(lon, lat)
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


_TOP_RIGHT = [(25.7, 55.8), (25.3, 55.9), (25.8, 55.4)]
_BOTTOM_RIGHT = [(25.7, 53.2), (25.2, 53.1), (25.8, 53.6)]


@pytest.mark.parametrize(
    ("crowded_corners", "points"),
    [
        ({"top right"}, [*_TOP_RIGHT, (22.0, 54.0)]),
        ({"top right", "bottom right"}, [*_TOP_RIGHT, *_BOTTOM_RIGHT, (22.0, 54.5)]),
    ],
)
def test_the_locator_leaves_the_corners_where_the_sites_are(crowded_corners, points):
    fig = figures.map_figure(
        _sites_at(points), as_of=REGION_DAY, region=REGION, size_cm=(12.0, 15.0), dpi=50
    )
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    area = _locator(fig).get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    side = "right" if area.x0 > (frame.x0 + frame.x1) / 2 else "left"
    level = "top" if area.y0 > (frame.y0 + frame.y1) / 2 else "bottom"
    assert f"{level} {side}" not in crowded_corners
    half = 7 * fig.dpi / 72 / 2
    for x, y in ax.transData.transform(figures._anchor_points(_sites_at(points))):
        assert not area.overlaps(Bbox.from_extents(x - half, y - half, x + half, y + half))


def test_the_default_figure_has_no_locator(mini_figure):
    assert _locator(mini_figure) is None
    assert 'id="locator' not in figures.figure_bytes(mini_figure, "svg").decode()


def test_the_region_svg_keeps_text_and_the_locator_and_its_bytes(region_figure):
    svg = figures.figure_bytes(region_figure, "svg")
    text = svg.decode()
    assert 'id="locator"' in text
    assert 'id="locator-box"' in text
    root = ET.fromstring(text)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("Military posture") for t in texts)
    names = set(_region_sites()["name"])
    assert any(" ".join(t.split()) in names for t in texts)
    assert "<image" not in text, "nothing is rasterised"
    again = figures.map_figure(as_of=REGION_DAY, region=REGION, size_cm=(12.0, 15.0), dpi=60)
    assert figures.figure_bytes(again, "svg") == svg


def test_a_region_figure_names_its_sites_where_the_names_fit():
    from geo import regions

    box = regions.region("suwalki-gap").bbox
    fig = figures.map_figure(
        as_of=REGION_DAY, region=box, size_cm=figures.PAGE_SIZES_CM["a4"], dpi=110
    )
    ax = fig.axes[0]
    labels = {t.get_gid(): t for t in ax.texts if str(t.get_gid()).startswith("label-")}
    sites = _region_sites(box)
    assert set(labels) == {f"label-{fid}" for fid in sites["id"]}
    # At this scale a name finds a place (with a leader if need be) unless its site shares
    # its point with another site (the NATO Force Integration Unit and the German brigade's
    # staff in Vilnius); with the label settings of the whole flank, the 11th Army Corps at Gusev
    # was a number too.
    shared = sites[sites.geometry.duplicated(keep=False)]
    numbered = {gid.removeprefix("label-") for gid, t in labels.items() if t.get_text().isdigit()}
    assert numbered <= set(shared["id"])
    assert len(numbered) < len(shared)
    for fid, name in zip(sites["id"], sites["name"], strict=True):
        if fid not in numbered:
            assert " ".join(labels[f"label-{fid}"].get_text().split()) == name
    renderer = fig.canvas.get_renderer()
    # the texts themselves (an annotation's own extent holds its leader line)
    boxes = []
    for label in labels.values():
        label.update_positions(renderer)
        boxes.append(Text.get_window_extent(label, renderer))
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_a_region_figure_keeps_its_sites_out_from_under_the_legend():
    # Sites in the north of the box, one where the legend goes (top left): the region is not
    # moved (it stays whole in view), so the legend's room is added above it instead.
    points = [(21.4, 55.8), (23.0, 55.6), (24.5, 55.4), (25.5, 55.0)]
    fig = figures.map_figure(
        _sites_at(points), as_of=REGION_DAY, region=REGION, size_cm=(12.0, 15.0), dpi=50
    )
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    for x, y in ax.transData.transform(figures._anchor_points(_sites_at(points))):
        assert not legend.contains(x, y)


def test_a_tall_legend_goes_below_the_map_and_the_sites_span_the_frame():
    # Every shipped layer on the text-block page: a legend of some 16 rows in the map's top
    # left took 60 % of its height, and the sites were drawn small in the rest.
    fig = figures.map_figure(as_of="2026-12-03", size_cm=(17.0, 22.0), dpi=40)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    legend = ax.get_legend()
    box = legend.get_window_extent(renderer)
    assert box.y1 < frame.y0, "the legend goes below the map"
    assert frame.x0 <= box.x0
    assert box.x1 <= frame.x1
    assert legend._ncols >= 2
    x, y = ax.transData.transform(figures._anchor_points(layers.load_layers(as_of="2026-12-03"))).T
    assert (y.max() - y.min()) > 0.7 * frame.height or (x.max() - x.min()) > 0.7 * frame.width
    key = [t for gid, t in _by_gid(fig).items() if gid.startswith("key-")]
    assert key
    for text in key:
        assert text.get_window_extent(renderer).y1 < box.y0, "the key goes below the legend"
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[-1] == "300 km"  # the same entries in the same order, in columns
