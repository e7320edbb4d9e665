"""Confidence intervals and paired differences."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from polarity import stats
from polarity.report import inference


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


# ## Equivalence, Holm and power


@pytest.mark.parametrize("seed", range(20))
def test_tost_rejects_exactly_when_the_90_percent_interval_lies_inside_the_margin(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.99, 0.002, 6)
    b = a - rng.normal(rng.uniform(-0.002, 0.002), 0.001, 6)
    result = stats.equivalence(a, b, 0.002)
    low, high = result["ci90"]
    assert (result["p_value"] < 0.05) == (-0.002 < low and high < 0.002)


def test_tost_of_constant_differences_is_certain_either_way():
    a = np.array([0.98, 0.99, 0.97])
    assert stats.equivalence(a, a - 0.001, 0.002)["p_value"] == 0.0
    assert stats.equivalence(a, a - 0.003, 0.002)["p_value"] == 1.0


def test_tost_refuses_a_margin_that_is_not_positive():
    with pytest.raises(ValueError, match="margin"):
        stats.equivalence([0.5, 0.6], [0.5, 0.6], 0.0)


def test_holm_steps_down_as_holm_1979_defines():
    # Sorted: 0.01 * 4, then max(0.04, 0.03 * 3), then max(0.09, 0.04 * 2), then 0.5.
    assert stats.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert stats.holm([]) == []


def test_the_report_s_holm_equals_statsmodels_on_random_families_with_ties(monkeypatch):
    """The report's own Holm adjustment (no garbage collection per call) gives statsmodels'
    values: families of 1 to 40, ties, p-values of 0 and 1, and ones whose products pass 1."""
    import gc

    from statsmodels.stats.multitest import multipletests

    # The reference without its collection per call (0.2 s each in a worker holding Keras),
    # which changes no value it returns.
    monkeypatch.setattr(gc, "collect", lambda *args: 0)

    rng = np.random.default_rng(7)
    for size in (1, 2, 3, 5, 12, 40):
        for _ in range(25):
            p = rng.choice([0.0, 1.0, 0.03, *rng.uniform(0, 0.2, 5), *rng.uniform(0, 1, 5)], size)
            assert inference.holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert inference.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert inference.holm([]) == []


def test_tost_power_agrees_with_simulation():
    """The approximation against 20,000 simulated experiments with no true difference."""
    n, std, margin, alpha = 8, 0.0015, 0.002, 0.01
    rng = np.random.default_rng(1)
    d = rng.normal(0.0, std, (20_000, n))
    half = scipy_stats.t.ppf(1 - alpha, n - 1) * d.std(axis=1, ddof=1) / math.sqrt(n)
    simulated = np.mean(np.abs(d.mean(axis=1)) + half < margin)
    assert stats.tost_power(n, std, margin, alpha) == pytest.approx(simulated, abs=0.03)
    assert stats.tost_power(4, std, margin, alpha) < stats.tost_power(12, std, margin, alpha)
