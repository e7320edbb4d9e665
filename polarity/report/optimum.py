"""Same problem, different path: softmax regression solved to its optimum on each encoding,
and on both polarities mixed (experiments/optimum.py)."""

from __future__ import annotations

from polarity.report.base import Claim, Section, TableSpec, predicate

# Two encodings' optima agree when their test accuracies differ by less than this.
OPTIMA_TOLERANCE = 0.002  # 0.2 percentage points
# The mixed optimum is at the class prior when its test accuracy is within this of
# predicting the majority class, and its probabilities within this of the prior.
PRIOR_TOLERANCE = 0.01  # 1 percentage point


def optima_agree(results: dict) -> Claim:
    m = results["optimum"]["metrics"]
    encodings = m["encodings"]
    difference = m["difference"]["test_accuracy"]
    converged = all(e["solver"]["converged"] for e in encodings.values())
    if abs(difference) >= OPTIMA_TOLERANCE:
        verdict = "differ"
    else:  # within the tolerance; at the optimum only if both solvers met their criterion
        verdict = "agree" if converged else "agree_at_cap"
    return Claim(
        "optima_agree",
        verdict,
        verdict != "differ",
        {
            "test_accuracy": {p: e["test_accuracy"] for p, e in encodings.items()},
            "train_loss": {p: e["solver"]["train_loss"] for p, e in encodings.items()},
            "iterations": {p: e["solver"]["iterations"] for p, e in encodings.items()},
            "gradient_max": {p: e["solver"]["gradient_max"] for p, e in encodings.items()},
            "difference": difference,
            "tolerance": OPTIMA_TOLERANCE,
            "converged": converged,
            "criterion": m["criterion"],
            "train_size": m["data"]["train_size"],
            "mapped_prediction_agreement": m["difference"]["mapped_prediction_agreement"],
        },
        verdicts=("agree", "agree_at_cap", "differ"),
    )


def mixed_optimum_is_the_prior(results: dict) -> Claim:
    m = results["optimum"]["metrics"]
    mixed = m["mixed"]
    accuracy = {p: r["accuracy"] for p, r in mixed["tested_on"].items()}
    deviation = max(r["largest_prior_deviation"] for r in mixed["tested_on"].values())
    majority = m["prior"]["majority_test_accuracy"]
    values = {
        "accuracy": accuracy,
        "majority_class": m["prior"]["majority_class"],
        "majority_test_accuracy": majority,
        "largest_prior_deviation": deviation,
        "weight_norm": mixed["weight_norm"],
        "iterations": mixed["solver"]["iterations"],
        "gradient_max": mixed["solver"]["gradient_max"],
        "transient": None,
    }
    # What SGD reached on the same mixed training set, where that was measured.
    if "mismatch" in results:
        trained = results["mismatch"]["metrics"]["trained_on"]
        if "mixed" in trained:
            values["transient"] = {
                "updates": results["mismatch"]["metrics"]["updates"],
                "accuracy": {p: r["mean"] for p, r in trained["mixed"]["tested_on"].items()},
            }
    return predicate(
        "mixed_optimum_is_the_prior",
        all(abs(a - majority) < PRIOR_TOLERANCE for a in accuracy.values())
        and deviation < PRIOR_TOLERANCE,
        values,
    )


def optimum_rows(results: dict) -> list[dict]:
    m = results["optimum"]["metrics"]
    rows = [
        {
            "trained_on": polarity,
            "iterations": e["solver"]["iterations"],
            "gradient_max": e["solver"]["gradient_max"],
            "train_loss": e["solver"]["train_loss"],
            "train_accuracy": e["train_accuracy"],
            "test_accuracy_same_polarity": e["test_accuracy"],
        }
        for polarity, e in m["encodings"].items()
    ]
    mixed = m["mixed"]
    rows.append(
        {
            "trained_on": "mixed",
            "iterations": mixed["solver"]["iterations"],
            "gradient_max": mixed["solver"]["gradient_max"],
            "train_loss": mixed["solver"]["train_loss"],
            "train_accuracy": None,
            "test_accuracy_same_polarity": mixed["tested_on"]["normal"]["accuracy"],
        }
    )
    return rows


SECTION = Section(
    "optimum",
    claims=(optima_agree, mixed_optimum_is_the_prior),
    tables=(TableSpec("tbl-optimum", ("optimum",), optimum_rows),),
)
