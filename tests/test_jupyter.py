"""Rich display in Jupyter: the layer list, distance tables and the map, all offline and inert."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from geo import distance, layers, maps
from geo.display import LayerList, Table, distance_table, html_table
from geo.layers import LayerInfo

AS_OF = "2024-01-01"
#: A column name that is itself markup and a template.
HOSTILE_COLUMN = "<i onclick=window.__xss=9>{{ col }}</i>"
TABLE_TAGS = {"style", "table", "caption", "thead", "tbody", "tr", "th", "td"}


class _Cells(HTMLParser):
    """The tags of a table and the text of each of its header and body cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.cells: list[str] = []
        self.caption = ""
        self._into: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag in ("th", "td", "caption"):
            self._into = tag
            if tag != "caption":
                self.cells.append("")

    def handle_endtag(self, tag):
        if tag == self._into:
            self._into = None

    def handle_data(self, data):
        if self._into == "caption":
            self.caption += data
        elif self._into:
            self.cells[-1] += data


def _parse(markup: str) -> _Cells:
    parser = _Cells()
    parser.feed(markup)
    parser.close()
    return parser


def _rich(value: object) -> dict[str, str]:
    """What a Jupyter kernel sends for ``value`` as the last line of a cell."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    data, _ = shell.display_formatter.format(value)
    return data


def test_the_layer_list_is_a_list_and_a_table(mini_layers):
    infos = layers.list_layers()
    assert isinstance(infos, LayerList)
    assert isinstance(infos, list)
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    markup = _rich(infos)["text/html"]
    table = _parse(markup)
    assert table.tags <= TABLE_TAGS
    header, body = table.cells[:6], table.cells[6:]
    assert header == ["name", "title", "features", "first", "last", "description"]
    assert len(body) == 6 * len(infos)
    for row, info in zip(np.reshape(body, (-1, 6)).tolist(), infos, strict=True):
        assert row == [
            info.name,
            info.title,
            str(info.count),
            info.first,
            info.last,
            info.description,
        ]


def test_hostile_layer_texts_show_literally(hostile_layers, hostile_corpus):
    infos = layers.list_layers()
    table = _parse(infos._repr_html_())
    assert table.tags <= TABLE_TAGS
    assert "Layer {{7*7}} <b>bold</b> $x$" in table.cells
    assert "{% raw %} hostile layer for the tests" in table.cells
    # and every text of the corpus, in every column
    corpus = LayerList(
        LayerInfo(
            name=text, title=text, description=text, count=1, first=text, last=text, path=Path()
        )
        for _, text in hostile_corpus
    )
    markup = corpus._repr_html_()
    table = _parse(markup)
    assert table.tags <= TABLE_TAGS
    for (_, text), row in zip(hostile_corpus, np.reshape(table.cells[6:], (-1, 6)), strict=True):
        assert [row[0], row[1], row[3], row[4], row[5]] == [text] * 5
    assert "<script>" not in markup
    assert "<img" not in markup


def _measured(corpus: list[tuple[str, str]]) -> gpd.GeoDataFrame:
    texts = [text for _, text in corpus]
    rng = np.random.default_rng(4)
    pts = gpd.GeoDataFrame(
        {"id": texts, HOSTILE_COLUMN: texts, "coord_uncertainty_m": 250.0},
        geometry=gpd.points_from_xy(
            rng.uniform(21, 27, len(texts)), rng.uniform(52, 56, len(texts))
        ),
        crs=4326,
    )
    return distance.distances(pts, frontier="RUS,BLR:NATO", as_of=AS_OF)


def test_a_distance_table_shows_km_and_every_text_literally(hostile_corpus):
    result = _measured(hostile_corpus)
    table = distance_table(result)
    assert isinstance(table, Table)
    data = _rich(table)
    assert data["text/html"] == table.html
    assert data["text/plain"].startswith("<flankmap table:")
    parsed = _parse(table.html)
    assert parsed.tags <= TABLE_TAGS
    columns = [c for c in result.columns if c != "geometry"]
    width = len(columns)
    header = parsed.cells[:width]
    assert header[0] == "id"
    assert header[1] == HOSTILE_COLUMN
    assert "distance (km)" in header
    assert "distance_max (km)" in header
    rows = np.reshape(parsed.cells[width:], (-1, width))
    assert len(rows) == len(result)
    for row, (_, expected) in zip(rows, result.iterrows(), strict=True):
        assert row[0] == expected["id"]
        assert row[1] == expected[HOSTILE_COLUMN]
        assert row[header.index("distance (km)")] == f"{expected['distance_m'] / 1000:,.1f}"
        assert row[header.index("nearest_lat")] == f"{expected['nearest_lat']:.5f}"
        assert row[header.index("border")] == expected["border"]
    assert "geometry" not in header


def test_a_distance_table_caps_its_rows_and_blanks_nan():
    result = distance.to_territory([27.56, 24.0, 23.0], [53.90, 56.0, 53.0], "BLR", as_of=AS_OF)
    table = distance_table(result, max_rows=2)
    parsed = _parse(table.html)
    width = len(result.columns)
    rows = np.reshape(parsed.cells[width:], (-1, width))
    assert len(rows) == 2
    assert parsed.caption == "3 rows, the first 2 shown"
    bearing = list(result.columns).index("bearing_deg")
    assert rows[0][bearing] == ""  # inside Belarus: no bearing
    assert rows[1][bearing] == f"{result.loc[1, 'bearing_deg']:.1f}"


def test_html_table_escapes_header_cells_and_caption():
    markup = html_table(['<th onclick="x">'], [["</td><script>1</script>"]], caption="</table>")
    parsed = _parse(markup)
    assert parsed.tags <= TABLE_TAGS
    assert parsed.cells == ['<th onclick="x">', "</td><script>1</script>"]
    assert parsed.caption == "</table>"


_FETCHING = re.compile(
    r"<(?:script|link|img|iframe|embed|object|source)\b[^>]*?\b(?:src|href|data)\s*=\s*"
    r"[\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def test_the_map_displays_in_a_notebook_offline(mini_layers):
    fmap = maps.build_map(as_of=AS_OF)
    markup = _rich(fmap)["text/html"]
    srcdoc = re.search(r'<iframe srcdoc="([^"]*)"', markup)
    assert srcdoc is not None
    document = html.unescape(srcdoc.group(1))
    # The same self-contained page as the saved file: inline Leaflet, no CDN.
    assert document == maps.render_html(fmap)
    assert "<script>" in document
    assert not _FETCHING.search(document)
    assert not _FETCHING.search(markup.replace(srcdoc.group(0), ""))
    assert "L.map" in document or "flankmap.render(" in document
