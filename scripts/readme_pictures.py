"""Make the README's pictures of a region figure and of the map's date slider.

Usage: ``python scripts/readme_pictures.py [figure|slider ...]`` (default both), or
``make pictures``. It writes, from the installed package and the shipped layers:

- ``docs/figure-region.png``: ``flankmap figure --region suwalki-gap --as-of 2026-12-03``
  at the text-block size (17 x 22 cm), 110 dpi;
- ``docs/map-slider.png``: ``flankmap map`` opened offline in headless Chromium at
  ``#map=5.5/55.2/24&date=2021-10-20``, 1400 x 900 (``tests/browser/screenshot.py``).

Both are reduced to a palette of at most 256 colours without dithering (flat map colours and
anti-aliased text lose nothing visible), so that each stays small in the repository.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
#: The date of the region figure (fixed, so that the picture changes only with the data).
FIGURE_AS_OF = "2026-12-03"
#: The view and date of the slider screenshot, as a reader's link gives them.
SLIDER_VIEW = "#map=5.5/55.2/24&date=2021-10-20"
COLOURS = 256


def _palette(png: Path) -> None:
    """Rewrite a PNG with an adaptive palette (no dithering) and the best compression."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    small = rgb.quantize(
        colors=COLOURS, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
    )
    small.save(png, optimize=True)


def region_figure(out: Path = DOCS / "figure-region.png") -> Path:
    """Draw the Suwałki Gap region figure to ``out`` and return it."""
    from geo.cli import main

    args = ["figure", "-o", str(out), "--region", "suwalki-gap", "--as-of", FIGURE_AS_OF]
    if main([*args, "--page", "text", "--dpi", "110"]) != 0:
        raise SystemExit("readme_pictures: flankmap figure failed")
    _palette(out)
    return out


def slider_screenshot(out: Path = DOCS / "map-slider.png") -> Path:
    """Build the default map, screenshot it at :data:`SLIDER_VIEW` to ``out``, return it."""
    from geo.cli import main

    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from screenshot import screenshot

    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "map.html"
        if main(["map", "-o", str(html)]) != 0:
            raise SystemExit("readme_pictures: flankmap map failed")
        problems = screenshot(Path(f"{html}{SLIDER_VIEW}"), out, width=1400, height=900)
    if problems:
        raise SystemExit("readme_pictures: " + "; ".join(problems))
    _palette(out)
    return out


def main(argv: list[str]) -> int:
    makers = {"figure": region_figure, "slider": slider_screenshot}
    wanted = argv or list(makers)
    unknown = [name for name in wanted if name not in makers]
    if unknown:
        print(__doc__, file=sys.stderr)
        return 2
    for name in wanted:
        out = makers[name]()
        print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size / 1000:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
