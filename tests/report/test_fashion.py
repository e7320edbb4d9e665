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
    """Where paired t-tests on the seeds, Holm-corrected over the grid's rates at this one
    budget, put inverted ahead (mean below zero, adjusted p < 0.05), computed here from the
    per-seed accuracies with SciPy and statsmodels alone."""
    from statsmodels.stats.multitest import multipletests

    means, p_values = [], []
    for i in range(len(sweep["grid"]["learning_rates"])):
        normal = np.array([s[k] for s in sweep["accuracy"]["normal"]["per_seed"][i]])
        inverted = np.array([s[k] for s in sweep["accuracy"]["inverted"]["per_seed"][i]])
        means.append((normal - inverted).mean())
        p_values.append(scipy_stats.ttest_rel(normal, inverted).pvalue)
    rejected = multipletests(p_values, alpha=0.05, method="holm")[0]
    rates = sweep["grid"]["learning_rates"]
    return [r for r, m, x in zip(rates, means, rejected, strict=True) if x and m < 0]


def test_small_rates_are_where_holm_corrected_tests_put_inverted_ahead(all_results):
    """Every budget of both data sets is tested, each a Holm family over the grid's rates."""
    sweep, mnist_sweep = _sweep(all_results), all_results["sweep"]["metrics"]
    claim = fashion.fashion_inverted_ahead_at_small_rates(all_results)
    for budgets, s in (
        (claim.values["budgets"], sweep),
        (claim.values["mnist"]["budgets"], mnist_sweep),
    ):
        assert [b["updates"] for b in budgets] == s["grid"]["checkpoints"]
        for k, budget in enumerate(budgets):
            assert budget["ahead_rates"] == _inverted_ahead_by_t_test(s, k), budget["updates"]
    assert claim.values["rates"] == sweep["grid"]["learning_rates"]
    c = _conditioning(all_results)
    for encoding in ("normal", "inverted"):
        curvature = claim.values["curvature"][encoding]
        assert curvature["lambda_2"] == pytest.approx(c[encoding]["second_moment_lambda_2"] / 10)


def test_mnist_s_reversal_with_lambda_2_unchanged_rules_the_lambda_2_account_out(all_results):
    """The record: MNIST reverses at 0.001 after 5,000 updates, -0.23 points, with lambda_2
    unchanged, so the words must not explain Fashion-MNIST's reversal by lambda_2."""
    claim = judge(all_results)["fashion_inverted_ahead_at_small_rates"]
    assert claim["verdict"] == "small_rates_on_both"
    mnist = claim["values"]["mnist"]
    assert mnist["lambda_2_unchanged"]
    (reversal,) = mnist["ahead"]
    assert (reversal["updates"], reversal["ahead_rates"]) == (5000, [0.001])
    assert reversal["largest_gap"]["difference"] == pytest.approx(-0.0023, abs=5e-5)
    assert "λ₂ does not explain the reversal" in claim["statement"]
    # Were inversion to change MNIST's lambda_2 too, the words could not rule it out.
    c = all_results["conditioning"]["metrics"]["encodings"]
    c["inverted"]["second_moment_lambda_2"] = 1.5 * c["normal"]["second_moment_lambda_2"]
    claim = judge(all_results)["fashion_inverted_ahead_at_small_rates"]
    assert "possible but untested" in claim["statement"]
    assert "does not explain" not in claim["statement"]


def test_a_difference_significant_only_before_holm_is_not_a_reversal(all_results):
    """MNIST's reversal replaced by one whose paired t-test gives p < 0.05 alone but not
    after Holm's correction over the 16 rates: MNIST then reverses nowhere."""
    mnist_sweep = all_results["sweep"]["metrics"]
    k = mnist_sweep["grid"]["checkpoints"].index(5000)
    normal = mnist_sweep["accuracy"]["normal"]["per_seed"][0]
    inverted = mnist_sweep["accuracy"]["inverted"]["per_seed"][0]
    offsets = [0.0014, -0.0003, 0.0011, -0.0004, 0.0009, 0.0002, 0.0012, -0.0002, 0.0008, 0.0003]
    for seed, offset in zip(range(len(normal)), offsets, strict=True):
        inverted[seed][k] = normal[seed][k] + offset
    test = scipy_stats.ttest_rel([s[k] for s in normal], [s[k] for s in inverted])
    assert test.pvalue < 0.05  # significant alone ...
    assert _inverted_ahead_by_t_test(mnist_sweep, k) == []  # ... not after Holm
    claim = judge(all_results)["fashion_inverted_ahead_at_small_rates"]
    assert claim["verdict"] == "small_rates_fashion_only"
    assert "not on MNIST" in claim["statement"]


def test_no_rate_with_inverted_ahead_is_said_as_such(all_results):
    sweep = _sweep(all_results)
    for rate in sweep["accuracy"]["inverted"]["per_seed"]:
        for seed in rate:
            seed[:] = [0.0] * len(seed)  # inverted never learns anything, at any budget
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
