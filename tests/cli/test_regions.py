"""Tests of the ``flankmap regions`` subcommand."""

from geo import regions
from geo.cli import main


def test_cli_lists_the_regions(capsys):
    assert main(["regions"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["region", "title", "bbox"]
    assert out[2].startswith("suwalki-gap")
    assert "https://en.wikipedia.org/wiki/Suwa%C5%82ki_Gap" in out[2]
    assert len(out) == 2 + len(regions.list_regions())
