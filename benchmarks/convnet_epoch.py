"""One epoch of the Keras MNIST convnet per model: plain `model.fit` against the project's
runner with 1 and with 5 members, on the same data and batches.

`model.fit` runs twice: on arrays, as a script calls it, and fed in order without tf.data's
autotuner (`polarity.backend.fit_in_order`), as the runner is fed. On TensorFlow the first
often returns only at the autotuner's next wake-up (10 ms times a power of two); the second
is the baseline that isolates what training members together buys.

These 2-core machines are noisy (the same epoch measured 18 to 29 ms per update within one
process), so each contender trains three epochs, taken in turn round by round, and the
median epoch counts. Building and compiling are timed apart.

Beside each time stands the arithmetic it achieves: the convnet's floating-point operations
per training image (counted from its layers, see `training_flops`) over the time per
image, against the peak this machine reaches on a large float32 matrix product through the
same backend. The ratio says how much faster the convnet could train here at best."""

from __future__ import annotations

import statistics
import time

import keras
import numpy as np

from benchmarks import fit_on_arrays
from polarity import data
from polarity.backend import fit_in_order
from polarity.ensemble import ConvnetEnsemble
from polarity.models import mnist_convnet
from polarity.training import tutorial_batches

BATCH, RATE, DROPOUT, ROUNDS = 100, 0.05, 0.5, 3  # the keras-io example's dropout


def forward_macs(padding: str = "valid") -> int:
    """Multiply-adds of one image through the keras-io convnet's convolutions and dense
    layer (pooling, biases and activations are a few per cent and left out)."""
    side = 28 if padding == "same" else 26  # after the first 3x3 convolution
    first = side * side * 32 * 3 * 3
    side //= 2
    side = side if padding == "same" else side - 2  # after the second convolution
    second = side * side * 64 * 3 * 3 * 32
    dense = (side // 2) ** 2 * 64 * 10
    return first + second + dense


def training_flops(padding: str = "valid") -> float:
    """Floating-point operations of one training image: 2 per multiply-add, and the
    backward pass twice the forward (gradients with respect to inputs and to weights)."""
    return 3 * 2 * forward_macs(padding)


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """The best GFLOP/s of a size x size float32 matrix product through the backend."""
    a = keras.ops.convert_to_tensor(np.random.default_rng(0).random((size, size), np.float32))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, a))  # warm up
    best = min(
        timed(lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a, a))) for _ in range(repeats)
    )
    return 2 * size**3 / best / 1e9


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


class Plain:
    """What a script does: images encoded as floats, one model, `fit` one epoch at a time,
    on arrays or, with `in_order`, through `fit_in_order`."""

    members = 1

    def __init__(self, train: data.Split, in_order: bool = False):
        self.fit = fit_in_order if in_order else fit_on_arrays
        self.x = data.encode(train.images, "normal").reshape(-1, 28, 28, 1)
        self.y = train.labels
        keras.utils.set_random_seed(0)
        self.model = mnist_convnet(dropout=DROPOUT)
        self.model.compile(
            optimizer=keras.optimizers.SGD(RATE),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )

    def epoch(self, batches: np.ndarray) -> None:
        rows = batches.reshape(-1)
        self.fit(self.model, self.x[rows], self.y[rows], BATCH)


class Runner:
    """The project's runner; members alternate encodings and share the epoch's batches."""

    def __init__(self, train: data.Split, members: int):
        self.members = members
        self.ensemble = ConvnetEnsemble(
            train.images,
            train.labels,
            ["normal", "inverted"] * (members // 2) + ["normal"] * (members % 2),
            list(range(members)),
            [RATE] * members,
            streams=[0] * members,
            dropout=DROPOUT,
        )

    def epoch(self, batches: np.ndarray) -> None:
        self.ensemble.train(batches[None])


def main() -> None:
    train = data.load_dataset("mnist").train
    n_updates = len(train) // BATCH

    def epoch_batches(r: int) -> np.ndarray:
        return tutorial_batches(len(train), BATCH, n_updates, seed=r)

    labels = ["model.fit on arrays", "model.fit fed in order", "runner, 1 member"]
    labels.append("runner, 5 members")
    makers = [lambda: Plain(train), lambda: Plain(train, in_order=True)]
    makers += [lambda: Runner(train, 1), lambda: Runner(train, 5)]
    contenders, setup = [], []
    for make in makers:  # build, compile and a first epoch (tracing happens there)
        start = time.perf_counter()
        contender = make()
        contender.epoch(epoch_batches(0))
        setup.append(time.perf_counter() - start)
        contenders.append(contender)
    epochs = [[] for _ in contenders]
    for r in range(1, ROUNDS + 1):
        batches = epoch_batches(r)
        for contender, times in zip(contenders, epochs, strict=True):
            times.append(timed(lambda c=contender, b=batches: c.epoch(b)))

    on_arrays, in_order = (statistics.median(times) for times in epochs[:2])
    peak = matmul_peak()
    print(f"one epoch ({n_updates} updates of batch {BATCH}) per model, median of {ROUNDS}:")
    for label, contender, times, first in zip(labels, contenders, epochs, setup, strict=True):
        per_model = statistics.median(times) / contender.members
        achieved = training_flops() * n_updates * BATCH / per_model / 1e9
        spread = ", ".join(f"{t:.1f}" for t in times)
        print(
            f"  {label:<22}: {per_model:5.1f} s per model ({per_model / on_arrays:.2f}x on "
            f"arrays, {per_model / in_order:.2f}x fed in order); epochs {spread} s; "
            f"build + first epoch {first:.1f} s; {achieved:.0f} GFLOP/s "
            f"({achieved / peak:.0%} of the matmul peak)"
        )
    print(
        f"peak: {peak:.0f} GFLOP/s on a 2048 x 2048 float32 matmul; the convnet needs "
        f"{training_flops() / 1e6:.1f} MFLOP per training image"
    )


if __name__ == "__main__":
    main()
