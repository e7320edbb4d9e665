"""How every run starts its generators: part of every result's cache key."""


def seed_generators() -> None:
    """Every global generator starts from the same state, so whatever an experiment draws
    without a seed of its own (a layer's dropout masks) repeats from run to run."""
    import keras  # here, not at the top: building the report must not import Keras

    keras.utils.set_random_seed(0)
