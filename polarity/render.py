"""Render report/index.qmd to the HTML site and the PDF article.

With `quarto` on PATH, Quarto renders the project (its pre-render step rebuilds the sources).
Without it, a thin fallback drives the same engines Quarto drives -- pandoc for HTML, pandoc
then Typst for the PDF -- with `crossref.lua` supplying the Quarto cross-references the
templates use. Both run the filters `_quarto.yml` lists and write the same layout:
`_site/report/index.html` and `index.pdf`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from polarity import PolarityError, paths


class RenderError(PolarityError):
    """Rendering failed; the message carries the renderer's own error."""


@dataclass(frozen=True)
class Rendered:
    renderer: str  # "quarto" or "pandoc+typst"
    html: Path
    pdf: Path


def quarto_path() -> str | None:
    return shutil.which("quarto")


def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    except OSError as exc:
        raise RenderError(f"{what}: cannot start {cmd[0]} ({exc.strerror})") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise RenderError(f"{what} failed: {' / '.join(detail[-3:]) or f'exit {done.returncode}'}")
    return done


def render_with_quarto(project_dir: Path, results_dir: Path) -> Rendered:
    env = {
        **os.environ,
        "POLARITY_RESULTS_DIR": str(Path(results_dir).resolve()),
        "POLARITY_PYTHON": sys.executable,
    }
    _run([quarto_path(), "render", str(project_dir)], "quarto render", env=env)
    out = Path(project_dir) / "_site" / "report"
    return Rendered("quarto", out / "index.html", out / "index.pdf")


def _quarto_options(project_dir: Path) -> dict:
    """The options the fallback honours from _quarto.yml, so both renderers agree."""
    config_file = Path(project_dir) / "_quarto.yml"
    config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else {}
    formats = (config or {}).get("format", {})
    html = formats.get("html", {}) or {}
    filters = [Path(project_dir) / f for f in (config or {}).get("filters", [])]
    for lua in filters:
        if not lua.is_file():
            raise RenderError(f"filter {lua} named in {config_file} does not exist")
    return {
        "toc": bool(html.get("toc", False)),
        "number_sections": bool(html.get("number-sections", False)),
        "css": html.get("css"),
        "filters": [str(lua) for lua in filters],
    }


def render_with_pandoc(project_dir: Path) -> Rendered:
    """The fallback: pandoc (from pypandoc-binary) for HTML, pandoc + Typst for the PDF."""
    import pypandoc
    import typst

    project_dir = Path(project_dir)
    report_dir = project_dir / "report"
    source = report_dir / "index.qmd"
    if not source.is_file():
        raise RenderError(f"{source} does not exist; run `polarity build` first")
    out = project_dir / "_site" / "report"
    out.mkdir(parents=True, exist_ok=True)
    options = _quarto_options(project_dir)
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
    if options["toc"]:
        common.append("--toc")

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

    # Typst resolves image paths against the .typ file, so it is written beside the sources.
    typ = report_dir / ".index.typ"
    _run(
        common
        + [
            "--to",
            "typst",
            "--standalone",
            "--default-image-extension=svg",
            "-V",
            "section-numbering=1.1",
            "-o",
            str(typ),
        ],
        "pandoc (Typst)",
    )
    pdf = out / "index.pdf"
    try:
        typst.compile(str(typ), output=str(pdf), root=str(report_dir))
    except Exception as exc:  # typst raises its own error types, one per failure kind
        raise RenderError(f"typst compile of {typ} failed: {exc}") from None
    finally:
        typ.unlink(missing_ok=True)
    # The site's root page, written by the same script Quarto runs after rendering.
    env = {**os.environ, "QUARTO_PROJECT_OUTPUT_DIR": str(project_dir / "_site")}
    _run([sys.executable, str(report_dir / "postrender.py")], "post-render", env=env)
    return Rendered("pandoc+typst", html, pdf)


def _copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def render(
    project_dir: Path = paths.ROOT,
    results_dir: Path = paths.RESULTS_OF_RECORD,
    renderer: str = "auto",
) -> Rendered:
    """Render with Quarto when it is on PATH (or `renderer='quarto'`), else the fallback."""
    if renderer not in ("auto", "quarto", "fallback"):
        raise RenderError(f"unknown renderer {renderer!r}; use auto, quarto or fallback")
    if renderer == "quarto" or (renderer == "auto" and quarto_path()):
        if not quarto_path():
            raise RenderError("quarto is not on PATH; install Quarto or use --renderer fallback")
        return render_with_quarto(project_dir, results_dir)
    return render_with_pandoc(project_dir)
