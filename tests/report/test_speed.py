"""Is the 0 background a speed-up? The speed claim: equivalence within a stated margin,
tested on the paired rounds with a trimmed mean so that outlying rounds do not decide it."""

import pytest

from polarity.article import judge as evaluate
from polarity.report.inference import trimmed_ratio_equivalence
from polarity.report.speed import SPEED_MARGIN
from tests.report.conftest import built_article


def _encodings(all_results):
    return all_results["speed"]["metrics"]["convnet"]["encodings"]


def test_speed_claim_holds_on_the_record_within_its_margin(all_results):
    claim = evaluate(all_results)["zeros_buy_no_speed"]
    v = claim["values"]
    assert claim["holds"]
    low, high = v["ratio_interval"]
    # The printed interval is the one the decision rests on: inside the margin both ways.
    assert 1 - SPEED_MARGIN < low < high < 1 / (1 - SPEED_MARGIN)
    assert "equivalent within the margin" in claim["statement"]
    assert f"±{round(100 * SPEED_MARGIN)}" in claim["statement"].replace("\u00a0", " ")


def test_speed_claim_fails_when_inverted_steps_cost_twice_as_much(all_results):
    inverted = _encodings(all_results)["inverted"]
    inverted["values"] = [2 * t for t in inverted["values"]]
    inverted["mean"] *= 2
    claim = evaluate(all_results)["zeros_buy_no_speed"]
    assert not claim["holds"]
    assert claim["statement"].startswith("Per training update, the encodings are not shown")


def test_speed_claim_fails_when_a_seven_percent_slowdown_is_too_noisy_to_bound(all_results):
    """A small mean difference with a spread that leaves 10 % in the interval is not
    equivalence: the test must not call noisy timings the same."""
    encodings = _encodings(all_results)
    normal = encodings["normal"]["values"]
    noise = [0.25, -0.2, 0.15, -0.1, 0.3, -0.25, 0.2, -0.15, 0.1, -0.3, 0.05, -0.05]
    encodings["inverted"]["values"] = [t * (1.07 + e) for t, e in zip(normal, noise, strict=True)]
    assert not evaluate(all_results)["zeros_buy_no_speed"]["holds"]


def _speed_said(results, tmp_path) -> str:
    """The built article's lines on speed per step: the answer box's and the section's lead."""
    text = built_article({"speed": results["speed"]}, tmp_path)
    return " ".join(line for line in text.splitlines() if "speed" in line or "arithmetic" in line)


@pytest.mark.parametrize("case", ["twice as slow", "too noisy"])
def test_the_answer_says_steps_differ_only_where_the_timings_show_it(all_results, tmp_path, case):
    """Not shown to cost the same is not shown to differ: the answer box and the section's
    lead say the steps differ only where the ratio's interval leaves 1 out."""
    encodings = _encodings(all_results)
    if case == "twice as slow":
        encodings["inverted"]["values"] = [2 * t for t in encodings["inverted"]["values"]]
    else:
        normal = encodings["normal"]["values"]
        noise = [0.25, -0.2, 0.15, -0.1, 0.3, -0.25, 0.2, -0.15, 0.1, -0.3, 0.05, -0.05]
        encodings["inverted"]["values"] = [t * (1 + e) for t, e in zip(normal, noise, strict=True)]
    low, high = evaluate(all_results)["zeros_buy_no_speed"]["values"]["ratio_interval"]
    said = _speed_said(all_results, tmp_path)
    if case == "twice as slow":
        assert low > 1
        assert "Per step, yes: inverted steps cost more" in said
        assert "training steps differ in cost" in said
    else:
        assert low < 1 < high
        assert "Per step, these timings cannot tell" in said
        assert "differ in cost" not in said.replace("neither to differ in cost", "")


def test_two_outlying_rounds_do_not_decide_the_equivalence():
    """Ten rounds within 1 % and two rounds one encoding ran 40 % slower: the trimmed test
    sets those two aside and finds the steps equivalent; the rounds it set aside are named."""
    normal = [0.0135] * 12
    inverted = [0.0135 * (1 + 0.002 * ((-1) ** k)) for k in range(12)]
    inverted[0] *= 1.4
    inverted[10] *= 1.4
    test = trimmed_ratio_equivalence(normal, inverted, 0.10)
    assert test["equivalent"]
    assert {0, 10} <= set(test["set_aside"])


@pytest.mark.parametrize(
    ("normal", "inverted", "margin", "message"),
    [
        ([0.01] * 5, [0.01] * 4, 0.1, "equal lengths"),
        ([0.01], [0.01], 0.1, "at least 2"),
        ([0.01] * 5, [0.01] * 5, 1.5, "between 0 and 1"),
        ([0.01] * 4 + [0.0], [0.01] * 5, 0.1, "positive"),
    ],
)
def test_bad_timings_get_a_clear_error(normal, inverted, margin, message):
    with pytest.raises(ValueError, match=message):
        trimmed_ratio_equivalence(normal, inverted, margin)


def test_two_rounds_give_a_wide_undecided_interval_not_an_error():
    """The smoke profile times two rounds: one degree of freedom, so the interval is wide and
    the equivalence undecided, but the report still builds."""
    test = trimmed_ratio_equivalence([0.0140, 0.0142], [0.0120, 0.0150], 0.10)
    low, high = test["ratio_interval"]
    assert not test["equivalent"] and low < 0.9 and high > 1.1
