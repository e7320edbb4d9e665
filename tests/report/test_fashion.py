"""Fashion-MNIST, judged and drawn with the MNIST sections' code, and its own claims: its
sweep at best rates, where inverted inputs are ahead at one learning rate, and whether it
agrees with MNIST."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from polarity.article import environment, judge
from polarity.report import fashion


def test_fashion_figures_count_each_part_s_own_seeds(all_results):
    """The Fashion-MNIST result holds the seeds of all its parts; the convnet figure must
    describe the convnet's seeds only."""
    from polarity.report import FIGURES
    from polarity.report.output import figure_entries

    record = all_results["fashion"]
    spec = next(f for f in FIGURES if f.id == "fig-fashion-convnet-curves")
    ((_, _, entry),) = figure_entries((spec,), {"fashion": record}, None)
    assert f"mean of {record['config']['convnet_n_seeds']} seeds" in entry["alt"]


def _sweep(results):
    return results["fashion"]["metrics"]["sweep"]["metrics"]


def _conditioning(results):
    return results["fashion"]["metrics"]["conditioning"]["metrics"]["encodings"]


# --- Its sweep at each encoding's best rate ---------------------------------------------------


def test_best_rates_are_the_ones_validation_images_chose(all_results):
    """Each budget compares the encodings at the rates with the highest mean validation
    accuracy; a test-chosen rate would differ from it."""
    sweep = _sweep(all_results)
    rates = sweep["grid"]["learning_rates"]
    claim = fashion.fashion_gap_at_best_rates(all_results)
    assert [b["updates"] for b in claim.values["budgets"]] == sweep["grid"]["checkpoints"]
    for k, budget in enumerate(claim.values["budgets"]):
        assert budget["chosen_on"] == "validation"
        for encoding, rate in budget["rate"].items():
            validation = [row[k] for row in sweep["accuracy"][encoding]["validation_mean"]]
            assert rate == rates[int(np.argmax(validation))], (encoding, budget["updates"])


def test_gap_at_best_rates_follows_each_budget_s_interval(all_results):
    comparisons = _sweep(all_results)["comparisons"]["normal_minus_inverted_at_best"]
    for diff in comparisons.values():
        diff["ci95"] = [0.01, 0.02]
    claims = judge(all_results)
    assert claims["fashion_gap_at_best_rates"]["verdict"] == "normal_ahead_at_every_budget"
    assert (
        "inversion costs Fashion-MNIST accuracy" in claims["fashion_gap_at_best_rates"]["statement"]
    )
    comparisons[str(_sweep(all_results)["grid"]["checkpoints"][-1])]["ci95"] = [-0.01, 0.02]
    claim = judge(all_results)["fashion_gap_at_best_rates"]
    assert claim["verdict"] == "depends_on_budget"
    assert "depends on how long training runs" in claim["statement"]


# --- Inverted ahead at small rates, and why ----------------------------------------------------


def _inverted_ahead_by_t_test(sweep, k):
    """Where a paired t-test on the seeds puts inverted ahead (mean below zero, p < 0.05),
    computed here from the per-seed accuracies with SciPy alone."""
    found = []
    for i, rate in enumerate(sweep["grid"]["learning_rates"]):
        normal = np.array([s[k] for s in sweep["accuracy"]["normal"]["per_seed"][i]])
        inverted = np.array([s[k] for s in sweep["accuracy"]["inverted"]["per_seed"][i]])
        test = scipy_stats.ttest_rel(normal, inverted)
        if (normal - inverted).mean() < 0 and test.pvalue < 0.05:
            found.append(rate)
    return found


def test_small_rates_are_where_a_paired_test_puts_inverted_ahead(all_results):
    sweep = _sweep(all_results)
    claim = fashion.fashion_inverted_ahead_at_small_rates(all_results)
    assert claim.values["updates"] == sweep["grid"]["checkpoints"][-1]
    assert claim.values["ahead_rates"] == _inverted_ahead_by_t_test(sweep, -1)
    c = _conditioning(all_results)
    for encoding in ("normal", "inverted"):
        curvature = claim.values["curvature"][encoding]
        assert curvature["lambda_2"] == pytest.approx(c[encoding]["second_moment_lambda_2"] / 10)
        assert curvature["lambda_1"] / curvature["lambda_2"] == pytest.approx(
            curvature["lambda_ratio"], rel=1e-3
        )


def test_the_explanation_needs_a_larger_second_curvature(all_results):
    claim = fashion.fashion_inverted_ahead_at_small_rates(all_results)
    if not claim.values["ahead_rates"]:
        pytest.skip("inverted inputs are ahead at no rate in these results")
    c = _conditioning(all_results)
    c["inverted"]["second_moment_lambda_2"] = 0.9 * c["normal"]["second_moment_lambda_2"]
    flipped = judge(all_results)["fashion_inverted_ahead_at_small_rates"]
    assert flipped["verdict"] == "small_rates_unexplained"
    assert "do not account for it" in flipped["statement"]


def test_no_rate_with_inverted_ahead_is_said_as_such(all_results):
    sweep = _sweep(all_results)
    for rate in sweep["accuracy"]["inverted"]["per_seed"]:
        for seed in rate:
            seed[-1] = 0.0  # inverted never learns anything by the last checkpoint
    claim = judge(all_results)["fashion_inverted_ahead_at_small_rates"]
    assert claim["verdict"] == "nowhere"
    assert claim["statement"].startswith("At no learning rate of the grid")


# --- Agrees with MNIST ----------------------------------------------------------------------


def test_agreement_is_every_comparison_giving_the_same_verdict(all_results):
    claim = fashion.fashion_agrees_with_mnist(all_results)
    kinds = [c["kind"] for c in claim.values["comparisons"]]
    assert set(kinds) == set(fashion.AGREEMENT)
    shared = [
        k
        for k in _sweep(all_results)["grid"]["checkpoints"]
        if k in all_results["sweep"]["metrics"]["grid"]["checkpoints"]
    ]
    assert kinds.count("best_rates") == len(shared)
    same = [c["same"] for c in claim.values["comparisons"]]
    assert claim.verdict == ("agrees" if all(same) else "partly" if any(same) else "disagrees")
    small = next(c for c in claim.values["comparisons"] if c["kind"] == "small_rates")
    mnist_sweep = all_results["sweep"]["metrics"]
    mnist_ahead = _inverted_ahead_by_t_test(
        mnist_sweep, mnist_sweep["grid"]["checkpoints"].index(shared[-1])
    )
    assert (small["mnist"] == "some_rate") == bool(mnist_ahead)


def test_a_reversed_replication_breaks_the_agreement(all_results):
    trials = all_results["fashion"]["metrics"]["replication"]["metrics"]["independent_trials"]
    before = fashion.fashion_agrees_with_mnist(all_results)
    trials["difference"]["ci95"] = [-0.2, -0.1]  # inverted ahead on Fashion-MNIST
    claims = judge(all_results)
    after = claims["fashion_agrees_with_mnist"]
    assert not after["holds"]
    assert len(after["values"]["different"]) == len(before.values["different"]) + 1
    assert "normal ahead on MNIST, inverted ahead on Fashion-MNIST" in after["statement"]


def test_agreement_needs_mnist_s_results():
    import json

    from polarity import paths

    record = json.loads((paths.RESULTS_OF_RECORD / "fashion.json").read_text())
    claims = judge({"fashion": record})
    assert "fashion_trials_difference" in claims
    assert "fashion_agrees_with_mnist" not in claims


# --- Every verdict has its own words --------------------------------------------------------


@pytest.mark.parametrize(
    "claim_fn",
    [
        fashion.fashion_gap_at_best_rates,
        fashion.fashion_inverted_ahead_at_small_rates,
        fashion.fashion_agrees_with_mnist,
    ],
)
def test_each_verdict_has_a_sentence_of_its_own(all_results, claim_fn):
    claim = claim_fn(all_results).as_dict()
    module = (
        environment()
        .get_template("sections/fashion.qmd.j2")
        .make_module({"results": {}, "claims": {}})
    )
    macro = getattr(module, claim["id"])
    sentences = {}
    for verdict in claim["verdicts"]:
        sentence = " ".join(str(macro({**claim, "verdict": verdict})).split())
        assert len(sentence.split()) >= 12, verdict
        sentences[verdict] = sentence
    assert len(set(sentences.values())) == len(sentences)
