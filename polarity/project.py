"""Which project checkout the CLI works on, and pointing polarity.paths at it.

The `polarity` package is the library and the CLI; the project it works on (experiments/,
templates/, report/, _quarto.yml) is a checkout. Its root is, in order: `--project DIR`,
$POLARITY_PROJECT (set by the CLI for the processes it starts, Quarto's pre-render step
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


def discover(option: str | None = None) -> Path:
    """The project root, or a one-line error saying where it was looked for."""
    if option:
        root = Path(option).resolve()
        if not (root / MARKER).is_file():
            raise ProjectNotFound(f"--project {option}: no {MARKER} in {root}")
        return root
    if os.environ.get("POLARITY_PROJECT"):
        root = Path(os.environ["POLARITY_PROJECT"]).resolve()
        if not (root / MARKER).is_file():
            raise ProjectNotFound(f"$POLARITY_PROJECT: no {MARKER} in {root}")
        return root
    if (PACKAGE_PARENT / MARKER).is_file():
        return PACKAGE_PARENT
    found = find_project()
    if found is None:
        raise ProjectNotFound(
            f"no polarity project here: no {MARKER} in {Path.cwd()} or any folder above it; "
            "run inside a checkout of the project or pass --project DIR"
        )
    return found


def use_project(root: Path) -> Path:
    """Point every path in polarity.paths at the project in `root`, make its `experiments`
    importable, and hand the choice down to processes started from here."""
    root = Path(root).resolve()
    paths.ROOT = root
    paths.REPORT = root / "report"
    paths.RESULTS_OF_RECORD = paths.REPORT / "results"
    paths.FIGURES = paths.REPORT / "figures"
    paths.TEMPLATES = root / "templates"
    paths.BUILD = root / "build"
    paths.SHARED_DATA = root.parent / "shared" / "data"
    if str(root) not in sys.path:  # experiments/ is in the checkout, not in site-packages
        sys.path.insert(0, str(root))
    os.environ["POLARITY_PROJECT"] = str(root)
    return root
