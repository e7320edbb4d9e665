"""Benchmarks of the project's runner against plain Keras (see README.md).

Importing the package loads Keras the way the CLI does: TensorFlow's log level set by
`polarity` and its start-up banner held back, so each script prints only its figures."""

from polarity.backend import import_keras_quietly

import_keras_quietly()
