"""Render report/index.qmd to the HTML site and the PDF article.

With `quarto` on PATH, Quarto renders the project (its pre-render step rebuilds the sources).
Without it, a thin fallback drives the same engines Quarto drives -- pandoc for HTML, pandoc
then Typst for the PDF -- with `crossref.lua` supplying the Quarto cross-references the
templates use. Both run the filters `_quarto.yml` lists and write the same layout:
`_site/report/index.html` and `index.pdf`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from polarity import PolarityError, paths
from polarity.files import atomic_write_bytes, cannot_write, folder_lock, staging_folder


class RenderError(PolarityError):
    """Rendering failed; the message carries the renderer's own error."""


@dataclass(frozen=True)
class Rendered:
    renderer: str  # "quarto" or "pandoc+typst"
    html: Path
    pdf: Path


def quarto_path() -> str | None:
    return shutil.which("quarto")


CAUSE = re.compile(
    r"error|denied|not found|no such|read-only|no space|cannot|failed|unknown", re.IGNORECASE
)
MAX_CAUSE = 300


# The tool's own error line (Quarto's `ERROR: …`, pandoc's `Error …`), which outranks any
# line that merely contains a word like "error" (a title echoed from the metadata).
TOOL_ERROR = re.compile(r"^(ERROR|Error|error)\b[:\s]")


def cause(output: str) -> str:
    """The one line of a tool's output that says what went wrong: the last line of a Python
    traceback, else the tool's own error line, else the first line that reads like an
    error, else the last line; capped."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    own = [line for line in lines if TOOL_ERROR.match(line)]
    if any(line.startswith("Traceback") for line in lines):
        chosen = lines[-1]
    elif own:
        chosen = own[0]
    else:
        chosen = next((line for line in lines if CAUSE.search(line)), lines[-1])
    following = lines.index(chosen) + 1
    if chosen.endswith(":") and following < len(lines):
        # pandoc's "Error running filter x.lua:" gives the filter's message on the next line
        chosen = f"{chosen} {lines[following]}"
    return chosen if len(chosen) <= MAX_CAUSE else chosen[: MAX_CAUSE - 1] + "…"


def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", **kwargs)
    except OSError as exc:
        raise RenderError(f"{what}: cannot start {cmd[0]} ({exc.strerror})") from None
    if done.returncode != 0:
        detail = cause(done.stderr or done.stdout)
        raise RenderError(f"{what} failed: {detail or f'exit {done.returncode}'}")
    return done


def render_with_quarto(project_dir: Path, results_dir: Path | None) -> Rendered:
    results_dir = paths.RESULTS_OF_RECORD if results_dir is None else results_dir
    env = {
        **os.environ,
        "POLARITY_RESULTS_DIR": str(Path(results_dir).resolve()),
        "POLARITY_PYTHON": sys.executable,
        # Pre-render keeps a finished build from these results that nothing changed since
        # (report/prerender.py), which `polarity report` and `make report-of-record` have
        # just made; a plain `quarto render` always builds.
        "POLARITY_SOURCES_BUILT": "1",
    }
    with folder_lock(Path(project_dir) / "_site"):
        _run([quarto_path(), "render", str(project_dir)], "quarto render", env=env)
    out = Path(project_dir) / "_site" / "report"
    return Rendered("quarto", out / "index.html", out / "index.pdf")


def _header_texts(entries, config_file: Path) -> list[str]:
    """The raw text of a format's `include-in-header`, in Quarto's two spellings: a file's
    path (relative to the project), or `text: ...`."""
    if entries is None:
        return []
    texts = []
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            texts.append(entry["text"])
        elif isinstance(entry, str) and (config_file.parent / entry).is_file():
            texts.append((config_file.parent / entry).read_text())
        else:
            raise RenderError(
                f"include-in-header entry {entry!r} in {config_file} is not text or a file"
            )
    return texts


def _quarto_options(project_dir: Path) -> dict:
    """The options the fallback honours from _quarto.yml, so both renderers agree."""
    config_file = Path(project_dir) / "_quarto.yml"
    config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else {}
    formats = (config or {}).get("format", {})
    html = formats.get("html", {}) or {}
    typst = formats.get("typst", {}) or {}
    filters = [Path(project_dir) / f for f in (config or {}).get("filters", [])]
    for lua in filters:
        if not lua.is_file():
            raise RenderError(f"filter {lua} named in {config_file} does not exist")
    return {
        # Per format, as Quarto reads them: the site has a sidebar of contents, the PDF
        # may open with its text.
        "toc": {"html": bool(html.get("toc", False)), "typst": bool(typst.get("toc", False))},
        "typst_header": _header_texts(typst.get("include-in-header"), config_file),
        "number_sections": bool(html.get("number-sections", False)),
        "css": html.get("css"),
        "filters": [str(lua) for lua in filters],
    }


def render_with_pandoc(project_dir: Path, results_dir: Path | None = None) -> Rendered:
    """The fallback: pandoc (from pypandoc-binary) for HTML, pandoc + Typst for the PDF.

    Renders a finished build only (and, given `results_dir`, only one built from it), into
    a staging folder that replaces `_site/report` when HTML and PDF are both done."""
    project_dir = Path(project_dir)
    report_dir = project_dir / "report"
    source = report_dir / "index.qmd"
    if not source.is_file():
        raise RenderError(f"{source} does not exist; run `polarity build` first")
    options = _quarto_options(project_dir)
    site = project_dir / "_site"
    try:
        with folder_lock(report_dir), folder_lock(site):
            _check_build(report_dir, results_dir)
            staging = staging_folder(site)  # removes a killed render's, never a live one's
            try:
                _render_into(staging, project_dir, report_dir, source, options)
                _publish(staging, site)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise cannot_write(site, exc) from exc
    out = site / "report"
    return Rendered("pandoc+typst", out / "index.html", out / "index.pdf")


def _check_build(report_dir: Path, results_dir: Path | None) -> None:
    from polarity.article import finished_build

    record = finished_build(report_dir)
    if results_dir is None:
        return
    wanted = os.fsdecode(Path(results_dir).resolve())
    if record.get("results_dir") != wanted:
        raise RenderError(
            f"{report_dir} was built from {record.get('results_dir')}, not {results_dir}; "
            f"run `polarity build --results {results_dir}` first"
        )


def _render_into(staging: Path, project_dir: Path, report_dir: Path, source: Path, options):
    import pypandoc
    import typst

    out = staging / "report"
    out.mkdir(parents=True)
    pandoc = pypandoc.get_pandoc_path()
    # The project's own filters, as Quarto runs them, then the Quarto syntax Quarto provides.
    filters = [*options["filters"], str(resources.files("polarity") / "crossref.lua")]
    common = [
        pandoc,
        str(source),
        "--from",
        "markdown",
        *(arg for lua in filters for arg in ("--lua-filter", lua)),
        "--citeproc",
        f"--resource-path={report_dir}",
    ]
    if options["number_sections"]:
        common.append("--number-sections")

    html = out / "index.html"
    # Quarto's article page (polarity/fallback.html) with a stand-in for its theme
    # (fallback.css), then the project's own stylesheet, as Quarto loads it after its theme.
    package = resources.files("polarity")
    shutil.copy2(package / "fallback.css", out / "fallback.css")
    css = ["--css", "fallback.css"]
    if options["css"]:
        css += ["--css", Path(options["css"]).name]
    _run(
        common
        + [
            "--to",
            "html5",
            "--standalone",
            f"--template={package / 'fallback.html'}",
            "--default-image-extension=png",
            "--metadata=fallback-pdf:index.pdf",
            *(["--toc"] if options["toc"]["html"] else []),
            *css,
            "-o",
            str(html),
        ],
        "pandoc (HTML)",
    )
    if options["css"]:
        shutil.copy2(project_dir / options["css"], out / Path(options["css"]).name)
    for generated in ("figures", "tables"):  # Quarto copies these as project resources
        _copy_tree(report_dir / generated, out / generated)

    # Typst resolves image paths against the .typ file, so it is written beside the sources,
    # under a name of its own (report/ is locked, but a name per render costs nothing).
    fd, typ_name = tempfile.mkstemp(prefix=".index-", suffix=".typ", dir=report_dir)
    os.close(fd)
    typ = Path(typ_name)
    try:
        _run(
            common
            + [
                "--to",
                "typst",
                "--standalone",
                "--default-image-extension=svg",
                "-V",
                "section-numbering=1.1",
                *(["--toc"] if options["toc"]["typst"] else []),
                *(f"--variable=header-includes:{text}" for text in options["typst_header"]),
                "-o",
                str(typ),
            ],
            "pandoc (Typst)",
        )
        pdf = out / "index.pdf"
        try:
            document = typst.compile(str(typ), root=str(report_dir))
        except Exception as exc:  # typst raises its own error types, one per failure kind
            raise RenderError(f"typst compile of {source} failed: {cause(str(exc))}") from None
        # Written here, not by Typst, so a full disk is an OSError naming its cause.
        atomic_write_bytes(pdf, document)
    finally:
        typ.unlink(missing_ok=True)
    # The site's root page, written by the same script Quarto runs after rendering.
    env = {**os.environ, "QUARTO_PROJECT_OUTPUT_DIR": str(staging)}
    _run([sys.executable, str(report_dir / "postrender.py")], "post-render", env=env)


def _publish(staging: Path, site: Path) -> None:
    """Swap the rendered report into the site: the old one out, the new one in."""
    old = site / "report"
    if old.exists():
        os.replace(old, staging / ".old-report")
    os.replace(staging / "report", old)
    os.replace(staging / "index.html", site / "index.html")


def _copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def render(
    project_dir: Path = paths.ROOT,
    results_dir: Path | None = None,
    renderer: str = "auto",
) -> Rendered:
    """Render with Quarto when it is on PATH (or `renderer='quarto'`), else the fallback.
    Quarto's pre-render rebuilds from `results_dir` (default: the results of record); the
    fallback renders the finished build, and refuses one made from other results than a
    `results_dir` given."""
    if renderer not in ("auto", "quarto", "fallback"):
        raise RenderError(f"unknown renderer {renderer!r}; use auto, quarto or fallback")
    if renderer == "quarto" or (renderer == "auto" and quarto_path()):
        if not quarto_path():
            raise RenderError("quarto is not on PATH; install Quarto or use --renderer fallback")
        return render_with_quarto(project_dir, results_dir)
    return render_with_pandoc(project_dir, results_dir)
