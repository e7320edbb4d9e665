"""The convnet's claims: verdicts per setup, and the gap over training."""

import pytest

from polarity import formatting
from polarity.article import judge as evaluate


def test_convnet_claims_quote_the_results(all_results):
    claims = evaluate(all_results)
    setups = all_results["convnet"]["metrics"]["setups"]
    statement = claims["convnet_difference"]["statement"]
    verdicts = claims["convnet_difference"]["values"]["verdicts"]
    assert set(verdicts) == set(setups)
    for name, entry in setups.items():
        low, high = entry["difference"]["ci95"]
        alike = verdicts[name] == "inconclusive"
        assert alike == (low <= 0 <= high), name
        if not alike:  # each setup that differs is quoted with its accuracies
            normal = entry["encodings"]["normal"]["final"]["mean"]
            assert formatting.pct(normal, 2) in statement, name
    timing = all_results["speed"]["metrics"]["convnet"]["encodings"]
    ratio = claims["zeros_buy_no_speed"]["values"]["inverted_over_normal"]
    assert ratio == pytest.approx(timing["inverted"]["mean"] / timing["normal"]["mean"])


def _level(difference: dict) -> None:
    difference["ci95"] = [-abs(difference["ci95"][1]) - 0.001, abs(difference["ci95"][1]) + 0.001]


def test_convnet_gap_claim_follows_the_first_and_last_tests(all_results):
    convnet = {"convnet": all_results["convnet"]}
    setups = convnet["convnet"]["metrics"]["setups"]
    for entry in setups.values():  # no setup differs at the end
        _level(entry["difference"])
    first = next(iter(setups.values()))["updates"][0]

    # A gap at the first test that has closed by the last: slower learning, same end.
    for entry in setups.values():
        _level(entry["difference_by_update"][0])
    early = setups["valid-adam-0.001"]["difference_by_update"][0]
    early["mean"], early["ci95"] = 0.05, [0.02, 0.08]
    claim = evaluate(convnet)["convnet_gap_over_training"]
    assert claim["holds"]
    assert (
        f"after {first:,} updates, with Adam at learning rate 0.001 normal inputs lead"
        in (claim["statement"])
    )
    assert "changed how fast the network learned, not where it ended" in claim["statement"]

    # The same gap still there at the end: no catching up is claimed.
    final = setups["valid-adam-0.001"]["difference"]
    final["mean"], final["ci95"] = 0.01, [0.005, 0.015]
    claim = evaluate(convnet)["convnet_gap_over_training"]
    assert not claim["holds"]
    assert "not where it ended" not in claim["statement"]
    assert "a difference remains" in claim["statement"]

    # No gap even at the first test.
    _level(early)
    claim = evaluate(convnet)["convnet_gap_over_training"]
    assert not claim["holds"]
    assert claim["statement"].startswith(f"Already at the first test, after {first:,} updates")


@pytest.mark.parametrize(
    "ci95, verdict",
    [([0.001, 0.002], "normal inputs end ahead"), ([-0.002, -0.001], "inverted inputs end ahead")],
)
def test_convnet_verdict_follows_the_confidence_interval(all_results, ci95, verdict):
    setups = all_results["convnet"]["metrics"]["setups"]
    for entry in setups.values():
        entry["difference"]["ci95"] = [-0.001, 0.001]
    last = list(setups.values())[-1]
    last["difference"]["ci95"] = ci95
    claim = evaluate(all_results)["convnet_difference"]
    assert not claim["holds"] and verdict in claim["statement"]
    assert "no difference between the encodings can be told from chance with" in claim["statement"]
    for entry in setups.values():
        entry["difference"]["ci95"] = [-0.001, 0.001]
    assert evaluate(all_results)["convnet_difference"]["holds"]
