"""The fast-loop benchmark (benchmarks/loop.py) on steps of a few milliseconds: what it writes
and prints, including the reference work that says how fast the machine was."""

import json

import pytest

from benchmarks import loop
from polarity.results import cpu_description


@pytest.mark.slow  # the reference work runs three times, each in a process of its own
def test_each_step_is_timed_beside_the_reference_work_and_a_failure_is_named(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(loop, "ROOT", tmp_path)  # --here: the steps run in tmp_path
    monkeypatch.setattr(
        loop,
        "STEPS",
        {
            "quick": loop.Step("a quick step", ("true",), 60, "exits 0"),
            "broken": loop.Step("a broken step", ("false",), 60, "exits 1"),
        },
    )
    assert loop.main(["--here", "--steps", "quick", "broken"]) == 1
    record = json.loads((tmp_path / "build" / "bench" / "loop.json").read_text())
    quick, broken = record["timings"]
    assert quick["verdict"] == "within target" and quick["exit_status"] == 0
    assert broken["verdict"] == "FAILED (exit 1)"
    references = [t["reference_before_s"] for t in record["timings"]]
    references.append(record["reference_after_s"])
    # Twenty products of 1000 x 1000 matrices and three million additions: measurable, short.
    assert all(0.05 < seconds < 60 for seconds in references), references
    printed = capsys.readouterr().out
    assert record["cpu"] == cpu_description() and f"this checkout, {record['cpu']}:" in printed
    assert "reference work before it" in printed and "reference work after the last" in printed
