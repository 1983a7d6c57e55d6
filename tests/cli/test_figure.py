"""Tests of the ``flankmap figure`` subcommand: sizes, pages, scales, regions and errors."""

from geo import figures
from geo.cli import main

AS_OF = "2023-01-01"


def test_cli_figure(mini_layers, tmp_path, capsys, png_size):
    out = tmp_path / "map.png"
    assert main(["figure", "-o", str(out), "--as-of", AS_OF, "--width-cm", "10"]) == 0
    assert png_size(out.read_bytes()) == (int(10 / 2.54 * 200), int(22 / 2.54 * 200))
    assert "wrote" in capsys.readouterr().out


def test_cli_distance_chart_takes_a_width_alone(mini_layers, tmp_path, png_size):
    out = tmp_path / "chart.png"
    argv = ["figure", "--kind", "distances", "-o", str(out), "--as-of", AS_OF, "--dpi", "100"]
    assert main([*argv, "--width-cm", "10"]) == 0
    width, height = png_size(out.read_bytes())
    assert width == int(10 / 2.54 * 100)
    assert height > 0


def test_cli_figure_bad_suffix_is_exit_2(mini_layers, tmp_path, capsys):
    assert main(["figure", "-o", str(tmp_path / "map.gif")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flankmap: error: cannot write 'map.gif'")


def test_cli_refuses_a_huge_raster_in_one_line(mini_layers, tmp_path, capsys):
    out = tmp_path / "big.png"
    args = ["figure", "-o", str(out), "--width-cm", "200", "--height-cm", "200", "--dpi", "1200"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("flankmap: error: figure of 94,489 x 94,489 px")
    assert err.count("\n") == 1
    assert not out.exists()


def test_cli_page_sizes_and_scale(mini_layers, tmp_path, capsys, png_size):
    from geo.cli import FIGURE_PAGES

    assert sorted(FIGURE_PAGES) == sorted(figures.PAGE_SIZES_CM)
    out = tmp_path / "page.png"
    argv = ["figure", "-o", str(out), "--as-of", AS_OF, "--dpi", "40"]
    assert main([*argv, "--page", "a4"]) == 0
    assert png_size(out.read_bytes()) == (int(21 / 2.54 * 40), int(29.7 / 2.54 * 40))
    chart = tmp_path / "chart.svg"
    chart_argv = ["figure", "--kind", "distances", "-o", str(chart), "--as-of", AS_OF]
    assert main([*chart_argv, "--scale", "log", "--page", "a4-landscape"]) == 0
    assert 'width="841.' in chart.read_text(encoding="utf-8")[:2000]  # 29.7 cm in points
    capsys.readouterr()
    assert main([*argv, "--page", "a4", "--width-cm", "10"]) == 2
    assert capsys.readouterr().err == (
        "flankmap: error: --page sets the size: give it or --width-cm/--height-cm, not both\n"
    )
    assert main([*argv, "--scale", "log"]) == 2
    assert capsys.readouterr().err == (
        "flankmap: error: --scale is for the distance chart: add --kind distances\n"
    )


def test_cli_figure_takes_a_region(tmp_path):
    out = tmp_path / "gap.svg"
    args = ["figure", "-o", str(out), "--region", "suwalki-gap", "--as-of", "2025-06-01"]
    assert main(args) == 0
    assert 'id="suwalki-gap"' in out.read_text(encoding="utf-8")


def test_cli_distance_chart_refuses_a_region(tmp_path, capsys):
    out = tmp_path / "chart.svg"
    assert main(["figure", "-o", str(out), "--kind", "distances", "--region", "baltics"]) == 2
    assert "apply to --kind map" in capsys.readouterr().err
    assert not out.exists()
