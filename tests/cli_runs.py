"""Running the ``chainrule`` command in tests: as a user does (a subprocess), or in this
process (faster) with its output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli import main


def run_cli(
    *args: str, cwd: Path | None = None, without_dot: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m chainrule ARGS``; ``without_dot``: an empty folder to be the whole PATH."""
    env = dict(os.environ)
    if without_dot is not None:
        env["PATH"] = str(without_dot)
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
        check=False,
    )


def main_captured(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``chainrule ARGV`` in this process: its exit status, stdout and stderr."""
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err
