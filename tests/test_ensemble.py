"""Members of an ensemble train exactly as the same models trained one at a time."""

import numpy as np
import pytest

from polarity import data
from polarity.ensemble import SoftmaxEnsemble
from polarity.models import softmax_regression
from polarity.training import accuracy, train, tutorial_batches

# Inverted inputs at learning rate 0.5 sit past the stability edge of SGD: there, rounding
# differences of 1e-7 between any two code paths grow to 0.3 within 30 steps (measured), so
# float-tolerance equivalence is checked where training is stable for both encodings.
ENCODINGS = ["normal", "inverted", "normal", "inverted"]
RATES = [0.5, 0.02, 0.05, 0.01]
# Members 0 and 3 share the batches of seed 11, members 1 and 2 those of seed 12: two
# streams, listed out of order so the ensemble must regroup its members.
SEEDS = [11, 12]
STREAMS = [0, 1, 1, 0]
STEPS, BATCH = 30, 100


@pytest.fixture(scope="module")
def both_ways(mnist):
    images, labels = mnist.train.images[:6000], mnist.train.labels[:6000].astype(np.int32)
    batches = np.stack([tutorial_batches(len(labels), BATCH, STEPS, seed) for seed in SEEDS])
    ensemble = SoftmaxEnsemble(images, labels, ENCODINGS, RATES, STREAMS, steps_per_execution=10)
    ensemble.train(batches)
    alone = []
    for encoding, rate, stream in zip(ENCODINGS, RATES, STREAMS, strict=True):
        model = softmax_regression(rate)
        train(model, data.encode(images, encoding), labels, batches[stream])
        alone.append(model)
    return ensemble, alone


def test_member_weights_equal_training_alone(both_ways):
    ensemble, alone = both_ways
    kernels, biases = ensemble.weights()
    for m, model in enumerate(alone):
        kernel, bias = (np.asarray(w) for w in model.layers[-1].get_weights())
        assert np.abs(kernel).max() > 1e-3  # it trained
        np.testing.assert_allclose(kernels[m], kernel, atol=2e-5, rtol=1e-4)
        np.testing.assert_allclose(biases[m], bias, atol=2e-5, rtol=1e-4)


def test_member_accuracy_equals_training_alone(both_ways, mnist):
    ensemble, alone = both_ways
    together = ensemble.accuracy(mnist.test.images, mnist.test.labels)
    for m, (encoding, model) in enumerate(zip(ENCODINGS, alone, strict=True)):
        single = accuracy(model, data.encode(mnist.test.images, encoding), mnist.test.labels)
        assert together[m] == pytest.approx(single, abs=2e-4)  # at most 2 of 10,000 flip


def test_members_are_independent(both_ways):
    kernels, _ = both_ways[0].weights()
    # Same batches, different encodings and rates: different models.
    assert not np.allclose(kernels[0], kernels[3])
    assert not np.allclose(kernels[1], kernels[2])


def test_streams_must_feed_equally_many_members(mnist):
    images, labels = mnist.train.images[:100], mnist.train.labels[:100]
    with pytest.raises(ValueError, match="same number of members"):
        SoftmaxEnsemble(images, labels, ["normal"] * 3, [0.1] * 3, streams=[0, 0, 1])


def test_training_more_steps_continues_from_where_it_stopped(mnist):
    images, labels = mnist.train.images[:2000], mnist.train.labels[:2000].astype(np.int32)
    batches = tutorial_batches(2000, 100, 20, seed=5)[None]
    in_one = SoftmaxEnsemble(images, labels, ["inverted"], [0.5], steps_per_execution=10)
    in_one.train(batches)
    in_two = SoftmaxEnsemble(images, labels, ["inverted"], [0.5], steps_per_execution=10)
    in_two.train(batches[:, :10])
    in_two.train(batches[:, 10:])
    np.testing.assert_allclose(in_one.weights()[0], in_two.weights()[0], atol=1e-6)
