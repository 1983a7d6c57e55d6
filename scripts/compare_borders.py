"""Print what the OpenStreetMap borders change against Natural Earth 1:10m: the issue-11 numbers.

Run from the repository root::

    python scripts/compare_borders.py                 # lengths, shipped sites, extract size
    python scripts/compare_borders.py --build-wheel   # also build the wheel and measure it
    python scripts/compare_borders.py --wheel dist/flankmap-X-py3-none-any.whl

It prints three tables.

1. **Lengths.** The land frontier of every pair of Russia+Belarus with NATO (and with Ukraine,
   Georgia, Azerbaijan), in km: Natural Earth (``geo.borders.frontier(..., borders=
   "naturalearth")``, edges matched), OSM (the default source) and the national figure cited in
   ``tests/test__borders_osm.py`` (repeated in :data:`PUBLISHED_KM`), with each one's ratio to it.
2. **Shipped sites.** ``geo.distance.distances`` of every feature of every shipped layer to the
   default frontier (Russia+Belarus against NATO on ``--as-of``) on both sources: the median,
   p95 and largest change |OSM - NE| and the sites that move most. Lines and areas are measured
   from their nearest point, as ``flankmap distances`` does.
3. **Size.** The extract on disk; with ``--wheel``/``--build-wheel``, its compressed size inside
   the wheel and the wheel's total size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import _borders_osm, borders, distance, layers  # noqa: E402

#: National figures of each land frontier, km (sources cited in tests/test__borders_osm.py).
PUBLISHED_KM = {
    "AZE-RUS": (350.0, "Rosgranitsa"),
    "BLR-LTU": (678.0, "Belarus"),
    "BLR-LVA": (172.9, "Belarusian government"),
    "BLR-POL": (418.0, "Statistics Poland"),
    "BLR-RUS": (1312.0, "CIA World Factbook (never delimited)"),
    "BLR-UKR": (1084.0, "Belarusian State Border Committee"),
    "EST-RUS": (338.6, "Estonian Ministry of the Interior"),
    "FIN-RUS": (1289.6, "Finnish-Russian survey 2007-2016"),
    "GEO-RUS": (897.9, "Rosgranitsa"),
    "LTU-RUS": (274.9, "1997 treaty"),
    "LVA-RUS": (270.5, "Latvian-Russian treaty"),
    "NOR-RUS": (195.8, "Rosgranitsa"),
    "POL-RUS": (210.0, "Statistics Poland"),
    "RUS-UKR": (1974.0, "Russian border service"),
}


def lengths(as_of: str) -> list[tuple[str, float, float, float, str]]:
    """Rows ``(pair, NE km, OSM km, published km, source)``, sorted by pair."""
    side_b = "NATO,UKR,GEO,AZE"
    ne = borders.frontier("RUS,BLR", side_b, as_of=as_of, borders="naturalearth")
    osm = borders.frontier("RUS,BLR", side_b, as_of=as_of)
    ne_km = dict(zip(ne["pair"], ne["length_km"], strict=True))
    osm_km = dict(zip(osm["pair"], osm["length_km"], strict=True))
    rows = []
    for pair in sorted(set(ne_km) | set(osm_km)):
        published, source = PUBLISHED_KM.get(pair, (float("nan"), "-"))
        rows.append(
            (pair, ne_km.get(pair, float("nan")), osm_km.get(pair, float("nan")), published, source)
        )
    # Belarus-Russia lies inside side A: measured apart.
    published, source = PUBLISHED_KM["BLR-RUS"]
    ne_inner = borders.frontier("BLR", "RUS", borders="naturalearth")["length_km"].iloc[0]
    osm_inner = borders.frontier("BLR", "RUS")["length_km"].iloc[0]
    rows.append(("BLR-RUS", float(ne_inner), float(osm_inner), published, source))
    return sorted(rows)


def site_changes(as_of: str):
    """The shipped features with their NE and OSM distances, and the change in metres."""
    frame = layers.load_layers()
    keep = ["id", "country", "geometry"]
    ne = distance.distances(frame[keep], as_of=as_of, borders="naturalearth")
    osm = distance.distances(frame[keep], as_of=as_of)
    out = osm[["id", "country", "border", "located_in"]].copy()
    out["geom_type"] = frame.geometry.geom_type.to_numpy()
    out["ne_m"] = ne["distance_m"].to_numpy()
    out["osm_m"] = osm["distance_m"].to_numpy()
    out["change_m"] = out["osm_m"] - out["ne_m"]
    return out


def wheel_sizes(wheel: Path) -> tuple[int, int, int]:
    """(wheel bytes, extract bytes compressed in it, extract bytes uncompressed)."""
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("geo/data/borders_osm.parquet")
    return wheel.stat().st_size, info.compress_size, info.file_size


def _build_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", folder, ROOT],
        check=True,
    )
    (wheel,) = folder.glob("flankmap-*.whl")
    return wheel


def _print_lengths(as_of: str) -> None:
    print(f"Land frontier lengths, km (rivers and lakes in, sea out; NATO on {as_of})")
    print(f"{'pair':8} {'NE':>8} {'OSM':>8} {'published':>10} {'NE/pub':>7} {'OSM/pub':>8}  source")
    for pair, ne_km, osm_km, published, source in lengths(as_of):
        print(
            f"{pair:8} {ne_km:8.1f} {osm_km:8.1f} {published:10.1f} {ne_km / published:7.3f} "
            f"{osm_km / published:8.3f}  {source}"
        )


def _print_sites(as_of: str, top: int) -> None:
    table = site_changes(as_of)
    print(f"\nShipped features ({len(table)}): distance to RUS,BLR:NATO on {as_of}, OSM - NE")
    for label, rows in (
        ("all features", table),
        ("points only", table[table["geom_type"] == "Point"]),
    ):
        change = np.abs(rows["change_m"].to_numpy())
        worst = rows.iloc[int(change.argmax())]
        print(
            f"  {label:13} n={len(rows):3}  median |change| {np.median(change):7,.0f} m  "
            f"p95 {np.quantile(change, 0.95):7,.0f} m  max {change.max():7,.0f} m "
            f"({worst['id']})"
        )
    moved = (table["change_m"] > 0).sum(), (table["change_m"] < 0).sum()
    print(f"  {moved[0]} move away from the frontier, {moved[1]} towards it")
    wrong = table[(table["located_in"] != table["country"]) & (table["geom_type"] == "Point")]
    print(f"  point sites outside their host country on OSM: {len(wrong)}")
    order = np.argsort(-np.abs(table["change_m"].to_numpy()))[:top]
    print(f"  {'id':44} {'host':4} {'NE km':>9} {'OSM km':>9} {'change m':>9}  nearest pair")
    for _, row in table.iloc[order].iterrows():
        print(
            f"  {row['id']:44} {row['country']:4} {row['ne_m'] / 1000:9.2f} "
            f"{row['osm_m'] / 1000:9.2f} {row['change_m']:+9,.0f}  {row['border']}"
        )


def main(argv: list[str] | None = None) -> int:
    """Print the tables; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--as-of", default="2026-12-01", help="date of NATO's membership")
    parser.add_argument("--top", type=int, default=10, help="sites to list (largest change)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--wheel", type=Path, help="a built wheel to measure")
    group.add_argument("--build-wheel", action="store_true", help="build the wheel to measure")
    args = parser.parse_args(argv)

    _print_lengths(args.as_of)
    _print_sites(args.as_of, args.top)
    size = _borders_osm.DATA_PATH.stat().st_size
    print(f"\nExtract {_borders_osm.DATA_PATH.relative_to(ROOT)}: {size:,} bytes on disk")
    with tempfile.TemporaryDirectory() as work:
        wheel = _build_wheel(Path(work)) if args.build_wheel else args.wheel
        if wheel is not None:
            total, packed, unpacked = wheel_sizes(wheel)
            print(
                f"In the wheel: {packed:,} bytes compressed ({unpacked:,} unpacked); "
                f"the wheel {total:,} bytes in all"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
