"""Summary statistics with their uncertainty, from SciPy."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values, confidence: float = 0.95) -> dict:
    """Mean, sample standard deviation and Student-t confidence interval of the mean."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    mean = float(x.mean())
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    if n > 1 and std > 0:
        low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=std / math.sqrt(n))
    else:  # a single value or identical values: no spread to build an interval from
        low = high = mean
    return {"n": n, "mean": mean, "std": std, "ci95": [float(low), float(high)]}


def paired_difference(a, b, confidence: float = 0.95) -> dict:
    """Mean of a - b over paired observations, its t interval and the paired t-test's p-value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    summary = mean_ci(a - b, confidence)
    if summary["std"] > 0:
        p_value = float(stats.ttest_rel(a, b).pvalue)
    else:
        p_value = 1.0 if summary["mean"] == 0 else 0.0
    return {**summary, "p_value": p_value, "test": "paired t-test"}


def prediction_interval(values, confidence: float = 0.95) -> list[float]:
    """Student-t interval in which one more draw from the same distribution falls with
    probability `confidence`: mean ± t · s · sqrt(1 + 1/n)."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n < 2 or x.std(ddof=1) == 0:
        return [float(x.mean())] * 2
    scale = x.std(ddof=1) * math.sqrt(1 + 1 / n)
    low, high = stats.t.interval(confidence, n - 1, loc=x.mean(), scale=scale)
    return [float(low), float(high)]
