"""Printing the HTML pages to PDF with headless Chromium (or Google Chrome).

The HTML stays the one source: Chromium prints it with its print stylesheet, as a
teacher's browser would. Chromium was chosen over WeasyPrint because the project's tests
already drive it, it renders the inline SVG exactly as a browser shows it, and it needs no
Python package; printing a class of 30 (60 pages) takes about a second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["PdfUnavailable", "find_chromium", "print_pdf"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_MAC_APPS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
_TIMEOUT = 300  # seconds; a class of 30 prints in one or two


class PdfUnavailable(RuntimeError):
    """No PDF could be printed: Chromium is missing, or it failed. The message says which
    and what to do; the HTML pages are written all the same."""


def install_hint() -> str:
    """How to get a browser that prints the PDFs, for this system."""
    if sys.platform == "darwin":
        return "brew install --cask chromium, or install Google Chrome"
    if sys.platform == "win32":
        return "install Google Chrome and set CHAINRULE_CHROMIUM to its chrome.exe"
    return "sudo apt-get install chromium (or install Google Chrome)"


def find_chromium() -> str | None:
    """The Chromium or Chrome executable to print with: ``CHAINRULE_CHROMIUM`` if set,
    else the first found on PATH (or in /Applications on macOS); None if there is none."""
    chosen = os.environ.get("CHAINRULE_CHROMIUM")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return next((app for app in _MAC_APPS if os.access(app, os.X_OK)), None)


def print_pdf(html_file: Path, pdf_file: Path) -> Path:
    """Print ``html_file`` to ``pdf_file`` with headless Chromium; returns ``pdf_file``.

    Raises :class:`PdfUnavailable` with a one-line reason when Chromium is missing or
    fails. The PDF appears only when complete (printed to a temporary name, then renamed).
    """
    chromium = find_chromium()
    if chromium is None:
        where = os.environ.get("CHAINRULE_CHROMIUM")
        missing = (
            f"CHAINRULE_CHROMIUM={where} is not an executable"
            if where
            else ("Chromium or Google Chrome, which prints them, was not found")
        )
        raise PdfUnavailable(f"{missing}; install it ({install_hint()}) and run this again")
    pdf_file = pdf_file.resolve()
    partial = pdf_file.with_name(f".{pdf_file.name}.partial")
    with tempfile.TemporaryDirectory(prefix="chainrule-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={profile}",  # never touch, or wait for, the user's own browser
            "--no-pdf-header-footer",
            f"--print-to-pdf={partial}",
            html_file.resolve().as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to start as root otherwise
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            partial.unlink(missing_ok=True)
            raise PdfUnavailable(f"{chromium} could not print {html_file.name}: {error}") from None
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise PdfUnavailable(f"{chromium} could not print {html_file.name}: {reason}")
    partial.replace(pdf_file)
    return pdf_file
