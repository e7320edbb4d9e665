"""The largest eigenvalue of the Hessian of a Keras model's training loss, by Lanczos
iteration (SciPy's `eigsh`) on Hessian-vector products.

Keras 3 has no backend-neutral automatic differentiation, so the Hessian-vector product is
the one place with a branch per backend: double backpropagation on TensorFlow and PyTorch,
forward-over-reverse on JAX. Everything else goes through `keras.ops` and the model's own
`stateless_call`, so the loss is exactly the one `fit` minimises (with batch normalisation
in training mode, as SGD sees it)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from scipy.sparse.linalg import LinearOperator, eigsh


def _loss_function(model: keras.Model, x, y):
    """loss(trainable values) on the fixed batch (x, y): mean softmax cross-entropy."""
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(trainable):
        logits, _ = model.stateless_call(trainable, non_trainable, x, training=True)
        return ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))

    return loss


def _flat(tensors) -> np.ndarray:
    return np.concatenate(
        [np.asarray(ops.convert_to_numpy(t), np.float64).ravel() for t in tensors]
    )


def _split(vector: np.ndarray, like: list) -> list:
    parts, start = [], 0
    for v in like:
        size = int(np.prod(v.shape))
        part = vector[start : start + size].reshape(v.shape)
        parts.append(ops.convert_to_tensor(part, dtype=v.dtype))
        start += size
    return parts


def _hvp_function(model: keras.Model, x, y):
    """A function from a flat vector v to the flat product H v at the model's weights."""
    loss = _loss_function(model, x, y)
    weights = [v.value for v in model.trainable_variables]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def product(vectors):
            with tf.GradientTape() as outer:
                outer.watch(weights)
                with tf.GradientTape() as inner:
                    inner.watch(weights)
                    value = loss(weights)
                gradients = inner.gradient(value, weights)
                dot = tf.add_n(
                    [tf.reduce_sum(g * v) for g, v in zip(gradients, vectors, strict=True)]
                )
            return outer.gradient(dot, weights)

    elif backend == "jax":
        import jax

        def product(vectors):
            return jax.jvp(jax.grad(loss), (weights,), (vectors,))[1]

    elif backend == "torch":
        import torch

        def product(vectors):
            params = [w.detach().requires_grad_(True) for w in weights]
            gradients = torch.autograd.grad(loss(params), params, create_graph=True)
            dot = sum((g * v).sum() for g, v in zip(gradients, vectors, strict=True))
            return torch.autograd.grad(dot, params)

    else:
        raise NotImplementedError(f"no Hessian-vector product for the {backend} backend")
    return lambda vector: _flat(product(_split(vector, weights)))


def largest_eigenvalue(model: keras.Model, x: np.ndarray, y: np.ndarray, tol: float = 1e-3) -> dict:
    """The largest (algebraic) eigenvalue of the Hessian of the model's mean cross-entropy on
    (x, y) at its current weights, with the number of Hessian-vector products it took."""
    product = _hvp_function(model, ops.convert_to_tensor(x), ops.convert_to_tensor(y))
    size = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    calls = 0

    def matvec(vector):
        nonlocal calls
        calls += 1
        return product(np.asarray(vector, np.float64).ravel())

    operator = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    # A fixed start vector makes the iteration, and so the result, repeatable.
    start = np.random.default_rng(0).standard_normal(size)
    value = eigsh(operator, k=1, which="LA", tol=tol, v0=start, return_eigenvectors=False)
    # Two digits past the tolerance: batch normalisation's float32 kernels sum in an order
    # that varies from run to run, which moves lambda in its eighth digit; the result is
    # reported to the precision the iteration earns, so the same seed gives the same number.
    digits = int(np.ceil(-np.log10(tol))) + 2
    return {
        "lambda_max": float(f"{value[0]:.{digits}g}"),
        "hessian_vector_products": calls,
        "parameters": size,
    }
