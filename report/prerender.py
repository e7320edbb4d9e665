"""Quarto pre-render step: build report/index.qmd and its figures from the results JSON.

Quarto has no Python of its own: it runs a `.py` pre-render script with $QUARTO_PYTHON, else
`python3` (`py` on Windows) from PATH, so this file uses the standard library only. The build
needs the project's packages, so it runs with, in order: $POLARITY_PYTHON, the checkout's
.venv (made by `make venv`; `bin/python`, or `Scripts/python.exe` on Windows), this Python.
Results come from $POLARITY_RESULTS_DIR, else the committed results of record.

Quarto sets QUARTO_PROJECT_RENDER_ALL=1 only when the whole project is rendered (`quarto
render`): then the sources are always rebuilt. An incremental render or `quarto preview`
leaves it unset: then they are rebuilt only when report/index.qmd is missing or older than
something it is built from (results, templates, the report code, CITATION.cff, the
bibliography), so a preview does not redraw every figure when nothing changed.

`polarity render` (and `polarity report`) builds before it calls Quarto, and says so with
POLARITY_SOURCES_BUILT=1: then a finished build from the same results that nothing has
changed since is kept, not built a second time.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

project = Path(__file__).resolve().parent.parent


def venv_python(root: Path) -> Path | None:
    for candidate in (root / ".venv" / "bin" / "python", root / ".venv" / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def newest_input(results_dir: Path) -> float:
    """The latest modification time among the files the built sources depend on."""
    inputs = [project / "CITATION.cff", project / "report" / "references.bib"]
    for folder, pattern in (
        (results_dir, "*.json"),
        (project / "templates", "**/*.j2"),
        (project / "polarity", "**/*.py"),
    ):
        inputs += folder.glob(pattern)
    return max((p.stat().st_mtime for p in inputs if p.is_file()), default=float("inf"))


def up_to_date(results_dir: Path) -> bool:
    article = project / "report" / "index.qmd"
    return article.is_file() and article.stat().st_mtime >= newest_input(results_dir)


def built_from(results_dir: Path) -> bool:
    """Whether report/ holds a finished build from `results_dir` (the build's marker, as
    polarity.article writes it, names the folder and the article's digest)."""
    report = project / "report"
    try:
        marker = json.loads((report / ".polarity-build.json").read_text(encoding="utf-8"))
        article = hashlib.sha256((report / "index.qmd").read_bytes()).hexdigest()
        return marker["results_dir"] == os.fsdecode(results_dir.resolve()) and (
            marker["index_sha256"] == article
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def main() -> int:
    results_dir = Path(os.environ.get("POLARITY_RESULTS_DIR") or project / "report" / "results")
    if not os.environ.get("QUARTO_PROJECT_RENDER_ALL") and up_to_date(results_dir):
        print("pre-render: incremental render and nothing changed; keeping the built sources")
        return 0
    just_built = os.environ.get("POLARITY_SOURCES_BUILT") == "1" and built_from(results_dir)
    if just_built and up_to_date(results_dir):
        print("pre-render: polarity built these sources just now; keeping them")
        return 0
    found = venv_python(project)
    python = os.environ.get("POLARITY_PYTHON") or (str(found) if found else sys.executable)
    command = [python, "-m", "polarity", "build", "--report-dir", str(project / "report")]
    if os.environ.get("POLARITY_RESULTS_DIR"):
        command += ["--results", os.environ["POLARITY_RESULTS_DIR"]]
    # Run from report/, not from the project folder: for `-c` and `-m` Python puts the working
    # folder first on sys.path, so a `polarity/` folder there that is not the package (the Lua
    # filters alone, in a copy of the project) would shadow the installed one. From report/
    # the CLI still finds the project: it looks at and above its working folder.
    where = project / "report"
    try:
        check = subprocess.run(
            [python, "-c", "import polarity.article"], capture_output=True, cwd=where
        )
    except OSError as exc:  # $POLARITY_PYTHON names no program: one line, not a traceback
        sys.exit(f"pre-render: cannot run {python} ({exc.strerror}); set POLARITY_PYTHON")
    if check.returncode != 0:
        sys.exit(
            f"pre-render: {python} cannot import the polarity package; run `make venv` "
            "(or `pip install .`) in the project folder, then `quarto render` again"
        )
    return subprocess.call(command, cwd=where)


if __name__ == "__main__":
    sys.exit(main())
