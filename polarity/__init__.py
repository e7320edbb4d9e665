"""polarity: does inverting MNIST's grey levels change how a neural network learns, and why?

Data flows one way: data -> experiments -> report/results/*.json -> figures -> templates ->
Quarto sources -> HTML site and PDF. Modules downstream of the results JSON (figures,
article, render) never import Keras.
"""

import os

# Quiet TensorFlow's start-up chatter and keep CPU kernels deterministic (oneDNN's custom
# ops reorder float sums from run to run). Users who set these themselves keep theirs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"


class PolarityError(Exception):
    """An error the user can fix; the CLI prints its message as one line, without traceback."""
