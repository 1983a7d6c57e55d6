"""Exports for other tools: GeoPackage, FlatGeobuf, KML, KMZ (and the layers in every format).

Every file is read back by another reader than the one that wrote it: pyogrio (GDAL) for the
GIS formats, ElementTree and zipfile for KML and KMZ, the csv module for CSV.
"""

from __future__ import annotations

import csv
import html.parser
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo import layers, writers
from geo._errors import InputError, OutputError
from geo.cli import main
from geo.styles import layer_styles, mark_of
from geo.writers import FORMATS, point_writer, write_points, writer_for

KML = "{http://www.opengis.net/kml/2.2}"
LIST_COLUMNS = ("sources", "timeline", "operators", "units", "equipment", "aliases")
GIS = ("gpkg", "fgb")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _typed_points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c"],
            "count": np.array([1, -2, 3_000_000_000], dtype="int64"),
            "distance_m": [1.5, np.nan, 123456.789012345],
            "flag": [True, False, True],
            "since": ["1949-05", "1991", "2024-02-29"],
            "tags": [["x", "y"], [], ["ż"]],
            "meta": [{"k": 1}, {}, {"k": [2, 3]}],
            "note": ["plain", None, "ünïcode ✓"],
        },
        geometry=[
            shapely.Point(25.28, 54.687),
            shapely.Point(21.0, 52.2),
            shapely.Point(24.1, 56.9),
        ],
        crs="EPSG:4326",
    )


# --- GeoPackage and FlatGeobuf ------------------------------------------------------------


@pytest.mark.parametrize("fmt", GIS)
def test_gis_formats_keep_every_layer_property_and_the_crs(fmt, tmp_path, every_layer):
    out = write_points(every_layer, tmp_path / f"layers.{fmt}")
    info = pyogrio.read_info(out)
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == len(every_layer)
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["coord_uncertainty_m"] == "int64"
    back = pyogrio.read_dataframe(out)
    assert list(back.columns) == list(every_layer.columns)
    for column in every_layer.columns.drop("geometry"):
        if column in LIST_COLUMNS:
            assert [json.loads(v) for v in back[column]] == list(every_layer[column]), column
        else:
            assert list(back[column]) == list(every_layer[column]), column
    # partial dates stay text as they were written
    assert {"2022", "2022-03"} <= set(back["since"])
    assert shapely.equals_exact(
        np.asarray(back.geometry.values), np.asarray(every_layer.geometry.values), 0
    ).all()


@pytest.mark.parametrize("fmt", GIS)
def test_gis_formats_write_proper_types(fmt, tmp_path):
    frame = _typed_points()
    out = write_points(frame, tmp_path / f"points.{fmt}")
    types = dict(zip(*(pyogrio.read_info(out)[k] for k in ("fields", "dtypes")), strict=True))
    assert types["count"] == "int64"
    assert types["distance_m"] == "float64"
    assert types["flag"] == "bool"
    assert types["since"] == types["tags"] == types["note"] == "object"
    back = pyogrio.read_dataframe(out)
    assert back["count"].tolist() == [1, -2, 3_000_000_000]
    assert back["distance_m"].iloc[0] == 1.5
    assert np.isnan(back["distance_m"].iloc[1])
    assert back["distance_m"].iloc[2] == 123456.789012345
    assert back["flag"].tolist() == [True, False, True]
    assert back["since"].tolist() == ["1949-05", "1991", "2024-02-29"]
    assert [json.loads(v) for v in back["tags"]] == [["x", "y"], [], ["ż"]]
    assert [json.loads(v) for v in back["meta"]] == [{"k": 1}, {}, {"k": [2, 3]}]
    assert back["note"].tolist()[0::2] == ["plain", "ünïcode ✓"]
    assert pd.isna(back["note"].iloc[1])
    assert back.crs.to_epsg() == 4326


def test_geopackage_appends_frames_in_order(tmp_path):
    frame = _typed_points()
    with point_writer(tmp_path / "parts.gpkg") as write:
        write(frame.iloc[:1])
        write(frame.iloc[1:])
    back = pyogrio.read_dataframe(tmp_path / "parts.gpkg")
    assert back["id"].tolist() == ["a", "b", "c"]
    assert pyogrio.list_layers(tmp_path / "parts.gpkg")[0][0] == "parts"


@pytest.mark.parametrize("fmt", GIS)
def test_gis_files_are_byte_reproducible(fmt, tmp_path, monkeypatch):
    """GDAL writes the time into a GeoPackage; the writer fixes it (SOURCE_DATE_EPOCH)."""
    import sqlite3
    import time

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    frame = _typed_points()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_points(frame, tmp_path / "a" / f"out.{fmt}")
    time.sleep(1.1)  # GDAL's clock has seconds: a second later, the same bytes
    write_points(frame, tmp_path / "b" / f"out.{fmt}")
    first = (tmp_path / "a" / f"out.{fmt}").read_bytes()
    assert first == (tmp_path / "b" / f"out.{fmt}").read_bytes()
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # restored
    if fmt == "gpkg":
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1733184000")  # 2024-12-03
        write_points(frame, tmp_path / "c.gpkg")
        with sqlite3.connect(tmp_path / "c.gpkg") as con:
            (changed,) = con.execute("SELECT last_change FROM gpkg_contents").fetchone()
        assert changed == "2024-12-03T00:00:00.000Z"


@pytest.mark.parametrize("fmt", GIS)
def test_an_empty_gis_output_is_a_valid_file(fmt, tmp_path):
    with point_writer(tmp_path / f"e.{fmt}"):
        pass
    back = pyogrio.read_dataframe(tmp_path / f"e.{fmt}")
    assert len(back) == 0
    assert back.crs.to_epsg() == 4326


# --- KML and KMZ --------------------------------------------------------------------------


def _kml_root(path: Path) -> ET.Element:
    if path.suffix == ".kmz":
        with zipfile.ZipFile(path) as archive:
            assert archive.namelist() == ["doc.kml"]
            return ET.fromstring(archive.read("doc.kml"))
    return ET.parse(path).getroot()


def _placemarks(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{KML}Placemark")


def _data(placemark: ET.Element) -> dict[str, str]:
    return {d.get("name"): d.findtext(f"{KML}value") or "" for d in placemark.iter(f"{KML}Data")}


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
def test_kml_has_one_time_span_per_dated_feature(fmt, tmp_path, every_layer):
    out = tmp_path / f"layers.{fmt}"
    assert main(["layers", "-o", str(out)]) == 0
    root = _kml_root(out)
    placemarks = _placemarks(root)
    assert len(placemarks) == len(every_layer)
    by_id = {_data(p)["id"]: p for p in placemarks}
    for row in every_layer.to_dict("records"):
        spans = by_id[row["id"]].findall(f"{KML}TimeSpan")
        if not (row["since"] or row["until"]):
            assert spans == []
            continue
        assert len(spans) == 1, row["id"]
        assert (spans[0].findtext(f"{KML}begin") or "") == row["since"]
        assert (spans[0].findtext(f"{KML}end") or "") == row["until"]
    folders = [f.findtext(f"{KML}name") for f in root.iter(f"{KML}Folder")]
    assert folders == sorted(set(every_layer["layer"]))


def test_kml_keeps_partial_dates_and_every_property(tmp_path):
    frame = _typed_points().assign(until=["1991-12", "", "2030"], name=["A & B", "<b>", "c"])
    out = write_points(frame, tmp_path / "p.kml")
    placemarks = _placemarks(_kml_root(out))
    assert [p.findtext(f"{KML}TimeSpan/{KML}begin") for p in placemarks] == [
        "1949-05",
        "1991",
        "2024-02-29",
    ]
    assert [p.findtext(f"{KML}TimeSpan/{KML}end") for p in placemarks] == ["1991-12", None, "2030"]
    assert [p.findtext(f"{KML}name") for p in placemarks] == ["A & B", "<b>", "c"]
    first = _data(placemarks[0])
    assert (first["count"], first["distance_m"], first["flag"]) == ("1", "1.5", "True")
    assert json.loads(first["tags"]) == ["x", "y"]
    assert json.loads(first["meta"]) == {"k": 1}
    assert _data(placemarks[1])["distance_m"] == ""
    coords = [p.findtext(f"{KML}Point/{KML}coordinates") for p in placemarks]
    assert coords == ["25.28,54.687", "21.0,52.2", "24.1,56.9"]


def test_kml_reads_back_with_gdal(tmp_path, every_layer):
    out = tmp_path / "layers.kml"
    write_points(every_layer, out)
    names = [name for name, _ in pyogrio.list_layers(out)]
    assert names == sorted(set(every_layer["layer"]))
    frames = [pyogrio.read_dataframe(out, layer=name) for name in names]
    assert all(frame.crs.to_epsg() == 4326 for frame in frames)
    back = pd.concat(frames, ignore_index=True)
    assert len(back) == len(every_layer)
    assert sorted(back["since"]) == sorted(every_layer["since"])


def test_kml_description_is_the_popup_with_sources_as_links(tmp_path, every_layer):
    out = tmp_path / "layers.kml"
    write_points(every_layer, out)
    row = every_layer.iloc[0]
    placemark = next(p for p in _placemarks(_kml_root(out)) if _data(p)["id"] == row["id"])
    parser = _Html()
    parser.feed(placemark.findtext(f"{KML}description") or "")
    text = "".join(parser.text)
    assert parser.tags[0] == "h3"
    assert text.startswith(row["name"])
    for value in (row["kind"], row["status"], row["confidence"], row["notes"], row["since"]):
        assert value in text
    for alias in row["aliases"]:
        assert alias in text
    assert parser.links == [s["url"] for s in row["sources"]]
    for source in row["sources"]:
        assert source["title"] in text


def _kml_colour(colour: str, alpha: int) -> str:
    return f"{alpha:02x}{colour[5:7]}{colour[3:5]}{colour[1:3]}".lower()


def test_kml_styles_are_the_map_symbols(tmp_path, every_layer):
    out = tmp_path / "layers.kmz"
    write_points(every_layer, out)
    root = _kml_root(out)
    styles = {s.get("id"): s for s in root.iter(f"{KML}Style")}
    symbols = layer_styles(every_layer)
    for placemark in _placemarks(root):
        row = _data(placemark)
        style = styles[(placemark.findtext(f"{KML}styleUrl") or "").removeprefix("#")]
        colour = style.findtext(f"{KML}IconStyle/{KML}color")
        mark = mark_of(row["status"], row["confidence"])
        alpha = 255 if mark.hollow else round(max(mark.fill_opacity, 0.35) * 255)
        assert colour == _kml_colour(symbols[row["layer"]].colour, alpha)
        assert style.findtext(f"{KML}LineStyle/{KML}color")[2:] == colour[2:]
        href = style.findtext(f"{KML}IconStyle/{KML}Icon/{KML}href")
        assert href.endswith("/donut.png") == mark.hollow
    # one style per layer and certainty, no more
    keys = {
        (
            _data(p)["layer"],
            _data(p)["confidence"],
            mark_of(_data(p)["status"], "").hollow,
        )
        for p in _placemarks(root)
    }
    assert len(styles) == len(keys)


def test_kml_export_of_a_dated_layer_keeps_the_map_colours(tmp_path, every_layer):
    """With --as-of a layer may lose every feature; the others keep the map's colours."""
    out = tmp_path / "old.kml"
    assert main(["layers", "-o", str(out), "--as-of", "2000-01-01"]) == 0
    root = _kml_root(out)
    styles = {s.get("id"): s for s in root.iter(f"{KML}Style")}
    symbols = layer_styles(every_layer)
    for placemark in _placemarks(root):
        style = styles[(placemark.findtext(f"{KML}styleUrl") or "")[1:]]
        colour = style.findtext(f"{KML}LineStyle/{KML}color")
        assert colour[2:] == _kml_colour(symbols[_data(placemark)["layer"]].colour, 0)[2:]


class _Html(html.parser.HTMLParser):
    """Collects the text, the tags and the links of an HTML description."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self.links.extend(v or "" for k, v in attrs if k == "href")

    def handle_data(self, data):
        self.text.append(data)


#: What XML 1.0 cannot hold, and how the KML shows it (an independent statement of the rule).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _in_xml(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@pytest.mark.parametrize("fmt", ["kml", "kmz"])
def test_hostile_texts_go_through_kml_literally(fmt, hostile_layers, hostile_corpus, tmp_path):
    out = tmp_path / f"hostile.{fmt}"
    assert main(["layers", "hostile", "-o", str(out)]) == 0
    placemarks = _placemarks(_kml_root(out))
    assert len(placemarks) == len(hostile_corpus)
    for placemark, (text_id, text) in zip(placemarks, hostile_corpus, strict=True):
        shown = _in_xml(text)
        assert placemark.findtext(f"{KML}name") == shown, text_id
        data = _data(placemark)
        assert data["id"] == f"hostile-{text_id}"
        assert data["notes"] == data["coord_note"] == shown
        assert json.loads(data["aliases"]) == [text]  # JSON escapes the controls itself
        parser = _Html()
        parser.feed(placemark.findtext(f"{KML}description") or "")
        parser.close()
        # the hostile text is text of the description, never markup
        assert shown in "".join(parser.text), text_id
        assert set(parser.tags) <= {"h3", "table", "tr", "th", "td", "p", "ul", "li", "a"}, text_id
        assert {name for name, _ in parser.attrs} <= {"href"}, text_id
        assert all(link.startswith(("http://", "https://")) for link in parser.links)
    assert not (Path.cwd() / "PWNED").exists()


def test_control_characters_are_shown_as_escapes_in_kml(tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["bell\x07 esc\x1b[31m tab\tkeep"]},
        geometry=[shapely.Point(25, 54)],
        crs="EPSG:4326",
    )
    out = write_points(frame, tmp_path / "c.kml")
    name = _placemarks(_kml_root(out))[0].findtext(f"{KML}name")
    assert name == "bell\\x07 esc\\x1b[31m tab\tkeep"


def test_kml_and_kmz_bytes_are_reproducible(tmp_path, every_layer):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for fmt in ("kml", "kmz"):
        first = write_points(every_layer, tmp_path / "a" / f"x.{fmt}").read_bytes()
        os.utime(tmp_path / "a" / f"x.{fmt}", (0, 0))
        second = write_points(every_layer, tmp_path / "b" / f"x.{fmt}").read_bytes()
        assert first == second, fmt
    with zipfile.ZipFile(tmp_path / "a" / "x.kmz") as archive:
        (info,) = archive.infolist()
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
    # another process, another hash seed: the same bytes
    code = (
        "import sys; from geo import layers, writers; "
        "writers.write_points(layers.load_layers(), sys.argv[1])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    (tmp_path / "c").mkdir()
    for fmt in ("kml", "kmz"):
        other = tmp_path / "c" / f"x.{fmt}"
        subprocess.run([sys.executable, "-c", code, str(other)], check=True, env=env)
        assert other.read_bytes() == (tmp_path / "a" / f"x.{fmt}").read_bytes(), fmt


# --- atomic writes ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_error_midway_leaves_the_old_file_and_no_temporary_file(fmt, tmp_path):
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(b"old")
    frame = _typed_points().drop(columns="meta")  # GeoParquet wants one type per column

    def interrupted() -> None:
        with point_writer(out) as write:
            write(frame)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert out.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", GIS)
def test_a_gdal_error_is_one_output_error_and_leaves_nothing(fmt, tmp_path, monkeypatch):
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise pyogrio.errors.DataSourceError("No space left on device")

    monkeypatch.setattr(pyogrio, "write_dataframe", fail)
    with pytest.raises(OutputError, match=rf"out\.{fmt}: cannot write .*No space left"):
        write_points(_typed_points(), out)
    assert out.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_full_disk_leaves_the_old_file(fmt, tmp_path, monkeypatch):
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(b"old")

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers._OutputFile, "_write", full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_points(_typed_points().drop(columns="meta"), out)
    assert out.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["gpkg", "kmz"])
def test_binary_exports_go_to_a_fifo(fmt, tmp_path, fifo_reader):
    fifo, got, reader = fifo_reader(tmp_path)
    write_points(_typed_points(), fifo, format=fmt)
    reader.join(10)
    saved = tmp_path / f"copy.{fmt}"
    saved.write_bytes(got[0])
    if fmt == "gpkg":
        assert pyogrio.read_dataframe(saved)["id"].tolist() == ["a", "b", "c"]
    else:
        assert len(_placemarks(_kml_root(saved))) == 3
    assert _leftovers(tmp_path) == []


# --- the registry and the command line --------------------------------------------------


def test_formats_and_suffixes():
    assert list(FORMATS) == ["csv", "geojson", "parquet", "gpkg", "fgb", "kml", "kmz"]
    assert writer_for("x.GPKG") is writers.GeoPackageWriter
    assert writer_for("x.txt", format="FGB") is writers.FlatGeobufWriter
    with pytest.raises(InputError, match=r"^unknown format 'shp'; use csv, geojson, parquet, "):
        writer_for("x.shp", format="shp")


@pytest.mark.parametrize("fmt", ["gpkg", "fgb", "kmz"])
def test_distances_write_the_new_formats(fmt, tmp_path, capsys):
    out = tmp_path / f"d.{fmt}"
    args = ["distances", "--layers", "nato_efp", "--frontier", "RUS,BLR:NATO", "-o", str(out)]
    assert main(args) == 0
    if fmt == "kmz":
        placemarks = _placemarks(_kml_root(out))
        assert all(float(_data(p)["distance_m"]) > 0 for p in placemarks)
        assert len(placemarks) == len(layers.load_layer("nato_efp", as_of=None))
        return
    info = pyogrio.read_info(out)
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["distance_m"] == types["bearing_deg"] == "float64"
    assert info["crs"] == "EPSG:4326"
    assert (pyogrio.read_dataframe(out)["distance_m"] > 0).all()


@pytest.mark.parametrize("fmt", ["gpkg", "fgb", "kml"])
def test_a_hostile_point_file_exports_literally(fmt, hostile_csv, hostile_corpus, tmp_path):
    """Hostile texts and a hostile column name, through distances -o, come back as written."""
    out = tmp_path / f"d.{fmt}"
    assert main(["distances", "--points", str(hostile_csv), "-o", str(out)]) == 0
    with hostile_csv.open(encoding="utf-8", newline="") as handle:
        hostile_column = next(csv.reader(handle))[-1]
    assert "onclick" in hostile_column
    texts = [text for _, text in hostile_corpus]
    if fmt == "kml":
        placemarks = _placemarks(_kml_root(out))
        assert [_data(p)[hostile_column] for p in placemarks] == [_in_xml(t) for t in texts]
        assert [p.findtext(f"{KML}name") for p in placemarks] == [_in_xml(t) for t in texts]
    else:
        back = pyogrio.read_dataframe(out)
        assert back[hostile_column].tolist() == texts
        assert back["name"].tolist() == back["notes"].tolist() == texts
    assert not (Path.cwd() / "PWNED").exists()
