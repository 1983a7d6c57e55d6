"""Report pages: one self-contained HTML document to publish the map and its measurements.

:func:`build_report` gathers the sites active on a date (or on two dates, to compare them),
measures them with :func:`geo.sites.site_analysis` and renders one HTML page with

- a title, the date and a short summary (sites, layers, frontier length, NATO members);
- the interactive map of :mod:`geo.maps` in a sandboxed ``<iframe srcdoc>`` (two maps with a
  toggle when comparing dates), replaced in print by the static figure of :mod:`geo.figures`
  (its sites unlabelled: the table below names them);
- when comparing: what changed (features added and ended, NATO members who joined, the
  frontier by country pair);
- a sortable table of the sites with the geodesic distance to the opposing frontier and to the
  nearest foreign border, in km with the range that the coordinate uncertainty allows;
- the border dataset and its point of view, and every source as a numbered reference.

The page makes no network request (a Content-Security-Policy forbids any), escapes every text,
prints cleanly (a print stylesheet for A4) and builds to the same bytes from the same data.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import logging
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geo import _apart, _assets, _data, regions, view
from geo._errors import InputError
from geo.dates import parse_as_of
from geo.styles import BASE, LayerStyle, styles_for
from geo.text import dates_text, km_cell
from geo.writers import check_output_path, write_text_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

#: The frontier the report measures against.
FRONTIER = view.FRONTIER
#: The columns of the sites table, in order: (key, heading, numeric).
TABLE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("name", "Site", False),
    ("layer", "Layer", False),
    ("kind", "Kind", False),
    ("country", "Host", False),
    ("operator", "Operator", False),
    ("status", "Status", False),
    ("dates", "Dates", False),
    ("opposing", "To the opposing frontier, km", True),
    ("host_border", "To the nearest foreign border, km", True),
    ("confidence", "Confidence", False),
    ("last_verified", "Last verified", False),
    ("sources", "Sources", False),
)
_NATO_SOURCE = "https://www.nato.int/cps/en/natohq/topics_52044.htm"
_NE_TERMS = "https://www.naturalearthdata.com/about/terms-of-use/"


@dataclass(frozen=True)
class Source:
    """One numbered reference: a source cited by one or more features."""

    number: int
    title: str
    url: str
    publisher: str
    accessed: str


@dataclass
class ReportState:
    """The sites and the frontier on one date, measured."""

    as_of: dt.date
    sites: gpd.GeoDataFrame
    frontier: gpd.GeoDataFrame
    members: list[str]

    @property
    def frontier_km(self) -> float:
        """Total frontier length in kilometres."""
        return float(self.frontier["length_km"].sum()) if len(self.frontier) else 0.0


@dataclass
class ReportData:
    """Everything a report page shows, gathered by :func:`report_data`."""

    states: list[ReportState]
    rows: pd.DataFrame
    sources: list[Source]
    styles: dict[str, LayerStyle]
    titles: dict[str, str]
    layer_names: list[str] | None = None
    rings_km: tuple[float, ...] = ()
    ring_sites: list[str] | None = None
    borders: _data.BorderSource = _data.BORDER_SOURCES[_data.DEFAULT_BORDERS]
    region: tuple[float, float, float, float] | None = None
    #: The layers' features of every date, as loaded (the interactive map draws them all).
    every: gpd.GeoDataFrame | None = None

    @property
    def compare(self) -> bool:
        """Whether the report compares two dates."""
        return len(self.states) == 2


def _state(every: gpd.GeoDataFrame, day: dt.date, source: _data.BorderSource) -> ReportState:
    from geo import sites as site_analyses
    from geo.borders import frontier, nato_members, parse_frontier
    from geo.layers import filter_active

    sites = filter_active(every, day) if len(every) else every  # as load_layers(as_of=day)
    if len(sites):
        sites = site_analyses.site_analysis(sites, as_of=day, borders=source)
    side_a, side_b = parse_frontier(FRONTIER, as_of=day)
    return ReportState(
        as_of=day,
        sites=sites,
        frontier=frontier(side_a, side_b, as_of=day, borders=source),
        members=nato_members(day),
    )


def _numbered_sources(rows: pd.DataFrame) -> tuple[list[Source], list[list[int]]]:
    """Give each cited URL a number, in the order the table cites them first."""
    numbers: dict[str, Source] = {}
    cited: list[list[int]] = []
    for sources in rows["sources"]:
        mine: list[int] = []
        for src in sources or []:
            url = str(src.get("url", ""))
            if url not in numbers:
                numbers[url] = Source(
                    number=len(numbers) + 1,
                    title=str(src.get("title", "")),
                    url=url,
                    publisher=str(src.get("publisher", "")),
                    accessed=str(src.get("accessed", "")),
                )
            if numbers[url].number not in mine:
                mine.append(numbers[url].number)
        cited.append(mine)
    return list(numbers.values()), cited


def report_data(
    names: Iterable[str] | None = None,
    *,
    as_of: str | dt.date | None = None,
    compare: Sequence[str | dt.date] | None = None,
    rings_km: Sequence[float] = (),
    ring_sites: Iterable[str] | None = None,
    borders: str | _data.BorderSource | None = None,
    region: Sequence[float] | None = None,
) -> ReportData:
    """Gather and measure the sites that a report shows.

    Parameters
    ----------
    names : iterable of str, optional
        Layer names; default every shipped layer.
    as_of : str, datetime.date or None
        The date; default today. Not allowed together with ``compare``.
    compare : sequence of two dates, optional
        Compare the posture on two dates (in either order; the earlier comes first).
    rings_km : sequence of float
        Radii of the range rings drawn on the map and the figure.
    ring_sites : iterable of str, optional
        Ids of the sites to ring (each active on the date, or on one of the two dates);
        default the Russian-operated sites in Belarus.
    borders : str or BorderSource, optional
        The borders the sites and the frontier are measured to
        (:func:`geo._data.border_source`): ``osm`` (default), ``naturalearth`` or a file.
    region : sequence of float, optional
        A box (west, south, east, north; the ``region`` of a :class:`geo.view.View`): the
        report lists, counts and draws only the sites that meet it, and its map and figure
        show the box. Default every site.

    Returns
    -------
    data : ReportData
        The measured states, one table row per site (the union of both dates' sites when
        comparing, with a ``change`` of ``added``, ``ended`` or ``kept``), the numbered
        sources, the layer symbols and titles.

    Raises
    ------
    InputError
        If a date is invalid, ``compare`` does not hold two different dates, both ``as_of``
        and ``compare`` are given, a ring radius is out of range or a ring site is unknown.
    """
    from geo.layers import load_layers

    layer_names = list(names) if names is not None else None
    if compare is not None:
        if as_of is not None:
            raise InputError("give either --as-of or --compare, not both")
        days = sorted({parse_as_of(d) for d in compare})
        if len(compare) != 2 or len(days) != 2:
            raise InputError(f"--compare needs two different dates, got {list(map(str, compare))}")
    else:
        days = [parse_as_of(as_of)]
    radii = view.check_rings_km(rings_km)
    source = _data.border_source(borders)
    box = None if region is None else view.check_bbox(region)
    everything = load_layers(layer_names)  # read once: every date's sites
    states = [_state(everything, day, source) for day in days]
    if box is not None:
        for state in states:
            state.sites = regions.within(state.sites, box).reset_index(drop=True)
    if ring_sites is not None:
        ring_sites = list(ring_sites)
        shown = pd.concat([s.sites[["id", "operator", "country"]] for s in states])
        view.ring_centres(shown, ring_sites, where="of the report")
    styles, titles = styles_for(everything)

    last = states[-1].sites.assign(change="kept")
    if len(states) == 2:
        first = states[0].sites
        last.loc[~last["id"].isin(first["id"]), "change"] = "added"
        ended = first[~first["id"].isin(last["id"])].assign(change="ended")
        rows = pd.concat([last, ended], ignore_index=True) if len(ended) else last
    else:
        rows = last
    if len(rows):
        rows = rows.sort_values(
            ["opposing_distance_m", "id"], kind="stable", na_position="last", ignore_index=True
        )
    sources, cited = _numbered_sources(rows)
    rows = rows.assign(cited=cited) if len(rows) else rows.assign(cited=[])
    return ReportData(
        states=states,
        rows=rows,
        sources=sources,
        styles=styles,
        titles=titles,
        layer_names=layer_names,
        rings_km=tuple(radii),
        ring_sites=ring_sites,
        borders=source,
        region=box,
        every=everything,
    )


# --- rendering --------------------------------------------------------------------------

_e = html.escape


def _distance_cell(row: Mapping[str, Any], prefix: str, where: str) -> str:
    metres = row.get(f"{prefix}_m")
    if metres is None or pd.isna(metres):
        return '<td class="num" data-sort="">–</td>'
    low, high = row.get(f"{prefix}_min_m"), row.get(f"{prefix}_max_m")
    text = km_cell(metres)
    if low is not None and high is not None and not (pd.isna(low) or pd.isna(high)):
        span = f"{km_cell(low)}–{km_cell(high)}"
        text += f' <span class="range" title="range allowed by the coordinate uncertainty">({span})</span>'
    place = str(row.get(where) or "")
    if place:
        text += f' <span class="where">{_e(place)}</span>'
    return f'<td class="num" data-sort="{float(metres):.1f}">{text}</td>'


def _row_html(row: Mapping[str, Any], data: ReportData) -> str:
    style = data.styles.get(str(row["layer"]))
    title = data.titles.get(str(row["layer"]), str(row["layer"]))
    symbol = style.svg(size=12, title=title) if style else ""
    refs = ", ".join(f'<a href="#ref-{n}">{n}</a>' for n in row["cited"])
    refs = f"[{refs}]" if refs else ""
    change = str(row.get("change", "kept"))
    cells = [
        f'<td class="col-name" data-sort="{_e(str(row["name"]).casefold(), quote=True)}">{symbol} '
        f"{_e(str(row['name']))}</td>",
        f'<td class="col-layer" data-sort="{_e(title.casefold(), quote=True)}">{_e(title)}</td>',
        f"<td>{_e(str(row['kind']).replace('_', ' '))}</td>",
        _code_cell(row["country"]),
        _code_cell(row["operator"]),
        f"<td>{_e(str(row['status']).replace('_', ' '))}</td>",
        f'<td data-sort="{_e(str(row["since"]), quote=True)}">'
        f"{_e(dates_text(row['since'], row['until']))}</td>",
        _distance_cell(row, "opposing_distance", "opposing_border"),
        _host_cell(row),
        _confidence_cell(row.get("confidence")),
        _verified_cell(row.get("last_verified")),
        f'<td class="refs">{refs}</td>',
    ]
    if data.compare:
        cells.insert(0, f'<td class="change change-{_e(change)}">{_e(change)}</td>')
    return (
        f'<tr id="site-{_e(str(row["id"]), quote=True)}" data-layer="{_e(str(row["layer"]), quote=True)}"'
        f' data-change="{_e(change, quote=True)}">' + "".join(cells) + "</tr>"
    )


def _text_of(value: Any) -> str:
    """Return a cell's text, ``""`` for a missing value (None or NaN)."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


@functools.cache
def _code_names() -> dict[str, str]:
    """Country and operator code to name: the border dataset's names, ``SUN`` and ``NATO``."""
    from geo.borders import countries
    from geo.layers import EXTRA_OPERATOR_NAMES

    return {
        **{str(k): str(v) for k, v in countries(borders="naturalearth")["name"].items()},
        **EXTRA_OPERATOR_NAMES,
    }


def _code_cell(code: Any) -> str:
    """Return the cell of a host or operator code, named in its ``title`` (``SUN``: Soviet Union)."""
    text = _text_of(code)
    name = _code_names().get(text, "")
    title = f' title="{_e(name, quote=True)}"' if name and name != text else ""
    return f"<td{title}>{_e(text)}</td>"


def _confidence_cell(value: Any) -> str:
    """Return the confidence cell, sorted from the strongest evidence to the weakest, unrated last."""
    from geo.layers import CONFIDENCES

    text = _text_of(value)
    rank = CONFIDENCES.index(text) if text in CONFIDENCES else len(CONFIDENCES)
    return f'<td class="col-confidence" data-sort="{rank}">{_e(text) or "–"}</td>'


def _verified_cell(value: Any) -> str:
    """Return the cell of the date the claim was last checked (a missing one sorts first)."""
    text = _text_of(value)
    return (
        f'<td class="col-last_verified" data-sort="{_e(text, quote=True)}">{_e(text) or "–"}</td>'
    )


def _host_cell(row: Mapping[str, Any]) -> str:
    # the host border's distance has no range (the site analysis gives the opposing side's)
    renamed = {
        "host_distance_m": row.get("host_border_distance_m"),
        "host_where": row.get("host_border"),
    }
    return _distance_cell(renamed, "host_distance", "host_where")


def _table_html(data: ReportData) -> str:
    columns = list(TABLE_COLUMNS)
    if data.compare:
        columns.insert(0, ("change", "Change", False))
    heads = "".join(
        f'<th scope="col" class="col-{key}" data-type="{"num" if numeric else "text"}"'
        f"{' aria-sort=' + chr(34) + 'ascending' + chr(34) if key == 'opposing' else ''}>"
        f'<button type="button">{_e(heading)}</button></th>'
        for key, heading, numeric in columns
    )
    body = "\n".join(_row_html(row, data) for row in data.rows.to_dict("records"))
    return (
        '<table id="sites-table" class="sortable">\n'
        f"<thead><tr>{heads}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    )


def _references_html(sources: Sequence[Source]) -> str:
    items = []
    for src in sources:
        parts = [f"<cite>{_e(src.title)}</cite>"]
        if src.publisher:
            parts.append(_e(src.publisher))
        link = f'<a href="{_e(src.url, quote=True)}" rel="noreferrer">{_e(src.url)}</a>'
        accessed = f" (accessed {_e(src.accessed)})" if src.accessed else ""
        items.append(
            f'<li id="ref-{src.number}" value="{src.number}">{", ".join(parts)}. {link}{accessed}</li>'
        )
    return '<ol class="references">\n' + "\n".join(items) + "\n</ol>"


def _state_figures(state: ReportState) -> str:
    """Return the header figures of one date: sites, layers, the nearest site, frontier, members."""
    sites = state.sites
    n_layers = sites["layer"].nunique() if len(sites) else 0
    text = f"{len(sites):,} sites in {n_layers} layers"
    if len(sites) and "opposing_distance_m" in sites.columns:
        measured = sites[pd.to_numeric(sites["opposing_distance_m"], errors="coerce").notna()]
        if len(measured):
            nearest = measured.sort_values(["opposing_distance_m", "id"], kind="stable").iloc[0]
            text += (
                f" · nearest to the opposing frontier: {_e(str(nearest['name']))}, "
                f"{km_cell(float(nearest['opposing_distance_m']))} km"
            )
    return (
        f"{text} · frontier between Russia and Belarus and NATO {state.frontier_km:,.0f} km · "
        f"{len(state.members)} NATO members"
    )


def _summary_html(data: ReportData, *, interactive: bool = True) -> str:
    """Return the header figures; comparing, those of each date, switched by the toggle.

    Both dates' figures are in the page: the toggle's script shows those of the map shown
    (the later date first); in print, and in a page without maps, both are shown.
    """
    if not data.compare:
        return f'<p class="summary">{_state_figures(data.states[0])}</p>'
    old, new = data.states
    added = int((data.rows["change"] == "added").sum()) if len(data.rows) else 0
    ended = int((data.rows["change"] == "ended").sum()) if len(data.rows) else 0
    d0, d1 = old.as_of.isoformat(), new.as_of.isoformat()
    lines = [
        (old, d0, ""),
        (new, d1, f" · {added} added and {ended} ended since {d0}"),
    ]
    out = []
    for i, (state, day, change) in enumerate(lines):
        hidden = " inactive" if interactive and i == 0 else ""
        out.append(
            f'<p class="summary state-figures{hidden}" data-state="{day}">'
            f'<strong>On <time datetime="{day}">{day}</time>:</strong> '
            f"{_state_figures(state)}{change}</p>"
        )
    return "\n".join(out)


def _changes_html(data: ReportData) -> str:
    old, new = data.states
    names = _code_names()
    joined = [c for c in new.members if c not in old.members]
    left = [c for c in old.members if c not in new.members]
    added = data.rows[data.rows["change"] == "added"]
    ended = data.rows[data.rows["change"] == "ended"]

    def people(codes: list[str]) -> str:
        return ", ".join(_e(names.get(c, c)) for c in codes) or "none"

    def sites(frame: pd.DataFrame) -> str:
        if not len(frame):
            return "none"
        links = [
            f'<a href="#site-{_e(str(r["id"]), quote=True)}">{_e(str(r["name"]))}</a>'
            for r in frame.sort_values("name").to_dict("records")
        ]
        return ", ".join(links)

    pairs = sorted(set(old.frontier["pair"]) | set(new.frontier["pair"]))
    before = dict(zip(old.frontier["pair"], old.frontier["length_km"], strict=True))
    after = dict(zip(new.frontier["pair"], new.frontier["length_km"], strict=True))
    rows = []
    for pair in pairs:
        a, b = before.get(pair, 0.0), after.get(pair, 0.0)
        rows.append(
            f"<tr><td>{_e(pair)}</td><td class='num'>{a:,.0f}</td><td class='num'>{b:,.0f}</td>"
            f"<td class='num'>{b - a:+,.0f}</td></tr>"
        )
    d0, d1 = old.as_of.isoformat(), new.as_of.isoformat()
    total = (
        f"<tr class='total'><th scope='row'>total</th><td class='num'>{old.frontier_km:,.0f}</td>"
        f"<td class='num'>{new.frontier_km:,.0f}</td>"
        f"<td class='num'>{new.frontier_km - old.frontier_km:+,.0f}</td></tr>"
    )
    return f"""<section id="changes">
<h2>What changed from {d0} to {d1}</h2>
<ul class="changes">
<li><strong>Sites added</strong> ({len(added)}): {sites(added)}</li>
<li><strong>Sites ended</strong> ({len(ended)}): {sites(ended)}</li>
<li><strong>NATO members who joined</strong>: {people(joined)}{"; left: " + people(left) if left else ""}
({len(old.members)} members on {d0}, {len(new.members)} on {d1})</li>
</ul>
<table id="frontier-table">
<caption>Frontier between Russia and Belarus and NATO by country pair, km ({_e(_source_short(data.borders))})</caption>
<thead><tr><th scope="col">Pair</th><th scope="col">{d0}</th><th scope="col">{d1}</th><th scope="col">Change</th></tr></thead>
<tbody>
{chr(10).join(rows)}
{total}
</tbody>
</table>
</section>"""


def _source_short(source: _data.BorderSource) -> str:
    """Name a border source in a caption: ``Natural Earth 1:10m``, ``OpenStreetMap``..."""
    if source.path:
        return source.name
    return {"osm": "OpenStreetMap", "naturalearth": "Natural Earth 1:10m"}[source.name]


def _measured_html(source: _data.BorderSource) -> str:
    """Return the paragraph naming the borders measured to, their licence and accuracy."""
    if source.name == "naturalearth" and not source.path:
        return (
            "<p><strong>Distances</strong> are measured to Natural Earth's borders (below), "
            f"positional accuracy ±{source.accuracy_m:,.0f} m ({_e(source.accuracy_source)}).</p>"
        )
    link = (
        f'<a href="{_e(source.url, quote=True)}" rel="noreferrer">{_e(source.title)}</a>'
        if source.url
        else _e(source.title)
    )
    version = f", version {_e(source.version)}" if source.version else ""
    accuracy = (
        f"positional accuracy ±{source.accuracy_m:,.0f} m ({_e(source.accuracy_source)})"
        if source.accuracy_m
        else _e(f"positional accuracy {source.accuracy_source}")
    )
    return (
        f"<p><strong>Distances</strong> are measured to {link}{version}: "
        f"{_e(source.attribution)}, licence {_e(source.licence)}; {accuracy}. The ranges "
        "include it. Natural Earth is the basemap drawn.</p>"
    )


def _data_html(data: ReportData) -> str:
    layer_items = "".join(
        f"<li>{data.styles[name].svg(size=12, title=data.titles[name])} "
        f"<code>{_e(name)}</code>: {_e(data.titles[name])}</li>"
        for name in sorted(data.styles)
    )
    return f"""<section id="data">
<h2>Data and method</h2>
{_measured_html(data.borders)}
<p><strong>Borders:</strong> <a href="{_e(_data.NE_URL, quote=True)}" rel="noreferrer">{_e(_data.NE_TITLE)}</a>,
version {_e(_data.NE_VERSION)}, public domain (<a href="{_NE_TERMS}" rel="noreferrer">terms</a>).
<strong>Point of view:</strong> Germany's: disputed areas follow Germany's recognitions (for
example, Crimea is part of Ukraine). The frontier is the land border that Russia and Belarus
share with the NATO members of the date.</p>
<p><strong>NATO membership</strong> by accession date: <a href="{_NATO_SOURCE}" rel="noreferrer">NATO, member countries</a>.</p>
<p><strong>Distances</strong> are geodesic on the WGS84 ellipsoid, from each site (a polygon's
interior point) to the nearest point of the opposing frontier (for a NATO site, the border of
Russia and Belarus; for a Russian or Belarusian site, the border of NATO) and to the nearest
border of its host country with another country. The range in brackets is what the site's
coordinate uncertainty and the borders' positional accuracy allow; the country pair or country
after it is the border reached.</p>
<p><strong>Layers:</strong></p>
<ul class="layers">{layer_items}</ul>
</section>"""


#: The static map of the report: its size on paper and its resolution.
_FIGURE_SIZE_CM = (17.0, 21.0)
_FIGURE_DPI = 150


def _png_size(png: bytes) -> tuple[int, int]:
    """Return the width and height in pixels of a PNG, read from its IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def _figure_img(
    data: ReportData, state: ReportState, drawn: list[Figure], *, labels: bool = True
) -> str:
    from geo.figures import figure_bytes, map_figure

    fig = map_figure(
        state.sites,
        as_of=state.as_of,
        styles=data.styles,
        rings_km=data.rings_km,
        ring_sites=_rings_here(data, state),
        labels=labels,
        size_cm=_FIGURE_SIZE_CM,
        dpi=_FIGURE_DPI,
        region=data.region,
    )
    png = figure_bytes(fig, "png")
    width, height = _png_size(png)  # size_cm and dpi, in the pixels the renderer made
    drawn.append(fig)
    alt = f"Static map of the sites on {state.as_of.isoformat()}"
    return (
        f'<img class="static-map" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" '
        f'alt="{_e(alt, quote=True)}" width="{width}" height="{height}">'
    )


def _rings_here(data: ReportData, state: ReportState) -> list[str] | None:
    """Return the ring sites active on the state's date (a site may be absent on one)."""
    if data.ring_sites is None:
        return None
    return [fid for fid in data.ring_sites if fid in set(state.sites["id"])]


def _map_fragment(data: ReportData, state: ReportState) -> str:
    """Return the interactive map of a date; comparing, the later marks what changed."""
    from geo import maps

    # The layers as loaded and the sites as measured here: the map reloads and remeasures
    # only what the report does not hold (the sites of other dates, for its date slider).
    first = data.states[0].as_of
    fmap = maps.build_map(
        data.every if data.every is not None else data.layer_names,
        measured=state.sites,
        as_of=state.as_of,
        rings_km=data.rings_km,
        ring_sites=_rings_here(data, state),
        borders=data.borders,
        region=data.region,
        changes_since=first if data.compare and state.as_of > first else None,
    )
    return maps.render_fragment(fmap, height="640px")


def _figure_imgs(data: ReportData, *, labels: bool) -> tuple[list[str], str | None]:
    """Return the ``<img>`` of each date's figure and the line on missing glyphs, if any."""
    from geo.figures import missing_glyphs_notice

    drawn: list[Figure] = []
    imgs = [_figure_img(data, state, drawn, labels=labels) for state in data.states]
    return imgs, missing_glyphs_notice(drawn)


def _map_section(data: ReportData, *, interactive: bool) -> str:
    # On the interactive page the figure is for print only, above the sites table that names
    # every site: its sites go unlabelled (placing and keying 75 names is 85 % of the
    # figure's time). On the static page it is the map on screen, labelled. With maps to
    # build, the figures are drawn meanwhile in a child process (matplotlib imported there).
    draw = functools.partial(_figure_imgs, data, labels=not interactive)
    drawing = _apart.Apart(draw) if interactive else None
    panes, figures, toggles = [], [], []
    try:
        for i, state in enumerate(data.states):
            day = state.as_of.isoformat()
            hidden = "" if i == len(data.states) - 1 else " inactive"
            if interactive:
                panes.append(
                    f'<div class="map-pane{hidden}" data-state="{day}">'
                    f"{_map_fragment(data, state)}</div>"
                )
            checked = " checked" if i == len(data.states) - 1 else ""
            toggles.append(
                f'<label><input type="radio" name="map-state" value="{day}"{checked}> {day}</label>'
            )
        imgs, notice = drawing.result() if drawing is not None else draw()
    except BaseException:
        if drawing is not None:
            drawing.cancel()
        raise
    for state, img in zip(data.states, imgs, strict=True):
        day = state.as_of.isoformat()
        figures.append(
            f'<figure class="print-map" data-state="{day}">{img}'
            f"<figcaption>The sites and the frontier on {day}.</figcaption></figure>"
        )
    if notice:  # one line for all the figures of the page
        logger.warning(notice)
    toggle = (
        f'<fieldset class="map-toggle screen-only"><legend>Show the map on</legend>{"".join(toggles)}</fieldset>'
        if data.compare and interactive
        else ""
    )
    screen = f'<div class="map-frame screen-only">{"".join(panes)}</div>' if interactive else ""
    return f"""<section id="map">
{toggle}
{screen}
<div class="{"print-only" if interactive else ""} figures">{"".join(figures)}</div>
</section>"""


def _css() -> str:
    """Return the page's styles: the colours of :data:`geo.styles.BASE`, then ``report.css``."""
    root = (
        f":root {{ --text: {BASE['text']}; --line: #c9cdd3; --muted: #5b6470; "
        f"--accent: {BASE['frontier']}; }}"
    )
    return f"{root}\n{_assets.read('report.css')}"


#: No request may leave the page or its map frames: inline scripts, styles and data: images.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; frame-src 'self' about:; base-uri 'none'; form-action 'none'"
)


def render_report(data: ReportData, *, title: str | None = None, interactive: bool = True) -> str:
    """Render gathered report data as one self-contained HTML page.

    Parameters
    ----------
    data : ReportData
        From :func:`report_data`.
    title : str, optional
        The page title; default ``"Military posture on NATO's eastern flank"``.
    interactive : bool
        Embed the interactive map, with the static figure for print (its sites unlabelled,
        the table names them); ``False`` shows the static figure, its sites labelled, on
        screen too (a smaller page without scripts in frames).

    Returns
    -------
    page : str
        The HTML document.
    """
    from geo import __version__

    title = title or "Military posture on NATO's eastern flank"
    days = [s.as_of.isoformat() for s in data.states]
    when = " and ".join(days)
    date_line = (
        f'Comparing <time datetime="{days[0]}">{days[0]}</time> with '
        f'<time datetime="{days[1]}">{days[1]}</time>'
        if data.compare
        else f'As of <time datetime="{days[0]}">{days[0]}</time>'
    )
    changes = _changes_html(data) if data.compare else ""
    n_rows = len(data.rows)
    basis = (
        f"The {n_rows} sites active on {days[0]} or {days[1]}; distances on the date each was "
        f"last active (the later date for sites active on both)."
        if data.compare
        else f"The {n_rows} sites active on {days[0]}, nearest to the frontier first."
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="flankmap {_e(__version__, quote=True)}">
<title>{_e(title)} – {_e(when)}</title>
<style>{_css()}</style>
</head>
<body>
<header>
<h1>{_e(title)}</h1>
<p class="date">{date_line}</p>
{_summary_html(data, interactive=interactive)}
</header>
{_map_section(data, interactive=interactive)}
{changes}
<section id="sites">
<h2>Sites</h2>
<p>{_e(basis)} Click a heading to sort.</p>
{_table_html(data)}
</section>
{_data_html(data)}
<section id="references-section">
<h2>References</h2>
{_references_html(data.sources)}
</section>
<footer>Made with flankmap {_e(__version__)} from the data of {_e(when)}. Every distance is
geodesic on WGS84; every site carries its sources.</footer>
<script>\n{_assets.read("report.js")}</script>
</body>
</html>
"""


def build_report(
    names: Iterable[str] | None = None,
    *,
    as_of: str | dt.date | None = None,
    compare: Sequence[str | dt.date] | None = None,
    rings_km: Sequence[float] = (),
    ring_sites: Iterable[str] | None = None,
    title: str | None = None,
    interactive: bool = True,
    borders: str | _data.BorderSource | None = None,
    region: Sequence[float] | None = None,
) -> str:
    """Build the report page for a date, or comparing two dates.

    Parameters
    ----------
    names : iterable of str, optional
        Layer names; default every shipped layer.
    as_of : str, datetime.date or None
        The date; default today.
    compare : sequence of two dates, optional
        Compare two dates instead (not with ``as_of``).
    rings_km : sequence of float
        Radii of range rings around the Russian-operated sites in Belarus, on the map and the
        figure; default none.
    ring_sites : iterable of str, optional
        Ids of the sites to ring; default the Russian-operated sites in Belarus.
    title : str, optional
        The page title.
    interactive : bool
        Embed the interactive map (default); else the static figure only.
    borders : str or BorderSource, optional
        As in :func:`report_data`.
    region : sequence of float, optional
        Focus on a box (see :func:`report_data`).

    Returns
    -------
    page : str
        The HTML document; the same data gives the same text.

    Raises
    ------
    InputError, LayerNotFoundError, LayerValidationError
    """
    data = report_data(
        names,
        as_of=as_of,
        compare=compare,
        rings_km=rings_km,
        ring_sites=ring_sites,
        borders=borders,
        region=region,
    )
    return render_report(data, title=title, interactive=interactive)


def save_report(path: Path | str, page: str) -> Path:
    """Write a report page atomically.

    Parameters
    ----------
    path : pathlib.Path or str
        The output file (``.html``).
    page : str
        From :func:`build_report`.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    InputError
        If the folder is missing or the path is a folder.
    """
    out = check_output_path(path)
    write_text_atomic(out, page)
    return out


def sites_table(data: ReportData) -> pd.DataFrame:
    """Return the report's sites table as a plain frame (for CSV export or notebooks).

    Parameters
    ----------
    data : ReportData
        From :func:`report_data`.

    Returns
    -------
    table : pandas.DataFrame
        One row per site: id, name, layer, kind, country, operator, status, since, until,
        confidence, last verified, distances in km (with their ranges) and the reference numbers.
    """
    rows = data.rows
    out = pd.DataFrame(
        {
            "id": rows["id"],
            "name": rows["name"],
            "layer": rows["layer"],
            "kind": rows["kind"],
            "country": rows["country"],
            "operator": rows["operator"],
            "status": rows["status"],
            "since": rows["since"],
            "until": rows["until"],
            "confidence": rows["confidence"],
            "last_verified": rows["last_verified"],
        }
    )
    for prefix, name in (("opposing_distance", "opposing"), ("host_border_distance", "host")):
        for suffix in ("", "_min", "_max"):
            column = f"{prefix}{suffix}_m"
            if column in rows:
                out[f"{name}{suffix}_km"] = rows[column].astype(float) / 1000.0
    if "opposing_border" in rows:
        out["opposing_border"] = rows["opposing_border"]
    if "host_border" in rows:
        out["host_border"] = rows["host_border"]
    if data.compare:
        out["change"] = rows["change"]
    out["references"] = [json.dumps(c) for c in rows["cited"]]
    return out


__all__ = [
    "CSP",
    "FRONTIER",
    "ReportData",
    "ReportState",
    "Source",
    "build_report",
    "render_report",
    "report_data",
    "save_report",
    "sites_table",
]
