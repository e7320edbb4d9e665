"""The convnet the question asked about: does inversion change how it trains, and is the
0 background "just to speed up the training"?

The standard Keras MNIST convnet (two 3x3 convolutions with max pooling, dropout, a dense
layer to 10 logits) is trained on normal and inverted images in several setups: valid and
same padding, with and without batch normalisation after the first convolution, plain SGD
on a small grid of learning rates and Adam. Each setup trains several seeds; a seed fixes
the initial weights and the batch order, which both encodings share, so trials pair up
(dropout draws its own masks per model). All models of a setup train together as one
ensemble (polarity.ensemble). The module records

1. test accuracy every `eval_every` updates (learning curves) and at the end, and the
   paired difference between the encodings;
2. the number of updates each run needs to reach 98 % and 99 % test accuracy.

Whether the 0 background buys speed per update is measured apart, by `experiments.speed`:
these models train side by side in one program and cannot time one encoding alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polarity import data, stats
from polarity.data import POLARITIES
from polarity.ensemble import ConvnetEnsemble
from polarity.progress import progress_bar
from polarity.training import tutorial_batches

TARGETS = (0.98, 0.99)


@dataclass(frozen=True)
class Setup:
    """One way to build and train the convnet."""

    padding: str = "valid"
    batch_norm: bool = False
    optimizer: str = "sgd"
    learning_rate: float = 0.03

    @property
    def name(self) -> str:
        norm = "+bn" if self.batch_norm else ""
        return f"{self.padding}{norm}-{self.optimizer}-{self.learning_rate:g}"


ADAM = 0.001  # Keras's default learning rate for Adam

# The keras-io convnet with SGD on a half-decade grid of learning rates and with Adam.
# Batch normalisation, which removes the offset inversion adds to the first layer, is tried
# at the top of the grid, where the offset's curvature should hurt most; 'same' padding,
# whose zero frame is ink to inverted images, in the middle.
SETUPS = (
    Setup("valid", False, "sgd", 0.01),
    Setup("valid", False, "sgd", 0.03),
    Setup("valid", False, "sgd", 0.1),
    Setup("valid", False, "adam", ADAM),
    Setup("valid", True, "sgd", 0.1),
    Setup("same", False, "sgd", 0.03),
)


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    setups: tuple[Setup, ...] = SETUPS
    dropout: float = 0.5  # before the dense layer, as in the keras-io example
    n_seeds: int = 5
    first_seed: int = 3000
    updates: int = 1800  # three epochs of 60,000 images in batches of 100
    eval_every: int = 300
    batch_size: int = 100
    train_images: int = 60000  # the smoke profile uses fewer training...
    test_images: int = 10000  # ...and test images


PROFILES = {
    "smoke": Config(
        setups=(Setup("valid", False, "adam", ADAM),),
        n_seeds=2,
        updates=40,
        eval_every=20,
        train_images=2000,
        test_images=1000,
    ),
    "quick": Config(
        setups=(Setup("valid", False, "adam", ADAM),),
        n_seeds=3,
        updates=100,
        eval_every=50,
        test_images=2000,
    ),
    "full": Config(),
}


def first_reaching(updates: list[int], accuracy: list[float], target: float) -> int | None:
    return next((u for u, a in zip(updates, accuracy, strict=True) if a >= target), None)


def train_setup(config: Config, setup: Setup, train: data.Split, test: data.Split, advance):
    """Every encoding x seed of one setup as one ensemble; accuracy (members, checkpoints)."""
    seeds = [config.first_seed + s for s in range(config.n_seeds)]
    members = [(e, s) for s in range(config.n_seeds) for e in POLARITIES]
    ensemble = ConvnetEnsemble(
        train.images,
        train.labels,
        [e for e, _ in members],
        [seeds[s] for _, s in members],
        [setup.learning_rate] * len(members),
        setup.optimizer,
        streams=[s for _, s in members],  # a seed's encodings share its batches
        padding=setup.padding,
        batch_norm=setup.batch_norm,
        dropout=config.dropout,
        steps_per_execution=config.eval_every,
    )
    batches = np.stack(
        [tutorial_batches(len(train), config.batch_size, config.updates, s) for s in seeds]
    )
    accuracy = []
    for start in range(0, config.updates, config.eval_every):
        ensemble.train(batches[:, start : start + config.eval_every])
        accuracy.append(ensemble.accuracy(test.images, test.labels))
        advance(config.eval_every)
    return members, np.stack(accuracy, axis=1)


def summarise(config: Config, setup: Setup, members, accuracy: np.ndarray) -> dict:
    updates = list(range(config.eval_every, config.updates + 1, config.eval_every))
    per_encoding = {}
    for encoding in POLARITIES:
        curves = accuracy[[i for i, (e, _) in enumerate(members) if e == encoding]]
        finals = [float(a) for a in curves[:, -1]]
        per_encoding[encoding] = {
            "final": {**stats.mean_ci(finals), "values": finals},
            "curves": curves.tolist(),
            "updates_to_reach": {
                f"{t:.2f}": [first_reaching(updates, list(c), t) for c in curves] for t in TARGETS
            },
        }
    return {
        "padding": setup.padding,
        "batch_norm": setup.batch_norm,
        "optimizer": setup.optimizer,
        "learning_rate": setup.learning_rate,
        "updates": updates,
        "encodings": per_encoding,
        "difference": stats.paired_difference(
            per_encoding["normal"]["final"]["values"], per_encoding["inverted"]["final"]["values"]
        ),
        # Normal minus inverted at every test, paired by seed: how the gap opens or closes.
        "difference_by_update": [
            stats.paired_difference(normal, inverted)
            for normal, inverted in zip(
                np.transpose(per_encoding["normal"]["curves"]),
                np.transpose(per_encoding["inverted"]["curves"]),
                strict=True,
            )
        ],
    }


def train_setups(config: Config, data_dir=None) -> dict:
    """Train every setup x encoding x seed; per setup, its curves, finals and targets."""
    dataset = data.load_dataset(config.dataset, data_dir)
    train, test = dataset.train.head(config.train_images), dataset.test.head(config.test_images)
    setups = {}
    with progress_bar("convnet", len(config.setups) * config.updates) as advance:
        for setup in config.setups:
            members, accuracy = train_setup(config, setup, train, test, advance)
            setups[setup.name] = summarise(config, setup, members, accuracy)
    return {"seeds": [config.first_seed + s for s in range(config.n_seeds)], "setups": setups}


def run(config: Config, data_dir=None) -> dict:
    """The setups trained and summarised."""
    trained = train_setups(config, data_dir)
    return {"seeds": trained["seeds"], "metrics": {"setups": trained["setups"]}}
