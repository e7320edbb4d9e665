"""The article's conclusions, each a predicate over the results with the values it rests on.

A claim's sentence is chosen here, from whether its predicate holds, and the templates can
only insert that sentence: a conclusion the data do not support cannot render as true.
`report/claims.json` records every claim with its verdict and values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from polarity.formatting import interval, pct, points, prop, pvalue

# How close a rerun of a single-run protocol must come to count as reproducing it.
REPLICATION_TOLERANCE = 0.01


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
    replication = results["replication"]
    ours = {e: r["mean"] for e, r in replication["metrics"]["answer_protocol"].items()}
    reported = replication["reference"]["answer_reported"]
    gaps = {e: abs(ours[e] - reported[e]) for e in reported}
    holds = all(gap <= REPLICATION_TOLERANCE for gap in gaps.values())
    numbers = (
        f"{prop(ours['normal'])} against the answer's {prop(reported['normal'])} for normal "
        f"inputs and {prop(ours['inverted'])} against {prop(reported['inverted'])} for "
        "inverted ones"
    )
    if holds:
        statement = (
            f"Rerunning the answer's protocol reproduces its numbers: {numbers}, each "
            f"within {points(REPLICATION_TOLERANCE, 0)}."
        )
    else:
        statement = (
            f"Rerunning the answer's protocol does not reproduce its numbers within "
            f"{points(REPLICATION_TOLERANCE, 0)}: {numbers}."
        )
    return Claim(
        "replication_reproduces_answer",
        holds,
        statement,
        {"ours": ours, "reported": reported, "tolerance": REPLICATION_TOLERANCE},
    )


def answer_protocol_gap(results: dict) -> Claim:
    protocol = results["replication"]["metrics"]["answer_protocol"]
    gap = protocol["normal"]["mean"] - protocol["inverted"]["mean"]
    holds = gap > 0
    if holds:
        statement = (
            f"Under that protocol the inverted encoding averages {points(gap)} lower "
            "test accuracy, a single run per encoding with no measure of its spread."
        )
    else:
        statement = (
            f"Under that protocol the inverted encoding is not worse: it averages "
            f"{points(-gap)} higher test accuracy, from a single run per encoding."
        )
    return Claim("answer_protocol_gap", holds, statement, {"normal_minus_inverted": gap})


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


# The claims each experiment's results support or refute, in the article's order.
CLAIMS: dict[str, tuple[Callable[[dict], Claim], ...]] = {
    "background": (background_dominates, lenet_scaling_centres_mnist),
    "replication": (
        replication_reproduces_answer,
        answer_protocol_gap,
        trials_difference,
        never_inked_weights_stay_put,
    ),
}


def evaluate(results: dict) -> dict[str, dict]:
    """Every claim whose experiment has results, by id."""
    return {
        claim.id: claim.as_dict()
        for experiment, claim_fns in CLAIMS.items()
        if experiment in results
        for claim in (fn(results) for fn in claim_fns)
    }
