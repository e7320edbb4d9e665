"""The optimum experiment's arithmetic on real MNIST images: the reparametrisation that makes
normal and inverted softmax regression one problem, and the mixed loss."""

import numpy as np

from experiments import optimum
from polarity import data


def test_inversion_is_a_change_of_coordinates(mnist):
    images, labels = mnist.train.images[:500], mnist.train.labels[:500].astype(np.int64)
    x = data.encode(images, "normal").astype(np.float64)
    x_inverted = data.encode(images, "inverted").astype(np.float64)
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((784, 10)) * 0.01, rng.standard_normal(10)
    params = np.concatenate([w.ravel(), b])
    mapped = np.concatenate([-w.ravel(), b + w.sum(axis=0)])  # W' = -W, b' = b + W.1
    loss, _ = optimum.loss_and_gradient(params, x, labels)
    loss_inverted, _ = optimum.loss_and_gradient(mapped, x_inverted, labels)
    assert abs(loss - loss_inverted) < 1e-9


def test_mixed_loss_is_the_loss_on_both_polarities(mnist):
    images, labels = mnist.train.images[:300], mnist.train.labels[:300].astype(np.int64)
    x = data.encode(images, "normal").astype(np.float64)
    params = np.random.default_rng(1).standard_normal(7850) * 0.01
    loss, gradient = optimum.mixed_loss_and_gradient(params, x, labels)
    both = np.concatenate([x, 1 - x])
    expected, expected_gradient = optimum.loss_and_gradient(params, both, np.tile(labels, 2))
    assert abs(loss - expected) < 1e-12
    np.testing.assert_allclose(gradient, expected_gradient, atol=1e-12)
    # Symmetric: L(W, b) = L(-W, b + W.1).
    w = params[:7840].reshape(784, 10)
    mirrored = np.concatenate([-w.ravel(), params[7840:] + w.sum(axis=0)])
    assert abs(optimum.mixed_loss_and_gradient(mirrored, x, labels)[0] - loss) < 1e-12
