r"""KML and KMZ documents of sites and points, for Google Earth and other KML readers.

GDAL's KML drivers cannot keep a partial date such as ``1949-05`` in a time span nor draw a
site in its layer's colours, so the document is built here, with :mod:`xml.etree.ElementTree`
(every text and attribute escaped by it, never a template):

- one ``<Folder>`` per layer (the ``layer`` column; one folder when there is none);
- one ``<Placemark>`` per row: its ``name`` (else ``id``), its dates as
  ``<TimeSpan><begin>SINCE</begin><end>UNTIL</end></TimeSpan>`` with partial dates
  (``1949-05``, ``1991``) kept as they are, which KML allows and Google Earth's time slider
  reads; the popup content (kind, operator, host country, status, confidence, dates, notes,
  aliases, timeline, sources as links) as an HTML ``<description>`` whose every value is
  escaped (the document's balloons show it as it is); every column
  in ``<ExtendedData>`` (lists and dicts as JSON text);
- one ``<Style>`` per layer and certainty, in the colours of :mod:`geo.styles`.

XML 1.0 cannot hold most control characters: each one (and U+FFFE, U+FFFF) is written as a
visible escape such as ``\x07``; every other character is kept literally. The same rows give
the same bytes, and a KMZ is a zip of ``doc.kml`` with fixed timestamps.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from typing import Any

import pandas as pd
import shapely

from geo.styles import (
    BASE,
    CONFIDENCES,
    HOLLOW_STATUSES,
    LayerStyle,
    Mark,
    layer_styles,
    mark_of,
)

__all__ = ["kml_bytes", "kmz_bytes"]

KML_NS = "http://www.opengis.net/kml/2.2"
#: Characters XML 1.0 cannot hold (written as visible escapes instead).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: The Google Earth icon (white, so that the style's colour tints it) of each marker shape.
_ICONS = {
    "circle": "placemark_circle",
    "square": "placemark_square",
    "triangle": "triangle",
    "diamond": "open-diamond",
    "pentagon": "star",
    "triangle_down": "arrow",
    "hexagon": "polygon",
}
_ICON_URL = "https://maps.google.com/mapfiles/kml/shapes/{}.png"
#: The rows of the description, as in the map's popup: (label, column).
_ROWS = (
    ("Kind", "kind"),
    ("Operator", "operator"),
    ("Host country", "country"),
    ("Status", "status"),
    ("Confidence", "confidence"),
    ("Dates", None),
    ("Last verified", "last_verified"),
    ("Location note", "coord_note"),
    ("Notes", "notes"),
)
#: The date of the zip entry of a KMZ (the earliest a zip can hold): the same bytes every run.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _xml_text(value: str) -> str:
    """Return text XML can hold: a character it cannot is written as a visible escape."""

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _NOT_XML.sub(escape, value)


def _text(value: Any) -> str:
    """Return a cell as text: empty when missing, lists and dicts as JSON, floats exact."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return _text(value.tolist())
    return str(value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _kml_colour(colour: str, opacity: float = 1.0) -> str:
    """Return ``#rrggbb`` with an opacity as KML's ``aabbggrr``."""
    red, green, blue = colour[1:3], colour[3:5], colour[5:7]
    alpha = round(max(0.0, min(1.0, opacity)) * 255)
    return f"{alpha:02x}{blue}{green}{red}".lower()


def _style(document: ET.Element, style_id: str, style: LayerStyle, mark: Mark) -> None:
    element = _sub(document, "Style", id=style_id)
    icon_style = _sub(element, "IconStyle")
    opacity = 1.0 if mark.hollow else max(mark.fill_opacity, 0.35)
    _sub(icon_style, "color", _kml_colour(style.colour, opacity))
    _sub(icon_style, "scale", "1.1")
    icon = _sub(icon_style, "Icon")
    shape = "donut" if mark.hollow else _ICONS.get(style.shape, "placemark_circle")
    _sub(icon, "href", _ICON_URL.format(shape))
    line = _sub(element, "LineStyle")
    _sub(line, "color", _kml_colour(style.colour, 1.0 if not mark.dash else 0.6))
    _sub(line, "width", "3" if not mark.dash else "2")
    poly = _sub(element, "PolyStyle")
    _sub(poly, "color", _kml_colour(style.colour, 0.25))
    balloon = _sub(element, "BalloonStyle")
    _sub(balloon, "text", "$[description]")


def _coordinates(geom: Any) -> str:
    values = shapely.get_coordinates(geom, include_z=shapely.has_z(geom))
    return " ".join(",".join(repr(float(c)) for c in point) for point in values)


def _geometry(parent: ET.Element, geom: Any) -> None:
    """Write a shapely geometry as KML (multi-part geometries as ``<MultiGeometry>``)."""
    if geom is None or geom.is_empty:
        return
    kind = geom.geom_type
    if kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", _coordinates(geom))
    elif kind in ("LineString", "LinearRing"):
        line = _sub(parent, "LineString")
        _sub(line, "tessellate", "1")
        _sub(line, "coordinates", _coordinates(geom))
    elif kind == "Polygon":
        polygon = _sub(parent, "Polygon")
        _sub(polygon, "tessellate", "1")
        for tag, rings in (
            ("outerBoundaryIs", [geom.exterior]),
            ("innerBoundaryIs", geom.interiors),
        ):
            for ring in rings:
                _sub(_sub(_sub(polygon, tag), "LinearRing"), "coordinates", _coordinates(ring))
    else:  # Multi* and GeometryCollection
        multi = _sub(parent, "MultiGeometry")
        for part in geom.geoms:
            _geometry(multi, part)


def _dates_text(since: str, until: str) -> str:
    if since and until:
        return f"{since} – {until}"
    if since:
        return f"since {since}"
    return f"until {until}" if until else ""


def _link(source: Any) -> str:
    """One source as HTML: its title linked to its URL (http and https only), escaped."""
    if not isinstance(source, Mapping):
        return html.escape(_text(source))
    title = _text(source.get("title")) or _text(source.get("url"))
    url = _text(source.get("url"))
    extra = ", ".join(
        _text(source.get(k)) for k in ("publisher", "accessed") if _text(source.get(k))
    )
    text = html.escape(title)
    if re.match(r"^https?://\S+$", url):
        text = f'<a href="{html.escape(url, quote=True)}">{text}</a>'
    if extra:
        text += f" ({html.escape(extra)})"
    return text


def _description(row: Mapping[str, Any]) -> str:
    """Return the popup content as HTML: every value escaped, sources as links."""
    title = _text(row.get("name")) or _text(row.get("id"))
    parts = [f"<h3>{html.escape(title)}</h3>"] if title else []
    aliases = row.get("aliases")
    if isinstance(aliases, list | tuple) and aliases:
        parts.append(f"<p>Also known as {html.escape('; '.join(map(_text, aliases)))}</p>")
    cells = []
    for label, column in _ROWS:
        if column is None:
            value = _dates_text(_text(row.get("since")), _text(row.get("until")))
        else:
            value = _text(row.get(column))
        if value:
            cells.append(f"<tr><th>{label}</th><td>{html.escape(value)}</td></tr>")
    if "distance_m" in row and _text(row.get("distance_m")):
        km = f"{float(row['distance_m']) / 1000:.1f} km"
        cells.append(f"<tr><th>To the frontier</th><td>{html.escape(km)}</td></tr>")
    if cells:
        parts.append(f"<table>{''.join(cells)}</table>")
    timeline = row.get("timeline")
    if isinstance(timeline, list | tuple) and timeline:
        steps = [
            " ".join(_text(step.get(k)) for k in ("date", "status", "event") if step.get(k))
            if isinstance(step, Mapping)
            else _text(step)
            for step in timeline
        ]
        items = "".join(f"<li>{html.escape(step)}</li>" for step in steps)
        parts.append(f"<p>Timeline:</p><ul>{items}</ul>")
    sources = row.get("sources")
    if isinstance(sources, str) and sources.startswith("["):
        try:
            sources = json.loads(sources)
        except ValueError:
            sources = [sources]
    if isinstance(sources, list | tuple) and sources:
        items = "".join(f"<li>{_link(source)}</li>" for source in sources)
        parts.append(f"<p>Sources:</p><ul>{items}</ul>")
    return "".join(parts)


def _style_keys(
    frame: pd.DataFrame, styles: Mapping[str, LayerStyle] | None
) -> tuple[list[str], list[tuple[str, str, str]], dict[str, LayerStyle]]:
    """Each row's layer, its style key (layer, confidence, hollow), and the layers' styles."""
    n = len(frame)
    layer = [_text(v) for v in frame["layer"]] if "layer" in frame else [""] * n
    status = [_text(v) for v in frame["status"]] if "status" in frame else [""] * n
    confidence = [_text(v) for v in frame["confidence"]] if "confidence" in frame else [""] * n
    known = dict(styles or {})
    missing = sorted({name for name in layer if name not in known})
    if missing:
        operator = [_text(v) for v in frame["operator"]] if "operator" in frame else [""] * n
        sides = pd.DataFrame({"layer": layer, "operator": operator})
        found = layer_styles(sides[sides["layer"].isin(missing)])
        known.update({name: found[name] for name in missing})
    certainty = [c.strip().lower() if c.strip().lower() in CONFIDENCES else "" for c in confidence]
    hollow = ["planned" if s in HOLLOW_STATUSES else "" for s in status]
    keys = list(zip(layer, certainty, hollow, strict=True))
    return layer, keys, known


def kml_bytes(
    frame: pd.DataFrame,
    *,
    name: str = "flankmap",
    styles: Mapping[str, LayerStyle] | None = None,
) -> bytes:
    """Return a KML document of the rows of a frame (see the module docstring).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Sites or points in EPSG:4326; the columns ``layer``, ``name``, ``id``, ``since``,
        ``until``, ``sources`` and the popup's columns are used where present.
    name : str
        The document's name.
    styles : mapping, optional
        The symbol of each layer (as on the map, from :func:`geo.styles.layer_styles` on the
        unfiltered layers); a layer without one gets it from the rows.

    Returns
    -------
    kml : bytes
        The document, UTF-8.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> frame = gpd.GeoDataFrame(
    ...     {"name": ["A & <B>"], "since": ["1949-05"], "until": [""]},
    ...     geometry=[shapely.Point(25.28, 54.687)], crs="EPSG:4326",
    ... )
    >>> text = kml_bytes(frame).decode()
    >>> "<name>A &amp; &lt;B&gt;</name>" in text, "<begin>1949-05</begin>" in text
    (True, True)
    """
    geometry = frame.geometry
    columns = [c for c in frame.columns if c != geometry.name]
    layer, keys, layer_style = _style_keys(frame, styles)
    root = ET.Element("kml", {"xmlns": KML_NS})
    document = _sub(root, "Document")
    _sub(document, "name", name)
    style_ids: dict[tuple[str, str, str], str] = {}
    for key in sorted(set(keys)):
        style_ids[key] = f"s{len(style_ids)}"
        style = layer_style.get(key[0]) or LayerStyle(BASE["text"], "circle", "")
        _style(document, style_ids[key], style, mark_of(key[2], key[1]))
    folders: dict[str, ET.Element] = {}
    records = frame[columns].to_dict("records") if columns else [{} for _ in range(len(frame))]
    for index, (row, geom) in enumerate(zip(records, geometry, strict=True)):
        group = layer[index]
        if group not in folders:
            folders[group] = ET.Element("Folder")
            _sub(folders[group], "name", group or name)
        placemark = _sub(folders[group], "Placemark")
        _sub(placemark, "name", _text(row.get("name")) or _text(row.get("id")))
        description = _description(row)
        if description:
            _sub(placemark, "description", description)
        since, until = _text(row.get("since")), _text(row.get("until"))
        if since or until:
            span = _sub(placemark, "TimeSpan")
            if since:
                _sub(span, "begin", since)
            if until:
                _sub(span, "end", until)
        _sub(placemark, "styleUrl", f"#{style_ids[keys[index]]}")
        data = _sub(placemark, "ExtendedData")
        for column in columns:
            _sub(_sub(data, "Data", name=str(column)), "value", _text(row[column]))
        _geometry(placemark, geom)
    for group in sorted(folders):
        document.append(folders[group])
    ET.indent(root, space=" ")
    text = ET.tostring(root, encoding="unicode")  # one encoding at the end: much faster
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n'.encode()


def kmz_bytes(kml: bytes) -> bytes:
    """Return a KMZ: a zip holding one ``doc.kml``, the same bytes for the same document.

    Parameters
    ----------
    kml : bytes
        The KML document (:func:`kml_bytes`).

    Returns
    -------
    kmz : bytes
        The zip, its entry dated 1980-01-01 00:00 with mode ``0644``.

    Examples
    --------
    >>> kmz_bytes(b"<kml/>") == kmz_bytes(b"<kml/>")
    True
    """
    info = zipfile.ZipInfo("doc.kml", date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(info, kml, compresslevel=9)
    return out.getvalue()
