"""Same problem, different path: the penalised optimum's claims, on the results of record
(real MNIST, full profile) and with changed results that must change their sentences."""

from polarity.article import judge as evaluate


def test_the_record_holds_one_penalised_optimum_per_encoding(all_results):
    m = all_results["optimum"]["metrics"]
    assert m["data"]["train_size"] == 55000 and m["data"]["test_size"] == 10000
    assert m["penalty"]["chosen_on"] == "validation"
    assert m["penalty"]["chosen"] in [p["penalty"] for p in m["penalty"]["path"]]
    best = max(p["validation_accuracy"] for p in m["penalty"]["path"])
    chosen = next(p for p in m["penalty"]["path"] if p["penalty"] == m["penalty"]["chosen"])
    assert chosen["validation_accuracy"] == best
    tolerance = m["criterion"]["gradient_tolerance"]
    for e in m["encodings"].values():
        assert e["solver"]["converged"] and e["solver"]["gradient_norm"] <= tolerance
    # Theory: inversion maps the optimum onto itself, so no test prediction differs.
    assert m["difference"]["test_predictions_differing"] == 0
    assert m["difference"]["test_accuracy"] == 0
    claim = evaluate(all_results)["optima_agree"]
    assert claim["verdict"] == "identical" and claim["holds"]
    assert "none of the 10,000 test predictions different" in claim["statement"]


def test_the_mixed_optimum_is_the_class_prior_within_a_point(all_results):
    m = all_results["optimum"]["metrics"]
    majority = m["prior"]["majority_test_accuracy"]
    for tested in m["mixed"]["tested_on"].values():
        assert abs(tested["accuracy"] - majority) < 0.01
        assert tested["largest_prior_deviation"] < 0.01
    claim = evaluate(all_results)["mixed_optimum_is_the_prior"]
    assert claim["holds"] and "the optimum of mixed training is the prior" in claim["statement"]


def test_differing_predictions_flip_the_claim(all_results):
    all_results["optimum"]["metrics"]["difference"]["test_predictions_differing"] = 3
    claim = evaluate(all_results)["optima_agree"]
    assert claim["verdict"] == "differ" and not claim["holds"]
    assert "3 of the 10,000 test predictions differ" in claim["statement"]


def test_an_unconverged_solver_compares_nothing(all_results):
    all_results["optimum"]["metrics"]["encodings"]["inverted"]["solver"]["converged"] = False
    claim = evaluate(all_results)["optima_agree"]
    assert claim["verdict"] == "not_converged" and not claim["holds"]
    assert "no optimum is compared" in claim["statement"]
    assert "%" not in claim["statement"]  # no accuracy of an arbitrary stopping point


def test_mixed_claim_follows_the_mixed_accuracy(all_results):
    mixed = all_results["optimum"]["metrics"]["mixed"]["tested_on"]
    mixed["normal"]["accuracy"] = 0.5
    claim = evaluate(all_results)["mixed_optimum_is_the_prior"]
    assert not claim["holds"] and "is not the prior" in claim["statement"]
