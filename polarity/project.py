"""Which project checkout the CLI works on, and pointing polarity.paths at it.

The `polarity` package is the library and the CLI; the project it works on (experiments/,
templates/, report/, _quarto.yml) is a checkout. Its root is, in order: `--project DIR`,
$POLARITY_PROJECT (set from `--project` for the processes the CLI starts, Quarto's pre-render step
included), the folder above this package when that holds `_quarto.yml` (a source checkout
or an editable install), else the nearest folder at or above the working directory that
holds `_quarto.yml` (an installed wheel run inside a checkout).

polarity.paths itself stays as it is: its source is part of every result's cache key.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from polarity import PolarityError, paths

MARKER = "_quarto.yml"
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class ProjectNotFound(PolarityError):
    """No project checkout where one was looked for."""


def find_project(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) holding
    _quarto.yml, or None."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


def _checked(root: Path, where: str) -> Path:
    root = root.resolve()
    if not (root / MARKER).is_file():
        raise ProjectNotFound(f"{where}: no {MARKER} in {root}")
    return root


def select(option: str | None = None) -> Path:
    """Point polarity.paths at the project the CLI should work on, and return its root.

    In a source checkout or an editable install (no option, no $POLARITY_PROJECT) the paths
    stay as polarity.paths set them, pointing at the package's own checkout."""
    if option:
        root = use_project(_checked(Path(option), f"--project {option}"))
        os.environ["POLARITY_PROJECT"] = str(root)  # for Quarto's pre-render step
        return root
    if os.environ.get("POLARITY_PROJECT"):
        return use_project(_checked(Path(os.environ["POLARITY_PROJECT"]), "$POLARITY_PROJECT"))
    if (PACKAGE_PARENT / MARKER).is_file():
        return importable(paths.ROOT)
    found = find_project()
    if found is None:
        raise ProjectNotFound(
            f"no polarity project here: no {MARKER} in {Path.cwd()} or any folder above it; "
            "run inside a checkout of the project or pass --project DIR"
        )
    return use_project(found)


def use_project(root: Path) -> Path:
    """Point every path in polarity.paths at the project in `root` and make its
    `experiments` importable."""
    root = Path(root).resolve()
    paths.ROOT = root
    paths.REPORT = root / "report"
    paths.RESULTS_OF_RECORD = paths.REPORT / "results"
    paths.FIGURES = paths.REPORT / "figures"
    paths.TEMPLATES = root / "templates"
    paths.BUILD = root / "build"
    paths.SHARED_DATA = root.parent / "shared" / "data"
    return importable(root)


def importable(root: Path) -> Path:
    """Make the checkout's `experiments` importable: it is never in site-packages, not even
    under an editable install, whatever the working directory."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root
