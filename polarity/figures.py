"""Figures, drawn from results JSON only: restyling never retrains.

Each figure is a `FigureSpec`: a stable id (its anchor and file name), the experiment whose
results it draws, a short title for citing it, a `draw` function, an `alt` function that
describes it from its data, and a `data` function returning exactly the numbers it shows.
Every figure is written as PNG (300 dpi), SVG and PDF, with its data as JSON and a BibTeX
entry beside it; `figures.json` lists them all with their provenance.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from polarity import paths  # noqa: E402
from polarity.files import atomic_write_bytes, atomic_write_json, atomic_write_text  # noqa: E402
from polarity.formatting import pct, setup_label  # noqa: E402
from polarity.results import fashion_parts  # noqa: E402
from polarity.style import (  # noqa: E402
    COLUMN_WIDTH,
    ENCODING_COLOURS,
    HEATMAP,
    NEVER_INKED_COLOUR,
    RC,
    REFERENCE_COLOUR,
)
from polarity.tables import MIRROR_CASES, worst_at_last_update  # noqa: E402

FORMATS = ("png", "svg", "pdf")
# Fixed metadata: the same data gives byte-identical files.
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}
SAFE_FIGURE_ID = re.compile(r"^fig-[a-z0-9]+(-[a-z0-9]+)*$")  # anchor, file name, Quarto label
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


@dataclass(frozen=True)
class FigureSpec:
    """`draw`, `alt` and `data` take the results of `experiments`, in that order; the
    first is the figure's own experiment, whose provenance its card shows."""

    id: str
    experiments: tuple[str, ...]
    title: str
    draw: Callable[[dict], plt.Figure]
    alt: Callable[[dict], str]
    data: Callable[[dict], dict]

    def __post_init__(self):
        if not SAFE_FIGURE_ID.match(self.id):
            raise ValueError(f"figure id {self.id!r} must match {SAFE_FIGURE_ID.pattern}")


def panels(count: int, width: float, height: float, **options):
    """A row of `count` axes (always a 2-D array) laid out for the figure's width."""
    return plt.subplots(
        1, count, figsize=(width, height), squeeze=False, constrained_layout=True, **options
    )


# --- Background ---------------------------------------------------------------------------


def draw_mean_images(result: dict) -> plt.Figure:
    datasets = result["metrics"]["datasets"]
    fig, axes = panels(len(datasets), COLUMN_WIDTH, 1.75)
    for ax, (name, entry) in zip(axes[0], datasets.items(), strict=True):
        mean_image = np.asarray(entry["mean_image"])
        image = ax.imshow(mean_image, cmap=HEATMAP, vmin=0, vmax=1)
        if entry["never_inked_pixels"]:
            ax.contour(mean_image == 0, levels=[0.5], colors=[NEVER_INKED_COLOUR], linewidths=0.8)
        ax.set_title(f"{DATASET_TITLES[name]}\n{entry['never_inked_pixels']} pixels never inked")
        ax.set_axis_off()
    fig.colorbar(image, ax=axes[0], shrink=0.9, label="mean pixel value")
    return fig


def alt_mean_images(result: dict) -> str:
    parts = [
        f"{DATASET_TITLES[name]}: mean pixel {entry['mean']:.3f}, {pct(entry['zero_fraction'])} "
        f"of pixels exactly 0, {entry['never_inked_pixels']} of {entry['pixels']} pixels 0 in "
        "every training image (outlined)"
        for name, entry in result["metrics"]["datasets"].items()
    ]
    return "Heat maps of the mean training image of each data set; " + "; ".join(parts) + "."


def data_mean_images(result: dict) -> dict:
    return {
        name: {"mean_image": entry["mean_image"], "never_inked_pixels": entry["never_inked_pixels"]}
        for name, entry in result["metrics"]["datasets"].items()
    }


# --- Replication ------------------------------------------------------------------------


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
    ax.set_xlabel("SGD updates")
    ax.set_ylabel("test accuracy")
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


def _trial_encodings(result: dict) -> dict:
    trials = result["metrics"]["independent_trials"]
    return {e: v for e, v in trials.items() if e != "difference"}


def draw_trial_accuracies(result: dict) -> plt.Figure:
    encodings = _trial_encodings(result)
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
    return fig


def alt_trial_accuracies(result: dict) -> str:
    encodings = _trial_encodings(result)
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
        for e, v in _trial_encodings(result).items()
    }


def draw_weight_change_maps(result: dict) -> plt.Figure:
    maps = result["metrics"]["weight_change_maps"]
    vmax = max(m["max"] for m in maps.values())  # one shared scale, so the panels compare
    fig, axes = panels(len(maps), COLUMN_WIDTH, 1.75)
    for ax, (encoding, entry) in zip(axes[0], maps.items(), strict=True):
        image = ax.imshow(np.asarray(entry["map"]), cmap=HEATMAP, vmin=0, vmax=vmax)
        ax.set_title(encoding)
        ax.set_axis_off()
    fig.colorbar(image, ax=axes[0], shrink=0.9, label="|ΔW|, max over classes")
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
    return (
        "Two 28 by 28 heat maps on one colour scale showing, for each pixel, how far its "
        "weights moved during training; " + "; ".join(described) + "."
    )


def data_weight_change_maps(result: dict) -> dict:
    return {e: entry["map"] for e, entry in result["metrics"]["weight_change_maps"].items()}


# --- Learning rates and conditioning ------------------------------------------------------

# The sweep's encodings come in negation pairs with identical curves; one of each is drawn.
SWEEP_SHOWN = ("normal", "inverted", "centred", "standardised")
SWEEP_COLOURS = {
    "normal": "#0072B2",
    "inverted": "#D55E00",
    "centred": "#009E73",
    "standardised": "#CC79A7",
}
SWEEP_MARKERS = {"normal": "o", "inverted": "s", "centred": "^", "standardised": "D"}


def draw_lr_sweep(sweep: dict, conditioning: dict) -> plt.Figure:
    grid = sweep["metrics"]["grid"]
    rates, checkpoints = grid["learning_rates"], grid["checkpoints"]
    edges = {e: m["stability_edge"] for e, m in conditioning["metrics"]["encodings"].items()}
    shown = [e for e in SWEEP_SHOWN if e in grid["encodings"]]
    fig, axes = panels(len(checkpoints), 2 * COLUMN_WIDTH, 2.3, sharey=True)
    for ax, (k, checkpoint) in zip(axes[0], enumerate(checkpoints), strict=True):
        for encoding in shown:
            entry = sweep["metrics"]["accuracy"][encoding]
            mean = [row[k] for row in entry["mean"]]
            low = [row[k][0] for row in entry["ci95"]]
            high = [row[k][1] for row in entry["ci95"]]
            colour = SWEEP_COLOURS[encoding]
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
        ax.set_title(f"after {checkpoint:,} updates")
        ax.set_xlabel("learning rate")
    axes[0][0].set_ylabel("test accuracy")
    axes[0][0].set_ylim(0, 1)
    axes[0][-1].legend(loc="lower left", frameon=False)
    return fig


def alt_lr_sweep(sweep: dict, conditioning: dict) -> str:
    grid = sweep["metrics"]["grid"]
    last = str(grid["checkpoints"][-1])
    edges = conditioning["metrics"]["encodings"]
    parts = []
    for encoding in SWEEP_SHOWN:
        if encoding not in grid["encodings"]:
            continue
        best = sweep["metrics"]["best"][encoding][last]
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
        f"each predicted stability edge; after {last} updates " + "; ".join(parts) + "."
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


# --- The convnet --------------------------------------------------------------------------


def draw_convnet_curves(result: dict) -> plt.Figure:
    setups = result["metrics"]["setups"]
    columns = min(len(setups), 4)
    rows = -(-len(setups) // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(2 * COLUMN_WIDTH, 0.3 + 1.9 * rows),
        squeeze=False,
        sharex=True,
        sharey=True,
        constrained_layout=True,
    )
    lowest = 1.0
    for ax, entry in zip(axes.flat, setups.values(), strict=False):
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
        title = setup_label(entry).replace(" at learning rate ", " ").replace(" and ", ",\n", 1)
        ax.set_title(title, fontsize="small")
    for ax in axes.flat[len(setups) :]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("updates (batch 100)")
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy")
    axes[0][0].set_ylim(max(0.0, lowest - 0.02), 1.0)
    axes[0][-1].legend(loc="lower right", frameon=False)
    return fig


def alt_convnet_curves(result: dict) -> str:
    parts = []
    for entry in result["metrics"]["setups"].values():
        finals = ", ".join(
            f"{e} {pct(r['final']['mean'], 2)}" for e, r in entry["encodings"].items()
        )
        parts.append(f"{setup_label(entry)}: final mean accuracy {finals}")
    seeds = len(result["seeds"])
    return (
        "Line charts of the convnet's test accuracy against updates, one panel per "
        f"setup, mean of {seeds} seeds per encoding with the range shaded; "
        + "; ".join(parts)
        + "."
    )


def data_convnet_curves(result: dict) -> dict:
    return {
        name: {
            "updates": entry["updates"],
            "curves": {e: r["curves"] for e, r in entry["encodings"].items()},
        }
        for name, entry in result["metrics"]["setups"].items()
    }


def draw_convnet_gap(result: dict) -> plt.Figure:
    setups = result["metrics"]["setups"]
    fig, ax = plt.subplots(figsize=(2 * COLUMN_WIDTH, 2.4), constrained_layout=True)
    colours = plt.get_cmap("tab10").colors
    for colour, entry in zip(colours, setups.values(), strict=False):
        steps = entry["difference_by_update"]
        mean = 100 * np.array([d["mean"] for d in steps])
        low, high = (100 * np.array([d["ci95"][i] for d in steps]) for i in (0, 1))
        ax.plot(entry["updates"], mean, color=colour, marker=".", label=setup_label(entry))
        ax.fill_between(entry["updates"], low, high, color=colour, alpha=0.15, linewidth=0)
    ax.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
    # Gaps of tenths of a point sit beside gaps of ten points: linear within ±1, log beyond.
    ax.set_yscale("symlog", linthresh=1, linscale=1.5)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("updates (batch 100)")
    ax.set_ylabel("normal − inverted\n(percentage points, symlog)")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize="small")
    return fig


def alt_convnet_gap(result: dict) -> str:
    parts = []
    for entry in result["metrics"]["setups"].values():
        first, last = entry["difference_by_update"][0], entry["difference_by_update"][-1]
        parts.append(
            f"{setup_label(entry)}: {100 * first['mean']:.2f} points after "
            f"{entry['updates'][0]:,} updates, {100 * last['mean']:.2f} after "
            f"{entry['updates'][-1]:,}"
        )
    return (
        "Line chart of the convnet's test accuracy on normal minus inverted inputs, in "
        f"percentage points, against updates, one line per setup with its 95 % confidence "
        f"band over {len(result['seeds'])} paired seeds; " + "; ".join(parts) + "."
    )


def data_convnet_gap(result: dict) -> dict:
    return {
        name: {"updates": entry["updates"], "normal_minus_inverted": entry["difference_by_update"]}
        for name, entry in result["metrics"]["setups"].items()
    }


# --- Equivalences -------------------------------------------------------------------------

# (pair, mode of evaluation) -> colour, in the legend's order; labels as in the table.
MIRROR_COLOURS = {
    ("without_batch_norm", "running_statistics"): "#D55E00",
    ("batch_norm", "running_statistics"): "#009E73",
    ("batch_norm", "batch_statistics"): "#0072B2",
}


def draw_mirrored_training(result: dict) -> plt.Figure:
    metrics = result["metrics"]
    pairs, exact = metrics["mirrored_training"], metrics["mirrored_training_float64"]
    fig, axes = panels(2, 2 * COLUMN_WIDTH, 2.3)
    quantities = (
        ("max_abs_logit_difference", "largest logit difference"),
        ("predictions_changed", f"test predictions changed (of {metrics['test_images']:,})"),
    )
    for ax, (quantity, label) in zip(axes[0], quantities, strict=True):
        for (pair, mode), colour in MIRROR_COLOURS.items():
            name = MIRROR_CASES[(pair, mode)]
            updates = pairs[pair]["updates"]
            runs = np.asarray(pairs[pair]["modes"][mode][quantity], dtype=float)
            ax.plot(
                updates, runs.mean(axis=0), color=colour, marker="o", markersize=2.5, label=name
            )
            ax.fill_between(
                updates, runs.min(axis=0), runs.max(axis=0), color=colour, alpha=0.2, linewidth=0
            )
            brief = exact[pair]
            ax.plot(
                brief["updates"],
                [max(r[-1] for r in brief["modes"][mode][quantity])],
                color=colour,
                marker="*",
                markersize=7,
                linestyle="none",
            )
        ax.set_yscale("symlog" if quantity == "predictions_changed" else "log")
        ax.set_xlabel("updates (batch 100)")
        ax.set_ylabel(label)
    axes[0][0].plot([], [], color=REFERENCE_COLOUR, marker="*", linestyle="none", label="float64")
    axes[0][0].legend(loc="lower right", frameon=False)
    return fig


def alt_mirrored_training(result: dict) -> str:
    metrics = result["metrics"]
    pairs, exact = metrics["mirrored_training"], metrics["mirrored_training_float64"]
    parts = []
    for pair, mode in MIRROR_COLOURS:
        final, changed = worst_at_last_update(pairs[pair], mode)
        brief, _ = worst_at_last_update(exact[pair], mode)
        parts.append(
            f"{MIRROR_CASES[(pair, mode)]}: largest logit difference {final:.2g} and up to "
            f"{changed} "
            f"predictions changed after {pairs[pair]['updates'][-1]} updates "
            f"({brief:.2g} in float64 after {exact[pair]['updates'][-1]})"
        )
    return (
        "Two line charts against training updates, on log scales: the largest difference "
        "between the logits of a network trained on normal images and its mirror trained on "
        "inverted images, and the number of test predictions on which they disagree; "
        + "; ".join(parts)
        + "."
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
        for precision, key in (
            ("float32", "mirrored_training"),
            ("float64", "mirrored_training_float64"),
        )
    }


# --- Fashion-MNIST -------------------------------------------------------------------------


def _on_fashion(*parts: str):
    """Adapt a figure function taking MNIST results to the Fashion-MNIST result."""

    def adapt(fn):
        return lambda result: fn(*(fashion_parts(result)[p] for p in parts))

    return adapt


FIGURES = (
    FigureSpec(
        "fig-mean-images",
        ("background",),
        "Mean training images of MNIST and Fashion-MNIST",
        draw_mean_images,
        alt_mean_images,
        data_mean_images,
    ),
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
    FigureSpec(
        "fig-lr-sweep",
        ("sweep", "conditioning"),
        "Test accuracy against learning rate for each encoding, with predicted stability edges",
        draw_lr_sweep,
        alt_lr_sweep,
        data_lr_sweep,
    ),
    FigureSpec(
        "fig-mirrored-training",
        ("equivalences",),
        "How far a convnet trained on inverted images strays from the mirror of one trained "
        "on normal images, with and without batch normalisation",
        draw_mirrored_training,
        alt_mirrored_training,
        data_mirrored_training,
    ),
    FigureSpec(
        "fig-convnet-curves",
        ("convnet",),
        "Test accuracy of the standard Keras MNIST convnet on normal and inverted inputs",
        draw_convnet_curves,
        alt_convnet_curves,
        data_convnet_curves,
    ),
    FigureSpec(
        "fig-convnet-gap",
        ("convnet",),
        "The convnet's test accuracy on normal minus inverted inputs during training",
        draw_convnet_gap,
        alt_convnet_gap,
        data_convnet_gap,
    ),
    FigureSpec(
        "fig-fashion-lr-sweep",
        ("fashion",),
        "Fashion-MNIST: test accuracy against learning rate, with predicted stability edges",
        *(
            _on_fashion("sweep", "conditioning")(f)
            for f in (draw_lr_sweep, alt_lr_sweep, data_lr_sweep)
        ),
    ),
    FigureSpec(
        "fig-fashion-convnet-curves",
        ("fashion",),
        "Fashion-MNIST: test accuracy of the Keras convnet on normal and inverted inputs",
        *(
            _on_fashion("convnet")(f)
            for f in (draw_convnet_curves, alt_convnet_curves, data_convnet_curves)
        ),
    ),
)


# --- Writing ------------------------------------------------------------------------------


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write `fig` as every format in FORMATS, each atomically; return the paths."""
    written = []
    for fmt in FORMATS:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=METADATA[fmt])
        path = stem.with_suffix(f".{fmt}")
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    return written


def provenance_of(result: dict) -> dict:
    """What a reader citing a figure needs to know about where its numbers came from."""
    prov = result["provenance"]
    return {
        "experiment": result["experiment"],
        "results_file": f"{result['experiment']}.json",
        "profile": result["profile"],
        "config_hash": result["config_hash"],
        "git_commit": prov["git_commit"],
        "seeds": result["seeds"],
        "packages": {
            "python": prov["python"],
            "keras": prov["keras"],
            prov["backend"]: prov["backend_version"],
            "numpy": prov["numpy"],
        },
        "hardware": prov["device"],
        "runtime_s": prov["duration_s"],
    }


def bibtex(spec: FigureSpec, citation: dict, provenance: dict) -> str:
    """A BibTeX entry for citing one figure alone."""
    authors = " and ".join(a["name"] for a in citation["authors"])
    fields = {
        "title": f"{{{spec.title}}}",
        "author": f"{{{authors}}}",
        "year": str(citation["date-released"])[:4],
        "howpublished": f"Figure {spec.id} of the report ``{citation['title']}''",
        "version": str(citation["version"]),
        "note": (
            f"Results {provenance['results_file']}, config hash "
            f"{provenance['config_hash'][:12]}, commit {(provenance['git_commit'] or '?')[:12]}"
        ),
    }
    if citation.get("url"):
        fields["url"] = f"{citation['url'].rstrip('/')}/report/index.html#{spec.id}"
    key = "polarity-" + spec.id
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@misc{{{key},\n{body}\n}}\n"


def build_figures(
    results: dict[str, dict], out_dir: Path = paths.FIGURES, citation: dict | None = None
) -> list[dict]:
    """Draw every figure whose experiment has results; write its files, data and BibTeX, and
    the manifest `figures.json`; return the manifest entries."""
    out_dir = Path(out_dir)
    manifest = []
    with plt.rc_context(RC):
        for spec in FIGURES:
            if not all(name in results for name in spec.experiments):
                continue
            inputs = [results[name] for name in spec.experiments]
            result = inputs[0]
            fig = spec.draw(*inputs)
            try:
                files = save(fig, out_dir / spec.id)
            finally:
                plt.close(fig)
            provenance = provenance_of(result)
            atomic_write_json(
                out_dir / f"{spec.id}.json",
                {"id": spec.id, "data": spec.data(*inputs), "provenance": provenance},
            )
            files.append(out_dir / f"{spec.id}.json")
            if citation:
                atomic_write_text(out_dir / f"{spec.id}.bib", bibtex(spec, citation, provenance))
                files.append(out_dir / f"{spec.id}.bib")
            manifest.append(
                {
                    "id": spec.id,
                    "title": spec.title,
                    "files": [f.name for f in files],
                    "alt": spec.alt(*inputs),
                    "inputs": [f"{name}.json" for name in spec.experiments],
                    **provenance,
                }
            )
    atomic_write_json(out_dir / "figures.json", {"figures": manifest})
    return manifest
