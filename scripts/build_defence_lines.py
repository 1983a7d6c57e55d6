"""Redraw the schematic courses of layers/defence_lines.geojson from the shipped OSM border.

Run from the repository root: ``python scripts/build_defence_lines.py``, then
``python scripts/build_sources.py``. The test suite checks that the committed geometries are
what this script derives.

The border defence lines (Poland's East Shield, the three national parts of the Baltic Defence
Line) are built along each state's border with Russia and Belarus at positions that are not
published, so the layer draws their course as the border itself. This script takes that border
from the package's OpenStreetMap extract (``geo.borders.shared_border(..., borders="osm")``,
© OpenStreetMap contributors, ODbL), simplifies it to 300 m (Douglas-Peucker in metres, in the
LAEA Europe projection EPSG:3035; the kept vertices are border vertices, so the course, and the
marker on it, lie on the surveyed border to the 1 m of the 5 decimals written) and writes it as
each feature's geometry, with a ``coord_note`` saying so and the border extract among the
feature's sources. Everything else in the file is kept as it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402

from geo import _data, borders  # noqa: E402

LAYER = ROOT / "layers" / "defence_lines.geojson"
TOLERANCE_M = 300
DECIMALS = 5
#: When the border extract was taken into the package and this course derived from it.
ACCESSED = "2026-12-03"

#: Feature id -> (the building country, its neighbours along the line, how the note names them).
COURSES = {
    "line-east-shield-poland": (
        "POL",
        ("RUS", "BLR"),
        "the border of Poland with Russia (Kaliningrad) and with Belarus",
    ),
    "line-baltic-defence-line-est": ("EST", ("RUS",), "the border of Estonia with Russia"),
    "line-baltic-defence-line-lva": (
        "LVA",
        ("RUS", "BLR"),
        "the borders of Latvia with Russia and Belarus",
    ),
    "line-baltic-defence-line-ltu": (
        "LTU",
        ("RUS", "BLR"),
        "the borders of Lithuania with Russia (Kaliningrad) and Belarus",
    ),
}

NOTE = (
    "Schematic: {borders} as in the package's OpenStreetMap border extract (© OpenStreetMap "
    "contributors, ODbL), simplified to {tolerance} m, so the course lies on the surveyed "
    "border. The works are built along and inside this border at positions that are not "
    "published, hence the wide radius."
)


def course(country: str, neighbours: tuple[str, ...]) -> list[list[list[float]]]:
    """The simplified shared border of ``country`` with ``neighbours``, as MultiLineString parts."""
    parts = [borders.shared_border(country, n, borders="osm") for n in neighbours]
    metric = gpd.GeoSeries(parts, crs="EPSG:4326").to_crs(3035)
    merged = shapely.line_merge(shapely.union_all(metric.simplify(TOLERANCE_M).values))
    lines = gpd.GeoSeries([merged], crs=3035).to_crs(4326).iloc[0]
    return [
        [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in part.coords]
        for part in shapely.get_parts(lines)
    ]


def border_source() -> dict[str, str]:
    """The source entry of the OSM border extract, from its description in the package."""
    osm = _data.border_source("osm")
    return {
        "title": f"{osm.title}, version {osm.version}",
        "url": osm.url,
        "publisher": "OpenStreetMap contributors (ODbL), packaged on npm",
        "accessed": ACCESSED,
        "type": "reference",
        "language": "en",
    }


def derive(collection: dict) -> dict:
    """The collection with each known line's geometry, note and border source redrawn."""
    source = border_source()
    for feature in collection["features"]:
        props = feature["properties"]
        if props["id"] not in COURSES:
            continue
        country, neighbours, text = COURSES[props["id"]]
        feature["geometry"] = {
            "type": "MultiLineString",
            "coordinates": course(country, neighbours),
        }
        props["coord_note"] = NOTE.format(borders=text, tolerance=TOLERANCE_M)
        kept = [s for s in props["sources"] if s["type"] != "reference"]
        props["sources"] = [*kept, source]
    return collection


def render(collection: dict) -> str:
    """The file's text, formatted as the layers are."""
    return json.dumps(collection, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    collection = json.loads(LAYER.read_text(encoding="utf-8"))
    LAYER.write_text(render(derive(collection)), encoding="utf-8")
    print(f"wrote {LAYER.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
