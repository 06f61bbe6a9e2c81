"""Headless Chromium for the explorer page's tests: Debian's browser, driven by Playwright.

Playwright's own browser download is never used: ``./run test`` installs Debian's
``chromium`` (or set CHAINRULE_CHROMIUM to a Chromium or Chrome executable). Without it
the browser tests skip, except under CI=true, where a missing browser fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from oracles import on_ci

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
]


def chromium_executable() -> str:
    return os.environ.get("CHAINRULE_CHROMIUM") or "/usr/bin/chromium"


def _missing(what: str) -> None:
    if on_ci():
        pytest.fail(f"{what} is missing, and CI must run the explorer's browser tests")
    pytest.skip(f"{what} is missing (./run test installs it)")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright's Browser); skips or fails when missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python (pip install playwright: the test extra)")
    executable = chromium_executable()
    if not os.access(executable, os.X_OK):
        _missing(f"Chromium at {executable} (Debian/Ubuntu: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
