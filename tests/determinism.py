"""Run a picture-building function in fresh processes under different hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def outputs_across_processes(module: str, function: str) -> set[str]:
    """What ``module.function()`` returns (a str) in processes with PYTHONHASHSEED 1 and 2."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"from {module} import {function}; print({function}(), end='')"
    )
    here = str(Path(__file__).parent)
    return {
        subprocess.run(
            [sys.executable, "-c", script, here],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
