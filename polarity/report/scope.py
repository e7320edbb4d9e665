"""Whose results a claim or figure reads: MNIST's experiments, or the Fashion-MNIST
experiment's repeats of them, each stored in the envelope of the experiment it repeats."""

from __future__ import annotations

from polarity.report.base import Results

# Data set -> the experiment whose metrics hold its repeats of the MNIST experiments.
REPEATS = {"fashion-mnist": "fashion"}


def scoped(results: dict, dataset: str = "mnist") -> Results:
    """The results of `dataset` by experiment name, as MNIST's are laid out."""
    if dataset == "mnist":
        return Results(results)
    return Results(Results(results)[REPEATS[dataset]]["metrics"])


def inputs_of(results: dict, dataset: str, experiments: tuple[str, ...]):
    """The results a figure draws, the envelope whose provenance it carries, and the
    results files it comes from."""
    inputs = [scoped(results, dataset)[name] for name in experiments]
    if dataset == "mnist":
        return inputs[0], inputs, [f"{name}.json" for name in experiments]
    envelope = results[REPEATS[dataset]]
    return envelope, inputs, [f"{envelope['experiment']}.json"]
