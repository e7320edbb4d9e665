"""Many models of one architecture trained by one compiled Keras model.

Keras traces a model's train function the first time the model trains: about 1.5 s for the
MNIST convnet on a 2-core CPU, longer than a smoke run trains it. A second model object of
the same architecture is traced again, although its program is the same. Here each model
keeps its own variables, and its optimiser's state is kept beside it; to train, both are
copied into one compiled model per architecture (the *program*), which trains and is copied
back. The program is traced once. The numbers are those of separate models: the same graph
runs on the same values, copied exactly.

A model trained here is an uncompiled Keras model, which the caller builds, seeds and
evaluates as before (eagerly, `model(x)`), so random draws happen where they did.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import keras

from polarity.backend import fit_in_order


class SharedPrograms:
    """One compiled model per architecture key; `fit` trains any model of that architecture.

    `build(key)` returns a new uncompiled model of the architecture `key` names and
    `compile(model)` compiles it; each is called once per key, when the key is first
    trained. Building draws initial weights from Keras's random generators, so create the
    programs (`prepare`) before seeding what must not see those draws."""

    def __init__(self, build: Callable[[Hashable], keras.Model], compile: Callable):
        self._build, self._compile = build, compile
        self._programs: dict[Hashable, tuple[keras.Model, list]] = {}
        self._optimiser_states: dict[int, tuple[keras.Model, list]] = {}

    def prepare(self, *keys: Hashable) -> None:
        """Build and compile the programs for `keys` now."""
        for key in keys:
            if key not in self._programs:
                program = self._compile(self._build(key))
                # The optimiser's variables exist once it is built; their values now are
                # those of an optimiser that has not stepped yet, every new model's start.
                program.optimizer.build(program.trainable_variables)
                fresh = [v.numpy() for v in program.optimizer.variables]
                self._programs[key] = (program, fresh)

    def fit(self, key: Hashable, model: keras.Model, x, y, batch_size: int) -> None:
        """Train `model` for one pass over (x, y) in order, as `fit_in_order` would train it
        compiled on its own; its optimiser's state carries over to its next `fit`."""
        self.prepare(key)
        program, fresh = self._programs[key]
        # Keyed by the model object itself (kept alive beside its state), not by its id,
        # which a later model could reuse.
        _, state = self._optimiser_states.get(id(model), (model, fresh))
        _copy(model.variables, program.variables)
        _copy(state, program.optimizer.variables)
        fit_in_order(program, x, y, batch_size)
        _copy(program.variables, model.variables)
        self._optimiser_states[id(model)] = (
            model,
            [v.numpy() for v in program.optimizer.variables],
        )


def _copy(values, variables) -> None:
    if len(values) != len(variables):
        raise ValueError(f"{len(values)} values for {len(variables)} variables")
    for value, variable in zip(values, variables, strict=True):
        if tuple(variable.shape) != tuple(value.shape):
            raise ValueError(f"{variable.path}: shape {value.shape}, expected {variable.shape}")
        variable.assign(value)
