"""Background: what the grey levels of MNIST and Fashion-MNIST look like, before any training.

The question asks why MNIST stores ink as 255 on a 0 background and whether that is "just
to speed up the training, as most of the image is set to 0". This module measures the facts
such an answer rests on, for each data set's training images:

1. how much of each image is background (exactly 0) and how much is full ink (255);
2. the mean and standard deviation of the pixels scaled to [0, 1], and the mean image;
3. the pixels that are 0 in every training image ("never inked"), whose inputs are constant;
4. the same mean and deviation under LeNet-5's scaling (background -0.1, ink 1.175), the
   input normalisation MNIST's authors used themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from polarity import data

# LeNet-5 (LeCun et al. 1998) mapped background to -0.1 and ink to 1.175.
LENET_BACKGROUND, LENET_INK = -0.1, 1.175
COUNT_SLICE = 1 << 20  # pixels counted at a time: 8 MB of counting indices


@dataclass(frozen=True)
class Config:
    datasets: tuple[str, ...] = ("mnist", "fashion-mnist")


PROFILES = {
    # Smoke runs where only MNIST is at hand (Fashion-MNIST comes from a system package).
    "smoke": Config(datasets=("mnist",)),
    "quick": Config(),
    "full": Config(),
}


def grey_level_counts(images: np.ndarray) -> np.ndarray:
    """How many pixels of `images` (uint8) hold each grey level 0 to 255, counted a slice at a
    time: converting 60,000 images to float64 at once takes 376 MB, and on these virtual
    machines touching that much fresh memory costs seconds."""
    flat = images.reshape(-1)
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, flat.size, COUNT_SLICE):
        counts += np.bincount(flat[start : start + COUNT_SLICE], minlength=256)
    return counts


def describe(images: np.ndarray) -> dict:
    """Grey-level facts of a stack of uint8 images (0 = background). The mean and standard
    deviation come from the counts of each grey level in exact integer arithmetic, rounded
    once to float (Python's int / int is correctly rounded)."""
    counts = grey_level_counts(images)
    levels = np.arange(256)
    n = int(counts.sum())
    total = int(counts @ levels)  # sum of grey levels, exact
    squares = int(counts @ levels**2)
    mean = total / (255 * n)
    std = math.sqrt((n * squares - total * total) / (255 * n) ** 2)
    # LeNet's scaling is affine, so its mean and deviation follow from these exactly.
    span = LENET_INK - LENET_BACKGROUND
    pixel_sums = images.sum(axis=0, dtype=np.int64)  # per pixel, exact
    return {
        "images": int(len(images)),
        "zero_fraction": int(counts[0]) / n,
        "full_ink_fraction": int(counts[255]) / n,
        "mean": mean,
        "std": std,
        "never_inked_pixels": int(np.sum(images.max(axis=0) == 0)),
        "pixels": int(images[0].size),
        "lenet_scaled": {"mean": LENET_BACKGROUND + span * mean, "std": span * std},
        "mean_image": np.round(pixel_sums / (255 * len(images)), 6).tolist(),
    }


def run(config: Config, data_dir=None) -> dict:
    """Describe the training images of every data set in `config`."""
    per_dataset = {}
    for name in config.datasets:
        dataset = data.load_dataset(name, data_dir)
        per_dataset[name] = describe(dataset.train.images)
    return {
        "seeds": [],
        "reference": {
            "lenet_scaling": {"background": LENET_BACKGROUND, "ink": LENET_INK},
            "mnist_page": "Pixel values are 0 to 255. 0 means background (white), "
            "255 means foreground (black).",
        },
        "metrics": {"datasets": per_dataset},
    }
