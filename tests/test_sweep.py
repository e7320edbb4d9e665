"""The sweep chooses each encoding's learning rate on validation images, never on test ones."""

import json

import numpy as np

from experiments import sweep
from polarity import paths


def test_best_rates_are_chosen_on_validation_not_test():
    config = sweep.Config(encodings=("normal",), learning_rates=(0.1, 1.0), checkpoints=(50,))
    shape = (1, 2, 3, 1)  # encodings, rates, seeds, checkpoints
    test = np.empty(shape)
    validation = np.empty(shape)
    test[0, :, :, 0] = [[0.9] * 3, [0.5] * 3]  # test accuracy prefers rate 0.1...
    validation[0, :, :, 0] = [[0.4] * 3, [0.8] * 3]  # ...validation prefers rate 1.0
    best = sweep.summarise(config, test, validation, np.ones(shape[:3], bool))["best"]
    chosen = best["normal"]["50"]
    assert chosen["learning_rate"] == 1.0 and chosen["chosen_on"] == "validation"
    assert chosen["mean"] == 0.5  # test accuracy is reported at the chosen rate


def test_results_of_record_chose_every_rate_on_validation():
    metrics = json.loads((paths.RESULTS_OF_RECORD / "sweep.json").read_text())["metrics"]
    grid = metrics["grid"]
    assert grid["chosen_on"] == "validation" and grid["validation_size"] == 5000
    rates = grid["learning_rates"]
    assert rates[0] <= 0.001 and rates[-1] >= 4.0
    assert len(rates) >= 4 * np.log10(rates[-1] / rates[0])  # at least four a decade
    for encoding, by_checkpoint in metrics["best"].items():
        on_validation = np.array(metrics["accuracy"][encoding]["validation_mean"])
        for k, checkpoint in enumerate(grid["checkpoints"]):
            chosen = by_checkpoint[str(checkpoint)]
            assert chosen["chosen_on"] == "validation"
            assert chosen["rate_index"] == int(np.argmax(on_validation[:, k]))
