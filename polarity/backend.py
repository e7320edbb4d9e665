"""What the project needs to know about the backend before or without loading it: which
CPU kernels TensorFlow will run, and how to import Keras without TensorFlow's banner.

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
