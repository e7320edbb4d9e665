"""Results files: one JSON per experiment, schema-checked on the way out and on the way in.

A result is the envelope of `schemas/result.schema.json` (config and its hash, seeds,
metrics, provenance); its `metrics` follow `schemas/<experiment>.metrics.schema.json`.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema
import referencing
import referencing.jsonschema

from polarity import PolarityError, paths
from polarity.backend import tensorflow_kernels
from polarity.cache import NUMERIC_DISTRIBUTIONS, cpu_dispatch, installed_version, settings
from polarity.files import NotARegularFile, atomic_write_json, read_capped

SCHEMA_VERSION = 1
SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ResultError(PolarityError):
    """A results file that is missing, malformed, or from another schema version."""


def config_hash(config: dict) -> str:
    """sha256 of the config's canonical JSON: equal configs, equal hashes."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def result_path(results_dir: Path, experiment: str) -> Path:
    if not SAFE_NAME.match(experiment):
        raise ResultError(f"experiment name {experiment!r} must match {SAFE_NAME.pattern}")
    return Path(results_dir) / f"{experiment}.json"


@cache
def _schema(name: str) -> dict | None:
    resource = resources.files("polarity") / "schemas" / name
    return json.loads(resource.read_text()) if resource.is_file() else None


@cache
def _registry() -> referencing.Registry:
    """Every schema by its $id, so one schema can $ref another (fashion reuses the
    MNIST experiments' metrics schemas)."""
    folder = resources.files("polarity") / "schemas"
    schemas = [json.loads(f.read_text()) for f in folder.iterdir() if f.name.endswith(".json")]
    return referencing.Registry().with_resources(
        (s["$id"], referencing.jsonschema.DRAFT202012.create_resource(s)) for s in schemas
    )


def _first_error(schema: dict, instance, where: str) -> None:
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema, registry=_registry()).iter_errors(instance)
    )
    if error is not None:
        location = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ResultError(f"{where}: {location}: {error.message}")


def validate(result: dict, where: str = "result") -> None:
    """Raise ResultError naming the first field that breaks the schema."""
    if not isinstance(result, dict):
        raise ResultError(f"{where}: expected a JSON object, got {type(result).__name__}")
    check_values(result, where)
    version = result.get("schema_version")
    if isinstance(version, int) and version != SCHEMA_VERSION:
        raise ResultError(
            f"{where}: schema version {version}, this code reads version {SCHEMA_VERSION}; "
            f"rerun the experiment (polarity run --experiment {result.get('experiment', '?')})"
        )
    _first_error(_schema("result.schema.json"), result, where)
    metrics_schema = _schema(f"{result['experiment']}.metrics.schema.json")
    if metrics_schema is not None:
        _first_error(metrics_schema, result["metrics"], f"{where}: metrics")


def write_result(results_dir: Path, result: dict) -> Path:
    """Validate `result` and write it atomically to `<results_dir>/<experiment>.json`."""
    path = result_path(results_dir, result["experiment"])
    validate(result, where=f"result for {path}")
    atomic_write_json(path, result)
    return path


# Bounds on what a results file may hold: the results of record nest 9 deep, their longest
# string has 84 characters and their longest key 31.
MAX_FILE_BYTES = 20_000_000
MAX_DEPTH = 32
MAX_STRING = 200
MAX_KEY = 64
# Every string and key in a results file is plain text that is safe in Markdown, HTML and
# Typst as it stands: no markup characters, no control characters.
SAFE_TEXT = re.compile(r"^[A-Za-z0-9 _.,:;+=/()'%-]*$")
# Free-text fields measured on the machine, escaped wherever they are shown (md_escape).
FREE_TEXT = {("provenance", "device"), ("provenance", "platform")}
FREE_TEXT_PATTERN = re.compile(r"^[^\x00-\x1f\x7f<>`$\\{}\[\]|]*$")


class _NonFinite(float):
    """What the parser makes of NaN, Infinity and numbers too large for a float, so that
    the check below can name the field that holds one."""

    def __new__(cls, text: str):
        obj = super().__new__(cls, "nan")
        obj.text = text
        return obj


def _parse_float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _where(path: list) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def check_values(value, where: str) -> None:
    """Raise ResultError for a non-finite number, a string or key that is too long or holds
    characters that are markup in Markdown, HTML or Typst, or nesting deeper than
    MAX_DEPTH, naming the file and the field."""
    stack = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise ResultError(f"{where}: {_where(path[:8])}/...: nested deeper than {MAX_DEPTH}")
        if isinstance(item, float) and not math.isfinite(item):
            text = getattr(item, "text", repr(item))
            raise ResultError(f"{where}: {_where(path)}: {text} is not a finite number")
        if isinstance(item, str):
            free = tuple(path) in FREE_TEXT
            pattern = FREE_TEXT_PATTERN if free else SAFE_TEXT
            if len(item) > MAX_STRING:
                raise ResultError(
                    f"{where}: {_where(path)}: string of {len(item)} characters "
                    f"(at most {MAX_STRING})"
                )
            if not pattern.match(item):
                raise ResultError(
                    f"{where}: {_where(path)}: {item[:40]!r} holds characters not allowed "
                    "in a results file (markup or control characters)"
                )
        elif isinstance(item, dict):
            for key, sub in item.items():
                if len(key) > MAX_KEY or not SAFE_TEXT.match(key):
                    raise ResultError(
                        f"{where}: {_where(path)}: key {key[:40]!r} is too long or holds "
                        "characters not allowed in a results file"
                    )
                stack.append((sub, [*path, key]))
        elif isinstance(item, list):
            stack.extend((sub, [*path, i]) for i, sub in enumerate(item))


def parse_result_bytes(raw: bytes, where: str) -> dict:
    """Decode and parse a results file's bytes; every failure is a ResultError naming it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultError(
            f"{where}: not a results file (byte {exc.start} is not UTF-8 text)"
        ) from None
    try:
        result = json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise ResultError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ResultError(f"{where}: not a results file (nested deeper than {MAX_DEPTH})") from None
    check_values(result, where)
    return result


# --- Fields that must fit together: checked when reading, naming the file and the field ---

_SIMPLE_TYPES = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "None": (type(None),),
}


def config_fields(experiment: str) -> dict[str, ast.expr] | None:
    """The fields of an experiment's `Config` dataclass and their annotations, read from its
    source (importing the module would import Keras); None when it cannot be found."""
    return _config_fields(paths.ROOT / "experiments" / f"{experiment}.py")


@cache
def _config_fields(path: Path) -> dict[str, ast.expr] | None:
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Config":
            return {
                item.target.id: item.annotation
                for item in node.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            }
    return None


def _fits(value, annotation: ast.expr) -> bool:
    """Whether a JSON value fits a Config annotation; types it does not know fit."""
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _fits(value, annotation.left) or _fits(value, annotation.right)
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return value is None
    if isinstance(annotation, ast.Name) and annotation.id in _SIMPLE_TYPES:
        kinds = _SIMPLE_TYPES[annotation.id]
        return isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool))
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "tuple":
        if not isinstance(value, list):
            return False
        items = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is ...:
            return all(_fits(v, items[0]) for v in value)
        return len(items) == len(value) and all(
            _fits(v, a) for v, a in zip(value, items, strict=True)
        )
    return True


# Lists that run alongside a curve's `updates`, one entry per update.
_PER_UPDATE = re.compile(r"^(accuracy|accuracies|loss|losses|.*_by_update)$")


def check_consistency(result: dict, where: str) -> None:
    """What the schema cannot say: the config has exactly the fields of the experiment's
    Config, each of its type; it names known data sets; every curve's per-update lists are
    as long as its updates. Raises ResultError naming the file and the field."""
    from polarity.data import DATASETS

    config = result["config"]
    fields = config_fields(result["experiment"])
    if fields is not None:
        for name in fields:
            if name not in config:
                raise ResultError(f"{where}: config/{name}: missing (the experiment has it)")
        for name, value in config.items():
            if name not in fields:
                raise ResultError(f"{where}: config/{name}: not a field of the experiment")
            if not _fits(value, fields[name]):
                raise ResultError(
                    f"{where}: config/{name}: {json.dumps(value)[:40]} is not "
                    f"{ast.unparse(fields[name])}"
                )
    named = config.get("datasets") or [config.get("dataset")]
    for i, name in enumerate(named if isinstance(named, list) else [named]):
        if name not in DATASETS:
            field = f"config/datasets/{i}" if "datasets" in config else "config/dataset"
            raise ResultError(
                f"{where}: {field}: unknown data set {name!r}; known: {', '.join(DATASETS)}"
            )
    stack = [(result["metrics"], ["metrics"])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            updates = item.get("updates")
            if isinstance(updates, list):
                for key, value in item.items():
                    if _PER_UPDATE.match(key) and isinstance(value, list):
                        if len(value) != len(updates):
                            raise ResultError(
                                f"{where}: {_where([*path, key])}: {len(value)} values for "
                                f"{len(updates)} updates"
                            )
            stack.extend((sub, [*path, key]) for key, sub in item.items())
        elif isinstance(item, list):
            stack.extend((sub, [*path, i]) for i, sub in enumerate(item))


# Digests of the files this process has validated. The schema checks depend on a file's bytes
# alone and take most of a read (0.25 s for the record): a build, a preview's rebuilds and the
# tests read the same files again and again.
_ACCEPTED: set[bytes] = set()


def read_result(path: Path) -> dict:
    """Read and validate one results file: a regular file of at most MAX_FILE_BYTES."""
    path = Path(path)
    try:
        raw = read_capped(path, MAX_FILE_BYTES, "results file")
    except FileNotFoundError:
        raise ResultError(f"{path}: no such results file; run `polarity run` first") from None
    except NotARegularFile as exc:
        raise ResultError(str(exc)) from None
    except OSError as exc:
        raise ResultError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
    result = parse_result_bytes(raw, str(path))
    digest = hashlib.sha256(raw).digest()
    if digest not in _ACCEPTED:
        validate(result, where=str(path))
        check_consistency(result, str(path))
        _ACCEPTED.add(digest)
    return result


def read_results(results_dir: Path) -> dict[str, dict]:
    """Every results file in a folder, by experiment name."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ResultError(f"{results_dir}: no such results folder")
    files = sorted(results_dir.glob("*.json"))
    if not files:
        raise ResultError(f"{results_dir}: no results files; run `polarity run` first")
    results = {}
    for path in files:
        result = read_result(path)
        if result["experiment"] != path.stem:
            raise ResultError(
                f"{path}: holds experiment {result['experiment']!r}, expected {path.stem!r}"
            )
        results[path.stem] = result
    return results


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_description() -> str:
    """The CPU as a run's provenance names it: model, cores and the variables that chose its
    kernels (`polarity.cache.cpu_dispatch`): 'AMD EPYC (2 cores; OPENBLAS_CORETYPE=Haswell)'."""
    dispatch = "".join(f"; {name}={value}" for name, value in cpu_dispatch().items())
    return f"{_cpu_model()} ({os.cpu_count()} cores{dispatch})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(started_at: str, duration_s: float) -> dict:
    """Where and how a result was made: code version, software versions, hardware, time."""
    import keras
    import numpy

    backend = keras.backend.backend()
    try:
        backend_version = __import__(backend).__version__  # keras names its backends by module
    except ImportError:
        backend_version = "unknown"
    gpus = _gpu_names(backend)
    # What a run writes is not a change to the code: a full run rewrites report/results/
    # one experiment after another, and the later ones must not call the tree dirty.
    written = paths.RESULTS_OF_RECORD.relative_to(paths.ROOT).as_posix()
    status = _git("status", "--porcelain", "--", ".", f":(exclude){written}")
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "python": sys.version.split()[0],
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
        **({"backend_kernels": tensorflow_kernels()} if backend == "tensorflow" else {}),
        "numpy": numpy.__version__,
        # The other numeric libraries in the cache key, so the card shows what it covers.
        **{d: installed_version(d) for d in NUMERIC_DISTRIBUTIONS if d != "numpy"},
        "platform": platform.platform(),
        "device": f"CPU: {cpu_description()}" + (f"; GPU: {', '.join(gpus)}" if gpus else ""),
        "settings": settings(),
        "started_at": started_at,
        "duration_s": round(duration_s, 3),
    }


def _gpu_names(backend: str) -> list[str]:
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return [d.name for d in tf.config.list_physical_devices("GPU")]
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if backend == "jax":
            import jax

            return [str(d) for d in jax.devices() if d.platform == "gpu"]
    except Exception:  # a broken GPU runtime must not stop a CPU run from recording itself
        return []
    return []
