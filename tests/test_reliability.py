"""Bad input, interruption and reruns: every failure is one clear line and loses nothing."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from polarity import paths
from polarity.render import RenderError, render
from tests.conftest import DATA_ROOT, NetworkBlocked


def polarity(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "polarity", *args],
        capture_output=True,
        text=True,
        cwd=paths.ROOT,
        env=env,
        **kwargs,
    )


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# --- Bad input ----------------------------------------------------------------------------


def test_unknown_profile(tmp_path):
    assert_one_line_error(
        polarity("run", "--profile", "fast"),
        "argument --profile: invalid choice: 'fast'",
        "polarity run --help",
    )


def test_malformed_results_json(tmp_path):
    (tmp_path / "replication.json").write_text('{"schema_version": 1,\n  "experiment": ,}')
    assert_one_line_error(
        polarity("build", "--results", str(tmp_path)), "replication.json: not valid JSON (line 2"
    )


def test_hand_edited_results_fail_the_schema(tmp_path):
    result = json.loads((paths.RESULTS_OF_RECORD / "replication.json").read_text())
    result["metrics"]["answer_protocol"]["inverted"]["mean"] = "high"
    (tmp_path / "replication.json").write_text(json.dumps(result))
    assert_one_line_error(
        polarity("build", "--results", str(tmp_path)),
        "answer_protocol/inverted/mean: 'high' is not of type 'number'",
    )


def test_output_folder_not_writable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    line = assert_one_line_error(
        polarity("build", "--report-dir", str(blocker / "report")),
        "cannot write",
        "choose a writable folder",
    )
    assert str(blocker) in line


def render_cli(project, monkeypatch, capsys, path: str) -> tuple[int, str]:
    """`polarity render` on a throwaway project, with PATH set as given."""
    from polarity import cli

    monkeypatch.setattr(paths, "ROOT", project.root)
    monkeypatch.setenv("PATH", path)
    code = cli.main(["render", "--results", str(project.results)])
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_quarto_absent_falls_back_with_a_notice(fallback_project, monkeypatch, capsys):
    code, err = render_cli(fallback_project, monkeypatch, capsys, os.path.dirname(sys.executable))
    assert code == 0, err
    assert "notice: Quarto is not on PATH; rendered with the fallback, pandoc" in err


def test_asking_for_quarto_without_it_says_what_to_do(monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    with pytest.raises(
        RenderError, match="quarto is not on PATH; install Quarto or use --renderer fallback"
    ):
        render(renderer="quarto")


@pytest.mark.slow
def test_failing_quarto_shows_its_own_error(fallback_project, tmp_path, monkeypatch, capsys):
    fake = tmp_path / "quarto"
    fake.write_text(
        "#!/bin/sh\necho 'ERROR: YAMLException: bad indentation (_quarto.yml, 4:3)' >&2\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    code, err = render_cli(
        fallback_project, monkeypatch, capsys, f"{tmp_path}:{os.environ['PATH']}"
    )
    assert code == 2
    assert (
        err.strip()
        == "error: quarto render failed: ERROR: YAMLException: bad indentation (_quarto.yml, 4:3)"
    )


def test_a_filter_missing_from_the_project_is_named(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "index.qmd").write_text("# A\n")
    (tmp_path / "_quarto.yml").write_text("filters:\n  - polarity/minus.lua\n")
    with pytest.raises(RenderError, match=r"filter .*polarity/minus.lua named in .*_quarto.yml"):
        render(tmp_path, renderer="fallback")


# --- Nothing partial on disk --------------------------------------------------------------


@pytest.mark.slow
def test_killed_run_keeps_finished_experiments_and_leaves_nothing_truncated(tmp_path):
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "polarity",
        "run",
        "--profile",
        "smoke",
        "--data-dir",
        str(DATA_ROOT),
        "--results",
        str(results),
    ]
    run = subprocess.Popen(command, cwd=paths.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finished = results / "background.json"
    deadline = time.monotonic() + 120
    while not finished.exists():  # background runs first; replication trains next
        assert run.poll() is None, run.stderr.read().decode()
        assert time.monotonic() < deadline, "background.json never appeared"
        time.sleep(0.05)
    time.sleep(0.3)
    assert not (results / "replication.json").exists(), "run finished before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.wait()

    # Every file present is a complete, valid result.
    assert json.loads(finished.read_text())["experiment"] == "background"
    assert sorted(p.name for p in results.glob("*.json")) == ["background.json"]

    rerun = subprocess.run(command, cwd=paths.ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "background: skipped" in rerun.stdout
    assert "replication: ran because no result yet" in rerun.stdout
    import experiments

    assert sorted(p.name for p in results.iterdir()) == sorted(
        f"{n}.json" for n in experiments.NAMES
    )


# --- Determinism --------------------------------------------------------------------------


# Measured wall times: the provenance's start and duration, and the convnet's time per update.
TIMING_KEYS = {"started_at", "duration_s", "seconds_per_update", "seconds"}


def _without_timings(value):
    if isinstance(value, dict) and value.get("experiment") == "speed":
        value = {**value, "metrics": None}  # the speed experiment's metrics are wall times
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.mark.slow
def test_same_profile_and_seeds_give_identical_results(smoke_results, tmp_path):
    done = polarity(
        "run", "--profile", "smoke", "--data-dir", str(DATA_ROOT), "--results", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    for first in sorted(smoke_results.glob("*.json")):
        again = json.loads((tmp_path / first.name).read_text())
        # Serialised as the runner writes them: same key order, same float text.
        assert json.dumps(_without_timings(again), indent=1) == json.dumps(
            _without_timings(json.loads(first.read_text())), indent=1
        ), first.name


# --- Safe by construction -----------------------------------------------------------------


def test_tests_cannot_reach_the_network():
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed


def test_nothing_in_the_project_unpickles_or_loads_unsafe_yaml():
    sources = [
        p
        for folder in ("polarity", "experiments", "report")
        for p in (paths.ROOT / folder).rglob("*.py")
    ]
    for path in sources:
        text = path.read_text()
        assert "pickle" not in text, path
        assert "allow_pickle=True" not in text, path
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text, path
