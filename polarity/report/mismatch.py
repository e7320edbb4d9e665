"""Tested on the other polarity: softmax regression trained on one, tested on the other."""

from __future__ import annotations

from polarity import stats
from polarity.report.base import POLARITIES, Claim, MissingData, Section, TableSpec, predicate
from polarity.report.inference import carried

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


def mixed_accuracy_beats_the_prior(results: dict) -> Claim:
    """Two criteria, two answers. The cross-entropy optimum of mixed training predicts the
    class frequencies (experiments/optimum.py), which in accuracy is what always answering
    the most frequent digit scores. Accuracy is another criterion: this holds when the model
    SGD trained on both polarities scores more than that, averaged over the two polarities,
    with the 95 % interval of its per-seed average above the prior's accuracy."""
    mixed = results["mismatch"]["metrics"]["trained_on"].get("mixed")
    if mixed is None:
        raise MissingData("mismatch: trained on mixed")
    prior = results["optimum"]["metrics"]["prior"]
    tested = mixed["tested_on"]
    # Each seed's model is tested on both polarities: its accuracy over the two is their mean.
    both = [(a + b) / 2 for a, b in zip(*(tested[p]["values"] for p in POLARITIES), strict=True)]
    over_both = stats.mean_ci(both)
    majority = prior["majority_test_accuracy"]
    # How the mixed rate was chosen (experiments/mismatch.py): not tuned on mixed images, but
    # set to the inverted training set's rate, which is the sweep's validation-chosen rate for
    # inverted images at the budgets listed here.
    trained = results["mismatch"]["metrics"]["trained_on"]
    inverted_rate = trained["inverted"]["learning_rate"] if "inverted" in trained else None
    sweep = results.get("sweep", {}).get("metrics", {})
    best = sweep.get("best", {}).get("inverted", {})
    budgets = sweep.get("grid", {}).get("checkpoints", [])
    rate_choice = {
        "same_as_inverted": inverted_rate is not None and mixed["learning_rate"] == inverted_rate,
        "sweep_budgets": [
            k for k in budgets if best.get(str(k), {}).get("learning_rate") == inverted_rate
        ],
    }
    return predicate(
        "mixed_accuracy_beats_the_prior",
        over_both["ci95"][0] > majority,
        {
            "accuracy": {p: tested[p]["mean"] for p in POLARITIES},
            "ci95": {p: tested[p]["ci95"] for p in POLARITIES},
            "over_both": carried(over_both["mean"], both[0]),
            "over_both_ci95": [carried(x, both[0]) for x in over_both["ci95"]],
            "n_seeds": over_both["n"],
            "updates": results["mismatch"]["metrics"]["updates"],
            "learning_rate": mixed["learning_rate"],
            "majority_class": prior["majority_class"],
            "majority_test_accuracy": majority,
            "rate_choice": rate_choice,
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
    claims=(polarity_does_not_transfer, mixed_accuracy_beats_the_prior),
    tables=(TableSpec("tbl-mismatch", ("mismatch",), mismatch_rows),),
)
