"""The convnet the question asked about: does inversion change how it trains, and is the
0 background "just to speed up the training"?

The standard Keras MNIST convnet (two 3x3 convolutions with max pooling, dropout, a dense
softmax layer) is trained on normal and inverted images with plain SGD and with Adam, for
several seeds. A seed fixes the initial weights, the dropout masks and the batch order, and
both encodings share them, so trials pair up. The module records

1. test accuracy every `eval_every` updates (learning curves) and at the end;
2. the number of updates each run needs to reach 98 % and 99 % test accuracy;
3. the wall time per update of each encoding on the same machine: dense kernels multiply
   zeros like any other number, so a 0 background should buy no speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np

from polarity import data, stats
from polarity.progress import progress_bar
from polarity.training import tutorial_batches

TARGETS = (0.98, 0.99)


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    encodings: tuple[str, ...] = ("normal", "inverted")
    # (name, learning rate): Keras's defaults for Adam; SGD at a rate that trains well.
    optimizers: tuple[tuple[str, float], ...] = (("sgd", 0.05), ("adam", 0.001))
    seeds: int = 5
    first_seed: int = 3000
    updates: int = 1200  # two epochs of 60,000 images in batches of 100
    eval_every: int = 100
    batch_size: int = 100
    train_images: int = 60000  # the smoke profile uses fewer training...
    test_images: int = 10000  # ...and test images


PROFILES = {
    "smoke": Config(
        optimizers=(("adam", 0.001),),
        seeds=2,
        updates=40,
        eval_every=20,
        train_images=2000,
        test_images=1000,
    ),
    "quick": Config(seeds=2, updates=400),
    "full": Config(),
}


def build_model(optimizer: str, learning_rate: float, seed: int) -> keras.Model:
    """The keras-io MNIST convnet, with logits out; initial weights fixed by `seed`."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10),
        ],
        name="mnist_convnet",
    )
    optimizers = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}
    model.compile(
        optimizer=optimizers[optimizer](learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, chunk: int = 2000) -> float:
    correct = 0
    for start in range(0, len(x), chunk):
        logits = model(x[start : start + chunk], training=False)
        predicted = keras.ops.convert_to_numpy(keras.ops.argmax(logits, axis=-1))
        correct += int(np.sum(predicted == y[start : start + chunk]))
    return correct / len(x)


def train_one(
    config: Config,
    optimizer: tuple[str, float],
    seed: int,
    x_train,
    y_train,
    x_test,
    y_test,
    advance,
) -> dict:
    """One run: learning curve, and the wall time of the training steps alone (after the
    first block, whose time includes compiling the training step)."""
    model = build_model(*optimizer, seed)
    batches = tutorial_batches(len(y_train), config.batch_size, config.updates, seed)
    updates, accuracy, block_seconds = [], [], []
    for start in range(0, config.updates, config.eval_every):
        rows = batches[start : start + config.eval_every].reshape(-1)
        began = time.perf_counter()
        model.fit(
            x_train[rows],
            y_train[rows],
            batch_size=config.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        block_seconds.append(time.perf_counter() - began)
        updates.append(start + config.eval_every)
        accuracy.append(test_accuracy(model, x_test, y_test))
        advance(config.eval_every)
    timed = block_seconds[1:] or block_seconds
    return {
        "updates": updates,
        "accuracy": accuracy,
        "seconds_per_update": sum(timed) / (len(timed) * config.eval_every),
    }


def first_reaching(updates: list[int], accuracy: list[float], target: float) -> int | None:
    return next((u for u, a in zip(updates, accuracy, strict=True) if a >= target), None)


def run(config: Config, data_dir=None) -> dict:
    """Train every optimiser x encoding x seed; summarise curves, finals, targets and time."""
    dataset = data.load_dataset(config.dataset, data_dir)
    train = data.Split(
        dataset.train.images[: config.train_images], dataset.train.labels[: config.train_images]
    )
    y_train = train.labels.astype(np.int32)
    y_test = dataset.test.labels[: config.test_images].astype(np.int32)
    seeds = [config.first_seed + s for s in range(config.seeds)]
    test_images = dataset.test.images[: config.test_images]
    x_train = {e: data.encode(train.images, e).reshape(-1, 28, 28, 1) for e in config.encodings}
    x_test = {e: data.encode(test_images, e).reshape(-1, 28, 28, 1) for e in config.encodings}
    runs = {(name, e): [] for name, _ in config.optimizers for e in config.encodings}
    total = len(config.optimizers) * len(config.encodings) * len(seeds) * config.updates
    with progress_bar("convnet", total) as advance:
        # Encodings alternate run by run, so any load on the machine falls on both alike.
        for name, rate in config.optimizers:
            for seed in seeds:
                for e in config.encodings:
                    runs[(name, e)].append(
                        train_one(
                            config,
                            (name, rate),
                            seed,
                            x_train[e],
                            y_train,
                            x_test[e],
                            y_test,
                            advance,
                        )
                    )

    metrics = {}
    for name, rate in config.optimizers:
        per_encoding = {}
        for encoding in config.encodings:
            seed_runs = runs[(name, encoding)]
            finals = [r["accuracy"][-1] for r in seed_runs]
            reach = {
                f"{t:.2f}": [first_reaching(r["updates"], r["accuracy"], t) for r in seed_runs]
                for t in TARGETS
            }
            per_encoding[encoding] = {
                "final": {**stats.mean_ci(finals), "values": finals},
                "curves": [r["accuracy"] for r in seed_runs],
                "updates_to_reach": reach,
                "seconds_per_update": stats.mean_ci([r["seconds_per_update"] for r in seed_runs]),
            }
        first, second = config.encodings[:2]
        metrics[name] = {
            "learning_rate": rate,
            "updates": runs[(name, config.encodings[0])][0]["updates"],
            "encodings": per_encoding,
            "difference": stats.paired_difference(
                per_encoding[first]["final"]["values"], per_encoding[second]["final"]["values"]
            ),
        }
    return {"seeds": seeds, "metrics": {"optimizers": metrics}}
