"""Why inversion slows softmax regression down: curvature at initialisation (conditioning)
and the learning-rate sweep that tests its prediction."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from polarity.formatting import pct
from polarity.report import inference
from polarity.report.base import (
    PAIRED_VERDICTS,
    POLARITIES,
    Claim,
    FigureSpec,
    MissingData,
    Section,
    TableSpec,
    need,
    paired_verdict,
    predicate,
)
from polarity.report.draw import in_percent
from polarity.style import ENCODING_COLOURS, TEXT_WIDTH

# The sweep's encodings come in negation pairs with identical curves; one of each is shown.
SWEEP_SHOWN = ("normal", "inverted", "centred", "standardised")
SWEEP_MARKERS = {"normal": "o", "inverted": "s", "centred": "^", "standardised": "D"}


def curvature(results: dict) -> dict:
    """The conditioning experiment's measurements per encoding (normal and inverted at least)."""
    encodings = results["conditioning"]["metrics"]["encodings"]
    need(encodings, *POLARITIES)
    return encodings


def last_checkpoint(sweep_metrics: dict) -> int:
    """The sweep's longest training, in updates: where its best rates are compared."""
    return sweep_metrics["grid"]["checkpoints"][-1]


def best_at_last(sweep_metrics: dict, encoding: str) -> dict:
    """An encoding's best learning rate on the grid at the last checkpoint, with its accuracy."""
    return sweep_metrics["best"][encoding][str(last_checkpoint(sweep_metrics))]


# --- Claims -------------------------------------------------------------------------------


# MNIST's training file holds 60,000 images (../shared/data/mnist/README); the conditioning
# experiment computes on its first `train_images` of them.
TRAINING_IMAGES = 60_000


def hessian_matches_formula(results: dict) -> Claim:
    c = curvature(results)
    worst = max(
        abs(m["hessian_lambda_max"] / m["hessian_lambda_max_formula"] - 1) for m in c.values()
    )
    values = {"max_relative_difference": worst}
    # The curvature is computed on every MNIST training image, while the sweep's models train
    # on the tutorial's split of them and hold the rest out for validation: the prose says so.
    grid = results.get("sweep", {}).get("metrics", {}).get("grid", {})
    values["split"] = None  # without the sweep, no split to speak of
    if "train_size" in grid and "validation_size" in grid:
        values["split"] = {"train": grid["train_size"], "validation": grid["validation_size"]}
    # Results from before the count was recorded used every training image.
    images = results["conditioning"]["metrics"].get("train_images")
    values["images"] = images
    values["every_image"] = images is None or images >= TRAINING_IMAGES
    return predicate("hessian_matches_formula", worst < 1e-3, values)


def inversion_raises_curvature(results: dict) -> Claim:
    c = curvature(results)
    normal, inverted = c["normal"], c["inverted"]
    ratio = inverted["hessian_lambda_max"] / normal["hessian_lambda_max"]
    answer_rate = results["replication"]["config"]["learning_rate"]  # the answer's, 0.5
    edges = [normal["stability_edge"], inverted["stability_edge"]]
    if edges[0] > answer_rate > edges[1]:
        verdict = "separates"
    elif answer_rate > max(edges):
        verdict = "beyond_both"
    else:
        verdict = "does_not_separate"
    return Claim(
        "inversion_raises_curvature",
        verdict,
        ratio > 1 and verdict == "separates",
        {
            "normal": normal["hessian_lambda_max"],
            "inverted": inverted["hessian_lambda_max"],
            "ratio": ratio,
            "edges": edges,
            "answer_rate": answer_rate,
            "beyond": [answer_rate / edge for edge in edges],
        },
        verdicts=("separates", "beyond_both", "does_not_separate"),
    )


def top_direction_is_the_mean(results: dict) -> Claim:
    c = curvature(results)
    cosines = {e: c[e]["top_direction_mean_cosine"] for e in POLARITIES}
    norms = {e: c[e]["mean_input_norm_squared"] for e in POLARITIES}
    return predicate(
        "top_direction_is_the_mean",
        all(v > 0.99 for v in cosines.values()),
        {"cosines": cosines, "mean_norm_squared": norms},
    )


def standardisation_improves_conditioning(results: dict) -> Claim:
    """Conditioning compared scale-free: lambda_1 / lambda_2 of the second-moment matrix,
    which rescaling the inputs leaves unchanged (unlike lambda_max alone)."""
    c = curvature(results)
    need(c, "standardised", "centred")
    ratio = {e: c[e]["lambda_ratio"] for e in c if "lambda_ratio" in c[e]}
    need(ratio, "normal", "inverted", "standardised", "centred")
    if ratio["standardised"] < ratio["normal"] and ratio["centred"] < ratio["standardised"]:
        verdict = "between"  # better conditioned than raw, worse than centred
    elif ratio["standardised"] < ratio["normal"]:
        verdict = "as_good_as_centring"
    else:
        verdict = "no_better"
    return Claim(
        "standardisation_improves_conditioning",
        verdict,
        verdict != "no_better",
        {
            "ratio": ratio,
            "standardised_cosine": c["standardised"]["top_direction_mean_cosine"],
        },
        verdicts=("between", "as_good_as_centring", "no_better"),
    )


# The paired accuracy comparisons of centring and standardisation, each a Holm family over
# the sweep's budgets: (name, better, than).
PREPROCESSING_COMPARISONS = (
    ("centred_vs_raw", "centred", "normal"),
    ("standardised_vs_raw", "standardised", "normal"),
    ("centred_vs_standardised", "centred", "standardised"),
)


def preprocessing_comparisons(sweep: dict) -> dict:
    """Per comparison, test accuracy of one preprocessing minus another's after each budget
    of the sweep, each at the rate its validation accuracy chose there, paired by seed (the
    encodings share each seed's batches): a paired t-test per budget, Holm-corrected over
    the comparison's budgets."""
    need(sweep["best"], "normal", "centred", "standardised")
    checkpoints = sweep["grid"]["checkpoints"]

    def at_best(encoding: str, k: int) -> list[float]:
        index = sweep["best"][encoding][str(checkpoints[k])]["rate_index"]
        return [seed[k] for seed in sweep["accuracy"][encoding]["per_seed"][index]]

    comparisons = {}
    for name, better, than in PREPROCESSING_COMPARISONS:
        pairs = [(at_best(better, k), at_best(than, k)) for k in range(len(checkpoints))]
        family = inference.paired_family(pairs)
        comparisons[name] = [
            {
                "updates": checkpoint,
                "difference": test["difference"],
                "ci95": test["ci95"],
                "p_holm": test["p_holm"],
                "ahead": test["verdict"] == "a_ahead",
                "behind": test["verdict"] == "b_ahead",
            }
            for checkpoint, test in zip(checkpoints, family, strict=True)
        ]
    return comparisons


def centring_improves_accuracy(results: dict) -> Claim:
    """Does per-pixel centring beat raw inputs and the usual global standardisation in test
    accuracy, each at its validation-chosen rate, at every budget of the sweep? Measured, not
    inferred from conditioning. Verdicts: `every_budget` (centred ahead of both at every
    budget, Holm over the budgets of each comparison), `some_budgets` (ahead of both at some
    budgets, behind neither at any), `not_better` (otherwise)."""
    sweep = results["sweep"]["metrics"]
    comparisons = preprocessing_comparisons(sweep)
    centring = comparisons["centred_vs_raw"] + comparisons["centred_vs_standardised"]
    if all(c["ahead"] for c in centring):
        verdict = "every_budget"
    elif not any(c["behind"] for c in centring) and any(
        a["ahead"] and b["ahead"]
        for a, b in zip(
            comparisons["centred_vs_raw"], comparisons["centred_vs_standardised"], strict=True
        )
    ):
        verdict = "some_budgets"
    else:
        verdict = "not_better"
    standardisation = comparisons["standardised_vs_raw"]
    return Claim(
        "centring_improves_accuracy",
        verdict,
        verdict == "every_budget",
        {
            **comparisons,
            "checkpoints": sweep["grid"]["checkpoints"],
            "n_seeds": sweep["grid"]["n_seeds"],
            "chosen_on": sweep["grid"].get("chosen_on", "test"),
            "standardisation_ahead_at": [c["updates"] for c in standardisation if c["ahead"]],
            "standardisation_behind_at": [c["updates"] for c in standardisation if c["behind"]],
            "standardisation_undecided_at": [
                c["updates"] for c in standardisation if not (c["ahead"] or c["behind"])
            ],
        },
        verdicts=("every_budget", "some_budgets", "not_better"),
    )


def instability_onset_vs_edge(results: dict) -> Claim:
    """Where SGD's training loss first rises above its start, against 2/lambda_max."""
    c = curvature(results)
    onset = {e: m["instability"]["onset"] for e, m in c.items() if "instability" in m}
    need(onset, *POLARITIES)
    edge = {e: c[e]["stability_edge"] for e in onset}
    over = {e: (onset[e] / edge[e] if onset[e] is not None else None) for e in onset}
    ratios = [r for r in over.values() if r is not None]
    if ratios and min(ratios) >= 1 / 1.5 and max(ratios) <= 2:
        verdict = "tight"  # onset within a factor 2 of the edge for every encoding
    elif ratios and min(ratios) >= 1 / 1.5:
        verdict = "lower_bound"  # never much before the edge, sometimes far beyond
    else:
        verdict = "too_late"  # instability sets in well before the edge
    criterion = results["conditioning"]["metrics"]["onset_criterion"]
    return Claim(
        "instability_onset_vs_edge",
        verdict,
        verdict != "too_late",
        {
            "onset": onset,
            "edge": edge,
            "onset_over_edge": over,
            "updates": criterion["updates"],
            "n_seeds": criterion["n_seeds"],
            "rates_per_decade": criterion["rates_per_decade"],
            "lowest_ratio": min(ratios) if ratios else None,
            "closest": min((r, e) for e, r in over.items() if r is not None)[1] if ratios else None,
            "highest_ratio": max(ratios) if ratios else None,
            "tight": [e for e in SWEEP_SHOWN if e in over and over[e] is not None and over[e] <= 2],
            "loose": [e for e in SWEEP_SHOWN if e in over and over[e] is not None and over[e] > 2],
        },
        verdicts=("tight", "lower_bound", "too_late"),
    )


def best_rate_tracks_the_edge(results: dict) -> Claim:
    """At each checkpoint, is every encoding's best rate (chosen on validation) within one
    grid step of the largest grid rate below its predicted edge?"""
    c = curvature(results)
    sweep = results["sweep"]["metrics"]
    need(sweep["best"], *POLARITIES)
    rates = sweep["grid"]["learning_rates"]
    shown = [e for e in SWEEP_SHOWN if e in c and e in sweep["best"]]
    edges = {e: c[e]["stability_edge"] for e in shown}
    by_checkpoint = []
    for checkpoint in sweep["grid"]["checkpoints"]:
        best, within, anchor = {}, {}, {}
        for encoding in shown:
            best[encoding] = sweep["best"][encoding][str(checkpoint)]["learning_rate"]
            below = [r for r in rates if r <= edges[encoding]]
            index = rates.index(below[-1] if below else rates[0])
            anchor[encoding] = rates[index]
            within[encoding] = best[encoding] in rates[max(0, index - 1) : index + 2]
        by_checkpoint.append(
            {
                "updates": checkpoint,
                "best_rate": best,
                # The grid rate the "one step" is counted from: the largest at or below
                # the edge. A best rate one step above it may lie above the edge itself,
                # which the prose must then say rather than imply it is below.
                "largest_below_edge": anchor,
                "above_edge": [e for e in shown if best[e] > edges[e]],
                "within_one_step": within,
                "off": [e for e in shown if not within[e]],
            }
        )
    holds_at = [all(entry["within_one_step"].values()) for entry in by_checkpoint]
    verdict = "every_budget" if all(holds_at) else "short_budget" if holds_at[0] else "fails"
    return Claim(
        "best_rate_tracks_the_edge",
        verdict,
        verdict != "fails",
        {
            "edge": edges,
            "checkpoints": by_checkpoint,
            "first": by_checkpoint[0],
            "last": by_checkpoint[-1],
            "updates": by_checkpoint[0]["updates"],
        },
        verdicts=("every_budget", "short_budget", "fails"),
    )


def inverted_behind_at_best_rates(results: dict) -> Claim:
    sweep = results["sweep"]["metrics"]
    comparisons = sweep["comparisons"].get("normal_minus_inverted_at_best")
    if comparisons is None:
        raise MissingData("normal_minus_inverted_at_best")
    updates = last_checkpoint(sweep)
    diff = comparisons[str(updates)]
    best = {e: best_at_last(sweep, e) for e in POLARITIES}
    verdict = paired_verdict(diff)
    values = {
        "difference": diff["mean"],
        "ci95": diff["ci95"],
        "p_value": diff["p_value"],
        "n_seeds": diff["n"],
        "checkpoint": updates,
        "best": best,
        "rate_ratio": None,
    }
    # The mechanism, where the conditioning was measured: the edges allow the normal model
    # a learning rate this many times larger, while the next-steepest curvature is about
    # the same.
    if "conditioning" in results:
        c = results["conditioning"]["metrics"]["encodings"]
        second = {e: c[e]["second_moment_lambda_2"] / 10 for e in POLARITIES}
        edge_ratio = c["normal"]["stability_edge"] / c["inverted"]["stability_edge"]
        if edge_ratio >= 3 and abs(second["inverted"] / second["normal"] - 1) < 0.2:
            values.update(rate_ratio=edge_ratio, second_curvature=second)
    return Claim(
        "inverted_behind_at_best_rates", verdict, verdict == "normal_ahead", values, PAIRED_VERDICTS
    )


def gap_shrinks_with_updates(results: dict) -> Claim:
    """Normal minus inverted, each at its validation-chosen rate, after each checkpoint of
    the sweep, and at the optimum: the gap should shrink towards zero."""
    sweep = results["sweep"]["metrics"]
    comparisons = sweep["comparisons"].get("normal_minus_inverted_at_best")
    if comparisons is None:
        raise MissingData("normal_minus_inverted_at_best")
    optimum = results["optimum"]["metrics"]
    gaps = [comparisons[str(k)]["mean"] for k in sweep["grid"]["checkpoints"]]
    at_optimum = optimum["difference"]["test_accuracy"]
    magnitudes = [abs(g) for g in [*gaps, at_optimum]]
    shrinks = all(a >= b for a, b in zip(magnitudes, magnitudes[1:], strict=False))
    return Claim(
        "gap_shrinks_with_updates",
        "shrinks" if shrinks else "does_not_shrink",
        shrinks,
        {
            "checkpoints": sweep["grid"]["checkpoints"],
            "gaps": gaps,
            "ci95": [comparisons[str(k)]["ci95"] for k in sweep["grid"]["checkpoints"]],
            "rates": {
                e: [sweep["best"][e][str(k)]["learning_rate"] for k in sweep["grid"]["checkpoints"]]
                for e in POLARITIES
            },
            "chosen_on": sweep["grid"].get("chosen_on", "test"),
            "optimum": at_optimum,
            "answer": _answer_setting(results),
        },
        verdicts=("shrinks", "does_not_shrink"),
    )


def _answer_setting(results: dict) -> dict | None:
    """The accepted answer's setting (one learning rate, 50 updates), where measured."""
    if "replication" not in results:
        return None
    r = results["replication"]
    trials = r["metrics"]["independent_trials"]
    return {
        "learning_rate": r["config"]["learning_rate"],
        "updates": r["config"]["trial_updates"],
        "gap": trials["difference"]["mean"],
    }


def gap_rows(results: dict) -> list[dict]:
    sweep = results["sweep"]["metrics"]
    comparisons = sweep["comparisons"]["normal_minus_inverted_at_best"]
    rows = []
    for k in sweep["grid"]["checkpoints"]:
        best = {e: sweep["best"][e][str(k)] for e in POLARITIES}
        rows.append(
            {
                "updates": k,
                "normal_rate": best["normal"]["learning_rate"],
                "inverted_rate": best["inverted"]["learning_rate"],
                "chosen_on": best["normal"].get("chosen_on", "test"),
                "normal_accuracy": best["normal"]["mean"],
                "inverted_accuracy": best["inverted"]["mean"],
                "difference": comparisons[str(k)]["mean"],
                "ci95_low": comparisons[str(k)]["ci95"][0],
                "ci95_high": comparisons[str(k)]["ci95"][1],
            }
        )
    optimum = results["optimum"]["metrics"]
    rows.append(
        {
            "updates": None,
            "normal_rate": None,
            "inverted_rate": None,
            "chosen_on": None,
            "normal_accuracy": optimum["encodings"]["normal"]["test_accuracy"],
            "inverted_accuracy": optimum["encodings"]["inverted"]["test_accuracy"],
            "difference": optimum["difference"]["test_accuracy"],
            "ci95_low": None,
            "ci95_high": None,
        }
    )
    return rows


# --- Figure -------------------------------------------------------------------------------


ZOOM_BELOW_TOP = 0.04  # the zoomed row shows at least the top 4 points of each panel


def draw_lr_sweep(sweep: dict, conditioning: dict) -> plt.Figure:
    """One panel per checkpoint; below each, the same panel zoomed on the band that holds
    every shown encoding's best accuracy (so both polarities stay in view), where gaps of a
    point between encodings are visible."""
    grid = sweep["metrics"]["grid"]
    rates, checkpoints = grid["learning_rates"], grid["checkpoints"]
    edges = {e: m["stability_edge"] for e, m in conditioning["metrics"]["encodings"].items()}
    shown = [e for e in SWEEP_SHOWN if e in grid["encodings"]]
    fig, axes = plt.subplots(
        2,
        len(checkpoints),
        figsize=(TEXT_WIDTH, 4.4),
        squeeze=False,
        constrained_layout=True,
        sharex="col",
    )
    for k, checkpoint in enumerate(checkpoints):
        top, lowest_best = 0.0, 1.0
        for ax in axes[:, k]:
            for encoding in shown:
                entry = sweep["metrics"]["accuracy"][encoding]
                mean = [row[k] for row in entry["mean"]]
                top = max(top, max(mean))
                lowest_best = min(lowest_best, max(mean))
                low = [row[k][0] for row in entry["ci95"]]
                high = [row[k][1] for row in entry["ci95"]]
                colour = ENCODING_COLOURS[encoding]
                ax.plot(
                    rates,
                    mean,
                    color=colour,
                    marker=SWEEP_MARKERS[encoding],
                    markersize=3,
                    label=encoding,
                )
                ax.fill_between(rates, low, high, color=colour, alpha=0.15, linewidth=0)
                if encoding in edges and rates[0] <= edges[encoding] <= rates[-1]:
                    ax.axvline(edges[encoding], color=colour, linestyle=":", linewidth=0.9)
            ax.set_xscale("log")
            in_percent(ax.yaxis)
        axes[0][k].set_title(f"after {checkpoint:,} updates")
        axes[0][k].set_ylim(0, 1)
        # Down to the lowest encoding's best, and at least ZOOM_BELOW_TOP below the top.
        pad = max(ZOOM_BELOW_TOP / 8, (top - lowest_best) / 8)
        bottom = min(top - ZOOM_BELOW_TOP, lowest_best - pad)
        axes[1][k].set_ylim(bottom, top + (top - bottom) / 8)
        axes[1][k].yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
        axes[1][k].set_xlabel("learning rate (log scale)")
    axes[0][0].set_ylabel("test accuracy")
    axes[1][0].set_ylabel("test accuracy, zoomed")
    axes[0][-1].legend(loc="lower left", frameon=False)
    return fig


def alt_lr_sweep(sweep: dict, conditioning: dict) -> str:
    grid = sweep["metrics"]["grid"]
    last = last_checkpoint(sweep["metrics"])
    edges = conditioning["metrics"]["encodings"]
    parts = []
    for encoding in SWEEP_SHOWN:
        if encoding not in grid["encodings"]:
            continue
        best = best_at_last(sweep["metrics"], encoding)
        edge = ""
        if encoding in edges:
            edge = f", predicted edge {edges[encoding]['stability_edge']:.3g}"
        parts.append(
            f"{encoding}: best {pct(best['mean'])} at learning rate {best['learning_rate']:g}{edge}"
        )
    checkpoints = ", ".join(str(c) for c in grid["checkpoints"])
    return (
        f"Test accuracy against learning rate on a log axis, one panel per training length "
        f"({checkpoints} updates), one line per encoding with 95 % bands and dotted lines at "
        f"each predicted stability edge, and below each panel the same zoomed on the band "
        f"from the lowest encoding's best accuracy (at least {ZOOM_BELOW_TOP * 100:g} points "
        f"below the top) to the top, so every encoding's best is in view; after {last} updates "
        + "; ".join(parts)
        + "."
    )


def data_lr_sweep(sweep: dict, conditioning: dict) -> dict:
    grid = sweep["metrics"]["grid"]
    return {
        "grid": grid,
        "mean": {e: sweep["metrics"]["accuracy"][e]["mean"] for e in grid["encodings"]},
        "ci95": {e: sweep["metrics"]["accuracy"][e]["ci95"] for e in grid["encodings"]},
        "stability_edge": {
            e: m["stability_edge"] for e, m in conditioning["metrics"]["encodings"].items()
        },
    }


LR_SWEEP = FigureSpec(
    "fig-lr-sweep",
    ("sweep", "conditioning"),
    "Test accuracy against learning rate for each encoding, with predicted stability edges",
    draw_lr_sweep,
    alt_lr_sweep,
    data_lr_sweep,
)


# --- Table --------------------------------------------------------------------------------


def conditioning_rows(results: dict) -> list[dict]:
    encodings = results["conditioning"]["metrics"]["encodings"]
    sweep = results["sweep"]["metrics"]
    return [
        {
            "encoding": name,
            "second_moment_lambda_max": m["second_moment_lambda_max"],
            "top_direction_mean_cosine": m["top_direction_mean_cosine"],
            "hessian_lambda_max": m["hessian_lambda_max"],
            "hessian_lambda_max_formula": m["hessian_lambda_max_formula"],
            "stability_edge": m["stability_edge"],
            "lambda_ratio": m.get("lambda_ratio"),
            "instability_onset": m.get("instability", {}).get("onset"),
            "updates": last_checkpoint(sweep),
            "best_learning_rate": best_at_last(sweep, name)["learning_rate"],
            "best_accuracy": best_at_last(sweep, name)["mean"],
        }
        for name, m in encodings.items()
        if name in sweep["best"]
    ]


SECTION = Section(
    "mechanism",
    claims=(
        hessian_matches_formula,
        inversion_raises_curvature,
        top_direction_is_the_mean,
        standardisation_improves_conditioning,
        centring_improves_accuracy,
        instability_onset_vs_edge,
        best_rate_tracks_the_edge,
        inverted_behind_at_best_rates,
        gap_shrinks_with_updates,
    ),
    figures=(LR_SWEEP,),
    tables=(
        TableSpec("tbl-conditioning", ("conditioning", "sweep"), conditioning_rows),
        TableSpec("tbl-gap", ("sweep", "optimum"), gap_rows),
    ),
)
