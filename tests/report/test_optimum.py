"""Same problem, different path: the optimum claims, on the results of record (real MNIST,
full profile) and with changed results that must flip their sentences."""

from polarity.article import judge as evaluate


def test_the_two_encodings_optima_agree_within_a_fifth_of_a_point(all_results):
    m = all_results["optimum"]["metrics"]
    assert m["data"]["train_size"] == 55000
    accuracy = {p: e["test_accuracy"] for p, e in m["encodings"].items()}
    assert abs(accuracy["normal"] - accuracy["inverted"]) < 0.002
    claim = evaluate(all_results)["optima_agree"]
    assert claim["holds"] and "agree" in claim["verdict"]
    if not all(e["solver"]["converged"] for e in m["encodings"].values()):
        assert "close to the optimum, not at it" in claim["statement"]


def test_the_mixed_optimum_is_the_class_prior_within_a_point(all_results):
    m = all_results["optimum"]["metrics"]
    majority = m["prior"]["majority_test_accuracy"]
    for tested in m["mixed"]["tested_on"].values():
        assert abs(tested["accuracy"] - majority) < 0.01
        assert tested["largest_prior_deviation"] < 0.01
    claim = evaluate(all_results)["mixed_optimum_is_the_prior"]
    assert claim["holds"] and "the optimum of mixed training is the prior" in claim["statement"]
    assert "a transient on the way there" in claim["statement"]


def test_optima_claim_follows_the_difference(all_results):
    encodings = all_results["optimum"]["metrics"]["encodings"]
    encodings["inverted"]["test_accuracy"] = encodings["normal"]["test_accuracy"] - 0.01
    all_results["optimum"]["metrics"]["difference"]["test_accuracy"] = 0.01
    claim = evaluate(all_results)["optima_agree"]
    assert not claim["holds"] and "do not agree" in claim["statement"]


def test_optima_claim_says_whether_the_solver_reached_the_optimum(all_results):
    encodings = all_results["optimum"]["metrics"]["encodings"]
    for e in encodings.values():
        e["solver"]["converged"] = True
    claim = evaluate(all_results)["optima_agree"]
    assert claim["verdict"] == "agree"
    assert claim["statement"].startswith("Measured, the two optima agree")
    encodings["inverted"]["solver"]["converged"] = False
    claim = evaluate(all_results)["optima_agree"]
    assert claim["verdict"] == "agree_at_cap" and "not at it" in claim["statement"]


def test_mixed_claim_follows_the_mixed_accuracy(all_results):
    mixed = all_results["optimum"]["metrics"]["mixed"]["tested_on"]
    mixed["normal"]["accuracy"] = 0.5
    claim = evaluate(all_results)["mixed_optimum_is_the_prior"]
    assert not claim["holds"] and "is not the prior" in claim["statement"]
