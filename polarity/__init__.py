"""polarity: does inverting MNIST's grey levels change how a neural network learns, and why?

Data flows one way: data -> experiments -> report/results/*.json -> figures -> templates ->
Quarto sources -> HTML site and PDF. Modules downstream of the results JSON (figures,
article, render) never import Keras.
"""

import os

# Quiet TensorFlow's C++ log, errors included: it reports a kernel falling back to another
# ("oneDNN supports DT_INT32 only...") as an error, while real failures reach Python as
# exceptions. Users who set the level themselves keep theirs. TensorFlow's oneDNN kernels
# stay on (its default on x86): they train the convnet twice as fast as the Eigen kernels
# here and, batch normalisation aside, repeat bit for bit from run to run
# (tests/test_convnet_ensemble.py says why batch normalisation does not). They round
# differently from Eigen, so which of the two ran is part of every cache key.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"


class PolarityError(Exception):
    """An error the user can fix; the CLI prints its message as one line, without traceback."""
