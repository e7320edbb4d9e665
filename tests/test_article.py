"""Templates, number formatting and claims: conclusions follow the data, never the reverse."""

import copy
import json

import pytest

from polarity import formatting, paths
from polarity.article import TemplateError, build, environment, render_template
from polarity.article import judge as evaluate

RECORD = paths.RESULTS_OF_RECORD / "replication.json"


@pytest.fixture
def results():
    return {"replication": json.loads(RECORD.read_text())}


# --- Formatting filters -------------------------------------------------------------------


def test_number_formats():
    nbsp = formatting.NBSP
    assert formatting.pct(0.91879) == f"91.9{nbsp}%"
    assert formatting.prop(0.837478) == "0.837"
    assert formatting.points(0.0815) == f"8.2{nbsp}percentage points"
    assert formatting.points(0.01, 0) == f"1{nbsp}percentage point"
    assert formatting.interval([0.9, 0.925]) == f"90.0{nbsp}% to 92.5{nbsp}%"
    assert formatting.interval([0.02, 0.031], unit="points") == f"2.0 to 3.1{nbsp}percentage points"
    assert formatting.pvalue(0.0004) == "p\u00a0<\u00a00.001"
    assert formatting.pvalue(0.0312) == "p\u00a0=\u00a00.031"
    assert formatting.seconds(184) == f"3{nbsp}min 4{nbsp}s"
    assert formatting.count(55000) == "55,000"


def test_markdown_escape_neutralises_markup():
    assert formatting.md_escape("*bold* [link](x) @fig-a") == r"\*bold\* \[link\]\(x\) \@fig\-a"


# --- Templates ----------------------------------------------------------------------------


def test_missing_value_names_template_line_and_variable(tmp_path):
    (tmp_path / "t.qmd.j2").write_text(
        "# Title\n\nAccuracy {{ results.replication.nonexistent | pct }}\n"
    )
    env = environment(tmp_path)
    with pytest.raises(TemplateError) as caught:
        render_template(env, "t.qmd.j2", {"results": {"replication": {}}})
    message = str(caught.value)
    assert "t.qmd.j2:3" in message
    assert "nonexistent" in message


def test_syntax_error_names_the_template(tmp_path):
    (tmp_path / "t.qmd.j2").write_text("ok\n{% if x %}\nno end\n")
    with pytest.raises(TemplateError, match=r"t.qmd.j2:\d+: template syntax error"):
        render_template(environment(tmp_path), "t.qmd.j2", {"x": 1})


def test_quarto_ids_are_not_jinja_comments(tmp_path):
    (tmp_path / "t.qmd.j2").write_text("# A {#sec-a}\n\n::: {#refs}\n:::\n")
    assert (
        render_template(environment(tmp_path), "t.qmd.j2", {})
        == "# A {#sec-a}\n\n::: {#refs}\n:::\n"
    )


# --- Claims -------------------------------------------------------------------------------


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
    assert "no difference between the encodings can be told from chance" in claim["statement"]


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
    assert "no difference between the encodings can be told from chance" in claim["statement"]


def test_stale_results_are_flagged_in_the_article(tmp_path):
    record = json.loads(RECORD.read_text())
    record["cache_key"]["components"]["version:keras"] = "0.0.1"
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "replication.json").write_text(json.dumps(record))
    article = build(results_dir, tmp_path / "report").article.read_text()
    assert "**Results out of date.**" in article
    assert "version:keras 0\\.0\\.1 \\-\\> " in article  # what changed, escaped for Markdown


def test_current_results_carry_no_staleness_banner(tmp_path):
    article = build(paths.RESULTS_OF_RECORD, tmp_path / "report").article.read_text()
    assert "Results out of date" not in article


# --- The mechanism: conditioning and the learning-rate sweep ------------------------------


@pytest.fixture
def all_results():
    from polarity.results import read_results

    return read_results(paths.RESULTS_OF_RECORD)


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


def test_equivalence_claim_fails_when_one_model_differs(all_results):
    per_seed = all_results["sweep"]["metrics"]["accuracy"]["negated"]["per_seed"]
    per_seed[0][0][0] += 0.01
    claim = evaluate(all_results)["negation_and_centred_inversion_change_nothing"]
    assert not claim["holds"]
    assert "should leave training unchanged, but" in claim["statement"]


def test_claims_needing_absent_encodings_are_left_out(all_results):
    del all_results["sweep"]["metrics"]["accuracy"]["negated"]
    claims = evaluate(all_results)
    assert "negation_and_centred_inversion_change_nothing" not in claims
    assert "inversion_raises_curvature" in claims


# --- The convnet --------------------------------------------------------------------------


def test_convnet_claims_quote_the_results(all_results):
    claims = evaluate(all_results)
    setups = all_results["convnet"]["metrics"]["setups"]
    statement = claims["convnet_difference"]["statement"]
    verdicts = claims["convnet_difference"]["values"]["verdicts"]
    assert set(verdicts) == set(setups)
    for name, entry in setups.items():
        low, high = entry["difference"]["ci95"]
        alike = verdicts[name] == "inconclusive"
        assert alike == (low <= 0 <= high), name
        if not alike:  # each setup that differs is quoted with its accuracies
            normal = entry["encodings"]["normal"]["final"]["mean"]
            assert formatting.pct(normal, 2) in statement, name
    timing = all_results["speed"]["metrics"]["convnet"]["encodings"]
    ratio = claims["zeros_buy_no_speed"]["values"]["inverted_over_normal"]
    assert ratio == pytest.approx(timing["inverted"]["mean"] / timing["normal"]["mean"])


def _level(difference: dict) -> None:
    difference["ci95"] = [-abs(difference["ci95"][1]) - 0.001, abs(difference["ci95"][1]) + 0.001]


def test_convnet_gap_claim_follows_the_first_and_last_tests(all_results):
    convnet = {"convnet": all_results["convnet"]}
    setups = convnet["convnet"]["metrics"]["setups"]
    for entry in setups.values():  # no setup differs at the end
        _level(entry["difference"])
    first = next(iter(setups.values()))["updates"][0]

    # A gap at the first test that has closed by the last: slower learning, same end.
    for entry in setups.values():
        _level(entry["difference_by_update"][0])
    early = setups["valid-adam-0.001"]["difference_by_update"][0]
    early["mean"], early["ci95"] = 0.05, [0.02, 0.08]
    claim = evaluate(convnet)["convnet_gap_over_training"]
    assert claim["holds"]
    assert (
        f"after {first:,} updates, with Adam at learning rate 0.001 normal inputs lead"
        in (claim["statement"])
    )
    assert "changed how fast the network learned, not where it ended" in claim["statement"]

    # The same gap still there at the end: no catching up is claimed.
    final = setups["valid-adam-0.001"]["difference"]
    final["mean"], final["ci95"] = 0.01, [0.005, 0.015]
    claim = evaluate(convnet)["convnet_gap_over_training"]
    assert not claim["holds"]
    assert "not where it ended" not in claim["statement"]
    assert "a difference remains" in claim["statement"]

    # No gap even at the first test.
    _level(early)
    claim = evaluate(convnet)["convnet_gap_over_training"]
    assert not claim["holds"]
    assert claim["statement"].startswith(f"Already at the first test, after {first:,} updates")


def test_speed_claim_follows_the_measured_times(all_results):
    all_results["speed"]["metrics"]["convnet"]["encodings"]["inverted"]["mean"] *= 2
    claim = evaluate(all_results)["zeros_buy_no_speed"]
    assert not claim["holds"]
    assert claim["statement"].startswith("Time per training update differs")


@pytest.mark.parametrize(
    "ci95, verdict",
    [([0.001, 0.002], "normal inputs end ahead"), ([-0.002, -0.001], "inverted inputs end ahead")],
)
def test_convnet_verdict_follows_the_confidence_interval(all_results, ci95, verdict):
    setups = all_results["convnet"]["metrics"]["setups"]
    for entry in setups.values():
        entry["difference"]["ci95"] = [-0.001, 0.001]
    last = list(setups.values())[-1]
    last["difference"]["ci95"] = ci95
    claim = evaluate(all_results)["convnet_difference"]
    assert not claim["holds"] and verdict in claim["statement"]
    assert "no difference between the encodings can be told from chance with" in claim["statement"]
    for entry in setups.values():
        entry["difference"]["ci95"] = [-0.001, 0.001]
    assert evaluate(all_results)["convnet_difference"]["holds"]


def test_mismatch_claim_follows_the_cross_polarity_accuracy(all_results):
    claims = evaluate(all_results)
    trained = all_results["mismatch"]["metrics"]["trained_on"]
    cross = trained["normal"]["tested_on"]["inverted"]["mean"]
    assert formatting.pct(cross, 2) in claims["polarity_does_not_transfer"]["statement"]
    trained["normal"]["tested_on"]["inverted"]["mean"] = 0.5
    claim = evaluate(all_results)["polarity_does_not_transfer"]
    assert not claim["holds"] and "keeps some accuracy" in claim["statement"]


def test_fashion_figures_count_each_part_s_own_seeds(all_results):
    """The Fashion-MNIST result holds the seeds of all its parts; the convnet figure must
    describe the convnet's seeds only."""
    from polarity.report import FIGURES
    from polarity.report.output import figure_entries

    fashion = all_results["fashion"]
    spec = next(f for f in FIGURES if f.id == "fig-fashion-convnet-curves")
    ((_, _, entry),) = figure_entries((spec,), {"fashion": fashion}, None)
    assert f"mean of {fashion['config']['convnet_seeds']} seeds" in entry["alt"]
