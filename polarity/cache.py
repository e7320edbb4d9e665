"""The result cache: a result is reused only when nothing it depends on has changed.

A result's key covers its experiment config, the checksums of the data it reads, the source
of its experiment module and of every project module that module imports (found by reading
the import statements, transitively), the installed versions of Keras, the backend and
every numeric library the experiments compute with (NUMERIC_DISTRIBUTIONS), the backend's
name and, for TensorFlow, which CPU kernels it runs, the runner that
seeds the generators, and every setting that changes numbers (`settings()`: Keras's float
type and image data format from keras.json, determinism and thread flags). Computing the key
imports nothing heavy, so the report build can check every committed result against the
current code without Keras.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path

from polarity import PolarityError, paths
from polarity.backend import tensorflow_kernels
from polarity.data import dataset_spec
from polarity.files import read_capped

PROJECT_PACKAGES = ("polarity", "experiments")
BACKEND_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "jax": ("jax",),
    "torch": ("torch",),
}


def _module_file(name: str) -> Path | None:
    """The source file of a project module, found on disk: importing it would import Keras."""
    if name.split(".")[0] not in PROJECT_PACKAGES:
        return None
    # polarity is wherever the package is installed; experiments is in the project checkout.
    package = name.split(".")[0] == "polarity"
    root = Path(__file__).resolve().parent.parent if package else paths.ROOT
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_project_modules(path: Path, module: str) -> set[str]:
    """Project modules named by the import statements of one source file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against this module's package
                package = module.rsplit(".", node.level)[0]
                base = f"{package}.{base}" if base else package
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if _module_file(n)}


def source_files(module: str) -> dict[str, Path]:
    """The module and every project module it imports, transitively, by module name."""
    found: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        path = _module_file(name)
        if path is None:
            continue
        # Parent packages count only when imported by name: experiments/__init__.py is a
        # registry, and listing a new experiment there must not invalidate the others.
        found[name] = path
        pending.extend(_imported_project_modules(path, name))
    return dict(sorted(found.items()))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _installed(*distributions: str) -> str:
    for dist in distributions:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def installed_version(distribution: str) -> str:
    return _installed(distribution)


def keras_config_file() -> Path:
    """The keras.json Keras reads, found as Keras finds it: $KERAS_HOME, else ~/.keras, else
    /tmp/.keras when the home folder is not writable."""
    if "KERAS_HOME" in os.environ:
        folder = Path(os.environ["KERAS_HOME"])
    else:
        home = Path(os.path.expanduser("~"))
        folder = (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"
    return folder / "keras.json"


def _keras_config() -> dict:
    try:  # a regular file only: a FIFO in its place must not hang a build
        config = json.loads(read_capped(keras_config_file(), 1_000_000, "keras.json"))
    except (OSError, PolarityError, ValueError):  # Keras itself ignores an unreadable one
        return {}
    return config if isinstance(config, dict) else {}


def backend_name() -> str:
    """Keras's backend as Keras will choose it, without importing Keras."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    return str(_keras_config().get("backend", "tensorflow"))


# Numeric libraries whose version can change a number, besides Keras and its backend: NumPy
# (and the OpenBLAS its wheel bundles), SciPy (L-BFGS, eigenvalues, the tests; its own
# OpenBLAS) and ml_dtypes (Keras's float types).
NUMERIC_DISTRIBUTIONS = ("numpy", "scipy", "ml_dtypes")

# Environment variables that change what a run computes: kernel libraries, determinism,
# thread counts (the order of float reductions) of every numeric library, CPU feature
# dispatch, devices and Keras's own debugging caps.
RESULT_ENVIRONMENT = (
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_DETERMINISTIC_OPS",
    "TF_CUDNN_DETERMINISTIC",
    "TF_XLA_FLAGS",
    "XLA_FLAGS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "OMP_THREAD_LIMIT",
    "OMP_DYNAMIC",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "GOTO_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NPY_DISABLE_CPU_FEATURES",
    "CUDA_VISIBLE_DEVICES",
    "PYTHONHASHSEED",
    "KERAS_MAX_EPOCHS",
    "KERAS_MAX_STEPS_PER_EPOCH",
    "KERAS_NNX_ENABLED",
)
_SETTING_TEXT = re.compile(r"^[0-9A-Za-z_.:+=-]{0,64}$")


def _setting(value) -> str:
    """A setting as short plain text (it is shown in the provenance card); anything else
    as a digest."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if _SETTING_TEXT.match(text) else "sha256:" + _digest(text.encode())[:16]


def settings() -> dict[str, str]:
    """Every setting outside the config that can change a result: Keras's float type,
    epsilon, image data format and backend (keras.json and $KERAS_BACKEND), TensorFlow's
    kernel library, and the environment variables in RESULT_ENVIRONMENT that are set."""
    config = _keras_config()
    found = {
        "keras.backend": backend_name(),
        "keras.floatx": config.get("floatx", "float32"),
        "keras.epsilon": config.get("epsilon", 1e-07),
        "keras.image_data_format": config.get("image_data_format", "channels_last"),
    }
    if config.get("nnx_enabled"):
        found["keras.nnx_enabled"] = config["nnx_enabled"]
    if found["keras.backend"] == "tensorflow":  # its two CPU kernel libraries round differently
        found["tensorflow.kernels"] = tensorflow_kernels()
    for name in RESULT_ENVIRONMENT:
        if name in os.environ:
            found[f"env:{name}"] = os.environ[name]
    return {name: _setting(value) for name, value in found.items()}


def key_components(experiment: str, config: dict) -> dict[str, str]:
    """Everything a result depends on, each as a short string or digest."""
    backend = backend_name()
    components = {"config": _digest(json.dumps(config, sort_keys=True).encode())}
    datasets = config.get("datasets") or [config["dataset"]]
    for name in datasets:
        components[f"data:{name}"] = _digest(
            json.dumps(dataset_spec(name).sha256, sort_keys=True).encode()
        )
    for module, path in source_files(f"experiments.{experiment}").items():
        components[f"source:{module}"] = _digest(path.read_bytes())
    # The code the runner calls to seed every generator before the experiment starts.
    components["source:polarity.seeding"] = _digest(_module_file("polarity.seeding").read_bytes())
    components["version:keras"] = _installed("keras")
    for dist in NUMERIC_DISTRIBUTIONS:
        components[f"version:{dist}"] = _installed(dist)
    components["backend"] = _setting(backend)
    # The name as plain text: it comes from the environment and is shown in the article.
    distributions = BACKEND_DISTRIBUTIONS.get(backend, (backend,))
    components[f"version:{_setting(backend)}"] = _installed(*distributions)
    if backend == "tensorflow":  # its two CPU kernel libraries round differently
        components["backend:kernels"] = tensorflow_kernels()
    for name, value in settings().items():
        components[f"setting:{name}"] = value
    return components


def cache_key(experiment: str, config: dict) -> dict:
    """The key stored in a result: its components and one hash over them."""
    components = key_components(experiment, config)
    return {
        "hash": _digest(json.dumps(components, sort_keys=True).encode()),
        "components": components,
    }


# Components keys did not record before they were added, with the value every run had then:
# Keras's defaults (keras.json as Keras writes it), no flag set, and the seeding the runner
# did inline, `keras.utils.set_random_seed(0)`, now polarity/seeding.py (its sha256 here).
# A stored key without them is compared as if it held these; a run under anything else
# (float64, a determinism flag, other seeding code) no longer matches it.
UNRECORDED_BEFORE_SETTINGS = {
    "setting:keras.backend": "tensorflow",
    "setting:keras.floatx": "float32",
    "setting:keras.epsilon": "1e-07",
    "setting:keras.image_data_format": "channels_last",
    "setting:tensorflow.kernels": "oneDNN",
    "source:polarity.seeding": "92b41194e60c9e0fc0a20028563ea1c628d2bc1dd21afcf86a268ed184fa4803",
}


# Components added when SciPy and ml_dtypes joined the key, with the versions every result
# of record was made with (constraints.txt at each result's commit: scipy==1.17.1,
# ml_dtypes==0.6.0). The thread variables joined at the same time and need no entry here:
# none was set for those runs, and an unset variable is absent from a key, old or new.
UNRECORDED_BEFORE_LIBRARIES = {
    "version:scipy": "1.17.1",
    "version:ml_dtypes": "0.6.0",
}


def what_changed(stored: dict | None, current: dict) -> list[str]:
    """Names of the components that differ between a stored key and the current one."""
    if not stored:
        return ["no cache key stored"]
    old, new = stored.get("components", {}), current["components"]
    if not any(name.startswith("setting:") for name in old):  # recorded before settings were
        old = {**UNRECORDED_BEFORE_SETTINGS, **old}
    if "version:scipy" not in old:  # recorded before the other numeric libraries were
        old = {**UNRECORDED_BEFORE_LIBRARIES, **old}
    changed = [name for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
    return [_describe(name, old.get(name), new.get(name)) for name in changed]


def _describe(name: str, old: str | None, new: str | None) -> str:
    if old is None:
        return f"{name} (new)"
    if new is None:
        return f"{name} (no longer used)"
    if name.startswith(("version:", "backend", "setting:")):
        return f"{name} {old} -> {new}"
    return name
