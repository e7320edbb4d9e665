"""Drawing helpers several sections share."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402


def in_percent(axis, decimals: int = 0) -> None:
    """Label an axis of proportions in per cent, as the text speaks of accuracy."""
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


def panels(count: int, width: float, height: float, **options):
    """A row of `count` axes (always a 2-D array) laid out for the figure's width."""
    return plt.subplots(
        1, count, figsize=(width, height), squeeze=False, constrained_layout=True, **options
    )
