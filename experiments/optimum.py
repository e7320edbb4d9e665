"""The optimum: softmax regression trained to convergence on each encoding, and on both mixed.

Softmax regression on x and on 1 - x is one convex problem under the reparametrisation
W' = -W, b' = b + W.1: the logits W'(1 - x) + b' equal W x + b for every image. Both
encodings have the same optimum and the same best accuracy; only the path gradient descent
takes differs. This module solves each problem with a full-batch solver instead of SGD:
SciPy's L-BFGS-B on the float64 mean cross-entropy and its exact gradient, from zero
weights, on the tutorial's 55,000 training images. It stops when the largest component of
the gradient falls below `gradient_tolerance` or after `max_iterations` iterations, and
records both, with the final loss, so the reader can see how far from the optimum it
stopped.

Mixed training (every image once as x and once as 1 - x, same labels) is the third problem.
There L(W, b) = L(-W, b + W.1), and by convexity the average of the two, W = 0, is at
least as good: the optimum predicts the class prior for every image. The solver is run on
it too and its predictions compared with the prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

from polarity import data

CLASSES = 10


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    train_size: int | None = None  # None: all 55,000 of the tutorial's training images
    test_size: int | None = None
    gradient_tolerance: float = 1e-5  # L-BFGS-B's pgtol: the largest gradient component
    max_iterations: int = 800
    seed: int = 0  # no randomness: the solver is deterministic from zero weights


PROFILES = {
    "smoke": Config(train_size=2000, test_size=1000, max_iterations=200),
    "quick": Config(max_iterations=500),
    "full": Config(),
}


def loss_and_gradient(params: np.ndarray, x: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy of softmax regression with weights W (d, 10) and bias b (10,),
    packed as one vector, and its gradient; float64 throughout."""
    d = x.shape[1]
    w, b = params[: d * CLASSES].reshape(d, CLASSES), params[d * CLASSES :]
    log_p = log_softmax(x @ w + b, axis=1)
    n = len(labels)
    loss = -log_p[np.arange(n), labels].mean()
    residual = np.exp(log_p)
    residual[np.arange(n), labels] -= 1.0
    residual /= n
    return loss, np.concatenate([(x.T @ residual).ravel(), residual.sum(axis=0)])


def mixed_loss_and_gradient(params: np.ndarray, x: np.ndarray, labels: np.ndarray):
    """The same for training on x and on 1 - x, each with its label: the mean over both.
    The logits of 1 - x are W.1 + b - x W, so one product with x serves both halves."""
    d = x.shape[1]
    w, b = params[: d * CLASSES].reshape(d, CLASSES), params[d * CLASSES :]
    xw = x @ w
    n = len(labels)
    rows = np.arange(n)
    loss, residuals = 0.0, []
    for logits in (xw + b, w.sum(axis=0) + b - xw):
        log_p = log_softmax(logits, axis=1)
        loss -= log_p[rows, labels].sum() / (2 * n)
        residual = np.exp(log_p)
        residual[rows, labels] -= 1.0
        residuals.append(residual / (2 * n))
    normal, inverted = residuals
    grad_w = x.T @ (normal - inverted) + inverted.sum(axis=0)  # d(W.1)/dW adds to every row
    return loss, np.concatenate([grad_w.ravel(), (normal + inverted).sum(axis=0)])


def solve(
    x: np.ndarray, labels: np.ndarray, config: Config, function=loss_and_gradient
) -> tuple[np.ndarray, dict]:
    """L-BFGS-B from zero to the optimum of `function` (the mean cross-entropy) on (x, labels)."""
    start = np.zeros(x.shape[1] * CLASSES + CLASSES)
    solution = minimize(
        function,
        start,
        args=(x, labels),
        jac=True,
        method="L-BFGS-B",
        options={
            "maxiter": config.max_iterations,
            "maxfun": 2 * config.max_iterations,
            "gtol": config.gradient_tolerance,
            "ftol": 0.0,  # stop on the gradient (or the cap), never on a stalled loss
        },
    )
    _, gradient = function(solution.x, x, labels)
    return solution.x, {
        "iterations": int(solution.nit),
        "function_evaluations": int(solution.nfev),
        "converged": bool(np.abs(gradient).max() <= config.gradient_tolerance),
        "gradient_max": float(np.abs(gradient).max()),
        "gradient_norm": float(np.linalg.norm(gradient)),
        "train_loss": float(solution.fun),
    }


def predict(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    d = x.shape[1]
    return x @ params[: d * CLASSES].reshape(d, CLASSES) + params[d * CLASSES :]


def accuracy(params: np.ndarray, split: data.Split, encoding: str) -> float:
    x = data.encode(split.images, encoding).astype(np.float64)
    return float(np.mean(np.argmax(predict(params, x), axis=1) == split.labels))


def run(config: Config, data_dir=None) -> dict:
    """Solve normal, inverted and mixed training to the optimum; test each."""
    dataset = data.load_dataset(config.dataset, data_dir)
    train, validation = data.tensorflow_tutorial_split(dataset.train)
    if config.train_size is not None:
        train = train.head(config.train_size)
    test = dataset.test if config.test_size is None else dataset.test.head(config.test_size)
    labels = train.labels.astype(np.int64)
    x = {p: data.encode(train.images, p).astype(np.float64) for p in data.POLARITIES}

    encodings, params = {}, {}
    for polarity in data.POLARITIES:
        params[polarity], solver = solve(x[polarity], labels, config)
        encodings[polarity] = {
            "solver": solver,
            "test_accuracy": accuracy(params[polarity], test, polarity),
            "validation_accuracy": accuracy(params[polarity], validation, polarity),
            "train_accuracy": float(
                np.mean(np.argmax(predict(params[polarity], x[polarity]), axis=1) == labels)
            ),
        }
    # The reparametrisation, checked on the solutions: inverted weights mapped back.
    d = x["normal"].shape[1]
    w_inv = params["inverted"][: d * CLASSES].reshape(d, CLASSES)
    mapped = np.concatenate([-w_inv.ravel(), params["inverted"][d * CLASSES :] + w_inv.sum(0)])
    agreement = float(
        np.mean(
            np.argmax(predict(mapped, x["normal"]), 1)
            == np.argmax(predict(params["inverted"], x["inverted"]), 1)
        )
    )

    mixed_params, mixed_solver = solve(x["normal"], labels, config, mixed_loss_and_gradient)
    prior = np.bincount(labels, minlength=CLASSES) / len(labels)
    mixed = {"solver": mixed_solver, "tested_on": {}}
    for polarity in data.POLARITIES:
        x_test = data.encode(test.images, polarity).astype(np.float64)
        logits = predict(mixed_params, x_test)
        probabilities = np.exp(log_softmax(logits, axis=1))
        mixed["tested_on"][polarity] = {
            "accuracy": float(np.mean(np.argmax(logits, 1) == test.labels)),
            "largest_prior_deviation": float(np.abs(probabilities - prior).max()),
        }
    mixed["weight_norm"] = float(np.linalg.norm(mixed_params[: d * CLASSES]))
    majority = int(np.argmax(prior))
    return {
        "seeds": [config.seed],
        "metrics": {
            "data": {
                "dataset": config.dataset,
                "train_size": len(train),
                "test_size": len(test),
            },
            "criterion": {
                "gradient_tolerance": config.gradient_tolerance,
                "max_iterations": config.max_iterations,
            },
            "encodings": encodings,
            "difference": {
                "test_accuracy": encodings["normal"]["test_accuracy"]
                - encodings["inverted"]["test_accuracy"],
                "train_loss": encodings["normal"]["solver"]["train_loss"]
                - encodings["inverted"]["solver"]["train_loss"],
                "mapped_prediction_agreement": agreement,
            },
            "mixed": mixed,
            "prior": {
                "train": prior.tolist(),
                "majority_class": majority,
                # Predicting the majority class of the training prior for every test image.
                "majority_test_accuracy": float(np.mean(test.labels == majority)),
            },
        },
    }
