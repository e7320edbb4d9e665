"""The article as its reader meets it (issue 17), measured on the HTML of the report of
record: the answer box is short and opens with the answer to "does inverting change
performance?", "told from chance" is rare, and no sentence runs past 60 words.

Sentences are measured on the page's text as a reader sees it, without tables, figure
provenance cards, download links, the title block, the contents, the references and the
appendix. A long sentence in a section someone else owns is an expected failure naming its
owner, so it stays visible until that section is rewritten.
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import threading
from html.parser import HTMLParser

import pytest

from polarity import paths
from polarity.article import appendix_headings, build
from polarity.render import render
from tests.conftest import copy_quarto_project, require_tool

pytestmark = pytest.mark.slow  # builds and renders the report of record (about 15 s)

BOX_WORDS = 150
BOX_SENTENCE_WORDS = 35
ARTICLE_SENTENCE_WORDS = 60
TOLD_FROM_CHANCE = 2

# Sections whose words someone else owns: id -> owner. A limit broken only inside these is
# an expected failure naming the owner.
OWNED_BY_OTHERS: dict[str, str] = {}  # none left: every section is held to the limits


# --- From HTML to the reader's text ------------------------------------------------------------

SKIPPED_CLASSES = {
    "figure-provenance",
    "figure-downloads",
    "table-downloads",
    "quarto-title-meta",
    "callout-header",
}
SKIPPED_TAGS = {"table", "script", "style", "nav", "header", "head"}
SKIPPED_IDS = {"TOC", "refs", "quarto-appendix", "title-block-header"}
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "figcaption", "div", "section", "dd", "dt", "br"}
VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "source", "wbr"}


class _Reader(HTMLParser):
    """Collects the visible prose of a page as blocks (paragraphs, list items, captions,
    headings), each tagged with the id of the section it lies in and whether it lies in
    the answer box."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        # Open elements: (tag, skipped, is the answer box).
        self.stack: list[tuple[str, bool, bool]] = []
        self.section: str | None = None  # the id of the last section heading passed
        self.blocks: list[dict] = []
        self.current: list[str] = []

    def _flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            in_box = any(box for *_, box in self.stack)
            self.blocks.append({"text": text, "section": self.section, "box": in_box})
        self.current = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if tag in BLOCKS:
            self._flush()
        if tag in VOID:
            return
        skipped = (
            tag in SKIPPED_TAGS or bool(classes & SKIPPED_CLASSES) or attrs.get("id") in SKIPPED_IDS
        )
        identifier = attrs.get("id") or ""
        if identifier.startswith("sec-"):
            self.section = identifier
        self.stack.append((tag, skipped, "callout-note" in classes))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if tag in BLOCKS:
            self._flush()
        # Pop to the matching tag (HTML from pandoc is well formed).
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not any(skipped for _, skipped, _ in self.stack):
            self.current.append(data)


def reader_blocks(html: str) -> list[dict]:
    """The page's prose blocks: {"text", "section", "box"}."""
    reader = _Reader()
    reader.feed(html)
    reader._flush()
    return reader.blocks


# --- Sentences ---------------------------------------------------------------------------------

# A full stop ends a sentence unless it belongs to an abbreviation, an initial or a number.
ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "cf.", "vs.", "Fig.", "Sec.", "No.", "approx.")
_PLACEHOLDER = "\u2063"  # invisible separator, never in the article's text


def sentences(text: str) -> list[str]:
    """Split prose into sentences: at ".", "?" or "!" (optionally followed by a closing
    quote or bracket) followed by a space and what can start a sentence (a capital, a digit,
    a quote, a bracket or a symbol such as λ or x); never inside a number (0.5, 1,800), after
    an abbreviation (e.g., et al.) or after a single-letter initial (Y. LeCun)."""
    protected = text
    for abbreviation in ABBREVIATIONS:
        protected = protected.replace(abbreviation, abbreviation.replace(".", _PLACEHOLDER))
    protected = re.sub(r"\b([A-Z])\.(?=\s[A-Z])", rf"\1{_PLACEHOLDER}", protected)  # initials
    end = r"(?:(?<=[.?!])|(?<=[.?!][\"'”’)\]]))"  # a stop, perhaps closed by a quote
    parts = re.split(end + r"\s+(?=[\"'“‘(\[A-Z0-9λΛxW@*])", protected)
    return [p.replace(_PLACEHOLDER, ".").strip() for p in parts if p.strip()]


def words(text: str) -> int:
    """Words as a reader counts them: runs of letters or digits (12.5 % is one word)."""
    return len(re.findall(r"[\w′]+(?:[.,'’−-][\w′]+)*", text))


def test_the_splitter_cuts_at_sentence_ends_only():
    text = (
        "Inverting lowers accuracy by 26 points after 50 updates. Why? The loss curves "
        "16 times more (LeCun et al. 1991), e.g. along the mean. Y. LeCun saw it first. "
        "The rate 0.5 is past 0.0325. “Quoted.” Then λ grows; x′ = 1 − x holds."
    )
    assert sentences(text) == [
        "Inverting lowers accuracy by 26 points after 50 updates.",
        "Why?",
        "The loss curves 16 times more (LeCun et al. 1991), e.g. along the mean.",
        "Y. LeCun saw it first.",
        "The rate 0.5 is past 0.0325.",
        "“Quoted.”",
        "Then λ grows; x′ = 1 − x holds.",
    ]
    assert words("A step of 0.5 takes 13 ms, 1,800 updates; W′ = −W.") == 11


def test_the_reader_drops_tables_provenance_and_contents():
    html = (
        '<nav id="TOC"><p>Contents here.</p></nav><h1 id="sec-a">A</h1>'
        "<p>First sentence. Second one.</p><table><tr><td>cell text</td></tr></table>"
        '<div class="figure-provenance"><p>Provenance: x.</p></div>'
        '<div class="callout callout-note"><div class="callout-header">Note</div>'
        '<div class="callout-body"><p>Boxed.</p></div></div>'
    )
    blocks = reader_blocks(html)
    assert [b["text"] for b in blocks] == ["A", "First sentence. Second one.", "Boxed."]
    assert [b["box"] for b in blocks] == [False, False, True]
    assert {b["section"] for b in blocks} == {"sec-a"}


# --- The report of record ---------------------------------------------------------------------


ARTIFACTS = paths.BUILD / "artifacts"


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """The report of record, built and rendered by the fallback in a throwaway project."""
    root = tmp_path_factory.mktemp("record")
    copy_quarto_project(root)
    build(paths.RESULTS_OF_RECORD, root / "report")
    return render(root, paths.RESULTS_OF_RECORD, "fallback")


@pytest.fixture(scope="module")
def record_html(record) -> str:
    return record.html.read_text()


@pytest.fixture(scope="module")
def blocks(record_html) -> list[dict]:
    return reader_blocks(record_html)


def _box_text(blocks) -> str:
    return " ".join(b["text"] for b in blocks if b["box"]).strip()  # its title aside


def _owned_by_others(offending: list[tuple[str | None, str]]) -> str | None:
    """The owners, if every offending (section, text) lies in a section someone else owns."""
    owners = {OWNED_BY_OTHERS.get(section) for section, _ in offending}
    return None if None in owners else "; ".join(sorted(owners))


def test_the_answer_box_is_short_and_its_sentences_are_plain(blocks):
    box = _box_text(blocks)
    assert box, "no answer box (.callout-note) on the page"
    assert words(box) <= BOX_WORDS, f"the answer box has {words(box)} words"
    long = [s for s in sentences(box) if words(s) > BOX_SENTENCE_WORDS]
    assert not long, long


def test_the_box_opens_by_answering_does_inverting_change_performance(blocks):
    first = sentences(_box_text(blocks))[0].lower()
    assert "invert" in first and "accuracy" in first, first
    # It says which way, or that it does not: a verdict, not a method.
    verdict = r"\b(lowers|raises|costs|changes|does not change|no difference|same)\b"
    assert re.search(verdict, first), first
    assert "interval" not in first and "protocol" not in first, first


def test_told_from_chance_appears_at_most_twice(blocks, request):
    found = [(b["section"], b["text"]) for b in blocks if "told from chance" in b["text"]]
    hits = sum(b["text"].count("told from chance") for b in blocks)
    if hits > TOLD_FROM_CHANCE:
        owners = _owned_by_others(found)
        mine = [(s, t) for s, t in found if s not in OWNED_BY_OTHERS]
        mine_hits = sum(t.count("told from chance") for _, t in mine)
        if owners and mine_hits <= TOLD_FROM_CHANCE:
            pytest.xfail(f"{hits} uses, the excess in sections owned by {owners}")
    assert hits <= TOLD_FROM_CHANCE, found


def test_no_sentence_of_the_article_runs_past_60_words(blocks):
    long = [
        (b["section"], s)
        for b in blocks
        for s in sentences(b["text"])
        if words(s) > ARTICLE_SENTENCE_WORDS
    ]
    if long:
        owners = _owned_by_others(long)
        if owners:
            pytest.xfail(f"{len(long)} long sentences, all in sections owned by {owners}")
    assert not long, [f"{section}: {words(s)} words: {s[:120]}…" for section, s in long]


# --- What the asker sees first, kept as artifacts ----------------------------------------------


@pytest.mark.browser
def test_first_screen_of_the_html_shows_the_whole_answer_box(record):
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    site = record.html.parent.parent
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/report/index.html")
            box = page.locator(".callout-note").bounding_box()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "record-first-screen.png"))
            browser.close()
    finally:
        server.shutdown()
    assert box is not None and box["y"] + box["height"] <= 900, box  # no scrolling needed
    assert (ARTIFACTS / "record-first-screen.png").stat().st_size > 10_000


def test_first_page_of_the_pdf_is_kept_as_an_artifact(record):
    pdftoppm = require_tool("pdftoppm")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / "record-pdf-page"
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(record.pdf), stem],
        check=True,
    )
    assert stem.with_suffix(".png").stat().st_size > 10_000


# --- Length and shape (issue 23): the main text ends by page 5 of the PDF ---------------------

MAIN_TEXT_PAGES = 5


def _pdf_pages(pdf) -> list[str]:
    pdftotext = require_tool("pdftotext")
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")


def test_the_main_text_ends_by_page_5_of_the_pdf(record):
    """The question, the answer, why and what to do fit in five pages; everything else is an
    appendix, and the first appendix opens a fresh page, so the page before it holds the
    main text's last line."""
    appendices = appendix_headings(
        record.html.parent.parent.parent.joinpath("report", "index.qmd").read_text()
    )
    assert len(appendices) >= 8, appendices  # the detailed sections moved, not dropped
    pages = _pdf_pages(record.pdf)

    def page_of(title: str) -> int:
        found = [
            i + 1
            for i, page in enumerate(pages)
            if re.search(
                r"^\s*\d+\s+" + re.escape(title).replace(r"\ ", r"\s+"), page, re.MULTILINE
            )
        ]
        assert found, f"heading {title!r} not found in the PDF"
        return found[0]

    first = page_of(appendices[0]["title"])
    opening = [line for line in pages[first - 1].splitlines() if line.strip()][0]
    assert appendices[0]["title"] in opening, f"the first appendix does not open page {first}"
    last_of_main = first - 1
    assert page_of("What to do") <= last_of_main
    assert last_of_main <= MAIN_TEXT_PAGES, f"the main text ends on page {last_of_main}"
