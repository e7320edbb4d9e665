"""Members of a convnet ensemble train exactly as the same convnets trained one at a time
with `model.fit`: same initial weights from the seed, same batches, same updates.

Both sides run in float64. In float32 the two agree to 1e-7 for about ten updates, then
part ways: a max-pooling window whose two largest values differ by less than the rounding
of one code path sends its gradient to another pixel, a discrete jump (measured: relative
weight difference 1e-7 after 11 updates, 3e-3 after 14). In float64 such near-ties do not
occur, and the agreement that remains is the mathematical one.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from polarity import data
from polarity.ensemble import ConvnetEnsemble
from polarity.models import mnist_convnet
from polarity.training import tutorial_batches

pytestmark = pytest.mark.slow  # trains convnets: seconds to a minute each

STEPS, BATCH, N = 20, 50, 3000
# Members 0 and 1 share the batches of seed 31, member 2 has those of seed 32 twice over.
ENCODINGS = ["normal", "inverted", "inverted", "normal"]
SEEDS = [31, 31, 32, 32]
STREAMS = [0, 0, 1, 1]
VARIANTS = {
    "valid, SGD": dict(optimizer="sgd", rates=[0.05, 0.05, 0.02, 0.1], padding="valid"),
    "same, Adam": dict(optimizer="adam", rates=[1e-3] * 4, padding="same"),
    "batch norm, SGD": dict(optimizer="sgd", rates=[0.05] * 4, batch_norm=True),
}


def float64_encode(images, encoding):
    scale, shift = data.affine_encoding(encoding)
    x = images.reshape(len(images), -1) / 255.0 * scale.astype(np.float64) + shift
    return x.reshape(-1, 28, 28, 1)


@pytest.fixture(scope="module")
def float64():
    previous, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # another test may have fixed the policy
    yield
    keras.config.set_floatx(previous)
    keras.config.set_dtype_policy(policy)


def alone(images, labels, encoding, seed, rate, optimizer, batches, **variant):
    keras.utils.set_random_seed(seed)
    model = mnist_convnet(**variant, dtype="float64")
    chosen = keras.optimizers.Adam if optimizer == "adam" else keras.optimizers.SGD
    model.compile(
        optimizer=chosen(learning_rate=rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rows = batches.reshape(-1)
    x = float64_encode(images, encoding)
    model.fit(x[rows], labels[rows], batch_size=BATCH, shuffle=False, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module", params=list(VARIANTS))
def both_ways(request, mnist, float64):
    spec = dict(VARIANTS[request.param])
    optimizer, rates = spec.pop("optimizer"), spec.pop("rates")
    images, labels = mnist.train.images[:N], mnist.train.labels[:N].astype(np.int32)
    batches = np.stack([tutorial_batches(N, BATCH, STEPS, seed) for seed in (31, 32)])
    ensemble = ConvnetEnsemble(
        images, labels, ENCODINGS, SEEDS, rates, optimizer, STREAMS, steps_per_execution=10, **spec
    )
    ensemble.train(batches)
    singles = [
        alone(images, labels, e, seed, rate, optimizer, batches[stream], **spec)
        for e, seed, rate, stream in zip(ENCODINGS, SEEDS, rates, STREAMS, strict=True)
    ]
    return ensemble, singles


def test_member_weights_equal_training_alone(both_ways):
    ensemble, singles = both_ways
    for m, model in enumerate(singles):
        keras.utils.set_random_seed(SEEDS[m])
        start = mnist_convnet(**ensemble.variant, dtype="float64").get_weights()
        pairs = zip(ensemble.member(m, model), model.get_weights(), start, strict=True)
        for got, want, initial in pairs:
            assert np.abs(want - initial).max() > 1e-4  # it trained
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9 * np.abs(want).max())


def test_member_accuracy_equals_training_alone(both_ways, mnist):
    ensemble, singles = both_ways
    # 1,000 images: the check is equality, image by image in effect, for every member.
    images, labels = mnist.test.images[:1000], mnist.test.labels[:1000]
    together = ensemble.accuracy(images, labels)
    for m, model in enumerate(singles):
        x = float64_encode(images, ENCODINGS[m])
        # The model called on all the images at once: `predict` would call it batch by
        # batch through a predict function traced for each of the four models.
        logits = keras.ops.convert_to_numpy(model(x, training=False))
        single = np.mean(logits.argmax(-1) == labels)
        # Equal, including the batch-normalised members at chance after 20 updates: their
        # running statistics have not caught up yet, in both.
        assert together[m] == single


def test_adam_members_share_one_learning_rate(mnist):
    images, labels = mnist.train.images[:100], mnist.train.labels[:100]
    with pytest.raises(ValueError, match="share one learning rate"):
        ConvnetEnsemble(images, labels, ["normal"] * 2, [1, 2], [1e-3, 1e-2], "adam")


def test_same_seeds_give_the_same_dropout_masks(mnist):
    """Built directly, outside `polarity run`, with the global generators in different states:
    the dropout masks, and so the trained weights, still repeat."""
    images, labels = mnist.train.images[:500], mnist.train.labels[:500].astype(np.int32)
    batches = tutorial_batches(500, 50, 3, 41)[None]
    trained = []
    for global_seed in (1, 2):
        keras.utils.set_random_seed(global_seed)
        ensemble = ConvnetEnsemble(
            images, labels, ["normal"], [41], [0.1], dropout=0.5, steps_per_execution=3
        )
        ensemble.train(batches)
        trained.append(ensemble.member(0, mnist_convnet(dropout=0.5)))
    for first, second in zip(*trained, strict=True):
        np.testing.assert_array_equal(first, second)


REPEAT_SCRIPT = """
import hashlib
import numpy as np
from polarity import data
from polarity.backend import tensorflow_kernels
from polarity.ensemble import ConvnetEnsemble
from polarity.training import tutorial_batches

train = data.load_dataset("mnist").train
images, labels = train.images[:1000], train.labels[:1000]
ensemble = ConvnetEnsemble(
    images, labels, ["normal", "inverted"], [5, 5], [0.05, 0.05], streams=[0, 0],
    dropout=0.5, steps_per_execution=10,
)
ensemble.train(tutorial_batches(1000, 50, 20, 5)[None])
digest = hashlib.sha256(b"".join(np.asarray(v).tobytes() for v in ensemble.model.weights))
print(tensorflow_kernels(), digest.hexdigest())
"""


def test_training_repeats_bit_for_bit_in_a_fresh_process():
    """On the kernels the study runs on (oneDNN, TensorFlow's default) two processes training
    the same float32 convnet ensemble end with the same bits.

    Batch normalisation is the known exception: the full-size ensemble of the convnet
    experiment (10 members, batches of 100 from 60,000 images, 100 steps) ended with a
    different hash in each of three runs, and so did it on the Eigen kernels and with
    TensorFlow's op determinism switched on (measured 2026-11-27). Its results of record
    repeat to about 0.1 point of accuracy, not bit for bit; the small ensemble here does
    not show it, so the test leaves batch normalisation out rather than pass by luck."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    runs = [
        subprocess.run(
            [sys.executable, "-c", REPEAT_SCRIPT], env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    outputs = [run.stdout.split()[-2:] for run in runs]
    if keras.backend.backend() == "tensorflow":
        assert outputs[0][0] == "oneDNN"
    assert outputs[0] == outputs[1]
