"""Attacks: bad input, faults, interruptions and concurrency, one class of issue 19 at a time.

Each case asserts the exit status, a one-line message that names the cause, and that
nothing finished was lost or mixed with something new.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polarity import PolarityError, cli, data, paths
from polarity.article import BUILD_MARKER, UnfinishedBuild, build, finished_build
from polarity.cache import CPU_DISPATCH_ENVIRONMENT, cache_key, what_changed
from polarity.files import (
    FolderBusy,
    atomic_write_text,
    folder_lock,
    lock_path,
    remove_orphaned_temp_files,
)
from polarity.render import RenderError, cause, render
from polarity.results import ResultError, read_result
from polarity.runner import reasons_to_run
from tests.conftest import DATA_ROOT, MNIST_DIR, copy_quarto_project
from tests.test_reliability import polarity


def one_line(stderr: str, *fragments: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def cli_error(capsys, argv, *fragments, code=2) -> str:
    assert cli.main(argv) == code
    return one_line(capsys.readouterr().err, *fragments)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (lock file aside) with its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def record(tmp_path) -> Path:
    """A copy of the results of record to attack."""
    folder = tmp_path / "results"
    shutil.copytree(paths.RESULTS_OF_RECORD, folder)
    return folder


def edit(folder: Path, experiment: str, change) -> None:
    path = folder / f"{experiment}.json"
    result = json.loads(path.read_text())
    change(result)
    path.write_text(json.dumps(result))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A report folder built once from the results of record, to be copied by each test."""
    report = tmp_path_factory.mktemp("built") / "report"
    build(paths.RESULTS_OF_RECORD, report)
    return report


@pytest.fixture
def report(built, tmp_path) -> Path:
    folder = tmp_path / "report"
    shutil.copytree(built, folder)
    return folder


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A Quarto project built from the results of record and rendered once by the fallback."""
    root = tmp_path_factory.mktemp("project")
    copy_quarto_project(root)
    build(paths.RESULTS_OF_RECORD, root / "report")
    render(root, paths.RESULTS_OF_RECORD, "fallback")
    return root


# --- 1. Settings that change numbers are in the cache key ----------------------------------


def keras_json(folder: Path, **settings) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow"}
    config["image_data_format"] = "channels_last"
    (folder / "keras.json").write_text(json.dumps({**config, **settings}))
    return folder


def stored_key() -> tuple[dict, dict]:
    result = read_result(paths.RESULTS_OF_RECORD / "replication.json")
    return result["cache_key"], result["config"]


@pytest.mark.parametrize(
    "settings, component",
    [
        ({"floatx": "float64"}, "setting:keras.floatx float32 -> float64"),
        ({"floatx": "float16"}, "setting:keras.floatx float32 -> float16"),
        (
            {"image_data_format": "channels_first"},
            "setting:keras.image_data_format channels_last -> channels_first",
        ),
        ({"epsilon": 1e-3}, "setting:keras.epsilon 1e-07 -> 0.001"),
    ],
)
def test_keras_json_through_keras_home_changes_the_key(tmp_path, monkeypatch, settings, component):
    stored, config = stored_key()
    assert what_changed(stored, cache_key("replication", config)) == []
    monkeypatch.setenv("KERAS_HOME", str(keras_json(tmp_path / "keras", **settings)))
    assert component in what_changed(stored, cache_key("replication", config))


def test_keras_json_in_the_home_folder_changes_the_key(tmp_path, monkeypatch):
    stored, config = stored_key()
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    keras_json(tmp_path / ".keras", floatx="float64")
    assert "setting:keras.floatx float32 -> float64" in what_changed(
        stored, cache_key("replication", config)
    )


@pytest.mark.parametrize(
    "variable, value",
    [("TF_DETERMINISTIC_OPS", "1"), ("TF_ENABLE_ONEDNN_OPTS", "0"), ("OMP_NUM_THREADS", "1")],
)
def test_determinism_and_kernel_flags_change_the_key(monkeypatch, variable, value):
    stored, config = stored_key()
    monkeypatch.setenv(variable, value)
    assert what_changed(stored, cache_key("replication", config)) != []


def test_the_seeding_code_is_in_the_key():
    components = cache_key("replication", stored_key()[1])["components"]
    assert "source:polarity.seeding" in components
    assert components["setting:keras.floatx"] == "float32"


# --- 2. Untrusted strings never reach the page ---------------------------------------------

PAYLOADS = [
    ("replication", ("provenance", "keras"), "<script>alert(1)</script>", "provenance/keras"),
    ("replication", ("provenance", "device"), "CPU <script>x</script>", "provenance/device"),
    ("replication", ("provenance", "backend"), '#read("/etc/passwd")', "provenance/backend"),
    ("replication", ("provenance", "python"), "```{=typst}", "provenance/python"),
    ("replication", ("provenance", "started_at"), "$#import x$", "provenance/started_at"),
    ("replication", ("provenance", "git_commit"), "abc`<b>", "provenance/git_commit"),
    ("replication", ("provenance", "numpy"), "1" * 300, "provenance/numpy"),
    ("conditioning", ("metrics", "dataset"), "<img src=x onerror=alert(1)>", "metrics/dataset"),
    ("replication", ("reference", "note"), "[x](javascript:alert(1))", "reference/note"),
    ("background", ("profile",), "full\n# injected", "profile"),
]


@pytest.mark.parametrize("experiment, field, payload, named", PAYLOADS)
def test_markup_in_a_results_file_is_refused_before_anything_is_written(
    record, report, capsys, experiment, field, payload, named
):
    def change(result):
        target = result
        for key in field[:-1]:
            target = target.setdefault(key, {})
        target[field[-1]] = payload

    edit(record, experiment, change)
    before = snapshot(report)
    line = cli_error(
        capsys, ["build", "--results", str(record), "--report-dir", str(report)], named
    )
    assert f"{experiment}.json" in line
    assert snapshot(report) == before


def test_a_config_key_with_markup_is_refused(record, capsys, tmp_path):
    edit(record, "sweep", lambda r: r["config"].update({"a`<script>": 1}))
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "out")],
        "sweep.json",
    )


def test_a_long_string_anywhere_is_refused(record, capsys, tmp_path):
    edit(record, "background", lambda r: r["metrics"].update({"note": "a" * 5000}))
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "out")],
        "background.json",
        "metrics/note",
        "5000 characters",
    )


# --- 3. Non-finite numbers -----------------------------------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_naming_file_and_field(record, capsys, tmp_path, token):
    path = record / "replication.json"
    result = json.loads(path.read_text())
    result["metrics"]["answer_protocol"]["inverted"]["mean"] = "@@TOKEN@@"
    path.write_text(json.dumps(result).replace('"@@TOKEN@@"', token))
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "out")],
        "replication.json",
        "metrics/answer_protocol/inverted/mean",
        f"{token} is not a finite number",
    )
    assert not (tmp_path / "out" / "figures").exists()


# --- 4. Decompression has a limit ----------------------------------------------------------


def bomb_folder(tmp_path: Path, stem: str, size: int) -> Path:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for other in data.FILES.values():
        shutil.copy2(MNIST_DIR / f"{other}.gz", folder / f"{other}.gz")
    with gzip.open(folder / f"{stem}.gz", "wb", compresslevel=1) as out:
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            out.write(chunk)
    return folder


def test_a_gzip_bomb_stops_at_the_known_size(tmp_path):
    folder = bomb_folder(tmp_path, "t10k-labels-idx1-ubyte", 200 << 20)
    assert (folder / "t10k-labels-idx1-ubyte.gz").stat().st_size < 1 << 20
    start = time.perf_counter()
    with pytest.raises(data.DataError, match=r"t10k-labels-idx1-ubyte.gz: holds more than 10,008"):
        data.load_from_dir("mnist", folder)
    assert time.perf_counter() - start < 10


def test_read_idx_caps_a_gzip_bomb_too(tmp_path):
    folder = bomb_folder(tmp_path, "train-images-idx3-ubyte", 64 << 20)
    with pytest.raises(data.DataError, match="larger than the file it should be"):
        data.read_idx(folder / "train-images-idx3-ubyte.gz")


@pytest.mark.slow
def test_a_gzip_bomb_under_run_is_one_line_before_training(tmp_path):
    bomb_folder(tmp_path, "t10k-labels-idx1-ubyte", 64 << 20)
    done = polarity(
        "run", "--profile", "smoke", "--experiment", "background",
        "--data-dir", str(tmp_path), "--results", str(tmp_path / "results"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    one_line(done.stderr, "t10k-labels-idx1-ubyte.gz", "holds more than")
    assert not list((tmp_path / "results").glob("*.json"))


# --- 5. Build and render are all-or-nothing ------------------------------------------------


def test_a_build_failing_part_way_leaves_the_previous_build(record, report, capsys, monkeypatch):
    import polarity.article

    before = snapshot(report)

    def fail(*args, **kwargs):
        raise PolarityError("tables failed on purpose")

    monkeypatch.setattr(polarity.article, "write_tables", fail)  # after the figures
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(report)],
        "tables failed",
    )
    assert snapshot(report) == before
    assert not list(report.glob(".staging-*"))
    finished_build(report)


def test_ctrl_c_during_a_build_leaves_the_previous_build(record, report, capsys, monkeypatch):
    import polarity.article

    before = snapshot(report)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(polarity.article, "write_tables", interrupt)  # after the figures
    assert cli.main(["build", "--results", str(record), "--report-dir", str(report)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("interrupted")
    assert snapshot(report) == before


def test_a_swap_interrupted_half_way_is_refused_by_render(report):
    (report / BUILD_MARKER).unlink()  # what a build killed inside its swap leaves
    with pytest.raises(UnfinishedBuild, match="holds no finished build"):
        finished_build(report)


def test_an_article_changed_after_the_build_is_refused(report):
    (report / "index.qmd").write_text("# not what the build wrote\n")
    with pytest.raises(UnfinishedBuild, match="run `polarity build` first"):
        finished_build(report)


@pytest.mark.slow
def test_render_refuses_an_unfinished_build_and_keeps_the_site(project, monkeypatch, capsys):
    site = snapshot(project / "_site")
    marker = project / "report" / BUILD_MARKER
    saved = marker.read_bytes()
    marker.unlink()
    try:
        monkeypatch.setattr(paths, "ROOT", project)
        cli_error(capsys, ["render", "--renderer", "fallback"], "holds no finished build")
    finally:
        marker.write_bytes(saved)
    assert snapshot(project / "_site") == site


@pytest.mark.slow
def test_a_render_failing_at_the_pdf_keeps_the_old_html_and_pdf(project, monkeypatch, capsys):
    import typst

    site = snapshot(project / "_site")

    def fail(*args, **kwargs):
        raise RuntimeError("error: file not found (searched at /etc/passwd)\n" + "x" * 10_000)

    monkeypatch.setattr(typst, "compile", fail)
    monkeypatch.setattr(paths, "ROOT", project)
    line = cli_error(capsys, ["render", "--renderer", "fallback"], "typst compile", "/etc/passwd")
    assert len(line) < 500
    assert snapshot(project / "_site") == site
    assert not list((project / "_site").glob(".staging-*"))
    assert not list((project / "report").glob(".index*.typ"))


# --- 6. Every option takes effect or is rejected -------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "--results", ""],
        ["build", "--results", ""],
        ["build", "--report-dir", " "],
        ["run", "--profile", "smoke", "--results", ""],
        ["run", "--profile", "smoke", "--data-dir", ""],
    ],
)
def test_an_empty_path_is_an_error_not_the_default(argv):
    done = polarity(*argv)
    assert done.returncode == 2
    one_line(done.stderr, "an empty path is not a folder")


@pytest.mark.slow
def test_render_with_results_that_do_not_exist_is_refused(project, monkeypatch, capsys, tmp_path):
    site = snapshot(project / "_site")
    monkeypatch.setattr(paths, "ROOT", project)
    cli_error(
        capsys,
        ["render", "--renderer", "fallback", "--results", str(tmp_path / "nowhere")],
        "was built from",
        "polarity build --results",
    )
    assert snapshot(project / "_site") == site


@pytest.mark.slow
def test_render_with_other_results_than_built_is_refused(project, monkeypatch, capsys, record):
    monkeypatch.setattr(paths, "ROOT", project)
    cli_error(
        capsys, ["render", "--renderer", "fallback", "--results", str(record)], "was built from"
    )


def test_build_from_a_folder_that_does_not_exist_is_named(capsys, tmp_path):
    cli_error(
        capsys,
        ["build", "--results", str(tmp_path / "nowhere"), "--report-dir", str(tmp_path / "r")],
        "nowhere: no such results folder",
    )


# --- 7. Unreadable stored results ----------------------------------------------------------


@pytest.mark.parametrize(
    "content, says",
    [
        (os.urandom(4096) + b"\xff", "not a results file"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than"),
        (json.dumps(json.loads("[" * 40 + "]" * 40)).encode(), "nested deeper than"),
        (b'"just a string"', "expected a JSON object"),
        (b"", "not valid JSON"),
    ],
)
def test_an_unreadable_results_file_is_named_in_one_line(record, capsys, tmp_path, content, says):
    (record / "mismatch.json").write_bytes(content)
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "r")],
        "mismatch.json",
        says,
    )


def test_a_folder_in_place_of_a_results_file_is_named(record, capsys, tmp_path):
    (record / "speed.json").unlink()
    (record / "speed.json").mkdir()
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "r")],
        "speed.json: cannot read",
    )


def test_an_unreadable_stored_result_is_recomputed(record):
    path = record / "convnet.json"
    path.write_bytes(os.urandom(2048) + b"\xff")
    stored, config = read_result(paths.RESULTS_OF_RECORD / "convnet.json"), None
    reasons = reasons_to_run(path, cache_key("convnet", stored["config"]))
    assert len(reasons) == 1 and reasons[0].startswith("stored result unusable (")
    assert "convnet.json: not a results file" in reasons[0]
    del config


@pytest.mark.slow
def test_run_recomputes_random_bytes_with_a_notice(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "background.json").write_bytes(b"\x00\xff" * 100)
    done = polarity(
        "run", "--profile", "smoke", "--experiment", "background",
        "--data-dir", str(DATA_ROOT), "--results", str(results),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "background: ran because stored result unusable (" in done.stdout
    assert read_result(results / "background.json")["experiment"] == "background"


# --- 8. Concurrency ------------------------------------------------------------------------

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def hold():
    """Hold a folder's lock from another process, as a second polarity run would."""
    holders = []

    def holding(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(lock_path(folder))], stdout=subprocess.PIPE
        )
        assert proc.stdout.readline().strip() == b"held"
        holders.append(proc)

    yield holding
    for proc in holders:
        proc.kill()
        proc.wait()


def test_a_build_into_a_held_folder_is_refused(record, report, hold, capsys):
    before = snapshot(report)
    hold(report)
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(report)],
        "another polarity run holds",
        str(report),
    )
    assert snapshot(report) == before


def test_a_run_into_a_held_results_folder_is_refused_before_training(tmp_path, hold):
    results = tmp_path / "results"
    hold(results)
    done = polarity(
        "run", "--profile", "smoke", "--experiment", "background", "--results", str(results)
    )
    assert done.returncode == 2
    one_line(done.stderr, "another polarity run holds", "results")
    assert not list(results.glob("*.json"))


@pytest.mark.slow
def test_a_render_of_a_held_site_is_refused(project, hold, monkeypatch, capsys):
    site = snapshot(project / "_site")
    hold(project / "_site")
    monkeypatch.setattr(paths, "ROOT", project)
    cli_error(capsys, ["render", "--renderer", "fallback"], "another polarity run holds")
    assert snapshot(project / "_site") == site


def test_the_lock_is_free_again_after_use_and_nested_holds_are_free(tmp_path):
    with folder_lock(tmp_path), folder_lock(tmp_path):
        fd = os.open(lock_path(tmp_path), os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    with folder_lock(tmp_path):
        pass


def test_a_live_writers_temp_file_is_left_and_a_dead_ones_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = tmp_path / f".replication.json.{os.getppid()}.abc123.tmp"
    orphan = tmp_path / f".replication.json.{dead.pid}.def456.tmp"
    for path in (live, orphan):
        path.write_text("{}")
    assert remove_orphaned_temp_files(tmp_path, "replication.json") == [orphan]
    assert live.exists() and not orphan.exists()


def test_temp_files_carry_their_writers_pid(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write_text(tmp_path / "x.json", "{}")
    assert seen[0].startswith(f".x.json.{os.getpid()}.")


@pytest.mark.slow
def test_two_builds_at_once_both_end_well(record, tmp_path):
    report = tmp_path / "report"
    command = [
        sys.executable, "-m", "polarity", "build",
        "--results", str(record), "--report-dir", str(report),
    ]  # fmt: skip
    procs = [
        subprocess.Popen(command, cwd=paths.ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(p.wait(), p.stderr.read()) for p in procs]
    assert any(code == 0 for code, _ in outcomes), outcomes
    for code, err in outcomes:
        assert code == 0 or (code == 2 and "another polarity run holds" in one_line(err)), err
    finished_build(report)


# --- 9. Errors say their cause -------------------------------------------------------------


def test_a_full_disk_during_build_is_one_line_with_cause_and_path(
    record, report, capsys, monkeypatch
):
    import polarity.files

    before = snapshot(report)
    real = polarity.files.os.fsync
    calls = []

    def full(fd):
        calls.append(fd)
        if len(calls) > 3:  # a few figures in
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(polarity.files.os, "fsync", full)
    line = cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(report)],
        "No space left on device",
        "cannot write",
        str(report),
    )
    assert len(line) < 500
    assert snapshot(report) == before


def test_a_tool_error_is_reduced_to_its_cause():
    stderr = (
        "Traceback (most recent call last):\n  File 'x.py', line 3, in <module>\n"
        "OSError: [Errno 30] Read-only file system: '/site/index.html'\n"
    )
    assert cause(stderr) == "OSError: [Errno 30] Read-only file system: '/site/index.html'"
    pandoc = (
        "[WARNING] Could not fetch resource x.png\n"
        "pandoc: /site/index.html: withFile: permission denied (Read-only file system)\n"
        "CallStack (from HasCallStack):\n  error, called at src/x.hs:1:1\n"
    )
    assert cause(pandoc).endswith("(Read-only file system)")
    assert len(cause("error: " + "x" * 10_000)) <= 300
    filter_failed = (
        "Error running filter /x/crossref.lua:\n"
        "/x/crossref.lua:94: cross-reference @sec-b points to no section\nstack traceback:\n"
    )
    assert cause(filter_failed) == (
        "Error running filter /x/crossref.lua: /x/crossref.lua:94: cross-reference @sec-b "
        "points to no section"
    )


def test_an_unwritable_results_folder_is_reported_before_training(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    start = time.perf_counter()
    done = polarity("run", "--profile", "smoke", "--results", str(blocker / "results"))
    assert done.returncode == 2
    one_line(done.stderr, "cannot write", str(blocker))
    assert time.perf_counter() - start < 30


def test_a_multi_line_error_is_printed_as_one_line(capsys, monkeypatch, tmp_path):
    import polarity.article

    def fail(*args, **kwargs):
        raise PolarityError("first line\nsecond line\n" + "y" * 2000)

    monkeypatch.setattr(polarity.article, "build", fail)
    line = cli_error(capsys, ["build", "--report-dir", str(tmp_path)], "first line second line")
    assert len(line) <= len("error: ") + cli.MAX_ERROR


# --- 10. Smaller ---------------------------------------------------------------------------


def test_replication_without_its_reference_is_refused(record, capsys, tmp_path):
    edit(record, "replication", lambda r: r.pop("reference"))
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "r")],
        "replication.json",
        "'reference' is a required property",
    )


@pytest.mark.slow
def test_a_results_path_with_non_utf8_bytes_builds(record, tmp_path):
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/r\xffsults"))
    shutil.copytree(record, odd)
    done = subprocess.run(
        [sys.executable, "-m", "polarity", "build", "--results", os.fsencode(odd),
         "--report-dir", str(tmp_path / "report")],
        capture_output=True, cwd=paths.ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "r\\xffsults" in (tmp_path / "report" / "index.qmd").read_text()


def test_figures_from_an_older_build_are_not_kept(record, report, capsys):
    (report / "figures" / "fig-removed-long-ago.png").write_bytes(b"old")
    assert cli.main(["build", "--results", str(record), "--report-dir", str(report)]) == 0
    assert not (report / "figures" / "fig-removed-long-ago.png").exists()


@pytest.mark.slow
def test_stale_figures_never_reach_the_site(project, monkeypatch):
    (project / "_site" / "report" / "figures" / "fig-stale.png").write_bytes(b"old")
    render(project, None, "fallback")
    assert not (project / "_site" / "report" / "figures" / "fig-stale.png").exists()
    assert {p.name for p in (project / "_site" / "report" / "figures").iterdir()} == {
        p.name for p in (project / "report" / "figures").iterdir()
    }


@pytest.mark.slow
def test_a_closed_stdout_does_not_abandon_the_remaining_experiments(tmp_path):
    results = tmp_path / "results"
    proc = subprocess.Popen(
        [sys.executable, "-m", "polarity", "run", "--profile", "smoke",
         "--experiment", "background", "--experiment", "mismatch",
         "--data-dir", str(DATA_ROOT), "--results", str(results)],
        cwd=paths.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # the reader went away: `polarity run | head -0`
    assert proc.wait() == 0, proc.stderr.read()
    assert {p.name for p in results.glob("*.json")} == {"background.json", "mismatch.json"}


@pytest.mark.slow
def test_a_float64_keras_config_reruns_and_is_recorded(tmp_path):
    results = tmp_path / "results"
    args = ["run", "--profile", "smoke", "--experiment", "background",
            "--data-dir", str(DATA_ROOT), "--results", str(results)]  # fmt: skip
    first = polarity(*args)
    assert first.returncode == 0, first.stderr
    env = {**os.environ, "KERAS_HOME": str(keras_json(tmp_path / "keras", floatx="float64"))}
    again = polarity(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert "setting:keras.floatx float32 -> float64" in again.stdout
    settings = read_result(results / "background.json")["provenance"]["settings"]
    assert settings["keras.floatx"] == "float64"


def test_busy_error_is_a_polarity_error():
    assert issubclass(FolderBusy, PolarityError)
    assert issubclass(ResultError, PolarityError)
    assert issubclass(RenderError, PolarityError)


# === Issue 26: special files, symlinks, every source of markup, the settings behind numbers ===


@pytest.fixture
def deadline():
    """Fail, rather than hang, a call that should return at once (a FIFO read blocks)."""
    import signal

    def expired(signum, frame):
        raise TimeoutError("blocked: the call did not return within 20 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# --- 26.1 Special files are never read: only regular files, only up to a cap ---------------


def test_a_fifo_named_like_a_results_file_is_refused_at_once(record, capsys, tmp_path, deadline):
    (record / "mismatch.json").unlink()
    os.mkfifo(record / "mismatch.json")
    out = tmp_path / "r"
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(out)],
        "mismatch.json: cannot read: a FIFO, not a results file",
    )
    assert not out.exists() or snapshot(out) == {}


def test_a_results_file_linked_to_dev_zero_is_refused_without_reading_it(
    record, capsys, tmp_path, deadline
):
    (record / "speed.json").unlink()
    (record / "speed.json").symlink_to("/dev/zero")
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "r")],
        "speed.json: cannot read: a character device",
    )
    assert not (tmp_path / "r" / "index.qmd").exists()


def test_a_sparse_file_larger_than_the_cap_is_refused_by_bytes_read(record, capsys, tmp_path):
    from polarity.results import MAX_FILE_BYTES

    with open(record / "optimum.json", "r+b") as handle:  # holes read as zeros
        handle.truncate(MAX_FILE_BYTES + 4096)
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(tmp_path / "r")],
        "optimum.json: cannot read: larger than any results file",
    )


def test_a_fifo_in_place_of_a_stored_result_is_recomputed_not_waited_for(record, deadline):
    stored = read_result(paths.RESULTS_OF_RECORD / "background.json")
    (record / "background.json").unlink()
    os.mkfifo(record / "background.json")
    reasons = reasons_to_run(record / "background.json", cache_key("background", stored["config"]))
    assert len(reasons) == 1 and "a FIFO, not a results file" in reasons[0]


def test_a_fifo_in_place_of_the_built_article_is_an_unfinished_build(report, deadline):
    (report / "index.qmd").unlink()
    os.mkfifo(report / "index.qmd")
    with pytest.raises(UnfinishedBuild, match="holds no finished build"):
        finished_build(report)


def test_a_fifo_citation_file_is_one_line(deadline, tmp_path):
    from polarity.article import read_citation

    os.mkfifo(tmp_path / "CITATION.cff")
    with pytest.raises(PolarityError, match="a FIFO, not a citation file"):
        read_citation(tmp_path / "CITATION.cff")


def test_a_fifo_keras_json_does_not_hang_the_cache_key(tmp_path, monkeypatch, deadline):
    (tmp_path / "keras").mkdir()
    os.mkfifo(tmp_path / "keras" / "keras.json")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    stored, config = stored_key()
    assert what_changed(stored, cache_key("replication", config)) == []  # Keras's defaults


# --- 26.2 Writes replace planted symlinks, never follow them --------------------------------


def test_a_symlink_planted_as_the_lock_file_is_refused_and_its_target_kept(
    record, report, capsys, tmp_path
):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = lock_path(report)
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    before = snapshot(report)
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(report)],
        "is a symlink, not a lock file",
        lock.name,
    )
    assert victim.read_text() == "precious\n"
    assert snapshot(report) == before


def test_build_replaces_symlinked_static_files_and_leaves_their_targets(record, capsys, tmp_path):
    from polarity.article import STATIC_FILES

    out = tmp_path / "out"
    out.mkdir()
    victims = {}
    for name in STATIC_FILES:
        victim = tmp_path / f"victim-{name}"
        victim.write_text("precious\n")
        (out / name).symlink_to(victim)
        victims[name] = victim
    (out / "claims.json").symlink_to(tmp_path / "victim-claims")
    (tmp_path / "victim-claims").write_text("precious\n")
    assert cli.main(["build", "--results", str(record), "--report-dir", str(out)]) == 0
    for name, victim in victims.items():
        assert victim.read_text() == "precious\n", name
        assert not (out / name).is_symlink()
        assert (out / name).read_bytes() == (paths.REPORT / name).read_bytes()
    assert (tmp_path / "victim-claims").read_text() == "precious\n"
    assert not (out / "claims.json").is_symlink()


def test_an_atomic_write_replaces_a_symlink_to_a_file_outside(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "result.json").symlink_to(victim)
    atomic_write_text(tmp_path / "out" / "result.json", "new\n")
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out" / "result.json").read_text() == "new\n"
    assert not (tmp_path / "out" / "result.json").is_symlink()


def test_the_post_render_script_replaces_a_symlinked_root_page(tmp_path):
    victim = tmp_path / "victim.html"
    victim.write_text("precious\n")
    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").symlink_to(victim)
    env = {**os.environ, "QUARTO_PROJECT_OUTPUT_DIR": str(site)}
    done = subprocess.run(
        [sys.executable, str(paths.REPORT / "postrender.py")], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious\n"
    assert not (site / "index.html").is_symlink()
    assert 'href="report/index.html"' in (site / "index.html").read_text()
    assert [p.name for p in site.iterdir()] == ["index.html"]  # no temporary left


# --- 26.3 One lock per real folder; staging cleaned only by its owner ----------------------


def test_a_folder_reached_through_a_symlink_shares_the_lock_of_its_real_path(
    record, report, hold, capsys, tmp_path
):
    alias = tmp_path / "alias"
    alias.symlink_to(report)
    assert lock_path(alias) == lock_path(report) == lock_path(report / ".." / report.name)
    before = snapshot(report)
    hold(report)
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(alias)],
        "another polarity run holds",
    )
    assert snapshot(report) == before


def test_a_symlinked_spelling_is_refused_while_the_real_path_is_held_in_process(tmp_path, hold):
    real = tmp_path / "real"
    hold(real)
    (tmp_path / "alias").symlink_to(real)
    with pytest.raises(FolderBusy), folder_lock(tmp_path / "alias"):
        pass


def test_a_starting_build_leaves_a_live_builds_staging_and_removes_a_dead_ones(record, report):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        theirs = report / f".staging-{live.pid}-abc"
        theirs.mkdir()
        (theirs / "index.qmd").write_text("another build's work\n")
        gone = report / f".staging-{dead.pid}-def"
        gone.mkdir()
        legacy = report / ".staging-xyz"  # named before staging folders carried a pid
        legacy.mkdir()
        build(record, report)
        assert (theirs / "index.qmd").read_text() == "another build's work\n"
        assert not gone.exists() and not legacy.exists()
        finished_build(report)
    finally:
        live.kill()
        live.wait()


# --- 26.4 Every string that reaches the article goes through one escaping path -------------

HOSTILE_CITATION = """\
cff-version: 1.2.0
message: "cite"
title: "Hostile {{< env HOME >}} <script>alert('t')</script> `{=html}` $x$ @lecun1991eigenvalues"
authors:
  - name: "<script>alert('a')</script> {{< meta title >}}\\n::: {.callout-important}"
  - given-names: "{{% env HOME %}}"
    family-names: "<img src=x onerror=alert(1)>"
version: 0.1.0
date-released: 2026-11-26
license: MIT
url: "https://example.org/x"
"""


@pytest.fixture
def hostile_root(tmp_path, monkeypatch) -> Path:
    """paths.ROOT with a hostile CITATION.cff (the experiments are the checkout's)."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "CITATION.cff").write_text(HOSTILE_CITATION)
    (root / "experiments").symlink_to(paths.ROOT / "experiments")
    monkeypatch.setattr(paths, "ROOT", root)
    return root


def front_matter(article: Path) -> dict:
    import yaml

    text = article.read_text()
    return yaml.safe_load(text.split("---\n")[1])


def test_a_hostile_citation_reaches_the_article_as_escaped_text(hostile_root, record, tmp_path):
    out = tmp_path / "out"
    build(record, out)
    text = (out / "index.qmd").read_text()
    body = text.split("---\n", 2)[2]
    for live in ("{{<", "{{%", "<script", "<img", "`{=html}`", "\n::: {.callout-important"):
        assert live not in body, live
    meta = front_matter(out / "index.qmd")  # still valid YAML
    strings = [
        meta["title"],
        meta["author"][0]["name"]["literal"],
        *meta["author"][1]["name"].values(),
    ]
    for value in strings:  # every markup character escaped
        assert not re.search(r"(?<!\\)[<>`$@{}*]", value), value
    assert meta["title"].startswith("Hostile \\{\u200b\\{\\< env HOME")
    assert meta["date"] == "2026-11-26" and meta["citation"]["version"] == "0.1.0"
    assert "\n" not in meta["author"][0]["name"]["literal"]
    bib = next((out / "figures").glob("*.bib")).read_text()
    assert bib.count("{") == bib.count("}")  # a brace of the title's cannot end a field
    assert "\\textbraceleft{}\\textbraceleft{}< env HOME" in bib


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("url", "javascript:alert(1)", "url: 'javascript:alert(1)' is not an http(s) URL"),
        ("url", 'https://x.org/" onmouseover="alert(1)', "is not an http(s) URL"),
        ("date-released", "'{{< env HOME >}}'", "date-released: "),
        ("version", "'1.0 <b>'", "version: "),
        ("license", "'MIT\\n---'", "license: "),
    ],
)
def test_a_citation_field_of_the_wrong_form_is_one_line_naming_it(
    hostile_root, record, capsys, tmp_path, field, value, says
):
    import yaml

    data = yaml.safe_load(HOSTILE_CITATION)
    data[field] = yaml.safe_load(value) if value.startswith("'") else value
    (hostile_root / "CITATION.cff").write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(out)],
        "CITATION.cff",
        says,
    )
    assert not out.exists() or snapshot(out) == {}


def test_a_backend_name_with_newlines_cannot_open_divs_in_the_stale_callout(
    record, tmp_path, monkeypatch
):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow\n:::\n\n::: {.callout-important}\nINJECTED")
    out = tmp_path / "out"
    build(record, out)
    text = (out / "index.qmd").read_text()
    assert "**Results out of date.**" in text
    assert "{.callout-important}" not in text
    assert not any(line.startswith(("INJECTED", ":::\n")) for line in text.splitlines())
    callout = text[text.index("**Results out of date.**") :].split("\n:::\n")[0]
    assert len(callout.splitlines()) == 3  # its own three lines, none added


@pytest.mark.parametrize(
    "text",
    [
        "a\nb\r\nc\u2028d\x85e",
        "{{< env HOME >}} {{% meta x %}}",
        "```{=html}\n<script>x</script>\n```",
        '$$ #read("/etc/passwd") $$ @ref [x](javascript:1)',
    ],
)
def test_md_escape_leaves_one_line_without_markup(text):
    from polarity.formatting import md_escape

    escaped = md_escape(text)
    assert "\n" not in escaped and "\r" not in escaped and "\u2028" not in escaped
    assert "{{" not in escaped and "}}" not in escaped  # a shortcode's braces kept apart
    assert not re.search(r"(?<!\\)[<>`$#@\[\]{}()]", escaped), escaped  # each escaped


def test_a_quarto_error_is_quoted_not_a_metadata_line_that_says_error():
    output = (
        "title: 'How I fixed every error'\n"
        "  subtitle: cannot fail\n"
        "ERROR: YAMLException: bad indentation of a mapping entry (index.qmd, 3:9)\n"
    )
    assert cause(output) == (
        "ERROR: YAMLException: bad indentation of a mapping entry (index.qmd, 3:9)"
    )


@pytest.mark.slow
def test_a_hostile_citation_renders_as_plain_text_under_real_quarto(tmp_path):
    """Real Quarto, hostile CITATION.cff: no live script, no shortcode run, in HTML and PDF."""
    import html.parser

    if not shutil.which("quarto"):
        if os.environ.get("POLARITY_REQUIRE_QUARTO"):
            pytest.fail("quarto is not on PATH, and POLARITY_REQUIRE_QUARTO is set")
        pytest.skip("quarto is not on PATH")
    root = tmp_path / "project"
    copy_quarto_project(root)
    for name in ("templates", "experiments"):
        shutil.copytree(paths.ROOT / name, root / name)
    for name in ("references.bib", "style.css"):
        shutil.copy2(paths.REPORT / name, root / "report" / name)
    # One result is enough to carry the citation into every place Quarto prints it (title
    # block, citation appendix, meta tags), and its three figures still go through the build's
    # drawing processes under pre-render; the whole record would only render longer.
    (root / "report" / "results").mkdir()
    shutil.copy2(paths.RESULTS_OF_RECORD / "replication.json", root / "report" / "results")
    (root / "CITATION.cff").write_text(HOSTILE_CITATION)
    # The project's own figure cache, empty: the figures are drawn under pre-render.
    env = {
        **{k: v for k, v in os.environ.items() if k != "POLARITY_FIGURE_CACHE"},
        "POLARITY_PROJECT": str(root),
        "POLARITY_PYTHON": sys.executable,
        "PYTHONSAFEPATH": "1",  # the project's polarity/ (filters) must not shadow the package
        "HOME": str(tmp_path / "home-MARKER"),
    }
    done = subprocess.run(
        ["quarto", "render", str(root)], capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page = (root / "_site" / "report" / "index.html").read_text()

    class Scripts(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.scripts, self.tags = False, [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))
            self.inside = tag == "script"

        def handle_endtag(self, tag):
            self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.scripts.append(data)

    parsed = Scripts()
    parsed.feed(page)
    assert not any("alert(" in s for s in parsed.scripts)
    assert not any(tag == "img" and attrs.get("src") == "x" for tag, attrs in parsed.tags)
    assert "home-MARKER" not in page  # {{< env HOME >}} did not run
    assert "&lt;script&gt;alert(" in page  # shown as the text it is
    pdf = subprocess.run(
        ["pdftotext", str(root / "_site" / "report" / "index.pdf"), "-"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "<script>alert(" in pdf and "home-MARKER" not in pdf
    assert "env HOME" in pdf.replace("\u200b", "")


# --- 26.5 Everything that can change a number is in the cache key --------------------------


def test_the_results_of_record_are_current_under_the_new_key():
    from polarity.article import stale_results
    from polarity.results import read_results

    assert stale_results(read_results(paths.RESULTS_OF_RECORD)) == {}


@pytest.mark.parametrize(
    "variable", ["OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_THREAD_LIMIT"]
)
def test_thread_counts_of_numeric_libraries_change_the_key(monkeypatch, variable):
    stored, config = stored_key()
    monkeypatch.setenv(variable, "2")
    changed = what_changed(stored, cache_key("replication", config))
    assert changed == [f"setting:env:{variable} (new)"]


def test_variables_choosing_the_cpu_s_kernels_are_part_of_the_machine_not_the_key(monkeypatch):
    """OPENBLAS_CORETYPE and its kind stand for the processor, which the key leaves out: a
    machine that sets one (this workplace's AMD EPYCs set OPENBLAS_CORETYPE=Haswell) still
    finds the results of record current. Each run records them beside its CPU."""
    from polarity.results import provenance, validate

    stored, config = stored_key()
    for name in CPU_DISPATCH_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    plain = provenance("2026-12-07T00:00:00+00:00", 1.0)["device"]
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "AVX512F AVX512_SKX")  # not plain text
    monkeypatch.setenv("MKL_ENABLE_INSTRUCTIONS", "x" * 10_000)
    assert what_changed(stored, cache_key("replication", config)) == []
    device = provenance("2026-12-07T00:00:00+00:00", 1.0)["device"]
    assert device.split(" cores")[0] == plain.split(" cores")[0]
    assert " cores; OPENBLAS_CORETYPE=Haswell; NPY_DISABLE_CPU_FEATURES=sha256:" in device
    assert "x" * 65 not in device  # long or odd values are recorded as digests
    result = read_result(paths.RESULTS_OF_RECORD / "optimum.json")
    result["provenance"]["device"] = device
    validate(result, "optimum.json")


def test_scipy_and_ml_dtypes_versions_are_in_the_key(monkeypatch):
    import polarity.cache

    stored, config = stored_key()
    real = polarity.cache._installed
    monkeypatch.setattr(
        polarity.cache, "_installed", lambda *d: "9.9.9" if d[0] == "scipy" else real(*d)
    )
    assert what_changed(stored, cache_key("replication", config)) == [
        "version:scipy 1.17.1 -> 9.9.9"
    ]


def test_thread_settings_and_scipy_reach_the_provenance_card(monkeypatch):
    from polarity.report.output import provenance_of
    from polarity.results import validate

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    result = read_result(paths.RESULTS_OF_RECORD / "optimum.json")
    from polarity.cache import settings

    result["provenance"] = {**result["provenance"], "settings": settings(), "scipy": "1.17.1"}
    validate(result, "optimum.json")  # the schema takes the variable's name
    card = provenance_of(result, [0])
    assert card["settings"]["env:OPENBLAS_NUM_THREADS"] == "2"
    assert card["packages"]["scipy"] == "1.17.1"


# --- 26.6 Results that pass the schema but do not fit together ------------------------------


@pytest.mark.parametrize(
    "experiment, change, says",
    [
        ("optimum", lambda r: r["config"].update(dataset="cifar10"),
         "config/dataset: unknown data set 'cifar10'"),
        ("optimum", lambda r: r["config"].pop("dataset"), "config/dataset: missing"),
        ("replication", lambda r: r["config"].update(learning_rate="0.5"),
         "config/learning_rate: \"0.5\" is not float"),
        ("replication", lambda r: r["metrics"]["answer_protocol"]["normal"]["curve"][
            "accuracy"].pop(), "metrics/answer_protocol/normal/curve/accuracy: 99 values"),
        ("background", lambda r: r["config"].update(datasets=["mnist", "nope"]),
         "config/datasets/1: unknown data set 'nope'"),
        ("sweep", lambda r: r["config"].update(surprise=1), "config/surprise: not a field"),
    ],
)  # fmt: skip
def test_fields_that_do_not_fit_together_are_named_with_their_file(
    record, capsys, tmp_path, experiment, change, says
):
    edit(record, experiment, change)
    out = tmp_path / "r"
    cli_error(
        capsys,
        ["build", "--results", str(record), "--report-dir", str(out)],
        f"{experiment}.json",
        says,
    )
    assert not (out / "index.qmd").exists()


# --- 26.7 A smaller profile never silently replaces a larger one's result -------------------


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_a_smaller_profile_is_refused_over_a_full_result(record, capsys, profile):
    before = snapshot(record)
    cli_error(
        capsys,
        ["run", "--profile", profile, "--experiment", "background", "--results", str(record)],
        "background.json holds a full-profile result",
        "--force",
    )
    assert snapshot(record) == before


def test_a_refusal_comes_before_any_experiment_runs(record, capsys):
    (record / "background.json").unlink()  # the first would run, the second is refused
    before = snapshot(record)
    cli_error(
        capsys,
        ["run", "--profile", "smoke", "--experiment", "background",
         "--experiment", "optimum", "--results", str(record)],
        "optimum.json holds a full-profile result",
    )  # fmt: skip
    assert snapshot(record) == before


def test_force_same_or_larger_profile_and_unreadable_results_may_replace(record):
    from polarity.runner import check_replaceable

    check_replaceable("optimum", "smoke", record, force=True)
    check_replaceable("optimum", "full", record, force=False)
    (record / "speed.json").write_bytes(b"\xff")
    check_replaceable("speed", "smoke", record, force=False)


# --- 26.8 Errors that say their cause -------------------------------------------------------


@pytest.mark.parametrize(
    "port, says", [("70000", "port 70000 is outside 0 to 65535"), ("-1", "port -1 is outside"),
                   ("http", "'http' is not a port number")]
)  # fmt: skip
def test_a_port_outside_the_range_is_one_line(capsys, port, says):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["preview", "--port", port])
    assert exit_.value.code == 2
    one_line(capsys.readouterr().err, says)


def test_a_port_in_use_is_named(tmp_path):
    import socket

    from polarity.preview import Preview

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(PolarityError, match=f"cannot listen on 127.0.0.1 port {port}: it is"):
            Preview(tmp_path, tmp_path, port=port)
    finally:
        taken.close()


@pytest.mark.parametrize(
    "backend, says",
    [("jax", "Keras backend 'jax' (from $KERAS_BACKEND) is not installed"),
     ("nonsense", "unknown Keras backend 'nonsense' (from $KERAS_BACKEND)"),
     ("torch\n::: x", "unknown Keras backend 'torch ::: x'")],
)  # fmt: skip
def test_a_backend_that_cannot_load_is_one_line_before_anything_runs(
    tmp_path, capsys, monkeypatch, backend, says
):
    import importlib.util

    if backend == "jax" and importlib.util.find_spec("jax") is not None:
        pytest.skip("JAX is installed here")
    monkeypatch.setenv("KERAS_BACKEND", backend)
    results = tmp_path / "results"
    cli_error(capsys, ["run", "--profile", "smoke", "--results", str(results)], says)
    assert not results.exists()  # refused before the results folder was even locked


def test_an_ascii_only_terminal_gets_escapes_not_a_failure(monkeypatch):
    import io

    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    cli.say("built r\u00e9sultats/index.qmd, 11 figures \u2192 done")
    cli._error("no r\u00e9sultats")
    stdout.flush()
    stderr.flush()
    assert stdout.buffer.getvalue() == b"built r\\xe9sultats/index.qmd, 11 figures \\u2192 done\n"
    assert stderr.buffer.getvalue() == b"error: no r\\xe9sultats\n"


@pytest.mark.slow
def test_an_explicit_data_dir_wins_over_a_stale_environment_variable(tmp_path):
    results = tmp_path / "results"
    env = {**os.environ, "POLARITY_DATA_DIR": str(tmp_path / "gone")}
    done = polarity(
        "run", "--profile", "smoke", "--experiment", "background",
        "--data-dir", str(DATA_ROOT), "--results", str(results), env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert read_result(results / "background.json")["profile"] == "smoke"
    without = polarity(
        "run", "--profile", "smoke", "--experiment", "background", "--force",
        "--results", str(results), env=env,
    )  # fmt: skip
    one_line(without.stderr, "gone", "POLARITY_DATA_DIR")


def test_a_missing_pre_render_python_is_one_line_not_a_traceback(tmp_path):
    env = {
        **os.environ,
        "POLARITY_PYTHON": str(tmp_path / "no-such-python"),
        "QUARTO_PROJECT_RENDER_ALL": "1",
    }
    done = subprocess.run(
        [sys.executable, str(paths.REPORT / "prerender.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("pre-render: cannot run ") and "no-such-python" in lines[0]


@pytest.mark.slow
def test_a_full_disk_at_the_pdf_names_the_cause_and_keeps_the_site(project, monkeypatch, capsys):
    import polarity.files

    site = snapshot(project / "_site")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(polarity.files.os, "fsync", full)
    monkeypatch.setattr(paths, "ROOT", project)
    cli_error(
        capsys,
        ["render", "--renderer", "fallback"],
        "index.pdf: No space left on device; free some space",
    )
    assert snapshot(project / "_site") == site


@pytest.mark.slow
def test_the_fallback_asked_for_says_so_when_quarto_is_there(project, monkeypatch, capsys):
    import polarity.render

    monkeypatch.setattr(polarity.render, "quarto_path", lambda: "/opt/quarto/bin/quarto")
    monkeypatch.setattr(paths, "ROOT", project)
    assert cli.main(["render", "--renderer", "fallback"]) == 0
    err = capsys.readouterr().err
    assert "as --renderer fallback asks" in err and "not on PATH" not in err


# --- 26.9 The preview server answers only to its own name, only from _site/ ----------------


@pytest.fixture
def served(tmp_path):
    """A preview server over a small _site/, on a free port, without building anything."""
    import threading

    from polarity.preview import Preview

    site = tmp_path / "_site" / "report"
    site.mkdir(parents=True)
    (site / "index.html").write_text("<html><body>the report</body></html>")
    preview = Preview(tmp_path, tmp_path / "results", port=0)
    thread = threading.Thread(target=preview.server.serve_forever, daemon=True)
    thread.start()
    yield preview
    preview.server.shutdown()
    preview.server.server_close()


def request(preview, path: str, host: str | None = None) -> tuple[int, bytes]:
    import http.client

    port = preview.server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host} if host is not None else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_a_foreign_host_header_is_refused(served):
    port = served.server.server_address[1]
    served.error = f"build failed in {served.root.resolve()}/report"
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
        assert request(served, "/report/index.html", host)[0] == 403, host
        assert request(served, "/__preview/version", host)[0] == 403, host
    status, body = request(served, "/__preview/version", f"localhost:{port}")
    assert status == 200 and str(served.root.resolve()) not in body.decode()
    assert request(served, "/report/index.html")[0] == 200  # 127.0.0.1:port


def test_a_symlink_out_of_the_site_is_not_followed(served, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    (tmp_path / "_site" / "report" / "leak.txt").symlink_to(secret)
    (tmp_path / "_site" / "report" / "out").symlink_to(tmp_path)
    assert request(served, "/report/leak.txt")[0] == 404
    assert request(served, "/report/out/secret.txt")[0] == 404
    assert request(served, "/report/index.html")[1].startswith(b"<html><body>the report")


def test_a_page_that_is_not_utf8_is_served_with_the_reload_script(served, tmp_path):
    (tmp_path / "_site" / "report" / "latin1.html").write_bytes(b"<body>caf\xe9 \xff</body>")
    status, body = request(served, "/report/latin1.html")
    assert status == 200 and b"caf\xe9 \xff" in body and b"__preview/version" in body
    assert request(served, "/report/index.html")[0] == 200  # the server lives on


def test_a_burst_of_connections_is_not_dropped(served):
    import concurrent.futures

    assert served.server.request_queue_size >= 128
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(lambda _: request(served, "/report/index.html")[0], range(200)))
    assert statuses == [200] * 200
