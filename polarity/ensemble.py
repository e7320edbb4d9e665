"""Many independent softmax-regression models trained as one compiled Keras program.

Training 200 small models one `model.fit` at a time spends almost all its time in Keras's
per-call overhead. Here each member is a slice of one model: weights with a member axis,
its own encoding, learning rate and batches. The raw uint8 images live once in the model
and each step gathers every member's batch inside the compiled step.

Members never share a gradient: the loss is the sum over members of each member's mean
cross-entropy times its learning rate, and the optimiser is SGD with learning rate 1, so
member m moves by exactly -lr_m * grad_m, as it would trained alone
(tests/test_ensemble.py checks this against `polarity.training.train`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from polarity.data import affine_encoding


class MemberBatches(keras.layers.Layer):
    """Holds the training images once, as uint8, and gathers each member's batch."""

    def __init__(self, images: np.ndarray, **kwargs):
        super().__init__(**kwargs)
        flat = images.reshape(len(images), -1)
        self.images = self.add_weight(
            shape=flat.shape, dtype="uint8", trainable=False, initializer="zeros", name="images"
        )
        self.images.assign(flat)

    def call(self, indices):  # (batch, members) -> (members, batch, pixels)
        # Gathering member-major avoids transposing a (batch, members, pixels) tensor.
        return ops.take(self.images, ops.transpose(indices), axis=0)


class EnsembleSoftmax(keras.layers.Layer):
    """Member m computes logits = (scale_m * x / 255 + shift_m) @ W_m + b_m, with W and b
    starting at zero as in the TensorFlow tutorial."""

    def __init__(self, scale: np.ndarray, shift: np.ndarray, classes: int = 10, **kwargs):
        super().__init__(**kwargs)
        members, pixels = scale.shape
        self.kernel = self.add_weight(
            shape=(members, pixels, classes), initializer="zeros", name="kernel"
        )
        self.bias = self.add_weight(shape=(members, classes), initializer="zeros", name="bias")
        self.scale = self.add_weight(
            shape=scale.shape, trainable=False, initializer="zeros", name="scale"
        )
        self.shift = self.add_weight(
            shape=shift.shape, trainable=False, initializer="zeros", name="shift"
        )
        self.scale.assign(scale)
        self.shift.assign(shift)

    def effective_weights(self):
        """The encoding folded into the weights: logits = (x / 255) @ W' + b'. Folding costs
        work on the weights instead of on every input pixel of every batch."""
        kernel = self.kernel * ops.expand_dims(self.scale / 255.0, -1)
        bias = ops.einsum("mp,mpk->mk", self.shift, self.kernel) + self.bias
        return kernel, bias

    def call(self, images):  # (members, batch, pixels) uint8 -> (batch, members, classes)
        kernel, bias = self.effective_weights()
        logits = ops.matmul(ops.cast(images, "float32"), kernel) + ops.expand_dims(bias, 1)
        return ops.transpose(logits, (1, 0, 2))


class SoftmaxEnsemble:
    """`members` independent softmax regressions on one training set.

    Parameters
    ----------
    images, labels:
        The training set, uint8 images (n, 28, 28) and labels (n,).
    encodings, learning_rates:
        One per member; centred encodings take their mean from `images`.
    steps_per_execution:
        How many SGD steps one compiled call runs; a multiple of the block sizes used.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        encodings: list[str],
        learning_rates: list[float],
        steps_per_execution: int = 50,
    ):
        if len(encodings) != len(learning_rates):
            raise ValueError("one encoding and one learning rate per member")
        maps = {e: affine_encoding(e, images) for e in set(encodings)}  # centring uses images
        scale = np.stack([maps[e][0] for e in encodings])
        shift = np.stack([maps[e][1] for e in encodings])
        self.labels = labels.astype(np.int32)
        self.members = len(encodings)
        self.layer = EnsembleSoftmax(scale, shift)
        indices = keras.Input((self.members,), dtype="int32")
        self.model = keras.Model(indices, self.layer(MemberBatches(images)(indices)))
        rates = ops.convert_to_tensor(np.asarray(learning_rates, dtype=np.float32))

        def member_loss(y_true, logits):  # (batch, members) -> (batch,)
            cross_entropy = keras.losses.sparse_categorical_crossentropy(
                ops.cast(y_true, "int32"), logits, from_logits=True
            )
            return ops.sum(cross_entropy * rates, axis=-1)

        self.model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=1.0),
            loss=member_loss,
            steps_per_execution=steps_per_execution,
        )

    def train(self, batches: np.ndarray) -> None:
        """SGD steps from per-member index batches of shape (members, steps, batch_size)."""
        members, steps, batch_size = batches.shape
        if members != self.members:
            raise ValueError(f"batches for {members} members, ensemble has {self.members}")
        # Row s * batch_size + i holds, for every member, the i-th example of its step s.
        rows = np.ascontiguousarray(batches.transpose(1, 2, 0).reshape(steps * batch_size, members))
        self.model.fit(
            rows.astype(np.int32),
            self.labels[rows],
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        )

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Each member's own kernel (members, pixels, classes) and bias (members, classes)."""
        return (ops.convert_to_numpy(self.layer.kernel), ops.convert_to_numpy(self.layer.bias))

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Each member's accuracy on a test set, shape (members,)."""
        kernel, bias = (ops.convert_to_numpy(w) for w in self.layer.effective_weights())
        x = images.reshape(len(images), -1).astype(np.float32)
        logits = np.matmul(x[None], kernel) + bias[:, None, :]  # BLAS, one member at a time
        return np.mean(logits.argmax(axis=-1) == labels[None, :], axis=1)
