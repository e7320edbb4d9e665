"""Is the 0 background "just to speed up the training"? The wall time of one training update
of the Keras convnet on normal and on inverted images, with plain `model.fit`.

Measured on its own, so that nothing else competes for the processor: rounds of updates on
the two encodings taken in turn, the first round (which compiles) not counted, so that the
machine's drifts fall on both alike. The training runs of the convnet experiment cannot
answer this: their models train side by side in one program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.convnet import Config as ConvnetConfig
from experiments.convnet import time_per_update
from polarity import data


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    rounds: int = 12
    updates_per_round: int = 50
    batch_size: int = 100
    dropout: float = 0.5  # the keras-io convnet's
    seed: int = 7000
    train_images: int = 60000


PROFILES = {
    "smoke": Config(rounds=2, updates_per_round=10, train_images=2000),
    "quick": Config(rounds=3, updates_per_round=20),
    "full": Config(),
}


def run(config: Config, data_dir=None) -> dict:
    dataset = data.load_dataset(config.dataset, data_dir)
    train = data.Split(
        dataset.train.images[: config.train_images],
        dataset.train.labels[: config.train_images].astype(np.int32),
    )
    timing = time_per_update(
        ConvnetConfig(
            dataset=config.dataset,
            dropout=config.dropout,
            first_seed=config.seed,
            batch_size=config.batch_size,
            timing_rounds=config.rounds,
            timing_updates=config.updates_per_round,
            train_images=config.train_images,
        ),
        train,
    )
    return {"seeds": [config.seed], "metrics": {"convnet": timing}}
