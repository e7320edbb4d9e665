"""Learning-rate sweep: each encoding of the same images, at every learning rate.

The accepted answer compared the two polarities at one learning rate, 0.5. This module
trains softmax regression from zero for every encoding x learning rate x seed, records test
accuracy after 50, 500 and 5,000 updates, and compares the encodings each at its own best
learning rate. Seeds draw the batches; every encoding and learning rate sees the same
batches under the same seed, so comparisons pair up. All models train together as one
ensemble (polarity.ensemble). Models train on the tutorial's 55,000 training images; each
encoding's best learning rate at each checkpoint is the one with the highest mean accuracy
on the tutorial's 5,000 validation images, and test accuracy only reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polarity import data, stats
from polarity.ensemble import SoftmaxEnsemble
from polarity.progress import progress_bar
from polarity.training import tutorial_batches

# A log grid from 0.001 to 5.62, four points a decade (three significant digits), so that
# every encoding's predicted stability edge (the centred one's is 3.9) lies inside it.
LEARNING_RATES = tuple(float(f"{10 ** (k / 4 - 3):.3g}") for k in range(16))
CHUNK = 500  # updates per training call: bounds the index arrays' memory


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    encodings: tuple[str, ...] = tuple(data.ENCODINGS)
    learning_rates: tuple[float, ...] = LEARNING_RATES
    checkpoints: tuple[int, ...] = (50, 500, 5000)
    n_seeds: int = 10
    first_seed: int = 2000
    batch_size: int = 100


PROFILES = {
    "smoke": Config(
        encodings=("normal", "inverted", "centred"),
        learning_rates=(0.01, 0.1, 1.0),
        checkpoints=(50,),
        n_seeds=2,
    ),
    "quick": Config(checkpoints=(50, 500), n_seeds=3),
    "full": Config(),
}


def train_all(
    config: Config, train: data.Split, validation: data.Split, test: data.Split
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test and validation accuracy, each (encodings, rates, seeds, checkpoints), and whether
    each model's weights stayed finite (encodings, rates, seeds)."""
    grid = [
        (e, r, s)
        for e in config.encodings
        for r in config.learning_rates
        for s in range(config.n_seeds)
    ]
    ensemble = SoftmaxEnsemble(
        train.images,
        train.labels,
        [e for e, _, _ in grid],
        [r for _, r, _ in grid],
        streams=[s for _, _, s in grid],  # a seed's models all share its batches
        steps_per_execution=50,
    )
    last = config.checkpoints[-1]
    schedules = [
        tutorial_batches(len(train), config.batch_size, last, config.first_seed + s)
        for s in range(config.n_seeds)
    ]
    batches = np.stack(schedules)  # (seeds, updates, batch)
    accuracy = np.zeros((len(grid), len(config.checkpoints)))
    chosen_on = np.zeros_like(accuracy)
    done = 0
    with progress_bar("learning-rate sweep", last) as advance:
        for k, checkpoint in enumerate(config.checkpoints):
            while done < checkpoint:
                step = min(CHUNK, checkpoint - done)
                ensemble.train(batches[:, done : done + step])
                done += step
                advance(step)
            accuracy[:, k] = ensemble.accuracy(test.images, test.labels)
            chosen_on[:, k] = ensemble.accuracy(validation.images, validation.labels)
    kernels, biases = ensemble.weights()
    finite = np.isfinite(kernels).all(axis=(1, 2)) & np.isfinite(biases).all(axis=1)
    shape = (len(config.encodings), len(config.learning_rates), config.n_seeds)
    shape4 = (*shape, len(config.checkpoints))
    return accuracy.reshape(shape4), chosen_on.reshape(shape4), finite.reshape(shape)


def summarise(
    config: Config, accuracy: np.ndarray, validation: np.ndarray, finite: np.ndarray
) -> dict:
    """Per encoding: test accuracy at every rate and checkpoint, and the best rate at each
    checkpoint, chosen by mean validation accuracy (test accuracy is only reported)."""
    per_encoding, best = {}, {}
    for i, encoding in enumerate(config.encodings):
        cells = [
            [stats.mean_ci(accuracy[i, j, :, k]) for k in range(len(config.checkpoints))]
            for j in range(len(config.learning_rates))
        ]
        validation_mean = validation[i].mean(axis=1)  # [rate][checkpoint]
        per_encoding[encoding] = {
            "per_seed": accuracy[i].tolist(),  # [rate][seed][checkpoint]
            "mean": [[c["mean"] for c in row] for row in cells],  # [rate][checkpoint]
            "ci95": [[c["ci95"] for c in row] for row in cells],
            "validation_mean": validation_mean.tolist(),  # [rate][checkpoint]
            "diverged": [float(1 - finite[i, j].mean()) for j in range(len(config.learning_rates))],
        }
        best[encoding] = {}
        for k, checkpoint in enumerate(config.checkpoints):
            j = int(np.argmax(validation_mean[:, k]))
            best[encoding][str(checkpoint)] = {
                "learning_rate": config.learning_rates[j],
                "rate_index": j,
                "chosen_on": "validation",
                "validation_mean": float(validation_mean[j, k]),
                **cells[j][k],
            }
    return {"accuracy": per_encoding, "best": best}


def at_best_rates(
    config: Config, accuracy: np.ndarray, best: dict, first: str, second: str
) -> dict:
    """Paired difference first - second across seeds, each at its own best learning rate."""
    i, j = config.encodings.index(first), config.encodings.index(second)
    out = {}
    for k, checkpoint in enumerate(config.checkpoints):
        bi = best[first][str(checkpoint)]["rate_index"]
        bj = best[second][str(checkpoint)]["rate_index"]
        out[str(checkpoint)] = stats.paired_difference(accuracy[i, bi, :, k], accuracy[j, bj, :, k])
    return out


def run(config: Config, data_dir=None) -> dict:
    """Train the whole grid; return accuracies, best learning rates and comparisons."""
    dataset = data.load_dataset(config.dataset, data_dir)
    train, validation = data.tensorflow_tutorial_split(dataset.train)
    accuracy, on_validation, finite = train_all(config, train, validation, dataset.test)
    summary = summarise(config, accuracy, on_validation, finite)
    comparisons = {}
    if {"normal", "inverted"} <= set(config.encodings):
        comparisons["normal_minus_inverted_at_best"] = at_best_rates(
            config, accuracy, summary["best"], "normal", "inverted"
        )
    return {
        "seeds": [config.first_seed + s for s in range(config.n_seeds)],
        "metrics": {
            "grid": {
                "encodings": list(config.encodings),
                "learning_rates": list(config.learning_rates),
                "checkpoints": list(config.checkpoints),
                "n_seeds": config.n_seeds,
                "train_size": len(train),
                "validation_size": len(validation),
                "chosen_on": "validation",
            },
            **summary,
            "comparisons": comparisons,
        },
    }
