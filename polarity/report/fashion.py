"""Fashion-MNIST: the measurements that decide the MNIST answer, repeated with the same
code. The fashion experiment stores each part in the envelope of the MNIST experiment it
repeats, so this section judges and draws them with the MNIST sections' own functions."""

from __future__ import annotations

from dataclasses import replace

from polarity.report import convnet, mechanism, replication
from polarity.report.base import POLARITIES, Section, TableSpec
from polarity.report.scope import scoped

DATASET = "fashion-mnist"
PREFIX = "fashion"  # of the claims' ids: fashion_trials_difference, ...


def parts(results: dict):
    """Fashion-MNIST's results by the name of the MNIST experiment each repeats."""
    return scoped(results, DATASET)


def _on_fashion(claim_fn):
    def fashion_claim(results: dict):
        return claim_fn(parts(results)).on(PREFIX)

    fashion_claim.__name__ = f"{PREFIX}_{claim_fn.__name__}"
    return fashion_claim


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
            mechanism.inverted_behind_at_best_rates,
            convnet.convnet_difference,
        )
    ),
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
