"""One home per section: every claim is decided in polarity/report/<section>.py and worded
in templates/sections/<section>.qmd.j2, and the words follow the verdict."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jinja2
import pytest

from polarity import paths
from polarity.article import TemplateError, build, environment, judge, render_template
from polarity.report import FIGURES, SECTIONS
from polarity.results import read_results


@pytest.fixture(scope="module")
def record_claims():
    return judge(read_results(paths.RESULTS_OF_RECORD))


def _macros(template: str) -> set[str]:
    env = environment()
    source = env.loader.get_source(env, template)[0]
    return {node.name for node in env.parse(source).find_all(jinja2.nodes.Macro)}


def test_every_claim_of_the_record_is_worded_by_its_verdict(record_claims):
    assert len(record_claims) >= 25
    for claim_id, claim in record_claims.items():
        assert claim["verdict"] in claim["verdicts"], claim_id
        assert len(claim["statement"].split()) >= 8, claim_id


def test_each_sentence_macro_lives_in_one_section_template():
    seen: dict[str, str] = {}
    for section in SECTIONS:
        for name in _macros(section.template):
            assert name not in seen, f"macro {name} in {section.template} and {seen[name]}"
            seen[name] = section.template
    for section in SECTIONS:
        for claim_fn in section.claims:
            if section.name != "fashion":  # fashion judges other sections' claims
                assert seen.get(claim_fn.__name__) == section.template, claim_fn.__name__


def test_each_figure_is_placed_by_its_own_section_template():
    for section in SECTIONS:
        source = (paths.TEMPLATES / section.template).read_text()
        for spec in section.figures:
            assert f'figure("{spec.id}"' in source, (spec.id, section.template)
    assert len({spec.id for spec in FIGURES}) == len(FIGURES)


def _section_env(tmp_path, body: str) -> jinja2.Environment:
    (tmp_path / "t.qmd.j2").write_text(body)
    return environment(tmp_path)


def test_a_branch_on_a_verdict_the_claim_cannot_return_is_an_error(tmp_path, record_claims):
    env = _section_env(tmp_path, '{% if c is verdict("normal_ahaed") %}x{% endif %}\n')
    with pytest.raises(TemplateError, match="has no verdict 'normal_ahaed'.*normal_ahead"):
        render_template(env, "t.qmd.j2", {"c": record_claims["trials_difference"]})


def test_a_missing_claim_is_an_error_never_an_empty_sentence(tmp_path, record_claims):
    env = _section_env(tmp_path, "Before. {{ claims.no_such_claim.verdict }} After.\n")
    with pytest.raises(TemplateError, match=r"t.qmd.j2:1: undefined value.*no_such_claim"):
        render_template(env, "t.qmd.j2", {"claims": record_claims})


def copy_of_templates(tmp_path) -> Path:
    templates = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, templates)
    return templates


@pytest.mark.slow
def test_a_claim_without_a_sentence_stops_the_build(tmp_path):
    templates = copy_of_templates(tmp_path)
    speed = templates / "sections" / "speed.qmd.j2"
    speed.write_text(speed.read_text().replace("zeros_buy_no_speed(", "renamed("))
    with pytest.raises(TemplateError, match="claim zeros_buy_no_speed has no sentence"):
        build(paths.RESULTS_OF_RECORD, tmp_path / "report", templates)


# --- Prose lives in templates ---------------------------------------------------------------

WORD_RUN = 6  # words of a sentence, none with a digit, found together in a template


def _template_text() -> str:
    text = " ".join(p.read_text() for p in paths.TEMPLATES.rglob("*.j2"))
    return " ".join(text.replace("\u2019", "'").split())


def _sentences(markdown: str) -> list[str]:
    """The article's sentences: its prose, list items and the captions of its figures and
    tables; not its front matter, table cells, headings, divs or provenance lines."""
    markdown = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    markdown = re.sub(r"^!\[(.*?)\]\(figures/.*$", r"\1", markdown, flags=re.M)  # captions
    markdown = re.sub(r"^: (.*)$", r"\1", markdown, flags=re.M)  # table captions
    kept = [
        line.removeprefix("- ")
        for line in markdown.splitlines()
        if line.strip()
        and not line.lstrip().startswith(("|", ":::", "#", "*Provenance", "Download"))
    ]
    prose = " ".join(" ".join(f"{line}\n" for line in kept).replace("**", "").split())
    prose = re.sub(r"\s*\{#[^}]*\}", "", prose)
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z'\"*])", prose) if len(s.split()) >= 4]


def _digit_free_runs(sentence: str) -> list[list[str]]:
    """The sentence's runs of consecutive words without a digit, longest first."""
    runs = [[]]
    for word in sentence.replace("\u2019", "'").split():
        if any(ch.isdigit() for ch in word):
            runs.append([])
        else:
            runs[-1].append(word)
    return sorted(runs, key=len, reverse=True)


def _found_in(sentence: str, templates: str) -> bool:
    """Some WORD_RUN words of the sentence in a row, none with a digit, are in a template;
    or, where it has no such run, its longest run without digits is."""
    runs = _digit_free_runs(sentence)
    if len(runs[0]) < WORD_RUN:
        return " ".join(runs[0]) in templates
    return any(
        " ".join(run[i : i + WORD_RUN]) in templates
        for run in runs
        for i in range(len(run) - WORD_RUN + 1)
    )


@pytest.mark.slow
def test_the_article_s_sentences_are_found_in_the_templates(tmp_path):
    article = build(paths.RESULTS_OF_RECORD, tmp_path / "report").article.read_text()
    # Sentences with fewer than three words in a row free of digits say nothing by grep.
    sentences = [s for s in _sentences(article) if len(_digit_free_runs(s)[0]) >= 3]
    templates = _template_text()
    missing = [s for s in sentences if not _found_in(s, templates)]
    share = 1 - len(missing) / len(sentences)
    assert len(sentences) > 80
    assert share >= 0.95, f"{share:.1%} found; not found: {missing[:10]}"


def test_the_report_side_reads_json_only():
    """Nothing under polarity/report/ imports Keras, a backend or an experiment: restyling or
    rewording never retrains."""
    import ast

    forbidden = ("keras", "tensorflow", "torch", "jax", "experiments")
    for path in (paths.ROOT / "polarity" / "report").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def test_every_experiment_follows_the_one_config_contract():
    """experiments/__init__.py's contract: a Config per profile in PROFILES, the data named
    by `dataset` or `datasets`, seed counts called n_seeds; the results schema knows the
    same profiles."""
    import dataclasses
    import json

    import experiments
    from polarity import cli

    schema = json.loads((paths.ROOT / "polarity/schemas/result.schema.json").read_text())
    assert tuple(schema["properties"]["profile"]["enum"]) == experiments.PROFILES
    assert cli.PROFILES == experiments.PROFILES
    for name in experiments.NAMES:
        module = experiments.load(name)
        assert tuple(module.PROFILES) == experiments.PROFILES, name
        fields = {f.name for f in dataclasses.fields(module.Config)}
        assert ("dataset" in fields) != ("datasets" in fields), name
        counts = {f for f in fields if f == "seeds" or f.endswith("_seeds")}
        assert all(f == "n_seeds" or f.endswith("_n_seeds") for f in counts), (name, counts)


@pytest.mark.slow
def test_a_figure_no_template_places_stops_the_build(tmp_path):
    templates = copy_of_templates(tmp_path)
    background = templates / "sections" / "background.qmd.j2"
    text = background.read_text()
    start = text.index('{% call figure("fig-mean-images") %}')
    end = text.index("{% endcall %}", start) + len("{% endcall %}")
    background.write_text(text[:start] + text[end:])
    with pytest.raises(TemplateError, match="figure fig-mean-images is drawn but no template"):
        build(paths.RESULTS_OF_RECORD, tmp_path / "report", templates)
    assert not (tmp_path / "report" / "index.qmd").exists()
