"""Run an experiment under a profile and write its result with config, hash, cache key and
provenance -- or skip it when a result with the same cache key is already there."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import experiments
from polarity import PolarityError, paths
from polarity.backend import import_keras_quietly
from polarity.cache import cache_key, what_changed
from polarity.files import folder_lock, remove_orphaned_temp_files
from polarity.processes import process_pool, training_threads
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
    name: str = ""
    seconds: float = 0.0  # training and writing, for a run that was not skipped


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
    (outcome,) = run_experiments([name], profile, data_dir, results_dir, force, jobs=1)
    return outcome


def run_experiments(
    names: list[str],
    profile: str,
    data_dir=None,
    results_dir: Path | None = None,
    force: bool = False,
    jobs: int = 1,
) -> Iterator[Outcome]:
    """Train every experiment in `names` whose stored result is not current, `jobs` at a
    time, each in a process of its own when jobs > 1; yield each one's outcome as it ends.
    This process holds the folder's lock for all of them.

    A profile's thread settings (polarity.processes.training_threads) must be in place
    before NumPy and TensorFlow load: when this process lacks them (the `polarity` command
    sets them as it starts; a caller from Python may not), the training goes to fresh
    processes started with them, even one at a time."""
    check_profile(profile)
    folder = results_dir or paths.results_dir(profile)
    threads = training_threads(profile)
    with folder_lock(folder):
        for name in names:  # before anything trains: no run may half-replace a record
            check_replaceable(name, profile, folder, force)
        in_processes = bool(threads) or (jobs > 1 and len(names) > 1)
        if in_processes and "keras" not in sys.modules:
            # Whether a result is current takes its experiment's module, which imports
            # Keras (6 s here): the training processes, which load it anyway, find out
            # themselves, instead of this one loading it before any of them starts.
            tasks = [(check_and_train, (name, profile, data_dir, folder, force)) for name in names]
            yield from _in_processes(tasks, folder, jobs, threads)
            return
        # The experiments' modules import Keras: without its start-up chatter, and only once
        # the folder is known to be usable (a refusal comes in a second, not after Keras).
        import_keras_quietly()
        pending = []
        for name in names:
            task = _what_to_train(name, profile, data_dir, folder, force, threads)
            if isinstance(task, Outcome):
                yield task
            else:
                pending.append(task)
        if not threads and (jobs <= 1 or len(pending) <= 1):
            for task in pending:
                yield train(*task)
            return
        yield from _in_processes([(train, task) for task in pending], folder, jobs, threads)


def _what_to_train(
    name: str, profile: str, data_dir, folder: Path, force: bool, threads: dict[str, str]
) -> Outcome | tuple:
    """The skipped outcome of `name` when its stored result is current, else the arguments
    `train` takes. `threads`: the thread settings its training process adds to this one's."""
    config = asdict(experiments.load(name).PROFILES[profile])
    key = cache_key(name, config, threads)
    path = result_path(folder, name)
    reasons = ["--force"] if force else reasons_to_run(path, key)
    if not reasons:
        return Outcome(path, skipped=True, reasons=[], name=name)
    # Temp files of a run that was killed; a live writer's are its own.
    remove_orphaned_temp_files(path.parent, path.name)
    return (name, profile, data_dir, path, key, reasons)


def check_and_train(name: str, profile: str, data_dir, folder: Path, force: bool) -> Outcome:
    """In a training process, which has its profile's thread settings: `name`'s skipped
    outcome when its result is current, else the outcome of training it."""
    task = _what_to_train(name, profile, data_dir, folder, force, training_threads(profile))
    return task if isinstance(task, Outcome) else train(*task)


def _longest_first(name: str, folder: Path) -> float:
    """How long the experiment took last time (the stored result, else the result of record):
    starting the longest first keeps one process from finishing alone at the end."""
    for stored in (result_path(folder, name), result_path(paths.RESULTS_OF_RECORD, name)):
        try:
            return -float(read_result(stored)["provenance"]["duration_s"])
        except (OSError, ResultError, KeyError, TypeError, ValueError):
            continue
    return 0.0


def _in_processes(
    tasks: list[tuple], folder: Path, jobs: int, environment: dict[str, str]
) -> Iterator[Outcome]:
    """Each (function, arguments) in `tasks`, whose first argument is an experiment's name,
    in a pool of `jobs` processes started with `environment`, the longest first."""
    tasks = sorted(tasks, key=lambda task: _longest_first(task[1][0], folder))
    workers = max(1, min(jobs, len(tasks)))
    with process_pool(workers, _quiet_training, environment=environment) as pool:
        futures = {pool.submit(function, *args): args[0] for function, args in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                raise PolarityError(
                    f"the process training {futures[future]} stopped before it ended (killed, "
                    "or out of memory?); its result was not written"
                ) from None


def _quiet_training() -> None:
    """A training process: Keras loads without its start-up chatter, and no progress bars,
    which from several processes at once would draw over one another."""
    sys.stderr = _NotATerminal(sys.stderr)
    import_keras_quietly()


class _NotATerminal:
    """A stream that says it is no terminal (progress bars stay off) and passes all else on."""

    def __init__(self, stream):
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name):
        return getattr(self._stream, name)


def train(name: str, profile: str, data_dir, path: Path, key: dict, reasons: list[str]) -> Outcome:
    """Run one experiment and write its result with config, hash, cache key and provenance."""
    module = experiments.load(name)
    config = asdict(module.PROFILES[profile])
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
    written = write_result(path.parent, result)
    return Outcome(written, False, reasons, name, time.perf_counter() - start)
