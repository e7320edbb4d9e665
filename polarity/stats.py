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


# ## Equivalence
# "No difference" is a claim of its own: that the difference is smaller than a margin stated
# in advance. The paired two one-sided tests (TOST, Schuirmann 1987) reject both "a - b <=
# -margin" and "a - b >= margin"; at level 5 % that is the 90 % confidence interval lying
# inside (-margin, margin).


def equivalence(a, b, margin: float) -> dict:
    """Paired TOST of |mean(a - b)| < margin (statsmodels), with the 90 % interval it rests on."""
    from statsmodels.stats.weightstats import ttost_paired

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    if margin <= 0:
        raise ValueError(f"an equivalence margin must be positive, got {margin}")
    interval = mean_ci(a - b, 0.90)
    if interval["std"] > 0:
        p_value = float(ttost_paired(a, b, -margin, margin)[0])
    else:  # every pair differs by the same amount: inside the margin or not, for certain
        p_value = 0.0 if abs(interval["mean"]) < margin else 1.0
    return {
        "margin": margin,
        "ci90": interval["ci95"],  # mean_ci names its interval by its default level
        "p_value": p_value,
        "test": "paired TOST",
    }


def holm(p_values) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (statsmodels): rejecting where the
    adjusted value is below alpha holds the chance of any false rejection in the family at
    alpha."""
    from statsmodels.stats.multitest import multipletests

    if len(p_values) == 0:
        return []
    return [float(p) for p in multipletests(list(p_values), method="holm")[1]]


def tost_power(n: int, std: float, margin: float, alpha: float = 0.05) -> float:
    """Power of the paired TOST with `n` pairs when the true difference is 0 and the paired
    differences have standard deviation `std`: 2 T(margin sqrt(n) / std - t_(1-alpha)) - 1,
    the approximation behind the usual sample-size formula (Chow, Shao & Wang 2008, 3.2)."""
    if n < 2:
        return 0.0
    df = n - 1
    shift = margin * math.sqrt(n) / std - stats.t.ppf(1 - alpha, df)
    return max(0.0, float(2 * stats.t.cdf(shift, df) - 1))
