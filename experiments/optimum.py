"""The optimum: ridge-penalised softmax regression solved to convergence on each encoding,
and on both mixed.

Unpenalised softmax regression on MNIST has no finite minimiser: some pixels are inked only
in images of one class, so the loss keeps falling as their weights grow, and any solver
stops at an arbitrary point on the way (issue 23). A ridge penalty on the weights W only,
not on the biases b,

    F(W, b) = mean cross-entropy of softmax(x W + b) + (lambda / 2) ||W||^2,

fixes that: F is strictly convex in W, so its optimum is one set of weights and one set of
predictions (the biases are unique up to a constant added to all ten, which changes no
probability). Inversion maps the problem onto itself: under W' = -W, b' = b + W.1 the logits
of 1 - x equal those of x, and ||W'|| = ||W||, so the inverted problem's optimum is the
normal one's, mapped. A penalty on b would break this (b' != b). Theory therefore says both
encodings reach the same test accuracy with no test prediction changed.

Each problem is solved independently, from zero, by SciPy's trust-region Newton method
(`trust-krylov`) on the float64 objective, its exact gradient and exact Hessian-vector
products. It has converged when the Euclidean norm of the gradient (all 7,850 components)
falls below `gradient_tolerance`; the iterations cap is a safeguard, and whether the
criterion was met is recorded. (L-BFGS-B, tried first, needed about 1,500 iterations to
reach a gradient of 1e-6 on 2,000 images; the Newton method 11, with 643 Hessian-vector
products.) The normal images are mostly 0, so their products run on a sparse matrix: the
same sums, fewer of them. lambda is chosen on the 5,000 validation
images from `penalties`, solving the normal encoding only (the encodings share their
optimum, so their validation accuracies agree at every lambda); test images only report.

Mixed training (every image once as x and once as 1 - x, same labels) is the third
problem. There F(W, b) = F(-W, b + W.1), and by strict convexity in W the optimum has
W = 0: it predicts the class prior for every image. It is solved with the same lambda.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax

from polarity import data

CLASSES = 10


@dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    train_size: int | None = None  # None: all 55,000 of the tutorial's training images
    test_size: int | None = None
    # Candidate ridge penalties (lambda, per training image), chosen on validation images.
    penalties: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    gradient_tolerance: float = 1e-6  # Euclidean norm of the gradient
    max_iterations: int = 200  # Newton iterations; a safeguard: `converged` says if needed
    seed: int = 0  # no randomness: the solver is deterministic from zero weights


PROFILES = {
    "smoke": Config(train_size=2000, test_size=1000, penalties=(1e-3, 1e-2)),
    "quick": Config(train_size=2500, test_size=2000, penalties=(1e-3, 1e-2)),
    "full": Config(),
}


def unpack(params: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    return params[: d * CLASSES].reshape(d, CLASSES), params[d * CLASSES :]


def loss_and_gradient(params: np.ndarray, x: np.ndarray, labels: np.ndarray, penalty=0.0):
    """Mean cross-entropy of softmax regression with weights W (d, 10) and bias b (10,),
    packed as one vector, plus (penalty / 2) ||W||^2, and its gradient; float64 throughout."""
    d = x.shape[1]
    w, b = unpack(params, d)
    log_p = log_softmax(x @ w + b, axis=1)
    n = len(labels)
    loss = -log_p[np.arange(n), labels].mean() + 0.5 * penalty * np.dot(w.ravel(), w.ravel())
    residual = np.exp(log_p)
    residual[np.arange(n), labels] -= 1.0
    residual /= n
    grad_w = x.T @ residual + penalty * w
    return loss, np.concatenate([grad_w.ravel(), residual.sum(axis=0)])


_last = {"params": None, "x": None, "p": None}


def _probabilities(params, x):
    """softmax(x W + b), kept for the last (params, x): the Newton method's inner solver asks
    for many Hessian-vector products at one point."""
    if _last["x"] is not x or not np.array_equal(_last["params"], params):
        w, b = unpack(params, x.shape[1])
        _last.update(params=params.copy(), x=x, p=softmax(x @ w + b, axis=1))
    return _last["p"]


def hessian_product(params, vector, x, labels, penalty=0.0):
    """The Hessian of `loss_and_gradient`'s objective at `params` times `vector`: for each
    image, (diag(p) - p p^T) applied to the change of its logits, back through x."""
    d = x.shape[1]
    p = _probabilities(params, x)
    vw, vb = unpack(vector, d)
    z = x @ vw + vb
    r = (p * z - p * (p * z).sum(axis=1, keepdims=True)) / len(labels)
    return np.concatenate([(x.T @ r + penalty * vw).ravel(), r.sum(axis=0)])


def mixed_hessian_product(params, vector, x, labels, penalty=0.0):
    """The same for the mixed objective, whose inverted half has logits W.1 + b - x W."""
    d = x.shape[1]
    w, b = unpack(params, d)
    vw, vb = unpack(vector, d)
    xw, xv = x @ w, x @ vw
    n = len(labels)
    total_w, total_b = penalty * vw, np.zeros(CLASSES)
    for sign, shift, shift_v in ((1.0, 0.0, 0.0), (-1.0, w.sum(axis=0), vw.sum(axis=0))):
        p = softmax(sign * xw + shift + b, axis=1)
        z = sign * xv + shift_v + vb
        r = (p * z - p * (p * z).sum(axis=1, keepdims=True)) / (2 * n)
        total_w = total_w + sign * (x.T @ r) + (0.0 if sign > 0 else r.sum(axis=0))
        total_b = total_b + r.sum(axis=0)
    return np.concatenate([np.asarray(total_w).ravel(), total_b])


HESSIANS = {}  # objective -> its Hessian-vector product (filled below)


def mixed_loss_and_gradient(params: np.ndarray, x: np.ndarray, labels: np.ndarray, penalty=0.0):
    """The same for training on x and on 1 - x, each with its label: the mean over both.
    The logits of 1 - x are W.1 + b - x W, so one product with x serves both halves."""
    d = x.shape[1]
    w, b = unpack(params, d)
    xw = x @ w
    n = len(labels)
    rows = np.arange(n)
    loss, residuals = 0.5 * penalty * np.dot(w.ravel(), w.ravel()), []
    for logits in (xw + b, w.sum(axis=0) + b - xw):
        log_p = log_softmax(logits, axis=1)
        loss -= log_p[rows, labels].sum() / (2 * n)
        residual = np.exp(log_p)
        residual[rows, labels] -= 1.0
        residuals.append(residual / (2 * n))
    normal, inverted = residuals
    grad_w = x.T @ (normal - inverted) + inverted.sum(axis=0) + penalty * w  # W.1 in every row
    return loss, np.concatenate([grad_w.ravel(), (normal + inverted).sum(axis=0)])


HESSIANS.update(
    {loss_and_gradient: hessian_product, mixed_loss_and_gradient: mixed_hessian_product}
)


def solve(
    x: np.ndarray,
    labels: np.ndarray,
    penalty: float,
    config: Config,
    function=loss_and_gradient,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Trust-region Newton to the optimum of `function` with this ridge penalty on
    (x, labels), from zero unless a start is given, until the gradient's norm is at most
    the tolerance (or the iterations cap)."""
    began = time.perf_counter()
    if start is None:
        start = np.zeros(x.shape[1] * CLASSES + CLASSES)
    solution = minimize(
        function,
        start,
        args=(x, labels, penalty),
        jac=True,
        hessp=HESSIANS[function],
        method="trust-krylov",
        options={"maxiter": config.max_iterations, "gtol": config.gradient_tolerance},
    )
    _, gradient = function(solution.x, x, labels, penalty)
    norm = float(np.linalg.norm(gradient))
    w, _ = unpack(solution.x, x.shape[1])
    return solution.x, {
        "iterations": int(solution.nit),
        "function_evaluations": int(solution.nfev),
        "hessian_products": int(getattr(solution, "nhev", 0)),
        "converged": bool(norm <= config.gradient_tolerance),
        "gradient_max": float(np.abs(gradient).max()),
        "gradient_norm": norm,
        "train_loss": float(solution.fun),  # the penalised objective
        "weight_norm": float(np.linalg.norm(w)),
        "seconds": time.perf_counter() - began,
    }


def predict(params: np.ndarray, x: np.ndarray) -> np.ndarray:
    w, b = unpack(params, x.shape[1])
    return x @ w + b


def inputs(split: data.Split, encoding: str):
    """The encoding's inputs in float64, computed from the raw grey levels so that 1 - x is
    exact to float64 rounding (the mapping between the optima relies on it); a sparse
    matrix where most inputs are 0 (normal images), for speed."""
    scale, shift = data.affine_encoding(encoding)
    x = scale * (split.images.reshape(len(split.images), -1) / 255.0) + shift
    return sparse.csr_array(x) if np.mean(x == 0) > 0.5 else x


def choose_penalty(
    x: np.ndarray, labels: np.ndarray, validation: data.Split, config: Config
) -> tuple[float, list[dict]]:
    """The penalty with the highest validation accuracy (the smaller on a tie), each solved
    on the normal encoding, from the largest penalty down, each warm-started from the last
    (only for choosing: the comparison below solves from zero)."""
    x_validation = inputs(validation, "normal")
    path, params = [], None
    for penalty in sorted(config.penalties, reverse=True):
        params, solver = solve(x, labels, penalty, config, start=params)
        predicted = np.argmax(predict(params, x_validation), axis=1)
        path.append(
            {
                "penalty": penalty,
                "validation_accuracy": float(np.mean(predicted == validation.labels)),
                "converged": solver["converged"],
                "iterations": solver["iterations"],
            }
        )
    best = max(path, key=lambda p: (p["validation_accuracy"], -p["penalty"]))
    return best["penalty"], sorted(path, key=lambda p: p["penalty"])


def run(config: Config, data_dir=None) -> dict:
    """Choose the penalty on validation images; solve normal, inverted and mixed training to
    the optimum independently from zero; test each and count differing test predictions."""
    dataset = data.load_dataset(config.dataset, data_dir)
    train, validation = data.tensorflow_tutorial_split(dataset.train)
    if config.train_size is not None:
        train = train.head(config.train_size)
    test = dataset.test if config.test_size is None else dataset.test.head(config.test_size)
    labels = train.labels.astype(np.int64)
    x = {p: inputs(train, p) for p in data.POLARITIES}
    penalty, path = choose_penalty(x["normal"], labels, validation, config)

    encodings, params, predicted = {}, {}, {}
    for polarity in data.POLARITIES:
        params[polarity], solver = solve(x[polarity], labels, penalty, config)
        predicted[polarity] = np.argmax(predict(params[polarity], inputs(test, polarity)), 1)
        encodings[polarity] = {
            "solver": solver,
            "test_accuracy": float(np.mean(predicted[polarity] == test.labels)),
            "validation_accuracy": float(
                np.mean(
                    np.argmax(predict(params[polarity], inputs(validation, polarity)), 1)
                    == validation.labels
                )
            ),
            "train_accuracy": float(
                np.mean(np.argmax(predict(params[polarity], x[polarity]), axis=1) == labels)
            ),
        }
    # The mapping, checked on the independent solutions: the inverted weights mapped back
    # (W = -W', b = b' + W'.1) against the normal solution.
    d = x["normal"].shape[1]
    w_inv, b_inv = unpack(params["inverted"], d)
    w_norm, b_norm = unpack(params["normal"], d)
    mapped_b = b_inv + w_inv.sum(axis=0)
    gap = (mapped_b - b_norm).mean()  # the free constant shared by all ten biases
    mapping = {
        "max_weight_difference": float(np.abs(-w_inv - w_norm).max()),
        "max_bias_difference": float(np.abs(mapped_b - gap - b_norm).max()),
        "largest_weight": float(np.abs(w_norm).max()),
    }

    mixed_params, mixed_solver = solve(
        x["normal"], labels, penalty, config, mixed_loss_and_gradient
    )
    prior = np.bincount(labels, minlength=CLASSES) / len(labels)
    mixed = {"solver": mixed_solver, "tested_on": {}}
    for polarity in data.POLARITIES:
        logits = predict(mixed_params, inputs(test, polarity))
        probabilities = np.exp(log_softmax(logits, axis=1))
        mixed["tested_on"][polarity] = {
            "accuracy": float(np.mean(np.argmax(logits, 1) == test.labels)),
            "largest_prior_deviation": float(np.abs(probabilities - prior).max()),
        }
    mixed["weight_norm"] = mixed_solver["weight_norm"]
    majority = int(np.argmax(prior))
    return {
        "seeds": [config.seed],
        "metrics": {
            "data": {
                "dataset": config.dataset,
                "train_size": len(train),
                "validation_size": len(validation),
                "test_size": len(test),
            },
            "penalty": {
                "chosen": penalty,
                "chosen_on": "validation",
                "on": "weights only, not biases",
                "path": path,
            },
            "criterion": {
                "gradient_tolerance": config.gradient_tolerance,
                "max_iterations": config.max_iterations,
                "measure": "Euclidean norm of the gradient",
                "solver": "scipy.optimize.minimize, method trust-krylov, exact gradient "
                "and Hessian-vector products, float64, from zero",
            },
            "encodings": encodings,
            "difference": {
                "test_accuracy": encodings["normal"]["test_accuracy"]
                - encodings["inverted"]["test_accuracy"],
                "train_loss": encodings["normal"]["solver"]["train_loss"]
                - encodings["inverted"]["solver"]["train_loss"],
                "test_predictions_differing": int(
                    np.sum(predicted["normal"] != predicted["inverted"])
                ),
                "mapping": mapping,
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
