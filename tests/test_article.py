"""Templates, number formatting and claims: conclusions follow the data, never the reverse."""

import json

import pytest

from polarity import formatting, paths
from polarity.article import (
    INSET,
    LONG_CELL,
    TemplateError,
    build,
    drop_pointers_to_absent_parts,
    environment,
    render_template,
    size_table_columns,
)

RECORD = paths.RESULTS_OF_RECORD / "replication.json"


# --- Formatting filters -------------------------------------------------------------------


def test_number_formats():
    nbsp = formatting.NBSP
    assert formatting.pct(0.91879) == f"91.9{nbsp}%"
    assert formatting.prop(0.837478) == "0.837"
    assert formatting.points(0.0815) == f"8.2{nbsp}percentage points"
    assert formatting.points(0.01, 0) == f"1{nbsp}percentage point"
    assert formatting.interval([0.9, 0.925]) == f"90.0{nbsp}% to 92.5{nbsp}%"
    assert formatting.interval([0.02, 0.031], unit="points") == f"2.0 to 3.1{nbsp}percentage points"
    assert formatting.pvalue(0.0004) == "p\u00a0<\u00a00.001"
    assert formatting.pvalue(0.0312) == "p\u00a0=\u00a00.031"
    assert formatting.seconds(184) == f"3{nbsp}min 4{nbsp}s"
    assert formatting.count(55000) == "55,000"
    assert formatting.plural(1, "seed") == "1 seed"
    assert formatting.plural(3, "seed") == "3 seeds"
    assert formatting.plural("1,000", "seed") == "1,000 seeds"
    assert formatting.plural(1000, "seed") == "1,000 seeds"


def test_wide_tables_share_their_width_by_content_and_narrow_ones_are_left_alone():
    longest = "'same' convolution, padded with the background value, 1"
    wide = (
        "Text before.\n\n"
        "| Check | Case | Updates |\n"
        "|:---|:---|---:|\n"
        f"| absorption | {longest} | 600 |\n"
        "| mirrored training | batch norm, running statistics \\| escaped | 50 |\n"
        "\n: Caption. {#tbl-x}\n"
    )
    lines = size_table_columns(wide).split("\n")
    separator = lines[3]
    assert separator.startswith("|:") and separator.endswith(":|")  # alignments kept
    dashes = [len(cell.strip(":")) for cell in separator.strip("|").split("|")]
    # The longest body cell of each column, up to LONG_CELL (a header counts half: it may
    # wrap once), never under its longest word ("Updates"), plus the cell's inset.
    content = [LONG_CELL, LONG_CELL, len("Updates")]
    assert dashes == [width + INSET for width in content]
    assert lines[:3] + lines[4:] == wide.split("\n")[:3] + wide.split("\n")[4:]
    narrow = "| a | b |\n|:--|--:|\n| 1 | 2 |\n"
    assert size_table_columns(narrow) == narrow  # pandoc sizes it by its contents


def test_markdown_escape_neutralises_markup():
    assert formatting.md_escape("*bold* [link](x) @fig-a") == r"\*bold\* \[link\]\(x\) \@fig\-a"


# --- Templates ----------------------------------------------------------------------------


def test_missing_value_names_template_line_and_variable(tmp_path):
    (tmp_path / "t.qmd.j2").write_text(
        "# Title\n\nAccuracy {{ results.replication.nonexistent | pct }}\n"
    )
    env = environment(tmp_path)
    with pytest.raises(TemplateError) as caught:
        render_template(env, "t.qmd.j2", {"results": {"replication": {}}})
    message = str(caught.value)
    assert "t.qmd.j2:3" in message
    assert "nonexistent" in message


def test_syntax_error_names_the_template(tmp_path):
    (tmp_path / "t.qmd.j2").write_text("ok\n{% if x %}\nno end\n")
    with pytest.raises(TemplateError, match=r"t.qmd.j2:\d+: template syntax error"):
        render_template(environment(tmp_path), "t.qmd.j2", {"x": 1})


def test_quarto_ids_are_not_jinja_comments(tmp_path):
    (tmp_path / "t.qmd.j2").write_text("# A {#sec-a}\n\n::: {#refs}\n:::\n")
    assert (
        render_template(environment(tmp_path), "t.qmd.j2", {})
        == "# A {#sec-a}\n\n::: {#refs}\n:::\n"
    )


def test_a_bracketed_pointer_to_an_absent_part_is_dropped_and_any_other_stops_the_build():
    text = (
        "# A {#sec-a}\n\nSee (@sec-a). Trails (@tbl-gap gives the intervals); learns (@sec-b):"
        " then.\n\n: Caption {#tbl-t}\n\nIn @tbl-t (@tbl-t).\n"
    )
    assert drop_pointers_to_absent_parts(text) == (
        "# A {#sec-a}\n\nSee (@sec-a). Trails; learns: then.\n\n: Caption {#tbl-t}\n\n"
        "In @tbl-t (@tbl-t).\n"
    )
    with pytest.raises(TemplateError, match="refers to @sec-b, which these results do not"):
        drop_pointers_to_absent_parts("# A {#sec-a}\n\nThe convnet of @sec-b (no dropout).")
    # Citations and e-mail addresses are not cross-references.
    assert drop_pointers_to_absent_parts("As [@lecun1998] and a@sec-x.org say.") == (
        "As [@lecun1998] and a@sec-x.org say."
    )


RESULT_NAMES = sorted(p.stem for p in paths.RESULTS_OF_RECORD.glob("*.json"))


@pytest.mark.slow
@pytest.mark.parametrize("kept", ["each alone", "all but each"])
def test_a_build_from_some_of_the_results_refers_only_to_parts_it_has(tmp_path, kept):
    """`polarity run --experiment X` leaves a folder with some results: their build has only
    their sections, and no cross-reference to the others (which failed at the render, in
    the filter, or stopped the build on a missing value before)."""
    import shutil

    for name in RESULT_NAMES:
        chosen = [name] if kept == "each alone" else [n for n in RESULT_NAMES if n != name]
        results = tmp_path / name / "results"
        results.mkdir(parents=True)
        for n in chosen:
            shutil.copy2(paths.RESULTS_OF_RECORD / f"{n}.json", results)
        built = build(results, tmp_path / name / "report")  # raises on a dangling reference
        assert built.article.is_file(), name


@pytest.mark.slow
def test_stale_results_are_flagged_in_the_article(tmp_path):
    record = json.loads(RECORD.read_text())
    record["cache_key"]["components"]["version:keras"] = "0.0.1"
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "replication.json").write_text(json.dumps(record))
    article = build(results_dir, tmp_path / "report").article.read_text()
    assert "**Results out of date.**" in article
    assert "version:keras 0\\.0\\.1 \\-\\> " in article  # what changed, escaped for Markdown


def staleness_banner(article: str) -> list[str]:
    """The banner's sentences, one a line."""
    banner = article.split("**Results out of date.**", 1)[1].split(":::", 1)[0]
    return [line for line in banner.splitlines() if line.strip()]


@pytest.mark.slow
def test_a_change_that_stales_many_results_is_named_once_per_group(tmp_path):
    """One new Keras stales every result; the banner says so once, and a result stale for
    more than that gets a sentence of its own. A banner naming each file with its reasons
    ran to 76 words with eleven stale results."""
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    stored = sorted(paths.RESULTS_OF_RECORD.glob("*.json"))
    for path in stored:
        result = json.loads(path.read_text())
        result["cache_key"]["components"]["version:keras"] = "0.0.1"
        (results_dir / path.name).write_text(json.dumps(result))
    every = staleness_banner(build(results_dir, tmp_path / "report").article.read_text())
    assert every[0].startswith(f"The code or environment changed since all {len(stored)} results")
    assert every[0].count("version:keras") == 1 and len(every) == 2  # and the rerun command

    sweep = json.loads((results_dir / "sweep.json").read_text())
    sweep["cache_key"]["components"]["source:experiments.sweep"] = "0" * 64
    (results_dir / "sweep.json").write_text(json.dumps(sweep))
    split = staleness_banner(build(results_dir, tmp_path / "report").article.read_text())
    others, alone = split[0], split[1]
    assert "`sweep.json`" not in others and "all " not in others
    assert all(f"`{p.name}`" in others for p in stored if p.stem != "sweep")
    assert alone.startswith("The code or environment changed since `sweep.json` was computed:")
    assert "source:experiments\\.sweep, version:keras 0\\.0\\.1" in alone  # Markdown-escaped
    assert all(len(sentence.split()) <= 60 for sentence in split)  # the reader test's limit


@pytest.mark.slow
def test_current_results_carry_no_staleness_banner(tmp_path):
    article = build(paths.RESULTS_OF_RECORD, tmp_path / "report").article.read_text()
    assert "Results out of date" not in article
