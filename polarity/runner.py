"""Run an experiment under a profile and write its result with config, hash, cache key and
provenance -- or skip it when a result with the same cache key is already there."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import experiments
from polarity import PolarityError, paths
from polarity.cache import cache_key, what_changed
from polarity.files import folder_lock, remove_orphaned_temp_files
from polarity.results import (
    SCHEMA_VERSION,
    ResultError,
    config_hash,
    provenance,
    read_result,
    result_path,
    write_result,
)
from polarity.seeding import seed_generators


@dataclass(frozen=True)
class Outcome:
    path: Path
    skipped: bool
    reasons: list[str]  # why it ran: what changed since the stored result


def check_profile(profile: str) -> None:
    if profile not in experiments.PROFILES:
        known = ", ".join(experiments.PROFILES)
        raise PolarityError(f"unknown profile {profile!r}; known: {known}")


# Keras's own backends, and the module each one imports.
KERAS_BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}


def check_backend() -> None:
    """Refuse, in one line and before Keras loads, a backend Keras does not know or that is
    not installed (Keras would fail on import with a traceback)."""
    import importlib.util

    from polarity.cache import backend_name, keras_config_file

    name = backend_name()
    origin = "$KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else str(keras_config_file())
    shown = " ".join(name.split())[:40]
    if name not in KERAS_BACKENDS:
        raise PolarityError(
            f"unknown Keras backend {shown!r} (from {origin}); "
            f"use one of {', '.join(KERAS_BACKENDS)}"
        )
    if importlib.util.find_spec(KERAS_BACKENDS[name]) is None:
        raise PolarityError(
            f"Keras backend {name!r} (from {origin}) is not installed; install it "
            f"(pip install {name}) or choose another backend"
        )


def profile_rank(profile: str) -> int:
    return experiments.PROFILES.index(profile) if profile in experiments.PROFILES else -1


def check_replaceable(name: str, profile: str, results_dir: Path | None, force: bool) -> None:
    """Refuse to replace a stored result of a larger profile (a committed full-profile
    result of record, say) with a smaller profile's, unless --force asks for it."""
    path = result_path(results_dir or paths.results_dir(profile), name)
    if force or not path.exists():
        return
    try:
        stored = read_result(path)["profile"]
    except ResultError:  # unreadable: recomputed whatever the profile
        return
    if profile_rank(stored) > profile_rank(profile):
        raise PolarityError(
            f"{path} holds a {stored}-profile result; a {profile} run would replace it "
            "with fewer trials: pass --force to replace it, or --results DIR for another folder"
        )


def reasons_to_run(path: Path, key: dict) -> list[str]:
    """Empty when the stored result at `path` is current; else what differs."""
    if not path.exists():
        return ["no result yet"]
    try:
        stored = read_result(path)
    except ResultError as exc:
        return [f"stored result unusable ({exc})"]
    return what_changed(stored.get("cache_key"), key)


def run_experiment(
    name: str, profile: str, data_dir=None, results_dir: Path | None = None, force: bool = False
) -> Outcome:
    """Train experiment `name` with the `profile` config unless a current result exists."""
    check_profile(profile)
    module = experiments.load(name)
    config = asdict(module.PROFILES[profile])
    key = cache_key(name, config)
    path = result_path(results_dir or paths.results_dir(profile), name)
    with folder_lock(path.parent):
        check_replaceable(name, profile, path.parent, force)
        reasons = ["--force"] if force else reasons_to_run(path, key)
        if not reasons:
            return Outcome(path, skipped=True, reasons=[])
        # Temp files of a run that was killed; a live writer's are its own.
        remove_orphaned_temp_files(path.parent, path.name)
        started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        start = time.perf_counter()
        seed_generators()
        outcome = module.run(module.PROFILES[profile], data_dir)
        result = {
            "schema_version": SCHEMA_VERSION,
            "experiment": name,
            "profile": profile,
            "config": config,
            "config_hash": config_hash(config),
            "cache_key": key,
            **outcome,
            "provenance": provenance(started_at, time.perf_counter() - start),
        }
        return Outcome(write_result(path.parent, result), skipped=False, reasons=reasons)
