"""The same questions on Fashion-MNIST, whose build negated the photographs to match MNIST.

Fashion-MNIST's images were turned into "dark background, bright object" on purpose, so
that it could drop in for MNIST (Xiao et al., 2017). This module repeats, on it, the
measurements that decide the MNIST answer, with the MNIST experiments' own code:

1. independent trials of the accepted answer's softmax regression (replication);
2. the curvature of the loss at initialisation and its stability edge (conditioning);
3. a learning-rate sweep, reduced to the two polarities and to 50 and 500 updates (sweep);
4. the Keras convnet with one optimiser, Adam (convnet).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from experiments import conditioning, convnet, replication, sweep
from polarity.data import POLARITIES


@dataclass(frozen=True)
class Config:
    dataset: str = "fashion-mnist"
    trials: int = 100
    trial_updates: int = 50
    trial_learning_rate: float = 0.5  # the accepted answer's
    trial_first_seed: int = 6000
    # The instability onset's grid, seeds and loss sample, as the MNIST experiment's.
    onset_rates_per_decade: int = conditioning.Config.onset_rates_per_decade
    onset_n_seeds: int = conditioning.Config.onset_n_seeds
    onset_eval_size: int = conditioning.Config.onset_eval_size
    sweep_learning_rates: tuple[float, ...] = sweep.LEARNING_RATES
    sweep_checkpoints: tuple[int, ...] = (50, 500)
    sweep_n_seeds: int = 10
    sweep_first_seed: int = 6200
    convnet_optimizer: tuple[str, float] = ("adam", 0.001)
    convnet_n_seeds: int = 5
    convnet_first_seed: int = 6300
    convnet_updates: int = 1800  # three epochs, as the MNIST convnet
    convnet_eval_every: int = 300
    convnet_tested_at: tuple[int, ...] = ()  # only the last: it is MNIST's shared budget
    train_images: int = 60000  # the smaller profiles use fewer training images (curvature
    test_images: int = 10000  # and convnet) and test images (convnet)


PROFILES = {
    "smoke": Config(
        trials=3,
        onset_rates_per_decade=4,
        onset_n_seeds=2,
        onset_eval_size=2000,
        sweep_learning_rates=(0.01, 0.1, 1.0),
        sweep_checkpoints=(50,),
        sweep_n_seeds=2,
        convnet_n_seeds=2,
        convnet_updates=40,
        convnet_eval_every=20,
        convnet_tested_at=(20,),
        train_images=2000,
        test_images=1000,
    ),
    "quick": Config(
        trials=20,
        onset_rates_per_decade=4,
        onset_n_seeds=2,
        onset_eval_size=2000,
        sweep_checkpoints=(50,),
        sweep_n_seeds=3,
        convnet_n_seeds=2,
        convnet_updates=100,
        convnet_eval_every=50,
        convnet_tested_at=(50,),
        train_images=5000,
        test_images=2000,
    ),
    "full": Config(),
}


def run(config: Config, data_dir=None) -> dict:
    """Each part's result in the envelope of the MNIST experiment it repeats (its own
    config, seeds and metrics), so the report judges and draws it with the same code."""
    trials_config = replication.Config(
        dataset=config.dataset,
        encodings=POLARITIES,
        learning_rate=config.trial_learning_rate,
        trials=config.trials,
        trial_updates=config.trial_updates,
        trial_first_seed=config.trial_first_seed,
    )
    prepared = replication.prepare(trials_config, data_dir)
    trials = replication.independent_trials(trials_config, prepared)
    curvature_config = conditioning.Config(
        dataset=config.dataset,
        encodings=POLARITIES,
        onset_rates_per_decade=config.onset_rates_per_decade,
        onset_n_seeds=config.onset_n_seeds,
        onset_eval_size=config.onset_eval_size,
        train_images=config.train_images,
    )
    curvature = conditioning.run(curvature_config, data_dir)
    sweep_config = sweep.Config(
        dataset=config.dataset,
        encodings=POLARITIES,
        learning_rates=config.sweep_learning_rates,
        checkpoints=config.sweep_checkpoints,
        n_seeds=config.sweep_n_seeds,
        first_seed=config.sweep_first_seed,
    )
    rates = sweep.run(sweep_config, data_dir)
    convnet_config = convnet.Config(
        dataset=config.dataset,
        setups=(convnet.Setup("valid", False, *config.convnet_optimizer, config.convnet_updates),),
        n_seeds=config.convnet_n_seeds,
        first_seed=config.convnet_first_seed,
        eval_every=config.convnet_eval_every,
        train_images=config.train_images,
        test_images=config.test_images,
        tested_at=config.convnet_tested_at,
        mixed=None,
    )
    network = convnet.train_setups(convnet_config, data_dir)
    parts = {
        "replication": (
            trials_config,
            [config.trial_first_seed + t for t in range(config.trials)],
            {"independent_trials": trials},
        ),
        "conditioning": (curvature_config, [], curvature["metrics"]),
        "sweep": (sweep_config, rates["seeds"], rates["metrics"]),
        "convnet": (
            convnet_config,
            network["seeds"],
            {"setups": network["setups"], "families": network["families"]},
        ),
    }
    return {
        "seeds": sorted({seed for _, seeds, _ in parts.values() for seed in seeds}),
        "metrics": {
            name: {"config": asdict(part_config), "seeds": seeds, "metrics": metrics}
            for name, (part_config, seeds, metrics) in parts.items()
        },
    }
