"""Is the 0 background "just to speed up the training"? The cost of one update."""

from __future__ import annotations

from polarity.report.base import Claim, Section, predicate


def zeros_buy_no_speed(results: dict) -> Claim:
    timing = results["speed"]["metrics"]["convnet"]
    times = {e: r["mean"] for e, r in timing["encodings"].items()}
    ratio = times["inverted"] / times["normal"]
    difference = timing["difference"]
    return predicate(
        "zeros_buy_no_speed",
        abs(ratio - 1) < 0.1,
        {
            "inverted_over_normal": ratio,
            "seconds": times,
            "difference": difference["mean"],
            "ci95": difference["ci95"],
            "p_value": difference["p_value"],
            "rounds": difference["n"],
        },
    )


SECTION = Section("speed", claims=(zeros_buy_no_speed,))
