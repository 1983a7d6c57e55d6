"""Tests of the ``flankmap map`` subcommand: options, tiles, user files and regions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from geo import maps
from geo._errors import InputError
from geo.cli import main

DATA = Path(__file__).parents[1] / "data"


AS_OF = "2021-10-20"


def test_cli_map(map_layers, tmp_path, capsys):
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--rings", "100,300"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # Comma lists are read as by report and figure: blanks around the items do not count.
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--layers", "sites, hostile"]) == 0
    assert (
        main(["map", "-o", str(out), "--as-of", AS_OF, "--ring-sites", "east-radar, west-bg"]) == 0
    )
    capsys.readouterr()
    assert main(["map", "-o", str(out), "--rings", "ten"]) == 2
    assert "--rings 'ten'" in capsys.readouterr().err
    assert main(["map", "-o", str(tmp_path / "nope" / "m.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_tiles_that_need_a_key(map_layers, tmp_path, capsys):
    out = tmp_path / "t.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--tiles", "CartoDB.Positron"]) == 2
    assert "needs an API key" in capsys.readouterr().err
    argv = ["map", "-o", str(out), "--as-of", AS_OF, "--tiles", "CartoDB.Positron"]
    assert main([*argv, "--tiles-key", "k3y"]) == 0
    assert "key=k3y" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("provider", "query"),
    [
        ("MapBox", "access_token=k3y"),
        ("Jawg.Streets", "access-token=k3y"),
        ("MapTiler.Streets", "key=k3y"),
        ("Thunderforest.OpenCycleMap", "apikey=k3y"),
    ],
)
def test_cli_tiles_key_goes_to_the_providers_own_field(
    provider, query, map_layers, tmp_path, capsys, map_payload
):
    out = tmp_path / "t.html"
    argv = ["map", "-o", str(out), "--as-of", AS_OF, "--tiles", provider, "--tiles-key", "k3y"]
    assert main(argv) == 0, capsys.readouterr().err
    tiles = map_payload(out.read_text(encoding="utf-8"))["tiles"]
    assert tiles["url"].endswith(query)
    assert "<insert" not in tiles["url"]


def test_cli_tiles_help_example_needs_no_key(map_layers, tmp_path, capsys, map_payload):
    import xyzservices

    with pytest.raises(SystemExit):
        main(["map", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    example = re.search(r"online tiles by xyzservices name, e\.g\. ([\w.]+)", help_text)
    assert example, help_text
    assert not xyzservices.providers.query_name(example[1]).requires_token()
    out = tmp_path / "t.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--tiles", example[1]]) == 0
    assert map_payload(out.read_text(encoding="utf-8"))["tiles"]["name"] == example[1]


def test_cli_map_skip_invalid_writes_the_rejected_rows(
    map_layers, tmp_path, capsys, map_payload, map_overlays
):
    bad = tmp_path / "mixed.csv"
    bad.write_text(
        "name,lat,lon\nVilnius,54.687,25.28\nB,abc,24.0\nRiga,56.95,24.1\nC,128.1,54\n",
        encoding="utf-8",
    )
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--add", str(bad)]) == 2
    assert not out.exists()
    capsys.readouterr()
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--add", str(bad), "--skip-invalid"]) == 0
    err = capsys.readouterr().err
    assert "skipped 2 invalid row(s); wrote them with the reason to" in err
    user = map_overlays(map_payload(out.read_text(encoding="utf-8")), "sites")["mixed"]
    assert user["p"]["names"] == ["Vilnius", "Riga"]
    rejected = (tmp_path / "m.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "file,row,field,reason,raw"
    assert rejected[1].startswith("mixed.csv,2,lat,'abc' is not a number,")
    assert rejected[2].startswith("mixed.csv,4,lat,128.1 is outside -90..90 (lat and lon swapped?)")


def test_cli_map_skip_invalid_needs_a_file_and_a_distinct_side_file(map_layers, tmp_path, capsys):
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), "--skip-invalid"]) == 2
    assert capsys.readouterr().err == "flankmap: error: --skip-invalid needs --add FILE\n"
    csv_path = str(DATA / "maps_points.csv")
    argv = ["map", "-o", str(out), "--add", csv_path, "--skip-invalid", "--rejected", str(out)]
    assert main(argv) == 2
    assert "is the output file" in capsys.readouterr().err
    assert not out.exists()


def test_fragment_height_or_aspect_ratio(map_layers, tmp_path, capsys):
    fmap = maps.build_map(as_of=AS_OF)
    ratio = maps.render_fragment(fmap)
    assert 'style="display:block;width:100%;aspect-ratio:4/3;height:auto;' in ratio
    fixed = maps.render_fragment(fmap, height="480px")
    assert 'style="display:block;width:100%;height:480px;border:0"' in fixed
    with pytest.raises(InputError, match="nor a ratio"):
        maps.render_fragment(fmap, height="480px;background:url(x)")
    out = tmp_path / "f.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--fragment", "--height", "16:9"]) == 0
    assert "aspect-ratio:16/9" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["map", "-o", str(out), "--height", "500px"]) == 2
    assert "add --fragment" in capsys.readouterr().err
    assert main(["map", "-o", str(out), "--fragment", "--height", "tall"]) == 2
    assert "is not a CSS length" in capsys.readouterr().err


def test_cli_popup_fields(map_layers, tmp_path, capsys, map_payload, map_overlays):
    out = tmp_path / "m.html"
    path = str(DATA / "maps_user_columns.csv")
    argv = ["map", "-o", str(out), "--as-of", AS_OF, "--add", path, "--popup-fields", "unit"]
    assert main(argv) == 0
    user = map_overlays(map_payload(out.read_text(encoding="utf-8")), "sites")["maps_user_columns"]
    assert user["p"]["fields"][-1] == "unit"
    assert "strength" not in user["p"]["fields"]
    capsys.readouterr()
    assert main(["map", "-o", str(out), "--popup-fields", "unit"]) == 2
    assert "add --add FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "su.csv",
            "name,lat,lon,since,until\nA,54.0,24.0,2020,\nB,54.1,24.1,2021,2021-13-01\n",
            "su.csv: row 2: field 'until': '2021-13-01' has month 13, which is not 1 to 12",
        ),
        (
            "su.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [24.0, 54.0]},
                            "properties": {"name": n, "since": s, "until": ""},
                        }
                        for n, s in (("A", "2020"), ("B", "2021-02-30"), ("C", "2019"))
                    ],
                }
            ),
            "su.geojson: feature 2: field 'since': '2021-02-30' names no real day",
        ),
        (
            "codes.csv",
            "name,lat,lon,operator,country\nA,54.0,24.0,RUS,BLR\nB,54.1,24.1,YYY,BLR\n",
            "codes.csv: row 2: field 'operator': 'YYY' is not an ISO alpha-3 code, NATO or SUN",
        ),
        (
            "codes.csv",
            "name,lat,lon,operator,country\nA,54.0,24.0,SUN,BLR\nB,54.1,24.1,RUS,YYY\n",
            "codes.csv: row 2: field 'country': 'YYY' is not a known ISO alpha-3 code",
        ),
        (
            "codes.csv",
            "name,lat,lon,operator,country\nA,54.0,24.0,RUS,\n",
            "codes.csv: row 1: field 'country': is empty",
        ),
    ],
)
def test_bad_dates_and_codes_of_user_files_name_file_row_and_field(
    map_layers, tmp_path, capsys, name, text, message
):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--add", str(path)]) == 2
    assert capsys.readouterr().err == f"flankmap: error: {message}\n"
    assert not out.exists()


def test_an_until_before_its_since_in_a_user_file_is_an_error(
    map_layers, tmp_path, capsys, map_payload, map_overlays
):
    path = tmp_path / "order.csv"
    path.write_text(
        "name,lat,lon,since,until\nA,54.0,24.0,2020,\nB,54,24,2021-05,2021-04\n", "utf-8"
    )
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), "--as-of", AS_OF, "--add", str(path)]) == 2
    assert capsys.readouterr().err == (
        "flankmap: error: order.csv: row 2: field 'until': '2021-04' is before since '2021-05'\n"
    )
    assert not out.exists()
    argv = ["map", "-o", str(out), "--as-of", AS_OF, "--add", str(path), "--skip-invalid"]
    assert main(argv) == 0
    data = map_payload(out.read_text(encoding="utf-8"))
    assert map_overlays(data, "sites")["order"]["p"]["names"] == ["A"]


def test_skip_invalid_skips_bad_dates_and_codes_with_their_reason(
    map_layers, tmp_path, capsys, map_payload, map_overlays
):
    path = tmp_path / "su.csv"
    path.write_text(
        "name,lat,lon,operator,country,since,until\n"
        "Good,54.0,24.0,RUS,BLR,2020,\n"
        "Month,54.1,24.1,RUS,BLR,2021,2021-13-01\n"
        "Lat,abc,24.2,RUS,BLR,2020,\n"
        "Code,54.3,24.3,YYY,BLR,2020,\n"
        "Host,54.4,24.4,POL,YYY,2020,\n"
        "Later,54.5,24.5,POL,POL,2030,\n",
        encoding="utf-8",
    )
    out = tmp_path / "m.html"
    argv = ["map", "-o", str(out), "--as-of", AS_OF, "--add", str(path), "--skip-invalid"]
    assert main(argv) == 0, capsys.readouterr().err
    assert "skipped 4 invalid row(s)" in capsys.readouterr().err
    user = map_overlays(map_payload(out.read_text(encoding="utf-8")), "sites")["su"]
    assert user["p"]["names"] == ["Good", "Later"]  # both valid; the slider dates them
    assert user["since"] == ["2020-01-01", "2030-01-01"]  # "Later" is not yet active
    rejected = pd.read_csv(tmp_path / "m.rejected.csv", dtype=str, keep_default_na=False)
    assert rejected[["row", "field", "reason"]].values.tolist() == [
        ["2", "until", "'2021-13-01' has month 13, which is not 1 to 12"],
        ["3", "lat", "'abc' is not a number"],
        ["4", "operator", "'YYY' is not an ISO alpha-3 code, NATO or SUN"],
        ["5", "country", "'YYY' is not a known ISO alpha-3 code"],
    ]
    assert json.loads(rejected["raw"].iloc[2])["name"] == "Code"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--bbox", "21,53,26"], "is not four comma-separated numbers W,S,E,N"),
        (["--region", "mars"], "no region named 'mars'; regions: suwalki-gap"),
        (["--bbox", "21,53,26,56", "--region", "baltics"], "give a bbox or a region, not both"),
    ],
)
def test_cli_map_refuses_a_bad_region_in_one_line(option, message, tmp_path, capsys):
    out = tmp_path / "m.html"
    assert main(["map", "-o", str(out), *option]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_map_takes_a_region(tmp_path, map_payload, map_overlays):
    out = tmp_path / "gap.html"
    assert main(["map", "-o", str(out), "--region", "suwalki-gap", "--as-of", "2025-06-01"]) == 0
    data = map_payload(out.read_text(encoding="utf-8"))
    assert "suwalki-gap" in map_overlays(data)
    box = tmp_path / "box.html"
    assert main(["map", "-o", str(box), "--bbox", "21,53,26,56", "--as-of", "2025-06-01"]) == 0
    assert map_payload(box.read_text(encoding="utf-8"))["bounds"] == [[53.0, 21.0], [56.0, 26.0]]
