"""The accepted answer's claim, its replication, independent trials and the weight maps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from polarity.formatting import pct
from polarity.report.base import (
    PAIRED_VERDICTS,
    POLARITIES,
    Claim,
    FigureSpec,
    Section,
    TableSpec,
    paired_verdict,
    predicate,
)
from polarity.report.draw import in_percent, panels
from polarity.style import (
    COLUMN_WIDTH,
    ENCODING_COLOURS,
    HEATMAP,
    NEVER_INKED_COLOUR,
    REFERENCE_COLOUR,
    TEXT_WIDTH,
)


def trial_encodings(result: dict) -> dict:
    """The independent trials' summary per encoding (the paired difference left out)."""
    trials = result["metrics"]["independent_trials"]
    return {e: v for e, v in trials.items() if e != "difference"}


# --- Claims -------------------------------------------------------------------------------


def replication_reproduces_answer(results: dict) -> Claim:
    """The answer ran its protocol once; a rerun reproduces it when the answer's number lies
    where one run of the protocol lands with 95 % probability (its prediction interval over
    batch orders). At the answer's learning rate the inverted run is chaotic, so a single
    rerun is no yardstick."""
    replication = results["replication"]
    orders = replication["metrics"]["answer_protocol_orders"]
    reported = replication["reference"]["answer_reported"]
    ranges = {e: orders[e]["pi95"] for e in reported}
    inside = {e: ranges[e][0] <= reported[e] <= ranges[e][1] for e in reported}
    return Claim(
        "replication_reproduces_answer",
        "reproduced" if all(inside.values()) else "not_reproduced",
        all(inside.values()),
        {
            "ours": {e: orders[e]["mean"] for e in reported},
            "pi95": ranges,
            "reported": reported,
            "inside": inside,
            "orders": orders["normal"]["n"],
        },
        verdicts=("reproduced", "not_reproduced"),
    )


def answer_protocol_gap(results: dict) -> Claim:
    diff = results["replication"]["metrics"]["answer_protocol_orders"]["difference"]
    verdict = paired_verdict(diff)
    return Claim(
        "answer_protocol_gap",
        verdict,
        verdict == "normal_ahead",
        {"normal_minus_inverted": diff["mean"], "ci95": diff["ci95"], "orders": diff["n"]},
        PAIRED_VERDICTS,
    )


def trials_difference(results: dict) -> Claim:
    replication = results["replication"]
    trials = replication["metrics"]["independent_trials"]
    diff = trials["difference"]
    verdict = paired_verdict(diff)
    return Claim(
        "trials_difference",
        verdict,
        verdict == "normal_ahead",
        {
            "difference": diff["mean"],
            "ci95": diff["ci95"],
            "p_value": diff["p_value"],
            "excludes_zero": verdict != "inconclusive",
            "trials": diff["n"],
            "updates": replication["config"]["trial_updates"],
            "means": {e: trials[e]["mean"] for e in POLARITIES},
        },
        PAIRED_VERDICTS,
    )


def never_inked_weights_stay_put(results: dict) -> Claim:
    metrics = results["replication"]["metrics"]
    idle = metrics["data"]["never_inked_pixels"]
    maps = metrics["weight_change_maps"]
    normal_unchanged = maps["normal"]["unchanged_pixels"]
    inverted_moved = maps["inverted"]["never_inked_max_change"]
    return predicate(
        "never_inked_weights_stay_put",
        normal_unchanged == idle and inverted_moved > 0,
        {
            "never_inked_pixels": idle,
            "train_size": metrics["data"]["train_size"],
            "normal_unchanged_pixels": normal_unchanged,
            "inverted_max_change_on_never_inked": inverted_moved,
        },
    )


# --- Figures ------------------------------------------------------------------------------


def draw_answer_learning_curves(result: dict) -> plt.Figure:
    protocol = result["metrics"]["answer_protocol"]
    orders = result["metrics"]["answer_protocol_orders"]
    reported = result["reference"]["answer_reported"]
    fig, ax = plt.subplots()
    for encoding, run in protocol.items():
        colour = ENCODING_COLOURS[encoding]
        updates = run["curve"]["updates"]
        for curve in orders[encoding]["curves"][1:]:  # the other batch orders, faint
            ax.plot(updates, curve, color=colour, linewidth=0.5, alpha=0.25)
        ax.plot(updates, run["curve"]["accuracy"], color=colour, linewidth=1.0, label=encoding)
        ax.axhline(orders[encoding]["mean"], color=colour, linestyle="--", linewidth=0.8)
        ax.axhline(reported[encoding], color=colour, linestyle=":", linewidth=0.8)
    ax.plot([], [], color=REFERENCE_COLOUR, linestyle="--", label="our mean")
    ax.plot([], [], color=REFERENCE_COLOUR, linestyle=":", label="the answer's mean")
    ax.set_xlabel(f"SGD updates (batches of {result['config']['batch_size']} images)")
    ax.set_ylabel("test accuracy")
    in_percent(ax.yaxis)
    lowest = min(min(min(c) for c in orders[e]["curves"]) for e in protocol)
    ax.set_ylim(max(0.0, lowest - 0.05), 1.0)
    ax.legend(loc="lower right", frameon=False, ncols=2)
    return fig


def alt_answer_learning_curves(result: dict) -> str:
    orders = result["metrics"]["answer_protocol_orders"]
    reported = result["reference"]["answer_reported"]
    parts = [
        f"{encoding} inputs average {pct(orders[encoding]['mean'])} over the runs "
        f"(one run: {pct(orders[encoding]['pi95'][0])} to {pct(orders[encoding]['pi95'][1])} "
        f"with 95 % probability; the answer: {pct(reported[encoding])})"
        for encoding in reported
    ]
    updates = result["metrics"]["answer_protocol"]["normal"]["curve"]["updates"]
    return (
        f"Line chart of test accuracy against SGD updates, one point every {updates[0]} "
        f"updates up to {updates[-1]}, for two encodings of the same images, one line per "
        f"batch order ({orders['normal']['n']} orders): " + "; ".join(parts) + "."
    )


def data_answer_learning_curves(result: dict) -> dict:
    orders = result["metrics"]["answer_protocol_orders"]
    encodings = result["reference"]["answer_reported"]
    return {
        "updates": result["metrics"]["answer_protocol"]["normal"]["curve"]["updates"],
        "batch_order_seeds": orders["seeds"],
        "curves": {e: orders[e]["curves"] for e in encodings},
        "means": {e: orders[e]["mean"] for e in encodings},
        "answer_reported": result["reference"]["answer_reported"],
    }


def draw_trial_accuracies(result: dict) -> plt.Figure:
    encodings = trial_encodings(result)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 1.8))
    rng = np.random.default_rng(0)  # vertical jitter only; fixed so the files are stable
    for row, (encoding, entry) in enumerate(encodings.items()):
        accuracies = np.asarray(entry["accuracies"])
        ax.scatter(
            accuracies,
            row + rng.uniform(-0.2, 0.2, len(accuracies)),
            s=6,
            alpha=0.5,
            color=ENCODING_COLOURS[encoding],
            linewidths=0,
            label=encoding,
        )
        low, high = entry["ci95"]
        ax.errorbar(
            entry["mean"],
            row,
            xerr=[[entry["mean"] - low], [high - entry["mean"]]],
            fmt="o",
            color="black",
            capsize=3,
            markersize=3,
        )
    ax.set_yticks(range(len(encodings)), list(encodings))
    ax.set_ylim(-0.6, len(encodings) - 0.4)
    ax.set_xlabel(f"test accuracy after {result['config']['trial_updates']} updates")
    in_percent(ax.xaxis)
    return fig


def alt_trial_accuracies(result: dict) -> str:
    encodings = trial_encodings(result)
    parts = [
        f"{e}: mean {pct(v['mean'])}, 95 % CI {pct(v['ci95'][0])} to {pct(v['ci95'][1])}, "
        f"range {pct(min(v['accuracies']))} to {pct(max(v['accuracies']))}"
        for e, v in encodings.items()
    ]
    return (
        f"Dot plot of the test accuracy of {encodings['normal']['n']} independent trials per "
        "encoding with each mean and its confidence interval; " + "; ".join(parts) + "."
    )


def data_trial_accuracies(result: dict) -> dict:
    return {
        e: {k: v[k] for k in ("accuracies", "mean", "ci95")}
        for e, v in trial_encodings(result).items()
    }


def draw_weight_change_maps(result: dict) -> plt.Figure:
    maps = result["metrics"]["weight_change_maps"]
    vmax = max(m["max"] for m in maps.values())  # one shared scale, so the panels compare
    # Outlined on every panel: the pixels whose weights never moved under the normal
    # encoding (the never-inked pixels, where never_inked_weights_stay_put holds).
    idle = np.asarray(maps["normal"]["map"]) == 0 if "normal" in maps else None
    # A last panel shows the inverted weights of those pixels alone on a scale of their own:
    # on the shared scale their movement (a few per cent of the largest) cannot be seen.
    inset = idle is not None and idle.any() and "inverted" in maps
    fig, axes = panels(len(maps) + inset, TEXT_WIDTH if inset else COLUMN_WIDTH, 1.9)
    for ax, (encoding, entry) in zip(axes[0], maps.items(), strict=False):
        image = ax.imshow(np.asarray(entry["map"]), cmap=HEATMAP, vmin=0, vmax=vmax)
        if idle is not None and idle.any():
            ax.contour(idle, levels=[0.5], colors=[NEVER_INKED_COLOUR], linewidths=0.8)
        ax.set_title(encoding)
        ax.set_axis_off()
    fig.colorbar(
        image,
        ax=axes[0][: len(maps)],
        shrink=0.9,
        label="largest change of a weight\n(over the 10 classes)",
    )
    if inset:
        ax = axes[0][-1]
        moved = np.ma.masked_where(~idle, np.asarray(maps["inverted"]["map"]))
        ax.set_facecolor("white")
        own = ax.imshow(moved, cmap=HEATMAP, vmin=0, vmax=float(moved.max()))
        ax.contour(idle, levels=[0.5], colors=[NEVER_INKED_COLOUR], linewidths=0.8)
        ax.set_title("inverted, never-inked\npixels only (own scale)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(own, ax=ax, shrink=0.9, label="largest change\n(own scale)")
    return fig


def alt_weight_change_maps(result: dict) -> str:
    maps = result["metrics"]["weight_change_maps"]
    described = []
    for encoding, entry in maps.items():
        values = np.asarray(entry["map"])
        unchanged = int(np.sum(values == 0))
        described.append(
            f"{encoding}: largest change {entry['max']:.3g}, "
            f"{unchanged} of {values.size} pixel weights never moved"
        )
    text = (
        "Two 28 by 28 heat maps on one colour scale showing, for each pixel, how far its "
        "weights moved during training, with the pixels whose weights never moved under the "
        "normal encoding outlined; " + "; ".join(described) + "."
    )
    if "inverted" in maps and maps["normal"]["unchanged_pixels"]:
        text += (
            " A third map shows only those pixels' weights under the inverted encoding, on a "
            f"scale of their own up to {maps['inverted']['never_inked_max_change']:.3g}."
        )
    return text


def data_weight_change_maps(result: dict) -> dict:
    return {e: entry["map"] for e, entry in result["metrics"]["weight_change_maps"].items()}


# --- Table --------------------------------------------------------------------------------


def replication_rows(results: dict) -> list[dict]:
    r = results["replication"]
    orders, trials = r["metrics"]["answer_protocol_orders"], r["metrics"]["independent_trials"]
    return [
        {
            "encoding": encoding,
            "answer_reported": r["reference"]["answer_reported"][encoding],
            "answer_protocol_orders": orders[encoding]["n"],
            "answer_protocol_mean": orders[encoding]["mean"],
            "answer_protocol_pi95_low": orders[encoding]["pi95"][0],
            "answer_protocol_pi95_high": orders[encoding]["pi95"][1],
            "trials": trials[encoding]["n"],
            "trials_mean": trials[encoding]["mean"],
            "trials_ci95_low": trials[encoding]["ci95"][0],
            "trials_ci95_high": trials[encoding]["ci95"][1],
        }
        for encoding in POLARITIES
    ]


SECTION = Section(
    "replication",
    claims=(
        replication_reproduces_answer,
        answer_protocol_gap,
        trials_difference,
        never_inked_weights_stay_put,
    ),
    figures=(
        FigureSpec(
            "fig-answer-learning-curves",
            ("replication",),
            "Test accuracy under the accepted answer's protocol, normal and inverted inputs",
            draw_answer_learning_curves,
            alt_answer_learning_curves,
            data_answer_learning_curves,
        ),
        FigureSpec(
            "fig-trial-accuracies",
            ("replication",),
            "Test accuracy of independent fifty-update trials, normal and inverted inputs",
            draw_trial_accuracies,
            alt_trial_accuracies,
            data_trial_accuracies,
        ),
        FigureSpec(
            "fig-weight-change-maps",
            ("replication",),
            "Per-pixel weight change of softmax regression, normal and inverted inputs",
            draw_weight_change_maps,
            alt_weight_change_maps,
            data_weight_change_maps,
        ),
    ),
    tables=(TableSpec("tbl-replication", ("replication",), replication_rows),),
)
