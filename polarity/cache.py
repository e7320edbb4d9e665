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
import functools
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
    return {n for n in _imported_names(path.read_bytes(), str(path), module) if _module_file(n)}


# Parsing is most of what a cache key costs (the report checks ten keys for staleness at each
# build), so parses are kept per source text: an edited file is a new key, parsed again.
@functools.lru_cache(maxsize=256)
def _imported_names(source: bytes, filename: str, module: str) -> frozenset[str]:
    names = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against this module's package
                package = module.rsplit(".", node.level)[0]
                base = f"{package}.{base}" if base else package
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(names)


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


@functools.lru_cache(maxsize=256)
def _without_profiles(source: bytes, path: Path) -> bytes:
    """The source less its top-level `PROFILES = ...` table, if it has one."""
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "PROFILES" for target in node.targets
        ):
            del lines[node.lineno - 1 : node.end_lineno]
            break
    return b"".join(lines)


def source_digest(path: Path) -> str:
    """A module's source digest, without its PROFILES table: a result's config digest
    already covers the values its profile chose, so retuning the quick profile must not
    mark the full profile's results of record stale."""
    return _digest(_without_profiles(path.read_bytes(), path))


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
# thread counts (the order of float reductions) of every numeric library, devices and
# Keras's own debugging caps.
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
    "GOTO_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MKL_CBWR",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "PYTHONHASHSEED",
    "KERAS_MAX_EPOCHS",
    "KERAS_MAX_STEPS_PER_EPOCH",
    "KERAS_NNX_ENABLED",
)
# Environment variables that choose which of the processor's kernels a library runs, or
# tune them to its caches. They stand for the machine, as the processor does, and like the
# processor they are not in the key: a result records them beside its CPU (`cpu_dispatch`,
# in its provenance "device"). Both change rounding, so a rerun on another machine agrees
# with the record to rounding, not to the bit (README, "Reuse"). Some machines set one for
# every process (OPENBLAS_CORETYPE=Haswell on AMD EPYCs whose OpenBLAS would miscompute);
# in the key, it would call every result made elsewhere stale there, and the reverse.
CPU_DISPATCH_ENVIRONMENT = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "NPY_DISABLE_CPU_FEATURES",
    "MKL_ENABLE_INSTRUCTIONS",
)
_SETTING_TEXT = re.compile(r"^[0-9A-Za-z_.:+=-]{0,64}$")


def _setting(value) -> str:
    """A setting as short plain text (it is shown in the provenance card); anything else
    as a digest."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if _SETTING_TEXT.match(text) else "sha256:" + _digest(text.encode())[:16]


def settings(environment: dict[str, str] | None = None) -> dict[str, str]:
    """Every setting outside the config that can change a result: Keras's float type,
    epsilon, image data format and backend (keras.json and $KERAS_BACKEND), TensorFlow's
    kernel library, and the environment variables in RESULT_ENVIRONMENT that are set, here
    or in `environment` (what a training process will have beside this one's)."""
    variables = {**os.environ, **(environment or {})}
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
        if name in variables:
            found[f"env:{name}"] = variables[name]
    return {name: _setting(value) for name, value in found.items()}


def cpu_dispatch() -> dict[str, str]:
    """The variables of CPU_DISPATCH_ENVIRONMENT that are set, each as short plain text."""
    return {n: _setting(os.environ[n]) for n in CPU_DISPATCH_ENVIRONMENT if n in os.environ}


def key_components(
    experiment: str, config: dict, environment: dict[str, str] | None = None
) -> dict[str, str]:
    """Everything a result depends on, each as a short string or digest; `environment`, as
    in `settings`."""
    backend = backend_name()
    components = {"config": _digest(json.dumps(config, sort_keys=True).encode())}
    datasets = config.get("datasets") or [config["dataset"]]
    for name in datasets:
        components[f"data:{name}"] = _digest(
            json.dumps(dataset_spec(name).sha256, sort_keys=True).encode()
        )
    for module, path in source_files(f"experiments.{experiment}").items():
        components[f"source:{module}"] = source_digest(path)
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
    for name, value in settings(environment).items():
        components[f"setting:{name}"] = value
    return components


def cache_key(experiment: str, config: dict, environment: dict[str, str] | None = None) -> dict:
    """The key stored in a result: its components and one hash over them."""
    components = key_components(experiment, config, environment)
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


# Source digests stored before they left out the PROFILES tables, each with the digest the
# same file has now that they do (the files as they were at 0a04479, byte for byte). A stored
# key holding the first is compared as if it held the second; any other edit of the module
# since then no longer matches.
DIGESTS_BEFORE_PROFILES_LEFT_OUT = {
    "9591a3e2a4604a4b588d259535fa88c6e4dc9388c7fd2f21bd9f92d555623f74": "bafcac398522a44e190550ec24496ce6bfc7cb32687311b8039bd3d5ee3ba0aa",  # noqa: E501 experiments
    "2c93bc76a7b5bb66e67e062ed649ce6cc12b97fb9d5e434565d3e353210686de": "3da184f05253ea1885b37335c81df6ab495c70b716ae15c2c3635a5c8d95d709",  # noqa: E501 background
    "ba3aa010eac7a8d705bae44157bba0bf4a6500b06fd8e4337271549dac933c24": "d4c5263ad45d68ebfa110dbe511ce9d3340b85fe857855198001d99a72ae8ddb",  # noqa: E501 replication
    "aeb7fc084c81495a95ee59932547f386b9da9f9b10bcf1096452b2933746f693": "511c73097d9b3c70becee2a9bec97bf3e70eb195f5bfcf47b7bc2f0cae1c6510",  # noqa: E501 optimum
    "a3f55f55e2acb94c7cc7c31e19ddf3d221da4c1016b0c83455f6ab334a5fa349": "52455a14213e57b1dd52e64aefc088794a12c0e30084695d4504dfe8d5d8b56b",  # noqa: E501 conditioning
    "52aacbc6483c06df777a88b0deab7d93bf4d2db56cd5462362884fcaf2739fde": "972d81e80d645e291a28efda06b54154f916580d85d35801a5f06960ef9faf9e",  # noqa: E501 sweep
    "8c9b1c5a3d5545a0c32aa65c9111570d45c133e6b8bf2cc97de03077e112bba2": "46d3a2b0709f978627ad3debd8f85a474a3a3e36da222a6ea62c67c8faa60b77",  # noqa: E501 convnet
    "07a4b43529aabf88370b839a374f0d61bb3b6b5263e5abb273100d3300377b26": "e45a46c9c05134a6cdc13c582aa10b216181868e9d34f06df3b283bb986c2611",  # noqa: E501 speed
    "a6541f62752ab28e0dd9311a052790bad18f6a3403efa90be1396d807244cce0": "ba621a412704c729c219f31e4110d069a43fbbb8b25c41b27c7edcfc88fc5898",  # noqa: E501 mismatch
    "f6de32ef59a326f78b2501d49e626b3e851625f9a6da16f9a25b1efad4f05c46": "b88a3a78329076cdcbdd436583720788229029be0c25d43281909bfa8eec7205",  # noqa: E501 equivalences
    "0b038ba55064eedd239c85abc7f419fbdb324fee6eae807a23b2f909ab923bf8": "adbeb78ef122cc2ab2e81b37211c81b7ce6dd77da20c9c732dac2f49d82c234e",  # noqa: E501 fashion
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
    old = {
        name: DIGESTS_BEFORE_PROFILES_LEFT_OUT.get(value, value)
        if name.startswith("source:")
        else value
        for name, value in old.items()
    }
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
