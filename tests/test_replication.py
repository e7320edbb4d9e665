"""The replication experiment: batch order, training behaviour, and the results of record."""

import json

import numpy as np
import pytest

from experiments import replication
from polarity import paths
from polarity.training import tutorial_batches

RECORD = paths.RESULTS_OF_RECORD / "replication.json"


def test_batches_reshuffle_every_epoch_like_the_tutorial():
    batches = tutorial_batches(n_examples=1000, batch_size=100, n_updates=25, seed=3)
    assert batches.shape == (25, 100)
    epochs = batches.reshape(-1)[:2000].reshape(2, 1000)
    for epoch in epochs:  # each epoch visits every example exactly once
        assert sorted(epoch.tolist()) == list(range(1000))
    assert not np.array_equal(epochs[0], epochs[1])  # and in a new order


def test_batches_depend_only_on_the_seed():
    np.testing.assert_array_equal(tutorial_batches(500, 50, 7, 1), tutorial_batches(500, 50, 7, 1))
    assert not np.array_equal(tutorial_batches(500, 50, 7, 1), tutorial_batches(500, 50, 7, 2))


def test_softmax_regression_starts_at_zero_and_learns(mnist):
    from polarity import data
    from polarity.models import softmax_regression
    from polarity.training import accuracy, train

    model = softmax_regression(learning_rate=0.5)
    kernel = model.layers[-1].kernel
    assert np.all(np.asarray(kernel) == 0)
    x = data.encode(mnist.train.images[:5000], "normal")
    y = mnist.train.labels[:5000].astype(np.int32)
    x_test = data.encode(mnist.test.images, "normal")
    before = accuracy(model, x_test, mnist.test.labels)
    train(model, x, y, tutorial_batches(5000, 100, 50, seed=0))
    after = accuracy(model, x_test, mnist.test.labels)
    assert before == pytest.approx(np.mean(mnist.test.labels == 0))  # all-zero logits pick class 0
    assert after > 0.8


def test_profiles_keep_their_promises():
    assert replication.PROFILES["quick"].trials >= 20
    assert replication.PROFILES["full"].trials >= 100
    assert replication.PROFILES["full"].answer_blocks == 100
    assert replication.PROFILES["full"].answer_orders >= 10
    assert min(p.answer_orders for p in replication.PROFILES.values()) >= 3


# --- The results of record (committed, full profile) --------------------------------------


@pytest.fixture(scope="module")
def record():
    return json.loads(RECORD.read_text())


def test_record_is_the_full_profile(record):
    assert record["profile"] == "full"
    assert record["config"]["trials"] == 100
    assert record["provenance"]["git_commit"] and record["provenance"]["git_dirty"] is False


def test_record_replicates_the_answer(record):
    protocol = record["metrics"]["answer_protocol"]
    assert 0.91 <= protocol["normal"]["mean"] <= 0.925
    assert 0.80 <= protocol["inverted"]["mean"] <= 0.86
    assert len(protocol["normal"]["curve"]["accuracy"]) == 100
    assert protocol["normal"]["mean"] == pytest.approx(
        np.mean(protocol["normal"]["curve"]["accuracy"])
    )
    # The run of record is the first batch order; each order's mean is its curve's mean.
    orders = record["metrics"]["answer_protocol_orders"]
    for encoding in ("normal", "inverted"):
        spread = orders[encoding]
        assert spread["curves"][0] == protocol[encoding]["curve"]["accuracy"]
        assert spread["means"] == pytest.approx(np.mean(spread["curves"], axis=1))
        assert spread["n"] == len(spread["means"]) == record["config"]["answer_orders"]
        low, high = spread["pi95"]
        assert low < spread["mean"] < high


def test_record_trials_summaries_match_their_raw_accuracies(record):
    trials = record["metrics"]["independent_trials"]
    for encoding in ("normal", "inverted"):
        raw = trials[encoding]["accuracies"]
        assert len(raw) == trials[encoding]["n"] == 100
        assert trials[encoding]["mean"] == pytest.approx(np.mean(raw))
    diffs = np.subtract(trials["normal"]["accuracies"], trials["inverted"]["accuracies"])
    assert trials["difference"]["mean"] == pytest.approx(diffs.mean())


def test_record_weight_maps_match_the_data(record, mnist):
    train_images = mnist.train.images[5000:]
    never_inked = int(np.sum(train_images.max(axis=0) == 0))
    assert record["metrics"]["data"]["never_inked_pixels"] == never_inked
    normal_map = np.asarray(record["metrics"]["weight_change_maps"]["normal"]["map"])
    assert normal_map.shape == (28, 28)
    # Weights of pixels that are never inked cannot move under the normal encoding.
    assert np.all(normal_map[train_images.max(axis=0) == 0] == 0)
