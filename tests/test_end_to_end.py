"""The smoke profile from MNIST to HTML and PDF: everything the article promises is there."""

import re
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from polarity.article import build
from polarity.figures import FIGURES, FORMATS
from tests.conftest import require_tool

pytestmark = pytest.mark.slow


def test_every_figure_is_written_in_every_format_at_print_resolution(smoke_project):
    figures_dir = smoke_project.root / "report" / "figures"
    for spec in FIGURES:
        for fmt in FORMATS:
            assert (figures_dir / f"{spec.id}.{fmt}").stat().st_size > 1000
        dpi = Image.open(figures_dir / f"{spec.id}.png").info["dpi"]
        assert round(dpi[0]) == 300


def test_rebuilding_from_the_same_results_gives_identical_files(smoke_project, tmp_path):
    again = build(smoke_project.results, tmp_path / "report")
    first = smoke_project.root / "report"
    assert again.article.read_text() == (first / "index.qmd").read_text()
    for path in sorted((first / "figures").iterdir()):
        assert (tmp_path / "report" / "figures" / path.name).read_bytes() == path.read_bytes(), (
            path.name
        )


def test_html_has_the_table_every_figure_and_resolved_references(smoke_project):
    html = smoke_project.rendered.html.read_text()
    assert '<table id="tbl-replication"' in html
    assert "</strong> Mean test accuracy" in html
    for entry in smoke_project.built.figures:
        assert f'<figure id="{entry["id"]}">' in html
        assert f'src="figures/{entry["id"]}.png"' in html
        assert (smoke_project.rendered.html.parent / "figures" / f"{entry['id']}.png").is_file()
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert len(alts) == len(FIGURES) and all(len(alt) > 40 for alt in alts)
    assert "@fig-" not in html and "@tbl-" not in html and "@sec-" not in html
    assert '<a href="#fig-answer-learning-curves">Figure\u00a02</a>' in html
    assert "Gradient-Based Learning Applied to Document Recognition" in html  # citeproc ran
    assert "Not the results of record" in html  # smoke results are flagged as such


# The start of each figure's caption in templates/index.qmd.j2, in document order.
CAPTIONS = {
    "fig-mean-images": "Mean training image of each data set",
    "fig-answer-learning-curves": "Test accuracy during training",
    "fig-trial-accuracies": "Test accuracy of every",
    "fig-weight-change-maps": "How far each pixel",
    "fig-lr-sweep": "Test accuracy against learning rate",
    "fig-mirrored-training": "How far a convnet trained on inverted images strays",
    "fig-convnet-curves": "Test accuracy of the convnet during training",
    "fig-convnet-gap": "The convnet’s test accuracy on normal minus inverted",  # typographic ’
    "fig-fashion-lr-sweep": "Fashion-MNIST: test accuracy against learning rate",
    "fig-fashion-convnet-curves": "Fashion-MNIST: test accuracy of the convnet",
}


def test_pdf_has_the_tables_captions_and_references(smoke_project):
    text = " ".join(page.extract_text() for page in PdfReader(smoke_project.rendered.pdf).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Mean test accuracy. One run of the answer" in text
    assert "Grey levels of the training images" in text
    assert [f["id"] for f in smoke_project.built.figures] == list(CAPTIONS)
    for number, caption in enumerate(CAPTIONS.values(), start=1):
        assert f"Figure {number}: {caption}" in text
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


def test_the_fallback_says_what_rendered(smoke_project):
    assert smoke_project.rendered.renderer in ("quarto", "pandoc+typst")
