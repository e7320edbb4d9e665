"""Run an experiment under a profile and write its result with config, hash and provenance."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import experiments
from polarity import PolarityError, paths
from polarity.results import SCHEMA_VERSION, config_hash, provenance, write_result


def run_experiment(name: str, profile: str, data_dir=None, results_dir: Path | None = None) -> Path:
    """Train experiment `name` with the `profile` config; return the results file written."""
    if profile not in experiments.PROFILES:
        raise PolarityError(
            f"unknown profile {profile!r}; known: {', '.join(experiments.PROFILES)}"
        )
    module = experiments.load(name)
    config = asdict(module.PROFILES[profile])
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    start = time.perf_counter()
    outcome = module.run(module.PROFILES[profile], data_dir)
    result = {
        "schema_version": SCHEMA_VERSION,
        "experiment": name,
        "profile": profile,
        "config": config,
        "config_hash": config_hash(config),
        **outcome,
        "provenance": provenance(started_at, time.perf_counter() - start),
    }
    return write_result(results_dir or paths.results_dir(profile), result)
