"""Conditioning: why the same learning rate suits one encoding and not another.

Softmax regression started at zero predicts the uniform distribution for every image, so
the Hessian of its mean cross-entropy is H = (I/10 - 11'/100) (x) M, where M = E[x~ x~'] is
the second-moment matrix of the inputs with a constant 1 appended for the bias. Plain
gradient descent on a quadratic is stable only for learning rates below 2 / lambda_max(H).
For each encoding this module measures

1. lambda_max(M) and its top eigenvector, compared with the mean input by their cosine: an
   input whose mean is far from 0 has one large eigenvalue along its mean;
2. lambda_max(H), by Lanczos iteration (SciPy) on Hessian-vector products of the actual
   loss on all training images -- measured, then checked against lambda_max(M) / 10;
3. the predicted stability edge 2 / lambda_max(H), for the learning-rate sweep to test;
4. where instability actually sets in: cross-entropy is not quadratic, and the curvature
   along the mean falls as the softmax saturates, so the edge is an approximation. Plain
   SGD (batches of 100, from zero, float64 NumPy) runs at every rate of a fine log grid,
   and the onset is the smallest rate at which the training loss after `onset_updates`
   updates exceeds the loss at the start, ln 10, in at least half of the seeds;
5. the scale-free conditioning lambda_1 / lambda_2 of M: how much steeper the steepest
   direction is than the next one, which no rescaling of the inputs changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from polarity import data
from polarity.training import tutorial_batches

CLASSES = 10


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    encodings: tuple[str, ...] = tuple(data.ENCODINGS)
    lanczos_tolerance: float = 1e-6
    seed: int = 0  # start vector of the Lanczos iteration
    # Onset of instability: SGD at each rate 10 ** (k / onset_rates_per_decade) in the range.
    onset_updates: int = 50
    onset_rate_range: tuple[float, float] = (0.001, 100.0)
    onset_rates_per_decade: int = 8
    onset_n_seeds: int = 3
    onset_first_seed: int = 7000
    onset_eval_size: int = 5000  # the loss is measured on the first this many images
    batch_size: int = 100
    train_images: int = 60000  # the first this many training images: all of them


PROFILES = {
    "smoke": Config(
        encodings=("normal", "inverted", "centred"),
        onset_rates_per_decade=4,
        onset_n_seeds=2,
        onset_eval_size=2000,
        train_images=10000,
    ),
    "quick": Config(
        onset_rates_per_decade=4, onset_n_seeds=2, onset_eval_size=2000, train_images=10000
    ),
    "full": Config(),
}


def with_bias(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1), x.dtype)])


def hessian_at_zero(x_tilde: np.ndarray) -> LinearOperator:
    """H v for the mean softmax cross-entropy at W = 0 (all predictions uniform), from the
    loss's second derivative on the data: for logits Z = X~ V, the product is
    X~' (P * Z - P * rowsum(P * Z)) / n with P = 1/10 everywhere."""
    n, d = x_tilde.shape
    p = 1.0 / CLASSES

    def matvec(v):
        z = x_tilde @ v.reshape(d, CLASSES).astype(x_tilde.dtype)
        pz = p * z
        return (x_tilde.T @ (pz - p * pz.sum(axis=1, keepdims=True)) / n).astype(np.float64).ravel()

    return LinearOperator((d * CLASSES, d * CLASSES), matvec=matvec, dtype=np.float64)


def measure(x: np.ndarray, config: Config) -> dict:
    x_tilde = with_bias(x)
    second_moment = (x_tilde.T @ x_tilde).astype(np.float64) / len(x_tilde)
    eigenvalues, eigenvectors = np.linalg.eigh(second_moment)
    top = eigenvectors[:, -1]
    mean_input = x_tilde.mean(axis=0, dtype=np.float64)
    cosine = abs(top @ mean_input) / np.linalg.norm(mean_input)
    start = np.random.default_rng(config.seed).standard_normal(x_tilde.shape[1] * CLASSES)
    (hessian_top,), _ = eigsh(
        hessian_at_zero(x_tilde), k=1, which="LA", v0=start, tol=config.lanczos_tolerance
    )
    return {
        "second_moment_lambda_max": float(eigenvalues[-1]),
        "second_moment_lambda_2": float(eigenvalues[-2]),
        "top_direction_mean_cosine": float(cosine),
        "mean_input_norm_squared": float(mean_input @ mean_input),
        "hessian_lambda_max": float(hessian_top),
        "hessian_lambda_max_formula": float(eigenvalues[-1]) / CLASSES,
        "stability_edge": 2.0 / float(hessian_top),
    }


def onset_rates(config: Config) -> np.ndarray:
    low, high = np.log10(config.onset_rate_range)
    steps = int(round((high - low) * config.onset_rates_per_decade))
    return np.array([float(f"{r:.3g}") for r in np.logspace(low, high, steps + 1)])


def loss_after_sgd(x_tilde: np.ndarray, labels: np.ndarray, rates: np.ndarray, batches, evaluate):
    """Mean cross-entropy on the rows `evaluate` after plain SGD from zero, one model per rate
    (all on the same batches); inf where the weights overflowed."""
    d = x_tilde.shape[1]
    weights = np.zeros((len(rates), d, CLASSES))
    with np.errstate(all="ignore"):
        for index in batches:
            xb, yb = x_tilde[index], labels[index]
            logits = xb @ weights  # (rates, batch, classes), one BLAS product per rate
            logits -= logits.max(axis=2, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=2, keepdims=True)
            p[:, np.arange(len(yb)), yb] -= 1.0
            gradient = xb.T @ p / len(yb)
            weights -= rates[:, None, None] * gradient
        xe, ye = x_tilde[evaluate], labels[evaluate]
        logits = xe @ weights
        top = logits.max(axis=2, keepdims=True)
        log_z = top[..., 0] + np.log(np.exp(logits - top).sum(axis=2))
        loss = (log_z - logits[:, np.arange(len(ye)), ye]).mean(axis=1)
    return np.where(np.isfinite(loss), loss, np.inf)


def instability_onset(x: np.ndarray, labels: np.ndarray, config: Config) -> dict:
    """The smallest grid rate at which SGD's training loss after `onset_updates` updates is
    above its starting value ln 10 in at least half of the seeds."""
    x_tilde = with_bias(x).astype(np.float64)
    rates = onset_rates(config)
    evaluate = np.arange(min(config.onset_eval_size, len(x)))
    losses = np.stack(
        [
            loss_after_sgd(
                x_tilde,
                labels,
                rates,
                tutorial_batches(
                    len(x), config.batch_size, config.onset_updates, config.onset_first_seed + s
                ),
                evaluate,
            )
            for s in range(config.onset_n_seeds)
        ]
    )  # (seeds, rates)
    start = np.log(CLASSES)
    unstable = (losses > start).mean(axis=0) >= 0.5
    onset = float(rates[np.argmax(unstable)]) if unstable.any() else None
    median = np.median(losses, axis=0)  # inf where most seeds overflowed
    return {
        "rates": rates.tolist(),
        "median_loss": [float(v) if np.isfinite(v) else None for v in median],
        "unstable": [bool(u) for u in unstable],
        "onset": onset,
        "start_loss": float(start),
    }


def run(config: Config, data_dir=None) -> dict:
    """Measure the curvature each encoding gives softmax regression at initialisation."""
    train = data.load_dataset(config.dataset, data_dir).train.head(config.train_images)
    images, labels = train.images, train.labels.astype(np.int64)
    per_encoding = {}
    for e in config.encodings:
        x = data.encode(images, e, images)
        per_encoding[e] = measure(x, config)
        per_encoding[e]["lambda_ratio"] = (
            per_encoding[e]["second_moment_lambda_max"] / per_encoding[e]["second_moment_lambda_2"]
        )
        onset = instability_onset(x, labels, config)
        per_encoding[e]["instability"] = onset
        if onset["onset"] is not None:
            per_encoding[e]["onset_over_edge"] = onset["onset"] / per_encoding[e]["stability_edge"]
    return {
        "seeds": [config.seed] + [config.onset_first_seed + s for s in range(config.onset_n_seeds)],
        "metrics": {
            "dataset": config.dataset,
            "train_images": len(images),
            "onset_criterion": {
                "updates": config.onset_updates,
                "batch_size": config.batch_size,
                "n_seeds": config.onset_n_seeds,
                "eval_size": config.onset_eval_size,
                "rates_per_decade": config.onset_rates_per_decade,
            },
            "encodings": per_encoding,
        },
    }
