"""The README's answer paragraph quotes the results of record, not numbers typed by hand."""

import json
import re

from polarity import paths
from polarity.article import judge as evaluate


def _answer_paragraph() -> str:
    readme = (paths.ROOT / "README.md").read_text()
    paragraph = readme.split("**The answer so far**", 1)[1].split("\n\n", 1)[0]
    return re.sub(r"\s+", " ", paragraph)


def test_readme_numbers_come_from_the_results_of_record():
    record = json.loads((paths.RESULTS_OF_RECORD / "replication.json").read_text())
    m = record["metrics"]
    trials = m["independent_trials"]
    diff = trials["difference"]
    orders = m["answer_protocol_orders"]
    expected = [
        f"under {orders['normal']['n']} batch orders",
        f"within {orders['normal']['pi95'][0]:.3f} to {orders['normal']['pi95'][1]:.3f} "
        f"for normal and {orders['inverted']['pi95'][0]:.3f} to "
        f"{orders['inverted']['pi95'][1]:.3f} for inverted inputs",
        f"{record['reference']['answer_reported']['normal']} and "
        f"{record['reference']['answer_reported']['inverted']}",
        f"{trials['normal']['n']} paired independent trials of "
        f"{record['config']['trial_updates']} updates",
        f"by {diff['mean'] * 100:.1f} percentage points",
        f"95 % CI {diff['ci95'][0] * 100:.1f} to {diff['ci95'][1] * 100:.1f}",
        f"{trials['normal']['mean'] * 100:.1f} % against {trials['inverted']['mean'] * 100:.1f} %",
        f"the {m['data']['never_inked_pixels']} pixels that are background",
    ]
    conditioning = json.loads((paths.RESULTS_OF_RECORD / "conditioning.json").read_text())
    sweep = json.loads((paths.RESULTS_OF_RECORD / "sweep.json").read_text())
    c = conditioning["metrics"]["encodings"]
    last = str(sweep["metrics"]["grid"]["checkpoints"][-1])
    at_best = sweep["metrics"]["comparisons"]["normal_minus_inverted_at_best"][last]
    expected += [
        f"from {c['normal']['hessian_lambda_max']:.2g} "
        f"to {c['inverted']['hessian_lambda_max']:.3g}",
        f"falls from {c['normal']['stability_edge']:.3g} to {c['inverted']['stability_edge']:.3g}",
        f"{0.5 / c['inverted']['stability_edge']:.3g} times past",
        f"by {at_best['mean'] * 100:.1f} points after {int(last):,} updates",
    ]
    convnet = json.loads((paths.RESULTS_OF_RECORD / "convnet.json").read_text())
    setups = convnet["metrics"]["setups"]
    adam, sgd = setups["valid-adam-0.001"], setups["valid-sgd-0.01"]
    low, high = (100 * b for b in adam["difference"]["equivalence"]["ci90"])
    lag = adam["speed"]["0.99"]["difference"]["mean"]
    expected += [
        f"the standard Keras one, {len(convnet['seeds'])} paired seeds per setup",
        f"for {adam['updates'][-1]:,} updates",
        f"{100 * adam['encodings']['normal']['final']['mean']:.2f} % on normal and "
        f"{100 * adam['encodings']['inverted']['final']['mean']:.2f} % on inverted",
        f"margin of {100 * convnet['config']['margin']:.1f} points",
        f"(90 % interval {low:.2f} to {high:.2f} points)",
        f"reached 99 % {-lag:,.0f} updates sooner",
        f"still {100 * sgd['difference']['mean']:.2f} points behind after "
        f"{sgd['updates'][-1]:,} updates",
    ]
    timing = json.loads((paths.RESULTS_OF_RECORD / "speed.json").read_text())
    speed = timing["metrics"]["convnet"]["encodings"]
    expected.append(
        f"{speed['normal']['mean'] * 1000:.0f} ms for normal and "
        f"{speed['inverted']['mean'] * 1000:.0f} ms for inverted"
    )
    mismatch = json.loads((paths.RESULTS_OF_RECORD / "mismatch.json").read_text())
    trained = mismatch["metrics"]["trained_on"]
    cross_normal = trained["normal"]["tested_on"]["inverted"]["mean"] * 100
    cross_inverted = trained["inverted"]["tested_on"]["normal"]["mean"] * 100
    expected.append(f"scores {cross_normal:.2f} % and {cross_inverted:.2f} % on the other")
    equivalences = json.loads((paths.RESULTS_OF_RECORD / "equivalences.json").read_text())
    absorption = equivalences["metrics"]["absorption"]
    expected += [
        f"keeps all {equivalences['metrics']['test_images']:,} of its test predictions",
        f"({absorption['conv_same_zero_padding']['predictions_changed']} predictions change)",
    ]
    paragraph = _answer_paragraph()
    for text in expected:
        assert text in paragraph, f"README answer should say {text!r}"


def test_readme_conclusions_are_claims_that_hold():
    record = json.loads((paths.RESULTS_OF_RECORD / "replication.json").read_text())
    claims = evaluate({"replication": record})
    paragraph = _answer_paragraph()
    # The README may say the protocol reproduces the answer's numbers only if it does.
    reproduced = claims["replication_reproduces_answer"]["holds"]
    assert ("reproduces its numbers" in paragraph) == reproduced
    assert "inversion lowers test accuracy" in paragraph and claims["trials_difference"]["holds"]
    assert "keep their weights exactly where they started" in paragraph
    assert claims["never_inked_weights_stay_put"]["holds"]


def test_readme_absorption_sentence_rests_on_claims_that_hold():
    record = json.loads((paths.RESULTS_OF_RECORD / "equivalences.json").read_text())
    claims = evaluate({"equivalences": record})
    paragraph = _answer_paragraph()
    assert "a network can absorb the inversion" in paragraph
    assert claims["absorption_reproduces_predictions"]["holds"]
    assert "unless 'same' zero padding" in paragraph
    assert claims["same_padding_breaks_absorption"]["holds"]


def test_readme_leaves_fashion_mnist_s_agreement_to_the_article():
    """Whether Fashion-MNIST agrees with MNIST is a claim the results decide; the README
    names the claim and asserts no outcome."""
    paragraph = _answer_paragraph()
    sentence = paragraph.split("**Fashion-MNIST**", 1)[1].split(". ", 1)[0]
    assert "fashion_agrees_with_mnist" in sentence
    assert "not assumed but tested" in sentence
    assert not re.search(r"\b(agrees|disagrees)\b", sentence.replace("whether it agrees", ""))


def test_readme_convnet_sentence_rests_on_claims_that_hold():
    record = json.loads((paths.RESULTS_OF_RECORD / "convnet.json").read_text())
    timing = json.loads((paths.RESULTS_OF_RECORD / "speed.json").read_text())
    claims = evaluate({"convnet": record, "speed": timing})
    paragraph = _answer_paragraph()
    # "Until it stops improving ... equivalent": the converged setup's verdict.
    end = claims["convnet_end"]
    assert "until it stops improving" in paragraph and "equivalent within a margin" in paragraph
    assert end["verdict"] == "equivalent"
    assert list(end["values"]["converged"]) == ["valid-adam-0.001"]
    # "A difference five seeds cannot confirm": the speed test finds none after Holm.
    assert "a difference five seeds cannot confirm" in paragraph
    assert len(record["seeds"]) == 5
    lag = claims["convnet_speed"]["values"]["setups"]["valid-adam-0.001"]["targets"]["0.99"]
    assert lag["verdict"] == "no_difference_detected" and lag["difference"] < 0
    # "Still behind": SGD at 0.01 ends with normal inputs ahead.
    assert "inverted inputs are still" in paragraph
    ending = claims["convnet_difference"]["values"]["setups"]["valid-sgd-0.01"]
    assert ending["verdict"] == "normal_ahead"
    assert "zeros save dense kernels no work" in paragraph
    assert claims["zeros_buy_no_speed"]["holds"]
