"""The smaller profiles train on one thread of each numeric library, set before the libraries
load, and say so in every result's key; the full profile keeps the libraries' defaults."""

import os
import subprocess
import sys

import pytest

from polarity import paths
from polarity.article import stale_results
from polarity.processes import ONE_THREAD_EACH, process_pool, training_threads
from polarity.results import read_result
from tests.conftest import DATA_ROOT

SETTINGS = {f"env:{name}": value for name, value in ONE_THREAD_EACH.items()}


@pytest.fixture
def unset_threads(monkeypatch):
    """This process as a caller from Python usually is: no thread variable set."""
    for name in ONE_THREAD_EACH:
        monkeypatch.delenv(name, raising=False)


def test_the_smaller_profiles_take_one_thread_each_and_full_the_defaults(unset_threads):
    assert training_threads("smoke") == training_threads("quick") == ONE_THREAD_EACH
    assert training_threads("full") == {}


def test_a_thread_variable_the_user_set_keeps_the_user_s_value(unset_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert "OMP_NUM_THREADS" not in training_threads("quick")
    assert training_threads("quick")["OPENBLAS_NUM_THREADS"] == "1"


def _variable(name):
    return os.environ.get(name)


@pytest.mark.slow
def test_a_pool_s_processes_start_with_its_environment_and_this_one_gets_its_own_back(
    monkeypatch,
):
    monkeypatch.delenv("POLARITY_TEST_ADDED", raising=False)
    monkeypatch.setenv("POLARITY_TEST_REPLACED", "before")
    added = {"POLARITY_TEST_ADDED": "added", "POLARITY_TEST_REPLACED": "after"}
    with process_pool(1, environment=added) as pool:
        seen = list(pool.map(_variable, added))
    assert seen == ["added", "after"]
    assert "POLARITY_TEST_ADDED" not in os.environ
    assert os.environ["POLARITY_TEST_REPLACED"] == "before"
    with pytest.raises(RuntimeError), process_pool(1, environment=added):
        raise RuntimeError("a block left by an exception")
    assert "POLARITY_TEST_ADDED" not in os.environ
    assert os.environ["POLARITY_TEST_REPLACED"] == "before"


# A caller from Python without the thread settings: it runs `background` twice (trained, then
# found current) and says whether it loaded Keras and whether its environment changed.
CALLER = """
import os, sys
from polarity.runner import run_experiments
args = (["background"], "smoke", sys.argv[1], sys.argv[2])
for _ in range(2):
    print([o.skipped for o in run_experiments(*args, jobs=1)])
print("keras" in sys.modules, any(name.endswith("_NUM_THREADS") for name in os.environ))
"""


@pytest.mark.slow
def test_a_caller_from_python_trains_under_the_settings_of_the_session_s_runs(
    unset_threads, smoke_results, tmp_path
):
    """A caller from Python lacks the settings, so its run goes to a process started with
    them, which also finds out what is current: the caller never loads Keras (6 s here) and
    its environment is left as it was. Its result records the settings, and its key and
    metrics are those of the session's smoke run, which a process started with the settings
    trained in-process. (The command is the third way in: the determinism test compares its
    runs with the session's, key included.)"""
    caller = [sys.executable, "-c", CALLER, str(DATA_ROOT), str(tmp_path / "python")]
    done = subprocess.run(caller, cwd=paths.ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[False]", "[True]", "False False"]
    by_python = read_result(tmp_path / "python" / "background.json")
    in_process = read_result(smoke_results / "background.json")
    assert SETTINGS.items() <= by_python["provenance"]["settings"].items()
    assert by_python["cache_key"] == in_process["cache_key"]
    assert by_python["metrics"] == in_process["metrics"]
    assert stale_results({"background": by_python}) == {}  # the build keys it as the runner did


@pytest.mark.slow  # needs the session's smoke runs: a fresh clone trains them
def test_the_session_s_smoke_runs_are_keyed_with_one_thread_each(unset_threads, smoke_results):
    results = {p.stem: read_result(p) for p in smoke_results.glob("*.json")}
    assert all(SETTINGS.items() <= r["provenance"]["settings"].items() for r in results.values())
    assert stale_results(results) == {}
