"""The optimum experiment on real MNIST images: the reparametrisation that makes normal and
inverted softmax regression one problem (penalty included), the exact derivatives the
Newton solver uses, and the claim itself on a subset: each encoding solved independently to
the criterion, with no test prediction different."""

import numpy as np
import pytest

from experiments import optimum
from polarity import data


def _mapped(params: np.ndarray) -> np.ndarray:
    w, b = optimum.unpack(params, 784)
    return np.concatenate([-w.ravel(), b + w.sum(axis=0)])  # W' = -W, b' = b + W.1


def test_inversion_maps_the_penalised_problem_onto_itself(mnist):
    split = mnist.train.head(500)
    labels = split.labels.astype(np.int64)
    x, x_inverted = optimum.inputs(split, "normal"), optimum.inputs(split, "inverted")
    rng = np.random.default_rng(0)
    params = np.concatenate([rng.standard_normal(7840) * 0.01, rng.standard_normal(10)])
    for penalty in (0.0, 1e-2):
        loss, _ = optimum.loss_and_gradient(params, x, labels, penalty)
        loss_inverted, _ = optimum.loss_and_gradient(_mapped(params), x_inverted, labels, penalty)
        assert abs(loss - loss_inverted) < 1e-9
    # A penalty on the biases would not survive the map: b' = b + W.1 changes their norm.
    assert abs(np.linalg.norm(_mapped(params)[7840:]) - np.linalg.norm(params[7840:])) > 1e-3


def test_mixed_loss_is_the_loss_on_both_polarities(mnist):
    split = mnist.train.head(300)
    labels = split.labels.astype(np.int64)
    x = optimum.inputs(split, "normal")
    params = np.random.default_rng(1).standard_normal(7850) * 0.01
    loss, gradient = optimum.mixed_loss_and_gradient(params, x, labels, 1e-3)
    both = np.concatenate([x.toarray(), 1 - x.toarray()])
    expected, expected_gradient = optimum.loss_and_gradient(params, both, np.tile(labels, 2), 1e-3)
    assert abs(loss - expected) < 1e-12
    np.testing.assert_allclose(gradient, expected_gradient, atol=1e-12)
    assert abs(optimum.mixed_loss_and_gradient(_mapped(params), x, labels, 1e-3)[0] - loss) < 1e-12


@pytest.mark.parametrize("encoding", ["normal", "inverted"])
def test_gradients_and_hessian_products_match_finite_differences(mnist, encoding):
    split = mnist.train.head(300)
    labels = split.labels.astype(np.int64)
    x = optimum.inputs(split, encoding)
    rng = np.random.default_rng(2)
    pairs = (
        (optimum.loss_and_gradient, optimum.hessian_product),
        (optimum.mixed_loss_and_gradient, optimum.mixed_hessian_product),
    )
    for function, hessian in pairs:
        params, v = rng.standard_normal(7850) * 0.01, rng.standard_normal(7850)
        eps = 1e-6
        plus, minus = (
            function(params + eps * v, x, labels, 1e-3),
            function(params - eps * v, x, labels, 1e-3),
        )
        slope = (plus[0] - minus[0]) / (2 * eps)
        assert abs(slope - function(params, x, labels, 1e-3)[1] @ v) < 1e-6 * abs(slope)
        curvature = (plus[1] - minus[1]) / (2 * eps)
        product = hessian(params, v, x, labels, 1e-3)
        assert np.abs(curvature - product).max() < 1e-7 * np.abs(product).max()


@pytest.mark.slow
def test_both_encodings_reach_one_optimum_with_no_prediction_changed(mnist):
    """On 1,500 real training images: each encoding solved from zero, independently, meets
    the gradient criterion, and the two solutions predict all 2,000 test images alike."""
    config = optimum.Config(gradient_tolerance=1e-6)
    train, test = mnist.train.head(1500), mnist.test.head(2000)
    labels = train.labels.astype(np.int64)
    solved, predicted = {}, {}
    for encoding in data.POLARITIES:
        params, solver = optimum.solve(optimum.inputs(train, encoding), labels, 3e-3, config)
        assert solver["converged"], (encoding, solver)
        assert solver["gradient_norm"] <= 1e-6
        solved[encoding] = params
        predicted[encoding] = np.argmax(optimum.predict(params, optimum.inputs(test, encoding)), 1)
    assert np.mean(predicted["normal"] == test.labels) > 0.8  # a real model, not a constant
    assert np.sum(predicted["normal"] != predicted["inverted"]) == 0
    # And the solutions are one optimum: the inverted one mapped back is the normal one.
    w_inverted = optimum.unpack(solved["inverted"], 784)[0]
    np.testing.assert_allclose(-w_inverted, optimum.unpack(solved["normal"], 784)[0], atol=1e-3)


def test_a_capped_solver_says_it_did_not_converge(mnist):
    train = mnist.train.head(300)
    config = optimum.Config(max_iterations=1)
    _, solver = optimum.solve(
        optimum.inputs(train, "inverted"), train.labels.astype(np.int64), 1e-3, config
    )
    assert not solver["converged"] and solver["gradient_norm"] > config.gradient_tolerance
