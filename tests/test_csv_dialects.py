"""CSV files as people have them: Excel's European dialects, other encodings; the fast path.

A clean chunk of a CSV is read and checked with pyarrow, whole columns at once; a chunk with any
problem is read again row by row to word the message. Both must give the same points.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import points
from geo._errors import InputError
from geo.cli import main
from geo.points import read_points, scan_columns


def _bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- Excel's European dialects -------------------------------------------------------------

# Excel in Germany, "CSV UTF-8 (durch Trennzeichen getrennt)": BOM, ';', CRLF, decimal commas.
GERMAN = (
    "\ufeffid;name;lat;lon;coord_uncertainty_m\r\n"
    "de-1;Görlitz Bahnhof;51,1529;14,9853;25,5\r\n"
    "de-2;Frankfurt (Oder);52,3471;14,5506;100\r\n"
    "de-3;Straße der Einheit;53,0794;14,2876;0,5\r\n"
)
# Excel in Finland, "Teksti (sarkaimin erotettu)": tabs and decimal commas.
FINNISH = "id\tnimi\tlatitude\tlongitude\nfi-1\tLappeenranta\t61,0587\t28,1887\nfi-2\tImatra\t61,1719\t28,7526\n"
# Excel in Estonia, "CSV (eraldajaga)" in Windows-1252: ';', decimal commas, 'õ' as one byte.
ESTONIAN = "id;nimi;lat;lon\nee-1;Võru;57,8339;27,0192\nee-2;Põlva;58,0603;27,0694\n".encode(
    "cp1252"
)
# Excel in Poland, Windows-1250.
POLISH = "id;nazwa;lat;lon\npl-1;Białystok;53,1325;23,1688\npl-2;Suwałki;54,1115;22,9308\n".encode(
    "cp1250"
)


def test_german_excel_csv_utf8(tmp_path, caplog):
    path = _bytes(tmp_path, "de.csv", GERMAN.encode("utf-8"))
    with caplog.at_level(logging.WARNING, logger="geo.points"):
        frame = read_points(path)
    assert frame["name"].tolist() == ["Görlitz Bahnhof", "Frankfurt (Oder)", "Straße der Einheit"]
    assert frame["lat"].tolist() == [51.1529, 52.3471, 53.0794]
    assert frame["lon"].tolist() == [14.9853, 14.5506, 14.2876]
    assert frame["coord_uncertainty_m"].tolist() == [25.5, 100.0, 0.5]
    assert caplog.messages == [
        "de.csv: read with columns separated by semicolons, decimal comma (as in row 1)"
    ]


def test_finnish_tab_separated(tmp_path, caplog):
    path = _bytes(tmp_path, "fi.csv", FINNISH.encode("utf-8"))
    with caplog.at_level(logging.WARNING, logger="geo.points"):
        frame = read_points(path)
    assert frame["nimi"].tolist() == ["Lappeenranta", "Imatra"]
    assert frame["latitude"].tolist() == [61.0587, 61.1719]
    assert caplog.messages == [
        "fi.csv: read with columns separated by tabs, decimal comma (as in row 1)"
    ]


def test_tabs_with_decimal_points(tmp_path, caplog):
    path = _bytes(tmp_path, "t.csv", b"id\tlat\tlon\na\t54.7\t25.3\n")
    with caplog.at_level(logging.WARNING, logger="geo.points"):
        frame = read_points(path)
    assert frame["lat"].tolist() == [54.7]
    assert caplog.messages == ["t.csv: read with columns separated by tabs"]


@pytest.mark.parametrize(
    ("data", "encoding", "names", "label"),
    [
        (ESTONIAN, "cp1252", ["Võru", "Põlva"], "Windows-1252"),
        (ESTONIAN, "latin-1", ["Võru", "Põlva"], "Latin-1"),
        (POLISH, "cp1250", ["Białystok", "Suwałki"], "cp1250"),
    ],
)
def test_windows_code_pages_with_an_explicit_encoding(
    tmp_path, caplog, data, encoding, names, label
):
    path = _bytes(tmp_path, "x.csv", data)
    with pytest.raises(InputError, match=r"^x\.csv: is not UTF-8 \(byte \d+, line 2\); save it"):
        read_points(path)
    with caplog.at_level(logging.WARNING, logger="geo.points"):
        frame = read_points(path, encoding=encoding)
    assert frame.iloc[:, 1].tolist() == names
    assert frame["lat"].iloc[0] in (57.8339, 53.1325)
    assert caplog.messages == [
        f"x.csv: read with columns separated by semicolons, decimal comma (as in row 1), "
        f"encoding {label}"
    ]


def test_undefined_windows_1252_byte_is_an_error(tmp_path):
    path = _bytes(tmp_path, "x.csv", b"id,lat,lon\na\x81,54.7,25.3\n")
    with pytest.raises(
        InputError, match=r"^x\.csv: is not Windows-1252 \(byte 12, line 2\); give its encoding$"
    ):
        read_points(path, encoding="cp1252")


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("klingon", r"^unknown encoding 'klingon'; give e\.g\. utf-8, cp1252 or latin-1$"),
        ("utf-16", r"^encoding 'utf-16' is not supported for CSV files \(it changes ASCII"),
    ],
)
def test_encodings_that_cannot_be_used(tmp_path, encoding, message):
    path = _bytes(tmp_path, "p.csv", b"id,lat,lon\na,54.7,25.3\n")
    with pytest.raises(InputError, match=message):
        read_points(path, encoding=encoding)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # The mark is fixed by the first lat/lon that has one; the other mark is an error.
        (
            "id;lat;lon\na;54,7;25,3\nb;54.7;25,3\n",
            r"^p\.csv: row 2: field 'lat': '54\.7' has a '\.', but this file writes decimals "
            r"with ',' \(row 1\); use one decimal mark$",
        ),
        (
            "id;lat;lon\na;54.7;25.3\nb;54,7;25.3\n",
            r"^p\.csv: row 2: field 'lat': '54,7' has a decimal comma, but this file writes "
            r"decimals with '\.' \(row 1\); use one decimal mark$",
        ),
        # A thousands separator is never read as a decimal mark.
        (
            "id;lat;lon;coord_uncertainty_m\na;54,7;25,3;1.000\n",
            r"^p\.csv: row 1: field 'coord_uncertainty_m': '1\.000' has a '\.', but this file",
        ),
        # No lat or lon shows the mark yet: a comma is not guessed.
        (
            "id;lat;lon;coord_uncertainty_m\na;54;25;12,5\n",
            r"^p\.csv: row 1: field 'coord_uncertainty_m': '12,5' is not a plain number \(no "
            r"lat or lon so far shows the decimal mark of this file; write it with '\.'\)$",
        ),
        # In a comma-separated file "52,1" is two fields.
        ("id,lat,lon\na,52,1,23\n", r"^p\.csv: row 1: has 4 fields, the header has 3$"),
        # The hostile-input rules hold with decimal commas too.
        ("id;lat;lon\na;5_4,7;25,3\n", r"^p\.csv: row 1: field 'lat': '5_4,7' is not a plain"),
        ("id;lat;lon\na;54,7;nan\n", r"^p\.csv: row 1: field 'lon': 'nan' is not a finite"),
        ("id;lat;lon\na;154,7;25,3\n", r"^p\.csv: row 1: field 'lat': 154\.7 is outside -90\.\.90"),
        ("id;lat;lon\na;54,7;25,3\na;54,7;25,3\n", r"^p\.csv: row 2: field 'id': 'a' is used by"),
    ],
)
def test_decimal_marks_are_never_misread(tmp_path, text, message):
    path = _bytes(tmp_path, "p.csv", text.encode("utf-8"))
    with pytest.raises(InputError, match=message):
        read_points(path)


def test_semicolons_with_quoted_fields(tmp_path):
    path = _bytes(
        tmp_path,
        "q.csv",
        b'id;name;lat;lon\nua-1;"Kyiv; Ukraine";50,45;30,52\nua-2;"a ""quoted"" name";50,0;30,0\n',
    )
    frame = read_points(path)
    assert frame["name"].tolist() == ["Kyiv; Ukraine", 'a "quoted" name']
    assert frame["lat"].tolist() == [50.45, 50.0]


def test_rejected_rows_keep_their_separator(tmp_path):
    path = _bytes(tmp_path, "p.csv", b"id;lat;lon\na;54,7;25,3\nb;x;25,3\n")
    (chunk,) = points.scan_points(path, skip_invalid=True)
    assert chunk.rejected[["row", "field", "reason", "raw"]].values.tolist() == [
        [2, "lat", "'x' is not a number", "b;x;25,3"]
    ]


def test_distances_cli_reads_a_windows_1252_file(tmp_path, capsys):
    path = _bytes(tmp_path, "ee.csv", ESTONIAN)
    out = tmp_path / "out.csv"
    assert main(["distances", "--points", str(path), "--encoding", "cp1252", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "ee.csv: read with columns separated by semicolons, decimal comma (as in row 1), " in err
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith("ee-1,Võru,57.8339,27.0192,")
    assert main(["distances", "--points", str(path), "-o", str(out)]) == 2
    assert "ee.csv: is not UTF-8 (byte 22, line 2); save it as UTF-8" in capsys.readouterr().err


# --- the fast path and the row-by-row checks agree -----------------------------------------


def _clean_csv(path: Path, n: int, *, delimiter: str = ",", decimal: str = ".") -> Path:
    rng = np.random.default_rng(7)
    lat = rng.uniform(-89, 89, n).round(6)
    lon = rng.uniform(-179, 179, n).round(6)
    unc = rng.uniform(0, 500, n).round(1)

    def num(value: float) -> str:
        return repr(float(value)).replace(".", decimal)

    lines = [delimiter.join(["id", "name", "Lat", "Lon", "coord_uncertainty_m", "note"])]
    for i in range(n):
        note = ["", "=SUM(A1)", "x y", "ünïcödé", "-5"][i % 5]
        lines.append(
            delimiter.join([f"p{i}", f"site {i}", num(lat[i]), num(lon[i]), num(unc[i]), note])
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("delimiter", "decimal"), [(",", "."), (";", ","), ("\t", ".")])
def test_fast_path_gives_what_the_row_checks_give(tmp_path, monkeypatch, delimiter, decimal):
    path = _clean_csv(tmp_path / "p.csv", 3000, delimiter=delimiter, decimal=decimal)
    fast = list(scan_columns(path, chunk_rows=700))
    calls = []
    original = points._fast_chunk
    monkeypatch.setattr(points, "_fast_chunk", lambda *a: calls.append(1) or None)
    slow = list(scan_columns(path, chunk_rows=700))
    assert calls  # the row-by-row checks did read it the second time
    monkeypatch.setattr(points, "_fast_chunk", original)
    assert [len(c.frame) for c in fast] == [len(c.frame) for c in slow] == [700] * 4 + [200]
    for a, b in zip(fast, slow, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)
        np.testing.assert_array_equal(a.lon, b.lon)
        np.testing.assert_array_equal(a.rows, b.rows)
        assert a.done == b.done
    frame = read_points(path)
    assert str(frame["name"].dtype) == str(fast[0].frame["name"].dtype) == "str"


def test_one_bad_row_deep_in_a_clean_file(tmp_path):
    path = _clean_csv(tmp_path / "p.csv", 5000)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4321] = lines[4321].replace("site 4320", "site 4320,extra")
    lines[2000] = lines[2000].replace("p1999,", "p7,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"^p\.csv: row 2000: field 'id': 'p7' is used by row 8 too$"
    ):
        list(scan_columns(path, chunk_rows=1000))
    chunks = list(points.scan_points(path, chunk_rows=1000, skip_invalid=True))
    rejected = pd.concat([c.rejected for c in chunks])
    assert rejected[["row", "field", "reason"]].values.tolist() == [
        [2000, "id", "'p7' is used by row 8 too"],
        [4321, "", "has 7 fields, the header has 6"],
    ]
    assert sum(len(c.points) for c in chunks) == 4998


def test_a_quote_switches_to_the_csv_module_for_the_rest(tmp_path):
    path = _clean_csv(tmp_path / "p.csv", 2000)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1500] = lines[1500].replace("site 1499", '"site\n1499, quoted"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_points(path)
    assert len(frame) == 2000
    assert frame["name"].iloc[1499] == "site\n1499, quoted"
    assert frame["name"].iloc[1500] == "site 1500"


@pytest.mark.parametrize("fast", [True, False])
def test_the_decimal_mark_is_told_by_the_first_lat_or_lon_that_has_one(
    tmp_path, caplog, monkeypatch, fast
):
    if not fast:
        monkeypatch.setattr(points, "_fast_chunk", lambda *a: None)
    path = _bytes(tmp_path, "p.csv", b"id;lat;lon\na;54;25\nb;55;25,5\nc;54,25;26\n")
    with caplog.at_level(logging.WARNING, logger="geo.points"):
        frame = read_points(path)
    assert frame["lon"].tolist() == [25.0, 25.5, 26.0]
    assert frame["lat"].tolist() == [54.0, 55.0, 54.25]
    assert caplog.messages == [
        "p.csv: read with columns separated by semicolons, decimal comma (as in row 3)"
    ]


@pytest.mark.parametrize(
    "cell",
    [
        '"Kyiv, Ukraine"',  # a quoted separator
        '"a ""quoted"" name"',  # doubled quotes
        '""',  # an empty quoted cell
        'x"y',  # a quote inside a cell: literal for Python's csv module
        '"ab"c',  # text after the closing quote
        ' "a"',  # a space before the quote
    ],
)
def test_quoted_cells_read_as_pythons_csv_module_reads_them(tmp_path, monkeypatch, cell):
    path = _clean_csv(tmp_path / "p.csv", 1200)
    lines = path.read_text(encoding="utf-8").splitlines()
    for i in (3, 700, 1100):
        lines[i] = lines[i].replace(f"site {i - 1}", cell)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast = read_points(path)
    monkeypatch.setattr(points, "_arrow_table", lambda *a: points._UNSURE)
    legacy = read_points(path)
    pd.testing.assert_frame_equal(fast, legacy)
    assert len(fast) == 1200


def test_quoted_separators_stay_on_the_fast_path(tmp_path, monkeypatch):
    path = _clean_csv(tmp_path / "p.csv", 1000)
    text = path.read_text(encoding="utf-8").replace("site 5,", '"site 5, quoted",')
    path.write_text(text, encoding="utf-8")
    seen = []
    original = points._fast_chunk
    monkeypatch.setattr(points, "_fast_chunk", lambda *a: seen.append(original(*a)) or seen[-1])
    frame = read_points(path)
    assert frame["name"].iloc[5] == "site 5, quoted"
    assert seen
    assert all(result is not None for result in seen)
