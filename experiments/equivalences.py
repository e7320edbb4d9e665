"""When inversion provably changes nothing, and what breaks the proof: measured, not asserted.

Inverted inputs are x' = 1 - x. For a first layer computing W x + b,

    W' x' + b' = W x + b   with   W' = -W,  b' = b + W·1,

so a network trained on normal images, with its first layer rewritten this way, computes
the same function of inverted images ("absorption"). The module checks that on trained
models and reports the largest deviation in their logits over the test set:

1. a dense first layer (a one-hidden-layer perceptron) and a 'valid' convolution;
2. a 'same' convolution, whose zero padding is background for normal images but ink for
   inverted ones, so the border breaks the identity; padding inverted images with their
   background value, 1, restores it.

Training itself can be invariant too. With batch normalisation right after the first
convolution, the constant W·1 is removed by the batch mean, so a network trained on
inverted images from a start whose first kernel is negated follows the mirrored
trajectory of one trained on normal images: same batches, same optimiser (Adam's update
is odd in the gradient), same outputs in training mode. The running statistics used at
evaluation are averages of past batch means that lag the weights, so they break the
mirror slightly. Without batch normalisation the same mirrored start gives a different
run. The pairs are trained side by side and compared every `eval_every` updates.

In float32, the mirror is only as exact as rounding allows: the inverted network's first
layer outputs carry the offset W·1, which costs digits in the batch mean and grows
chaotically through training. The same pairs are therefore also trained for a few
updates in float64, where the algebra can be seen to hold. The float32 pairs are also
compared after that many updates, so the two precisions meet at the same update count
(cheaper than training float64, more than twice as slow, as far as float32).

How far is "only as exact as rounding allows"? The control answers it: two batch-normalised
networks from the same start, trained on normal images with the same batches, the second
taking each batch's images in another order. The batch gradient and the batch statistics
are sums over the batch, so the two runs are the same in exact arithmetic and differ only
in the order of their float32 sums; they are compared as the mirrored pairs are.

Dropout is left out of these networks: it adds nothing to the algebra.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from polarity import data, stats
from polarity.models import mnist_convnet
from polarity.programs import SharedPrograms
from polarity.progress import progress_bar
from polarity.training import tutorial_batches

# The pairs trained side by side: name -> whether the first convolution is batch-normalised.
PAIRS = {"without_batch_norm": False, "batch_norm": True}


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    n_seeds: int = 3
    first_seed: int = 5000
    updates: int = 600  # one epoch of 60,000 images in batches of 100
    eval_every: int = 100
    batch_size: int = 100
    learning_rate: float = 0.001  # Adam, Keras's default
    hidden_units: int = 128  # of the perceptron whose dense first layer is absorbed
    train_images: int = 60000
    test_images: int = 10000
    statistics_batch: int = 1000  # test images per batch when comparing in training mode
    float64_updates: int = 50  # the pairs trained again in float64, briefly: over twice as slow


PROFILES = {
    "smoke": Config(
        n_seeds=1,
        updates=20,
        eval_every=10,
        train_images=2000,
        test_images=1000,
        float64_updates=5,
    ),
    "quick": Config(
        n_seeds=1,
        updates=20,
        eval_every=10,
        train_images=2000,
        test_images=2000,
        float64_updates=5,
    ),
    "full": Config(),
}


def compiled(model: keras.Model, config: Config) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def perceptron(config: Config) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(config.hidden_units, activation="relu"),
            keras.layers.Dense(10),
        ],
        name="perceptron",
    )


def absorbed(weights: list[np.ndarray]) -> list[np.ndarray]:
    """The weights with the first layer's kernel W and bias b (the first two arrays) turned
    into -W and b + W·1, the sum of W over everything but its output axis."""
    kernel, bias, *rest = weights
    return [-kernel, bias + kernel.reshape(-1, kernel.shape[-1]).sum(axis=0), *rest]


def mirrored(weights: list[np.ndarray]) -> list[np.ndarray]:
    """The weights with the first kernel negated and everything else kept."""
    return [-weights[0], *weights[1:]]


def logits(model: keras.Model, x: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Evaluation-mode logits (batch normalisation uses its running statistics)."""
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(model(x[s : s + chunk], training=False))
            for s in range(0, len(x), chunk)
        ]
    )


def batch_statistics_logits(model: keras.Model, x: np.ndarray, chunk: int) -> np.ndarray:
    """Training-mode logits, batch normalisation using each chunk's own statistics, computed
    statelessly so the running statistics are left as they were."""
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(
                model.stateless_call(trainable, frozen, x[s : s + chunk], training=True)[0]
            )
            for s in range(0, len(x), chunk)
        ]
    )


def agreement(reference: np.ndarray, other: np.ndarray, labels: np.ndarray) -> dict:
    """How far `other` logits are from `reference` ones, and what that does to predictions."""
    predicted, other_predicted = reference.argmax(axis=1), other.argmax(axis=1)
    return {
        "max_abs_logit_difference": float(np.max(np.abs(reference - other))),
        "max_abs_logit": float(np.max(np.abs(reference))),
        "predictions_changed": int(np.sum(predicted != other_predicted)),
        "accuracy_reference": float(np.mean(predicted == labels)),
        "accuracy_other": float(np.mean(other_predicted == labels)),
    }


# The architectures trained here, each traced once however many models of it train
# (polarity.programs): the perceptron, and convnets by (padding, batch_norm, dtype).
PERCEPTRON = "perceptron"


def convnet(padding: str, batch_norm: bool = False, dtype: str = "float32") -> tuple:
    return (padding, batch_norm, dtype)


def architectures(config: Config) -> SharedPrograms:
    """The programs of every architecture `run` trains, built before anything is seeded."""

    def build(key):
        if key == PERCEPTRON:
            return perceptron(config)
        padding, batch_norm, dtype = key
        return mnist_convnet(padding, batch_norm=batch_norm, dtype=dtype)

    programs = SharedPrograms(build, lambda model: compiled(model, config))
    float32 = [convnet(p, bn) for p, bn in (("valid", False), ("same", False), ("valid", True))]
    float64 = [convnet("valid", bn, "float64") for bn in PAIRS.values()]
    programs.prepare(PERCEPTRON, *float32, *float64)
    return programs


def fit(programs, key, model, x: np.ndarray, y: np.ndarray, rows: np.ndarray, config) -> None:
    programs.fit(key, model, x[rows.reshape(-1)], y[rows.reshape(-1)], config.batch_size)


def trained(programs, key, model: keras.Model, x, y, batches, config: Config) -> keras.Model:
    fit(programs, key, model, x, y, batches, config)
    return model


def absorption(config: Config, programs, x: dict, y_train, y_test, seed: int, advance) -> dict:
    """Train on normal images, absorb the inversion into the first layer, compare logits on
    the test set: normal images through the trained model against inverted images through
    the rewritten one."""
    batches = tutorial_batches(len(y_train), config.batch_size, config.updates, seed)
    cases = {
        # case: (architecture trained on normal images, its program, architecture given
        # inverted images)
        "dense": (lambda: perceptron(config), PERCEPTRON, lambda: perceptron(config)),
        "conv_valid": (
            lambda: mnist_convnet("valid"),
            convnet("valid"),
            lambda: mnist_convnet("valid"),
        ),
        "conv_same_zero_padding": (
            lambda: mnist_convnet("same"),
            convnet("same"),
            lambda: mnist_convnet("same"),
        ),
        "conv_same_background_padding": (
            lambda: mnist_convnet("same"),
            convnet("same"),
            lambda: mnist_convnet("same", pad_value=1.0),
        ),
    }
    results, trained_same = {}, None
    for case, (build_normal, key, build_inverted) in cases.items():
        if case == "conv_same_background_padding":
            model = trained_same  # the same trained network as zero padding, padded differently
        else:
            keras.utils.set_random_seed(seed)
            model = trained(programs, key, build_normal(), x["normal"], y_train, batches, config)
            advance(config.updates)
            trained_same = model
        rewritten = build_inverted()
        rewritten.set_weights(absorbed(model.get_weights()))
        results[case] = agreement(
            logits(model, x["normal_test"]), logits(rewritten, x["inverted_test"]), y_test
        )
    return results


def compared_at(config: Config) -> list[int]:
    """The update counts after which the float32 pairs are compared: every `eval_every`,
    and after `float64_updates`, where the float64 pairs are."""
    every = range(config.eval_every, config.updates + 1, config.eval_every)
    return sorted({*every, min(config.float64_updates, config.updates)})


def mirrored_pair(
    config: Config,
    programs: SharedPrograms,
    batch_norm: bool,
    x: dict,
    y_train,
    y_test,
    seed: int,
    advance,
    checkpoints: list[int],
    dtype: str = "float32",
):
    """Train a network on normal images and its mirror (first kernel negated) on inverted
    images with the same batches; compare them after each of `checkpoints` updates."""
    keras.utils.set_random_seed(seed)
    key = convnet("valid", batch_norm, dtype)
    normal = mnist_convnet("valid", batch_norm=batch_norm, dtype=dtype)
    inverted = mnist_convnet("valid", batch_norm=batch_norm, dtype=dtype)
    inverted.set_weights(mirrored(normal.get_weights()))
    x = {name: images.astype(dtype) for name, images in x.items()}
    batches = tutorial_batches(len(y_train), config.batch_size, checkpoints[-1], seed)
    compared = []
    for start, end in zip([0, *checkpoints], checkpoints, strict=False):
        block = batches[start:end]
        fit(programs, key, normal, x["normal"], y_train, block, config)
        fit(programs, key, inverted, x["inverted"], y_train, block, config)
        advance(2 * len(block))
        checkpoint = {
            "running_statistics": agreement(
                logits(normal, x["normal_test"]), logits(inverted, x["inverted_test"]), y_test
            )
        }
        if batch_norm:
            chunk = config.statistics_batch
            checkpoint["batch_statistics"] = agreement(
                batch_statistics_logits(normal, x["normal_test"], chunk),
                batch_statistics_logits(inverted, x["inverted_test"], chunk),
                y_test,
            )
        compared.append(checkpoint)
    # Trainable weights only: the running means differ by design, by W·1.
    a = [keras.ops.convert_to_numpy(v) for v in normal.trainable_variables]
    b = [keras.ops.convert_to_numpy(v) for v in inverted.trainable_variables]
    return {
        "checkpoints": compared,
        "first_kernel_mirror_error": float(np.max(np.abs(a[0] + b[0]))),
        "other_weights_max_difference": max(
            float(np.max(np.abs(u - v))) for u, v in zip(a[1:], b[1:], strict=True)
        ),
    }


def reordered_pair(
    config: Config, programs, x: dict, y_train, y_test, seed: int, advance, checkpoints
):
    """The control: a batch-normalised network and its copy trained on normal images with
    the same batches, each batch's images in another order (the same sums, summed in
    another order); compared after each of `checkpoints` updates as `mirrored_pair` does."""
    keras.utils.set_random_seed(seed)
    key = convnet("valid", batch_norm=True)
    first = mnist_convnet("valid", batch_norm=True)
    second = mnist_convnet("valid", batch_norm=True)
    second.set_weights(first.get_weights())
    batches = tutorial_batches(len(y_train), config.batch_size, checkpoints[-1], seed)
    # Each batch keeps its images; only their order within the batch changes.
    shuffled = np.random.default_rng(seed).permuted(batches, axis=1)
    test = x["normal_test"]
    chunk = config.statistics_batch
    compared = []
    for start, end in zip([0, *checkpoints], checkpoints, strict=False):
        fit(programs, key, first, x["normal"], y_train, batches[start:end], config)
        fit(programs, key, second, x["normal"], y_train, shuffled[start:end], config)
        advance(2 * (end - start))
        compared.append(
            {
                "running_statistics": agreement(logits(first, test), logits(second, test), y_test),
                "batch_statistics": agreement(
                    batch_statistics_logits(first, test, chunk),
                    batch_statistics_logits(second, test, chunk),
                    y_test,
                ),
            }
        )
    return {"checkpoints": compared}


def summarise_control(runs: list[dict], updates: list[int]) -> dict:
    """Per mode of evaluation, the deviation curves of every seed's control pair."""
    return {
        "updates": updates,
        "modes": {
            mode: {
                quantity: [[c[mode][quantity] for c in r["checkpoints"]] for r in runs]
                for quantity in ("max_abs_logit_difference", "predictions_changed")
            }
            for mode in runs[0]["checkpoints"][-1]
        },
    }


def summarise_pair(runs: list[dict], updates: list[int]) -> dict:
    """Per mode of evaluation: the deviation curves of every seed, and the final test
    accuracies of both polarities with their paired difference."""
    modes = {}
    for mode in runs[0]["checkpoints"][-1]:
        finals = [r["checkpoints"][-1][mode] for r in runs]
        normal = [f["accuracy_reference"] for f in finals]
        inverted = [f["accuracy_other"] for f in finals]
        modes[mode] = {
            "max_abs_logit_difference": [
                [c[mode]["max_abs_logit_difference"] for c in r["checkpoints"]] for r in runs
            ],
            "predictions_changed": [
                [c[mode]["predictions_changed"] for c in r["checkpoints"]] for r in runs
            ],
            "final_accuracy": {
                "normal": {**stats.mean_ci(normal), "values": normal},
                "inverted": {**stats.mean_ci(inverted), "values": inverted},
                "difference": stats.paired_difference(normal, inverted),
            },
        }
    return {
        "updates": updates,
        "modes": modes,
        "first_kernel_mirror_error": max(r["first_kernel_mirror_error"] for r in runs),
        "other_weights_max_difference": max(r["other_weights_max_difference"] for r in runs),
    }


def run(config: Config, data_dir=None) -> dict:
    dataset = data.load_dataset(config.dataset, data_dir)
    train, test = dataset.train.head(config.train_images), dataset.test.head(config.test_images)
    train_images, y_train = train.images, train.labels
    test_images, y_test = test.images, test.labels

    def images(raw, encoding):
        return data.encode(raw, encoding).reshape(-1, 28, 28, 1)

    x = {
        "normal": images(train_images, "normal"),
        "inverted": images(train_images, "inverted"),
        "normal_test": images(test_images, "normal"),
        "inverted_test": images(test_images, "inverted"),
    }
    seeds = [config.first_seed + s for s in range(config.n_seeds)]
    updates = compared_at(config)
    total = config.updates * (3 + 2 * (len(PAIRS) + 1) * len(seeds))
    total += 2 * len(PAIRS) * config.float64_updates
    # Built first: every seeded part below sets its seed again, so these draws change none.
    programs = architectures(config)
    with progress_bar("equivalences", total) as advance:
        absorbed_results = absorption(config, programs, x, y_train, y_test, seeds[0], advance)

        def pair(batch_norm, seed, checkpoints, dtype="float32"):
            return mirrored_pair(
                config, programs, batch_norm, x, y_train, y_test, seed, advance, checkpoints, dtype
            )

        pairs = {
            name: summarise_pair([pair(batch_norm, s, updates) for s in seeds], updates)
            for name, batch_norm in PAIRS.items()
        }
        control = summarise_control(
            [
                reordered_pair(config, programs, x, y_train, y_test, s, advance, updates)
                for s in seeds
            ],
            updates,
        )
        brief = [config.float64_updates]
        exact = {
            name: summarise_pair([pair(batch_norm, seeds[0], brief, "float64")], brief)
            for name, batch_norm in PAIRS.items()
        }
    return {
        "seeds": seeds,
        "metrics": {
            "test_images": len(y_test),
            "absorption": absorbed_results,
            "mirrored_training": pairs,
            "mirrored_training_float64": exact,
            "summation_order_control": control,
        },
    }
