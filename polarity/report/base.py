"""What every section of the article is made of: claims, figures and tables.

A section module (`polarity/report/<section>.py`) reads its results and decides: its
figures (`FigureSpec`), its tables (`TableSpec`) and its claims (functions returning a
`Claim`: a verdict and the values it rests on). The words live beside it, in
`templates/sections/<section>.qmd.j2`, where each claim has a macro of its own name that
branches on the verdict. Python never writes a sentence of the article.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from polarity.data import DATASETS as DATASET_SPECS
from polarity.data import POLARITIES  # noqa: F401  (the sections import it from here)

DATASETS = {name: spec.title for name, spec in DATASET_SPECS.items()}  # name -> display name

# Verdicts of a paired difference, normal minus inverted.
PAIRED_VERDICTS = ("normal_ahead", "inverted_ahead", "inconclusive")
HOLDS = ("holds", "fails")  # for claims that are plain predicates
SAFE_FIGURE_ID = re.compile(r"^fig-[a-z0-9]+(-[a-z0-9]+)*$")  # anchor, file name, Quarto label


class MissingData(KeyError):
    """The results lack what a claim or figure needs (a smaller profile): it is left out."""


class Results(dict):
    """Results by experiment name; a missing experiment is MissingData, not a bug."""

    def __missing__(self, key):
        raise MissingData(key)


def need(container: dict, *keys: str) -> None:
    """Raise MissingData unless `container` holds every key."""
    missing = [k for k in keys if k not in container]
    if missing:
        raise MissingData(", ".join(missing))


def paired_verdict(difference: dict) -> str:
    """Which encoding a paired difference (normal minus inverted) puts ahead: its 95 %
    confidence interval above zero, below zero, or neither."""
    low, high = difference["ci95"]
    return "normal_ahead" if low > 0 else "inverted_ahead" if high < 0 else "inconclusive"


def ahead(verdict: str) -> str | None:
    """The encoding a paired verdict puts ahead, if any."""
    return {"normal_ahead": "normal", "inverted_ahead": "inverted"}.get(verdict)


@dataclass(frozen=True)
class Claim:
    """A conclusion: its `verdict` (one of `verdicts`), whether the article's conclusion
    `holds`, and the values its sentence prints."""

    id: str
    verdict: str
    holds: bool
    values: dict
    verdicts: tuple[str, ...] = HOLDS
    sentence: str = ""  # the template macro that words it; by default the claim's id

    def __post_init__(self):
        if self.verdict not in self.verdicts:
            raise ValueError(f"claim {self.id}: verdict {self.verdict!r} not in {self.verdicts}")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "verdict": self.verdict,
            "verdicts": list(self.verdicts),
            "holds": self.holds,
            "values": self.values,
        }

    @property
    def macro(self) -> str:
        return self.sentence or self.id

    def on(self, dataset_prefix: str) -> Claim:
        """The same claim judged on another data set: a prefixed id, the same sentence."""
        return replace(self, id=f"{dataset_prefix}_{self.id}", sentence=self.macro)


def predicate(claim_id: str, holds: bool, values: dict) -> Claim:
    """A claim that either holds or fails."""
    return Claim(claim_id, "holds" if holds else "fails", holds, values)


ClaimFn = Callable[[dict], Claim]


@dataclass(frozen=True)
class FigureSpec:
    """One figure. `draw`, `alt` and `data` take the results of `experiments`, in that
    order, from the data set `dataset`; the first experiment's provenance is the figure's
    card. `title` is how the figure is cited alone; its caption is written where the
    section's template places it, `{% call figure(id) %}caption{% endcall %}`."""

    id: str
    experiments: tuple[str, ...]
    title: str
    draw: Callable
    alt: Callable[..., str]
    data: Callable[..., dict]
    dataset: str = "mnist"

    def __post_init__(self):
        if not SAFE_FIGURE_ID.match(self.id):
            raise ValueError(f"figure id {self.id!r} must match {SAFE_FIGURE_ID.pattern}")


@dataclass(frozen=True)
class TableSpec:
    """One table's rows, from the results of `experiments` (written as CSV too)."""

    id: str
    experiments: tuple[str, ...]
    rows: Callable[[dict], list[dict]]


@dataclass(frozen=True)
class Section:
    """One section of the article: its template and what it decides."""

    name: str
    claims: tuple[ClaimFn, ...] = ()
    figures: tuple[FigureSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()

    @property
    def template(self) -> str:
        return f"sections/{self.name}.qmd.j2"
