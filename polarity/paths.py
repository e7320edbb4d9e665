"""Every path the project reads or writes, in one place.

The `polarity` package is the library and the CLI; the project it works on (experiments/,
templates/, report/, _quarto.yml) is a checkout. Its root is, in order: $POLARITY_PROJECT
(what `polarity --project DIR` sets), the folder above this package when that holds
`_quarto.yml` (a source checkout or an editable install), else the nearest folder at or above
the working directory that holds `_quarto.yml` (an installed wheel run inside a checkout).
`use_project` moves every path below to another root; code that takes these paths as
default arguments must be imported after it (the CLI imports its commands lazily).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from polarity import PolarityError

MARKER = "_quarto.yml"
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class ProjectNotFound(PolarityError):
    """No project checkout around the working directory."""


def find_project(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) with
    _quarto.yml, or None."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


def discover() -> Path:
    explicit = os.environ.get("POLARITY_PROJECT")
    if explicit:
        return Path(explicit).resolve()
    if (PACKAGE_PARENT / MARKER).is_file():
        return PACKAGE_PARENT
    # Not found: keep a root so importing never fails; `require_project` says what is missing.
    return find_project() or Path.cwd().resolve()


def use_project(root: Path) -> None:
    """Point every path at the project in `root`, and make its `experiments` importable."""
    global ROOT, REPORT, RESULTS_OF_RECORD, FIGURES, TEMPLATES, BUILD, SHARED_DATA
    ROOT = Path(root).resolve()
    REPORT = ROOT / "report"
    RESULTS_OF_RECORD = REPORT / "results"  # committed results of the `full` profile
    FIGURES = REPORT / "figures"
    TEMPLATES = ROOT / "templates"
    BUILD = ROOT / "build"  # scratch: results of non-full profiles, intermediate render files
    # Data sets: the folder beside the checkout that development machines and CI share.
    SHARED_DATA = ROOT.parent / "shared" / "data"
    # experiments/ is part of the checkout, not of the installed package.
    if (ROOT / "experiments" / "__init__.py").is_file() and str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def require_project() -> Path:
    """The project root, or a one-line error naming what is missing."""
    if not (ROOT / MARKER).is_file():
        raise ProjectNotFound(
            f"no polarity project here: no {MARKER} in {Path.cwd()} or any folder above it; "
            "run inside a checkout of the project or pass --project DIR"
        )
    return ROOT


ROOT: Path
REPORT: Path
RESULTS_OF_RECORD: Path
FIGURES: Path
TEMPLATES: Path
BUILD: Path
SHARED_DATA: Path
use_project(discover())


def results_dir(profile: str) -> Path:
    """Where a profile's results go: only `full` writes the committed results of record."""
    return RESULTS_OF_RECORD if profile == "full" else BUILD / "results" / profile
