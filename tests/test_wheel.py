"""The package as users get it: ``python -m build`` makes an sdist and, from it, a wheel;
the wheel, installed into a fresh virtual environment, runs from another folder.

One build and one environment per test session. ``python -m build`` builds the wheel
from the unpacked sdist, so a good wheel also shows that the sdist builds.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from test_readme import python_blocks

import autograd

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "viz", "chainrule")
VERSION = autograd.__version__


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command as a user runs it: nothing of this checkout on the import path."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the sdist and the wheel."""
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    return dist / f"chainrule-{VERSION}-py3-none-any.whl"


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel (and its dependencies) installed."""
    where = tmp_path_factory.mktemp("venv")
    created = run(sys.executable, "-m", "venv", where / "env", cwd=where)
    assert created.returncode == 0, created.stderr
    python = where / "env" / "bin" / "python"
    pip = (python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    installed = run(*pip, wheel, cwd=where)
    assert installed.returncode == 0, installed.stderr
    return where / "env" / "bin"


def package_files() -> set[str]:
    """The files of the four packages in this checkout (what the wheel must hold)."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_the_packages_and_their_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {name for name in names if name.split("/")[0] in PACKAGES}
    assert shipped == package_files()
    for data in ("nn/data/iris.csv", "nn/data/digits.csv.gz", "viz/explorer_assets/explorer.js"):
        assert data in shipped
    assert f"chainrule-{VERSION}.dist-info/licenses/LICENSE" in names


def test_the_metadata_says_what_chainrule_is(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"chainrule-{VERSION}.dist-info/METADATA").decode()
    metadata = email.parser.Parser().parsestr(text)
    assert metadata["Name"] == "chainrule" and metadata["Version"] == VERSION
    assert "backpropagation" in metadata["Summary"]
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.10"
    classifiers = metadata.get_all("Classifier")
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert "Intended Audience :: Education" in classifiers
    # pip install chainrule[torch] brings the PyTorch bridge; torch is never required.
    requires = metadata.get_all("Requires-Dist")
    assert 'torch>=2.0; extra == "torch"' in requires
    assert not [r for r in requires if r.startswith("torch") and "extra" not in r]
    # ... and pip install chainrule[jupyter] the notebook widget's anywidget, never required.
    assert 'anywidget>=0.9; extra == "jupyter"' in requires
    assert not [r for r in requires if r.startswith("anywidget") and "extra" not in r]
    # The README is the long description, as on a package index.
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "## A short tour" in metadata.get_payload()


def test_the_sdist_holds_what_building_testing_and_documenting_need(dist: Path) -> None:
    with tarfile.open(dist / f"chainrule-{VERSION}.tar.gz") as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    needed = {"LICENSE", "README.md", "pyproject.toml", "run", "conftest.py", "mkdocs.yml"}
    for pattern in ("tests/*.py", "docs/**/*.md", "docs/**/*.ipynb", "docs/**/*.png"):
        needed |= {path.relative_to(ROOT).as_posix() for path in ROOT.glob(pattern)}
    assert sorted(needed - names) == []
    assert package_files() <= names


def test_the_installed_wheel_imports_from_its_environment(venv: Path, tmp_path: Path) -> None:
    code = "import autograd, nn, viz, chainrule; print(autograd.__file__, viz.__file__)"
    result = run(venv / "python", "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(Path(path).is_relative_to(venv.parent) for path in result.stdout.split())
    version = run(venv / "chainrule", "--version", cwd=tmp_path)
    assert version.returncode == 0 and VERSION in version.stdout


def test_the_installed_demo_and_explorer_run_from_another_folder(
    venv: Path, tmp_path: Path, dot: str
) -> None:
    demo = run(venv / "chainrule", "demo", "--out", "demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "converged" in demo.stdout
    for name in ("loss.png", "network.svg", "explorer.html", "backward_neuron.gif"):
        assert (tmp_path / "demo" / name).stat().st_size > 0, name
    explore = run(venv / "chainrule", "explore", "--out", "page", "--sample", "5", cwd=tmp_path)
    assert explore.returncode == 0, explore.stderr
    page = (tmp_path / "page" / "explorer.html").read_text(encoding="utf-8")
    # The page's script and style come from the wheel's package data, inlined.
    assets = ROOT / "viz" / "explorer_assets"
    assert "<svg" in page and "Iris sample 5" in page
    assert (assets / "explorer.css").read_text(encoding="utf-8").strip()[:200] in page


def test_the_readmes_examples_run_on_the_installed_wheel(
    venv: Path, tmp_path: Path, dot: str
) -> None:
    script = tmp_path / "readme_examples.py"
    script.write_text("\n".join(python_blocks()), encoding="utf-8")
    result = run(venv / "python", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "from backward(): agrees" in result.stdout
    for name in ("graph.svg", "paths.png", "network.png", "iris-mlp.json"):
        assert (tmp_path / name).stat().st_size > 0, name


WIDGET = """
import nn, viz
data = nn.iris_binary("setosa")
model = nn.MLP(4, [3, 2, 1], seed=0)
try:
    w = viz.widget(model, data.X, data.y)
except ModuleNotFoundError as error:
    print(error)
else:
    model.weight(1, 1, 1).data = 0.5
    w.sync()
    print(type(w).__name__, w.weights[0], len(w._page) > 0)
"""


def test_the_widget_says_how_to_get_it_and_works_with_the_jupyter_extra(
    venv: Path, wheel: Path, tmp_path: Path, dot: str
) -> None:
    # The plain wheel: import viz works, the widget says in one line what to install.
    plain = run(venv / "python", "-c", WIDGET, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.count("\n") == 1 and "pip install chainrule[jupyter]" in plain.stdout
    # With the extra (as pip install chainrule[jupyter] does), the widget and its asset.
    extra = run(
        venv / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        f"{wheel}[jupyter]", cwd=tmp_path,
    )  # fmt: skip
    assert extra.returncode == 0, extra.stderr
    bound = run(venv / "python", "-c", WIDGET, cwd=tmp_path)
    assert bound.returncode == 0, bound.stderr
    assert bound.stdout.split() == ["ExplorerWidget", "0.5", "True"]
