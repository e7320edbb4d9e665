"""Is the 0 background "just to speed up the training"? The wall time of one training update
of the Keras convnet on normal and on inverted images, with `model.fit` (fed in order by
`polarity.backend.fit_in_order`, so that each call times training and not the teardown of
tf.data's autotuner, which rounds a call's time up to 10 ms times a power of two).

Measured on its own, so that nothing else competes for the processor: rounds of updates on
the two encodings taken in turn, the first round (which compiles) not counted, so that the
machine's drifts fall on both alike. The training runs of the convnet experiment cannot
answer this: their models train side by side in one program.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from polarity import data, stats
from polarity.backend import fit_in_order
from polarity.data import POLARITIES
from polarity.models import mnist_convnet


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    rounds: int = 12
    updates_per_round: int = 50
    batch_size: int = 100
    learning_rate: float = 0.01  # plain SGD; the rate does not change the work per update
    dropout: float = 0.5  # the keras-io convnet's
    seed: int = 7000
    train_images: int = 60000


PROFILES = {
    "smoke": Config(rounds=2, updates_per_round=10, train_images=2000),
    "quick": Config(rounds=3, updates_per_round=20, train_images=5000),
    "full": Config(),
}


def time_per_update(config: Config, train: data.Split) -> dict:
    """Seconds per training update of plain `model.fit` on each encoding, the encodings
    taken in turn round by round so that the machine's drifts fall on both alike."""
    x = {e: data.encode(train.images, e).reshape(-1, 28, 28, 1) for e in POLARITIES}
    models = {}
    for encoding in POLARITIES:
        keras.utils.set_random_seed(config.seed)
        models[encoding] = mnist_convnet(dropout=config.dropout)
        models[encoding].compile(
            optimizer=keras.optimizers.SGD(config.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    n = config.updates_per_round * config.batch_size
    seconds = {e: [] for e in POLARITIES}
    for r in range(config.rounds + 1):  # round 0 compiles and is not counted
        rows = np.random.default_rng(r).permutation(len(train))[:n]
        for encoding, model in models.items():
            began = time.perf_counter()
            fit_in_order(model, x[encoding][rows], train.labels[rows], config.batch_size)
            if r:
                seconds[encoding].append((time.perf_counter() - began) / config.updates_per_round)
    return {
        "encodings": {e: {**stats.mean_ci(s), "values": s} for e, s in seconds.items()},
        "difference": stats.paired_difference(seconds["normal"], seconds["inverted"]),
    }


def run(config: Config, data_dir=None) -> dict:
    dataset = data.load_dataset(config.dataset, data_dir)
    train = dataset.train.head(config.train_images)
    return {"seeds": [config.seed], "metrics": {"convnet": time_per_update(config, train)}}
