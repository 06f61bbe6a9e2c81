"""The oracles' rule for a missing PyTorch, as a test run reports it: a skip names what it
leaves out, at the line of the test that asked (not inside tests/oracles.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_a_skip_without_pytorch_names_the_test_and_what_it_leaves_out(tmp_path: Path) -> None:
    example = tmp_path / "test_example.py"
    example.write_text(
        "import sys\n"
        'sys.modules["torch"] = None  # as where PyTorch is not installed\n'
        "from oracles import require_torch\n\n\n"
        "def test_against_pytorch():\n"
        '    require_torch("notebook 99-example.ipynb")\n'
    )
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PYTHONPATH"] = str(TESTS)
    command = [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(example)]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False
    )
    assert "1 skipped" in result.stdout, result.stdout + result.stderr
    assert (
        "SKIPPED [1] test_example.py:7: notebook 99-example.ipynb needs PyTorch, which is not "
        "installed; CHAINRULE_TORCH=1 ./run test installs it"
    ) in result.stdout
    assert "oracles.py" not in result.stdout
