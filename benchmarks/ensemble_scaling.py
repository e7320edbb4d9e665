"""How the ensemble runner's cost grows with the number of members: 50 updates each."""

from __future__ import annotations

import time

import numpy as np

from polarity import data
from polarity.ensemble import SoftmaxEnsemble
from polarity.training import tutorial_batches

UPDATES, BATCH = 50, 100


def main(member_counts=(1, 10, 100, 1000)) -> None:
    train, _ = data.tensorflow_tutorial_split(data.load_dataset("mnist").train)
    print(f"{UPDATES} updates of batch {BATCH} per member; wall time with compilation, then warm")
    print(f"{'members':>8} {'first call':>11} {'warm':>8} {'warm per member':>16}")
    for members in member_counts:
        schedules = np.stack(
            [tutorial_batches(len(train), BATCH, UPDATES, seed=m) for m in range(members)]
        )
        encodings = ["normal", "inverted"] * (members // 2) + ["normal"] * (members % 2)
        start = time.perf_counter()
        runner = SoftmaxEnsemble(
            train.images, train.labels, encodings, [0.5] * members, steps_per_execution=UPDATES
        )
        runner.train(schedules)
        first = time.perf_counter() - start
        start = time.perf_counter()
        runner.train(schedules)
        warm = time.perf_counter() - start
        print(f"{members:>8} {first:>10.2f}s {warm:>7.2f}s {warm / members * 1000:>13.1f} ms")


if __name__ == "__main__":
    main()
