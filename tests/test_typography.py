"""Negative numbers print with a minus sign in every output, and nothing else changes."""

import subprocess
from importlib import resources

import pypandoc
import pytest

TEXT = "A gap of -0.07 points (-0.10 to -0.03), p = 0.8, on 2026-11-27; `x = -1` and $-2$."


def _pandoc(to: str) -> str:
    lua = str(resources.files("polarity") / "minus.lua")
    done = subprocess.run(
        [pypandoc.get_pandoc_path(), "--from", "markdown", "--to", to, "--lua-filter", lua],
        input=TEXT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize("to", ["html5", "typst"])
def test_a_hyphen_starting_a_number_becomes_a_minus_sign(to):
    out = _pandoc(to)
    assert "\u22120.07" in out and "(\u22120.10" in out and "\u22120.03" in out
    assert "-0." not in out


def test_dates_code_and_math_keep_their_hyphens():
    out = _pandoc("html5")
    assert "2026-11-27" in out
    assert "x = -1" in out  # code
    assert "-2" in out  # TeX math is left to the math engine
