import json
import re
import subprocess
import sys

import pytest

from geo.cli import main, printable


def test_layers_lists_every_layer(mini_layers, capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["layer", "title", "features", "dates"]
    assert out[2].startswith("east")
    assert "2003..2022-04" in out[2]
    assert out[3].startswith("west")


def test_layers_name_prints_a_table(mini_layers, capsys):
    assert main(["layers", "west"]) == 0
    out = capsys.readouterr().out
    assert "west-md" in out
    assert "54.5000,17.0000" in out


def test_layers_geojson(mini_layers, capsys):
    assert main(["layers", "east", "--geojson", "--as-of", "2021-10-20"]) == 0
    collection = json.loads(capsys.readouterr().out)
    assert [f["properties"]["id"] for f in collection["features"]] == ["east-radar"]


def test_unknown_layer_is_one_line_and_exit_2(mini_layers, capsys):
    assert main(["layers", "nope"]) == 2
    err = capsys.readouterr().err
    assert err == "flankmap: error: no layer named 'nope'; layers: east, west\n"


def test_bad_as_of(mini_layers, capsys):
    assert main(["layers", "east", "--as-of", "2021-10"]) == 2
    assert "is not a date of the form YYYY-MM-DD" in capsys.readouterr().err


def test_layer_options_without_a_name_are_not_ignored(mini_layers, capsys):
    for option in (["--as-of", "x"], ["--as-of", "2021-10-20"], ["--geojson"]):
        assert main(["layers", *option]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("flankmap: error: --as-of and --geojson need a layer name")


def test_invalid_layer_file_exit_2(tmp_path, monkeypatch, write_layer, feature, capsys):
    feature["properties"]["since"] = "soon"
    write_layer([feature], name="bad")
    monkeypatch.setenv("FLANKMAP_LAYERS_DIR", str(tmp_path))
    assert main(["layers"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "bad.geojson: feature test-site: field 'since'" in err


def test_python_dash_m_geo(mini_layers):
    result = subprocess.run(
        [sys.executable, "-m", "geo", "layers"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "East test layer" in result.stdout


# --- hostile text on the terminal: control characters are shown escaped ------------------

#: What a terminal acts on; nothing of it may reach stdout or stderr raw (but line ends).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def test_printable_escapes_every_control_character(hostile_corpus):
    for _, text in hostile_corpus:
        shown = printable(text)
        assert not RAW_CONTROL.search(shown)
        assert "\n" not in shown
        if not RAW_CONTROL.search(text) and "\n" not in text:
            assert shown == text  # nothing else changes
    assert printable("a\x1b[2Jb\u202ec\n\x9b") == "a\\x1b[2Jb\\u202ec\\n\\x9b"
    assert printable("Ünïcödé 🚀 ok") == "Ünïcödé 🚀 ok"


def test_distances_table_shows_hostile_text_as_data(hostile_csv, hostile_corpus, capsys):
    assert main(["distances", "--points", str(hostile_csv), "--as-of", "2021-10-20"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert not RAW_CONTROL.search(captured.out)
    for _, text in hostile_corpus:
        assert printable(text)[:30] in captured.out  # names are cut at 40 characters


def test_a_hostile_header_in_an_error_is_escaped(tmp_path, capsys):
    path = tmp_path / "ansi.csv"
    path.write_text("id,na\x1b]52;c;SGVsbG8=\x07me,x,y\na,b,1,2\n", encoding="utf-8")
    assert main(["distances", "--points", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "flankmap: error: ansi.csv: has no lat/lon columns (columns: id, "
        "na\\x1b]52;c;SGVsbG8=\\x07me, x, y); name them lat and lon, or latitude and longitude\n"
    )


def test_a_hostile_file_name_in_notices_and_output_lines(tmp_path, data_dir, capsys):
    source = tmp_path / "pts\x1b[2J.geojson"
    source.write_bytes((data_dir / "points_3035.geojson").read_bytes())
    out = tmp_path / "out\x07.csv"
    assert main(["distances", "--points", str(source), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "flankmap: warning: pts\\x1b[2J.geojson: reprojected from EPSG:3035" in captured.err
    assert "out\\x07.csv" in captured.out
    assert not RAW_CONTROL.search(captured.out + captured.err)


def test_hostile_layer_table_and_geojson(hostile_layers, hostile_corpus, capsys):
    assert main(["layers", "hostile"]) == 0
    table = capsys.readouterr().out
    assert not RAW_CONTROL.search(table)
    assert "\\x1b[31m" in table
    assert main(["layers", "hostile", "--geojson"]) == 0
    text = capsys.readouterr().out
    assert not RAW_CONTROL.search(text)
    names = [f["properties"]["name"] for f in json.loads(text)["features"]]
    assert names == [t for _, t in hostile_corpus]  # the same data, escaped only as JSON


@pytest.mark.parametrize(
    "argv", [["layers", "x", "\x1b]0;t\x07"], ["distances", "--bogus\x1b[2J"]]
)  # argparse quotes unrecognized arguments as they are
def test_arguments_quoted_in_messages_are_escaped(mini_layers, capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert not RAW_CONTROL.search(err)
    assert "\\x1b" in err


def test_a_library_warning_is_one_line_once(mini_layers, capsys, monkeypatch):
    import warnings

    from geo import cli

    real = cli._cmd_layers

    def noisy(args):
        for _ in range(3):
            warnings.warn(
                "Glyph 128640 missing\n  from font DejaVu Sans", UserWarning, stacklevel=1
            )
        return real(args)

    monkeypatch.setattr(cli, "_cmd_layers", noisy)
    assert main(["layers"]) == 0
    assert capsys.readouterr().err == "flankmap: warning: Glyph 128640 missing\n"
