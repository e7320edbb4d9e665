"""The convnet the question asked about: where it ends, how fast it gets there, why, and
whether it learns both polarities (experiments/convnet.py)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from polarity.formatting import pct, setup_label
from polarity.report import inference
from polarity.report.base import Claim, FigureSpec, MissingData, Section, TableSpec, need
from polarity.report.draw import in_percent
from polarity.style import ENCODING_COLOURS, REFERENCE_COLOUR, TEXT_WIDTH

# The convnet's comparisons carry their verdict (experiments/convnet.py): a difference test
# and an equivalence test against the margin, both Holm-corrected over their family.
VERDICTS = ("normal_ahead", "inverted_ahead", "equivalent", "inconclusive")
# Curvatures within this factor of each other are called alike.
CURVATURE_ALIKE = 1.25
# Trained on one polarity, a model "does not transfer" when it loses more than this on the
# other; the mixed model "learns both" when it is within MIXED_TOLERANCE of each
# single-polarity model. Both are stated in the text with the numbers.
TRANSFER_LOSS = 0.10
MIXED_TOLERANCE = 0.01


def setups(result: dict) -> dict:
    """The trained setups by name, each with its updates, encodings and paired differences."""
    return result["metrics"]["setups"]


def finals(entry: dict) -> dict:
    """A setup's mean final test accuracy per encoding."""
    return {e: r["final"]["mean"] for e, r in entry["encodings"].items()}


def converged(entry: dict) -> bool:
    """Both encodings' runs flattened out (the experiment's plateau criterion)."""
    return all(r["plateau"]["flat"] for r in entry["encodings"].values())


def still_improving(entry: dict, k: int, config: dict) -> bool:
    """Whether either encoding's mean accuracy over seeds rose by the plateau gain or more
    over the plateau window ending at the k-th checkpoint: the experiment's plateau criterion
    (experiments/convnet.py `plateau`) taken there rather than at the run's end."""
    back = min(k, config["plateau_window"] // config["eval_every"])
    for runs in entry["encodings"].values():
        curves = runs["curves"]
        gain = (sum(c[k] for c in curves) - sum(c[k - back] for c in curves)) / len(curves)
        if not back or gain >= config["plateau_gain"]:
            return True
    return False


def tested(entry: dict, update: int) -> dict:
    """The comparison at a tested checkpoint, with its verdict."""
    comparison = entry["difference_by_update"][entry["updates"].index(update)]
    return {
        "update": update,
        "verdict": comparison["equivalence"]["verdict"],
        "difference": comparison["mean"],
        "ci90": comparison["equivalence"]["ci90"],
        "p_holm": comparison["p_holm"],
        "equivalence_p_holm": comparison["equivalence"]["p_holm"],
    }


def ending(entry: dict) -> dict:
    """A setup's last tested comparison in the words' terms."""
    return {
        "label": setup_label(entry),
        "updates": entry["updates"][-1],
        "finals": finals(entry),
        "converged": converged(entry),
        "gain": {e: r["plateau"]["gain"] for e, r in entry["encodings"].items()},
        "window": entry["encodings"]["normal"]["plateau"]["window"],
        **tested(entry, entry["updates"][-1]),
    }


def tested_family(result: dict) -> list[tuple[str, int]]:
    """The accuracy family Holm's correction covered (experiments/convnet.py), in its
    order: every setup at each of its tested checkpoints."""
    return [(name, u) for name, entry in setups(result).items() for u in entry["tests"]]


def holm_matched(result: dict, name: str, update: int) -> dict:
    """The intervals that match the Holm-adjusted decisions of one tested comparison. Holm
    tests a hypothesis at alpha / (m - rank); the equivalence decision then rests on the
    (1 - 2 level) interval lying inside the margin, the difference decision on the
    (1 - level) interval excluding zero. The per-seed differences are the runs' accuracies
    at that test, normal minus inverted, paired by seed."""
    family = tested_family(result)
    index = family.index((name, update))
    comparisons = [
        setups(result)[n]["difference_by_update"][setups(result)[n]["updates"].index(u)]
        for n, u in family
    ]
    alpha = result["metrics"]["families"]["alpha"]
    entry = setups(result)[name]
    k = entry["updates"].index(update)
    curves = {
        e: [run[k] for run in entry["encodings"][e]["curves"]] for e in ("normal", "inverted")
    }
    differences = [a - b for a, b in zip(curves["normal"], curves["inverted"], strict=True)]
    equivalence_level = inference.holm_level(
        [c["equivalence"]["p_value"] for c in comparisons], index, alpha
    )
    difference_level = inference.holm_level([c["p_value"] for c in comparisons], index, alpha)
    tightest = inference.equivalence_interval(differences, equivalence_level)
    return {
        "family_size": len(family),
        "equivalence_confidence": 1 - 2 * equivalence_level,
        "equivalence_interval": tightest,
        # The narrowest margin the same TOST at the same Holm level would pass.
        "tightest_margin": max(abs(b) for b in tightest),
        "difference_confidence": 1 - difference_level,
        "difference_interval": inference.equivalence_interval(differences, difference_level / 2),
        "seed_std": {e: inference.carried(np.std(curves[e], ddof=1), curves[e][0]) for e in curves},
        "error_rate": {e: 1 - sum(curves[e]) / len(curves[e]) for e in curves},
    }


def overall(verdicts: list[str]) -> str:
    """One verdict for several comparisons: the one they share, else `mixed`."""
    return verdicts[0] if len(set(verdicts)) == 1 else "mixed"


# --- Claims -------------------------------------------------------------------------------


def convnet_end(results: dict) -> Claim:
    """Where the converged setups end: equivalent within the margin, one encoding ahead, or
    inconclusive; `not_converged` when no setup flattened out."""
    convnet = results["convnet"]
    trained = setups(convnet)
    done = {
        name: {**ending(e), **holm_matched(convnet, name, e["updates"][-1])}
        for name, e in trained.items()
        if converged(e)
    }
    verdict = overall([d["verdict"] for d in done.values()]) if done else "not_converged"
    return Claim(
        "convnet_end",
        verdict,
        verdict == "equivalent",
        {
            "converged": done,
            "not_converged": [setup_label(e) for e in trained.values() if not converged(e)],
            "margin": convnet["config"]["margin"],
            "n_seeds": len(convnet["seeds"]),
            "test_images": convnet["config"]["test_images"],
        },
        verdicts=(*VERDICTS, "mixed", "not_converged"),
    )


def convnet_difference(results: dict) -> Claim:
    """Every setup at the end of its run, with its verdict; it holds when every setup is
    equivalent within the margin."""
    convnet = results["convnet"]
    ends = {
        name: {**ending(e), **holm_matched(convnet, name, e["updates"][-1])}
        for name, e in setups(convnet).items()
    }
    verdicts = [e["verdict"] for e in ends.values()]
    if "normal_ahead" in verdicts or "inverted_ahead" in verdicts:
        verdict = "some_differ"
    elif all(v == "equivalent" for v in verdicts):
        verdict = "all_equivalent"
    elif "equivalent" in verdicts:
        verdict = "partly_equivalent"
    else:
        verdict = "inconclusive"
    families = convnet["metrics"]["families"]
    return Claim(
        "convnet_difference",
        verdict,
        verdict == "all_equivalent",
        {
            "setups": ends,
            "margin": convnet["config"]["margin"],
            "n_seeds": len(convnet["seeds"]),
            "family": families["accuracy"],
            "alpha": families["alpha"],
        },
        verdicts=("all_equivalent", "partly_equivalent", "some_differ", "inconclusive"),
    )


def speed_verdict(comparison: dict | None, alpha: float) -> str:
    """Which encoding reaches a target in fewer updates (normal minus inverted, paired)."""
    if comparison is None:
        return "not_all_reached"
    if comparison["p_holm"] >= alpha:
        return "no_difference_detected"
    return "normal_faster" if comparison["mean"] < 0 else "inverted_faster"


def convnet_speed(results: dict) -> Claim:
    """Does inversion slow the way to each accuracy target? Per setup and target, the paired
    difference in updates (Holm-corrected over setups x targets)."""
    convnet = results["convnet"]
    alpha = convnet["metrics"]["families"]["alpha"]
    per_setup = {}
    for name, entry in setups(convnet).items():
        targets = {}
        for target, s in entry["speed"].items():
            d = s["difference"]
            targets[target] = {
                "verdict": speed_verdict(d, alpha),
                "reached": s["reached"],
                "difference": d["mean"] if d else None,
                "ci95": d["ci95"] if d else None,
                "p_holm": d["p_holm"] if d else None,
            }
        per_setup[name] = {
            "label": setup_label(entry),
            "targets": targets,
            "runs": entry["encodings"]["normal"]["final"]["n"],
            "end": tested(entry, entry["updates"][-1]),  # where a run that reached none stood
        }
    # A run that has not flattened out and ends behind is still on its way: slower too.
    behind = {
        name: s["end"]["verdict"]
        for name, s in per_setup.items()
        if not converged(setups(convnet)[name])
        and s["end"]["verdict"] in ("normal_ahead", "inverted_ahead")
    }
    found = {t["verdict"] for s in per_setup.values() for t in s["targets"].values()}
    found |= {
        "normal_faster" if v == "normal_ahead" else "inverted_faster" for v in behind.values()
    }
    if "normal_faster" in found and "inverted_faster" in found:
        verdict = "mixed"
    elif "normal_faster" in found:
        verdict = "inversion_slows"
    elif "inverted_faster" in found:
        verdict = "inversion_speeds"
    elif "no_difference_detected" in found:
        verdict = "no_difference_detected"
    else:
        verdict = "not_measured"
    slowed = [
        name
        for name, s in per_setup.items()
        if any(t["verdict"] == "normal_faster" for t in s["targets"].values())
        or behind.get(name) == "normal_ahead"
    ]
    # Per slowed setup, the target where inverted inputs fall furthest behind.
    largest = {
        name: max(
            (
                {"target": target, "updates": -t["difference"]}
                for target, t in per_setup[name]["targets"].items()
                if t["verdict"] == "normal_faster"
            ),
            key=lambda lag: lag["updates"],
        )
        for name in slowed
        if name not in behind
    }
    return Claim(
        "convnet_speed",
        verdict,
        verdict == "inversion_slows",
        {
            "setups": per_setup,
            "slowed": slowed,
            "largest_lag": largest,
            "still_behind": [name for name, v in behind.items() if v == "normal_ahead"],
            "family": convnet["metrics"]["families"]["speed"],
            "eval_every": convnet["config"]["eval_every"],
        },
        verdicts=(
            "inversion_slows",
            "inversion_speeds",
            "mixed",
            "no_difference_detected",
            "not_measured",
        ),
    )


def convnet_curvature(results: dict) -> Claim:
    """Is the loss at initialisation sharper for inverted inputs, as the mean-input story
    predicts? Verdict on the plain convnet: sharper when every seed's ratio says so."""
    convnet = results["convnet"]
    need(convnet["metrics"], "curvature")
    measured = convnet["metrics"]["curvature"]["lambda_max"]
    ratio = {
        key: m["inverted"]["lambda_max"] / m["normal"]["lambda_max"] for key, m in measured.items()
    }
    # Paired by seed: each seed's initial weights seen through both encodings.
    per_seed = [
        i / n
        for i, n in zip(
            measured["plain"]["inverted"]["values"],
            measured["plain"]["normal"]["values"],
            strict=True,
        )
    ]
    if min(per_seed) >= CURVATURE_ALIKE:
        verdict = "inverted_sharper"
    elif max(per_seed) <= 1 / CURVATURE_ALIKE:
        verdict = "normal_sharper"
    else:
        verdict = "alike"
    rates = {}
    for entry in setups(convnet).values():
        if entry["optimizer"] != "sgd":
            continue
        key = "batch_norm" if entry["batch_norm"] else "plain"
        edges = {e: m["stability_edge"] for e, m in measured[key].items()}
        rates[setup_label(entry)] = {
            "learning_rate": entry["learning_rate"],
            "batch_norm": entry["batch_norm"],
            "edges": edges,
            "beyond": [e for e, edge in edges.items() if entry["learning_rate"] > edge],
        }
    return Claim(
        "convnet_curvature",
        verdict,
        verdict == "inverted_sharper",
        {
            "lambda_max": {k: {e: m[e]["lambda_max"] for e in m} for k, m in measured.items()},
            "edges": {k: {e: m[e]["stability_edge"] for e in m} for k, m in measured.items()},
            "ratio": ratio,
            "ratio_range": [min(per_seed), max(per_seed)],
            "alike_within": CURVATURE_ALIKE,
            "images": convnet["metrics"]["curvature"]["images"],
            "seeds": len(convnet["metrics"]["curvature"]["seeds"]),
            "rates": rates,
        },
        verdicts=("inverted_sharper", "alike", "normal_sharper"),
    )


def convnet_other_polarity(results: dict) -> Claim:
    """Trained on one polarity, tested on the other: how much accuracy each model keeps."""
    trained = setups(results["convnet"])
    per_setup = {
        name: {
            "label": setup_label(entry),
            "same": finals(entry),
            "other": {e: r["other_polarity"]["mean"] for e, r in entry["encodings"].items()},
        }
        for name, entry in trained.items()
    }
    losses = [s["same"][e] - s["other"][e] for s in per_setup.values() for e in s["same"]]
    if all(loss > TRANSFER_LOSS for loss in losses):
        verdict = "does_not_transfer"
    elif all(loss <= TRANSFER_LOSS for loss in losses):
        verdict = "transfers"
    else:
        verdict = "partly"
    others = [a for s in per_setup.values() for a in s["other"].values()]
    # Per model (seed): the range the appendix prints for "the same models", and the losses
    # its verdict must cover, since it speaks of every model, not of setup means.
    seed_others = [
        a
        for entry in trained.values()
        for r in entry["encodings"].values()
        for a in r["other_polarity"]["values"]
    ]
    seed_losses = [
        same - other
        for entry in trained.values()
        for r in entry["encodings"].values()
        for same, other in zip(r["final"]["values"], r["other_polarity"]["values"], strict=True)
    ]
    return Claim(
        "convnet_other_polarity",
        verdict,
        verdict == "does_not_transfer",
        {
            "setups": per_setup,
            "threshold": TRANSFER_LOSS,
            "other_range": [min(others), max(others)],
            "same_range": [
                min(a for s in per_setup.values() for a in s["same"].values()),
                max(a for s in per_setup.values() for a in s["same"].values()),
            ],
            "loss_range": [min(losses), max(losses)],
            "other_range_seeds": [min(seed_others), max(seed_others)],
            "loss_range_seeds": [min(seed_losses), max(seed_losses)],
            "every_model_loses": all(loss > TRANSFER_LOSS for loss in seed_losses),
        },
        verdicts=("does_not_transfer", "partly", "transfers"),
    )


def convnet_mixed(results: dict) -> Claim:
    """The convnet trained on both polarities against the same convnet trained on one, at
    the same number of updates from the same seeds: does it learn both?"""
    metrics = results["convnet"]["metrics"]
    need(metrics, "mixed")
    mixed = metrics["mixed"]
    updates = mixed["updates"][-1]
    single = next(
        (
            e
            for e in setups(results["convnet"]).values()
            if (e["optimizer"], e["learning_rate"], e["batch_norm"], e["padding"])
            == (mixed["optimizer"], mixed["learning_rate"], mixed["batch_norm"], mixed["padding"])
            and updates in e["updates"]
        ),
        None,
    )
    if single is None:
        raise MissingData("no single-polarity setup to compare the mixed convnet with")
    k = single["updates"].index(updates)
    # The mixed runs' seeds, as the single-polarity runs of those same seeds started.
    runs = [results["convnet"]["seeds"].index(seed) for seed in mixed["seeds"]]
    compared = {}
    for polarity, tested_on in mixed["tested_on"].items():
        curves = single["encodings"][polarity]["curves"]
        alone = [curves[run][k] for run in runs]
        both = tested_on["values"]
        alone_mean = sum(alone) / len(alone)  # plain arithmetic keeps the numbers' provenance
        compared[polarity] = {
            "mixed": tested_on["mean"],
            "single": alone_mean,
            "difference": sum(both) / len(both) - alone_mean,
        }
    learns = all(c["difference"] >= -MIXED_TOLERANCE for c in compared.values())
    # A shortfall is a cost of mixing only once the single-polarity runs have stopped
    # improving: before that, the mixed runs, which in as many updates saw about half as many
    # images of each polarity, may still be catching up (the quick profile's 100 updates).
    settled = not still_improving(single, k, results["convnet"]["config"])
    return Claim(
        "convnet_mixed",
        "learns_both" if learns else "costs" if settled else "too_early",
        learns,
        {
            "polarities": compared,
            "updates": updates,
            "label": setup_label(mixed),
            "tolerance": MIXED_TOLERANCE,
            "n_seeds": len(mixed["seeds"]),
        },
        verdicts=("learns_both", "costs", "too_early"),
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
        figsize=(TEXT_WIDTH, 0.35 + row_height * rows),
        squeeze=False,
        constrained_layout=True,
        **share,
    )
    for ax, entry in zip(axes.flat, trained.values(), strict=False):
        title = setup_label(entry).replace(" at learning rate ", " ").replace(" and ", ",\n", 1)
        ax.set_title(title, fontsize=7)
        ax.set_xlabel("updates (batch of 100)")
    for ax in axes.flat[len(trained) :]:
        ax.set_axis_off()
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
        ax.set_ylabel("test accuracy (%)")
        in_percent(ax.yaxis)
    axes[0][0].set_ylim(max(0.0, lowest - 0.02), 1.0)
    axes[0][-1].legend(loc="lower right", frameon=False)
    return fig


def alt_convnet_curves(result: dict) -> str:
    parts = []
    for entry in setups(result).values():
        listed = ", ".join(f"{e} {pct(mean, 2)}" for e, mean in finals(entry).items())
        parts.append(
            f"{setup_label(entry)}, {entry['updates'][-1]:,} updates: final mean accuracy {listed}"
        )
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
    """One panel per setup on a linear scale of its own, with the equivalence margin drawn:
    a gap of tenths of a point and one of ten points each read at their size."""
    trained = setups(result)
    fig, axes = panel_per_setup(trained, 4, 1.7)
    for ax, entry in zip(axes.flat, trained.values(), strict=False):
        steps = entry["difference_by_update"]
        margin = 100 * steps[-1]["equivalence"]["margin"]
        mean = 100 * np.array([d["mean"] for d in steps])
        low, high = (100 * np.array([d["equivalence"]["ci90"][i] for d in steps]) for i in (0, 1))
        ax.axhspan(-margin, margin, color=REFERENCE_COLOUR, alpha=0.15, lw=0, label="margin")
        ax.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
        ax.fill_between(entry["updates"], low, high, color="black", alpha=0.2, lw=0)
        ax.plot(entry["updates"], mean, color="black", marker=".", markersize=3)
        for update in entry["tests"]:  # the checkpoints that carry a verdict
            k = entry["updates"].index(update)
            ax.plot(update, mean[k], marker="o", color="black", fillstyle="none", markersize=6)
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
    margin = next(iter(setups(result).values()))["difference"]["equivalence"]["margin"]
    return (
        "Line charts of the convnet's test accuracy on normal minus inverted inputs, in "
        "percentage points, against updates, one panel per setup on its own linear scale, "
        f"with the 90 % confidence band over {len(result['seeds'])} paired seeds and the "
        f"equivalence margin of ±{100 * margin:.1f} points shaded; " + "; ".join(parts) + "."
    )


def data_convnet_gap(result: dict) -> dict:
    return {
        name: {
            "updates": entry["updates"],
            "tested": entry["tests"],
            "normal_minus_inverted": entry["difference_by_update"],
        }
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


# --- Tables -------------------------------------------------------------------------------


def per_seed(updates: list) -> str:
    """Each seed's first update at a target, "–" where it never got there."""
    return ", ".join(f"{u:,}" if u is not None else "–" for u in updates)


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
                    "updates": entry["updates"][-1],
                    "encoding": encoding,
                    "seeds": r["final"]["n"],
                    "final_accuracy": r["final"]["mean"],
                    "final_ci95_low": r["final"]["ci95"][0],
                    "final_ci95_high": r["final"]["ci95"][1],
                    "other_polarity_accuracy": r["other_polarity"]["mean"],
                    "flattened": r["plateau"]["flat"],
                    **{f"updates_to_{t}": per_seed(u) for t, u in r["updates_to_reach"].items()},
                }
            )
    return rows


def convnet_test_rows(results: dict) -> list[dict]:
    rows = []
    for name, entry in setups(results["convnet"]).items():
        for update in entry["tests"]:
            t = tested(entry, update)
            h = holm_matched(results["convnet"], name, update)
            ahead = t["verdict"] in ("normal_ahead", "inverted_ahead")
            kind = "difference" if ahead else "equivalence"
            rows.append(
                {
                    "setup": setup_label(entry),
                    "updates": update,
                    "normal_minus_inverted": t["difference"],
                    # The interval the Holm-adjusted verdict rests on, at Holm's level.
                    "holm_interval_low": h[f"{kind}_interval"][0],
                    "holm_interval_high": h[f"{kind}_interval"][1],
                    "holm_confidence": h[f"{kind}_confidence"],
                    "difference_p_holm": t["p_holm"],
                    "equivalence_p_holm": t["equivalence_p_holm"],
                    "verdict": t["verdict"],
                }
            )
    return rows


def convnet_curvature_rows(results: dict) -> list[dict]:
    metrics = results["convnet"]["metrics"]
    need(metrics, "curvature")
    return [
        {
            "batch_norm": key == "batch_norm",
            "encoding": encoding,
            "lambda_max": m["lambda_max"],
            "lambda_max_low": min(m["values"]),
            "lambda_max_high": max(m["values"]),
            "stability_edge": m["stability_edge"],
        }
        for key, by_encoding in metrics["curvature"]["lambda_max"].items()
        for encoding, m in by_encoding.items()
    ]


SECTION = Section(
    "convnet",
    claims=(
        convnet_end,
        convnet_difference,
        convnet_speed,
        convnet_curvature,
        convnet_other_polarity,
        convnet_mixed,
    ),
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
    tables=(
        TableSpec("tbl-convnet", ("convnet",), convnet_rows),
        TableSpec("tbl-convnet-tests", ("convnet",), convnet_test_rows),
        TableSpec("tbl-convnet-curvature", ("convnet",), convnet_curvature_rows),
    ),
)
