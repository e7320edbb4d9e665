"""The figure that carries the answer, under the box at the top: the cost of inversion
against training length, for softmax regression (each encoding at its best learning rate,
with the penalised optimum noted beside, never on the updates axis) and for the Keras
convnet with Adam and with plain SGD."""

from __future__ import annotations

import numpy as np

from polarity.formatting import setup_label
from polarity.report.base import Claim, FigureSpec, MissingData, Section, need, predicate
from polarity.report.draw import panels
from polarity.stats import paired_difference
from polarity.style import REFERENCE_COLOUR, TEXT_WIDTH


def convnet_setups(convnet: dict) -> list[dict]:
    """The convnet setups without batch normalisation or 'same' padding, one per optimiser
    (Adam first), the longest-trained of each: the box's convnet, and plain SGD beside it."""
    trained = [
        e
        for e in convnet["metrics"]["setups"].values()
        if not e["batch_norm"] and e["padding"] == "valid"
    ]
    if not trained:
        raise MissingData("no convnet setup")
    chosen = {}
    for entry in sorted(trained, key=lambda e: e["updates"][-1]):
        chosen[entry["optimizer"]] = entry  # the longest-trained of each optimiser wins
    return sorted(chosen.values(), key=lambda e: (e["optimizer"] != "adam", e["optimizer"]))


def softmax_points(sweep: dict) -> dict:
    """Normal minus inverted at each encoding's best rate after each checkpoint, in points."""
    at_best = sweep["metrics"]["comparisons"]["normal_minus_inverted_at_best"]
    checkpoints = sorted(int(k) for k in at_best)
    return {
        "updates": checkpoints,
        "mean": [100 * at_best[str(k)]["mean"] for k in checkpoints],
        "ci95": [[100 * b for b in at_best[str(k)]["ci95"]] for k in checkpoints],
    }


def optimum_point(optimum: dict) -> dict | None:
    """The penalised optimum's difference, only where both solvers met their criterion: an
    unconverged solution is no point of comparison."""
    m = optimum["metrics"]
    if not all(e["solver"]["converged"] for e in m["encodings"].values()):
        return None
    return {
        "difference": 100 * m["difference"]["test_accuracy"],
        "differing": m["difference"].get("test_predictions_differing"),
        "test_size": m["data"]["test_size"],
    }


def draw_answer(sweep: dict, optimum: dict, convnet: dict):
    setups = convnet_setups(convnet)
    fig, axes = panels(1 + len(setups), TEXT_WIDTH, 2.5)
    left, *right = axes[0]
    soft = softmax_points(sweep)
    low = [m - ci[0] for m, ci in zip(soft["mean"], soft["ci95"], strict=True)]
    high = [ci[1] - m for m, ci in zip(soft["mean"], soft["ci95"], strict=True)]
    left.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
    left.errorbar(
        soft["updates"],
        soft["mean"],
        yerr=[low, high],
        color="black",
        marker="o",
        markersize=3,
        capsize=2,
    )
    left.set_xscale("log")
    left.set_xticks(soft["updates"], [f"{u:,}" for u in soft["updates"]])
    left.minorticks_off()
    left.set_xlabel("updates (batch of 100)")
    left.set_ylabel("normal − inverted\n(percentage points)")
    left.set_title("Softmax regression, SGD,\neach at its best rate (95 % CI)", fontsize=8)
    at_optimum = optimum_point(optimum)
    if at_optimum is not None:  # not on the updates axis: the optimum is no number of updates
        left.text(
            0.97,
            0.95,
            f"penalised optimum:\n{at_optimum['difference']:.2f} points;\n"
            f"{at_optimum['differing']} of {at_optimum['test_size']:,}\npredictions differ",
            transform=left.transAxes,
            ha="right",
            va="top",
            fontsize=7,
        )

    for ax, entry in zip(right, setups, strict=True):
        steps = entry["difference_by_update"]
        margin = 100 * steps[-1]["equivalence"]["margin"]
        mean = 100 * np.array([d["mean"] for d in steps])
        ci_low, ci_high = (
            100 * np.array([d["equivalence"]["ci90"][i] for d in steps]) for i in (0, 1)
        )
        # The margin is a hatched band fixed in advance; the interval a solid grey band.
        ax.axhspan(
            -margin,
            margin,
            facecolor="none",
            edgecolor="#bbbbbb",  # light: the interval must show through
            hatch="////",
            linewidth=0,
            label=f"±{margin:.1f}-point margin",
        )
        ax.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
        ax.fill_between(
            entry["updates"],
            ci_low,
            ci_high,
            color="black",
            alpha=0.3,
            lw=0,
            label="90 % CI",
        )
        ax.plot(entry["updates"], mean, color="black", marker=".", markersize=3, label="mean")
        ax.set_xlabel("updates (batch of 100)")
        ax.set_title(f"Keras convnet,\n{setup_label(entry)}", fontsize=8)
    right[0].legend(frameon=False, fontsize=7, loc="upper right")
    return fig


def alt_answer(sweep: dict, optimum: dict, convnet: dict) -> str:
    soft = softmax_points(sweep)
    gaps = ", ".join(
        f"{m:.1f} points after {u:,} updates"
        for u, m in zip(soft["updates"], soft["mean"], strict=True)
    )
    at_optimum = optimum_point(optimum)
    optimum_text = (
        f" At the penalised optimum the difference is {at_optimum['difference']:.2f} points "
        f"and {at_optimum['differing']} of {at_optimum['test_size']:,} test predictions differ."
        if at_optimum is not None
        else ""
    )
    convnets = []
    for entry in convnet_setups(convnet):
        first, last = entry["difference_by_update"][0], entry["difference_by_update"][-1]
        convnets.append(
            f"the Keras convnet with {setup_label(entry)}: {100 * first['mean']:.2f} points "
            f"after {entry['updates'][0]:,} updates and {100 * last['mean']:.2f} after "
            f"{entry['updates'][-1]:,} (90 % interval shaded solid)"
        )
    return (
        f"{1 + len(convnets)} panels of test accuracy on normal minus inverted inputs, in "
        f"percentage points. Softmax regression trained by SGD at each encoding's best "
        f"learning rate: {gaps}.{optimum_text} Then "
        + "; ".join(convnets)
        + f"; the equivalence margin of ±{100 * last['equivalence']['margin']:.1f} points "
        "is hatched."
    )


def data_answer(sweep: dict, optimum: dict, convnet: dict) -> dict:
    return {
        "softmax_normal_minus_inverted_points": softmax_points(sweep),
        "penalised_optimum": optimum_point(optimum),
        "convnet": [
            {
                "setup": setup_label(entry),
                "updates": entry["updates"],
                "normal_minus_inverted": entry["difference_by_update"],
            }
            for entry in convnet_setups(convnet)
        ],
    }


def _at_best(sweep: dict, encoding: str, updates: int) -> list[float]:
    """Each seed's test accuracy at the rate chosen for `encoding` after `updates`."""
    index = sweep["best"][encoding][str(updates)]["rate_index"]
    k = sweep["grid"]["checkpoints"].index(updates)
    return [seed[k] for seed in sweep["accuracy"][encoding]["per_seed"][index]]


def inverted_needs_more_updates(results: dict) -> Claim:
    """In updates to a given accuracy, softmax regression with plain SGD at
    validation-tuned rates: after ten times as many updates as normal inputs, inverted ones
    are still behind, at every pair of the sweep's checkpoints a factor of ten apart. Tested
    by the paired difference over seeds (each seed's batches are shared by the encodings):
    its 95 % CI lies above 0 at every pair."""
    sweep = results["sweep"]["metrics"]
    best = sweep["best"]
    need(best, "normal", "inverted")
    checkpoints = sweep["grid"]["checkpoints"]
    pairs = [
        {
            "normal_updates": k,
            "inverted_updates": 10 * k,
            "normal": best["normal"][str(k)]["mean"],
            "normal_ci95": best["normal"][str(k)]["ci95"],
            "inverted": best["inverted"][str(10 * k)]["mean"],
            "inverted_ci95": best["inverted"][str(10 * k)]["ci95"],
            "paired": paired_difference(
                _at_best(sweep, "normal", k), _at_best(sweep, "inverted", 10 * k)
            ),
        }
        for k in checkpoints
        if 10 * k in checkpoints
    ]
    if not pairs:
        raise MissingData("no sweep checkpoints a factor of ten apart")
    return predicate(
        "inverted_needs_more_updates",
        all(p["paired"]["ci95"][0] > 0 for p in pairs),
        {"pairs": pairs, "chosen_on": sweep["grid"].get("chosen_on", "test")},
    )


SECTION = Section(
    "answer",
    claims=(inverted_needs_more_updates,),
    figures=(
        FigureSpec(
            "fig-answer",
            ("sweep", "optimum", "convnet"),
            "What inverting MNIST costs, against how long the model trains",
            draw_answer,
            alt_answer,
            data_answer,
        ),
    ),
)
