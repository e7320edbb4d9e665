"""Tested on the other polarity: the mismatch claim."""

from polarity import formatting
from polarity.article import judge as evaluate


def test_mismatch_claim_follows_the_cross_polarity_accuracy(all_results):
    claims = evaluate(all_results)
    trained = all_results["mismatch"]["metrics"]["trained_on"]
    cross = trained["normal"]["tested_on"]["inverted"]["mean"]
    assert formatting.pct(cross, 2) in claims["polarity_does_not_transfer"]["statement"]
    trained["normal"]["tested_on"]["inverted"]["mean"] = 0.5
    claim = evaluate(all_results)["polarity_does_not_transfer"]
    assert not claim["holds"] and "keeps some accuracy" in claim["statement"]
