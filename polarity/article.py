"""Build the article's Quarto sources from results: the sections' figures, tables and
claims (polarity/report/), then the Jinja templates that word them (templates/)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from polarity import PolarityError, paths
from polarity.cache import cache_key, what_changed
from polarity.files import (
    NotARegularFile,
    atomic_copy,
    atomic_write_json,
    atomic_write_text,
    cannot_write,
    folder_lock,
    read_capped,
    staging_folder,
)
from polarity.formatting import FILTERS
from polarity.processes import training_threads
from polarity.report import FIGURES, SECTIONS, TABLES, evaluate
from polarity.report.base import DATASETS
from polarity.report.output import figure_entries, table_rows, write_figures, write_tables
from polarity.results import read_results

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
    env.tests["verdict"] = is_verdict
    env.globals["note_caption"] = note_caption
    env.globals["dataset_names"] = DATASETS
    env.globals["appendix_headings"] = appendix_headings
    return env


_APPENDIX_HEADING = re.compile(
    r"^# (.+?) \{#(sec-[a-z0-9-]+)[^}]*\.appendix-section[^}]*\}$", re.MULTILINE
)


def appendix_headings(markdown: str) -> list[dict]:
    """The appendices in rendered Markdown, in order: each `# Title {#sec-id .appendix}`
    heading's id and title. The main text lists them, since Quarto's HTML moves appendices
    out of the table of contents."""
    return [{"id": m[2], "title": m[1]} for m in _APPENDIX_HEADING.finditer(markdown)]


@jinja2.pass_context
def note_caption(context, figure_id: str, caption: str) -> str:
    """Keep the caption a template gives a figure in its manifest entry (figures.json), so
    a figure cited alone carries the words the article puts under it."""
    context["figures"][figure_id]["caption"] = caption
    return ""


def is_verdict(claim: dict, name: str) -> bool:
    """The Jinja test `claim is verdict("name")`; a name the claim cannot return is an
    error, so a misspelt branch cannot silently never render."""
    if name not in claim["verdicts"]:
        raise TemplateError(
            f"claim {claim['id']} has no verdict {name!r}; it returns one of "
            f"{', '.join(claim['verdicts'])}"
        )
    return claim["verdict"] == name


def _template_location(exc: BaseException, env: jinja2.Environment) -> tuple[str, int] | None:
    """The innermost template frame of a rendering error's traceback."""
    root = Path(env.loader.searchpath[0])
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and Path(frame.filename).is_relative_to(root):
            return frame.filename, frame.lineno
    return None


# Pandoc (and so Quarto) gives a pipe table with a line wider than this many characters the
# full text width, its columns sized by the dashes under each header; equal dashes squeeze
# long words into narrow columns, one syllable a line in the PDF.
PANDOC_COLUMNS = 72
INSET = 4  # characters
LONG_CELL = 16  # characters
_SEPARATOR = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+\s*$")


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def size_table_columns(markdown: str) -> str:
    """Give each wide pipe table's columns dashes in proportion to their longest cell, so
    that pandoc shares the width out as the contents need it."""
    lines = markdown.split("\n")
    for i, line in enumerate(lines):
        if not (i and _SEPARATOR.match(line) and lines[i - 1].startswith("|")):
            continue
        end = i + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        rows = [lines[i - 1], *lines[i + 1 : end]]
        if max(len(row) for row in rows) <= PANDOC_COLUMNS:
            continue  # pandoc sizes a narrow table by its contents, whatever the dashes
        aligns = _cells(line)
        # A column's longest cell, but a header counts half (it may wrap once) and a long
        # cell counts as LONG_CELL (it wraps); never narrower than its longest word.
        widths = [3] * len(aligns)
        for k, cell in enumerate(_cells(rows[0])[: len(widths)]):
            widths[k] = max(3, -(-len(cell) // 2))
        for row in rows[1:]:
            for k, cell in enumerate(_cells(row)[: len(widths)]):
                widths[k] = max(widths[k], min(len(cell), LONG_CELL))
        for row in rows:
            for k, cell in enumerate(_cells(row)[: len(widths)]):
                widths[k] = max([widths[k], *(len(word) for word in cell.split())])
        # Each column also pays the cell's inset, a narrow one as much as a wide one.
        dashes = ["-" * (w + INSET) for w in widths]
        lines[i] = (
            "|"
            + "|".join(
                (":" if a.startswith(":") else "") + d + (":" if a.endswith(":") else "")
                for a, d in zip(aligns, dashes, strict=True)
            )
            + "|"
        )
    return "\n".join(lines)


_DEFINED_ID = re.compile(r"\{#((?:sec|fig|tbl)-[A-Za-z0-9-]+)")
_CROSS_REFERENCE = re.compile(r"(?<![\w@])@((?:sec|fig|tbl)-[A-Za-z0-9-]*[A-Za-z0-9])")
# "(@sec-x)", "(@tbl-x gives the intervals)": a pointer in brackets, which the sentence
# reads the same without.
_POINTER = re.compile(r" ?\(@((?:sec|fig|tbl)-[A-Za-z0-9-]*[A-Za-z0-9])\b[^()\n]*\)")


def drop_pointers_to_absent_parts(markdown: str) -> str:
    """A build from some of the results (`polarity run --experiment ...`) has only their
    sections, figures and tables. A bracketed pointer to a part that is not there is
    dropped; any other cross-reference to one is an error that names it, here at the build
    rather than as a failed filter at the render."""
    defined = set(_DEFINED_ID.findall(markdown))
    markdown = _POINTER.sub(lambda m: m[0] if m[1] in defined else "", markdown)
    absent = sorted(set(_CROSS_REFERENCE.findall(markdown)) - defined)
    if absent:
        raise TemplateError(
            f"the article refers to @{absent[0]}, which these results do not produce; write "
            "that reference in its template under the condition that produces it"
        )
    return markdown


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
        threads = training_threads(result["profile"])  # the profile's, as the runner keyed it
        changed = what_changed(result.get("cache_key"), cache_key(name, result["config"], threads))
        if changed:
            stale[name] = changed
    return stale


def stale_groups(stale: dict[str, list[str]]) -> list[tuple[list[str], list[str]]]:
    """The stale results grouped by what changed, as (names, changes), in the order each
    change list first appears: one change (a new library version, a setting) usually stales
    them all, and the banner names it once, not once per file."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, changes in stale.items():
        groups.setdefault(tuple(changes), []).append(name)
    return [(names, list(changes)) for changes, names in groups.items()]


MAX_CITATION_BYTES = 1_000_000
MAX_CITATION_TEXT = 300
CITATION_FIELDS = ("title", "version", "date-released", "license")
AUTHOR_FIELDS = ("name", "given-names", "family-names")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+=&?#:@!,;-]*)?$")
# Fields Quarto also reads raw (a date it parses, a version and licence it prints as they
# are): held to their own forms rather than escaped.
CITATION_FORMS = {
    "version": re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$"),
    "date-released": re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    "license": re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+() -]{0,79}$"),
}


def read_citation(path: Path | None = None) -> dict:
    """The one source of the report's title, authors, version and date: CITATION.cff.

    Only the fields the article uses are returned, each a string of one line (every
    character is still markup-escaped where it is written: md_escape, meta); `url` must be
    http(s). Anything else is a one-line error naming the file and the field."""
    path = paths.ROOT / "CITATION.cff" if path is None else Path(path)
    try:
        raw = read_capped(path, MAX_CITATION_BYTES, "citation file")
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, PolarityError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())
        raise PolarityError(f"{path}: cannot read citation metadata ({reason})") from None
    if not isinstance(data, dict):
        raise PolarityError(f"{path}: cannot read citation metadata (not a YAML mapping)")

    def text(value, field: str) -> str:
        if isinstance(value, (dict, list)) or value is None:
            raise PolarityError(f"{path}: {field}: expected text, got {type(value).__name__}")
        line = " ".join(str(value).split())  # newlines and tabs become spaces
        if not line or len(line) > MAX_CITATION_TEXT:
            raise PolarityError(
                f"{path}: {field}: {len(line)} characters (1 to {MAX_CITATION_TEXT})"
            )
        return line

    citation = {}
    for field in CITATION_FIELDS:
        if field not in data:
            raise PolarityError(f"{path}: {field}: missing (the article shows it)")
        citation[field] = text(data[field], field)
        form = CITATION_FORMS.get(field)
        if form is not None and not form.match(citation[field]):
            raise PolarityError(
                f"{path}: {field}: {citation[field][:40]!r} is not a {field} "
                f"(expected {form.pattern})"
            )
    authors = data.get("authors")
    if not isinstance(authors, list) or not authors:
        raise PolarityError(f"{path}: authors: expected a list of at least one author")
    citation["authors"] = []
    for i, person in enumerate(authors):
        if not isinstance(person, dict) or not (
            "name" in person or {"given-names", "family-names"} <= set(person)
        ):
            raise PolarityError(
                f"{path}: authors/{i}: expected name, or given-names and family-names"
            )
        citation["authors"].append(
            {k: text(person[k], f"authors/{i}/{k}") for k in AUTHOR_FIELDS if k in person}
        )
    if "url" in data:
        url = text(data["url"], "url")
        if not _URL.match(url):
            raise PolarityError(f"{path}: url: {url[:60]!r} is not an http(s) URL")
        citation["url"] = url
    return citation


def shown_path(path: Path) -> str:
    """A path as the article shows it (in a code span): bytes that are not UTF-8 as \\xNN,
    and backticks and control characters, which would end or break the span, as '?'."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join("?" if c == "`" or not c.isprintable() else c for c in text)


def build_context(
    results: dict,
    results_dir: Path,
    claims: dict,
    figures: list[dict],
    tables: dict,
    citation: dict,
) -> dict:
    """What the templates see. `claims` are the claims as dicts, by id."""
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
        "stale": stale_groups(stale_results(results)),
        "claims": claims,
        "holding": {claim_id for claim_id, claim in claims.items() if claim["holds"]},
        "figures": {f["id"]: f for f in figures},
        "tables": tables,
        "citation": citation,
        "build": {
            "profiles": profiles,
            "of_record": of_record,
            "results_dir": shown_path(shown_dir),
        },
    }


def decide(results: dict, results_dir: Path, citation: dict, env: jinja2.Environment):
    """Everything the article says about `results`, in memory: the templates' context
    (claims worded by their macros, figure entries, table rows) and the figures to draw."""
    entries = figure_entries(FIGURES, results, citation)
    tables = table_rows(TABLES, results)
    evaluated = evaluate(results)
    claims = {claim_id: claim.as_dict() for claim_id, claim in evaluated.items()}
    figures = [entry for _, _, entry in entries]
    context = build_context(results, results_dir, claims, figures, tables, citation)
    word_claims(env, evaluated, context)
    return context, entries


@functools.lru_cache(maxsize=8)
def _shared_environment(templates_dir: Path) -> jinja2.Environment:
    """One environment per templates folder for `build` and `judge`, kept inside this module
    so that nothing can change it: compiling the section templates is most of what judging
    the claims costs (a second), and Jinja compiles a template again when its file changes."""
    return environment(templates_dir)


def judge(results: dict, templates_dir: Path = paths.TEMPLATES) -> dict[str, dict]:
    """Every claim `results` support or refute, by id, with the sentence the article prints."""
    env = _shared_environment(Path(templates_dir).resolve())
    context, _ = decide(results, paths.RESULTS_OF_RECORD, read_citation(), env)
    return context["claims"]


# Written last by a build, removed first: a report folder without it (or whose index.qmd
# differs from the one it names) holds a build that did not finish, which render refuses.
BUILD_MARKER = ".polarity-build.json"
GENERATED_DIRS = ("figures", "tables")
GENERATED_FILES = ("claims.json", "index.qmd")


class UnfinishedBuild(PolarityError):
    """The report folder holds no finished build."""


MAX_ARTICLE_BYTES = 50_000_000


def _sha256(path: Path) -> str:
    return hashlib.sha256(read_capped(path, MAX_ARTICLE_BYTES, "built article")).hexdigest()


def finished_build(report_dir: Path) -> dict:
    """The marker of the finished build in `report_dir`; UnfinishedBuild when there is none."""
    report_dir = Path(report_dir)
    marker = report_dir / BUILD_MARKER
    try:
        record = json.loads(read_capped(marker, 100_000, "build marker"))
        current = _sha256(report_dir / "index.qmd") == record["index_sha256"]
    except (OSError, NotARegularFile, ValueError, KeyError, TypeError):
        current = False
    if not current:
        raise UnfinishedBuild(
            f"{report_dir} holds no finished build (a build was interrupted or never ran); "
            "run `polarity build` first"
        )
    return record


def _swap_in(staging: Path, report_dir: Path) -> None:
    """Move the staged build into `report_dir`: the marker goes first, the old generated
    files into the staging folder (deleted after), the new ones in, the marker last."""
    (report_dir / BUILD_MARKER).unlink(missing_ok=True)
    old = staging / ".old"
    old.mkdir()
    for name in (*GENERATED_DIRS, *GENERATED_FILES):
        if (report_dir / name).exists():
            os.replace(report_dir / name, old / name)
        if (staging / name).exists():
            os.replace(staging / name, report_dir / name)


def compose(
    results_dir: Path, citation: dict, templates_dir: Path = paths.TEMPLATES
) -> tuple[str, dict, list]:
    """What a build decides and writes, before anything is drawn or written: the article's
    text (index.qmd), the context the templates saw, and the figures to draw."""
    results = read_results(results_dir)
    env = _shared_environment(Path(templates_dir).resolve())
    context, entries = decide(results, results_dir, citation, env)
    text = render_template(env, ARTICLE_TEMPLATE, context)  # also gives figures their captions
    unplaced = [f["id"] for f in context["figures"].values() if "caption" not in f]
    if unplaced:
        raise TemplateError(
            f"figure {', '.join(unplaced)} is drawn but no template places it; add "
            '{% call figure("…") %}caption{% endcall %} to its section\'s template'
        )
    return size_table_columns(drop_pointers_to_absent_parts(text)), context, entries


def build(
    results_dir: Path = paths.RESULTS_OF_RECORD,
    report_dir: Path = paths.REPORT,
    templates_dir: Path = paths.TEMPLATES,
) -> Built:
    """Turn the results in `results_dir` into figures, claims.json and index.qmd in
    `report_dir`: all of them, built in a staging folder and swapped in, or none."""
    report_dir = Path(report_dir)
    citation = read_citation()
    text, context, entries = compose(results_dir, citation, templates_dir)
    with folder_lock(report_dir):
        staging = staging_folder(report_dir)  # removes a killed build's, never a live one's
        try:
            figures = write_figures(entries, staging / "figures", citation)
            write_tables(context["tables"], staging / "tables")
            atomic_write_json(staging / "claims.json", context["claims"])
            if report_dir.resolve() != paths.REPORT.resolve():
                for name in STATIC_FILES:  # replacing a symlink there, never writing through it
                    atomic_copy(paths.REPORT / name, report_dir / name)
            atomic_write_text(staging / "index.qmd", text)
            _swap_in(staging, report_dir)
            atomic_write_json(
                report_dir / BUILD_MARKER,
                {
                    "results_dir": os.fsdecode(Path(results_dir).resolve()),
                    "index_sha256": _sha256(report_dir / "index.qmd"),
                },
            )
        except OSError as exc:
            raise cannot_write(report_dir, exc) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    article = report_dir / "index.qmd"
    return Built(article=article, figures=figures, claims=context["claims"])


def word_claims(env: jinja2.Environment, evaluated: dict, context: dict) -> None:
    """Add to each claim in `context` the sentence its template macro says for its verdict,
    so claims.json holds the words the article prints. A claim without a macro is an error."""
    macros = {}
    for section in SECTIONS:
        try:
            module = env.get_template(section.template).make_module(context)
        except jinja2.TemplateError as exc:
            render_template(env, section.template, context)  # names the template and line
            raise TemplateError(f"{section.template}: {exc}") from None
        for name in dir(module):
            if not name.startswith("_") and isinstance(getattr(module, name), jinja2.runtime.Macro):
                macros.setdefault(name, (section.template, getattr(module, name)))
    for claim_id, claim in evaluated.items():
        if claim.macro not in macros:
            raise TemplateError(
                f"claim {claim_id} has no sentence: no macro {claim.macro}(c) in "
                "templates/sections/*.qmd.j2"
            )
        _, macro = macros[claim.macro]
        # One line, as the article prints it; the no-break spaces in numbers stay.
        sentence = str(macro(context["claims"][claim_id]))
        context["claims"][claim_id]["statement"] = re.sub(r"[ \t\n]+", " ", sentence).strip()
