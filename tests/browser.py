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


class Watched:
    """A new page of ``browser`` at ``size`` that records its console errors, its uncaught
    exceptions and every URL it requests (a self-contained page requests none but its own).
    """

    def __init__(self, browser: Any, size: tuple[int, int], timeout_ms: int = 20_000) -> None:
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        self.page.set_default_timeout(timeout_ms)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
