"""The Quarto side: the project file, .gitignore, the pre-render step, the workflows.
Where `quarto` is on PATH the smoke project is rendered by Quarto itself as well as by the
fallback, so the browser, PDF and parity tests check both; `.ci/run` builds Quarto and sets
POLARITY_REQUIRE_QUARTO=1, so there a missing or broken Quarto fails."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from polarity import paths

WORKFLOWS = paths.ROOT / ".github" / "workflows"


def _config() -> dict:
    return yaml.safe_load((paths.ROOT / "_quarto.yml").read_text())


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_quarto_yml_declares_the_version_and_typst_citeproc():
    config = _config()
    # The render list is recomputed after pre-render only from Quarto 1.5.
    assert config["quarto-required"] == ">=1.5"
    # Typst would otherwise use its own numeric bibliography, at the end.
    assert config["format"]["typst"]["citeproc"] is True
    assert config["project"]["output-dir"] == "_site"


def test_gitignore_holds_quartos_own_lines():
    lines = (paths.ROOT / ".gitignore").read_text().splitlines()
    assert "/.quarto/" in lines and "**/*.quarto_ipynb" in lines


def test_the_author_is_a_literal_name_in_the_article_front_matter(tmp_path):
    from polarity.article import ARTICLE_TEMPLATE, environment, read_citation

    citation = read_citation()
    source = (paths.TEMPLATES / ARTICLE_TEMPLATE).read_text()
    header = source[
        source.index("\n---\n") + 5 : source.index("\n---\n", source.index("\n---\n") + 5)
    ]
    rendered = environment().from_string(header).render(citation=citation)
    meta = yaml.safe_load(rendered)
    assert meta["author"] == [{"name": {"literal": citation["authors"][0]["name"]}}]
    assert meta["google-scholar"] is True
    assert meta["citation"]["type"] == "report"
    assert "pdf-url" not in meta["citation"] or "://" in meta["citation"]["pdf-url"]


def test_style_css_leaves_quartos_layout_alone():
    css = (paths.REPORT / "style.css").read_text()
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    selectors = {s.strip() for block in re.findall(r"([^{}]+)\{", rules) for s in block.split(",")}
    selectors = {s for s in selectors if not s.startswith("@media")}  # a query, not a selector
    # Quarto lets a wide table or a long URL widen the whole page on a phone: the table's box
    # scrolls instead, and the URL breaks (style.css says so). Quarto's body copy of the
    # contents, there for phones, is hidden on screens wide enough for its margin copy.
    exceptions = {".quarto-float-tbl > div", ".csl-entry", "#TOC-body"}
    assert exceptions <= selectors
    own = selectors - exceptions
    assert own and all(s.startswith(".figure-") or s.startswith(".table-") for s in own)


# --- the pre-render step ------------------------------------------------------------------


@pytest.fixture()
def prerender_project(tmp_path):
    """A project with the pre-render script and a stand-in Python that logs its calls."""
    root = tmp_path / "project"
    (root / "report" / "results").mkdir(parents=True)
    (root / "templates").mkdir()
    shutil.copy2(paths.REPORT / "prerender.py", root / "report" / "prerender.py")
    (root / "templates" / "index.qmd.j2").write_text("template\n")
    (root / "report" / "results" / "replication.json").write_text("{}\n")
    log = tmp_path / "calls.log"
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUARTO_", "POLARITY_"))}
    env["POLARITY_PYTHON"] = str(fake)
    return root, log, env


def _prerender(root, env):
    # As Quarto runs it: the script with a plain Python, from the project folder.
    return subprocess.run(
        [sys.executable, str(root / "report" / "prerender.py")],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
    )


def test_prerender_builds_on_a_full_render_and_skips_unchanged_incremental_ones(prerender_project):
    root, log, env = prerender_project
    article = root / "report" / "index.qmd"
    assert _prerender(root, env).returncode == 0  # no article yet: builds
    assert "polarity build" in log.read_text()
    log.unlink()

    article.write_text("built\n")
    future = time.time() + 60
    os.utime(article, (future, future))
    done = _prerender(root, env)  # incremental (quarto preview): nothing changed
    assert done.returncode == 0 and not log.exists(), done.stdout
    assert "nothing changed" in done.stdout

    done = _prerender(root, {**env, "QUARTO_PROJECT_RENDER_ALL": "1"})  # full render
    assert done.returncode == 0 and "polarity build" in log.read_text()
    log.unlink()

    template = root / "templates" / "index.qmd.j2"
    later = future + 60
    os.utime(template, (later, later))  # an edited template: the incremental render rebuilds
    assert _prerender(root, env).returncode == 0 and "polarity build" in log.read_text()


def test_prerender_keeps_what_polarity_render_has_just_built_and_nothing_else(prerender_project):
    """Under `polarity render` (POLARITY_SOURCES_BUILT=1) a full render keeps a finished build
    from the same results that nothing changed since; any other build is built again."""
    import hashlib

    root, log, env = prerender_project
    report, results = root / "report", root / "report" / "results"
    article = report / "index.qmd"
    article.write_text("built\n")
    future = time.time() + 60
    os.utime(article, (future, future))

    def marker(results_dir: Path, digest: str) -> None:
        record = {"results_dir": os.fsdecode(results_dir.resolve()), "index_sha256": digest}
        (report / ".polarity-build.json").write_text(json.dumps(record))

    def builds(**extra) -> bool:
        run = {**env, "QUARTO_PROJECT_RENDER_ALL": "1", "POLARITY_SOURCES_BUILT": "1", **extra}
        done = _prerender(root, run)
        assert done.returncode == 0, done.stderr
        built = log.exists() and "polarity build" in log.read_text()
        log.unlink(missing_ok=True)
        return built

    digest = hashlib.sha256(article.read_bytes()).hexdigest()
    marker(results, digest)
    assert not builds()  # built from these results just now: kept
    assert builds(POLARITY_SOURCES_BUILT="")  # a plain `quarto render` builds
    other = root / "other-results"
    other.mkdir()
    assert builds(POLARITY_RESULTS_DIR=str(other))  # from other results
    marker(results, "0" * 64)
    assert builds()  # the article is not the build's (an interrupted build)
    marker(results, digest)
    later = future + 60
    os.utime(results / "replication.json", (later, later))
    assert builds()  # a result changed since


@pytest.mark.slow
def test_prerender_is_not_fooled_by_a_polarity_folder_in_the_working_folder(tmp_path):
    """A copy of the project holds polarity/ with the Lua filters only. Python puts the working
    folder first on sys.path for `-c` and `-m`, so run from there the folder would shadow the
    installed package, and pre-render would say the package cannot be imported."""
    from tests.conftest import copy_quarto_project

    copy_quarto_project(tmp_path)
    assert (tmp_path / "polarity").is_dir() and not (tmp_path / "polarity" / "__init__.py").exists()
    empty = tmp_path / "no-results"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUARTO_", "POLARITY_"))}
    env.update(POLARITY_PYTHON=sys.executable, POLARITY_RESULTS_DIR=str(empty))
    done = _prerender(tmp_path, env)
    # The real interpreter imports the package and gets as far as the build, which refuses
    # an empty results folder with its own message.
    assert "cannot import the polarity package" not in done.stderr
    assert done.returncode != 0 and str(empty) in done.stderr, done.stderr


def test_prerender_finds_the_venv_python_on_windows_too(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("prerender", paths.REPORT / "prerender.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importing runs nothing: the work is in main()
    windows = tmp_path / ".venv" / "Scripts" / "python.exe"
    windows.parent.mkdir(parents=True)
    windows.write_text("")
    assert module.venv_python(tmp_path) == windows
    posix = tmp_path / ".venv" / "bin" / "python"
    posix.parent.mkdir(parents=True)
    posix.write_text("")
    assert module.venv_python(tmp_path) == posix


# --- the workflows ------------------------------------------------------------------------


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _pinned_quarto(workflow: dict) -> str:
    (setup,) = [
        s
        for s in _steps(workflow)
        if s.get("uses", "").startswith("quarto-dev/quarto-actions/setup@")
    ]
    version = setup["with"]["version"]
    return workflow["env"]["QUARTO_VERSION"] if "env.QUARTO_VERSION" in version else version


@pytest.mark.parametrize("name", ["publish.yml", "quarto.yml"])
def test_workflows_pin_a_quarto_that_the_project_accepts(name):
    workflow = _workflow(name)
    assert workflow["name"] and workflow["jobs"]
    assert True in workflow  # YAML 1.1 reads the `on:` key as True
    version = _pinned_quarto(workflow)
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    minimum = _config()["quarto-required"].removeprefix(">=")
    assert _version(version) >= _version(minimum)


def test_publish_workflow_renders_then_deploys_the_whole_site():
    workflow = _workflow("publish.yml")
    steps = _steps(workflow)
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    runs = [s.get("run", "") for s in steps]
    order = [
        "actions/checkout",
        "actions/setup-python",
        "quarto-dev/quarto-actions/setup",
        "quarto-dev/quarto-actions/render",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ]
    assert [u for u in uses if u in order] == order
    assert "make venv" in runs  # before the render, so the pre-render step has its Python
    assert runs.index("make venv") < uses.index("quarto-dev/quarto-actions/render")
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "_site"
    assert not any("quarto publish" in r for r in runs)  # refused on a fresh clone
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["jobs"]["deploy"]["environment"]["name"] == "github-pages"


def test_quarto_workflow_runs_the_tests_with_quarto_on_every_push():
    workflow = _workflow("quarto.yml")
    assert "push" in workflow[True]
    runs = " ".join(s.get("run", "") for s in _steps(workflow))
    assert "make test" in runs
    env = {k: v for s in _steps(workflow) for k, v in (s.get("env") or {}).items()}
    assert env.get("POLARITY_REQUIRE_QUARTO") == "1"


def test_readme_publishing_steps_are_the_workflows(tmp_path):
    readme = (paths.ROOT / "README.md").read_text()
    section = readme[readme.index("## Publish and cite") :]
    text = " ".join(section.split())
    # `quarto publish` is named only to say not to use it: it refuses a fresh clone.
    assert text.count("quarto publish") == text.count("Do not use `quarto publish")
    assert ".github/workflows/publish.yml" in section and "quarto render" in section


@pytest.mark.slow
def test_no_quarto_means_skip_locally_but_fail_where_it_is_required(monkeypatch):
    from tests.conftest import quarto_or_skip

    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("POLARITY_REQUIRE_QUARTO", raising=False)
    with pytest.raises(pytest.skip.Exception):
        quarto_or_skip()
    monkeypatch.setenv("POLARITY_REQUIRE_QUARTO", "1")
    with pytest.raises(pytest.fail.Exception, match="POLARITY_REQUIRE_QUARTO"):
        quarto_or_skip()


def test_ci_builds_quarto_and_requires_it():
    script = (paths.ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert lines.index("make quarto") < lines.index("make test")
    assert 'export PATH="$PWD/build/quarto/bin:$PATH"' in lines
    assert "export POLARITY_REQUIRE_QUARTO=1" in lines
    makefile = (paths.ROOT / "Makefile").read_text()
    assert "bash $(QUARTO_SOURCE)/build.sh $(QUARTO_DIR)" in makefile
    assert "QUARTO_SOURCE  ?= ../shared/tools/quarto" in makefile


def test_the_fallback_reads_each_formats_own_options_as_quarto_does(tmp_path):
    from polarity.render import RenderError, _quarto_options

    (tmp_path / "header.typ").write_text("#set text(size: 11pt)\n")
    config = _config()
    config["format"]["typst"]["include-in-header"] = [
        {"text": "#show table.cell: set par(justify: false)\n"},
        "header.typ",
    ]
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump(config))
    for lua in config.get("filters", []):
        (tmp_path / lua).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / lua, tmp_path / lua)
    options = _quarto_options(tmp_path)
    assert options["toc"] == {"html": True, "typst": False}  # the PDF opens with its text
    assert options["typst_header"] == [
        "#show table.cell: set par(justify: false)\n",
        "#set text(size: 11pt)\n",
    ]
    config["format"]["typst"]["include-in-header"] = ["missing.typ"]
    (tmp_path / "_quarto.yml").write_text(yaml.safe_dump(config))
    with pytest.raises(RenderError, match="missing.typ"):
        _quarto_options(tmp_path)
