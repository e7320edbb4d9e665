"""Work spread over processes of their own: experiments trained at once (`polarity run
--jobs`) and figures drawn at once (a cold build). One place for what every such process
needs, so that it computes exactly what the parent would:

- a fresh interpreter (spawn): a forked copy of a process whose TensorFlow or BLAS threads
  are running can hang;
- the parent's project (its paths: data, results, build), which `--project` may have set;
- the `polarity` package the parent runs. A child starts with the parent's sys.path, where
  the project's folder comes first (for `experiments`); a `polarity/` folder there that is
  not the package (a project copy holding only the Lua filters) would be imported instead;
- to die with the parent (Linux): a killed run leaves nothing working on behind it.

A process that dies (killed, out of memory) is reported by the pool, never waited on.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import polarity
from polarity import paths

PR_SET_PDEATHSIG = 1


# The smoke and quick profiles train on one thread of each numeric library per process.
# Their softmax ensembles are bound by each step's overhead, which threads only add to
# (the answer protocol's step: 4.7 ms on two threads, 2.6 ms on one), and two experiments
# trained at once on two cores then share the cores instead of fighting over them: the
# quick profile's training took 180 s with the libraries' defaults, 123 s with these. The
# full profile keeps the defaults its results of record were computed with. Thread counts
# change how sums are split, and so the numbers: these are in every result's cache key
# (polarity.cache.RESULT_ENVIRONMENT) and must be set before the libraries load.
ONE_THREAD_EACH = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}


def training_threads(profile: str) -> dict[str, str]:
    """The thread settings `profile` trains under that this process's environment lacks;
    a variable the user set keeps the user's value."""
    if profile == "full":
        return {}
    return {name: value for name, value in ONE_THREAD_EACH.items() if name not in os.environ}


def default_workers() -> int:
    """One process per core, at most four: each holds its own copy of the data, of Keras or
    of matplotlib."""
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def process_pool(
    workers: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
    environment: dict[str, str] | None = None,
) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` fresh processes for the block, started with `environment` added to
    this process's. Leaving it by an exception (or Ctrl-C) starts nothing more and does not
    wait for running work."""
    package_home = str(Path(polarity.__file__).resolve().parent.parent)
    saved = list(sys.path)
    saved_environment = {name: os.environ.get(name) for name in environment or {}}
    # Children copy sys.path and os.environ as they are when each starts, during the block's
    # submits; both are put back when the block ends.
    sys.path[:] = [package_home, *(p for p in saved if p != package_home)]
    os.environ.update(environment or {})
    try:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_started,
            initargs=(str(paths.ROOT), initializer, initargs),
        )
        try:
            yield pool
        except BaseException:
            _stop(pool)
            raise
        else:
            pool.shutdown(wait=True)
    finally:
        sys.path[:] = saved
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill what has: shutdown alone lets running work
    finish, and Python waits for it at exit. (Python 3.14 has kill_workers() for this; the
    process table is the pool's own attribute before it.)"""
    running = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in running:
        process.kill()


def _started(root: str, initializer: Callable | None, initargs: tuple) -> None:
    try:  # Linux's PR_SET_PDEATHSIG; elsewhere a stopped parent's children finish their task
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):
        pass
    from polarity.project import use_project

    use_project(Path(root))
    if initializer is not None:
        initializer(*initargs)
