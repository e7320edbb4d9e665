"""The command line: help for every command, one-line errors, builds that never train."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polarity import paths


def polarity(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "polarity", *args],
        capture_output=True,
        text=True,
        cwd=paths.ROOT,
        **kwargs,
    )


@pytest.mark.parametrize("command", ["run", "build", "render", "report", "preview"])
def test_every_command_has_help(command):
    done = polarity(command, "--help")
    assert done.returncode == 0
    assert f"usage: polarity {command}" in done.stdout


def test_unknown_experiment_is_one_line_and_trains_nothing(tmp_path):
    done = polarity(
        "run", "--experiment", "nonesuch", "--profile", "smoke", "--results", str(tmp_path)
    )
    assert done.returncode == 2
    known = (
        "background, replication, optimum, conditioning, sweep, convnet, speed, mismatch, "
        "equivalences, fashion"
    )
    assert done.stderr.strip() == f"error: unknown experiment 'nonesuch'; known: {known}"
    assert not any(tmp_path.iterdir())


def test_missing_data_folder_is_one_line(tmp_path):
    done = polarity(
        "run",
        "--profile",
        "smoke",
        "--data-dir",
        str(tmp_path / "nowhere"),
        "--results",
        str(tmp_path),
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and f"data folder {tmp_path / 'nowhere'} (from --data-dir) does not exist" in lines[0]
    )
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("refused", ["data folder", "results folder"])
def test_a_run_refused_for_its_folders_says_so_before_keras_loads(tmp_path, refused):
    """A folder that cannot be used is one line at once, not after Keras's start-up."""
    results, data_dir = tmp_path / "results", tmp_path / "nowhere"
    argv = ["run", "--profile", "smoke", "--results", str(results)]
    if refused == "data folder":
        argv += ["--data-dir", str(data_dir)]
    else:
        results.write_text("a file where the results folder should be")
    code = (
        f"import sys; from polarity.cli import main; code = main({argv!r}); "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules; sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error:") and (str(data_dir) in line or str(results) in line)


@pytest.mark.parametrize("refused", ["results file", "report folder"])
def test_a_build_refused_for_its_input_says_so_before_the_report_s_libraries_load(
    tmp_path, refused
):
    """A bad results file or an unwritable report folder is one line at once, not after the
    2 s it takes to load the statistics, plotting and template libraries."""
    results, report = tmp_path / "results", tmp_path / "report"
    results.mkdir()
    if refused == "results file":
        (results / "replication.json").write_text('{"schema_version": 1,')
    else:
        shutil.copy2(paths.RESULTS_OF_RECORD / "replication.json", results)
        report.write_text("a file where the report folder should be")
    argv = ["build", "--results", str(results), "--report-dir", str(report / "inner")]
    code = (
        f"import sys; from polarity.cli import main; code = main({argv!r}); "
        "assert 'polarity.article' not in sys.modules and 'matplotlib' not in sys.modules; "
        "sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error:") and (str(results) in line or str(report) in line), line


def test_debug_shows_the_traceback(tmp_path):
    done = polarity("--debug", "build", "--results", str(tmp_path))
    assert done.returncode != 0 and "Traceback" in done.stderr


@pytest.mark.slow
def test_build_from_the_results_of_record_never_imports_keras(tmp_path):
    code = (
        "import sys; from polarity.cli import main; "
        f"code = main(['build', '--report-dir', {str(tmp_path)!r}]); "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules; sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT
    )
    assert done.returncode == 0, done.stderr
    article = (tmp_path / "index.qmd").read_text()
    assert "Not the results of record" not in article
    assert "Rerunning the answer's protocol" in article  # the claims were evaluated


@pytest.mark.slow
def test_full_results_outside_the_record_are_flagged_without_claiming_fewer_trials(tmp_path):
    copied = tmp_path / "results"
    shutil.copytree(paths.RESULTS_OF_RECORD, copied)
    done = polarity("build", "--results", str(copied), "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    article = " ".join((tmp_path / "report" / "index.qmd").read_text().split())
    assert "Not the results of record" in article
    assert f"profile results in `{copied}`, not the committed ones" in article
    assert "fewer trials" not in article
    assert "smaller sample" not in article  # the record's samples, another run
    assert "Their samples are the record's" in article


@pytest.mark.slow
def test_the_installed_command_runs_the_checkout_s_experiments_from_anywhere(tmp_path):
    """`make venv` installs only the polarity package; the `polarity` command it puts in
    .venv/bin still finds the experiments of its checkout when run from another folder."""
    command = shutil.which("polarity", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("no polarity command beside this Python (not an installed venv)")
    done = subprocess.run(
        [command, "run", "--profile", "smoke", "--experiment", "background", "--results", "out"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "background.json").is_file()
