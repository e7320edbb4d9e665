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
2. the number of updates each run needs to reach 98 % and 99 % test accuracy;
3. the wall time per update of each encoding with plain `model.fit` on the same machine,
   rounds of the two taken in turn: dense kernels multiply zeros like any other number, so
   a 0 background should buy no speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from polarity import data, stats
from polarity.ensemble import ConvnetEnsemble
from polarity.models import mnist_convnet
from polarity.progress import progress_bar
from polarity.training import tutorial_batches

TARGETS = (0.98, 0.99)
POLARITIES = ("normal", "inverted")


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
    seeds: int = 5
    first_seed: int = 3000
    updates: int = 600  # one epoch of 60,000 images in batches of 100
    eval_every: int = 150
    batch_size: int = 100
    timing_rounds: int = 8  # rounds of `timing_updates` updates per encoding, in turn
    timing_updates: int = 50
    train_images: int = 60000  # the smoke profile uses fewer training...
    test_images: int = 10000  # ...and test images


PROFILES = {
    "smoke": Config(
        setups=(Setup("valid", False, "adam", ADAM),),
        seeds=2,
        updates=40,
        eval_every=20,
        timing_rounds=2,
        timing_updates=10,
        train_images=2000,
        test_images=1000,
    ),
    "quick": Config(
        setups=(Setup("valid", False, "adam", ADAM),),
        seeds=3,
        updates=100,
        eval_every=50,
        timing_rounds=3,
        timing_updates=20,
        test_images=2000,
    ),
    "full": Config(),
}


def first_reaching(updates: list[int], accuracy: list[float], target: float) -> int | None:
    return next((u for u, a in zip(updates, accuracy, strict=True) if a >= target), None)


def train_setup(config: Config, setup: Setup, train: data.Split, test: data.Split, advance):
    """Every encoding x seed of one setup as one ensemble; accuracy (members, checkpoints)."""
    seeds = [config.first_seed + s for s in range(config.seeds)]
    members = [(e, s) for s in range(config.seeds) for e in POLARITIES]
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
    }


def time_per_update(config: Config, train: data.Split) -> dict:
    """Seconds per training update of plain `model.fit` on each encoding, the encodings
    taken in turn round by round so that the machine's drifts fall on both alike."""
    x = {e: data.encode(train.images, e).reshape(-1, 28, 28, 1) for e in POLARITIES}
    models = {}
    for encoding in POLARITIES:
        keras.utils.set_random_seed(config.first_seed)
        models[encoding] = mnist_convnet(dropout=config.dropout)
        models[encoding].compile(
            optimizer=keras.optimizers.SGD(0.01),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    n = config.timing_updates * config.batch_size
    seconds = {e: [] for e in POLARITIES}
    for r in range(config.timing_rounds + 1):  # round 0 compiles and is not counted
        rows = np.random.default_rng(r).permutation(len(train))[:n]
        for encoding, model in models.items():
            began = time.perf_counter()
            model.fit(
                x[encoding][rows], train.labels[rows], batch_size=config.batch_size, verbose=0
            )
            if r:
                seconds[encoding].append((time.perf_counter() - began) / config.timing_updates)
    return {
        "encodings": {e: {**stats.mean_ci(s), "values": s} for e, s in seconds.items()},
        "difference": stats.paired_difference(seconds["normal"], seconds["inverted"]),
    }


def train_setups(config: Config, data_dir=None) -> dict:
    """Train every setup x encoding x seed; per setup, its curves, finals and targets."""
    dataset = data.load_dataset(config.dataset, data_dir)
    train = data.Split(
        dataset.train.images[: config.train_images],
        dataset.train.labels[: config.train_images].astype(np.int32),
    )
    test = data.Split(
        dataset.test.images[: config.test_images], dataset.test.labels[: config.test_images]
    )
    setups = {}
    with progress_bar("convnet", len(config.setups) * config.updates) as advance:
        for setup in config.setups:
            members, accuracy = train_setup(config, setup, train, test, advance)
            setups[setup.name] = summarise(config, setup, members, accuracy)
    return {"seeds": [config.first_seed + s for s in range(config.seeds)], "setups": setups}


def run(config: Config, data_dir=None) -> dict:
    """The setups trained and summarised, and the time per update of each encoding."""
    trained = train_setups(config, data_dir)
    train = data.load_dataset(config.dataset, data_dir).train
    train = data.Split(train.images[: config.train_images], train.labels[: config.train_images])
    return {
        "seeds": trained["seeds"],
        "metrics": {
            "setups": trained["setups"],
            "seconds_per_update": time_per_update(config, train),
        },
    }
