"""Open a file in Debian's headless Chromium with the network blocked (Playwright).

Shared by the browser tests (``conftest.py``) and ``screenshot.py``. Every request other than
the page's own ``file://`` URL is recorded and aborted, so a page that needs the network
shows it in ``requests`` and draws nothing from there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where Debian installs Chromium; FLANKMAP_CHROMIUM overrides it.
CHROMIUM = os.environ.get("FLANKMAP_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class OfflinePage:
    """A page and what it tried to do: requests other than the file, console errors."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def available() -> bool:
    """Whether the Chromium binary exists."""
    return Path(CHROMIUM).exists()


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """Launch headless Chromium; yields a Playwright browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as play:
        chromium = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_offline(
    chromium: Any,
    path: Path,
    *,
    width: int = 1280,
    height: int = 800,
    scale: float = 1,
    wait: bool = True,
    frames: bool = False,
    hash: str = "",
) -> OfflinePage:
    """Open a local HTML file with every other request blocked; wait for the map.

    Parameters
    ----------
    chromium : playwright Browser
        From :func:`browser`.
    path : pathlib.Path
        The HTML file.
    width, height : int
        Viewport size in CSS pixels.
    scale : float
        Device scale factor (2 for a sharp screenshot).
    wait : bool
        Wait until the page's map is drawn (false for a page that only embeds maps).
    frames : bool
        Wait until the map in each of the page's frames is drawn (a page with embedded maps).
    hash : str
        A fragment to open the file with (``#map=8/54.2/23.3``); not part of the request.

    Returns
    -------
    page : OfflinePage
        The page with the requests and console errors collected so far (they keep coming).
    """
    context = chromium.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    page = context.new_page()
    url = path.resolve().as_uri()
    result = OfflinePage(page=page, url=url)

    def route(request_route: Any) -> None:
        if request_route.request.url == url:
            request_route.continue_()
        else:
            result.requests.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("request", lambda r: None if r.url == url else result.requests.append(f"event:{r.url}"))
    page.on("console", lambda m: result.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: result.errors.append(f"pageerror: {exc}"))
    page.goto(url + hash, wait_until="load")
    drawn = "window.flankmap && window.flankmap.maps.length > 0"
    if wait:
        page.wait_for_function(drawn, timeout=15000)
    if frames:
        for frame in page.frames:
            if frame != page.main_frame:
                frame.wait_for_function(drawn, timeout=15000)
    return result
