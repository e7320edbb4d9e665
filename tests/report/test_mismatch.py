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


def test_mismatch_table_says_when_every_seed_scored_the_same(all_results):
    from polarity.report.mismatch import mismatch_rows

    trained = all_results["mismatch"]["metrics"]["trained_on"]
    cell = trained["inverted"]["tested_on"]["normal"]
    cell["values"] = [cell["values"][0]] * len(cell["values"])
    row = next(
        r
        for r in mismatch_rows(all_results)
        if (r["trained_on"], r["tested_on"]) == ("inverted", "normal")
    )
    assert row["all_seeds_equal"]
    cell["values"][0] += 0.01
    row = next(
        r
        for r in mismatch_rows(all_results)
        if (r["trained_on"], r["tested_on"]) == ("inverted", "normal")
    )
    assert not row["all_seeds_equal"]
