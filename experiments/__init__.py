"""The experiments, one module each, in the order the article uses them.

Each module defines `Config` (a frozen dataclass), `PROFILES` (smoke, quick, full) and
`run(config, data_dir)`, which returns the result's `seeds`, `reference` and `metrics`.
"""

import importlib

from polarity import PolarityError

NAMES = (
    "background",
    "replication",
    "conditioning",
    "sweep",
    "convnet",
    "speed",
    "mismatch",
    "equivalences",
    "fashion",
)
PROFILES = ("smoke", "quick", "full")


def load(name: str):
    """The experiment module called `name`."""
    if name not in NAMES:
        raise PolarityError(f"unknown experiment {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"experiments.{name}")
