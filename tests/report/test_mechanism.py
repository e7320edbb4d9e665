"""Why inversion slows softmax regression down: the curvature and sweep claims."""

from polarity.article import judge as evaluate


def test_results_of_record_support_the_mechanism_claims(all_results):
    claims = evaluate(all_results)
    for claim_id in (
        "hessian_matches_formula",
        "inversion_raises_curvature",
        "top_direction_is_the_mean",
        "negation_and_centred_inversion_change_nothing",
        "best_rate_tracks_the_edge",
        "inverted_behind_at_best_rates",
    ):
        assert claims[claim_id]["holds"], claims[claim_id]["statement"]


def test_curvature_claim_follows_the_measured_curvature(all_results):
    encodings = all_results["conditioning"]["metrics"]["encodings"]
    encodings["inverted"]["hessian_lambda_max"] = encodings["normal"]["hessian_lambda_max"]
    encodings["inverted"]["stability_edge"] = encodings["normal"]["stability_edge"]
    claim = evaluate(all_results)["inversion_raises_curvature"]
    assert not claim["holds"]
    assert "does not separate the two edges" in claim["statement"]


def test_claims_needing_absent_encodings_are_left_out(all_results):
    del all_results["sweep"]["metrics"]["accuracy"]["negated"]
    claims = evaluate(all_results)
    assert "negation_and_centred_inversion_change_nothing" not in claims
    assert "inversion_raises_curvature" in claims
