"""The background experiment's grey-level facts, against NumPy's float64 arithmetic on the
real images."""

import numpy as np
import pytest

from experiments import background


@pytest.fixture(scope="module")
def images(mnist):
    return mnist.test.images  # 10,000 images: the float64 comparison stays small


def test_grey_level_counts_cover_every_pixel_once_however_they_are_sliced(images, monkeypatch):
    whole = np.bincount(images.reshape(-1), minlength=256)
    monkeypatch.setattr(background, "COUNT_SLICE", 999_983)  # a prime: slices end mid-image
    np.testing.assert_array_equal(background.grey_level_counts(images), whole)
    assert whole.sum() == images.size


def test_description_agrees_with_float64_arithmetic_on_mnist(images):
    described = background.describe(images)
    scaled = images.astype(np.float64) / 255.0
    assert described["mean"] == pytest.approx(scaled.mean(), rel=1e-14)
    assert described["std"] == pytest.approx(scaled.std(), rel=1e-14)
    assert described["zero_fraction"] == np.mean(images == 0)
    assert described["full_ink_fraction"] == np.mean(images == 255)
    np.testing.assert_array_equal(described["mean_image"], np.round(scaled.mean(axis=0), 6))
    lenet = background.LENET_BACKGROUND + scaled * (
        background.LENET_INK - background.LENET_BACKGROUND
    )
    assert described["lenet_scaled"]["mean"] == pytest.approx(lenet.mean(), rel=1e-13)
    assert described["lenet_scaled"]["std"] == pytest.approx(lenet.std(), rel=1e-13)
    assert described["never_inked_pixels"] == int(np.sum(images.max(axis=0) == 0))
