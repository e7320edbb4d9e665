"""The accepted answer's replication: its claims follow its numbers."""

import copy
import json

from polarity.article import build
from polarity.article import judge as evaluate


def test_results_of_record_support_the_headline_claims(results):
    claims = evaluate(results)
    # The answer's numbers lie where one run of its protocol lands (over batch orders).
    assert claims["replication_reproduces_answer"]["holds"]
    assert claims["answer_protocol_gap"]["holds"]
    assert claims["trials_difference"]["holds"]
    assert claims["never_inked_weights_stay_put"]["holds"]


def test_claim_values_are_the_results_values(results):
    claims = evaluate(results)
    trials = results["replication"]["metrics"]["independent_trials"]
    assert claims["trials_difference"]["values"]["ci95"] == trials["difference"]["ci95"]
    replication = claims["replication_reproduces_answer"]["values"]
    orders = results["replication"]["metrics"]["answer_protocol_orders"]
    assert replication["ours"]["inverted"] == orders["inverted"]["mean"]
    assert replication["pi95"]["inverted"] == orders["inverted"]["pi95"]


def _flip_trials(results):
    """Make inverted inputs win every trial: the data now contradict the conclusion."""
    flipped = copy.deepcopy(results)
    trials = flipped["replication"]["metrics"]["independent_trials"]
    trials["normal"], trials["inverted"] = trials["inverted"], trials["normal"]
    d = trials["difference"]
    d["mean"], d["ci95"] = -d["mean"], [-d["ci95"][1], -d["ci95"][0]]
    return flipped


def test_a_flipped_result_cannot_render_the_original_conclusion(results, tmp_path):
    original = evaluate(results)["trials_difference"]
    assert "lowers test accuracy" in original["statement"]

    flipped_results = _flip_trials(results)
    flipped = evaluate(flipped_results)["trials_difference"]
    assert not flipped["holds"]
    assert "raises test accuracy" in flipped["statement"]

    # And through the whole build: the article no longer says inversion lowers accuracy.
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "replication.json").write_text(json.dumps(flipped_results["replication"]))
    built = build(results_dir, tmp_path / "report")
    article = built.article.read_text()
    assert "inverting the grey levels raises test accuracy" in article
    assert "inverting the grey levels lowers test accuracy" not in article


def test_an_inconclusive_difference_says_so(results):
    trials = results["replication"]["metrics"]["independent_trials"]
    trials["difference"]["ci95"] = [-0.01, 0.02]
    claim = evaluate(results)["trials_difference"]
    assert not claim["holds"]
    statement = claim["statement"].lower()
    assert "across independent trials the encodings cannot be told apart" in statement


def test_answer_inside_the_prediction_intervals_says_it_reproduces(results):
    orders = results["replication"]["metrics"]["answer_protocol_orders"]
    reported = results["replication"]["reference"]["answer_reported"]
    for encoding in ("normal", "inverted"):
        orders[encoding]["pi95"] = [reported[encoding] - 0.005, reported[encoding] + 0.005]
    claim = evaluate(results)["replication_reproduces_answer"]
    assert claim["holds"]
    assert claim["statement"].startswith("Rerunning the answer's protocol under")
    assert "reproduces its numbers" in claim["statement"]


def test_answer_outside_a_prediction_interval_says_it_does_not_reproduce(results):
    results["replication"]["metrics"]["answer_protocol_orders"]["inverted"]["pi95"] = [0.6, 0.7]
    claim = evaluate(results)["replication_reproduces_answer"]
    assert not claim["holds"]
    assert "does not reproduce its numbers" in claim["statement"]
    assert "0.837 (inverted) lies outside" in claim["statement"]


def test_an_answer_protocol_gap_within_chance_says_so(results):
    orders = results["replication"]["metrics"]["answer_protocol_orders"]
    orders["difference"]["ci95"] = [-0.01, 0.02]
    claim = evaluate(results)["answer_protocol_gap"]
    assert not claim["holds"]
    assert "the batch orders cannot tell the encodings apart" in claim["statement"]
