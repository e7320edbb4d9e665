"""The paths users take with real Quarto, end to end on a fresh copy of the checkout: the
tracked and new files of this working tree, nothing that git ignores (no .venv, no _site,
no built sources), as `git clone` gives them.

`make venv` is stood in for by a `.venv/bin/python` that runs this session's interpreter
(where the project is installed) on the clone's project: what pre-render looks for is the
checkout's .venv, and building another (about 1.5 min) would test pip, not the project."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polarity import paths
from tests.conftest import quarto_or_skip

pytestmark = pytest.mark.slow


def fresh_clone(where: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        cwd=paths.ROOT,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no clone to make")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = paths.ROOT / name
        if source.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)
    return where


def user_env() -> dict:
    """A user's shell: no variables of ours or Quarto's, and no virtual environment on PATH
    (Quarto runs the pre-render script with `python3` from PATH)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUARTO_", "POLARITY_"))}
    # But the suite's figure cache (conftest): figures are drawn from the same results by the
    # same code in every project, and cold drawing under pre-render has a test of its own
    # (test_attacks.py, the hostile citation under real Quarto).
    env["POLARITY_FIGURE_CACHE"] = os.environ["POLARITY_FIGURE_CACHE"]
    env.pop("VIRTUAL_ENV", None)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    return env


def quarto(clone: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [quarto_or_skip(), "render", *args],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=clone,
        env=user_env(),
    )


def make_venv(clone: Path) -> None:
    python = clone / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    # The clone's own project, as an editable install of the clone would find it.
    python.write_text(f'#!/bin/sh\nPOLARITY_PROJECT="{clone}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)


def snapshot(site: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def rendered_clone(tmp_path_factory):
    """A fresh clone after `make venv`, rendered with `quarto render`."""
    clone = fresh_clone(tmp_path_factory.mktemp("clone"))
    make_venv(clone)
    done = quarto(clone)
    return clone, done, snapshot(clone / "_site")


def test_quarto_render_on_a_fresh_clone_gives_the_article_of_record(rendered_clone):
    clone, done, files = rendered_clone
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"index.html", "report/index.html", "report/index.pdf"} <= set(files)
    html = (clone / "_site" / "report" / "index.html").read_text()
    assert "Not the results of record" not in html  # built from report/results
    assert '<meta name="generator" content="quarto-' in html  # Quarto's page, not ours
    built = (clone / "report" / ".polarity-build.json").read_text()
    assert str((clone / "report" / "results").resolve()) in built


def test_rendering_twice_gives_the_same_files(rendered_clone):
    clone, first, files = rendered_clone
    assert first.returncode == 0
    again = quarto(clone)
    assert again.returncode == 0, again.stderr[-2000:]
    assert snapshot(clone / "_site") == files


def test_rendering_the_single_document_once_the_project_has_been_rendered(rendered_clone):
    clone, first, files = rendered_clone
    assert first.returncode == 0
    done = quarto(clone, "report/index.qmd")  # Quarto runs the pre-render step for it too
    assert done.returncode == 0, done.stderr[-2000:]
    assert snapshot(clone / "_site") == files


def test_the_single_document_on_a_fresh_clone_is_refused_before_anything_is_written(tmp_path):
    """report/index.qmd is generated, so a fresh clone has none, and Quarto refuses to render
    a file that does not exist before it runs the pre-render step (README: render the
    project first)."""
    clone = fresh_clone(tmp_path)
    make_venv(clone)
    done = quarto(clone, "report/index.qmd")
    assert done.returncode != 0
    assert "No valid input files passed to render" in done.stderr
    assert not (clone / "_site").exists() and not (clone / "report" / "index.qmd").exists()


def test_without_make_venv_one_line_says_what_to_run_and_nothing_is_written(tmp_path):
    clone = fresh_clone(tmp_path)
    plain = subprocess.run(
        ["python3", "-c", "import polarity.article"], capture_output=True, env=user_env()
    )
    if plain.returncode == 0:
        pytest.skip("python3 on PATH has the polarity package: no user without it here")
    done = quarto(clone)
    assert done.returncode != 0
    said = [line for line in (done.stdout + done.stderr).splitlines() if "make venv" in line]
    assert len(said) == 1 and "cannot import the polarity package" in said[0], done.stderr
    site = clone / "_site"
    assert not site.exists() or not any(site.iterdir())
    assert not (clone / "report" / "index.qmd").exists()
