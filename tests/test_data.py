"""The IDX reader, the named data sets and the encodings, on the real MNIST files."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from experiments.background import grey_level_counts
from polarity import data
from tests.conftest import MNIST_DIR, require_system

# --- The facts stated in shared/data/README.md hold for what the reader returns ----------


def test_label_files_match_the_official_md5():
    for stem, md5 in [
        ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
        ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
    ]:
        raw = gzip.decompress((MNIST_DIR / f"{stem}.gz").read_bytes())
        assert hashlib.md5(raw).hexdigest() == md5


def test_mnist_shapes_counts_and_first_labels(mnist):
    assert mnist.train.images.shape == (60000, 28, 28)
    assert mnist.test.images.shape == (10000, 28, 28)
    assert mnist.train.images.dtype == np.uint8
    counts = np.bincount(mnist.train.labels, minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist.train.labels[0] == 5
    assert mnist.test.labels[0] == 7


def test_mnist_pixel_statistics(mnist):
    # From how often each grey level occurs: exact, and without a float64 copy of the 47
    # million pixels (seconds of fresh memory here).
    counts = grey_level_counts(mnist.train.images)
    assert counts.sum() == 60000 * 28 * 28
    levels = np.arange(256)
    mean = (counts * levels).sum() / counts.sum()
    variance = (counts * (levels - mean) ** 2).sum() / counts.sum()
    assert mean == pytest.approx(33.3184, abs=1e-4)
    assert np.sqrt(variance) == pytest.approx(78.5675, abs=1e-4)


def test_raw_and_gzip_files_read_the_same(tmp_path):
    raw = gzip.decompress((MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "labels").write_bytes(raw)
    np.testing.assert_array_equal(
        data.read_idx(tmp_path / "labels"), data.read_idx(MNIST_DIR / "t10k-labels-idx1-ubyte.gz")
    )


# --- Corrupt input is refused with a message that names the file and the problem --------


def _idx(shape, values: bytes, type_code=0x08) -> bytes:
    return (
        struct.pack(">HBB", 0, type_code, len(shape))
        + struct.pack(f">{len(shape)}I", *shape)
        + values
    )


def test_wrong_magic_number_is_refused(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"\x00\x01\x02")
    with pytest.raises(data.DataError, match=r"bad: not an IDX file \(magic number 0x12340801"):
        data.read_idx(path)


def test_unsupported_type_code_is_refused():
    with pytest.raises(data.DataError, match="type code 0x0d is not supported"):
        data.parse_idx(_idx((2,), b"\x00" * 8, type_code=0x0D))


def test_truncated_values_are_refused():
    with pytest.raises(
        data.DataError, match=r"declares shape \(2, 2\) \(4 values\) but the file holds 3"
    ):
        data.parse_idx(_idx((2, 2), b"\x00\x01\x02"))


def test_truncated_gzip_is_refused(tmp_path):
    whole = (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(data.DataError, match="truncated or corrupt gzip"):
        data.read_idx(path)


def test_image_and_label_counts_must_agree():
    images = np.zeros((3, 28, 28), np.uint8)
    with pytest.raises(data.DataError, match="3 images but 2 labels"):
        data.make_split(images, np.zeros(2, np.uint8), "test")


def test_labels_outside_0_to_9_are_refused():
    labels = np.array([1, 2, 10], np.uint8)
    with pytest.raises(data.DataError, match="label 10 at index 2 is outside 0-9"):
        data.make_split(np.zeros((3, 28, 28), np.uint8), labels, "test")


def test_a_file_from_another_data_set_fails_its_checksum(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem in data.FILES.values():
        (folder / f"{stem}.gz").write_bytes((MNIST_DIR / f"{stem}.gz").read_bytes())
    # A valid IDX file of the right shape but different content.
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx((10000,), b"\x01" * 10000))
    )
    with pytest.raises(data.DataError, match="sha256 .* does not match the known mnist file"):
        data.load_from_dir("mnist", folder)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(data.DataError, match="missing train-images-idx3-ubyte.gz"):
        data.load_from_dir("mnist", tmp_path)


# --- Where data sets are found ------------------------------------------------------------


def test_named_folder_is_searched_first_then_the_usual_places(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    assert data.candidate_dirs("mnist", tmp_path)[:2] == [tmp_path / "mnist", tmp_path]
    assert data.locate("mnist", MNIST_DIR.parent) == MNIST_DIR
    # A named folder that lacks this data set falls through to the next place.
    assert data.locate("mnist", tmp_path) == data.locate("mnist")


def test_a_named_folder_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    with pytest.raises(
        data.DataError, match=f"data folder {tmp_path / 'nowhere'} .from --data-dir. does not exist"
    ):
        data.load_dataset("mnist", tmp_path / "nowhere")


def test_a_named_folder_means_local_data_never_a_download(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data.paths, "SHARED_DATA", tmp_path / "no-shared-data")
    with pytest.raises(data.DataError, match="data set 'mnist' not found .looked in"):
        data.load_dataset("mnist", tmp_path)


def test_environment_variable_names_the_data_folder(monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(MNIST_DIR.parent))
    assert data.locate("mnist") == MNIST_DIR


def test_unknown_data_set_is_refused():
    with pytest.raises(
        data.DataError, match="unknown data set 'emnist'; known: mnist, fashion-mnist"
    ):
        data.load_dataset("emnist")


def test_fashion_mnist_from_the_debian_package():
    spec = data.DATASETS["fashion-mnist"]
    require_system("Debian package dataset-fashion-mnist", spec.system_dir.is_dir())
    fashion = data.load_from_dir("fashion-mnist", spec.system_dir)
    assert fashion.train.images.shape == (60000, 28, 28)
    assert np.bincount(fashion.train.labels).tolist() == [6000] * 10  # balanced by design
    assert np.bincount(fashion.test.labels).tolist() == [1000] * 10


# --- Encodings ----------------------------------------------------------------------------


def test_normal_and_inverted_encodings_are_complements(mnist):
    images = mnist.test.images[:100]
    normal = data.encode(images, "normal")
    inverted = data.encode(images, "inverted")
    assert normal.shape == (100, 784) and normal.dtype == np.float32
    assert normal.min() == 0.0 and normal.max() == 1.0
    np.testing.assert_allclose(normal + inverted, 1.0, atol=1e-7)
    # Background (0) becomes 1 when inverted; full ink (255) becomes 0.
    assert inverted[images.reshape(100, -1) == 0].min() == 1.0
    assert inverted[images.reshape(100, -1) == 255].max() == 0.0


def test_encoding_is_the_same_function_for_train_and_test(mnist):
    image = mnist.train.images[:1]
    np.testing.assert_array_equal(
        data.encode(image, "inverted"), data.encode(image.copy(), "inverted")
    )


def test_unknown_encoding_is_refused(mnist):
    with pytest.raises(Exception, match="unknown encoding 'sepia'"):
        data.encode(mnist.test.images[:1], "sepia")


def moments_over_the_training_set(train: np.ndarray, encoding: str) -> tuple[float, float]:
    """Mean and standard deviation of every encoded training pixel, accumulated in float64
    over blocks of images: the whole encoded set at once is 188 MB of fresh memory, which
    costs seconds on these machines."""
    total = squares = 0.0
    for block in np.split(train, 12):
        x = data.encode(block, encoding, train).astype(np.float64)
        total, squares = total + x.sum(), squares + (x * x).sum()
    mean = total / train.size
    return mean, np.sqrt(squares / train.size - mean**2)


def test_centring_turns_inversion_into_exact_negation(mnist):
    train = mnist.train.images
    centred = data.encode(train[:500], "centred", train)
    np.testing.assert_array_equal(data.encode(train[:500], "inverted-centred", train), -centred)
    assert abs(moments_over_the_training_set(train, "centred")[0]) < 1e-6


def test_standardisation_gives_zero_mean_unit_variance_for_both_polarities(mnist):
    for encoding in ("standardised", "inverted-standardised"):
        mean, deviation = moments_over_the_training_set(mnist.train.images, encoding)
        assert abs(mean) < 1e-3 and abs(deviation - 1) < 1e-3, encoding


def test_centred_encodings_need_the_training_images(mnist):
    with pytest.raises(Exception, match="'centred' needs the training images"):
        data.encode(mnist.test.images[:1], "centred")


def test_tensorflow_tutorial_split(mnist):
    train, validation = data.tensorflow_tutorial_split(mnist.train)
    assert len(train) == 55000 and len(validation) == 5000
    np.testing.assert_array_equal(validation.labels, mnist.train.labels[:5000])
    np.testing.assert_array_equal(train.images[0], mnist.train.images[5000])


def test_failed_download_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data.paths, "SHARED_DATA", tmp_path / "no-shared-data")
    # The test guard refuses the network, as an offline machine would.
    with pytest.raises(data.DataError) as caught:
        data.load_dataset("mnist")
    message = str(caught.value)
    assert f"looked in {tmp_path / 'no-shared-data' / 'mnist'}" in message
    assert "download through keras.datasets failed" in message
    assert "--data-dir or $POLARITY_DATA_DIR" in message
