"""Tests of the ``flankmap report`` subcommand."""

from geo import layers
from geo.cli import main

AS_OF = "2022-03-01"


def test_cli_report(mini_layers, tmp_path, capsys, report_page):
    out = tmp_path / "report.html"
    assert main(["report", "-o", str(out), "--as-of", AS_OF, "--static", "--rings", "0"]) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert len(report_page(page).rows) == len(layers.load_layers(as_of=AS_OF))


def test_cli_report_errors_are_one_line(mini_layers, tmp_path, capsys):
    code = main(["report", "-o", str(tmp_path / "r.html"), "--compare", "2022-01-01", "2022-01-01"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "two different dates" in err


def test_cli_report_takes_a_region(tmp_path):
    out = tmp_path / "report.html"
    args = ["report", "-o", str(out), "--region", "suwalki-gap", "--as-of", "2025-06-01"]
    assert main(args) == 0
    page = out.read_text(encoding="utf-8")
    assert "&quot;slug&quot;:&quot;suwalki-gap&quot;" in page  # the map in its srcdoc
    static = tmp_path / "static.html"
    args = [
        "report",
        "-o",
        str(static),
        "--bbox",
        "21,53,26,56",
        "--static",
        "--as-of",
        "2025-06-01",
    ]
    assert main(args) == 0
