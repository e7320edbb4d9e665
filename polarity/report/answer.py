"""The figure that carries the answer, under the box at the top: the cost of inversion
against training length, for softmax regression (each encoding at its best learning rate,
then at the optimum) and for the Keras convnet trained until it flattens out."""

from __future__ import annotations

import numpy as np

from polarity.formatting import setup_label
from polarity.report.base import FigureSpec, MissingData, Section
from polarity.report.draw import panels
from polarity.style import REFERENCE_COLOUR, TEXT_WIDTH


def longest_setup(convnet: dict) -> dict:
    """The convnet setup trained longest (the one trained until it flattens out)."""
    trained = convnet["metrics"]["setups"]
    if not trained:
        raise MissingData("no convnet setup")
    return max(trained.values(), key=lambda e: e["updates"][-1])


def softmax_points(sweep: dict, optimum: dict) -> dict:
    """Normal minus inverted at each encoding's best rate after each checkpoint, in points,
    with the optimum's difference last."""
    at_best = sweep["metrics"]["comparisons"]["normal_minus_inverted_at_best"]
    checkpoints = sorted(int(k) for k in at_best)
    return {
        "updates": checkpoints,
        "mean": [100 * at_best[str(k)]["mean"] for k in checkpoints],
        "ci95": [[100 * b for b in at_best[str(k)]["ci95"]] for k in checkpoints],
        "optimum": 100 * optimum["metrics"]["difference"]["test_accuracy"],
    }


def draw_answer(sweep: dict, optimum: dict, convnet: dict):
    fig, axes = panels(2, TEXT_WIDTH, 2.3)
    left, right = axes[0]
    soft = softmax_points(sweep, optimum)
    # The optimum sits one decade past the last checkpoint, labelled as such.
    at_optimum = soft["updates"][-1] * 10
    xs = [*soft["updates"], at_optimum]
    ys = [*soft["mean"], soft["optimum"]]
    low = [m - ci[0] for m, ci in zip(soft["mean"], soft["ci95"], strict=True)] + [0]
    high = [ci[1] - m for m, ci in zip(soft["mean"], soft["ci95"], strict=True)] + [0]
    left.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
    left.errorbar(xs, ys, yerr=[low, high], color="black", marker="o", markersize=3, capsize=2)
    left.set_xscale("log")
    left.set_xticks(xs, [f"{u:,}" for u in soft["updates"]] + ["optimum"])
    left.minorticks_off()
    left.set_xlabel("updates (batch of 100)")
    left.set_ylabel("normal − inverted\n(percentage points)")
    left.set_title("Softmax regression, each at its best rate", fontsize=8)

    entry = longest_setup(convnet)
    steps = entry["difference_by_update"]
    margin = 100 * steps[-1]["equivalence"]["margin"]
    mean = 100 * np.array([d["mean"] for d in steps])
    ci_low, ci_high = (100 * np.array([d["equivalence"]["ci90"][i] for d in steps]) for i in (0, 1))
    right.axhspan(-margin, margin, color=REFERENCE_COLOUR, alpha=0.15, lw=0)
    right.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
    right.fill_between(entry["updates"], ci_low, ci_high, color="black", alpha=0.2, lw=0)
    right.plot(entry["updates"], mean, color="black", marker=".", markersize=3)
    right.set_xlabel("updates (batch of 100)")
    right.set_title(
        f"Keras convnet, {setup_label(entry).replace(' at learning rate ', ' ')}", fontsize=8
    )
    return fig


def alt_answer(sweep: dict, optimum: dict, convnet: dict) -> str:
    soft = softmax_points(sweep, optimum)
    entry = longest_setup(convnet)
    gaps = ", ".join(
        f"{m:.1f} points after {u:,} updates"
        for u, m in zip(soft["updates"], soft["mean"], strict=True)
    )
    first, last = entry["difference_by_update"][0], entry["difference_by_update"][-1]
    return (
        "Two panels of test accuracy on normal minus inverted inputs, in percentage points. "
        f"Softmax regression at each encoding's best learning rate: {gaps}, and "
        f"{soft['optimum']:.2f} points at the optimum. The Keras convnet with "
        f"{setup_label(entry)}: {100 * first['mean']:.2f} points after "
        f"{entry['updates'][0]:,} updates and {100 * last['mean']:.2f} after "
        f"{entry['updates'][-1]:,}, with the equivalence margin of "
        f"±{100 * last['equivalence']['margin']:.1f} points shaded."
    )


def data_answer(sweep: dict, optimum: dict, convnet: dict) -> dict:
    entry = longest_setup(convnet)
    return {
        "softmax_normal_minus_inverted_points": softmax_points(sweep, optimum),
        "convnet": {
            "setup": setup_label(entry),
            "updates": entry["updates"],
            "normal_minus_inverted": entry["difference_by_update"],
        },
    }


SECTION = Section(
    "answer",
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
