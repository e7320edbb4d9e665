"""Drawn figures are kept by what they are drawn from (polarity/report/output.py): the same
results and code give the kept files without drawing; anything else draws again; a broken
cache costs time, never a build."""

from __future__ import annotations

import copy
import os
from dataclasses import replace

import pytest

from polarity import paths
from polarity.report import FIGURES
from polarity.report import output as output_module
from polarity.report.output import FORMATS, draw_formats, figure_entries, figure_key
from polarity.results import read_results


@pytest.fixture(scope="module")
def one_figure():
    """The trial-accuracy figure of the report of record (the quickest to draw)."""
    results = read_results(paths.RESULTS_OF_RECORD)
    entries = {
        spec.id: (spec, inputs) for spec, inputs, _ in figure_entries(FIGURES, results, None)
    }
    return entries["fig-trial-accuracies"]


@pytest.fixture
def cache_in(tmp_path, monkeypatch):
    monkeypatch.delenv("POLARITY_FIGURE_CACHE", raising=False)  # the suite shares one
    monkeypatch.setattr(paths, "BUILD", tmp_path / "build")
    return tmp_path / "build" / "figure-cache"


def counting(spec):
    """The same figure (same id, same key) with its drawings counted."""
    calls = []

    def counted(*inputs):
        calls.append(1)
        return spec.draw(*inputs)

    return replace(spec, draw=counted), calls


def test_the_second_build_of_a_figure_draws_nothing_and_gives_the_same_bytes(
    one_figure, cache_in, monkeypatch
):
    spec, inputs = one_figure
    first = draw_formats(spec, inputs)
    kept = [p for p in cache_in.iterdir() if p.name != ".drawing.lock"]
    assert sorted(p.suffix[1:] for p in kept) == sorted(FORMATS)

    def no_drawing(*_):
        raise AssertionError("drew a figure whose files were kept")

    assert draw_formats(replace(spec, draw=no_drawing), inputs) == first


DRAW_ONCE_AND_COUNT = """
import sys, time
from dataclasses import replace
from pathlib import Path
from polarity import paths
from polarity.report import FIGURES
from polarity.report.output import draw_all, figure_entries
from polarity.results import read_results

paths.BUILD = Path(sys.argv[1])
record = read_results(paths.RESULTS_OF_RECORD)
entries = {s.id: (s, i) for s, i, _ in figure_entries(FIGURES, record, None)}
spec, inputs = entries["fig-mean-images"]

def counted(*inputs):
    with open(sys.argv[2], "a") as log:
        log.write("drawn\\n")
    time.sleep(1)  # a slow drawing, so that the other process asks while this one draws
    return spec.draw(*inputs)

Path(sys.argv[3]).touch()  # ready
while not Path(sys.argv[4]).exists():
    time.sleep(0.01)
draw_all([(replace(spec, draw=counted), inputs)])
"""


@pytest.mark.slow
def test_two_builds_at_once_draw_a_figure_once(tmp_path, monkeypatch):
    """Two processes that want the same uncached figure at the same moment: one draws it, the
    other waits for it and reads the cache (before the lock, both drew)."""
    import subprocess
    import sys
    import time

    monkeypatch.delenv("POLARITY_FIGURE_CACHE", raising=False)  # each its project's cache

    build, log, go = tmp_path / "build", tmp_path / "drawn.log", tmp_path / "go"
    script = tmp_path / "draw.py"
    script.write_text(DRAW_ONCE_AND_COUNT)
    ready = [tmp_path / f"ready-{i}" for i in range(2)]
    processes = [
        subprocess.Popen([sys.executable, str(script), build, log, r, go], cwd=paths.ROOT)
        for r in ready
    ]
    while not all(r.exists() for r in ready):
        assert all(p.poll() is None for p in processes), "a drawing process ended early"
        time.sleep(0.05)
    go.touch()
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    assert log.read_text().splitlines() == ["drawn"]
    kept = {p.suffix[1:] for p in (build / "figure-cache").iterdir() if p.suffix != ".lock"}
    assert kept == set(FORMATS)


def test_a_shared_cache_folder_serves_another_project(one_figure, cache_in, monkeypatch, tmp_path):
    """$POLARITY_FIGURE_CACHE: what one project drew, a build in another folder reuses."""
    spec, inputs = one_figure
    shared = tmp_path / "shared cache"
    monkeypatch.setenv("POLARITY_FIGURE_CACHE", str(shared))
    first = draw_formats(spec, inputs)
    monkeypatch.setattr(paths, "BUILD", tmp_path / "another project" / "build")

    def no_drawing(*_):
        raise AssertionError("drew a figure the shared cache kept")

    assert draw_formats(replace(spec, draw=no_drawing), inputs) == first
    assert {p.suffix[1:] for p in shared.iterdir() if p.suffix != ".lock"} == set(FORMATS)
    assert not cache_in.exists() and not (tmp_path / "another project").exists()


def test_other_results_or_other_code_draw_again(one_figure, cache_in, monkeypatch):
    spec, inputs = one_figure
    draw_formats(spec, inputs)
    changed = copy.deepcopy(inputs)
    changed[0]["provenance"]["git_commit"] = (
        "0" * 40
    )  # printed nowhere in the figure, still a change
    assert figure_key(spec, changed) != figure_key(spec, inputs)
    counted, calls = counting(spec)
    draw_formats(counted, changed)
    assert calls == [1]
    key = figure_key(spec, inputs)
    monkeypatch.setattr(output_module, "_drawing_code_digest", lambda: "edited code")
    assert figure_key(spec, inputs) != key
    draw_formats(counted, inputs)
    assert calls == [1, 1]


def test_the_drawing_code_digest_covers_the_modules_drawing_runs_and_no_other():
    """An edit of the house style or of a section's drawing code draws again; an edit of the
    article's builder, which draws nothing, keeps the figures. One test, the modules one
    after another: the edits are to the checkout's files, which parallel workers must not
    make at once (each would see the other's edit)."""
    cases = [("style.py", True), ("report/background.py", True), ("article.py", False)]
    for module, draws in cases:
        output_module._drawing_code_digest.cache_clear()
        digest = output_module._drawing_code_digest()
        source = paths.ROOT / "polarity" / module
        original = source.read_bytes()
        try:
            source.write_bytes(original + b"\n# an edit\n")
            output_module._drawing_code_digest.cache_clear()
            assert (output_module._drawing_code_digest() != digest) is draws, module
        finally:
            source.write_bytes(original)
            output_module._drawing_code_digest.cache_clear()
        assert output_module._drawing_code_digest() == digest, module


@pytest.mark.parametrize("damage", ["missing format", "folder", "fifo", "unwritable"])
def test_a_damaged_cache_draws_again_and_the_build_goes_on(one_figure, cache_in, damage):
    spec, inputs = one_figure
    expected = draw_formats(spec, inputs)
    svg = cache_in / f"{figure_key(spec, inputs)}.svg"
    svg.unlink()
    if damage == "folder":
        svg.mkdir()
    elif damage == "fifo":
        os.mkfifo(svg)
    elif damage == "unwritable":
        cache_in.chmod(0o500)
    counted, calls = counting(spec)
    try:
        assert draw_formats(counted, inputs) == expected
    finally:
        cache_in.chmod(0o700)
    assert calls == [1]


@pytest.mark.slow
def test_figures_drawn_in_processes_of_their_own_are_the_ones_drawn_here(cache_in, monkeypatch):
    """A cold build draws in a process per core; its files are byte for byte those of
    drawing in the building process, and each lands in the building process's cache."""
    results = read_results(paths.RESULTS_OF_RECORD)
    wanted = {"fig-mean-images", "fig-trial-accuracies"}
    drawings = [
        (spec, inputs)
        for spec, inputs, _ in figure_entries(FIGURES, results, None)
        if spec.id in wanted
    ]
    assert len(drawings) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    drawn = output_module.draw_all(drawings)
    assert drawn == [output_module._draw(spec, inputs) for spec, inputs in drawings]
    kept = {p.name for p in cache_in.iterdir()}
    for spec, inputs in drawings:
        assert {f"{figure_key(spec, inputs)}.{fmt}" for fmt in FORMATS} <= kept
