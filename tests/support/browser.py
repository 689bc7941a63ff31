"""Debian's headless Chromium, which ``make test`` installs (report and FreqUI tests)."""

from __future__ import annotations

import shutil

import pytest


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return found
