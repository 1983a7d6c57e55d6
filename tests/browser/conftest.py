"""Browser fixtures: one headless Chromium per test session, pages opened with the network blocked.

The tests skip with a message when Chromium is missing, except where FLANKMAP_REQUIRE_BROWSER=1
(as in CI), where a missing browser fails them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import offline_browser


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright browser), or a skip when there is none."""
    if not offline_browser.available():
        message = (
            f"headless Chromium not found at {offline_browser.CHROMIUM}: "
            "apt-get install chromium (or set FLANKMAP_CHROMIUM)"
        )
        if os.environ.get("FLANKMAP_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with offline_browser.browser() as browser:
        yield browser


@pytest.fixture
def open_offline(chromium: Any):
    """Open a local HTML file with every other request blocked; close it after the test."""
    pages: list[offline_browser.OfflinePage] = []

    def _open(path: Path, **options: Any) -> offline_browser.OfflinePage:
        page = offline_browser.open_offline(chromium, path, **options)
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.page.context.close()
