"""Replication of the accepted answer, then the same comparison done with independent trials.

The answer trained the TensorFlow tutorial's softmax regression on MNIST as distributed
(ink = 1 on a 0 background) and on inverted images (ink = 0 on a 1 background), and
reported mean test accuracies of 0.91879 and 0.837478. This module

1. reruns exactly what the answer ran (`answer_protocol`): one model per encoding on the
   tutorial's 55,000-image split, test accuracy after every 50 updates for 100 blocks, the
   reported value being the mean of those 100 accuracies;
2. asks the question properly (`independent_trials`): many fresh models per encoding,
   each trained for 50 updates on its own random batches, with the same batches for both
   encodings so that trials pair up, and a confidence interval for the difference;
3. keeps the answer's heat maps (`weight_change_maps`): |W_end - W_begin|, maximum over
   the ten classes, per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from polarity import data, stats
from polarity.models import softmax_regression
from polarity.progress import progress_bar
from polarity.training import accuracy, train, train_in_blocks, tutorial_batches

# What the accepted answer reported (mean of 100 test accuracies, one run per encoding).
ANSWER_REPORTED = {"normal": 0.91879, "inverted": 0.837478}


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    encodings: tuple[str, ...] = ("normal", "inverted")
    learning_rate: float = 0.5
    batch_size: int = 100
    answer_blocks: int = 100  # test accuracy is recorded after each block...
    answer_updates_per_block: int = 50  # ...of this many updates
    answer_seed: int = 0
    trials: int = 100
    trial_updates: int = 50
    trial_seed: int = 1000  # trial i draws its batches with seed trial_seed + i


PROFILES = {
    "smoke": Config(answer_blocks=4, trials=3),
    "quick": Config(trials=20),
    "full": Config(trials=100),
}


# ## Prepare the data
# The tutorial's split: the first 5,000 training images are held out for validation, the
# other 55,000 train; the 10,000 test images measure accuracy. Both encodings see the same
# images in the same order.


def prepare(config: Config, data_dir=None) -> dict:
    dataset = data.load_dataset(config.dataset, data_dir)
    train_split, _validation = data.tensorflow_tutorial_split(dataset.train)
    return {
        "loaded_from": "keras.datasets"
        if dataset.source == "keras.datasets"
        else "IDX files, checksums verified",
        # Pixels that are background in every training image: their inputs are constant.
        "never_inked": train_split.images.max(axis=0).reshape(-1) == 0,
        "y_train": train_split.labels.astype(np.int32),
        "y_test": dataset.test.labels.astype(np.int32),
        "x_train": {e: data.encode(train_split.images, e) for e in config.encodings},
        "x_test": {e: data.encode(dataset.test.images, e) for e in config.encodings},
    }


# ## The answer's protocol


def answer_protocol(config: Config, prepared: dict) -> tuple[dict, dict]:
    updates = config.answer_blocks * config.answer_updates_per_block
    batches = tutorial_batches(
        len(prepared["y_train"]), config.batch_size, updates, config.answer_seed
    )
    curves, weight_maps = {}, {}
    for encoding in config.encodings:
        model = softmax_regression(config.learning_rate)
        kernel_before = keras.ops.convert_to_numpy(model.layers[-1].kernel).copy()
        checkpoints, accuracies = [], []

        x_train, x_test = prepared["x_train"][encoding], prepared["x_test"][encoding]
        with progress_bar(f"answer protocol, {encoding}", updates) as advance:
            block = config.answer_updates_per_block
            for step in train_in_blocks(model, x_train, prepared["y_train"], batches, block):
                checkpoints.append(step)
                accuracies.append(accuracy(model, x_test, prepared["y_test"]))
                advance(block)

        curves[encoding] = {
            "mean": float(np.mean(accuracies)),
            "final": accuracies[-1],
            "curve": {"updates": checkpoints, "accuracy": accuracies},
        }
        change = np.abs(keras.ops.convert_to_numpy(model.layers[-1].kernel) - kernel_before).max(
            axis=1
        )
        weight_maps[encoding] = {
            "max": float(change.max()),
            "unchanged_pixels": int(np.sum(change == 0)),
            "never_inked_max_change": float(change[prepared["never_inked"]].max(initial=0.0)),
            "map": np.round(change.reshape(28, 28).astype(np.float64), 7).tolist(),
        }
    return curves, weight_maps


# ## Independent trials
# Each trial is a fresh zero-initialised model trained for `trial_updates` updates on
# batches drawn with its own seed; the two encodings share each trial's batches, so the
# difference is measured within pairs.


def independent_trials(config: Config, prepared: dict) -> dict:
    n_train = len(prepared["y_train"])
    per_encoding = {e: [] for e in config.encodings}
    with progress_bar("independent trials", config.trials * len(config.encodings)) as advance:
        for trial in range(config.trials):
            batches = tutorial_batches(
                n_train, config.batch_size, config.trial_updates, config.trial_seed + trial
            )
            for encoding in config.encodings:
                model = softmax_regression(config.learning_rate)
                train(model, prepared["x_train"][encoding], prepared["y_train"], batches)
                per_encoding[encoding].append(
                    accuracy(model, prepared["x_test"][encoding], prepared["y_test"])
                )
                advance()
    summary = {e: {**stats.mean_ci(a), "accuracies": a} for e, a in per_encoding.items()}
    summary["difference"] = stats.paired_difference(
        per_encoding["normal"], per_encoding["inverted"]
    )
    return summary


# ## Run


def run(config: Config, data_dir=None) -> dict:
    """Train everything in `config`; return the result's seeds, reference and metrics."""
    prepared = prepare(config, data_dir)
    curves, weight_maps = answer_protocol(config, prepared)
    return {
        "seeds": [config.answer_seed] + [config.trial_seed + t for t in range(config.trials)],
        "reference": {"answer_reported": ANSWER_REPORTED},
        "metrics": {
            "data": {
                "dataset": config.dataset,
                "loaded_from": prepared["loaded_from"],
                "train_size": len(prepared["y_train"]),
                "test_size": len(prepared["y_test"]),
                "never_inked_pixels": int(prepared["never_inked"].sum()),
            },
            "answer_protocol": curves,
            "independent_trials": independent_trials(config, prepared),
            "weight_change_maps": weight_maps,
        },
    }
