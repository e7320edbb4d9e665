"""Publishing and citing: the manifest, per-figure files, citation metadata, and HTML/PDF
parity, checked on the rendered smoke-profile site."""

import csv
import json
import re
from html import unescape
from importlib import resources

import jsonschema
import pytest
import yaml
from pypdf import PdfReader

from polarity import paths
from polarity.report import FIGURES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def html(smoke_project):
    return smoke_project.rendered.html.read_text()


@pytest.fixture(scope="module")
def pdf_text(smoke_project):
    pages = [page.extract_text() for page in PdfReader(smoke_project.rendered.pdf).pages]
    # Each page ends with its footer, the page number; drop it so sentences join up.
    text = _normalise(" ".join(re.sub(r"\s*\d+\s*$", "", page) for page in pages))
    return text.replace("\u2022 ", "")  # list bullets, which the HTML's text has not


def _normalise(text: str) -> str:
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2212", "-")  # Typst sets minus signs typographically
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def _typeset_contains(pdf_text: str, words: str) -> bool:
    """Whether the PDF's text holds `words`, allowing Typst's hyphenation: a word broken at
    a line's end reads "percent- age" once the lines are joined, and a hyphen of the text
    that falls at a line's end is dropped by pdftotext ("Hessian-vector" reads
    "Hessianvector")."""
    hyphen = r"(?:- )?"

    def pattern_of(c: str) -> str:
        if c == "-":
            return r"(?:- ?)?"
        return re.escape(c) + (hyphen if c.isalpha() else "")

    pattern = "".join(pattern_of(c) for c in words)
    return re.search(pattern, pdf_text) is not None


def claim_parts(statement: str) -> list[str]:
    """The stretches of a claim's sentence that print as written in both formats. A
    cross-reference prints as its number ("Section 10"), a citation as its author and year
    (in brackets or in the sentence), and a glossary link as its words: each stretch between
    them."""
    statement = _normalise(statement).replace("**", "")  # bold prints as words
    statement = re.sub(r"(?<=[:.;]) - ", " ", statement)  # a list's items, without bullets
    link_or_reference = r"\[@[^\]]*\]|@[A-Za-z][\w:-]*\w|\[([^\]]*)\]\(#[\w-]+\)"
    parts = re.split(link_or_reference, statement)
    return [part.strip() for part in parts if part and part.strip()]


def _html_text(html: str) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return _normalise(unescape(re.sub(r"<[^>]+>", " ", body)))


def test_manifest_validates_and_names_only_files_that_exist(smoke_project):
    figures_dir = smoke_project.root / "report" / "figures"
    manifest = json.loads((figures_dir / "figures.json").read_text())
    schema = json.loads(
        (resources.files("polarity") / "schemas" / "figures.schema.json").read_text()
    )
    jsonschema.validate(manifest, schema)
    assert [f["id"] for f in manifest["figures"]] == [spec.id for spec in FIGURES]
    site_figures = smoke_project.rendered.html.parent / "figures"
    for entry in manifest["figures"]:
        for name in entry["files"]:
            assert (figures_dir / name).is_file() and (site_figures / name).is_file(), name


def test_every_figure_offers_its_files_data_and_a_bibtex_entry(html, smoke_project):
    figures_dir = smoke_project.rendered.html.parent / "figures"
    for spec in FIGURES:
        for ext in ("png", "svg", "pdf", "json", "bib"):
            assert f'href="figures/{spec.id}.{ext}"' in html, (spec.id, ext)
        bib = (figures_dir / f"{spec.id}.bib").read_text()
        assert bib.startswith(f"@misc{{polarity-{spec.id},") and "version = {0.1.0}" in bib
        data = json.loads((figures_dir / f"{spec.id}.json").read_text())
        assert data["id"] == spec.id and data["data"] and data["provenance"]["config_hash"]


def test_every_figure_has_a_provenance_card_in_both_formats(html, pdf_text):
    assert _html_text(html).count("Provenance:") == len(FIGURES)
    assert pdf_text.count("Provenance:") == len(FIGURES)


def test_download_links_are_html_only(pdf_text):
    assert "Download:" not in pdf_text and "BibTeX)" not in pdf_text


def test_every_table_has_its_data_as_csv(html, smoke_project):
    results = {p.stem: json.loads(p.read_text()) for p in smoke_project.results.glob("*.json")}
    for table_id in ("tbl-replication", "tbl-background"):
        assert f'href="tables/{table_id}.csv"' in html
        path = smoke_project.rendered.html.parent / "tables" / f"{table_id}.csv"
        rows = list(csv.DictReader(path.open()))
        assert rows, table_id
    replication = {
        row["encoding"]: row
        for row in csv.DictReader(
            (smoke_project.rendered.html.parent / "tables" / "tbl-replication.csv").open()
        )
    }
    orders = results["replication"]["metrics"]["answer_protocol_orders"]
    assert float(replication["inverted"]["answer_protocol_mean"]) == orders["inverted"]["mean"]


def test_citation_metadata_in_html_and_pdf(html, pdf_text):
    citation = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    assert f'<meta name="citation_author" content="{citation["authors"][0]["name"]}">' in html
    assert '<meta name="citation_title"' in html
    text = _html_text(html)
    assert "BibTeX citation:" in text and f"version = {{{citation['version']}}}" in text
    for needle in (
        _normalise(citation["title"]),
        citation["authors"][0]["name"],
        f"version {citation['version']}",
        str(citation["date-released"]),
    ):
        assert needle in pdf_text, needle
        assert needle in text, needle


def test_html_and_pdf_carry_the_same_numbered_references_and_key_numbers(
    html, pdf_text, smoke_project
):
    text = _html_text(html)
    pattern = r"\b(Figure|Table|Section) (\d+(?:\.\d+)?)\b"
    assert set(re.findall(pattern, text)) == set(re.findall(pattern, pdf_text))
    figure_numbers = {n for kind, n in re.findall(pattern, text) if kind == "Figure"}
    assert figure_numbers == {str(i) for i in range(1, len(FIGURES) + 1)}
    for claim in smoke_project.built.claims.values():  # every conclusion, with its numbers
        for part in claim_parts(claim["statement"]):
            assert part in text, part
            assert _typeset_contains(pdf_text, part), part


def test_the_pdf_opens_with_the_answer(smoke_project):
    first_page = _normalise(PdfReader(smoke_project.rendered.pdf).pages[0].extract_text())
    assert "The answer in brief" in first_page  # the box's title
    assert "Performance:" in first_page  # the box's first item: does inverting change it?


def test_html_and_pdf_cite_alike_and_list_the_references_where_the_article_does(html, pdf_text):
    spans = re.findall(r'<span\s+class="citation"[^>]*>(.*?)</span>', html, flags=re.S)
    cites = {re.sub(r"(?<=\()\s+|\s+(?=[);,.])", "", _html_text(s)).strip() for s in spans}
    assert "(Belhadj 2016)" in cites  # author-date in HTML ...
    for cite in cites:
        assert cite in pdf_text, cite  # ... and the same in the PDF (citeproc for Typst)
    assert not re.search(r"\[\d+\]", pdf_text)  # not Typst's numeric style
    references = pdf_text.rindex("References")
    assert "Belhadj, Ghilas. 2016." in pdf_text[references:]  # the list under its heading


def test_citation_tags_are_quartos_google_scholar_set(html):
    tags = re.findall(r'<meta name="(citation_[a-z_]+)" content="([^"]*)"', html)
    names = [name for name, _ in tags]
    for name in ("citation_title", "citation_author", "citation_publication_date"):
        assert name in names, name
    assert names.count("citation_reference") >= 5  # one per bibliography entry
    for name, content in tags:
        if name == "citation_pdf_url":
            assert re.match(r"https?://", content), content  # never a relative address
    assert "citation_pdf_url" not in names or "citation_fulltext_html_url" in names
