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
