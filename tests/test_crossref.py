"""The pandoc fallback's cross-references: numbered, resolved, and alike in HTML and Typst."""

import subprocess
from importlib import resources

import pypandoc
import pytest

DOC = """\
# Intro {#sec-intro}

See @fig-b, @tbl-t and @sec-more.

![First](a.png){#fig-a fig-alt="Alt of A"}

![Second](b.png){#fig-b}

| x |
|---|
| 1 |

: A table {#tbl-t}

## More {#sec-more}
"""


def _pandoc(text: str, to: str) -> subprocess.CompletedProcess:
    lua = str(resources.files("polarity") / "crossref.lua")
    return subprocess.run(
        [
            pypandoc.get_pandoc_path(),
            "--from",
            "markdown",
            "--to",
            to,
            "--lua-filter",
            lua,
            "--number-sections",
        ],
        input=text,
        capture_output=True,
        text=True,
    )


def test_html_numbers_and_links_references():
    html = _pandoc(DOC, "html5").stdout
    assert '<a href="#fig-b">Figure\u00a02</a>' in html
    assert '<a href="#tbl-t">Table\u00a01</a>' in html
    assert '<a href="#sec-more">Section\u00a01.1</a>' in html
    assert "<strong>Figure 1:</strong> First" in html
    assert 'alt="Alt of A"' in html


def test_typst_links_the_same_numbers_and_keeps_alt_text():
    typ = _pandoc(DOC, "typst").stdout
    assert "#link(<fig-b>)[Figure~2]" in typ
    assert "#link(<tbl-t>)[Table~1]" in typ
    assert "#link(<sec-more>)[Section~1.1]" in typ
    assert 'alt: "Alt of A"' in typ


@pytest.mark.parametrize("ref", ["@fig-missing", "@tbl-missing", "@sec-missing"])
def test_dangling_reference_stops_the_render(ref):
    done = _pandoc(f"# A {{#sec-a}}\n\nSee {ref}.\n", "html5")
    assert done.returncode != 0
    assert f"cross-reference {ref} points to no" in done.stderr
