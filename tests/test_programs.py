"""Models trained in turns by one compiled program (polarity.programs) train as they would
alone: the same weights, bit for bit, their optimisers' states carried between fits."""

import keras
import numpy as np
import pytest

from polarity.backend import fit_in_order
from polarity.programs import SharedPrograms
from polarity.training import tutorial_batches

pytestmark = pytest.mark.slow  # trains small convnets


def small_net(filters: int = 4) -> keras.Model:
    # A convolution, and batch normalisation for variables that are not trained but change.
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(filters, 3, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def compiled(model: keras.Model) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


@pytest.fixture(scope="module")
def data(mnist):
    train = mnist.train.head(600)
    return (train.images.astype("float32") / 255.0).reshape(-1, 28, 28, 1), train.labels


def batches_of(x, y, seed: int, blocks: int = 2, updates: int = 4):
    rows = tutorial_batches(len(y), 50, blocks * updates, seed).reshape(blocks, -1)
    return [(x[r], y[r]) for r in rows]


def test_models_trained_in_turns_end_as_each_trained_alone(data):
    x, y = data
    seeds = (1, 2)
    alone = {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = compiled(small_net())
        for bx, by in batches_of(x, y, seed):
            fit_in_order(model, bx, by, 50)
        alone[seed] = model.get_weights()

    programs = SharedPrograms(lambda key: small_net(), compiled)
    programs.prepare("small")
    turns = {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        turns[seed] = small_net()
    # Interleaved: block 1 of each model, then block 2 of each, so each fit starts from
    # the other model's state in the program, and the second needs the first's Adam moments.
    blocks = {seed: batches_of(x, y, seed) for seed in seeds}
    for block in range(2):
        for seed in seeds:
            bx, by = blocks[seed][block]
            programs.fit("small", turns[seed], bx, by, 50)

    for seed in seeds:
        got = turns[seed].get_weights()
        assert len(got) == len(alone[seed]) == 7  # conv kernel, four of BN, dense kernel and bias
        for a, b in zip(alone[seed], got, strict=True):
            np.testing.assert_array_equal(a, b)
    # The two models did not end alike, so equality above is not a trivial one.
    assert not np.array_equal(turns[1].get_weights()[0], turns[2].get_weights()[0])


def test_one_program_per_key_traced_once(data):
    x, y = data
    programs = SharedPrograms(lambda key: small_net(), compiled)
    for seed in (1, 2, 3):
        keras.utils.set_random_seed(seed)
        programs.fit("small", small_net(), x[:100], y[:100], 50)
    [(program, _)] = programs._programs.values()
    traced = program.train_function
    programs.fit("small", small_net(), x[:100], y[:100], 50)
    assert program.train_function is traced


def test_a_model_of_another_architecture_is_refused_by_name(data):
    x, y = data
    programs = SharedPrograms(lambda key: small_net(4), compiled)
    with pytest.raises(ValueError, match="kernel: shape"):
        programs.fit("small", small_net(8), x[:100], y[:100], 50)
