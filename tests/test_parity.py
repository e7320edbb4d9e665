"""Parity between the renderers: Quarto and the pandoc+Typst fallback, given the same smoke
results, print the same article in HTML and in PDF. Each renderer's own page and PDF are
checked by the tests that take `smoke_project` (run once per renderer); these compare them.

Where the two differ by design the difference is listed in DELIBERATE with its reason, and
the comparisons below leave exactly that out."""

import re

import pytest
from pypdf import PdfReader

from tests.conftest import RENDERERS, _render_smoke
from tests.test_publish import _html_text, _normalise, _typeset_contains, claim_parts

pytestmark = pytest.mark.slow

# What differs between the renderers on purpose, and why. The tests below skip these parts.
DELIBERATE = {
    "page chrome": "Quarto's page has its own navigation, scripts, search and title block "
    "markup; the fallback's template has only the article. Only the article inside <main> is "
    "compared, less the title block (the browser tests check each renderer's).",
    "cross-reference and caption markup": "Quarto's links carry class quarto-xref and its "
    "floats nest figure in div; the fallback's are plain. Links, captions and numbers are "
    "compared as text.",
    "Citation appendix entry": "Quarto writes its BibTeX key, type and a title-cased title "
    "(the_polarity_project2026, @report) and italicises the title in the attribution; the "
    "fallback writes thepolarityproject2026, @techreport and the title as given. Not "
    "emulated yet; the appendix headings are compared, the entries are not.",
    "contents on a phone": "Quarto hides its margin contents below 992 px; the fallback "
    "shows them above the text. Not settled: the browser test asks for contents at the top "
    "on a phone and fails under Quarto (toc-location: right-body puts a second contents "
    "list in the body at every width).",
}


@pytest.fixture(scope="module")
def both(smoke_results, tmp_path_factory):
    """The smoke project rendered by each renderer (the same ones as `smoke_project`'s)."""
    return {r: _render_smoke(r, smoke_results, tmp_path_factory) for r in RENDERERS}


@pytest.fixture(scope="module")
def pages(both):
    return {r: article(p.rendered.html.read_text()) for r, p in both.items()}


@pytest.fixture(scope="module")
def pdfs(both):
    return {r: pdf_text(p.rendered.pdf) for r, p in both.items()}


def article(html: str) -> dict:
    """The article of a rendered page: its body before the appendix, and the appendix."""
    main = re.search(r'<main[^>]*id="quarto-document-content"[^>]*>(.*)</main>', html, re.S)
    assert main, "no <main id=quarto-document-content>"
    body = re.sub(r'<header id="title-block-header".*?</header>', "", main.group(1), flags=re.S)
    # Quarto's body copy of the contents (toc-location: right-body) is navigation, not article.
    body = re.sub(r'<nav id="TOC-body".*?</nav>', "", body, flags=re.S)
    body, _, appendix = body.partition('id="quarto-appendix"')
    return {"body": body, "appendix": appendix}


def pdf_text(pdf) -> str:
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    text = _normalise(" ".join(re.sub(r"\s*\d+\s*$", "", page) for page in pages))
    return text.replace("\u2022 ", "")


def headings(html: str) -> list[str]:
    found = re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", html, flags=re.S)
    return [f"h{level} {_html_text(text).strip()}" for level, text in found]


def in_order(text: str, parts: list[str]) -> list[str]:
    """The parts that are missing from `text` or out of order (empty when all are there)."""
    missing, position = [], 0
    for part in parts:
        hyphen = r"(?:- )?"
        pattern = "".join(re.escape(c) + (hyphen if c.isalpha() else "") for c in part)
        found = re.compile(pattern).search(text, position)
        if found is None:
            missing.append(part)
        else:
            position = found.end()
    return missing


CAPTION = re.compile(r"\b(Figure|Table)\s(\d+):")


def test_the_same_sections_in_the_same_order(pages, pdfs):
    quarto, fallback = (headings(pages[r]["body"]) for r in RENDERERS)
    assert len(quarto) > 10
    assert quarto == fallback
    for renderer in RENDERERS:
        titles = [h.split(" ", 1)[1] for h in quarto]
        assert in_order(pdfs[renderer], titles) == [], renderer
    appendix = [headings(pages[r]["appendix"]) for r in RENDERERS]
    assert appendix[0] == appendix[1] == ["h2 Reuse", "h2 Citation"]


def test_the_same_figure_and_table_numbers(pages, pdfs):
    captions = {r: CAPTION.findall(_html_text(pages[r]["body"])) for r in RENDERERS}
    assert captions["quarto"] == captions["fallback"]
    kinds = [kind for kind, _ in captions["quarto"]]
    assert kinds.count("Figure") >= 10 and kinds.count("Table") >= 2
    links = {
        r: re.findall(
            r'<a\s+href="#((?:fig|tbl|sec)-[\w-]+)"[^>]*>(.*?)</a>', pages[r]["body"], re.S
        )
        for r in RENDERERS
    }
    assert links["quarto"]
    assert {(t, _html_text(x).strip()) for t, x in links["quarto"]} == {
        (t, _html_text(x).strip()) for t, x in links["fallback"]
    }
    for renderer in RENDERERS:  # the PDF numbers its captions alike, in the same order
        assert CAPTION.findall(pdfs[renderer]) == captions["quarto"], renderer


def test_every_claim_sentence_in_both_renderers_and_both_formats(both, pages, pdfs):
    claims = {r: both[r].built.claims for r in RENDERERS}
    assert claims["quarto"] == claims["fallback"]  # Quarto's pre-render built the same
    for renderer in RENDERERS:
        text = _html_text(pages[renderer]["body"])
        for name, claim in claims[renderer].items():
            for part in claim_parts(claim["statement"]):
                assert part in text, (renderer, name, part)
                assert _typeset_contains(pdfs[renderer], part), (renderer, name, part)


def references(html: str) -> list[str]:
    entries = re.findall(
        r'<div id="(ref-[^"]+)" class="csl-entry"[^>]*>(.*?)</div>', html, flags=re.S
    )
    return [f"{key}: {_html_text(text).strip()}" for key, text in entries]


def test_the_same_reference_list(pages, pdfs):
    quarto, fallback = (references(pages[r]["body"]) for r in RENDERERS)
    assert len(quarto) >= 5
    assert quarto == fallback
    for renderer in RENDERERS:  # each entry in the PDF's list, in order (spacing aside:
        # tags leave spaces before punctuation in the HTML's text, lines break URLs in the PDF)
        listed = compact(pdfs[renderer][pdfs[renderer].rindex("References") :])
        entries = [compact(entry.split(": ", 1)[1])[:60] for entry in quarto]
        assert in_order(listed, entries) == [], renderer


def compact(text: str) -> str:
    # pypdf reads the hyphen of "Fashion-MNIST" in the list as a soft hyphen.
    return re.sub(r"\s+", "", text).replace("\u00ad", "-")


NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?: ?%)?(?![\w])")


def numbers(text: str) -> list[str]:
    return sorted(n.replace(" ", "") for n in NUMBER.findall(text))


def test_the_same_numbers_in_html_and_pdf(pages, pdfs):
    # The article's text, less its reference list (whose DOIs and URLs break across lines).
    text = {r: pages[r]["body"].split('id="refs"')[0] for r in RENDERERS}
    html = {r: numbers(_html_text(text[r])) for r in RENDERERS}
    assert len(html["quarto"]) > 100
    assert html["quarto"] == html["fallback"]
    for renderer in RENDERERS:
        in_pdf = set(numbers(pdfs[renderer]))
        assert [n for n in set(html[renderer]) if n not in in_pdf] == [], renderer
