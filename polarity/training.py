"""Training loops whose batch order is fixed by a seed, so runs can be paired and repeated."""

from __future__ import annotations

import keras
import numpy as np


def tutorial_batches(n_examples: int, batch_size: int, n_updates: int, seed: int) -> np.ndarray:
    """Index batches as TensorFlow's `DataSet.next_batch` draws them: a fresh random
    permutation each epoch, consumed in order. Shape (n_updates, batch_size)."""
    rng = np.random.default_rng(seed)
    needed = n_updates * batch_size
    epochs = -(-needed // n_examples)
    order = np.concatenate([rng.permutation(n_examples) for _ in range(epochs)])
    return order[:needed].reshape(n_updates, batch_size)


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of `x` whose arg-max logit equals the label."""
    logits = model(x, training=False)
    predicted = keras.ops.convert_to_numpy(keras.ops.argmax(logits, axis=-1))
    return float(np.mean(predicted == y))


def train(model: keras.Model, x: np.ndarray, y: np.ndarray, batches: np.ndarray) -> None:
    """One SGD update per row of `batches` (indices into x and y)."""
    for index in batches:
        model.train_on_batch(x[index], y[index])
