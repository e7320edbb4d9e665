"""The report side: one module per section of the article, each beside its template.

    polarity/report/<section>.py         reads its results, draws its figures, computes its
                                         tables and decides its claims (verdicts, values)
    templates/sections/<section>.qmd.j2  the section's words: one macro per claim, which
                                         branches on the verdict, and the section's text

Everything here reads results JSON only and never imports Keras: restyling or rewording
never retrains. `base` holds what sections are made of, `output` writes figure and table
files, `scope` finds another data set's repeats of the MNIST experiments.
"""

import matplotlib

matplotlib.use("Agg")  # files only; before any section imports pyplot

from polarity.report import (  # noqa: E402
    answer,
    background,
    convnet,
    equivalences,
    fashion,
    mechanism,
    mismatch,
    optimum,
    replication,
    speed,
    why,
)
from polarity.report.base import Claim, MissingData, Results, Section  # noqa: E402

# The sections with claims, figures or tables, in the article's order.
SECTIONS: tuple[Section, ...] = tuple(
    module.SECTION
    for module in (
        answer,
        why,
        background,
        optimum,
        replication,
        mechanism,
        equivalences,
        mismatch,
        convnet,
        speed,
        fashion,
    )
)
FIGURES = tuple(spec for section in SECTIONS for spec in section.figures)
TABLES = tuple(spec for section in SECTIONS for spec in section.tables)


def evaluate(results: dict) -> dict[str, Claim]:
    """Every claim whose results are there, by id, in the article's order."""
    results = Results(results)
    evaluated = {}
    for section in SECTIONS:
        for claim_fn in section.claims:
            try:
                claim = claim_fn(results)
            except MissingData:
                continue  # a smaller profile lacks an experiment or encoding this claim needs
            evaluated[claim.id] = claim
    return evaluated
