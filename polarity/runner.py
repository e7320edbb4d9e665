"""Run an experiment under a profile and write its result with config, hash, cache key and
provenance -- or skip it when a result with the same cache key is already there."""

from __future__ import annotations

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
