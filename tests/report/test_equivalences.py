"""What inversion does not change: the equivalence claims."""

from polarity.article import judge as evaluate


def test_equivalence_claim_fails_when_one_model_differs(all_results):
    per_seed = all_results["sweep"]["metrics"]["accuracy"]["negated"]["per_seed"]
    per_seed[0][0][0] += 0.01
    claim = evaluate(all_results)["negation_and_centred_inversion_change_nothing"]
    assert not claim["holds"]
    assert "should leave training unchanged, but" in claim["statement"]
