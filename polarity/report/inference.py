"""Statistics the report decides claims with, beyond `polarity.stats` (which the experiments
share, so that any change to it would make every result of record stale): a robust paired
equivalence test for timings, Holm-corrected families of paired tests, and the confidence
interval that matches a Holm-adjusted decision. SciPy and statsmodels do the arithmetic,
but for Holm's adjustment (below)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats
from statsmodels.stats.robust_compare import TrimmedMean


def carried(value, source) -> float:
    """`value`, a statistic a library computed from the results number `source`, written as
    arithmetic on `source`: the same float, but one that keeps the provenance of the numbers
    it came from wherever provenance is followed through arithmetic (tests/test_numbers.py
    traces every printed number to its results file this way; NumPy drops the trace)."""
    return 0 * source + float(value)


def holm(p_values) -> list[float]:
    """Holm's (1979) step-down adjusted p-values: the k-th smallest of m times (m - k + 1),
    made non-decreasing in that order, at most 1. Written out because statsmodels'
    `multipletests(method="holm")`, which gives the same values (tests/test_stats.py), runs a
    full garbage collection on every call: 65 ms or more in a process that holds Keras, and
    a judgement of every claim makes ten of them."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1)))
    return adjusted.tolist()


def _paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples need equal lengths, got {a.shape} and {b.shape}")
    # Two pairs give a variance with one degree of freedom: a valid, very wide interval (the
    # smoke profile's two seeds or rounds), so its verdicts come out undecided, not an error.
    if len(a) < 2:
        raise ValueError(f"a paired test needs at least 2 pairs, got {len(a)}")
    return a, b


def trimmed_ratio_equivalence(
    reference, other, margin: float, trim: float = 0.2, alpha: float = 0.05
) -> dict:
    """Is other / reference within 1 ± `margin`, paired, robust to outlying pairs?

    The test works on the paired log ratios log(other / reference): Yuen's trimmed-mean t
    test (statsmodels' `TrimmedMean`, `trim` of the pairs cut from each end) run as two
    one-sided tests against log(1 - margin) and -log(1 - margin), the ratio's margin made
    symmetric on the log scale. Equivalent when both reject at `alpha`; the (1 - 2 alpha)
    interval of the ratio is the one that decision matches."""
    if not 0 < margin < 1:
        raise ValueError(f"a ratio margin must lie between 0 and 1, got {margin}")
    reference_values = list(reference)
    reference, other = _paired(reference, other)
    if np.any(reference <= 0) or np.any(other <= 0):
        raise ValueError("ratios need positive measurements")
    logs = np.log(other / reference)
    trimmed = TrimmedMean(logs, trim)
    bound = -math.log(1 - margin)
    _, p_lower, _ = trimmed.ttest_mean(-bound, alternative="larger")
    _, p_upper, _ = trimmed.ttest_mean(bound, alternative="smaller")
    df = trimmed.nobs_reduced - 1
    half = scipy_stats.t.ppf(1 - alpha, df) * trimmed.std_mean_trimmed
    centre = trimmed.mean_trimmed
    p_value = float(max(p_lower, p_upper))
    # The pairs the trimming set aside: the outliers this analysis is robust to.
    order = np.argsort(logs, kind="stable")
    cut = (len(logs) - trimmed.nobs_reduced) // 2
    set_aside = sorted(int(i) for i in [*order[:cut], *order[len(logs) - cut :]])
    source = reference_values[0]
    return {
        "margin": margin,
        "trim": trim,
        "ratio": carried(math.exp(centre), source),
        "ratio_interval": [
            carried(math.exp(centre - half), source),
            carried(math.exp(centre + half), source),
        ],
        "confidence": 1 - 2 * alpha,
        "p_value": carried(p_value, source),
        "equivalent": p_value < alpha,
        "pairs": len(logs),
        "set_aside": set_aside,
        "test": "paired TOST on log ratios, Yuen's trimmed mean",
    }


def paired_family(pairs: list[tuple], alpha: float = 0.05) -> list[dict]:
    """Paired t-tests of a - b for each (a, b) in `pairs`, Holm-corrected as one family:
    per test its mean difference, 95 % interval, raw and Holm-adjusted p-values, and the
    verdict the adjusted p-value gives (`a_ahead`, `b_ahead` or `inconclusive`)."""
    if not pairs:
        return []
    rows = []
    for a, b in pairs:
        source = list(a)[0]
        a, b = _paired(a, b)
        d = a - b
        mean = float(d.mean())
        sd = float(d.std(ddof=1))
        if sd > 0:
            result = scipy_stats.ttest_rel(a, b)
            p_value = float(result.pvalue)
            low, high = (float(x) for x in result.confidence_interval(0.95))
        else:  # identical differences: nothing to test, the sign is certain unless zero
            p_value = 1.0 if mean == 0 else 0.0
            low = high = mean
        rows.append(
            {
                "difference": carried(mean, source),
                "ci95": [carried(low, source), carried(high, source)],
                "p_value": carried(p_value, source),
                "n": len(d),
                "source": source,
            }
        )
    adjusted = holm([r["p_value"] for r in rows])
    for row, p in zip(rows, adjusted, strict=True):
        row["p_holm"] = carried(p, row.pop("source"))
        significant = p < alpha
        row["verdict"] = (
            ("a_ahead" if row["difference"] > 0 else "b_ahead") if significant else "inconclusive"
        )
    return rows


def holm_level(p_values, index: int, alpha: float = 0.05) -> float:
    """The level at which Holm's step-down procedure tests hypothesis `index` of the family:
    alpha / (m - rank), rank its place among the p-values sorted ascending (0 first)."""
    p = np.asarray(p_values, dtype=np.float64)
    if not 0 <= index < len(p):
        raise ValueError(f"no hypothesis {index} in a family of {len(p)}")
    rank = int(np.argsort(p, kind="stable").tolist().index(index))
    return alpha / (len(p) - rank)


def equivalence_interval(differences, level: float) -> list[float]:
    """The (1 - 2 level) t interval of the mean paired difference: the interval whose lying
    inside ± margin is a TOST at `level` rejecting."""
    source = list(differences)[0]
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2:
        raise ValueError(f"an interval needs at least 2 differences, got {len(d)}")
    mean, sem = float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))
    half = float(scipy_stats.t.ppf(1 - level, len(d) - 1) * sem)
    return [carried(mean - half, source), carried(mean + half, source)]
