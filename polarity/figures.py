"""Figures, drawn from results JSON only: restyling never retrains.

Each figure is a `FigureSpec`: a stable id (its anchor and file name), the experiment whose
results it draws, a `draw` function and an `alt` function that describes it from its data.
Every figure is written as PNG (300 dpi), SVG and PDF.
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
from polarity.files import atomic_write_bytes, atomic_write_json  # noqa: E402
from polarity.formatting import pct  # noqa: E402
from polarity.style import (  # noqa: E402
    ENCODING_COLOURS,
    ENCODING_LABELS,
    HEATMAP,
    NEVER_INKED_COLOUR,
    RC,
    REFERENCE_COLOUR,
)

FORMATS = ("png", "svg", "pdf")
# Fixed metadata: the same data gives byte-identical files.
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


SAFE_FIGURE_ID = re.compile(r"^fig-[a-z0-9]+(-[a-z0-9]+)*$")  # anchor, file name, Quarto label


@dataclass(frozen=True)
class FigureSpec:
    id: str
    experiment: str
    draw: Callable[[dict], plt.Figure]
    alt: Callable[[dict], str]

    def __post_init__(self):
        if not SAFE_FIGURE_ID.match(self.id):
            raise ValueError(f"figure id {self.id!r} must match {SAFE_FIGURE_ID.pattern}")


# --- Replication ------------------------------------------------------------------------


def draw_answer_learning_curves(result: dict) -> plt.Figure:
    protocol = result["metrics"]["answer_protocol"]
    reported = result["reference"]["answer_reported"]
    fig, ax = plt.subplots()
    for encoding, run in protocol.items():
        colour = ENCODING_COLOURS[encoding]
        ax.plot(
            run["curve"]["updates"],
            run["curve"]["accuracy"],
            color=colour,
            label=f"{ENCODING_LABELS[encoding]}: mean {run['mean']:.3f}",
        )
        ax.axhline(run["mean"], color=colour, linestyle="--", linewidth=0.9)
        ax.axhline(reported[encoding], color=colour, linestyle=":", linewidth=0.9)
    ax.plot([], [], color=REFERENCE_COLOUR, linestyle="--", label="our mean over all checkpoints")
    ax.plot([], [], color=REFERENCE_COLOUR, linestyle=":", label="mean reported in the answer")
    ax.set_xlabel("SGD updates (batch 100, learning rate 0.5)")
    ax.set_ylabel("test accuracy")
    lowest = min(min(run["curve"]["accuracy"]) for run in protocol.values())
    ax.set_ylim(max(0.0, lowest - 0.05), 1.0)
    ax.legend(loc="lower right", frameon=False)
    return fig


def alt_answer_learning_curves(result: dict) -> str:
    protocol = result["metrics"]["answer_protocol"]
    parts = [
        f"{encoding} inputs average {pct(run['mean'])} (last checkpoint {pct(run['final'])})"
        for encoding, run in protocol.items()
    ]
    updates = next(iter(protocol.values()))["curve"]["updates"]
    return (
        f"Line chart of test accuracy against SGD updates, one point every {updates[0]} "
        f"updates up to {updates[-1]}, for two encodings of the same images: "
        + "; ".join(parts)
        + "."
    )


def draw_weight_change_maps(result: dict) -> plt.Figure:
    maps = result["metrics"]["weight_change_maps"]
    vmax = max(m["max"] for m in maps.values())  # one shared scale, so the panels compare
    fig, axes = plt.subplots(1, len(maps), figsize=(6.4, 3.2), constrained_layout=True)
    for ax, (encoding, entry) in zip(np.atleast_1d(axes), maps.items(), strict=True):
        image = ax.imshow(np.asarray(entry["map"]), cmap=HEATMAP, vmin=0, vmax=vmax)
        ax.set_title(ENCODING_LABELS[encoding])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.colorbar(image, ax=axes, shrink=0.85, label="max over classes of |W_end − W_start|")
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


def draw_trial_accuracies(result: dict) -> plt.Figure:
    trials = result["metrics"]["independent_trials"]
    encodings = [e for e in trials if e != "difference"]
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    rng = np.random.default_rng(0)  # horizontal jitter only; fixed so files are stable
    for row, encoding in enumerate(encodings):
        entry = trials[encoding]
        acc = np.asarray(entry["accuracies"])
        colour = ENCODING_COLOURS[encoding]
        ax.scatter(
            acc,
            row + rng.uniform(-0.18, 0.18, len(acc)),
            s=9,
            alpha=0.5,
            color=colour,
            linewidths=0,
        )
        low, high = entry["ci95"]
        ax.errorbar(
            entry["mean"],
            row,
            xerr=[[entry["mean"] - low], [high - entry["mean"]]],
            fmt="o",
            color="black",
            capsize=4,
            markersize=4,
        )
    ax.set_yticks(range(len(encodings)), [ENCODING_LABELS[e] for e in encodings])
    ax.set_ylim(-0.6, len(encodings) - 0.4)
    ax.set_xlabel(
        f"test accuracy after {result['config']['trial_updates']} updates "
        "(dots: trials; black: mean with 95 % CI)"
    )
    return fig


def alt_trial_accuracies(result: dict) -> str:
    trials = result["metrics"]["independent_trials"]
    parts = [
        f"{e}: mean {pct(v['mean'])}, 95 % CI {pct(v['ci95'][0])} to {pct(v['ci95'][1])}, "
        f"range {pct(min(v['accuracies']))} to {pct(max(v['accuracies']))}"
        for e, v in trials.items()
        if e != "difference"
    ]
    return (
        f"Dot plot of the test accuracy of {trials['normal']['n']} independent trials per "
        "encoding with each mean and its confidence interval; " + "; ".join(parts) + "."
    )


# --- Background ---------------------------------------------------------------------------

DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def draw_mean_images(result: dict) -> plt.Figure:
    datasets = result["metrics"]["datasets"]
    fig, axes = plt.subplots(
        1,
        len(datasets),
        figsize=(3.2 * len(datasets) + 0.8, 3.2),
        constrained_layout=True,
        squeeze=False,
    )
    for ax, (name, entry) in zip(axes[0], datasets.items(), strict=True):
        mean_image = np.asarray(entry["mean_image"])
        image = ax.imshow(mean_image, cmap=HEATMAP, vmin=0, vmax=1)
        if entry["never_inked_pixels"]:
            ax.contour(mean_image == 0, levels=[0.5], colors=[NEVER_INKED_COLOUR], linewidths=1.0)
        ax.set_title(f"{DATASET_TITLES[name]}: {entry['never_inked_pixels']} pixels never inked")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.colorbar(image, ax=axes[0], shrink=0.85, label="mean pixel value (0 = background)")
    return fig


def alt_mean_images(result: dict) -> str:
    parts = [
        f"{DATASET_TITLES[name]}: mean pixel {entry['mean']:.3f}, {pct(entry['zero_fraction'])} "
        f"of pixels exactly 0, {entry['never_inked_pixels']} of {entry['pixels']} pixels 0 in "
        "every training image (outlined)"
        for name, entry in result["metrics"]["datasets"].items()
    ]
    return "Heat maps of the mean training image of each data set; " + "; ".join(parts) + "."


FIGURES = (
    FigureSpec("fig-mean-images", "background", draw_mean_images, alt_mean_images),
    FigureSpec(
        "fig-answer-learning-curves",
        "replication",
        draw_answer_learning_curves,
        alt_answer_learning_curves,
    ),
    FigureSpec("fig-trial-accuracies", "replication", draw_trial_accuracies, alt_trial_accuracies),
    FigureSpec(
        "fig-weight-change-maps", "replication", draw_weight_change_maps, alt_weight_change_maps
    ),
)


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


def build_figures(
    results: dict[str, dict], out_dir: Path = paths.FIGURES, results_dir: Path | None = None
) -> list[dict]:
    """Draw every figure whose experiment has results; write the files and the manifest
    `figures.json`; return the manifest entries."""
    manifest = []
    with plt.rc_context(RC):
        for spec in FIGURES:
            result = results.get(spec.experiment)
            if result is None:
                continue
            fig = spec.draw(result)
            try:
                files = save(fig, Path(out_dir) / spec.id)
            finally:
                plt.close(fig)
            manifest.append(
                {
                    "id": spec.id,
                    "files": [f.name for f in files],
                    "experiment": spec.experiment,
                    "results_file": f"{spec.experiment}.json",
                    "config_hash": result["config_hash"],
                    "git_commit": result["provenance"]["git_commit"],
                    "profile": result["profile"],
                    "alt": spec.alt(result),
                }
            )
    atomic_write_json(Path(out_dir) / "figures.json", {"figures": manifest})
    return manifest
