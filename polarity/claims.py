"""The article's conclusions, each a predicate over the results with the values it rests on.

A claim's sentence is chosen here, from whether its predicate holds, and the templates can
only insert that sentence: a conclusion the data do not support cannot render as true.
`report/claims.json` records every claim with its verdict and values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from polarity.formatting import NBSP, interval, ms, pct, points, prop, pvalue, sci, setup_label
from polarity.results import fashion_parts
from polarity.tables import worst_at_last_update


@dataclass(frozen=True)
class Claim:
    id: str
    holds: bool
    statement: str
    values: dict

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "holds": self.holds,
            "statement": self.statement,
            "values": self.values,
        }


def replication_reproduces_answer(results: dict) -> Claim:
    """The answer ran its protocol once; a rerun reproduces it when the answer's number lies
    where one run of the protocol lands with 95 % probability (its prediction interval over
    batch orders). At the answer's learning rate the inverted run is chaotic, so a single
    rerun is no yardstick."""
    replication = results["replication"]
    orders = replication["metrics"]["answer_protocol_orders"]
    reported = replication["reference"]["answer_reported"]
    ranges = {e: orders[e]["pi95"] for e in reported}
    inside = {e: ranges[e][0] <= reported[e] <= ranges[e][1] for e in reported}
    holds = all(inside.values())
    lands = (
        f"one run of it lands, with 95 % probability, within "
        f"{interval(ranges['normal'], 3, 'prop')} for normal inputs and within "
        f"{interval(ranges['inverted'], 3, 'prop')} for inverted ones"
    )
    lead = f"Rerunning the answer's protocol under {orders['normal']['n']} batch orders"
    if holds:
        statement = (
            f"{lead} reproduces its numbers: {lands}, and the answer's "
            f"{prop(reported['normal'])} and {prop(reported['inverted'])} lie inside."
        )
    else:
        outside = [f"{prop(reported[e])} ({e})" for e in reported if not inside[e]]
        statement = (
            f"{lead} does not reproduce its numbers: {lands}, and the answer's "
            f"{' and '.join(outside)} {'lies' if len(outside) == 1 else 'lie'} outside."
        )
    return Claim(
        "replication_reproduces_answer",
        holds,
        statement,
        {
            "ours": {e: orders[e]["mean"] for e in reported},
            "pi95": ranges,
            "reported": reported,
            "orders": orders["normal"]["n"],
        },
    )


def answer_protocol_gap(results: dict) -> Claim:
    orders = results["replication"]["metrics"]["answer_protocol_orders"]
    diff = orders["difference"]
    low, high = diff["ci95"]
    detail = (
        f"95 % CI of normal minus inverted {interval(diff['ci95'], unit='points')} over "
        f"{diff['n']} batch orders, each shared by both encodings"
    )
    holds = low > 0
    if holds:
        statement = (
            f"Under that protocol inverted inputs average {points(diff['mean'])} lower test "
            f"accuracy ({detail})."
        )
    elif high < 0:
        statement = (
            f"Under that protocol inverted inputs are not worse: they average "
            f"{points(-diff['mean'])} higher test accuracy ({detail})."
        )
    else:
        statement = (
            f"Under that protocol no difference between the encodings can be told from "
            f"chance ({detail})."
        )
    return Claim(
        "answer_protocol_gap",
        holds,
        statement,
        {"normal_minus_inverted": diff["mean"], "ci95": diff["ci95"]},
    )


def trials_difference(results: dict) -> Claim:
    trials = results["replication"]["metrics"]["independent_trials"]
    config = results["replication"]["config"]
    diff = trials["difference"]
    low, high = diff["ci95"]
    excludes_zero = low > 0 or high < 0
    detail = (
        f"{points(abs(diff['mean']))} (95 % CI of normal minus inverted "
        f"{interval(diff['ci95'], unit='points')}, {pvalue(diff['p_value'])}, "
        f"{diff['n']} paired trials "
        f"of {config['trial_updates']} updates)"
    )
    if excludes_zero and low > 0:
        statement = (
            f"Across independent trials, inverting the grey levels lowers test accuracy "
            f"by {detail}: mean {pct(trials['normal']['mean'])} for normal inputs against "
            f"{pct(trials['inverted']['mean'])} for inverted ones."
        )
    elif excludes_zero:
        statement = (
            f"Across independent trials, inverting the grey levels raises test accuracy "
            f"by {detail}."
        )
    else:
        statement = (
            f"Across independent trials, no difference between the encodings can be "
            f"told from chance: the mean difference is {detail}."
        )
    return Claim(
        "trials_difference",
        excludes_zero and low > 0,
        statement,
        {
            "difference": diff["mean"],
            "ci95": diff["ci95"],
            "p_value": diff["p_value"],
            "excludes_zero": excludes_zero,
        },
    )


def never_inked_weights_stay_put(results: dict) -> Claim:
    metrics = results["replication"]["metrics"]
    idle = metrics["data"]["never_inked_pixels"]
    maps = metrics["weight_change_maps"]
    normal_unchanged = maps["normal"]["unchanged_pixels"]
    inverted_moved = maps["inverted"]["never_inked_max_change"]
    holds = normal_unchanged == idle and inverted_moved > 0
    train_size = metrics["data"]["train_size"]
    if holds:
        statement = (
            f"{idle} of the 784 pixels are background in all {train_size:,} training "
            f"images. Under the normal encoding exactly those {idle} pixel weights never "
            "move: a weight's gradient is its input times the output error, and their "
            "input is always 0. Inverted, the same pixels are always 1 and their weights "
            f"move by up to {inverted_moved:.3g}."
        )
    else:
        statement = (
            f"{idle} of the 784 pixels are background in all {train_size:,} training "
            f"images, but the weights that never move under the normal encoding number "
            f"{normal_unchanged}, and under inversion those pixels' weights move by at "
            f"most {inverted_moved:.3g}; the weight maps are not explained by idle "
            "pixels alone."
        )
    return Claim(
        "never_inked_weights_stay_put",
        holds,
        statement,
        {
            "never_inked_pixels": idle,
            "normal_unchanged_pixels": normal_unchanged,
            "inverted_max_change_on_never_inked": inverted_moved,
        },
    )


DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def background_dominates(results: dict) -> Claim:
    datasets = results["background"]["metrics"]["datasets"]
    zero = {name: d["zero_fraction"] for name, d in datasets.items()}
    holds = all(fraction > 0.5 for fraction in zero.values())
    parts = [f"{pct(z)} of {DATASET_NAMES[name]}'s training pixels" for name, z in zero.items()]
    listed = " and ".join(parts)
    full_ink = pct(datasets["mnist"]["full_ink_fraction"]) if "mnist" in datasets else None
    if holds:
        statement = f"Most pixels are background: {listed} are exactly 0" + (
            f", while only {full_ink} of MNIST's are full ink (255)." if full_ink else "."
        )
    else:
        statement = f"Background is not the majority everywhere: {listed} are exactly 0."
    return Claim("background_dominates", holds, statement, {"zero_fraction": zero})


def lenet_scaling_centres_mnist(results: dict) -> Claim:
    mnist = results["background"]["metrics"]["datasets"]["mnist"]
    lenet = mnist["lenet_scaled"]
    holds = abs(lenet["mean"]) < abs(mnist["mean"])
    change = (
        f"from {prop(mnist['mean'])} to {prop(lenet['mean'])}, and its standard deviation "
        f"from {prop(mnist['std'])} to {prop(lenet['std'])}"
    )
    if holds:
        statement = (
            f"On MNIST's 28 × 28 training images, that scaling moves the mean input "
            f"closer to 0, {change}."
        )
    else:
        statement = (
            "On MNIST's 28 × 28 training images, that scaling does not move the mean input "
            f"closer to 0: {change}."
        )
    return Claim(
        "lenet_scaling_centres_mnist",
        holds,
        statement,
        {
            "mean": mnist["mean"],
            "lenet_mean": lenet["mean"],
            "std": mnist["std"],
            "lenet_std": lenet["std"],
        },
    )


class MissingData(KeyError):
    """The results lack what a claim needs (a smaller profile); the claim is left out."""


def _need(container: dict, *keys: str) -> None:
    missing = [k for k in keys if k not in container]
    if missing:
        raise MissingData(", ".join(missing))


def _conditioning(results: dict) -> dict:
    _need(results, "conditioning")
    encodings = results["conditioning"]["metrics"]["encodings"]
    _need(encodings, "normal", "inverted")
    return encodings


def inversion_raises_curvature(results: dict) -> Claim:
    c = _conditioning(results)
    normal, inverted = c["normal"], c["inverted"]
    ratio = inverted["hessian_lambda_max"] / normal["hessian_lambda_max"]
    _need(results, "replication")
    answer_rate = results["replication"]["config"]["learning_rate"]  # the answer's, 0.5
    between = normal["stability_edge"] > answer_rate > inverted["stability_edge"]
    holds = ratio > 1 and between
    numbers = (
        f"The largest curvature of the loss at the start of training is "
        f"{normal['hessian_lambda_max']:.3g} for normal and "
        f"{inverted['hessian_lambda_max']:.3g} for inverted inputs, a factor of "
        f"{ratio:.3g}, so the learning rate beyond which plain gradient descent "
        f"oscillates, 2/λ_max, is {normal['stability_edge']:.3g} and "
        f"{inverted['stability_edge']:.3g}"
    )
    if holds:
        statement = (
            f"{numbers}. The answer's learning rate of {answer_rate} lies below "
            f"the first edge and {answer_rate / inverted['stability_edge']:.3g} "
            "times beyond the second: the inverted model was trained past its stability "
            "edge."
        )
    elif answer_rate > normal["stability_edge"] and answer_rate > inverted["stability_edge"]:
        statement = (
            f"{numbers}. The answer's learning rate of {answer_rate} lies beyond both edges, "
            f"{answer_rate / normal['stability_edge']:.3g} and "
            f"{answer_rate / inverted['stability_edge']:.3g} times: both models train past "
            "their stability edge, the inverted one further."
        )
    else:
        statement = (
            f"{numbers}. The answer's learning rate of {answer_rate} does not "
            "separate the two edges, so curvature alone does not explain its result."
        )
    return Claim(
        "inversion_raises_curvature",
        holds,
        statement,
        {
            "normal": normal["hessian_lambda_max"],
            "inverted": inverted["hessian_lambda_max"],
            "ratio": ratio,
            "edges": [normal["stability_edge"], inverted["stability_edge"]],
        },
    )


def hessian_matches_formula(results: dict) -> Claim:
    c = _conditioning(results)
    worst = max(
        abs(m["hessian_lambda_max"] / m["hessian_lambda_max_formula"] - 1) for m in c.values()
    )
    holds = worst < 1e-3
    if holds:
        statement = (
            f"Measured by Lanczos iteration on Hessian-vector products of the loss over "
            f"all training images, the largest curvature agrees with the closed form "
            f"λ_max(M)/10 for every encoding, to a relative {sci(worst)} at most."
        )
    else:
        statement = (
            f"Measured by Lanczos iteration, the largest curvature departs from the closed "
            f"form λ_max(M)/10 by up to a relative {worst:.1e}."
        )
    return Claim("hessian_matches_formula", holds, statement, {"max_relative_difference": worst})


def top_direction_is_the_mean(results: dict) -> Claim:
    c = _conditioning(results)
    cosines = {e: c[e]["top_direction_mean_cosine"] for e in ("normal", "inverted")}
    norms = {e: c[e]["mean_input_norm_squared"] for e in ("normal", "inverted")}
    holds = all(v > 0.99 for v in cosines.values())
    detail = (
        f"(cosine {cosines['normal']:.3f} for normal and {cosines['inverted']:.3f} for "
        f"inverted inputs); the squared length of the mean input, with its bias 1, is "
        f"{norms['normal']:.3g} and {norms['inverted']:.3g}"
    )
    if holds:
        statement = (
            "In both polarities that steepest direction is the mean image "
            f"{detail}: inverted images share a bright background, so their mean is long."
        )
    else:
        statement = f"The steepest direction is not simply the mean image {detail}."
    return Claim(
        "top_direction_is_the_mean",
        holds,
        statement,
        {"cosines": cosines, "mean_norm_squared": norms},
    )


def global_standardisation_does_not_centre(results: dict) -> Claim:
    c = _conditioning(results)
    _need(c, "standardised")
    raw, standard = c["normal"], c["standardised"]
    holds = (
        standard["hessian_lambda_max"] > raw["hessian_lambda_max"]
        and standard["top_direction_mean_cosine"] > 0.99
    )
    numbers = (
        f"curvature {standard['hessian_lambda_max']:.3g} and edge "
        f"{standard['stability_edge']:.3g}, against {raw['hessian_lambda_max']:.3g} and "
        f"{raw['stability_edge']:.3g} for raw x/255"
    )
    if holds:
        statement = (
            "The usual standardisation, (x/255 − 0.1307)/0.3081, does not remove the "
            f"problem: it leaves {numbers}. It subtracts one global mean, so every "
            "background pixel becomes the same negative number and the mean image is "
            "still long (its top direction has cosine "
            f"{standard['top_direction_mean_cosine']:.3f} with the mean)."
        )
    else:
        statement = f"The usual standardisation, (x/255 − 0.1307)/0.3081, gives {numbers}."
    return Claim(
        "global_standardisation_does_not_centre",
        holds,
        statement,
        {"standardised": standard["hessian_lambda_max"], "normal": raw["hessian_lambda_max"]},
    )


def _sweep_max_difference(results: dict, first: str, second: str) -> float:
    accuracy = results["sweep"]["metrics"]["accuracy"]
    _need(accuracy, first, second)
    a = [v for rate in accuracy[first]["per_seed"] for seed in rate for v in seed]
    b = [v for rate in accuracy[second]["per_seed"] for seed in rate for v in seed]
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def negation_and_centred_inversion_change_nothing(results: dict) -> Claim:
    c = _conditioning(results)
    _need(c, "normal", "negated", "centred", "inverted-centred")
    negation = _sweep_max_difference(results, "normal", "negated")
    centred = _sweep_max_difference(results, "centred", "inverted-centred")
    grid = results["sweep"]["metrics"]["grid"]
    models = len(grid["learning_rates"]) * grid["seeds"] * len(grid["checkpoints"])
    tolerance = 1e-4  # one test image in 10,000
    holds = negation <= tolerance and centred <= tolerance
    if holds:
        agreement = (
            "are identical to the original's"
            if negation == centred == 0
            else f"differ from the original's by at most {max(negation, centred):.4f}"
        )
        statement = (
            f"Two changes of encoding provably change nothing, and measurably do not: "
            f"negating the inputs (the weights simply change sign), and inverting images "
            f"that have been centred per pixel, which is the same negation. In all "
            f"{models} trained models of each, their test accuracies {agreement}, and "
            f"both centred polarities have curvature "
            f"{c['centred']['hessian_lambda_max']:.3g}."
        )
    else:
        statement = (
            f"Negation and centred inversion should leave training unchanged, but test "
            f"accuracies differ by up to {negation:.4f} and {centred:.4f}."
        )
    return Claim(
        "negation_and_centred_inversion_change_nothing",
        holds,
        statement,
        {"negation_max_difference": negation, "centred_max_difference": centred},
    )


def best_rate_tracks_the_edge(results: dict) -> Claim:
    c = _conditioning(results)
    sweep = results["sweep"]["metrics"]
    rates = sweep["grid"]["learning_rates"]
    updates = sweep["grid"]["checkpoints"][-1]
    last = str(updates)
    shown = [
        e
        for e in ("normal", "inverted", "centred", "standardised")
        if e in c and e in sweep["best"]
    ]
    _need(sweep["best"], "normal", "inverted")
    verdicts, parts = {}, []
    for encoding in shown:
        edge, best = c[encoding]["stability_edge"], sweep["best"][encoding][last]["learning_rate"]
        below = [r for r in rates if r <= edge]
        expected = below[-1] if below else rates[0]
        # Within one grid step of the largest rate below the edge.
        index = rates.index(expected)
        verdicts[encoding] = best in rates[max(0, index - 1) : index + 2]
        parts.append(f"{encoding} {best:g} (edge {edge:.3g})")
    holds = all(verdicts.values())
    listed = "; ".join(parts)
    if holds:
        statement = (
            f"The sweep bears the prediction out: after {updates:,} updates each "
            f"encoding does best within one grid step of the largest learning rate "
            f"below its edge: {listed}."
        )
    else:
        statement = (
            f"The sweep does not bear the prediction out for every encoding: best "
            f"learning rates after {updates:,} updates are {listed}."
        )
    return Claim("best_rate_tracks_the_edge", holds, statement, {"within_one_step": verdicts})


def inverted_behind_at_best_rates(results: dict) -> Claim:
    sweep = results["sweep"]["metrics"]
    comparisons = sweep["comparisons"].get("normal_minus_inverted_at_best")
    if comparisons is None:
        raise MissingData("normal_minus_inverted_at_best")
    updates = sweep["grid"]["checkpoints"][-1]
    last = str(updates)
    diff = comparisons[last]
    best = {e: sweep["best"][e][last] for e in ("normal", "inverted")}
    low, high = diff["ci95"]
    detail = (
        f"after {updates:,} updates, normal inputs at learning rate "
        f"{best['normal']['learning_rate']:g} reach {pct(best['normal']['mean'])} and "
        f"inverted inputs at {best['inverted']['learning_rate']:g} reach "
        f"{pct(best['inverted']['mean'])}, a paired difference of "
        f"{points(diff['mean'])} (95 % CI {interval(diff['ci95'], unit='points')}, "
        f"{pvalue(diff['p_value'])}, {diff['n']} seeds)"
    )
    why = ""
    if "conditioning" in results:
        c = results["conditioning"]["metrics"]["encodings"]
        second = {e: c[e]["second_moment_lambda_2"] / 10 for e in ("normal", "inverted")}
        rate_ratio = best["normal"]["learning_rate"] / best["inverted"]["learning_rate"]
        if rate_ratio >= 3 and abs(second["inverted"] / second["normal"] - 1) < 0.2:
            why = (
                f" The edge caps the inverted model's learning rate at 1/{rate_ratio:.3g} of "
                f"the normal one's, while the next-steepest curvature is about the same "
                f"({second['normal']:.3g} and {second['inverted']:.3g}), so every other "
                "direction of the weights moves that much more slowly per update."
            )
    if low > 0:
        statement = (
            f"Even compared each at its own best learning rate, inversion still costs "
            f"accuracy: {detail}.{why}"
        )
    elif high < 0:
        statement = f"Compared each at its own best learning rate, inversion helps: {detail}."
    else:
        statement = (
            f"Compared each at its own best learning rate, the encodings cannot be told "
            f"apart: {detail}."
        )
    return Claim(
        "inverted_behind_at_best_rates",
        low > 0,
        statement,
        {"difference": diff["mean"], "ci95": diff["ci95"], "checkpoint": updates},
    )


def _ahead(difference: dict) -> str | None:
    """Which encoding a paired difference (normal minus inverted) puts ahead, if any."""
    low, high = difference["ci95"]
    return "normal" if low > 0 else "inverted" if high < 0 else None


def convnet_verdict(difference: dict) -> str:
    ahead = _ahead(difference)
    return f"{ahead} inputs end ahead" if ahead else "no difference can be told from chance"


def _convnet_comparison(entry: dict) -> str:
    diff = entry["difference"]
    finals = {e: r["final"]["mean"] for e, r in entry["encodings"].items()}
    return (
        f"{pct(finals['normal'], 2)} against {pct(finals['inverted'], 2)}, a paired "
        f"difference of {points(diff['mean'], 2)} (95 % CI "
        f"{interval(diff['ci95'], 2, 'points')}, {pvalue(diff['p_value'])})"
    )


def convnet_difference(results: dict) -> Claim:
    setups = results["convnet"]["metrics"]["setups"]
    verdicts = {name: convnet_verdict(entry["difference"]) for name, entry in setups.items()}
    updates = next(iter(setups.values()))["updates"][-1]
    seeds = len(results["convnet"]["seeds"])
    chance = "no difference can be told from chance"
    holds = all(v == chance for v in verdicts.values())
    opening = (
        f"After {updates:,} updates of the standard Keras convnet ({seeds} seeds, the same "
        "initial weights and batches for both encodings)"
    )
    if len(setups) == 1:
        ((name, entry),) = setups.items()
        statement = (
            f"{opening}, with {setup_label(entry)} {verdicts[name]}: {_convnet_comparison(entry)}."
        )
        return Claim("convnet_difference", holds, statement, {"verdicts": verdicts})
    differing = [name for name, v in verdicts.items() if v != chance]
    alike = [name for name in setups if name not in differing]
    parts = []
    if alike:
        diffs = [setups[name]["difference"]["mean"] for name in alike]
        labels = "; ".join(setup_label(setups[name]) for name in alike)
        parts.append(
            f"no difference between the encodings can be told from chance with {labels} "
            f"(paired differences from {points(min(diffs), 2)} to {points(max(diffs), 2)})"
        )
    for name in differing:
        entry = setups[name]
        parts.append(f"with {setup_label(entry)} {verdicts[name]}: {_convnet_comparison(entry)}")
    statement = f"{opening}, " + "; ".join(parts) + "."
    if differing:
        statement += (
            " Each setup is a test at the 5 % level, so about one setup in twenty would show "
            "a difference by chance alone."
        )
    return Claim("convnet_difference", holds, statement, {"verdicts": verdicts})


def convnet_gap_over_training(results: dict) -> Claim:
    """How the gap between the encodings evolves: at the first test against the last. It
    holds when some setup differs early and no longer differs at the end: inversion then
    changed how fast the network learned, not where it ended."""
    setups = results["convnet"]["metrics"]["setups"]
    entry = next(iter(setups.values()))
    first, last = entry["updates"][0], entry["updates"][-1]
    if first == last:
        raise MissingData("a single test per run")
    early = {name: _ahead(e["difference_by_update"][0]) for name, e in setups.items()}
    late = {name: _ahead(e["difference"]) for name, e in setups.items()}
    differing = [name for name in setups if early[name]]
    caught_up = [name for name in differing if late[name] is None]
    holds = bool(caught_up)
    if not differing:
        statement = (
            f"Already at the first test, after {first:,} updates, no setup shows a difference "
            "between the encodings that can be told from chance."
        )
    else:
        listed = "; ".join(
            f"with {setup_label(setups[name])} {early[name]} inputs lead by "
            f"{points(abs(setups[name]['difference_by_update'][0]['mean']), 2)} (95 % CI "
            f"{interval(setups[name]['difference_by_update'][0]['ci95'], 2, 'points')})"
            for name in differing
        )
        statement = f"At the first test, after {first:,} updates, {listed}"
        others = len(setups) - len(differing)
        statement += (
            f"; {'the other setup shows' if others == 1 else 'the other setups show'} no "
            "difference that can be told from chance."
            if others
            else "."
        )
        if caught_up:
            statement += (
                f" By update {last:,} the difference can no longer be told from chance "
                f"with {'; '.join(setup_label(setups[n]) for n in caught_up)}: there "
                "inversion changed how fast the network learned, not where it ended."
            )
        remaining = [setup_label(setups[n]) for n in differing if n not in caught_up]
        if remaining:
            statement += f" With {'; '.join(remaining)} a difference remains at update {last:,}."
    return Claim(
        "convnet_gap_over_training",
        holds,
        statement,
        {"first_test": early, "last_test": late, "updates": [first, last]},
    )


def zeros_buy_no_speed(results: dict) -> Claim:
    timing = results["speed"]["metrics"]["convnet"]
    times = {e: r["mean"] for e, r in timing["encodings"].items()}
    ratio = times["inverted"] / times["normal"]
    rounds = timing["difference"]["n"]
    holds = abs(ratio - 1) < 0.1
    difference = timing["difference"]
    listed = (
        f"{ms(times['normal'])} for normal and {ms(times['inverted'])} for "
        f"inverted images (mean of {rounds} rounds of model.fit with the two taken in turn, "
        f"paired difference {ms(difference['mean'], 2)}, 95{NBSP}% CI "
        f"{difference['ci95'][0] * 1000:.2f} to {ms(difference['ci95'][1], 2)}, "
        f"{pvalue(difference['p_value'])})"
    )
    if holds:
        statement = (
            f"A zero background buys no speed per step: one training update of the convnet "
            f"costs {listed}, on the same machine. Dense convolution and matrix kernels "
            "multiply zeros like any other number; fewer updates to a target accuracy is the "
            "only speed an encoding can offer."
        )
    else:
        statement = (
            f"Time per training update differs between the encodings by more than 10 %: {listed}."
        )
    return Claim("zeros_buy_no_speed", holds, statement, {"inverted_over_normal": ratio})


def polarity_does_not_transfer(results: dict) -> Claim:
    trained = results["mismatch"]["metrics"]["trained_on"]
    same = {p: trained[p]["tested_on"][p]["mean"] for p in ("normal", "inverted")}
    cross = {
        "normal": trained["normal"]["tested_on"]["inverted"]["mean"],
        "inverted": trained["inverted"]["tested_on"]["normal"]["mean"],
    }
    holds = all(cross[p] < 0.1 for p in cross)  # below the 10 % of guessing
    detail = (
        f"trained on normal images it scores {pct(same['normal'])} on normal and "
        f"{pct(cross['normal'], 2)} on inverted test images; trained on inverted images, "
        f"{pct(same['inverted'])} and {pct(cross['inverted'], 2)}"
    )
    if holds:
        statement = (
            "Testing on the other polarity is a different matter from training on it: "
            f"softmax regression does worse than guessing (10 %): {detail}. Inverting "
            "the input turns each class's weighted sum w·x into w·1 − w·x, which reverses "
            "the ranking of the classes up to one constant per class."
        )
    else:
        statement = (
            f"Tested on the other polarity, softmax regression keeps some accuracy: {detail}."
        )
    mixed = trained.get("mixed")
    if mixed:
        statement += (
            f" Trained on both polarities mixed, it reaches only "
            f"{pct(mixed['tested_on']['normal']['mean'])} on normal and "
            f"{pct(mixed['tested_on']['inverted']['mean'])} on inverted images."
        )
    return Claim("polarity_does_not_transfer", holds, statement, {"same": same, "cross": cross})


# --- Equivalences -------------------------------------------------------------------------

# Float32 logits of a few units agree to about 1e-6 when the algebra is exact; a broken
# identity moves them by tenths or more.
ROUNDING_TOLERANCE = 1e-4
EXACT_ABSORPTION = ("dense", "conv_valid", "conv_same_background_padding")


def absorption_reproduces_predictions(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    cases = {c: metrics["absorption"][c] for c in EXACT_ABSORPTION}
    worst = max(c["max_abs_logit_difference"] for c in cases.values())
    changed = sum(c["predictions_changed"] for c in cases.values())
    largest = max(c["max_abs_logit"] for c in cases.values())
    holds = worst <= ROUNDING_TOLERANCE and changed == 0
    n = metrics["test_images"]
    if holds:
        statement = (
            "Absorbing the inversion into the first layer (W′ = −W, b′ = b + W·1) gives "
            "back the trained network, up to float32 rounding: for a dense first layer and "
            "for a 'valid' convolution, inverted images through the rewritten network give "
            f"the logits that normal images give through the original, to within "
            f"{sci(worst, 1)} (the logits reach {largest:.1f}), and none of the {n:,} test "
            "predictions changes."
        )
    else:
        statement = (
            "Absorbing the inversion into the first layer (W′ = −W, b′ = b + W·1) does "
            f"not give back the trained network here: logits differ by up to {sci(worst, 2)} and "
            f"{changed} of the test predictions change."
        )
    return Claim(
        "absorption_reproduces_predictions",
        holds,
        statement,
        {"max_abs_logit_difference": worst, "predictions_changed": changed},
    )


def same_padding_breaks_absorption(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    zero = metrics["absorption"]["conv_same_zero_padding"]
    background = metrics["absorption"]["conv_same_background_padding"]
    holds = (
        zero["max_abs_logit_difference"] > ROUNDING_TOLERANCE
        and background["max_abs_logit_difference"] <= ROUNDING_TOLERANCE
        and background["predictions_changed"] == 0
    )
    n = metrics["test_images"]
    if holds:
        statement = (
            "'Same' padding breaks the identity: its zeros are background for normal images "
            "but ink for inverted ones, so the rewritten network sees every inverted image "
            f"framed in ink. {zero['predictions_changed']:,} of {n:,} predictions change and "
            f"accuracy moves from {pct(zero['accuracy_reference'], 2)} to "
            f"{pct(zero['accuracy_other'], 2)}. Padding inverted images with their "
            "background value, 1, restores every prediction (logits within "
            f"{sci(background['max_abs_logit_difference'], 1)})."
        )
    else:
        statement = (
            "Padding should matter for the rewritten 'same' convolution, but here zero "
            f"padding moves logits by {sci(zero['max_abs_logit_difference'], 2)} and background "
            f"padding by {sci(background['max_abs_logit_difference'], 2)}."
        )
    return Claim(
        "same_padding_breaks_absorption",
        holds,
        statement,
        {
            "zero_padding_predictions_changed": zero["predictions_changed"],
            "background_padding_max_abs_logit_difference": background["max_abs_logit_difference"],
        },
    )


def batch_norm_mirrors_training(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    exact, single = metrics["mirrored_training_float64"], metrics["mirrored_training"]
    bn64, _ = worst_at_last_update(exact["batch_norm"], "batch_statistics")
    plain64, _ = worst_at_last_update(exact["without_batch_norm"], "running_statistics")
    bn32, bn32_changed = worst_at_last_update(single["batch_norm"], "batch_statistics")
    plain32, plain32_changed = worst_at_last_update(
        single["without_batch_norm"], "running_statistics"
    )
    holds = bn64 <= ROUNDING_TOLERANCE < plain64
    brief, updates = exact["batch_norm"]["updates"][-1], single["batch_norm"]["updates"][-1]
    n = metrics["test_images"]
    float32 = (
        f"In float32 the mirror is only as good as rounding: the inverted network's first "
        f"layer carries the offset W·1 into the batch mean, and training amplifies the "
        f"rounding. After {updates:,} updates the largest logit difference is {sci(bn32, 2)} "
        f"and {bn32_changed:,} of {n:,} predictions differ, against {sci(plain32, 2)} and "
        f"{plain32_changed:,} without batch normalisation."
    )
    if holds:
        statement = (
            "Batch normalisation right after the first convolution makes training itself "
            "invariant: its batch mean removes the constant W·1, so a network trained on "
            "inverted images from the mirrored start (first kernel negated, everything else "
            "equal) follows the mirror image of the run on normal images. In float64, after "
            f"{brief} updates, the two networks' logits in training mode differ by "
            f"{sci(bn64, 1)}; without batch normalisation the same mirrored start drifts by "
            f"{sci(plain64, 2)}. " + float32
        )
    else:
        statement = (
            "Batch normalisation should make training on inverted images the mirror of "
            f"training on normal ones, but in float64 their logits differ by {sci(bn64, 2)} "
            f"after {brief} updates (without it: {sci(plain64, 2)}). " + float32
        )
    return Claim(
        "batch_norm_mirrors_training",
        holds,
        statement,
        {"float64": {"batch_norm": bn64, "without": plain64}, "float32": {"batch_norm": bn32}},
    )


def running_statistics_break_the_mirror(results: dict) -> Claim:
    metrics = results["equivalences"]["metrics"]
    pair = metrics["mirrored_training"]["batch_norm"]
    batch, batch_changed = worst_at_last_update(pair, "batch_statistics")
    running, running_changed = worst_at_last_update(pair, "running_statistics")
    accuracy = pair["modes"]["running_statistics"]["final_accuracy"]
    diff = accuracy["difference"]
    early = metrics["mirrored_training_float64"]["batch_norm"]
    _, early_running = worst_at_last_update(early, "running_statistics")
    _, early_batch = worst_at_last_update(early, "batch_statistics")
    holds = running > batch
    comparison = (
        f"In float64, after {early['updates'][-1]} updates, when the running averages have "
        f"seen few batches, they change {early_running:,} of {metrics['test_images']:,} test "
        f"predictions where batch statistics change {early_batch}. "
        f"After {pair['updates'][-1]:,} updates, with running statistics the largest logit "
        f"difference is {sci(running, 2)} and {running_changed:,} predictions differ, against "
        f"{sci(batch, 2)} and {batch_changed:,} with batch statistics; test accuracy is "
        f"{pct(accuracy['normal']['mean'], 2)} for normal and "
        f"{pct(accuracy['inverted']['mean'], 2)} for inverted images (paired difference "
        f"{points(diff['mean'], 2)}, 95 % CI {interval(diff['ci95'], 2, 'points')})."
    )
    if holds:
        statement = (
            "Evaluation breaks the mirror: there batch normalisation uses running "
            "averages of past batch means, which start at zero and lag the weights, so the "
            "inverted network's averages, offset by W·1, are not exactly the offset of the "
            "normal one's. " + comparison
        )
    else:
        statement = (
            "The running statistics used at evaluation do not add to the difference between "
            "the mirrored networks. " + comparison
        )
    return Claim(
        "running_statistics_break_the_mirror",
        holds,
        statement,
        {"running": running, "batch": batch},
    )


# --- Fashion-MNIST -------------------------------------------------------------------------


def _on_fashion(claim_fn: Callable[[dict], Claim]) -> Callable[[dict], Claim]:
    def fashion_claim(results: dict) -> Claim:
        claim = claim_fn(fashion_parts(results["fashion"]))
        return Claim(f"fashion_{claim.id}", claim.holds, claim.statement, claim.values)

    fashion_claim.__name__ = f"fashion_{claim_fn.__name__}"
    return fashion_claim


FASHION_CLAIMS = tuple(
    _on_fashion(fn)
    for fn in (
        trials_difference,
        inversion_raises_curvature,
        inverted_behind_at_best_rates,
        convnet_difference,
    )
)


# The claims each experiment's results support or refute, in the article's order.
CLAIMS: dict[str, tuple[Callable[[dict], Claim], ...]] = {
    "background": (background_dominates, lenet_scaling_centres_mnist),
    "conditioning": (
        hessian_matches_formula,
        inversion_raises_curvature,
        top_direction_is_the_mean,
        global_standardisation_does_not_centre,
    ),
    "convnet": (convnet_difference, convnet_gap_over_training),
    "speed": (zeros_buy_no_speed,),
    "mismatch": (polarity_does_not_transfer,),
    "equivalences": (
        absorption_reproduces_predictions,
        same_padding_breaks_absorption,
        batch_norm_mirrors_training,
        running_statistics_break_the_mirror,
    ),
    "fashion": FASHION_CLAIMS,
    "sweep": (
        negation_and_centred_inversion_change_nothing,
        best_rate_tracks_the_edge,
        inverted_behind_at_best_rates,
    ),
    "replication": (
        replication_reproduces_answer,
        answer_protocol_gap,
        trials_difference,
        never_inked_weights_stay_put,
    ),
}


def evaluate(results: dict) -> dict[str, dict]:
    """Every claim whose experiment has results, by id."""
    evaluated = {}
    for experiment, claim_fns in CLAIMS.items():
        if experiment not in results:
            continue
        for claim_fn in claim_fns:
            try:
                claim = claim_fn(results)
            except MissingData:
                continue  # a smaller profile lacks an encoding or experiment this claim needs
            evaluated[claim.id] = claim.as_dict()
    return evaluated
