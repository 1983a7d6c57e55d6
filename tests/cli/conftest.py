"""Fixtures of the command-line tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import re

import pytest

#: What a terminal acts on; nothing of it may reach stdout or stderr raw (but line ends).
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def raw_control() -> re.Pattern[str]:
    """The characters a terminal acts on: none may reach stdout or stderr raw (but line ends)."""
    return _RAW_CONTROL
