"""Same problem, different path: ridge-penalised softmax regression solved to its optimum
on each encoding, and on both polarities mixed (experiments/optimum.py)."""

from __future__ import annotations

from polarity.report.base import Claim, Section, TableSpec, need, predicate

# The mixed optimum is at the class prior when its test accuracy is within this of
# predicting the majority class, and its probabilities within this of the prior.
PRIOR_TOLERANCE = 0.01  # 1 percentage point


def optima_agree(results: dict) -> Claim:
    """The penalised optimum per encoding. Theory: one optimum, mapped onto itself by
    inversion, so the same test predictions. `identical`: both solvers met the criterion
    and no test prediction differs; `differ`: both converged, some differ; `not_converged`:
    a solver stopped at its cap, so nothing is compared."""
    m = results["optimum"]["metrics"]
    encodings = m["encodings"]
    need(m, "penalty")  # an unpenalised solve has no optimum to compare
    converged = all(e["solver"]["converged"] for e in encodings.values())
    differing = m["difference"]["test_predictions_differing"]
    if not converged:
        verdict = "not_converged"
    else:
        verdict = "identical" if differing == 0 else "differ"
    return Claim(
        "optima_agree",
        verdict,
        verdict == "identical",
        {
            "test_accuracy": {p: e["test_accuracy"] for p, e in encodings.items()},
            "train_loss": {p: e["solver"]["train_loss"] for p, e in encodings.items()},
            "iterations": {p: e["solver"]["iterations"] for p, e in encodings.items()},
            "gradient_max": {p: e["solver"]["gradient_max"] for p, e in encodings.items()},
            "seconds": {p: e["solver"]["seconds"] for p, e in encodings.items()},
            "difference": m["difference"]["test_accuracy"],
            "differing": differing,
            "test_size": m["data"]["test_size"],
            "converged": converged,
            "criterion": m["criterion"],
            "penalty": m["penalty"],
            "train_size": m["data"]["train_size"],
            "mapping": m["difference"]["mapping"],
        },
        verdicts=("identical", "differ", "not_converged"),
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
            "gradient_norm": e["solver"]["gradient_norm"],
            "train_loss": e["solver"]["train_loss"],
            "converged": e["solver"]["converged"],
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
            "gradient_norm": mixed["solver"]["gradient_norm"],
            "train_loss": mixed["solver"]["train_loss"],
            "converged": mixed["solver"]["converged"],
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
