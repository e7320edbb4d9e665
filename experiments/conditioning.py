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
3. the predicted stability edge 2 / lambda_max(H), for the learning-rate sweep to test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from polarity import data

CLASSES = 10


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    encodings: tuple[str, ...] = tuple(data.ENCODINGS)
    lanczos_tolerance: float = 1e-6
    seed: int = 0  # start vector of the Lanczos iteration


PROFILES = {
    "smoke": Config(encodings=("normal", "inverted", "centred")),
    "quick": Config(),
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


def run(config: Config, data_dir=None) -> dict:
    """Measure the curvature each encoding gives softmax regression at initialisation."""
    train = data.load_dataset(config.dataset, data_dir).train.images
    per_encoding = {e: measure(data.encode(train, e, train), config) for e in config.encodings}
    return {
        "seeds": [config.seed],
        "metrics": {"dataset": config.dataset, "encodings": per_encoding},
    }
