"""MNIST-format data: the IDX reader, the named data sets, and the grey-level encodings.

The IDX format (LeCun et al.) is a 4-byte magic number -- two zero bytes, a type code
(0x08 = unsigned byte) and the number of dimensions -- then one big-endian uint32 per
dimension, then the values. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from polarity import PolarityError, paths

UNSIGNED_BYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


class DataError(PolarityError):
    """A data file that is missing, corrupt or not what it claims to be."""


# The uncompressed size of each IDX file of MNIST and Fashion-MNIST (the same for both):
# decompression stops past it, so a gzip bomb costs at most this much memory.
SIZES = {
    "train_images": 47_040_016,
    "train_labels": 60_008,
    "test_images": 7_840_016,
    "test_labels": 10_008,
}
MAX_IDX_BYTES = max(SIZES.values())
CHUNK = 1 << 20


def _read_bytes(path: Path, max_size: int = MAX_IDX_BYTES) -> bytes:
    """The uncompressed bytes of an IDX file, gzip or raw; a DataError as soon as they
    exceed `max_size`."""
    too_big = DataError(
        f"{path}: holds more than {max_size:,} bytes uncompressed, larger than the file it "
        "should be; it is corrupt or not an IDX file"
    )
    try:
        with open(path, "rb") as handle:
            magic = handle.read(2)
            handle.seek(0)
            if magic != GZIP_MAGIC:
                if os.fstat(handle.fileno()).st_size > max_size:
                    raise too_big
                return handle.read()
            chunks, total = [], 0
            with gzip.GzipFile(fileobj=handle) as unzipped:
                while chunk := unzipped.read(CHUNK):
                    total += len(chunk)
                    if total > max_size:
                        raise too_big
                    chunks.append(chunk)
            return b"".join(chunks)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{path}: truncated or corrupt gzip file ({exc}); download it again"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse uncompressed IDX bytes into a uint8 array of the shape the header declares."""
    if len(data) < 4:
        raise DataError(f"{source}: too short to be an IDX file ({len(data)} bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or ndim == 0:
        raise DataError(
            f"{source}: not an IDX file (magic number 0x{data[:4].hex()}, "
            "expected 0x000008 followed by the number of dimensions)"
        )
    if type_code != UNSIGNED_BYTE:
        raise DataError(
            f"{source}: IDX type code 0x{type_code:02x} is not supported "
            "(expected 0x08, unsigned byte)"
        )
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise DataError(f"{source}: header declares {ndim} dimensions but the file ends inside it")
    shape = struct.unpack(f">{ndim}I", data[4:header_end])
    expected = int(np.prod(shape, dtype=np.int64))
    found = len(data) - header_end
    if found != expected:
        raise DataError(
            f"{source}: header declares shape {shape} ({expected} values) but the file holds "
            f"{found}; the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_end).reshape(shape)


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a uint8 array."""
    path = Path(path)
    return parse_idx(_read_bytes(path), source=str(path))


@dataclass(frozen=True)
class Split:
    """Images (n, 28, 28) uint8 with 0 = background, and labels (n,) in 0..9."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, n: int) -> Split:
        """The first `n` images and labels (labels as int32, as Keras's losses take them)."""
        return Split(self.images[:n], self.labels[:n].astype(np.int32))


def make_split(images: np.ndarray, labels: np.ndarray, source: str) -> Split:
    """Check that images and labels belong together, then pair them."""
    if images.ndim != 3:
        raise DataError(
            f"{source}: images must have 3 dimensions (n, rows, cols), got {images.shape}"
        )
    if labels.ndim != 1:
        raise DataError(f"{source}: labels must have 1 dimension, got {labels.shape}")
    if len(images) != len(labels):
        raise DataError(
            f"{source}: {len(images)} images but {len(labels)} labels; "
            "the files do not belong together"
        )
    if labels.size and labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{source}: label {labels[bad]} at index {bad} is outside 0-9")
    return Split(images=images, labels=labels)


@dataclass(frozen=True)
class DatasetSpec:
    """A named data set: its files, their checksums and where to look for them."""

    name: str
    citation_key: str
    # sha256 of the *uncompressed* IDX files: gzip wrappers differ between mirrors.
    sha256: dict[str, str]
    system_dir: Path | None  # where a Linux distribution package installs it
    keras_loader: str  # keras.datasets module for the online fallback
    title: str  # as the article names it


FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

DATASETS = {
    "mnist": DatasetSpec(
        name="mnist",
        citation_key="lecun1998gradient",
        sha256={
            "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        system_dir=None,
        keras_loader="mnist",
        title="MNIST",
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        citation_key="xiao2017fashion",
        # Measured on Debian's dataset-fashion-mnist package, which recompresses the files.
        sha256={
            "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        system_dir=Path("/usr/share/datasets/fashion-mnist"),
        keras_loader="fashion_mnist",
        title="Fashion-MNIST",
    ),
}

DATA_DIR_ENV = "POLARITY_DATA_DIR"


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Split
    test: Split
    source: str  # the folder it was read from, or "keras.datasets"


def dataset_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


def _file_in(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _explicit_dirs(data_dir: Path | str | None) -> list[Path]:
    """The folders the user named (flag, then environment variable); each must exist."""
    named = [(Path(data_dir), "--data-dir")] if data_dir else []
    if os.environ.get(DATA_DIR_ENV):
        named.append((Path(os.environ[DATA_DIR_ENV]), f"${DATA_DIR_ENV}"))
    for folder, origin in named:
        if not folder.is_dir():
            raise DataError(f"data folder {folder} (from {origin}) does not exist")
    return [folder for folder, _ in named]


def candidate_dirs(name: str, data_dir: Path | str | None = None) -> list[Path]:
    """Where `name` is looked for, in order: the flag, the environment variable, the shared
    data folder beside the checkout, then the system package's folder.

    `data_dir` and $POLARITY_DATA_DIR name a parent folder holding one folder per data set
    (`mnist/`, `fashion-mnist/`) or, for convenience, the four IDX files themselves.
    """
    spec = dataset_spec(name)
    dirs = [d for parent in _explicit_dirs(data_dir) for d in (parent / name, parent)]
    dirs.append(paths.SHARED_DATA / name)
    if spec.system_dir:
        dirs.append(spec.system_dir)
    return dirs


def _verify(path: Path, data: bytes, expected: str, name: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DataError(
            f"{path}: sha256 {actual[:12]}… does not match the known {name} file "
            f"({expected[:12]}…); the file is corrupt or belongs to another data set"
        )


def load_from_dir(name: str, folder: Path, verify: bool = True) -> Dataset:
    """Read and check the four IDX files of data set `name` from `folder`."""
    spec = dataset_spec(name)
    folder = Path(folder)
    arrays = {}
    for key, stem in FILES.items():
        path = _file_in(folder, stem)
        if path is None:
            raise DataError(f"{folder}: missing {stem}.gz (or {stem}) of data set {name!r}")
        data = _read_bytes(path, SIZES[key])
        if verify:
            _verify(path, data, spec.sha256[key], name)
        arrays[key] = parse_idx(data, source=str(path))
    return Dataset(
        name=name,
        train=make_split(
            arrays["train_images"], arrays["train_labels"], f"{folder} (training set)"
        ),
        test=make_split(arrays["test_images"], arrays["test_labels"], f"{folder} (test set)"),
        source=str(folder),
    )


def _load_from_keras(name: str, looked: str) -> Dataset:
    """The online fallback for users: keras.datasets downloads and caches the files.
    `looked` names the local places already searched, for the error message."""
    import importlib

    module = importlib.import_module(f"keras.datasets.{dataset_spec(name).keras_loader}")
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as exc:  # network errors come in many types across backends
        raise DataError(
            f"data set {name!r} not found locally (looked in {looked}) and the download "
            f"through keras.datasets failed ({exc}); put its four IDX files in a {name}/ "
            f"folder and pass its parent with --data-dir or ${DATA_DIR_ENV}"
        ) from None
    return Dataset(
        name=name,
        train=make_split(x_train, y_train, "keras.datasets (training set)"),
        test=make_split(x_test, y_test, "keras.datasets (test set)"),
        source="keras.datasets",
    )


def locate(name: str, data_dir: Path | str | None = None) -> Path | None:
    """The first candidate folder that holds all four files of `name`, or None."""
    for folder in candidate_dirs(name, data_dir):
        if all(_file_in(folder, stem) for stem in FILES.values()):
            return folder
    return None


def load_dataset(name: str, data_dir: Path | str | None = None) -> Dataset:
    """Load a named data set from the first place that has it (see `candidate_dirs`); when
    none has it, download it through keras.datasets -- unless the user named a data folder,
    which says the data should be local."""
    folder = locate(name, data_dir)
    if folder is not None:
        return load_from_dir(name, folder)
    looked = ", ".join(str(d) for d in candidate_dirs(name, data_dir))
    if data_dir or os.environ.get(DATA_DIR_ENV):
        raise DataError(
            f"data set {name!r} not found (looked in {looked}); "
            f"put its four IDX files in a {name}/ folder there"
        )
    return _load_from_keras(name, looked)


# --- Encodings: how grey levels become network inputs -------------------------------------
# Each maps uint8 images (0 = background, 255 = ink) to float32, and is applied identically
# to training and test images.

# The mean and standard deviation of MNIST's training pixels on [0, 1], as commonly hard-coded.
STANDARD_MEAN, STANDARD_STD = 0.1307, 0.3081

# The two polarities the question compares: as distributed (ink 255 on 0) and inverted.
POLARITIES = ("normal", "inverted")

ENCODINGS = {
    "normal": "x / 255: background 0, ink 1 (MNIST as distributed, the TensorFlow tutorial)",
    "inverted": "1 - x / 255: background 1, ink 0 (the question's inversion)",
    "negated": "-x / 255: background 0, ink -1",
    "centred": "x / 255 minus its per-pixel training mean",
    "inverted-centred": "1 - x / 255 minus its per-pixel training mean",
    "standardised": "(x / 255 - 0.1307) / 0.3081, the usual MNIST normalisation",
    "inverted-standardised": "(1 - x / 255 - 0.8693) / 0.3081, the same for inverted images",
}
CENTRED = {"centred": "normal", "inverted-centred": "inverted"}


def affine_encoding(
    encoding: str, train_images: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel (scale, shift), float32 arrays of shape (pixels,), such that the encoded
    input is scale * x / 255 + shift. Every encoding here is affine in x / 255, which lets
    many models with different encodings share one copy of the raw uint8 images. Centred
    encodings subtract the per-pixel mean of `train_images` under their base polarity."""
    s = 1.0 / STANDARD_STD
    scalars = {
        "normal": (1.0, 0.0),
        "inverted": (-1.0, 1.0),
        "negated": (-1.0, 0.0),
        "standardised": (s, -STANDARD_MEAN * s),
        "inverted-standardised": (-s, STANDARD_MEAN * s),
    }
    if encoding in scalars:
        pixels = 784 if train_images is None else train_images[0].size
        scale, shift = scalars[encoding]
        return np.full(pixels, scale, np.float32), np.full(pixels, shift, np.float32)
    if encoding in CENTRED:
        if train_images is None:
            raise PolarityError(f"encoding {encoding!r} needs the training images for its mean")
        scale, _ = affine_encoding(CENTRED[encoding], train_images)
        mean = train_images.reshape(len(train_images), -1).mean(axis=0) / 255
        # scale * x + shift minus its mean is scale * (x - mean): the shift cancels.
        return scale, (-scale * mean).astype(np.float32)
    raise PolarityError(f"unknown encoding {encoding!r}; known: {', '.join(ENCODINGS)}")


def encode(images: np.ndarray, encoding: str, train_images: np.ndarray | None = None) -> np.ndarray:
    """Flattened float32 inputs of shape (n, rows*cols) under the named encoding; centred
    encodings take their mean from `train_images`."""
    scale, shift = affine_encoding(encoding, train_images)
    scaled = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return scale * scaled + shift


def tensorflow_tutorial_split(train: Split, validation_size: int = 5000) -> tuple[Split, Split]:
    """The split of TensorFlow's `read_data_sets`: the first 5,000 training images become the
    validation set and the remaining 55,000 the training set."""
    validation = Split(train.images[:validation_size], train.labels[:validation_size])
    rest = Split(train.images[validation_size:], train.labels[validation_size:])
    return rest, validation
