"""Drawing helpers several sections share."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402


def panels(count: int, width: float, height: float, **options):
    """A row of `count` axes (always a 2-D array) laid out for the figure's width."""
    return plt.subplots(
        1, count, figsize=(width, height), squeeze=False, constrained_layout=True, **options
    )
