"""The rendered page in headless Chromium, served over HTTP as a reader would get it."""

import functools
import http.server
import re
import shutil
import threading

import pytest

from polarity import paths
from tests.conftest import require_tool

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site_url(smoke_project):
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(smoke_project.root / "_site")
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/report/index.html"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(site_url):
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, site_url):
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    page.failed = []
    page.on("requestfailed", lambda request: page.failed.append(request.url))
    page.on("response", lambda r: r.status >= 400 and page.failed.append(f"{r.status} {r.url}"))
    page.goto(site_url, wait_until="load")
    yield page
    page.close()


def test_every_image_loads(page, smoke_project):
    images = page.eval_on_selector_all(
        "img",
        "els => els.map(e => ({src: e.getAttribute('src'), ok: e.complete && e.naturalWidth > 0}))",
    )
    assert {i["src"] for i in images} == {
        f"figures/{f['id']}.png" for f in smoke_project.built.figures
    }
    assert all(i["ok"] for i in images), images
    assert page.failed == []


def test_every_cross_reference_lands_on_its_target(page):
    targets = page.eval_on_selector_all(
        "a[href^='#']", "els => els.map(e => e.getAttribute('href'))"
    )
    assert any(t.startswith("#fig-") for t in targets) and any(
        t.startswith("#tbl-") for t in targets
    )
    for target in set(targets):
        assert page.locator(target).count() == 1, f"{target} has no target"


def test_first_screen_shows_the_answer_and_is_kept_as_an_artifact(page, site_url, smoke_project):
    page.goto(site_url, wait_until="load")
    box = page.locator(".callout-note").bounding_box()
    assert box is not None and box["y"] < 1400  # visible without scrolling
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # beside the others (build/artifacts)
    shot = ARTIFACTS / f"first-screen-{smoke_project.renderer}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_no_chromium_means_skip_locally_but_fail_in_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("POLARITY_REQUIRE_SYSTEM_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception):
        require_tool("chromium")


def test_every_download_link_resolves(page):
    links = page.eval_on_selector_all(
        ".figure-downloads a, .table-downloads a", "els => els.map(e => e.href)"
    )
    assert len(links) >= 5 * 4 + 2  # five files per figure, one CSV per table
    for url in links:
        assert page.request.get(url).status == 200, url


def test_the_site_root_opens_the_report(page, site_url):
    root = site_url.rsplit("/report/", 1)[0] + "/"
    page.goto(root)
    page.wait_for_url("**/report/index.html")
    assert page.locator(".callout-note").count() == 1


ARTIFACTS = paths.BUILD / "artifacts"


def _open(browser, site_url, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(site_url, wait_until="load")
    return page


def test_wide_screen_has_the_contents_beside_the_text_and_a_pdf_link(
    browser, site_url, smoke_project
):
    page = _open(browser, site_url, 1280)
    toc = page.locator("#TOC").bounding_box()
    text = page.locator("main p").first.bounding_box()
    assert toc and text and toc["x"] >= text["x"] + text["width"]  # to the right of the text
    assert toc["y"] < 900  # on the first screen
    pdf = page.locator(".quarto-alternate-formats a[href$='index.pdf']")
    assert pdf.count() == 1 and pdf.is_visible()
    assert page.request.get(pdf.evaluate("a => a.href")).status == 200
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"page-1280-{smoke_project.renderer}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_phone_width_has_no_horizontal_scrolling_and_contents_at_the_top(
    browser, site_url, smoke_project
):
    page = _open(browser, site_url, 390)
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client == 390
    # The contents a phone shows: Quarto's body copy (its margin copy is hidden there), or the
    # fallback's one list.
    contents = page.locator("nav[role='doc-toc']:visible")
    assert contents.count() == 1
    toc = contents.bounding_box()
    first_target = contents.locator("a").first.get_attribute("href")
    first_section = page.locator(first_target).bounding_box()
    assert toc and first_section and toc["y"] < first_section["y"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"page-390-{smoke_project.renderer}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_title_block_callouts_and_appendix_as_quarto_lays_them_out(browser, site_url):
    page = _open(browser, site_url, 1280)
    header = page.locator("#title-block-header")
    assert header.locator("h1.title").count() == 1 and header.locator(".subtitle").count() == 1
    meta = header.locator(".quarto-title-meta").inner_text()
    assert "The polarity project" in meta
    assert re.search(
        r"(January|February|March|April|May|June|July|August|September|"
        r"October|November|December) \d{1,2}, \d{4}",
        meta,
    )
    assert page.locator(".callout.callout-titled .callout-header").first.is_visible()
    appendix = page.locator("#quarto-appendix")
    headings = appendix.locator("h2").all_inner_texts()
    assert headings == ["Reuse", "Citation"]
    # The references stay where the article places them, its last section before the appendix.
    sections = page.locator("main h1").all_inner_texts()
    assert sections[-1] == "References"
    assert "BibTeX citation:" in appendix.inner_text()
