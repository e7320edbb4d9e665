"""`polarity preview`: an edited template reaches the served page, on 127.0.0.1 only."""

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from polarity import paths

pytestmark = pytest.mark.slow


def _project_copy(tmp_path: Path) -> Path:
    """A project checkout without experiments: what building and rendering read."""
    root = tmp_path / "project"
    for name in ("_quarto.yml", "CITATION.cff"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / name, root / name)
    shutil.copytree(paths.ROOT / "templates", root / "templates")
    shutil.copytree(
        paths.ROOT / "polarity",
        root / "polarity",
        ignore=lambda d, n: [f for f in n if not f.endswith(".lua")],
    )  # the filters _quarto.yml names, not the code
    report = root / "report"
    report.mkdir()
    for name in ("references.bib", "style.css", "prerender.py", "postrender.py"):
        shutil.copy2(paths.REPORT / name, report / name)
    # One result of record: the preview's loop (build, render, serve, rebuild on an edit) is
    # the same for one as for all, and renders in half the time.
    (report / "results").mkdir()
    shutil.copy2(paths.RESULTS_OF_RECORD / "replication.json", report / "results")
    return root


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_an_edited_template_reaches_the_served_page(tmp_path):
    root = _project_copy(tmp_path)
    command = [sys.executable, "-m", "polarity", "--project", str(root), "preview", "--port", "0"]
    command += ["--renderer", "fallback"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )
    try:
        url = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line or process.poll() is None, "preview exited early"
            if "serving http://" in line:
                url = line.split("serving ", 1)[1].split()[0]
                break
        assert url and url.startswith("http://127.0.0.1:"), url
        page = _fetch(url)
        assert "/__preview/version" in page  # the reload script
        version = _fetch(url.split("/report/")[0] + "/__preview/version")
        assert '"version": 1' in version

        template = root / "templates" / "index.qmd.j2"
        marker = "Preview marker: this sentence was added while the preview ran."
        template.write_text(template.read_text() + f"\n{marker}\n")
        deadline = time.monotonic() + 300
        while marker not in page and time.monotonic() < deadline:
            time.sleep(1)
            try:
                page = _fetch(url)
            except urllib.error.HTTPError as exc:  # the render swaps the new site in whole:
                if exc.code != 404:  # for a moment there is no page to serve
                    raise
        assert marker in page
        # The open page reloads once the rebuild is counted (just after the render ends).
        status = url.split("/report/")[0] + "/__preview/version"
        while '"version": 2' not in _fetch(status) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert '"version": 2' in _fetch(status)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError):  # stopped: nothing listens any more
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
