"""Keras models shared by the experiments."""

from __future__ import annotations

import keras


def softmax_regression(
    learning_rate: float, input_dim: int = 784, classes: int = 10
) -> keras.Model:
    """The TensorFlow tutorial's model: logits = x W + b with W and b initialised to zero,
    softmax cross-entropy on the logits, plain SGD."""
    model = keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(classes, kernel_initializer="zeros", bias_initializer="zeros"),
        ],
        name="softmax_regression",
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


class ConstantPadding2D(keras.layers.Layer):
    """Pads height and width by `size` on each side with a constant value. With the value of
    the background (1 for inverted images) it does what 'same' zero padding does for normal
    images, which Keras's own padding layers cannot: they pad with zeros only."""

    def __init__(self, size: int, value: float, **kwargs):
        super().__init__(**kwargs)
        self.size, self.value = size, value

    def call(self, x):
        s = self.size
        return keras.ops.pad(x, [[0, 0], [s, s], [s, s], [0, 0]], constant_values=self.value)

    def compute_output_shape(self, shape):
        s = 2 * self.size
        return (shape[0], shape[1] + s, shape[2] + s, shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "value": self.value}


def mnist_convnet(
    padding: str = "valid",
    batch_norm: bool = False,
    dropout: float = 0.0,
    pad_value: float | None = None,
    dtype: str = "float32",
) -> keras.Model:
    """The keras-io MNIST convnet (two 3x3 convolutions with 32 and 64 filters, each followed
    by 2x2 max pooling, then a dense layer to 10 logits), uncompiled, with its variants:
    `padding` of both convolutions, batch normalisation right after the first convolution
    (which then has no bias: the normalisation removes it), dropout before the dense layer,
    and `pad_value`, which pads the first convolution's input with that constant instead of
    zeros (its own padding is then 'valid'). `dtype` is that of every weight and operation."""
    first = []
    if pad_value is not None:
        first.append(ConstantPadding2D(1, pad_value, dtype=dtype))
    first.append(
        keras.layers.Conv2D(
            32,
            3,
            padding="valid" if pad_value is not None else padding,
            use_bias=not batch_norm,
            activation=None if batch_norm else "relu",
            dtype=dtype,
        )
    )
    if batch_norm:
        first += [
            keras.layers.BatchNormalization(dtype=dtype),
            keras.layers.Activation("relu", dtype=dtype),
        ]
    return keras.Sequential(
        [
            keras.Input((28, 28, 1), dtype=dtype),
            *first,
            keras.layers.MaxPooling2D(2, dtype=dtype),
            keras.layers.Conv2D(64, 3, padding=padding, activation="relu", dtype=dtype),
            keras.layers.MaxPooling2D(2, dtype=dtype),
            keras.layers.Flatten(dtype=dtype),
            *([keras.layers.Dropout(dropout, dtype=dtype)] if dropout else []),
            keras.layers.Dense(10, dtype=dtype),
        ],
        name="mnist_convnet",
    )
