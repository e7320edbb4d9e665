"""The appendix's table of results files: each row's run time is read against the machine
that ran it."""

import re

from tests.report.conftest import built_article


def _table(text: str) -> tuple[list[list[str]], str]:
    """The rows of @tbl-experiments (cells stripped) and its caption."""
    block = text[: text.index("{#tbl-experiments}")]
    block = block[block.rindex("| Experiment |") :]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in block.splitlines()
        if line.startswith("|") and not line.startswith("|:")
    ]
    return rows, block.splitlines()[-1]


def test_results_from_two_machines_name_each_row_s_machine(all_results, tmp_path):
    all_results["mismatch"]["provenance"]["device"] = "CPU: Machine Two (2 cores)"
    for name, result in all_results.items():
        if name != "mismatch":
            result["provenance"]["device"] = "CPU: Machine One (2 cores)"
    rows, caption = _table(built_article(all_results, tmp_path))
    header, *body = rows
    column = header.index("Machine")
    letters = dict(re.findall(r"([A-J]), CPU: Machine (One|Two)", caption))
    assert sorted(letters.values()) == ["One", "Two"], caption
    for row in body[:-1]:  # the last row sums the run times
        expected = "Two" if row[0] == "`mismatch`" else "One"
        assert letters[row[column]] == expected, row


def test_results_from_one_machine_name_it_once_in_the_caption(all_results, tmp_path):
    for result in all_results.values():
        result["provenance"]["device"] = "CPU: Machine One (2 cores)"
    rows, caption = _table(built_article(all_results, tmp_path))
    assert "Machine" not in rows[0]
    assert "took on CPU: Machine One \\(2 cores\\) and" in caption
    # A sum of run times, not the time to retrain: `polarity run` trains several at once.
    assert "the last row adds these times up" in caption and "retrain" not in caption
