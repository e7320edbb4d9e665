"""Benchmarks of the project's runner against plain Keras (see README.md).

Importing the package loads Keras the way the CLI does: TensorFlow's log level set by
`polarity` and its start-up banner held back, so each script prints only its figures."""

from polarity.backend import import_keras_quietly

import_keras_quietly()


def fit_on_arrays(model, x, y, batch_size: int) -> None:
    """One pass of `model.fit` on arrays in the given order, as a script writes it: the
    baseline to `polarity.backend.fit_in_order`, which takes the same arguments."""
    model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
