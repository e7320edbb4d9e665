"""What the pixels look like: grey-level facts of MNIST and Fashion-MNIST."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from polarity.formatting import pct
from polarity.report.base import DATASETS, FigureSpec, Section, TableSpec, predicate
from polarity.report.draw import panels
from polarity.style import COLUMN_WIDTH, HEATMAP, NEVER_INKED_COLOUR


def datasets(results: dict) -> dict:
    """The background experiment's measurements, by data set name."""
    return results["background"]["metrics"]["datasets"]


# --- Claims -------------------------------------------------------------------------------


def background_dominates(results: dict):
    zero = {name: d["zero_fraction"] for name, d in datasets(results).items()}
    mnist = datasets(results).get("mnist")
    return predicate(
        "background_dominates",
        all(fraction > 0.5 for fraction in zero.values()),
        {
            "zero_fraction": zero,
            "mnist_full_ink_fraction": mnist["full_ink_fraction"] if mnist else None,
        },
    )


def lenet_scaling_centres_mnist(results: dict):
    mnist = datasets(results)["mnist"]
    lenet = mnist["lenet_scaled"]
    return predicate(
        "lenet_scaling_centres_mnist",
        abs(lenet["mean"]) < abs(mnist["mean"]),
        {
            "mean": mnist["mean"],
            "lenet_mean": lenet["mean"],
            "std": mnist["std"],
            "lenet_std": lenet["std"],
        },
    )


# --- Figure -------------------------------------------------------------------------------


def draw_mean_images(result: dict) -> plt.Figure:
    entries = result["metrics"]["datasets"]
    fig, axes = panels(len(entries), COLUMN_WIDTH, 1.75)
    for ax, (name, entry) in zip(axes[0], entries.items(), strict=True):
        mean_image = np.asarray(entry["mean_image"])
        image = ax.imshow(mean_image, cmap=HEATMAP, vmin=0, vmax=1)
        if entry["never_inked_pixels"]:
            ax.contour(mean_image == 0, levels=[0.5], colors=[NEVER_INKED_COLOUR], linewidths=0.8)
        ax.set_title(f"{DATASETS[name]}\n{entry['never_inked_pixels']} pixels never inked")
        ax.set_axis_off()
    fig.colorbar(image, ax=axes[0], shrink=0.9, label="mean grey level\n(0 background, 1 ink)")
    return fig


def alt_mean_images(result: dict) -> str:
    parts = [
        f"{DATASETS[name]}: mean pixel {entry['mean']:.3f}, {pct(entry['zero_fraction'])} "
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


# --- Table --------------------------------------------------------------------------------


def background_rows(results: dict) -> list[dict]:
    return [
        {
            "dataset": name,
            "images": d["images"],
            "zero_fraction": d["zero_fraction"],
            "full_ink_fraction": d["full_ink_fraction"],
            "mean": d["mean"],
            "std": d["std"],
            "never_inked_pixels": d["never_inked_pixels"],
            "pixels": d["pixels"],
            "lenet_mean": d["lenet_scaled"]["mean"],
            "lenet_std": d["lenet_scaled"]["std"],
        }
        for name, d in datasets(results).items()
    ]


SECTION = Section(
    "background",
    claims=(background_dominates, lenet_scaling_centres_mnist),
    figures=(
        FigureSpec(
            "fig-mean-images",
            ("background",),
            "Mean training images of MNIST and Fashion-MNIST",
            draw_mean_images,
            alt_mean_images,
            data_mean_images,
        ),
    ),
    tables=(TableSpec("tbl-background", ("background",), background_rows),),
)
