"""Many independent models trained as one compiled Keras program: softmax regressions and
the Keras MNIST convnet.

Training 200 small models one `model.fit` at a time spends almost all its time in Keras's
per-call overhead. Here each member is a slice of one model: weights with a member axis,
its own encoding, learning rate and batches. The raw uint8 images live once in the model
and each step gathers the batches inside the compiled step.

Paired designs give many members the same batches (every encoding and learning rate under
one seed). Such members share a *stream*: its batch is gathered and converted once per step,
and all its members' logits come from one matrix product with their kernels side by side,
instead of one thin product per member.

Members never share a gradient: the loss is the sum over members of each member's mean
cross-entropy times its learning rate, and the optimiser is SGD with learning rate 1, so
member m moves by exactly -lr_m * grad_m, as it would trained alone. Adam is elementwise,
so members sharing one Adam (and one learning rate) also move as they would alone
(tests/test_ensemble.py checks both against models trained one at a time).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from polarity.backend import fit_in_order, predict_in_order
from polarity.data import affine_encoding
from polarity.models import mnist_convnet


def member_encodings(encodings: list[str], images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-member (scale, shift), each (members, pixels); centred encodings take their mean
    from `images`."""
    maps = {e: affine_encoding(e, images) for e in set(encodings)}
    return np.stack([maps[e][0] for e in encodings]), np.stack([maps[e][1] for e in encodings])


class MemberBatches(keras.layers.Layer):
    """Holds the training images once, as uint8, and gathers each member's batch."""

    def __init__(self, images: np.ndarray, **kwargs):
        super().__init__(**kwargs)
        flat = images.reshape(len(images), -1)
        self.images = self.add_weight(
            shape=flat.shape, dtype="uint8", trainable=False, initializer="zeros", name="images"
        )
        self.images.assign(flat)

    def call(self, indices):  # (batch, streams) -> (streams, batch, pixels)
        # Gathering member-major avoids transposing a (batch, members, pixels) tensor.
        return ops.take(self.images, ops.transpose(indices), axis=0)


def encoding_weights(layer: keras.layers.Layer, scale: np.ndarray, shift: np.ndarray):
    """Each member's encoding (x / 255 * scale + shift), held as fixed weights of `layer`."""
    weights = []
    for name, value in (("scale", scale), ("shift", shift)):
        weight = layer.add_weight(
            shape=value.shape, trainable=False, initializer="zeros", name=name
        )
        weight.assign(value)
        weights.append(weight)
    return weights


class EnsembleSoftmax(keras.layers.Layer):
    """Member m computes logits = (scale_m * x / 255 + shift_m) @ W_m + b_m, with W and b
    starting at zero as in the TensorFlow tutorial."""

    def __init__(
        self,
        scale: np.ndarray,
        shift: np.ndarray,
        streams: np.ndarray,
        classes: int = 10,
        **kwargs,
    ):
        super().__init__(**kwargs)
        members, pixels = scale.shape
        self.classes = classes
        # Members sorted by stream, and the way back; `per_stream` members in each.
        self.by_stream = np.argsort(streams, kind="stable").astype(np.int32)
        self.back = np.argsort(self.by_stream).astype(np.int32)
        self.per_stream = members // (int(streams.max()) + 1)
        self.kernel = self.add_weight(
            shape=(members, pixels, classes), initializer="zeros", name="kernel"
        )
        self.bias = self.add_weight(shape=(members, classes), initializer="zeros", name="bias")
        self.scale, self.shift = encoding_weights(self, scale, shift)

    def effective_weights(self):
        """The encoding folded into the weights: logits = (x / 255) @ W' + b'. Folding costs
        work on the weights instead of on every input pixel of every batch."""
        kernel = self.kernel * ops.expand_dims(self.scale / 255.0, -1)
        bias = ops.einsum("mp,mpk->mk", self.shift, self.kernel) + self.bias
        return kernel, bias

    def call(self, images):  # (streams, batch, pixels) uint8 -> (batch, members, classes)
        kernel, bias = self.effective_weights()
        streams, pixels = images.shape[0], images.shape[-1]
        k, c = self.per_stream, self.classes
        # Stream s multiplies its batch by its k members' kernels laid side by side.
        kernel = ops.reshape(ops.take(kernel, self.by_stream, axis=0), (streams, k, pixels, c))
        kernel = ops.reshape(ops.transpose(kernel, (0, 2, 1, 3)), (streams, pixels, k * c))
        bias = ops.reshape(ops.take(bias, self.by_stream, axis=0), (streams, 1, k * c))
        logits = ops.matmul(ops.cast(images, "float32"), kernel) + bias  # (streams, batch, k*c)
        logits = ops.reshape(ops.transpose(logits, (1, 0, 2)), (-1, streams * k, c))
        return ops.take(logits, self.back, axis=1)


class Ensemble:
    """What every ensemble shares: the training images held once as uint8, batches that
    members draw from streams, one loss summing the members' losses, and `train`.

    Subclasses build `self.layers`, a callable from (streams, batch, pixels) uint8 images to
    (batch, members, classes) logits, then call `_compile`."""

    def _check_streams(self, streams: list[int] | None, members: int) -> np.ndarray:
        streams = np.arange(members) if streams is None else np.asarray(streams)
        if len(streams) != members:
            raise ValueError("one stream per member")
        sizes = np.bincount(streams)
        if sizes.min() != sizes.max():
            raise ValueError(f"every stream needs the same number of members, got {sizes}")
        return streams

    def _compile(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        streams: np.ndarray,
        optimizer: keras.optimizers.Optimizer,
        loss_weights: list[float],
        steps_per_execution: int,
    ) -> None:
        self.labels = labels.astype(np.int32)
        self.members, self.streams = len(streams), streams
        indices = keras.Input((int(streams.max()) + 1,), dtype="int32")
        self.model = keras.Model(indices, self.layers(MemberBatches(images)(indices)))
        weights = ops.convert_to_tensor(np.asarray(loss_weights, dtype=keras.config.floatx()))

        def member_loss(y_true, logits):  # (batch, members) -> (batch,)
            cross_entropy = keras.losses.sparse_categorical_crossentropy(
                ops.cast(y_true, "int32"), logits, from_logits=True
            )
            return ops.sum(cross_entropy * weights, axis=-1)

        self.model.compile(
            optimizer=optimizer, loss=member_loss, steps_per_execution=steps_per_execution
        )

    def train(self, batches: np.ndarray) -> None:
        """Training steps from per-stream index batches of shape (streams, steps, batch_size)."""
        streams, steps, batch_size = batches.shape
        expected = int(self.streams.max()) + 1
        if streams != expected:
            raise ValueError(f"batches for {streams} streams, the ensemble has {expected}")
        # Row s * batch_size + i holds, for every stream, the i-th example of its step s.
        rows = np.ascontiguousarray(batches.transpose(1, 2, 0).reshape(steps * batch_size, streams))
        labels = self.labels[rows][:, self.streams]  # each member's labels, from its stream
        fit_in_order(self.model, rows.astype(np.int32), labels, batch_size)


class SoftmaxEnsemble(Ensemble):
    """`members` independent softmax regressions on one training set.

    Parameters
    ----------
    images, labels:
        The training set, uint8 images (n, 28, 28) and labels (n,).
    encodings, learning_rates:
        One per member; centred encodings take their mean from `images`.
    streams:
        Member m trains on the batches of stream `streams[m]`; by default each member has
        its own. Every stream must feed the same number of members.
    steps_per_execution:
        How many SGD steps one compiled call runs; a multiple of the block sizes used.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        encodings: list[str],
        learning_rates: list[float],
        streams: list[int] | None = None,
        steps_per_execution: int = 50,
    ):
        if len(encodings) != len(learning_rates):
            raise ValueError("one encoding and one learning rate per member")
        streams = self._check_streams(streams, len(encodings))
        scale, shift = member_encodings(encodings, images)
        self.layer = self.layers = EnsembleSoftmax(scale, shift, streams)
        sgd = keras.optimizers.SGD(learning_rate=1.0)  # the rates weight the members' losses
        self._compile(images, labels, streams, sgd, learning_rates, steps_per_execution)

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Each member's own kernel (members, pixels, classes) and bias (members, classes)."""
        return (ops.convert_to_numpy(self.layer.kernel), ops.convert_to_numpy(self.layer.bias))

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Each member's accuracy on a test set, shape (members,)."""
        kernel, bias = (ops.convert_to_numpy(w) for w in self.layer.effective_weights())
        x = images.reshape(len(images), -1).astype(np.float32)
        logits = np.matmul(x[None], kernel) + bias[:, None, :]  # BLAS, one member at a time
        return np.mean(logits.argmax(axis=-1) == labels[None, :], axis=1)


# ## The convnet
# Members live side by side in the channel axis: member m's image is input channel m, and
# each later layer maps member m's block of channels to member m's block. Pooling, batch
# normalisation and dropout act on each channel alone, so Keras's own layers serve every
# member at once; only the layers with weights need a member axis.


class MemberImages(keras.layers.Layer):
    """(streams, batch, pixels) uint8 -> (batch, side, side, members): each member's batch
    from its stream, under its own encoding, as channel m."""

    def __init__(self, scale: np.ndarray, shift: np.ndarray, streams: np.ndarray, **kwargs):
        super().__init__(**kwargs)
        self.member_streams = streams.astype(np.int32)
        self.side = int(round(scale.shape[1] ** 0.5))
        self.scale, self.shift = encoding_weights(self, scale, shift)

    def call(self, images):
        x = ops.cast(ops.take(images, self.member_streams, axis=0), self.compute_dtype) / 255.0
        x = x * ops.expand_dims(self.scale, 1) + ops.expand_dims(self.shift, 1)  # as data.encode
        x = ops.transpose(x, (1, 2, 0))  # (batch, pixels, members)
        return ops.reshape(x, (-1, self.side, self.side, len(self.member_streams)))


class MemberConv2D(keras.layers.Layer):
    """Each member's own convolution, from its block of `in_channels` input channels to its
    block of `filters` output channels, then, with `pool`, 2x2 max pooling.

    Pooling comes before the bias and the activation: a max commutes with adding a
    per-channel constant and with any rising function such as ReLU, so the values are those
    of convolution, bias, ReLU, pooling, but the bias and ReLU touch a quarter of the pixels.
    At 26x26x32 per member that is most of the layer's memory traffic."""

    def __init__(
        self, members, in_channels, filters, padding, use_bias, activation, pool, **kwargs
    ):
        super().__init__(**kwargs)
        self.members, self.in_channels, self.padding = members, in_channels, padding
        self.kernel = self.add_weight(
            shape=(members, 3, 3, in_channels, filters), initializer="zeros", name="kernel"
        )
        self.bias = (
            self.add_weight(shape=(members, filters), initializer="zeros", name="bias")
            if use_bias
            else None
        )
        self.activation = keras.activations.get(activation)
        self.pool = pool

    def call(self, x):
        if self.in_channels == 1:  # one channel per member: a depthwise convolution does all
            kernel = ops.transpose(self.kernel[:, :, :, 0, :], (1, 2, 0, 3))
            y = ops.depthwise_conv(x, kernel, padding=self.padding)
        else:  # one convolution per member, all in the same compiled step
            blocks = ops.split(x, self.members, axis=-1)
            y = ops.concatenate(
                [ops.conv(b, self.kernel[m], padding=self.padding) for m, b in enumerate(blocks)],
                axis=-1,
            )
        if self.pool:
            y = ops.max_pool(y, 2)
        if self.bias is not None:
            y = y + ops.reshape(self.bias, (-1,))
        return self.activation(y)


class MemberDense(keras.layers.Layer):
    """Each member's dense layer on its flattened block: (batch, h, w, members * c) ->
    (batch, members, units)."""

    def __init__(self, members, spatial, channels, units=10, **kwargs):
        super().__init__(**kwargs)
        self.members, self.spatial, self.channels = members, spatial, channels
        self.kernel = self.add_weight(
            shape=(members, spatial, spatial, channels, units), initializer="zeros", name="kernel"
        )
        self.bias = self.add_weight(shape=(members, units), initializer="zeros", name="bias")

    def call(self, x):
        s, m, c = self.spatial, self.members, self.channels
        x = ops.reshape(x, (-1, s, s, m, c))
        return ops.einsum("bhwmc,mhwck->bmk", x, self.kernel) + self.bias


class RepeatForStreams(keras.layers.Layer):
    """A test batch (batch, pixels) shown to every stream: (streams, batch, pixels)."""

    def __init__(self, streams: int, **kwargs):
        super().__init__(**kwargs)
        self.streams = streams

    def call(self, x):
        return ops.repeat(ops.expand_dims(x, 0), self.streams, axis=0)


class ConvnetEnsemble(Ensemble):
    """`members` independent copies of the Keras MNIST convnet (`polarity.models.mnist_convnet`)
    on one training set. Member m starts from the weights that `mnist_convnet` draws under
    `seeds[m]`, so it is the model a script would train alone with that seed.

    Parameters
    ----------
    images, labels, encodings, streams, steps_per_execution:
        As for `SoftmaxEnsemble`.
    seeds:
        One per member: its initial weights.
    optimizer, learning_rates:
        "sgd", with one learning rate per member, or "adam", whose members share one rate.
    padding, batch_norm, dropout:
        The variant of the convnet, shared by all members (see `mnist_convnet`). Dropout
        draws its own masks here, seeded by `seeds`: members match single models in
        distribution, not mask for mask, and the same seeds give the same masks.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        encodings: list[str],
        seeds: list[int],
        learning_rates: list[float],
        optimizer: str = "sgd",
        streams: list[int] | None = None,
        padding: str = "valid",
        batch_norm: bool = False,
        dropout: float = 0.0,
        steps_per_execution: int = 100,
    ):
        if not len(encodings) == len(seeds) == len(learning_rates):
            raise ValueError("one encoding, one seed and one learning rate per member")
        if optimizer == "adam" and len(set(learning_rates)) > 1:
            raise ValueError("Adam members share one learning rate; use one ensemble per rate")
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"unknown optimizer {optimizer!r}; known: sgd, adam")
        streams = self._check_streams(streams, len(encodings))
        m = len(encodings)
        self.variant = {"padding": padding, "batch_norm": batch_norm, "dropout": dropout}
        spatial = 7 if padding == "same" else 5
        # Batch normalisation needs the first convolution's every pixel, so pooling waits.
        first = MemberConv2D(
            m, 1, 32, padding, not batch_norm, None if batch_norm else "relu", pool=not batch_norm
        )
        self.weighted = [
            first,
            *([keras.layers.BatchNormalization()] if batch_norm else []),
            MemberConv2D(m, 32, 64, padding, True, "relu", pool=True),
            MemberDense(m, spatial, 64),
        ]
        stack = [
            MemberImages(*member_encodings(encodings, images), streams),
            first,
            *(
                [self.weighted[1], keras.layers.Activation("relu"), keras.layers.MaxPooling2D(2)]
                if batch_norm
                else []
            ),
            self.weighted[-2],
            # Seeded from the members' seeds: an unseeded Dropout draws its seed from
            # Python's global generator, and the masks would differ from run to run.
            *([keras.layers.Dropout(dropout, seed=seeds[0])] if dropout else []),
            self.weighted[-1],
        ]
        self.layers = keras.Sequential(stack)
        if optimizer == "adam":
            chosen, loss_weights = keras.optimizers.Adam(learning_rates[0]), [1.0] * m
        else:
            chosen, loss_weights = keras.optimizers.SGD(1.0), learning_rates
        self._compile(images, labels, streams, chosen, loss_weights, steps_per_execution)
        for member, seed in enumerate(seeds):
            keras.utils.set_random_seed(seed)
            single = mnist_convnet(padding, batch_norm, dropout, dtype=keras.config.floatx())
            self.set_member(member, single.get_weights())
        test_images = keras.Input((images[0].size,), dtype="uint8")
        repeated = RepeatForStreams(int(streams.max()) + 1)(test_images)
        self.evaluator = keras.Model(test_images, self.layers(repeated))

    def _variables(self):
        return [v for layer in self.weighted for v in layer.weights]

    def set_member(self, member: int, weights: list[np.ndarray]) -> None:
        """Load one member from the weights of a single `mnist_convnet` (its `get_weights()`)."""
        for variable, weight in zip(self._variables(), weights, strict=True):
            value = ops.convert_to_numpy(variable)
            value.reshape(self.members, -1)[member] = weight.reshape(-1)
            variable.assign(value)

    def member(self, member: int, like: keras.Model) -> list[np.ndarray]:
        """One member's weights in the layout of the single model `like`."""
        return [
            ops.convert_to_numpy(v).reshape(self.members, -1)[member].reshape(w.shape)
            for v, w in zip(self._variables(), like.get_weights(), strict=True)
        ]

    def accuracy(self, images: np.ndarray, labels: np.ndarray, batch_size=1000) -> np.ndarray:
        """Each member's accuracy on a test set (inference mode), shape (members,)."""
        flat = images.reshape(len(images), -1)
        logits = predict_in_order(self.evaluator, flat, batch_size)
        return np.mean(logits.argmax(axis=-1) == labels[:, None], axis=0)
