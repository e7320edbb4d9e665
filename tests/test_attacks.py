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
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polarity import PolarityError, cli, data, paths
from polarity.article import BUILD_MARKER, UnfinishedBuild, build, finished_build
from polarity.cache import cache_key, what_changed
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
         "--experiment", "background", "--experiment", "conditioning",
         "--data-dir", str(DATA_ROOT), "--results", str(results)],
        cwd=paths.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # the reader went away: `polarity run | head -0`
    assert proc.wait() == 0, proc.stderr.read()
    assert {p.name for p in results.glob("*.json")} == {"background.json", "conditioning.json"}


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
