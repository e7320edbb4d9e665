"""What inversion does not change: negation and centred inversion, absorbing the inversion
into the first layer, padding, and batch normalisation."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from polarity.report.base import Claim, FigureSpec, MissingData, Section, TableSpec, need, predicate
from polarity.report.mechanism import curvature
from polarity.style import OKABE_ITO, REFERENCE_COLOUR, TEXT_WIDTH

# Float32 logits of a few units agree to about 1e-6 when the algebra is exact; a broken
# identity moves them by tenths or more.
ROUNDING_TOLERANCE = 1e-4
# The cases whose first layer absorbs the inversion as it stands; 'same' padding needs the
# background-valued border, which `same_padding_breaks_absorption` states with its numbers.
EXACT_ABSORPTION = ("dense", "conv_valid")
ABSORPTION_CASES = {
    "dense": "dense first layer",
    "conv_valid": "'valid' convolution",
    "conv_same_zero_padding": "'same' convolution, zero padding",
    "conv_same_background_padding": "'same' convolution, background padding",
}
MIRROR_CASES = {
    ("without_batch_norm", "running_statistics"): "no batch norm",
    ("batch_norm", "batch_statistics"): "batch norm, batch statistics",
    ("batch_norm", "running_statistics"): "batch norm, running statistics",
}
# (pair, mode of evaluation) -> colour, in the legend's order; labels as in the table.
# Not the normal and inverted colours: these lines are setups, each pair mirrors both.
MIRROR_COLOURS = {
    ("without_batch_norm", "running_statistics"): OKABE_ITO["orange"],
    ("batch_norm", "running_statistics"): OKABE_ITO["bluish green"],
    ("batch_norm", "batch_statistics"): OKABE_ITO["reddish purple"],
}
PRECISIONS = {"float32": "mirrored_training", "float64": "mirrored_training_float64"}


def worst_at(pair: dict, mode: str, update: int) -> tuple[float | None, int | None]:
    """A mirrored pair's largest logit difference and changed predictions after `update`
    updates, each at its worst seed; None where the pair was not compared then."""
    if update not in pair["updates"]:
        return None, None
    k = pair["updates"].index(update)
    m = pair["modes"][mode]
    return (
        max(r[k] for r in m["max_abs_logit_difference"]),
        max(r[k] for r in m["predictions_changed"]),
    )


def worst_at_last_update(pair: dict, mode: str) -> tuple[float, int]:
    """A mirrored pair's largest logit difference and changed predictions after its last
    update, each at its worst seed."""
    m = pair["modes"][mode]
    return (
        max(r[-1] for r in m["max_abs_logit_difference"]),
        max(r[-1] for r in m["predictions_changed"]),
    )


# --- Claims -------------------------------------------------------------------------------


def _sweep_max_difference(results: dict, first: str, second: str) -> float:
    accuracy = results["sweep"]["metrics"]["accuracy"]
    need(accuracy, first, second)
    a = [v for rate in accuracy[first]["per_seed"] for seed in rate for v in seed]
    b = [v for rate in accuracy[second]["per_seed"] for seed in rate for v in seed]
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def negation_and_centred_inversion_change_nothing(results: dict) -> Claim:
    c = curvature(results)
    need(c, "negated", "centred", "inverted-centred")
    negation = _sweep_max_difference(results, "normal", "negated")
    centred = _sweep_max_difference(results, "centred", "inverted-centred")
    grid = results["sweep"]["metrics"]["grid"]
    tolerance = 1e-4  # one test image in 10,000
    return predicate(
        "negation_and_centred_inversion_change_nothing",
        negation <= tolerance and centred <= tolerance,
        {
            "negation_max_difference": negation,
            "centred_max_difference": centred,
            # Training runs (rates x seeds), each tested at every checkpoint: the models
            # compared are the runs, evaluated at the checkpoints, not separate models.
            "models": len(grid["learning_rates"]) * grid["n_seeds"] * len(grid["checkpoints"]),
            "runs": len(grid["learning_rates"]) * grid["n_seeds"],
            "rates": len(grid["learning_rates"]),
            "seeds": grid["n_seeds"],
            "checkpoints": len(grid["checkpoints"]),
            "centred_curvature": c["centred"]["hessian_lambda_max"],
        },
    )


def absorption_reproduces_predictions(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    cases = {c: metrics["absorption"][c] for c in EXACT_ABSORPTION}
    worst = max(c["max_abs_logit_difference"] for c in cases.values())
    changed = sum(c["predictions_changed"] for c in cases.values())
    return predicate(
        "absorption_reproduces_predictions",
        worst <= ROUNDING_TOLERANCE and changed == 0,
        {
            "max_abs_logit_difference": worst,
            "predictions_changed": changed,
            "max_abs_logit": max(c["max_abs_logit"] for c in cases.values()),
            "test_images": metrics["test_images"],
        },
    )


def same_padding_breaks_absorption(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    zero = metrics["absorption"]["conv_same_zero_padding"]
    background = metrics["absorption"]["conv_same_background_padding"]
    return predicate(
        "same_padding_breaks_absorption",
        zero["max_abs_logit_difference"] > ROUNDING_TOLERANCE
        and background["max_abs_logit_difference"] <= ROUNDING_TOLERANCE
        and background["predictions_changed"] == 0,
        {
            "zero_padding_predictions_changed": zero["predictions_changed"],
            "zero_padding_max_abs_logit_difference": zero["max_abs_logit_difference"],
            "accuracy_reference": zero["accuracy_reference"],
            "accuracy_zero_padding": zero["accuracy_other"],
            "background_padding_max_abs_logit_difference": background["max_abs_logit_difference"],
            "test_images": metrics["test_images"],
        },
    )


def batch_norm_mirrors_training(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    exact, single = metrics["mirrored_training_float64"], metrics["mirrored_training"]
    bn64, _ = worst_at_last_update(exact["batch_norm"], "batch_statistics")
    plain64, _ = worst_at_last_update(exact["without_batch_norm"], "running_statistics")
    bn32, bn32_changed = worst_at_last_update(single["batch_norm"], "batch_statistics")
    same = exact["batch_norm"]["updates"][-1]  # float32 where float64 stops, if compared
    bn32_same, bn32_same_changed = worst_at(single["batch_norm"], "batch_statistics", same)
    plain32, plain32_changed = worst_at_last_update(
        single["without_batch_norm"], "running_statistics"
    )
    return predicate(
        "batch_norm_mirrors_training",
        bn64 <= ROUNDING_TOLERANCE < plain64,
        {
            "float64": {"batch_norm": bn64, "without": plain64},
            "float32": {
                "batch_norm": bn32,
                "batch_norm_changed": bn32_changed,
                "without": plain32,
                "without_changed": plain32_changed,
                "batch_norm_at_float64_updates": bn32_same,
                "batch_norm_changed_at_float64_updates": bn32_same_changed,
            },
            "updates": {
                "float64": exact["batch_norm"]["updates"][-1],
                "float32": single["batch_norm"]["updates"][-1],
            },
            "test_images": metrics["test_images"],
        },
    )


def mirror_drift_against_rounding(results: dict) -> Claim:
    """Is the float32 mirror "the same up to rounding"? Measured against the control: two
    batch-normalised runs on normal images from one start with the same batches, differing
    only in the order each batch is summed (experiments/equivalences.py). Compared in
    training mode (batch statistics), where the algebra of the mirror holds, at every
    checkpoint, each at its worst seed. Verdicts: `within_rounding` (the mirrored pair's
    largest logit difference no larger than the control's at every checkpoint),
    `beyond_rounding` (larger at every checkpoint), `mixed`."""
    metrics = results["equivalences"]["metrics"]
    need(metrics, "summation_order_control")
    control = metrics["summation_order_control"]
    pair = metrics["mirrored_training"]["batch_norm"]
    mode = "batch_statistics"
    rows = []
    seed_ratios = []  # each seed's mirror against the same seed's control (one start, batches)
    for update in control["updates"]:
        if update not in pair["updates"]:
            continue
        mirror_logit, mirror_changed = worst_at(pair, mode, update)
        k = control["updates"].index(update)
        c = control["modes"][mode]
        j = pair["updates"].index(update)
        for mirror_run, control_run in zip(
            pair["modes"][mode]["max_abs_logit_difference"],
            c["max_abs_logit_difference"],
            strict=True,
        ):
            if control_run[k] > 0:
                seed_ratios.append(mirror_run[j] / control_run[k])
        rows.append(
            {
                "updates": update,
                "mirror": mirror_logit,
                "mirror_changed": mirror_changed,
                "control": max(r[k] for r in c["max_abs_logit_difference"]),
                "control_changed": max(r[k] for r in c["predictions_changed"]),
            }
        )
    if not rows:
        raise MissingData("no checkpoint shared by the mirrored pair and the control")
    for row in rows:
        row["ratio"] = row["mirror"] / row["control"] if row["control"] > 0 else None
    beyond = [r["control"] < r["mirror"] for r in rows]
    verdict = (
        "beyond_rounding" if all(beyond) else "within_rounding" if not any(beyond) else "mixed"
    )
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    farthest = max(
        (r for r in rows if r["ratio"] is not None), key=lambda r: r["ratio"], default=None
    )
    return Claim(
        "mirror_drift_against_rounding",
        verdict,
        verdict == "within_rounding",
        {
            "checkpoints": rows,
            "first": rows[0],
            "last": rows[-1],
            # The checkpoints compared (the control's own list, when the pair shares them
            # all, so that a count of them is traced to the results) and those where the
            # mirror was no further than the control.
            "updates_compared": (
                control["updates"]
                if all(u in pair["updates"] for u in control["updates"])
                else [r["updates"] for r in rows]
            ),
            "not_further_at": [r["updates"] for r, b in zip(rows, beyond, strict=True) if not b],
            "float64_updates": metrics["mirrored_training_float64"]["batch_norm"]["updates"][-1],
            "ratio_range": [min(ratios), max(ratios)] if ratios else None,
            "seed_ratio_range": [min(seed_ratios), max(seed_ratios)] if seed_ratios else None,
            "farthest_at": farthest["updates"] if farthest else None,
            "n_seeds": len(results["equivalences"]["seeds"]),
            "test_images": metrics["test_images"],
        },
        verdicts=("within_rounding", "beyond_rounding", "mixed"),
    )


def running_statistics_break_the_mirror(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    pair = metrics["mirrored_training"]["batch_norm"]
    batch, batch_changed = worst_at_last_update(pair, "batch_statistics")
    running, running_changed = worst_at_last_update(pair, "running_statistics")
    accuracy = pair["modes"]["running_statistics"]["final_accuracy"]
    early = metrics["mirrored_training_float64"]["batch_norm"]
    _, early_running = worst_at_last_update(early, "running_statistics")
    _, early_batch = worst_at_last_update(early, "batch_statistics")
    return predicate(
        "running_statistics_break_the_mirror",
        running > batch,
        {
            "running": running,
            "batch": batch,
            "running_changed": running_changed,
            "batch_changed": batch_changed,
            "early_updates": early["updates"][-1],
            "early_running_changed": early_running,
            "early_batch_changed": early_batch,
            "updates": pair["updates"][-1],
            "accuracy": {e: accuracy[e]["mean"] for e in ("normal", "inverted")},
            "difference": accuracy["difference"]["mean"],
            "ci95": accuracy["difference"]["ci95"],
            "n_pairs": accuracy["difference"]["n"],  # one seed: no interval to print
            "test_images": metrics["test_images"],
        },
    )


# --- Figure -------------------------------------------------------------------------------


QUANTITIES = {
    "max_abs_logit_difference": "largest logit difference",
    "predictions_changed": "test predictions changed",
}


def _mean_and_range(ax, x, runs, colour, alpha, **line):
    """Runs' mean as a line over their range, shaded (one row of `runs` a run)."""
    ax.plot(x, runs.mean(axis=0), color=colour, **line)
    ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color=colour, alpha=alpha, linewidth=0)


def draw_mirrored_training(result: dict) -> plt.Figure:
    """Small multiples: one column per case, the logit difference on a log axis above the
    predictions changed on a linear axis from zero (a count can be 0, a log axis cannot
    show it). Float32 pairs from the first update count where float64 ones exist, so the
    two precisions meet there."""
    metrics = result["metrics"]
    pairs, exact = metrics["mirrored_training"], metrics["mirrored_training_float64"]
    fig, axes = plt.subplots(
        2,
        len(MIRROR_COLOURS),
        figsize=(TEXT_WIDTH, 3.6),
        squeeze=False,
        constrained_layout=True,
        sharex=True,
    )
    for column, ((pair, mode), colour) in enumerate(MIRROR_COLOURS.items()):
        brief = exact[pair]
        start = brief["updates"][0]
        updates = np.asarray(pairs[pair]["updates"])
        shown = updates >= start
        for ax, quantity in zip(axes[:, column], QUANTITIES, strict=True):
            runs = np.asarray(pairs[pair]["modes"][mode][quantity], dtype=float)[:, shown]
            _mean_and_range(ax, updates[shown], runs, colour, 0.2, marker="o", markersize=2.5)
            # The yardstick where it was measured: two batch-normalised runs that differ only
            # in summation order, compared in the same mode (grey, dashed).
            control = metrics.get("summation_order_control")
            if pair == "batch_norm" and control and mode in control["modes"]:
                steps = np.asarray(control["updates"])
                kept = steps >= start
                drift = np.asarray(control["modes"][mode][quantity], dtype=float)[:, kept]
                _mean_and_range(ax, steps[kept], drift, REFERENCE_COLOUR, 0.15, linestyle="--")
            worst64 = max(r[-1] for r in brief["modes"][mode][quantity])
            ax.plot(
                brief["updates"][-1:],
                [worst64],
                color=REFERENCE_COLOUR,
                marker="*",
                markersize=7,
                linestyle="none",
                clip_on=False,  # a count of 0 sits on the axis and must stay whole
            )
            if quantity == "predictions_changed":
                ax.set_ylim(bottom=0)
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            elif worst64 > 0 and runs.min() > 0:
                ax.set_yscale("log")
            # else: a logit difference of exactly 0 stays on a linear axis, where it shows.
        axes[0][column].set_title(MIRROR_CASES[(pair, mode)], color=colour)
        axes[1][column].set_xlabel("updates (batch 100)")
    axes[0][0].set_ylabel(QUANTITIES["max_abs_logit_difference"])
    axes[1][0].set_ylabel(f"predictions changed\n(of {metrics['test_images']:,} test images)")
    handles = [
        Line2D([], [], color=REFERENCE_COLOUR, marker="o", markersize=2.5, label="float32"),
        Line2D([], [], color=REFERENCE_COLOUR, marker="*", linestyle="none", label="float64"),
    ]
    if "summation_order_control" in metrics:
        handles.append(
            Line2D(
                [],
                [],
                color=REFERENCE_COLOUR,
                linestyle="--",
                label="control: same run, another summation order",
            )
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    return fig


def alt_mirrored_training(result: dict) -> str:
    metrics = result["metrics"]
    pairs, exact = metrics["mirrored_training"], metrics["mirrored_training_float64"]
    parts = []
    for pair, mode in MIRROR_COLOURS:
        final, changed = worst_at_last_update(pairs[pair], mode)
        start = exact[pair]["updates"][-1]
        brief, brief_changed = worst_at_last_update(exact[pair], mode)
        same, same_changed = worst_at(pairs[pair], mode, start)
        parts.append(
            f"{MIRROR_CASES[(pair, mode)]}: after {start} updates, largest logit difference "
            f"{brief:.2g} and {brief_changed} predictions changed in float64"
            + (f", {same:.2g} and {same_changed} in float32" if same is not None else "")
            + f"; after {pairs[pair]['updates'][-1]} updates in float32, {final:.2g} and up "
            f"to {changed}"
        )
    return (
        "Small multiples against training updates, one column per case: above, on a log "
        "axis, the largest difference between the logits of a network trained on normal "
        "images and its mirror trained on inverted images; below, on a linear axis from "
        "zero, the number of test predictions on which they disagree; " + "; ".join(parts) + "."
    )


def data_mirrored_training(result: dict) -> dict:
    metrics = result["metrics"]
    return {
        precision: {
            pair: {
                "updates": entry["updates"],
                **{
                    mode: {q: m[q] for q in ("max_abs_logit_difference", "predictions_changed")}
                    for mode, m in entry["modes"].items()
                },
            }
            for pair, entry in metrics[key].items()
        }
        for precision, key in PRECISIONS.items()
    }


# --- Table --------------------------------------------------------------------------------


def equivalence_rows(results: dict) -> list[dict]:
    """Absorption cases on one trained network each, then the mirrored pairs after their
    last update (the worst seed), in float32 and in float64."""
    metrics = results["equivalences"]["metrics"]
    rows = [
        {
            "check": "absorption",
            "case": name,
            "precision": "float32",
            "updates": None,
            "seeds": 1,
            "max_abs_logit_difference": a["max_abs_logit_difference"],
            "max_abs_logit": a["max_abs_logit"],
            "predictions_changed": a["predictions_changed"],
            "test_images": metrics["test_images"],
        }
        for case, name in ABSORPTION_CASES.items()
        for a in [metrics["absorption"][case]]
    ]
    for precision, key in PRECISIONS.items():
        for (pair, mode), name in MIRROR_CASES.items():
            entry = metrics[key][pair]
            difference, changed = worst_at_last_update(entry, mode)
            rows.append(
                {
                    "check": "mirrored training",
                    "case": name,
                    "precision": precision,
                    "updates": entry["updates"][-1],
                    "seeds": len(entry["modes"][mode]["max_abs_logit_difference"]),
                    "max_abs_logit_difference": difference,
                    "max_abs_logit": None,
                    "predictions_changed": changed,
                    "test_images": metrics["test_images"],
                }
            )
    return rows


SECTION = Section(
    "equivalences",
    claims=(
        negation_and_centred_inversion_change_nothing,
        absorption_reproduces_predictions,
        same_padding_breaks_absorption,
        batch_norm_mirrors_training,
        mirror_drift_against_rounding,
        running_statistics_break_the_mirror,
    ),
    figures=(
        FigureSpec(
            "fig-mirrored-training",
            ("equivalences",),
            "How far a convnet trained on inverted images strays from the mirror of one trained "
            "on normal images, with and without batch normalisation",
            draw_mirrored_training,
            alt_mirrored_training,
            data_mirrored_training,
        ),
    ),
    tables=(TableSpec("tbl-equivalences", ("equivalences",), equivalence_rows),),
)
