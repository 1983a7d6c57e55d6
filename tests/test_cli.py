import json
import subprocess
import sys

from geo.cli import main


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
