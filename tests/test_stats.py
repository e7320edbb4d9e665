"""Confidence intervals and paired differences."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from polarity import stats


def test_mean_ci_is_the_student_t_interval():
    values = [0.90, 0.92, 0.91, 0.93, 0.89]
    summary = stats.mean_ci(values)
    half_width = scipy_stats.t.ppf(0.975, 4) * np.std(values, ddof=1) / math.sqrt(5)
    assert summary["n"] == 5
    assert summary["mean"] == pytest.approx(0.91)
    assert summary["ci95"] == pytest.approx([0.91 - half_width, 0.91 + half_width])


def test_identical_values_give_a_zero_width_interval():
    assert stats.mean_ci([0.5, 0.5, 0.5])["ci95"] == [0.5, 0.5]
    assert stats.mean_ci([0.7])["std"] == 0.0


def test_paired_difference_uses_the_pairs():
    rng = np.random.default_rng(0)
    shared = rng.normal(0.9, 0.05, 30)  # large between-pair spread...
    a, b = shared + 0.01, shared  # ...but a constant within-pair difference
    diff = stats.paired_difference(a + rng.normal(0, 1e-4, 30), b)
    assert diff["mean"] == pytest.approx(0.01, abs=1e-4)
    assert diff["ci95"][0] > 0.0099 and diff["ci95"][1] < 0.0101
    assert diff["p_value"] < 1e-10


def test_paired_difference_needs_equal_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired_difference([1, 2], [1])


def test_prediction_interval_covers_a_new_draw_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(2000):
        sample = rng.normal(0.8, 0.02, 11)
        low, high = stats.prediction_interval(sample[:10])
        covered += low <= sample[10] <= high
    assert 0.93 < covered / 2000 < 0.97
    # It is wider than the interval for the mean, by sqrt(n + 1) for large n.
    values = rng.normal(0, 1, 10)
    assert np.ptp(stats.prediction_interval(values)) > 3 * np.ptp(stats.mean_ci(values)["ci95"])
