"""Feeding arrays to Keras without tf.data's autotuner changes nothing but the waiting:
the same batches in the same order, the same weights, the same predictions."""

import keras
import numpy as np

from polarity import data
from polarity.backend import fit_in_order, predict_in_order
from polarity.models import mnist_convnet

BATCH = 50


def convnet(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = mnist_convnet()
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_fit_in_order_trains_as_model_fit_unshuffled(mnist):
    x = data.encode(mnist.train.images[:1000], "inverted").reshape(-1, 28, 28, 1)
    y = mnist.train.labels[:1000].astype(np.int32)
    plain, ours = convnet(5), convnet(5)
    plain.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    fit_in_order(ours, x, y, BATCH)
    start = convnet(5).get_weights()
    moved = [np.abs(w - w0).max() for w, w0 in zip(ours.get_weights(), start, strict=True)]
    assert min(moved) > 1e-4  # every weight trained
    for mine, theirs in zip(ours.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_fit_in_order_keeps_the_order_of_the_rows(mnist):
    """Reversing the rows reverses the batches, which gives other weights: order is kept,
    not reshuffled."""
    x = data.encode(mnist.train.images[:500], "normal").reshape(-1, 28, 28, 1)
    y = mnist.train.labels[:500].astype(np.int32)
    forward, backward = convnet(6), convnet(6)
    fit_in_order(forward, x, y, BATCH)
    fit_in_order(backward, x[::-1], y[::-1], BATCH)
    assert not np.allclose(forward.get_weights()[0], backward.get_weights()[0])


def test_predict_in_order_matches_model_predict(mnist):
    x = data.encode(mnist.test.images[:1234], "normal").reshape(-1, 28, 28, 1)
    model = convnet(7)
    np.testing.assert_array_equal(
        predict_in_order(model, x, 500), model.predict(x, batch_size=500, verbose=0)
    )
    assert predict_in_order(model, x, 500).shape == (1234, 10)  # the last, short batch too
