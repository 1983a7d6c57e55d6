"""Tests of geo.labels: labels that do not collide, numbers for what does not fit, the key."""

import itertools

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from geo import labels


def test_place_labels_numbers_what_does_not_fit():
    fig = Figure(figsize=(2, 2), dpi=72)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    points = np.array([[5.0, 5.0]] * 12)
    texts = [f"A rather long site name number {i}" for i in range(12)]
    placed, numbered = labels.place_labels(ax, points, texts)
    assert len(placed) == 12
    assert numbered, "some labels must fall back to numbers"
    assert all(p is not None for p in placed), "every point gets its name or a number"
    for n, i in enumerate(numbered, start=1):
        assert placed[i].get_text() == str(n)
    renderer = fig.canvas.get_renderer()
    # Twelve points in one spot leave no free place: leader lines may cross, texts may not.
    boxes = [Text.get_window_extent(p, renderer) for p in placed]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_place_labels_uses_leader_lines_when_the_near_places_are_taken():
    fig = Figure(figsize=(3, 3), dpi=72)  # 1 pt = 1 pixel
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 216)
    ax.set_ylim(0, 216)
    # The point is at pixel (108, 108). Everything within 15 pt is taken but for a thin
    # corridor to the right: a leader line fits through it, a label does not.
    obstacles = [
        Bbox.from_extents(40, 110, 123, 170),
        Bbox.from_extents(40, 46, 123, 106),
        Bbox.from_extents(40, 100, 104, 116),
    ]
    placed, numbered = labels.place_labels(
        ax, np.array([[108.0, 108.0]]), ["Name"], obstacles=obstacles
    )
    assert numbered == []
    label = placed[0]
    assert label.get_text() == "Name"
    assert label.arrow_patch is not None
    box = Text.get_window_extent(label, fig.canvas.get_renderer())
    assert not any(box.overlaps(o) for o in obstacles)


def _figure(width_in: float = 4.0, height_in: float = 3.0) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def test_the_key_is_balanced_numbered_down_first_and_inside_the_width():
    fig = _figure()
    entries = [(f"id-{i}", f"Site {i} " + "long name " * (i % 3)) for i in range(1, 13)]
    key = labels.key_layout(fig, entries, fontsize=labels.KEY_FONT)
    numbers = [number for column in key.columns for number, _name, _top in column]
    assert numbers == list(range(1, 13))  # down the first column, then the next
    assert len(key.columns) > 1
    tops = [[top for _n, _name, top in column] for column in key.columns]
    assert all(column == sorted(column) and column[0] == 0 for column in tops)
    assert len(key.columns) * key.col_width_px <= fig.bbox.width


def test_draw_key_shrinks_its_font_to_fit_the_room():
    fig = _figure()
    ax = fig.add_axes((0.01, 0.5, 0.98, 0.45))
    entries = [(f"id-{i}", f"Training area number {i} with a long name") for i in range(24)]
    room_px = 1.0 * fig.dpi - labels.KEY_GAP_PT * fig.dpi / 72
    assert labels.key_layout(fig, entries, fontsize=labels.KEY_FONT).height_px > room_px
    labels.draw_key(fig, ax, entries, key_in=1.0)
    drawn = {t.get_gid(): t for t in fig.texts}
    assert {f"key-number-id-{i}" for i in range(24)} <= set(drawn)
    assert drawn["key-name-id-0"].get_text().startswith("Training area")
    assert drawn["key-number-id-0"].get_fontsize() < labels.KEY_FONT
    bottom = min(t.get_window_extent(fig.canvas.get_renderer()).y0 for t in fig.texts)
    top_of_room = ax.get_window_extent(fig.canvas.get_renderer()).y0
    assert bottom >= top_of_room - 1.0 * fig.dpi - 1  # within the room given (1 inch)


def _crowded_axes(dpi: float = 100) -> tuple[Figure, object, np.ndarray, list[str]]:
    fig = Figure(figsize=(3, 3), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    rng = np.random.default_rng(5)
    points = rng.uniform(3, 7, size=(30, 2))
    texts = [f"Base number {i} by the lake" for i in range(30)]
    return fig, ax, points, texts


def _placed(labels_: list, numbered: list[int]) -> list[tuple]:
    return [
        (t.get_text(), t.xyann, t.get_ha(), t.get_va()) if t is not None else None for t in labels_
    ] + [tuple(numbered)]


def test_measuring_remembers_texts_and_places_the_same(monkeypatch):
    """Inside measuring() a text is measured once; the labels and the key come out the same."""
    fig, ax, points, texts = _crowded_axes()
    plain = _placed(*labels.place_labels(ax, points, texts))
    entries = [(f"id-{i}", f"Training area number {i} with a long name") for i in range(24)]
    plain_key = labels.key_layout(fig, entries, fontsize=labels.KEY_FONT)

    calls = []
    original = labels._remembered
    widths = []
    measure_line = RendererAgg.get_text_width_height_descent

    def counting(key, measure):
        def measured():
            calls.append(key)
            return measure()

        return original(key, measured)

    def counting_lines(self, text, prop, ismath):
        widths.append((text, prop.get_size(), prop.get_weight()))
        return measure_line(self, text, prop, ismath)

    monkeypatch.setattr(labels, "_remembered", counting)
    with labels.measuring():
        fig2, ax2, _, _ = _crowded_axes()
        again = _placed(*labels.place_labels(ax2, points, texts))
        monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", counting_lines)
        first_key = labels.key_layout(fig2, entries, fontsize=labels.KEY_FONT)
        measured_once = len(widths)
        second_key = labels.key_layout(fig2, entries, fontsize=labels.KEY_FONT)
    assert again == plain
    assert calls
    assert len(calls) == len(set(calls)), "each label is measured once"
    for key in (first_key, second_key):
        assert key.columns == plain_key.columns
        assert key.height_px == plain_key.height_px
    # (the key's first line height is a probe text's extent, measured each layout)
    assert len(set(widths)) >= measured_once - 2, "each key text is measured once"
    assert len(widths) - measured_once <= 2, "the second key layout measured no key text"
    widths.clear()
    labels.key_layout(fig2, entries, fontsize=labels.KEY_FONT)  # outside: measured again
    assert len(widths) >= measured_once - 2


def test_boxes_count_matches_the_pairwise_test():
    rng = np.random.default_rng(7)
    lo = rng.uniform(0, 100, size=(400, 2))
    stored = np.column_stack([lo, lo + rng.uniform(0.5, 6, size=(400, 2))])
    stored[:3] = [[np.nan, 1, 2, 3], [-np.inf, 0, -np.inf, 100], [-np.inf, 20, np.inf, 21]]
    # Many boxes are first narrowed down by their left sides, a few are not.
    for some in (stored, stored[:100]):
        boxes = labels._Boxes(some)
        for _ in range(200):
            q_lo = rng.uniform(0, 100, size=(int(rng.integers(1, 30)), 2))
            query = np.column_stack([q_lo, q_lo + rng.uniform(0.5, 4, size=q_lo.shape)])
            if rng.random() < 0.2:
                query[0, 0] = np.nan  # a box with a NaN side touches nothing
            b, q = some[:, None, :], query
            touch = (b[..., 0] < q[:, 2]) & (b[..., 2] > q[:, 0]) & (b[..., 1] < q[:, 3])
            touch &= b[..., 3] > q[:, 1]
            assert boxes.count(query) == int(touch.any(axis=1).sum())
            assert boxes.each(query).tolist() == touch.sum(axis=0).tolist()
            if rng.random() < 0.1:
                boxes.add(query[~np.isnan(query).any(axis=1)])
                some = boxes.array


def test_wrapping_by_sums_of_word_widths_gives_the_measured_lines():
    """The key wraps by adding word widths; it must break where measuring each line would."""

    from geo.layers import load_layers

    fig = _figure(8.0, 3.0)
    renderer = fig.canvas.get_renderer()
    names = sorted(set(load_layers()["name"]))
    names += [
        "Very long name of a training ground with a (bracketed) part, a 'quoted' word and W.A.V.E.",
        "Łask air base — 32. Baza Lotnictwa Taktycznego, Jagodne / Ягодное №7",
        'AVAVAV TyTyTy Wa.Wa, "fi" ffi Tj jT f/ /f ʼ‘’“” ... iii WWW',
    ]
    with labels.measuring():  # each text measured once
        _compare_wrapping(names, renderer)


def _compare_wrapping(names: list[str], renderer: object) -> None:
    from matplotlib.font_manager import FontProperties

    for size, weight in ((labels.KEY_FONT, "normal"), (4.75, "normal"), (7.0, "bold")):
        font = FontProperties(family="DejaVu Sans", size=size, weight=weight)

        measure = labels._line_widths(renderer, font)

        for name in names:
            text = labels.figure_text(name, limit=labels.KEY_CHARS)
            for width_px in np.linspace(20, 700, 25):
                assert labels._wrap_px(text, width_px, measure) == labels._wrap_measured(
                    text.split(), width_px, measure
                ), (name, size, width_px)


def test_wrapping_measures_lines_in_context_where_letters_join():
    """Marks and right-to-left letters are laid out in context: their lines are measured."""
    calls: list[str] = []

    def measure(text: str) -> float:
        calls.append(text)
        return 10.0 * len(text)

    for text in ("cafe\u0301 au lait noir", "\u05e9\u05dc\u05d5\u05dd base name here"):
        calls.clear()
        wrapped = labels._wrap_px(text, 95, measure)
        assert len(calls) == len(text.split()) - 1  # each line with its next word, whole
        assert wrapped == labels._wrap_measured(text.split(), 95, measure)
    calls.clear()
    wrapped = labels._wrap_px("plain words of a longer name", 95, measure)
    assert "plain words of a" not in calls  # far over the width: not measured whole
    assert wrapped == "plain\nwords of\na longer\nname"
    assert wrapped == labels._wrap_measured(
        ["plain", "words", "of", "a", "longer", "name"], 95, measure
    )


def test_what_a_space_adds_between_two_letters_is_well_within_the_margin():
    """The join of two letters, from each letter's part, is what the pair measures."""
    from matplotlib.font_manager import FontProperties

    renderer = _figure().canvas.get_renderer()
    letters = "aAfjTVWy.,'\"(/)1Łżй—ʼ"
    for size in (labels.KEY_FONT, 4.0):
        font = FontProperties(family="DejaVu Sans", size=size)

        measure = labels._line_widths(renderer, font)

        with labels.measuring():
            for a, b in itertools.product(letters, repeat=2):
                pair = measure(f"{a} {b}") - measure(a) - measure(b)
                assert abs(labels._join_px(a, b, measure) - pair) < labels._WRAP_SURE_PX / 4
