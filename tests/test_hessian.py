"""The Hessian's largest eigenvalue from automatic differentiation, checked against the
closed form the conditioning experiment uses for softmax regression at zero."""

import numpy as np
import pytest
from scipy.sparse.linalg import eigsh

from experiments import conditioning
from polarity import data, hessian
from polarity.models import mnist_convnet, softmax_regression


@pytest.fixture(scope="module")
def mnist():
    return data.load_dataset("mnist").train.head(1000)


@pytest.mark.parametrize("encoding", ["normal", "inverted"])
def test_softmax_regression_matches_the_closed_form(mnist, encoding):
    x = data.encode(mnist.images, encoding)
    measured = hessian.largest_eigenvalue(softmax_regression(0.1), x, mnist.labels)
    closed_form = conditioning.hessian_at_zero(conditioning.with_bias(x.astype(np.float64)))
    (expected,) = eigsh(closed_form, k=1, which="LA", return_eigenvectors=False)
    assert measured["lambda_max"] == pytest.approx(expected, rel=1e-4)
    assert measured["parameters"] == 785 * 10


@pytest.mark.slow
def test_the_convnet_s_curvature_is_repeatable_and_depends_on_the_inputs(mnist):
    import keras

    def measure(encoding):
        keras.utils.set_random_seed(3)
        model = mnist_convnet()
        x = data.encode(mnist.images[:100], encoding).reshape(-1, 28, 28, 1)
        return hessian.largest_eigenvalue(model, x, mnist.labels[:100])["lambda_max"]

    first = measure("normal")
    assert measure("normal") == pytest.approx(first, rel=1e-3)
    assert measure("inverted") != pytest.approx(first, rel=0.05)
