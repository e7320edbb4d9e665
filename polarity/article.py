"""Build the article's Quarto sources from results: figures, claims, then Jinja templates."""

from __future__ import annotations

import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from polarity import PolarityError, paths
from polarity.cache import cache_key, what_changed
from polarity.claims import evaluate
from polarity.figures import build_figures
from polarity.files import atomic_write_json, atomic_write_text
from polarity.formatting import FILTERS
from polarity.results import read_results
from polarity.tables import build_tables

ARTICLE_TEMPLATE = "index.qmd.j2"
# Hand-written files the generated article needs beside it.
STATIC_FILES = ("references.bib", "style.css", "prerender.py", "postrender.py")


class TemplateError(PolarityError):
    """A template that does not render: names the template, the line and the problem."""


def environment(templates_dir: Path = paths.TEMPLATES) -> jinja2.Environment:
    """Jinja with StrictUndefined: a missing value is an error, never an empty string."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown, not HTML; strings from configs go through md_escape
        # Quarto ids are written {#fig-x}; Jinja's default comment marker is "{#".
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.filters.update(FILTERS)
    return env


def _template_location(exc: BaseException, env: jinja2.Environment) -> tuple[str, int] | None:
    """The innermost template frame of a rendering error's traceback."""
    root = Path(env.loader.searchpath[0])
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and Path(frame.filename).is_relative_to(root):
            return frame.filename, frame.lineno
    return None


def render_template(env: jinja2.Environment, name: str, context: dict) -> str:
    """Render template `name`; errors name the template file, the line and its text."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(
            f"template {exc.name!r} not found in {env.loader.searchpath[0]}"
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise TemplateError(f"{where}:{exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        location = _template_location(exc, env)
        if location is None:
            raise TemplateError(f"{name}: {exc.message}") from None
        filename, line = location
        source = Path(filename).read_text().splitlines()[line - 1].strip()
        raise TemplateError(
            f"{filename}:{line}: undefined value: {exc.message} (in `{source}`)"
        ) from None


@dataclass(frozen=True)
class Built:
    article: Path
    figures: list[dict]
    claims: dict


def stale_results(results: dict) -> dict[str, list[str]]:
    """For each result whose cache key no longer matches the code and environment: what
    changed. Quarto's freeze cannot see data or imported-code changes; this does."""
    stale = {}
    for name, result in results.items():
        changed = what_changed(result.get("cache_key"), cache_key(name, result["config"]))
        if changed:
            stale[name] = changed
    return stale


def read_citation(path: Path = paths.ROOT / "CITATION.cff") -> dict:
    """The one source of the report's title, authors, version and date: CITATION.cff."""
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PolarityError(f"{path}: cannot read citation metadata ({exc})") from None


def build_context(
    results: dict,
    results_dir: Path,
    claims: dict,
    figures: list[dict],
    tables: dict,
    citation: dict,
) -> dict:
    profiles = sorted({r["profile"] for r in results.values()})
    of_record = Path(results_dir).resolve() == paths.RESULTS_OF_RECORD.resolve() and profiles == [
        "full"
    ]
    try:
        shown_dir = Path(results_dir).resolve().relative_to(paths.ROOT)
    except ValueError:
        shown_dir = Path(results_dir)
    return {
        "results": results,
        "stale": stale_results(results),
        "claims": claims,
        "figures": {f["id"]: f for f in figures},
        "tables": tables,
        "citation": citation,
        "build": {"profiles": profiles, "of_record": of_record, "results_dir": str(shown_dir)},
    }


def build(
    results_dir: Path = paths.RESULTS_OF_RECORD,
    report_dir: Path = paths.REPORT,
    templates_dir: Path = paths.TEMPLATES,
) -> Built:
    """Turn the results in `results_dir` into figures, claims.json and index.qmd in `report_dir`."""
    report_dir = Path(report_dir)
    results = read_results(results_dir)
    citation = read_citation()
    figures = build_figures(results, report_dir / "figures", citation)
    tables = build_tables(results, report_dir / "tables")
    claims = evaluate(results)
    atomic_write_json(report_dir / "claims.json", claims)
    if report_dir.resolve() != paths.REPORT.resolve():
        for name in STATIC_FILES:
            shutil.copy2(paths.REPORT / name, report_dir / name)
    context = build_context(results, results_dir, claims, figures, tables, citation)
    article = report_dir / "index.qmd"
    atomic_write_text(
        article, render_template(environment(templates_dir), ARTICLE_TEMPLATE, context)
    )
    return Built(article=article, figures=figures, claims=claims)
