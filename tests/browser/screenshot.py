"""Take a PNG screenshot of a map file in headless Chromium, offline.

Usage: ``python tests/browser/screenshot.py MAP.html OUT.png [WIDTH HEIGHT]``. The README's
``docs/map.png`` is made with::

    flankmap map -o map.html
    python tests/browser/screenshot.py map.html docs/map.png 1400 900

and ``docs/map-slider.png`` with ``map.html#map=5.5/55.2/24&date=2021-10-20`` (a view and
a date in the address, as a reader's link gives them).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from offline_browser import browser, open_offline


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 800) -> list[str]:
    """Write a screenshot of ``html`` to ``png``; return the blocked requests and errors."""
    path, _, view = str(html).partition("#")
    with browser() as chromium:
        page = open_offline(
            chromium, Path(path), width=width, height=height, hash=view and "#" + view
        )
        page.page.wait_for_timeout(500)
        page.page.screenshot(path=str(png))
        return page.requests + page.errors


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    size = (int(argv[2]), int(argv[3])) if len(argv) == 4 else (1280, 800)
    problems = screenshot(Path(argv[0]), Path(argv[1]), width=size[0], height=size[1])
    for problem in problems:
        print(f"screenshot: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
