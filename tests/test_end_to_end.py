"""The smoke profile from MNIST to HTML and PDF: everything the article promises is there."""

import re
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from polarity.article import build
from polarity.report import FIGURES
from polarity.report.output import FORMATS
from tests.conftest import require_tool

pytestmark = pytest.mark.slow


def test_every_figure_is_written_in_every_format_at_print_resolution(smoke_project):
    figures_dir = smoke_project.root / "report" / "figures"
    for spec in FIGURES:
        for fmt in FORMATS:
            assert (figures_dir / f"{spec.id}.{fmt}").stat().st_size > 1000
        dpi = Image.open(figures_dir / f"{spec.id}.png").info["dpi"]
        assert round(dpi[0]) == 300


def test_rebuilding_from_the_same_results_gives_identical_files(fallback_project, tmp_path):
    again = build(fallback_project.results, tmp_path / "report")
    first = fallback_project.root / "report"
    assert again.article.read_text() == (first / "index.qmd").read_text()
    for path in sorted((first / "figures").iterdir()):
        assert (tmp_path / "report" / "figures" / path.name).read_bytes() == path.read_bytes(), (
            path.name
        )


def test_html_has_the_table_every_figure_and_resolved_references(smoke_project):
    html = smoke_project.rendered.html.read_text()
    # The fallback puts a float's id on its <table> or <figure>; Quarto on a <div> around it.
    table = re.search(r'<(?:table|div) id="tbl-replication".*?</table>', html, flags=re.S)
    assert table and re.search(r"Table(?:&nbsp;|\s)\d+:(?:</strong>)? Mean test accuracy", table[0])
    for entry in smoke_project.built.figures:
        assert re.search(f'<(?:figure|div) id="{entry["id"]}"[ >]', html), entry["id"]
        assert f'src="figures/{entry["id"]}.png"' in html
        assert (smoke_project.rendered.html.parent / "figures" / f"{entry['id']}.png").is_file()
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert len(alts) == len(FIGURES) and all(len(alt) > 40 for alt in alts)
    assert "@fig-" not in html and "@tbl-" not in html and "@sec-" not in html
    number = [spec.id for spec in FIGURES].index("fig-answer-learning-curves") + 1
    link = r'<a href="#fig-answer-learning-curves"(?: class="quarto-xref")?>Figure(?:&nbsp;|\u00a0)'
    assert re.search(f"{link}{number}</a>", html)
    assert "Gradient-Based Learning Applied to Document Recognition" in html  # citeproc ran
    assert "Not the results of record" in html  # smoke results are flagged as such


def test_pdf_has_the_tables_captions_and_references(smoke_project):
    text = " ".join(page.extract_text() for page in PdfReader(smoke_project.rendered.pdf).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Mean test accuracy. One run of the answer" in text
    assert "Grey levels of the training images" in text
    assert [f["id"] for f in smoke_project.built.figures] == [spec.id for spec in FIGURES]
    for number, figure in enumerate(smoke_project.built.figures, start=1):
        # The caption's first words as pandoc typesets them (typographic apostrophes).
        caption = " ".join(figure["caption"].replace("'", "’").split()[:6])
        assert f"Figure {number}: {caption}" in text, caption
    assert "Gradient-Based Learning Applied to Document Recognition" in text
    assert "Does inverting MNIST" in text


def test_pdf_pages_rasterise(smoke_project, tmp_path):
    pdftoppm = require_tool("pdftoppm")
    subprocess.run(
        [
            pdftoppm,
            "-r",
            "40",
            "-png",
            "-f",
            "1",
            "-l",
            "2",
            str(smoke_project.rendered.pdf),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    assert Image.open(pages[0]).size[0] > 200


def test_each_renderer_says_what_rendered(smoke_project):
    expected = {"quarto": "quarto", "fallback": "pandoc+typst"}[smoke_project.renderer]
    assert smoke_project.rendered.renderer == expected
