"""Why, in the main text: the one figure that carries the evidence, softmax regression's
test accuracy against updates at validation-tuned learning rates for normal, inverted and
centred inputs (experiments/sweep.py). The theory and its measured links are worded in
templates/sections/why.qmd.j2 from the mechanism's and equivalences' claims."""

from __future__ import annotations

import numpy as np

from polarity.report.base import FigureSpec, Section, need
from polarity.report.draw import in_percent, panels
from polarity.style import ENCODING_COLOURS, TEXT_WIDTH

# The evidence figure's encodings: the two polarities, and centring, which removes the mean
# that inversion lengthens (inverted-centred inputs train exactly as centred ones).
EVIDENCE_ENCODINGS = ("normal", "inverted", "centred")
EVIDENCE_MARKERS = {"normal": "o", "inverted": "s", "centred": "^"}


def tuned_curves(sweep: dict) -> dict:
    """Test accuracy of each evidence encoding after each checkpoint, at the learning rate
    its validation accuracy picked for that number of updates (mean and 95 % CI over seeds)."""
    m = sweep["metrics"]
    need(m["best"], *EVIDENCE_ENCODINGS)
    checkpoints = m["grid"]["checkpoints"]
    return {
        "updates": checkpoints,
        "chosen_on": m["grid"].get("chosen_on", "test"),
        "n_seeds": m["grid"]["n_seeds"],
        "encodings": {
            e: {
                "learning_rate": [m["best"][e][str(k)]["learning_rate"] for k in checkpoints],
                "mean": [m["best"][e][str(k)]["mean"] for k in checkpoints],
                "ci95": [m["best"][e][str(k)]["ci95"] for k in checkpoints],
            }
            for e in EVIDENCE_ENCODINGS
        },
    }


def draw_evidence(sweep: dict):
    fig, axes = panels(1, TEXT_WIDTH * 0.62, 2.4)
    ax = axes[0][0]
    curves = tuned_curves(sweep)
    for encoding, c in curves["encodings"].items():
        mean = np.array(c["mean"])
        low, high = (np.array([ci[i] for ci in c["ci95"]]) for i in (0, 1))
        ax.fill_between(
            curves["updates"], low, high, color=ENCODING_COLOURS[encoding], alpha=0.2, lw=0
        )
        ax.plot(
            curves["updates"],
            mean,
            color=ENCODING_COLOURS[encoding],
            marker=EVIDENCE_MARKERS[encoding],
            markersize=3.5,
            label=encoding,
        )
    ax.set_xscale("log")
    ax.set_xticks(curves["updates"], [f"{u:,}" for u in curves["updates"]])
    ax.minorticks_off()
    ax.set_xlabel("updates (batch of 100)")
    ax.set_ylabel("test accuracy")
    in_percent(ax.yaxis)
    ax.legend(frameon=False, fontsize=7)
    return fig


def alt_evidence(sweep: dict) -> str:
    curves = tuned_curves(sweep)
    parts = []
    for encoding, c in curves["encodings"].items():
        listed = ", ".join(
            f"{100 * m:.1f} % after {u:,}"
            for u, m in zip(curves["updates"], c["mean"], strict=True)
        )
        parts.append(f"{encoding} inputs {listed} updates")
    return (
        "Line chart of softmax regression's test accuracy against updates, each encoding at "
        f"the learning rate its {curves['chosen_on']} accuracy picked for that budget: "
        + "; ".join(parts)
        + "."
    )


def data_evidence(sweep: dict) -> dict:
    return tuned_curves(sweep)


SECTION = Section(
    "why",
    figures=(
        FigureSpec(
            "fig-evidence",
            ("sweep",),
            "Accuracy against updates at validation-tuned learning rates",
            draw_evidence,
            alt_evidence,
            data_evidence,
        ),
    ),
)
