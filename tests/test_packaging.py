"""Packaging and the publish path on a fresh clone.

A wheel holds the `polarity` package only (no top-level `experiments`), and the `polarity`
it installs works from any folder of a clean clone. The publish workflow's steps up to the
Quarto call (`make venv`, then the pre-render build Quarto would run) work on a fresh clone
and leave its tree clean.

The fresh virtual environments see this environment's installed dependencies through a
`.pth` file (the project itself left out) instead of downloading them again (TensorFlow is
~600 MB): what is tested is what `pip install` puts into them. Nothing is downloaded: pip
builds without an index and without build isolation, with this environment's setuptools
(>=77 for PEP 639 license metadata; `make venv` installs it with the dev extras).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from polarity import paths
from tests.conftest import require_system

pytestmark = pytest.mark.slow

PROJECT_NAMES = ("polarity", "experiments", "__editable__", "_polarity")


def _env(**extra) -> dict:
    """The environment of a user's shell: no PYTHONPATH pointing at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "POLARITY_PROJECT")}
    return {**env, **extra}


def _run(command, cwd, **extra) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, env=_env(**extra)
    )
    assert done.returncode == 0, f"{command}: {done.stderr[-3000:] or done.stdout[-3000:]}"
    return done


@pytest.fixture(scope="module")
def offline_build() -> dict:
    """pip's settings for building with no package index: the build backend is this
    environment's setuptools, not one pip would download into an isolated build."""
    have = tuple(int(p) for p in version("setuptools").split(".")[:1])
    require_system("setuptools>=77 in this environment (make venv installs it)", have >= (77,))
    return {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}  # "0" turns isolation off


@pytest.fixture(scope="module")
def dependencies(tmp_path_factory) -> Path:
    """This environment's site-packages without the project: links to each entry."""
    overlay = tmp_path_factory.mktemp("dependencies")
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(PROJECT_NAMES) and entry.suffix != ".pth":
            (overlay / entry.name).symlink_to(entry)
    return overlay


def _fresh_venv(where: Path, dependencies: Path) -> Path:
    base = getattr(sys, "_base_executable", sys.executable)
    # No pip or setuptools of its own: the overlay's (this environment's) serve, so the
    # build backend is setuptools>=77 with no download.
    _run([base, "-m", "venv", "--without-pip", where], cwd=where.parent)
    python = where / "bin" / "python"
    purelib = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=where
    ).stdout.strip()
    Path(purelib, "_dependencies.pth").write_text(f"{dependencies}\n")
    return python


def _clone(where: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(paths.ROOT), str(where)], check=True)
    return where


def test_the_wheel_installs_a_cli_that_works_from_any_folder_of_a_clean_clone(
    tmp_path, offline_build, dependencies
):
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, paths.ROOT],
        cwd=tmp_path,
        **offline_build,
    )
    (wheel,) = dist.glob("polarity-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"polarity", f"polarity-{version('polarity')}.dist-info"}, top
    assert not any(name.startswith("experiments") for name in names)
    assert "polarity/fallback.html" in names and "polarity/crossref.lua" in names
    assert "polarity/report/__init__.py" in names  # the report side, a subpackage
    metadata = zipfile.ZipFile(wheel).read(f"polarity-{version('polarity')}.dist-info/METADATA")
    assert b"License-Expression: MIT" in metadata
    assert any(name.endswith("licenses/LICENSE") for name in names)

    python = _fresh_venv(tmp_path / "venv", dependencies)
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel], tmp_path)
    site = Path(
        _run(
            [
                python,
                "-c",
                "import polarity, pathlib; print(pathlib.Path(polarity.__file__).parent.parent)",
            ],
            tmp_path,
        ).stdout.strip()
    )
    assert not (site / "experiments").exists() and (site / "polarity").is_dir()
    polarity = tmp_path / "venv" / "bin" / "polarity"

    clone = _clone(tmp_path / "clone")
    subfolder = clone / "templates"  # any folder inside the checkout
    _run([polarity, "build"], cwd=subfolder)
    done = _run([polarity, "render", "--renderer", "fallback"], cwd=subfolder)
    assert "rendered with pandoc+typst" in done.stdout
    assert (clone / "_site" / "report" / "index.html").is_file()
    assert (clone / "_site" / "report" / "index.pdf").stat().st_size > 10_000
    # --project from outside, and a one-line error where there is no project.
    _run([polarity, "--project", clone, "build", "--help"], cwd=tmp_path)
    outside = subprocess.run(
        [str(polarity), "build"], cwd=tmp_path, capture_output=True, text=True, env=_env()
    )
    assert outside.returncode == 2
    assert outside.stderr.startswith("error: no polarity project here")
    # `polarity run` imports the checkout's experiments (from the clone, not site-packages).
    unknown = subprocess.run(
        [str(polarity), "run", "--experiment", "nonesuch", "--profile", "smoke"],
        cwd=subfolder,
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: unknown experiment 'nonesuch'; known: background")


def test_publish_workflow_steps_up_to_quarto_work_on_a_fresh_clone(
    tmp_path, offline_build, dependencies
):
    workflow = yaml.safe_load((paths.ROOT / ".github/workflows/publish.yml").read_text())
    clone = _clone(tmp_path / "clone")
    # actions/setup-python: this Python, with the dependencies already installed (see above).
    _fresh_venv(clone / ".venv", dependencies)
    base = getattr(sys, "_base_executable", sys.executable)
    ran = []
    for step in workflow["jobs"]["build"]["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("quarto-dev/quarto-actions/"):
            break  # Quarto itself cannot run here
        if "run" in step:
            _run(
                ["bash", "-c", step["run"]],
                cwd=clone,
                **offline_build,
                PYTHON=base,
                MAKEFLAGS=f"PYTHON={base}",
            )
            ran.append(step["run"])
    assert ran == ["make venv"]
    assert (clone / ".venv" / "bin" / "polarity").is_file()
    # What `quarto render` does first: the pre-render script, run by python3 from PATH with
    # Quarto's variables, which builds the sources with the clone's .venv.
    done = _run(
        [shutil.which("python3") or base, "report/prerender.py"],
        cwd=clone,
        QUARTO_PROJECT_RENDER_ALL="1",
        QUARTO_PROJECT_DIR=str(clone),
    )
    assert (clone / "report" / "index.qmd").is_file(), done.stdout
    assert "Not the results of record" not in (clone / "report" / "index.qmd").read_text()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone,
        capture_output=True,
        text=True,
    ).stdout
    assert status == "", status  # everything generated is ignored
