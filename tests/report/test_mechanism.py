"""Why inversion slows softmax regression down: the curvature and sweep claims."""

import pytest

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


def test_gap_claim_follows_the_gap_at_the_optimum(all_results):
    claim = evaluate(all_results)["gap_shrinks_with_updates"]
    assert claim["holds"] and "shrinks as training goes on" in claim["statement"]
    assert "validation accuracy picked" in claim["statement"]
    all_results["optimum"]["metrics"]["difference"]["test_accuracy"] = 0.5
    claim = evaluate(all_results)["gap_shrinks_with_updates"]
    assert not claim["holds"] and "does not shrink steadily" in claim["statement"]


def test_standardisation_claim_follows_the_scale_free_conditioning(all_results):
    encodings = all_results["conditioning"]["metrics"]["encodings"]
    claim = evaluate(all_results)["standardisation_improves_conditioning"]
    assert claim["verdict"] == "between"
    assert "does improve the conditioning" in claim["statement"]
    encodings["standardised"]["lambda_ratio"] = encodings["normal"]["lambda_ratio"] * 2
    claim = evaluate(all_results)["standardisation_improves_conditioning"]
    assert not claim["holds"] and "does not improve the conditioning" in claim["statement"]


def test_onset_claim_follows_the_measured_onset(all_results):
    encodings = all_results["conditioning"]["metrics"]["encodings"]
    claim = evaluate(all_results)["instability_onset_vs_edge"]
    assert claim["holds"]
    for values in encodings.values():  # every onset right at the edge: tight
        values["instability"]["onset"] = values["stability_edge"] * 1.2
    assert evaluate(all_results)["instability_onset_vs_edge"]["verdict"] == "tight"
    encodings["inverted"]["instability"]["onset"] = encodings["inverted"]["stability_edge"] / 3
    claim = evaluate(all_results)["instability_onset_vs_edge"]
    assert not claim["holds"] and "well below the predicted edge" in claim["statement"]


def test_edge_claim_says_which_budgets_it_holds_for(all_results):
    claim = evaluate(all_results)["best_rate_tracks_the_edge"]
    assert claim["holds"]
    best = all_results["sweep"]["metrics"]["best"]
    first = str(all_results["sweep"]["metrics"]["grid"]["checkpoints"][0])
    best["centred"][first]["learning_rate"] = 0.001  # far below the centred edge
    claim = evaluate(all_results)["best_rate_tracks_the_edge"]
    assert not claim["holds"] and "does not bear the prediction out" in claim["statement"]


def test_an_edge_tracked_at_every_budget_names_the_budgets_not_any_length(all_results):
    """The verdict covers the budgets trained, so its sentence names them; "however long the
    models trained" claimed more than a sweep of two or three budgets measures."""
    claim = evaluate(all_results)["best_rate_tracks_the_edge"]
    assert claim["verdict"] == "short_budget"  # the record: not after 5,000 updates
    sweep = all_results["sweep"]["metrics"]
    for entry in claim["values"]["checkpoints"]:  # every best rate on its edge's grid rate
        for encoding, anchor in entry["largest_below_edge"].items():
            sweep["best"][encoding][str(entry["updates"])]["learning_rate"] = anchor
    claim = evaluate(all_results)["best_rate_tracks_the_edge"]
    assert claim["verdict"] == "every_budget"
    budgets = sweep["grid"]["checkpoints"]
    listed = ", ".join(f"{u:,}" for u in budgets[:-1]) + f" and {budgets[-1]:,} updates"
    assert f"at every budget it trained, {listed}" in claim["statement"]
    assert "however long" not in claim["statement"].lower()


def _at_best(sweep, encoding, k):
    import numpy as np

    index = sweep["best"][encoding][str(sweep["grid"]["checkpoints"][k])]["rate_index"]
    return np.array([seed[k] for seed in sweep["accuracy"][encoding]["per_seed"][index]])


def test_centring_claim_rests_on_paired_accuracy_differences_at_each_budget(all_results):
    """Recomputed here with SciPy and statsmodels: centred minus raw and centred minus
    standardised at each budget, each at its validation-chosen rate, Holm over the budgets."""
    from scipy import stats as scipy_stats
    from statsmodels.stats.multitest import multipletests

    sweep = all_results["sweep"]["metrics"]
    claim = evaluate(all_results)["centring_improves_accuracy"]
    values = claim["values"]
    for name, better, than in (
        ("centred_vs_raw", "centred", "normal"),
        ("centred_vs_standardised", "centred", "standardised"),
        ("standardised_vs_raw", "standardised", "normal"),
    ):
        tests = [
            scipy_stats.ttest_rel(_at_best(sweep, better, k), _at_best(sweep, than, k))
            for k in range(len(sweep["grid"]["checkpoints"]))
        ]
        adjusted = multipletests([t.pvalue for t in tests], method="holm")[1]
        for row, test, p in zip(values[name], tests, adjusted, strict=True):
            assert row["p_holm"] == pytest.approx(p)
            assert row["ci95"] == pytest.approx(list(test.confidence_interval(0.95)))
            assert row["ahead"] == (p < 0.05 and test.statistic > 0)
    # The record: centring gains about 1.4 points after 50 updates and 0.13 after 5,000.
    assert values["centred_vs_raw"][0]["difference"] == pytest.approx(0.014, abs=5e-4)
    assert values["centred_vs_raw"][-1]["difference"] == pytest.approx(0.0013, abs=1e-4)
    assert claim["verdict"] == "every_budget"
    assert values["standardisation_ahead_at"] == [50]
    assert "at every budget measured" in claim["statement"]


def test_centring_claim_fails_where_centring_stops_helping(all_results):
    sweep = all_results["sweep"]["metrics"]
    k = len(sweep["grid"]["checkpoints"]) - 1
    centred = sweep["best"]["centred"][str(sweep["grid"]["checkpoints"][k])]["rate_index"]
    normal = _at_best(sweep, "normal", k)
    for seed, accuracy in zip(
        sweep["accuracy"]["centred"]["per_seed"][centred], normal, strict=True
    ):
        seed[k] = float(accuracy) - 0.0001 * (seed[0] > 0)  # no better than raw after 5,000
    claim = evaluate(all_results)["centring_improves_accuracy"]
    assert claim["verdict"] != "every_budget" and not claim["holds"]
    assert "at every budget measured" not in claim["statement"]
