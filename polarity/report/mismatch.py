"""Tested on the other polarity: softmax regression trained on one, tested on the other."""

from __future__ import annotations

from polarity.report.base import Claim, Section, TableSpec, predicate

GUESSING = 0.1  # ten classes


def polarity_does_not_transfer(results: dict) -> Claim:
    trained = results["mismatch"]["metrics"]["trained_on"]
    same = {p: trained[p]["tested_on"][p]["mean"] for p in ("normal", "inverted")}
    cross = {
        "normal": trained["normal"]["tested_on"]["inverted"]["mean"],
        "inverted": trained["inverted"]["tested_on"]["normal"]["mean"],
    }
    mixed = trained.get("mixed")
    return predicate(
        "polarity_does_not_transfer",
        all(cross[p] < GUESSING for p in cross),
        {
            "same": same,
            "cross": cross,
            "mixed": {p: r["mean"] for p, r in mixed["tested_on"].items()} if mixed else None,
        },
    )


def mismatch_rows(results: dict) -> list[dict]:
    trained = results["mismatch"]["metrics"]["trained_on"]
    return [
        {
            "trained_on": name,
            "learning_rate": entry["learning_rate"],
            "tested_on": polarity,
            "seeds": r["n"],
            "accuracy": r["mean"],
            "ci95_low": r["ci95"][0],
            "ci95_high": r["ci95"][1],
            # A zero-width interval says only that every seed scored the same.
            "all_seeds_equal": len(set(r["values"])) == 1,
        }
        for name, entry in trained.items()
        for polarity, r in entry["tested_on"].items()
    ]


SECTION = Section(
    "mismatch",
    claims=(polarity_does_not_transfer,),
    tables=(TableSpec("tbl-mismatch", ("mismatch",), mismatch_rows),),
)
