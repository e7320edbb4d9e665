"""The result cache: a result is reused only when nothing it depends on has changed.

A result's key covers its experiment config, the checksums of the data it reads, the source
of its experiment module and of every project module that module imports (found by reading
the import statements, transitively), the installed versions of Keras, the backend and
NumPy, the backend's name and, for TensorFlow, which CPU kernels it runs. Computing the key
imports nothing heavy, so the report build can check every committed result against the
current code without Keras.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from polarity import paths
from polarity.backend import tensorflow_kernels
from polarity.data import dataset_spec

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


def backend_name() -> str:
    """Keras's backend as Keras will choose it, without importing Keras."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


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
    components["version:keras"] = _installed("keras")
    components["version:numpy"] = _installed("numpy")
    components["backend"] = backend
    components[f"version:{backend}"] = _installed(*BACKEND_DISTRIBUTIONS.get(backend, (backend,)))
    if backend == "tensorflow":  # its two CPU kernel libraries round differently
        components["backend:kernels"] = tensorflow_kernels()
    return components


def cache_key(experiment: str, config: dict) -> dict:
    """The key stored in a result: its components and one hash over them."""
    components = key_components(experiment, config)
    return {
        "hash": _digest(json.dumps(components, sort_keys=True).encode()),
        "components": components,
    }


def what_changed(stored: dict | None, current: dict) -> list[str]:
    """Names of the components that differ between a stored key and the current one."""
    if not stored:
        return ["no cache key stored"]
    old, new = stored.get("components", {}), current["components"]
    changed = [name for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
    return [_describe(name, old.get(name), new.get(name)) for name in changed]


def _describe(name: str, old: str | None, new: str | None) -> str:
    if old is None:
        return f"{name} (new)"
    if new is None:
        return f"{name} (no longer used)"
    if name.startswith(("version:", "backend")):
        return f"{name} {old} -> {new}"
    return name
