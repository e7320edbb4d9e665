"""The experiments, one module each, in the order the article uses them.

Each module defines:

- `Config`, a frozen dataclass of everything that changes its numbers. It names its data
  with `dataset: str` (one data set) or `datasets: tuple[str, ...]` (several). Seeds follow
  one rule: `n_seeds` counts them, `first_seed` is the first of a run (`seed + i` for the
  i-th), `seed` is a single one; a prefix says whose (`trial_first_seed`).
- `PROFILES`, a `Config` for each name in `PROFILES` below (smoke, quick, full).
- `run(config, data_dir)`, which returns the result's `seeds` (the list of every seed it
  used), `metrics` and, where it quotes a source, `reference`.
"""

import importlib

from polarity import PolarityError

NAMES = (
    "background",
    "replication",
    "optimum",
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
