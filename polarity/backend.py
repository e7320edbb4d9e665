"""What the project needs to know about the backend: which CPU kernels TensorFlow will run,
how to import Keras without TensorFlow's banner, and how to feed arrays to `fit` and
`predict` without tf.data's autotuner. Nothing here imports Keras until called, so the
cache and the CLI can use this module before Keras loads.

TensorFlow announces its oneDNN kernels on file descriptor 2 while it loads, before its
logging reads TF_CPP_MIN_LOG_LEVEL, so no setting hides it. The CLI's errors are one line
on stderr; the banner would make them five."""

from __future__ import annotations

import os
import sys
import tempfile


def tensorflow_kernels() -> str:
    """Which CPU kernels TensorFlow runs: oneDNN unless TF_ENABLE_ONEDNN_OPTS turns it off."""
    off = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false", "off")
    return "Eigen" if off else "oneDNN"


def import_keras_quietly() -> None:
    """Import Keras with whatever its backend writes to stderr while loading held back, and
    shown after all if the import fails."""
    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.buffer.write(held.read())
            sys.stderr.flush()
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# ## Feeding arrays to Keras
# On TensorFlow, `fit` and `predict` wrap arrays in a tf.data pipeline whose autotuner wakes
# on a period that doubles from 10 ms. Tearing the pipeline down at the end of the call
# often waits for the autotuner's next wake-up, so the call returns at 10 ms times a power
# of two: on these 2-core machines a `fit` that trained for 2.8 s returned after 5.12 s, and
# one of 300 convnet updates after 40.96 s, the CPUs idle meanwhile. Batches in a fixed
# order have nothing to tune, so here they go through a dataset with autotuning off. Other
# backends take the arrays as they are.


def _untuned_batches(arrays, batch_size: int):
    """`arrays` in order, in batches, as a tf.data dataset without autotuning; None when the
    backend is not TensorFlow."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size)
    return dataset.with_options(options)


def fit_in_order(model, x, y, batch_size: int) -> None:
    """One pass of `model.fit` over (x, y) in the given order, `batch_size` rows a step."""
    dataset = _untuned_batches((x, y), batch_size)
    if dataset is None:
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    else:
        model.fit(dataset, epochs=1, shuffle=False, verbose=0)


def predict_in_order(model, x, batch_size: int):
    """`model.predict(x)`, `batch_size` rows a step."""
    dataset = _untuned_batches(x, batch_size)
    if dataset is None:
        return model.predict(x, batch_size=batch_size, verbose=0)
    return model.predict(dataset, verbose=0)
