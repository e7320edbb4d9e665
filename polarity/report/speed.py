"""Is the 0 background "just to speed up the training"? The cost of one update."""

from __future__ import annotations

from polarity.report.base import Claim, Section, predicate
from polarity.report.inference import trimmed_ratio_equivalence

# The equivalence margin: a step of inverted images costs the same as a normal one when
# their ratio lies within 1 ± 10 %. It is inherited: the threshold an earlier version of the
# article's speed claim used before this test replaced it (kept, not chosen from this test's
# outcome, and not fixed on practical grounds in advance; the template says so). It is small
# beside what an encoding changes in the number of updates (a factor of about 16 in the
# stability edge of plain SGD, @sec-mechanism): a 10 % cheaper step could not make up for it.
SPEED_MARGIN = 0.10
# Outlying rounds (a cold first round, a busy machine) are handled by the analysis chosen
# up front: Yuen's trimmed mean of the paired log ratios, this fraction cut from each end.
TRIM = 0.2
ALPHA = 0.05


def zeros_buy_no_speed(results: dict) -> Claim:
    """Holds when a training step of inverted images costs the same as one of normal images
    within SPEED_MARGIN: the paired, trimmed TOST of their per-round ratio rejects both
    one-sided nulls at ALPHA. The printed interval is the (1 - 2 ALPHA) interval that
    decision rests on, so it also says how large a difference the data exclude."""
    timing = results["speed"]["metrics"]["convnet"]
    encodings = timing["encodings"]
    times = {e: r["mean"] for e, r in encodings.items()}
    normal, inverted = encodings["normal"]["values"], encodings["inverted"]["values"]
    test = trimmed_ratio_equivalence(normal, inverted, SPEED_MARGIN, TRIM, ALPHA)
    difference = timing["difference"]
    low, high = test["ratio_interval"]
    return predicate(
        "zeros_buy_no_speed",
        test["equivalent"],
        {
            "inverted_over_normal": test["ratio"],
            "ratio_interval": test["ratio_interval"],
            "confidence": test["confidence"],
            # The largest difference either way the interval leaves room for, as a fraction.
            "largest_difference": max(1 - low, high - 1),
            # The two bounds as measured, which are not symmetric: how much faster and how
            # much slower an inverted step may be, as fractions of a normal one.
            "faster_bound": 1 - low,
            "slower_bound": high - 1,
            # The one machine the times hold for, from the run's provenance.
            "machine": results["speed"]["provenance"]["device"],
            "margin": SPEED_MARGIN,
            "trim": TRIM,
            "p_value": test["p_value"],
            # Counted from the stored number of rounds, so the count keeps its provenance.
            "set_aside": difference["n"] - (test["pairs"] - len(test["set_aside"])),
            "seconds": times,
            "rounds": difference["n"],
            "updates_per_round": results["speed"]["config"]["updates_per_round"],
            # The plain paired t-test of the means, which the outlying rounds pull about.
            "difference": difference["mean"],
            "ci95": difference["ci95"],
            "t_test_p_value": difference["p_value"],
        },
    )


SECTION = Section("speed", claims=(zeros_buy_no_speed,))
