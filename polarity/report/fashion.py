"""Fashion-MNIST: the measurements that decide the MNIST answer, repeated with the same
code. The fashion experiment stores each part in the envelope of the MNIST experiment it
repeats, so this section judges and draws them with the MNIST sections' own functions.
Its own claims: the sweep at each encoding's best rate after each budget, the learning rates
at which inverted inputs are ahead and what the curvature says about them, and whether
Fashion-MNIST agrees with MNIST, by a predicate stated in `fashion_agrees_with_mnist`."""

from __future__ import annotations

from dataclasses import replace

from polarity.report import convnet, inference, mechanism, replication
from polarity.report.base import (
    POLARITIES,
    Claim,
    MissingData,
    Section,
    TableSpec,
    paired_verdict,
)
from polarity.report.scope import scoped

DATASET = "fashion-mnist"
PREFIX = "fashion"  # of the claims' ids: fashion_trials_difference, ...
# Inversion leaves a curvature "unchanged" when it moves it by less than this fraction.
LAMBDA_2_ALIKE = 0.1


def parts(results: dict):
    """Fashion-MNIST's results by the name of the MNIST experiment each repeats."""
    return scoped(results, DATASET)


def _on_fashion(claim_fn):
    def fashion_claim(results: dict):
        return claim_fn(parts(results)).on(PREFIX)

    fashion_claim.__name__ = f"{PREFIX}_{claim_fn.__name__}"
    return fashion_claim


# --- Claims of its own ----------------------------------------------------------------------


def _at_best(sweep: dict, checkpoint: int) -> dict:
    """Normal minus inverted after `checkpoint` updates, each encoding at the rate its
    validation accuracy chose there."""
    diff = sweep["comparisons"]["normal_minus_inverted_at_best"][str(checkpoint)]
    best = {e: sweep["best"][e][str(checkpoint)] for e in POLARITIES}
    return {
        "updates": checkpoint,
        "rate": {e: best[e]["learning_rate"] for e in POLARITIES},
        "chosen_on": best["normal"].get("chosen_on", "test"),
        "accuracy": {e: best[e]["mean"] for e in POLARITIES},
        "difference": diff["mean"],
        "ci95": diff["ci95"],
        "p_value": diff["p_value"],
        "n_seeds": diff["n"],
        "verdict": paired_verdict(diff),
    }


def fashion_gap_at_best_rates(results: dict) -> Claim:
    """After each checkpoint of Fashion-MNIST's sweep, normal minus inverted test accuracy,
    each encoding at its own best rate chosen on validation images: which is ahead, at every
    budget or only at some."""
    sweep = parts(results)["sweep"]["metrics"]
    if "normal_minus_inverted_at_best" not in sweep["comparisons"]:
        raise MissingData("normal_minus_inverted_at_best")
    budgets = [_at_best(sweep, k) for k in sweep["grid"]["checkpoints"]]
    verdicts = {b["verdict"] for b in budgets}
    verdict = f"{verdicts.pop()}_at_every_budget" if len(verdicts) == 1 else "depends_on_budget"
    return Claim(
        "fashion_gap_at_best_rates",
        verdict,
        verdict == "normal_ahead_at_every_budget",
        {"budgets": budgets, "first": budgets[0], "last": budgets[-1]},
        verdicts=(
            "normal_ahead_at_every_budget",
            "inverted_ahead_at_every_budget",
            "inconclusive_at_every_budget",
            "depends_on_budget",
        ),
    )


def rate_by_rate(sweep: dict, checkpoint: int) -> list[dict]:
    """At every rate of the grid, normal minus inverted test accuracy after `checkpoint`
    updates, paired by seed (each seed's batches are shared by both encodings). The verdicts
    come from paired t-tests Holm-corrected over the family of the grid's rates at this one
    budget on this one data set; the intervals printed beside them are each test's own."""
    k = sweep["grid"]["checkpoints"].index(checkpoint)
    accuracy = sweep["accuracy"]
    pairs = [
        tuple([seed[k] for seed in accuracy[e]["per_seed"][i]] for e in POLARITIES)
        for i in range(len(sweep["grid"]["learning_rates"]))
    ]
    family = inference.paired_family(pairs)
    named = {"a_ahead": "normal_ahead", "b_ahead": "inverted_ahead"}
    return [
        {
            "learning_rate": rate,
            # The same mean as the test's, summed here so it stays traced to the per-seed
            # accuracies it comes from (tests/test_numbers.py).
            "difference": sum(a - b for a, b in zip(normal, inverted, strict=True)) / len(normal),
            "ci95": test["ci95"],
            "p_value": test["p_value"],
            "p_holm": test["p_holm"],
            "verdict": named.get(test["verdict"], "inconclusive"),
        }
        for rate, (normal, inverted), test in zip(
            sweep["grid"]["learning_rates"], pairs, family, strict=True
        )
    ]


def second_curvature(conditioning: dict) -> dict:
    """Per polarity, the largest and second curvature of the loss at initialisation,
    lambda_1(H) and lambda_2(H) = lambda_2(M)/10, and the scale-free lambda_1/lambda_2."""
    encodings = conditioning["metrics"]["encodings"]
    return {
        e: {
            "lambda_1": encodings[e]["hessian_lambda_max"],
            "lambda_2": encodings[e]["second_moment_lambda_2"] / 10,
            "lambda_ratio": encodings[e]["lambda_ratio"],
            "stability_edge": encodings[e]["stability_edge"],
        }
        for e in POLARITIES
    }


def _inverted_ahead_rates(sweep: dict, checkpoint: int) -> list[float]:
    return [
        row["learning_rate"]
        for row in rate_by_rate(sweep, checkpoint)
        if row["verdict"] == "inverted_ahead"
    ]


def small_rate_budgets(sweep: dict) -> list[dict]:
    """At every budget of a sweep, the rates at which inverted inputs are ahead (Holm over
    the grid's rates at that budget), whether they run up from the grid's smallest rate,
    and the largest such gap with its own interval and adjusted p-value."""
    rates = sweep["grid"]["learning_rates"]
    budgets = []
    for checkpoint in sweep["grid"]["checkpoints"]:
        rows = rate_by_rate(sweep, checkpoint)
        ahead = [row for row in rows if row["verdict"] == "inverted_ahead"]
        ahead_rates = [row["learning_rate"] for row in ahead]
        budgets.append(
            {
                "updates": checkpoint,
                "ahead_rates": ahead_rates,
                "from_smallest": ahead_rates == rates[: len(ahead_rates)],
                "largest_gap": min(ahead, key=lambda row: row["difference"], default=None),
                "by_rate": rows,
            }
        )
    return budgets


def fashion_inverted_ahead_at_small_rates(results: dict) -> Claim:
    """At one and the same learning rate, are inverted inputs ahead at the grid's small
    rates? Tested at every budget of the sweep on Fashion-MNIST and on MNIST: paired
    t-tests over the seeds, Holm-corrected over the family of the grid's rates at one
    budget on one data set. Verdicts:

    - `small_rates_on_both`: on Fashion-MNIST inverted is ahead at some budget, only at a
      run of rates from the grid's smallest up, and on MNIST too at some budget; an account
      by the second curvature lambda_2 must then hold on MNIST as well, where inversion
      leaves lambda_2 about unchanged, so the words give none;
    - `small_rates_fashion_only`: the same on Fashion-MNIST, at no rate and budget on
      MNIST (or MNIST's sweep not at hand);
    - `elsewhere`: on Fashion-MNIST inverted is ahead at some rates that are not such a run;
    - `nowhere`: at no rate and budget of Fashion-MNIST's sweep.
    """
    p = parts(results)
    sweep = p["sweep"]["metrics"]
    budgets = small_rate_budgets(sweep)
    curvature = second_curvature(p["conditioning"])
    ahead = [b for b in budgets if b["ahead_rates"]]
    values = {
        "n_seeds": sweep["grid"]["n_seeds"],
        "rates": sweep["grid"]["learning_rates"],  # the Holm family at one budget
        "budgets": budgets,
        "ahead": ahead,
        "none": [b["updates"] for b in budgets if not b["ahead_rates"]],
        "curvature": curvature,
        "lambda_2_ratio": curvature["inverted"]["lambda_2"] / curvature["normal"]["lambda_2"],
        "mnist": None,
    }
    mnist = scoped(results)
    if "sweep" in mnist and "conditioning" in mnist:
        mnist_budgets = small_rate_budgets(mnist["sweep"]["metrics"])
        mnist_curvature = second_curvature(mnist["conditioning"])
        values["mnist"] = {
            "rates": mnist["sweep"]["metrics"]["grid"]["learning_rates"],
            "budgets": mnist_budgets,
            "ahead": [b for b in mnist_budgets if b["ahead_rates"]],
            "none": [b["updates"] for b in mnist_budgets if not b["ahead_rates"]],
            "lambda_2_ratio": mnist_curvature["inverted"]["lambda_2"]
            / mnist_curvature["normal"]["lambda_2"],
        }
        values["mnist"]["lambda_2_unchanged"] = (
            abs(values["mnist"]["lambda_2_ratio"] - 1) < LAMBDA_2_ALIKE
        )
    if not ahead:
        verdict = "nowhere"
    elif not all(b["from_smallest"] for b in ahead):
        verdict = "elsewhere"
    elif values["mnist"] and any(b["from_smallest"] for b in values["mnist"]["ahead"]):
        verdict = "small_rates_on_both"
    else:
        verdict = "small_rates_fashion_only"
    return Claim(
        "fashion_inverted_ahead_at_small_rates",
        verdict,
        verdict.startswith("small_rates"),
        values,
        verdicts=("small_rates_on_both", "small_rates_fashion_only", "elsewhere", "nowhere"),
    )


def _worse_conditioned(conditioning: dict) -> str:
    """The polarity whose loss is worse conditioned at initialisation: larger lambda_1/lambda_2."""
    c = second_curvature(conditioning)
    return max(POLARITIES, key=lambda e: c[e]["lambda_ratio"])


SETUP_KEYS = ("padding", "batch_norm", "optimizer", "learning_rate")  # what setup_label reads

# The comparisons "agrees with MNIST" is judged on, in the order the text lists them.
AGREEMENT = (
    "trials",  # which encoding the answer's protocol puts ahead (paired 95 % CI)
    "conditioning",  # which encoding's loss is worse conditioned, lambda_1/lambda_2
    "best_rates",  # which is ahead at best rates, after each number of updates both ran
    "small_rates",  # whether inverted is ahead at any rate after the longest shared training
    "convnet",  # the convnet setup both trained, at the longest checkpoint both tested
)


def fashion_agrees_with_mnist(results: dict) -> Claim:
    """Fashion-MNIST agrees with MNIST when every comparison in AGREEMENT gives both data
    sets the same verdict: the same paired verdict (normal ahead, inverted ahead or
    inconclusive) of the answer's protocol, of the sweep at best rates after each number of
    updates both sweeps reached, and of the convnet setup both trained; the same encoding
    worse conditioned; and inverted inputs ahead at some learning rate of the grid, after the
    longest training both sweeps reached, on both or on neither."""
    fashion, mnist = parts(results), scoped(results)
    fashion_sweep, mnist_sweep = fashion["sweep"]["metrics"], mnist["sweep"]["metrics"]
    shared = [
        k for k in fashion_sweep["grid"]["checkpoints"] if k in mnist_sweep["grid"]["checkpoints"]
    ]
    fashion_setups, mnist_setups = (
        convnet.setups(fashion["convnet"]),
        convnet.setups(mnist["convnet"]),
    )
    setups = {  # the same setup, compared at the longest checkpoint both data sets tested
        name: max(set(fashion_setups[name]["tests"]) & set(mnist_setups[name]["tests"]))
        for name in fashion_setups
        if name in mnist_setups
        and set(fashion_setups[name]["tests"]) & set(mnist_setups[name]["tests"])
    }
    if not shared or not setups:
        raise MissingData("a sweep checkpoint or convnet setup both data sets share")

    comparisons = []

    def compare(kind: str, detail, mnist_verdict: str, fashion_verdict: str) -> None:
        comparisons.append(
            {
                "kind": kind,
                "detail": detail,
                "mnist": mnist_verdict,
                "fashion": fashion_verdict,
                "same": mnist_verdict == fashion_verdict,
            }
        )

    trials = {
        name: paired_verdict(d["replication"]["metrics"]["independent_trials"]["difference"])
        for name, d in (("mnist", mnist), ("fashion", fashion))
    }
    compare("trials", None, trials["mnist"], trials["fashion"])
    compare(
        "conditioning",
        None,
        _worse_conditioned(mnist["conditioning"]),
        _worse_conditioned(fashion["conditioning"]),
    )
    for k in shared:
        compare(
            "best_rates",
            k,
            _at_best(mnist_sweep, k)["verdict"],
            _at_best(fashion_sweep, k)["verdict"],
        )
    longest = shared[-1]
    compare(
        "small_rates",
        longest,
        "some_rate" if _inverted_ahead_rates(mnist_sweep, longest) else "never",
        "some_rate" if _inverted_ahead_rates(fashion_sweep, longest) else "never",
    )
    for name, update in setups.items():
        compare(
            "convnet",
            {**{key: fashion_setups[name][key] for key in SETUP_KEYS}, "updates": update},
            convnet.tested(mnist_setups[name], update)["verdict"],
            convnet.tested(fashion_setups[name], update)["verdict"],
        )
    same = [c for c in comparisons if c["same"]]
    if len(same) == len(comparisons):
        verdict = "agrees"
    elif same:
        verdict = "partly"
    else:
        verdict = "disagrees"
    return Claim(
        "fashion_agrees_with_mnist",
        verdict,
        verdict == "agrees",
        {
            "comparisons": comparisons,
            "same": [c for c in comparisons if c["same"]],
            "different": [c for c in comparisons if not c["same"]],
        },
        verdicts=("agrees", "partly", "disagrees"),
    )


# --- Table --------------------------------------------------------------------------------


def fashion_rows(results: dict) -> list[dict]:
    """Per polarity, the numbers the MNIST sections compare, measured on Fashion-MNIST."""
    p = parts(results)
    sweep = p["sweep"]["metrics"]
    network, *_ = convnet.setups(p["convnet"]).values()
    rows = []
    for polarity in POLARITIES:
        trials = p["replication"]["metrics"]["independent_trials"][polarity]
        curvature = p["conditioning"]["metrics"]["encodings"][polarity]
        best = mechanism.best_at_last(sweep, polarity)
        final = network["encodings"][polarity]["final"]
        rows.append(
            {
                "encoding": polarity,
                "trials": trials["n"],
                "trials_mean": trials["mean"],
                "trials_ci95_low": trials["ci95"][0],
                "trials_ci95_high": trials["ci95"][1],
                "hessian_lambda_max": curvature["hessian_lambda_max"],
                "hessian_lambda_2": curvature["second_moment_lambda_2"] / 10,
                "lambda_ratio": curvature["lambda_ratio"],
                "stability_edge": curvature["stability_edge"],
                "sweep_updates": mechanism.last_checkpoint(sweep),
                "best_learning_rate": best["learning_rate"],
                "best_accuracy": best["mean"],
                "convnet_optimizer": network["optimizer"],
                "convnet_updates": network["updates"][-1],
                "convnet_accuracy": final["mean"],
                "convnet_ci95_low": final["ci95"][0],
                "convnet_ci95_high": final["ci95"][1],
            }
        )
    return rows


SECTION = Section(
    "fashion",
    claims=tuple(
        _on_fashion(fn)
        for fn in (
            replication.trials_difference,
            mechanism.inversion_raises_curvature,
            convnet.convnet_difference,
        )
    )
    + (fashion_gap_at_best_rates, fashion_inverted_ahead_at_small_rates, fashion_agrees_with_mnist),
    figures=(
        replace(
            mechanism.LR_SWEEP,
            id="fig-fashion-lr-sweep",
            title="Fashion-MNIST: test accuracy against learning rate, with predicted "
            "stability edges",
            dataset=DATASET,
        ),
        replace(
            convnet.CONVNET_CURVES,
            id="fig-fashion-convnet-curves",
            title="Fashion-MNIST: test accuracy of the Keras convnet on normal and inverted inputs",
            dataset=DATASET,
        ),
    ),
    tables=(TableSpec("tbl-fashion", ("fashion",), fashion_rows),),
)
