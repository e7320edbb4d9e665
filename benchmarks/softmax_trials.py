"""200 independent fifty-update softmax runs: a fresh `model.fit` per run against the
project's ensemble runner, side by side on the same data and batches."""

from __future__ import annotations

import time

import numpy as np

from benchmarks import fit_on_arrays
from polarity import data
from polarity.backend import fit_in_order
from polarity.ensemble import SoftmaxEnsemble
from polarity.models import softmax_regression
from polarity.training import tutorial_batches

RUNS, UPDATES, BATCH, RATE = 200, 50, 100, 0.5


def naive(train: data.Split, encodings: list[str]) -> float:
    """What a script does: one model per run, `fit` on the whole training array for 50
    steps, Keras shuffling the batches."""
    encoded = {e: data.encode(train.images, e) for e in set(encodings)}
    start = time.perf_counter()
    for encoding in encodings:
        model = softmax_regression(RATE)
        model.fit(
            encoded[encoding],
            train.labels,
            batch_size=BATCH,
            epochs=1,
            steps_per_epoch=UPDATES,
            shuffle=True,
            verbose=0,
        )
    return time.perf_counter() - start


def presliced(
    train: data.Split, schedules: list[np.ndarray], encodings: list[str], fit=fit_on_arrays
) -> float:
    """A tuned per-run loop: one model per run, `fit` on exactly its 50 batches, sliced
    beforehand so Keras builds no pipeline over the whole training set; `fit` (model, x, y,
    batch size) feeds them."""
    encoded = {e: data.encode(train.images, e) for e in set(encodings)}
    start = time.perf_counter()
    for batches, encoding in zip(schedules, encodings, strict=True):
        model = softmax_regression(RATE)
        rows = batches.reshape(-1)
        fit(model, encoded[encoding][rows], train.labels[rows], BATCH)
    return time.perf_counter() - start


def ensemble(train: data.Split, schedules: list[np.ndarray], encodings: list[str]) -> float:
    """The project's runner, compilation included."""
    start = time.perf_counter()
    runner = SoftmaxEnsemble(
        train.images,
        train.labels,
        encodings,
        [RATE] * len(encodings),
        streams=[r // 2 for r in range(len(encodings))],  # a trial's two polarities
        steps_per_execution=UPDATES,
    )
    runner.train(np.stack(schedules[::2]))
    return time.perf_counter() - start


def main() -> None:
    train, _ = data.tensorflow_tutorial_split(data.load_dataset("mnist").train)
    schedules = [
        tutorial_batches(len(train), BATCH, UPDATES, seed=1000 + r // 2) for r in range(RUNS)
    ]
    encodings = ["normal", "inverted"] * (RUNS // 2)
    fast = ensemble(train, schedules, encodings)
    tuned = presliced(train, schedules, encodings)
    in_order = presliced(train, schedules, encodings, fit=fit_in_order)
    slow = naive(train, encodings)
    rows = [
        ("model.fit per run, whole array", slow),
        ("model.fit per run, pre-sliced", tuned),
        ("model.fit per run, fed in order", in_order),
        ("ensemble runner, compile included", fast),
    ]
    print(f"{RUNS} independent softmax runs x {UPDATES} updates (batch {BATCH}), wall time:")
    for label, seconds in rows:
        print(f"  {label:<34}: {seconds:7.2f} s  ({seconds / RUNS * 1000:4.0f} ms per run)")
    print(
        f"  speed-up: {slow / fast:.1f}x over the whole-array loop, "
        f"{tuned / fast:.1f}x over the pre-sliced loop, "
        f"{in_order / fast:.1f}x over the loop fed in order"
    )


if __name__ == "__main__":
    main()
