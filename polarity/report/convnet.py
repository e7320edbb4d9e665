"""The convnet the question asked about: the standard Keras MNIST convnet in several setups."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from polarity.formatting import pct, setup_label
from polarity.report.base import (
    Claim,
    FigureSpec,
    MissingData,
    Section,
    TableSpec,
    ahead,
    paired_verdict,
)
from polarity.report.draw import in_percent
from polarity.style import COLUMN_WIDTH, ENCODING_COLOURS, REFERENCE_COLOUR


def setups(result: dict) -> dict:
    """The trained setups by name, each with its updates, encodings and paired differences."""
    return result["metrics"]["setups"]


def finals(entry: dict) -> dict:
    """A setup's mean final test accuracy per encoding."""
    return {e: r["final"]["mean"] for e, r in entry["encodings"].items()}


# --- Claims -------------------------------------------------------------------------------


def convnet_difference(results: dict) -> Claim:
    """Per setup, which encoding ends ahead, if any; it holds when none does."""
    convnet = results["convnet"]
    trained = setups(convnet)
    verdicts = {name: paired_verdict(entry["difference"]) for name, entry in trained.items()}
    inconclusive = all(v == "inconclusive" for v in verdicts.values())
    alike = [name for name, v in verdicts.items() if v == "inconclusive"]
    alike_differences = [trained[name]["difference"]["mean"] for name in alike]
    return Claim(
        "convnet_difference",
        "inconclusive" if inconclusive else "some_setup_differs",
        inconclusive,
        {
            "verdicts": verdicts,
            "alike": alike,
            "alike_range": [min(alike_differences), max(alike_differences)] if alike else None,
            "differing": [name for name in verdicts if name not in alike],
            "updates": next(iter(trained.values()))["updates"][-1],
            "n_seeds": len(convnet["seeds"]),
            "setups": {
                name: {
                    "label": setup_label(entry),
                    "finals": finals(entry),
                    "difference": entry["difference"]["mean"],
                    "ci95": entry["difference"]["ci95"],
                    "p_value": entry["difference"]["p_value"],
                }
                for name, entry in trained.items()
            },
        },
        verdicts=("inconclusive", "some_setup_differs"),
    )


def convnet_gap_over_training(results: dict) -> Claim:
    """How the gap between the encodings evolves: at the first test against the last. It
    holds when some setup differs early and no longer differs at the end: inversion then
    changed how fast the network learned, not where it ended."""
    trained = setups(results["convnet"])
    entry = next(iter(trained.values()))
    first, last = entry["updates"][0], entry["updates"][-1]
    if first == last:
        raise MissingData("a single test per run")
    early = {n: ahead(paired_verdict(e["difference_by_update"][0])) for n, e in trained.items()}
    late = {n: ahead(paired_verdict(e["difference"])) for n, e in trained.items()}
    differing = [name for name in trained if early[name]]
    caught_up = [name for name in differing if late[name] is None]
    if not differing:
        verdict = "level_from_the_start"
    elif caught_up:
        verdict = "catches_up"
    else:
        verdict = "gap_remains"
    return Claim(
        "convnet_gap_over_training",
        verdict,
        bool(caught_up),
        {
            "first_test": early,
            "last_test": late,
            "updates": [first, last],
            "caught_up": caught_up,
            "remaining": [name for name in differing if name not in caught_up],
            "others": len(trained) - len(differing),
            "first_gap": {
                name: {
                    "label": setup_label(trained[name]),
                    "difference": abs(trained[name]["difference_by_update"][0]["mean"]),
                    "ci95": trained[name]["difference_by_update"][0]["ci95"],
                }
                for name in differing
            },
            "labels": {name: setup_label(e) for name, e in trained.items()},
        },
        verdicts=("level_from_the_start", "catches_up", "gap_remains"),
    )


# --- Figures ------------------------------------------------------------------------------


def panel_per_setup(trained: dict, columns: int, row_height: float, **share):
    """A grid of one panel per setup, each titled with its setup; empty cells hidden and the
    bottom row labelled with the updates."""
    columns = min(len(trained), columns)
    rows = -(-len(trained) // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(2 * COLUMN_WIDTH, 0.35 + row_height * rows),
        squeeze=False,
        sharex=True,
        constrained_layout=True,
        **share,
    )
    for ax, entry in zip(axes.flat, trained.values(), strict=False):
        title = setup_label(entry).replace(" at learning rate ", " ").replace(" and ", ",\n", 1)
        ax.set_title(title, fontsize=7)
    for ax in axes.flat[len(trained) :]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("updates (batch 100)")
    return fig, axes


def draw_convnet_curves(result: dict) -> plt.Figure:
    trained = setups(result)
    fig, axes = panel_per_setup(trained, 4, 1.9, sharey=True)
    lowest = 1.0
    for ax, entry in zip(axes.flat, trained.values(), strict=False):
        for encoding, runs in entry["encodings"].items():
            curves = np.asarray(runs["curves"])
            lowest = min(lowest, float(curves.min()))
            colour = ENCODING_COLOURS[encoding]
            ax.plot(entry["updates"], curves.mean(axis=0), color=colour, marker=".", label=encoding)
            ax.fill_between(
                entry["updates"],
                curves.min(axis=0),
                curves.max(axis=0),
                color=colour,
                alpha=0.2,
                linewidth=0,
            )
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy")
        in_percent(ax.yaxis)
    axes[0][0].set_ylim(max(0.0, lowest - 0.02), 1.0)
    axes[0][-1].legend(loc="lower right", frameon=False)
    return fig


def alt_convnet_curves(result: dict) -> str:
    parts = []
    for entry in setups(result).values():
        listed = ", ".join(f"{e} {pct(mean, 2)}" for e, mean in finals(entry).items())
        parts.append(f"{setup_label(entry)}: final mean accuracy {listed}")
    return (
        "Line charts of the convnet's test accuracy against updates, one panel per "
        f"setup, mean of {len(result['seeds'])} seeds per encoding with the range shaded; "
        + "; ".join(parts)
        + "."
    )


def data_convnet_curves(result: dict) -> dict:
    return {
        name: {
            "updates": entry["updates"],
            "curves": {e: r["curves"] for e, r in entry["encodings"].items()},
        }
        for name, entry in setups(result).items()
    }


def draw_convnet_gap(result: dict) -> plt.Figure:
    """One panel per setup on a linear scale of its own: a gap of tenths of a point and one
    of ten points each read at their size, none stretched by a log scale."""
    trained = setups(result)
    fig, axes = panel_per_setup(trained, 3, 1.6)
    for ax, entry in zip(axes.flat, trained.values(), strict=False):
        steps = entry["difference_by_update"]
        mean = 100 * np.array([d["mean"] for d in steps])
        low, high = (100 * np.array([d["ci95"][i] for d in steps]) for i in (0, 1))
        ax.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
        ax.fill_between(entry["updates"], low, high, color=REFERENCE_COLOUR, alpha=0.2, lw=0)
        ax.plot(entry["updates"], mean, color="black", marker=".")
    for ax in axes[:, 0]:
        ax.set_ylabel("normal − inverted\n(percentage points)")
    return fig


def alt_convnet_gap(result: dict) -> str:
    parts = []
    for entry in setups(result).values():
        first, last = entry["difference_by_update"][0], entry["difference_by_update"][-1]
        parts.append(
            f"{setup_label(entry)}: {100 * first['mean']:.2f} points after "
            f"{entry['updates'][0]:,} updates, {100 * last['mean']:.2f} after "
            f"{entry['updates'][-1]:,}"
        )
    return (
        "Line charts of the convnet's test accuracy on normal minus inverted inputs, in "
        f"percentage points, against updates, one panel per setup on its own linear scale, "
        f"with the 95 % confidence band over {len(result['seeds'])} paired seeds; "
        + "; ".join(parts)
        + "."
    )


def data_convnet_gap(result: dict) -> dict:
    return {
        name: {"updates": entry["updates"], "normal_minus_inverted": entry["difference_by_update"]}
        for name, entry in setups(result).items()
    }


CONVNET_CURVES = FigureSpec(
    "fig-convnet-curves",
    ("convnet",),
    "Test accuracy of the standard Keras MNIST convnet on normal and inverted inputs",
    draw_convnet_curves,
    alt_convnet_curves,
    data_convnet_curves,
)


# --- Table --------------------------------------------------------------------------------


def convnet_rows(results: dict) -> list[dict]:
    rows = []
    for entry in setups(results["convnet"]).values():
        for encoding, r in entry["encodings"].items():
            rows.append(
                {
                    "setup": setup_label(entry),
                    "padding": entry["padding"],
                    "batch_norm": entry["batch_norm"],
                    "optimizer": entry["optimizer"],
                    "learning_rate": entry["learning_rate"],
                    "encoding": encoding,
                    "seeds": r["final"]["n"],
                    "final_accuracy": r["final"]["mean"],
                    "final_ci95_low": r["final"]["ci95"][0],
                    "final_ci95_high": r["final"]["ci95"][1],
                    # Each seed's first update at the target, "–" where it never got there.
                    **{
                        f"updates_to_{t}": ", ".join(f"{u}" if u is not None else "–" for u in runs)
                        for t, runs in r["updates_to_reach"].items()
                    },
                }
            )
    return rows


SECTION = Section(
    "convnet",
    claims=(convnet_difference, convnet_gap_over_training),
    figures=(
        CONVNET_CURVES,
        FigureSpec(
            "fig-convnet-gap",
            ("convnet",),
            "The convnet's test accuracy on normal minus inverted inputs during training",
            draw_convnet_gap,
            alt_convnet_gap,
            data_convnet_gap,
        ),
    ),
    tables=(TableSpec("tbl-convnet", ("convnet",), convnet_rows),),
)
