"""Shared fixtures: the real MNIST files from ../shared/data, the smoke profile trained once
per session, and its project rendered once per session by each renderer."""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from polarity import data, paths

# The same variable users set: a folder holding mnist/ (and fashion-mnist/).
DATA_ROOT = Path(os.environ.get("POLARITY_DATA_DIR") or paths.SHARED_DATA)
MNIST_DIR = DATA_ROOT / "mnist"

# One figure cache for every project the suite builds, this checkout, its throwaway copies and
# clones, and the builds their Quarto runs: each would otherwise draw the same figures cold.
# Kept between sessions like the smoke runs; a test of the cache itself sets its own.
os.environ.setdefault("POLARITY_FIGURE_CACHE", str(paths.BUILD / "test-cache" / "figures"))


class NetworkBlocked(RuntimeError):
    pass


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Nothing may need the network at test time: any connection beyond loopback fails."""
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(method):
        def guarded(self, address):
            if not _is_local(address):
                raise NetworkBlocked(f"test tried to reach {address!r}; tests must stay offline")
            return method(self, address)

        return guarded

    socket.socket.connect = guard(original_connect)
    socket.socket.connect_ex = guard(original_connect_ex)
    yield
    socket.socket.connect, socket.socket.connect_ex = original_connect, original_connect_ex


def require_system(what: str, present: bool) -> None:
    """Something the system provides: a skip on a developer's machine, a failure in CI."""
    if present:
        return
    message = f"{what} is not installed (`make system-deps` installs it)"
    if os.environ.get("POLARITY_REQUIRE_SYSTEM_TOOLS"):
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """Path of a system program (skip or fail as `require_system`)."""
    require_system(name, shutil.which(name) is not None)
    return shutil.which(name)


@pytest.fixture(scope="session")
def mnist() -> data.Dataset:
    if not MNIST_DIR.is_dir():
        pytest.fail(f"MNIST test data missing at {MNIST_DIR}; set POLARITY_DATA_DIR")
    return data.load_from_dir("mnist", MNIST_DIR)


def copy_quarto_project(root: Path) -> None:
    """The Quarto project into `root`: its configuration and the files it names (scripts,
    filters), and an empty report/ folder."""
    config = yaml.safe_load((paths.ROOT / "_quarto.yml").read_text())
    named = [config["project"].get(step) for step in ("pre-render", "post-render")]
    for relative in ["_quarto.yml", *filter(None, named), *config.get("filters", [])]:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / relative, root / relative)
    (root / "report").mkdir(exist_ok=True)


RENDERERS = ("quarto", "fallback")


def quarto_or_skip() -> str:
    """Quarto on PATH: a skip without it, a failure where POLARITY_REQUIRE_QUARTO is set (CI)."""
    found = shutil.which("quarto")
    if found:
        return found
    message = "quarto is not on PATH (`make quarto` builds it into build/quarto/bin)"
    if os.environ.get("POLARITY_REQUIRE_QUARTO"):
        pytest.fail(f"{message}, and POLARITY_REQUIRE_QUARTO is set")
    pytest.skip(message)


# The smoke runs kept between sessions (an ignored folder, like build/quarto).
SMOKE_CACHE = paths.BUILD / "test-cache" / "smoke"


def fill_smoke_cache(copy_to: Path | None = None) -> None:
    """Train whatever of the smoke profile is stale into SMOKE_CACHE (nothing, when all of it
    is current), then copy the runs into `copy_to`; under the cache's lock, so one session
    or process at a time fills it and nobody copies a half-filled cache."""
    import experiments
    from polarity.runner import run_experiments

    SMOKE_CACHE.mkdir(parents=True, exist_ok=True)
    with open(SMOKE_CACHE.parent / "smoke.fill.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # One call: what is stale trains in this process when it has the smoke profile's
        # thread settings (the background fill below), else in one process started with them.
        for _ in run_experiments(
            list(experiments.NAMES), "smoke", data_dir=DATA_ROOT, results_dir=SMOKE_CACHE
        ):
            pass
        if copy_to is not None:
            copy_to.mkdir(parents=True)
            for name in experiments.NAMES:
                shutil.copy2(SMOKE_CACHE / f"{name}.json", copy_to / f"{name}.json")


# The smoke runs take a minute or two when the cache is cold (CI, a fresh clone). Trained by
# the first test that needs them, they would keep its worker busy while the other worker
# reached a test that needs them too and waited, idle. So as soon as the tests are collected,
# one process (the first worker, or pytest itself without xdist) starts filling the cache in
# the background; the fixture below then takes the lock after it and finds the runs current.
_background_fill: subprocess.Popen | None = None


def _start_background_fill(config, items) -> None:
    global _background_fill
    first = getattr(config, "workerinput", {}).get("workerid", "gw0") == "gw0"
    needed = any("smoke_results" in item.fixturenames for item in items)
    if not first or not needed or config.option.collectonly:
        return
    from polarity.processes import training_threads

    _background_fill = subprocess.Popen(
        [sys.executable, "-c", "from tests.conftest import fill_smoke_cache as f; f()"],
        cwd=paths.ROOT,
        env={**os.environ, **training_threads("smoke")},  # so that it trains in-process
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_background_fill() -> None:
    """An interrupted session stops the fill too; the runner's writes are whole or absent."""
    if _background_fill is not None and _background_fill.poll() is None:
        _background_fill.terminate()
        _background_fill.wait()


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory) -> Path:
    """The smoke profile's results, shared by every test that needs results. The runs are kept
    in build/test-cache/smoke and reused by the runner's own cache check, so a later session
    trains again only what a change of code, data or settings made stale. One session at a
    time fills the cache (a second waits on its lock, not fails); each session then works on a
    copy of its own, so that no test can spoil the cache."""
    results = tmp_path_factory.mktemp("smoke") / "results"
    fill_smoke_cache(copy_to=results)  # after the background fill, if one runs
    return results


_rendered: dict[str, SimpleNamespace] = {}


def _render_smoke(renderer: str, results: Path, tmp_path_factory) -> SimpleNamespace:
    """The smoke results built and rendered by one renderer in a throwaway project folder of
    its own, once per session, so that tests never overwrite the user's report. Quarto builds
    the sources itself (its pre-render step), as it does for a user; the fallback renders what
    `build` wrote."""
    if renderer not in _rendered:
        from polarity.article import Built, build
        from polarity.render import render

        root = tmp_path_factory.mktemp(f"project-{renderer}")
        copy_quarto_project(root)
        report = root / "report"
        if renderer == "quarto":
            quarto_or_skip()
            rendered = render(root, results, "quarto")
            built = Built(
                article=report / "index.qmd",
                figures=json.loads((report / "figures" / "figures.json").read_text())["figures"],
                claims=json.loads((report / "claims.json").read_text()),
            )
        else:
            built = build(results, report)
            rendered = render(root, results, "fallback")
        _rendered[renderer] = SimpleNamespace(
            root=root, results=results, built=built, rendered=rendered, renderer=renderer
        )
    return _rendered[renderer]


@pytest.fixture(scope="session", params=RENDERERS)
def smoke_project(request, smoke_results, tmp_path_factory) -> SimpleNamespace:
    """The smoke project rendered by each renderer in turn: a test that checks a rendered page
    or PDF takes this fixture and runs once per renderer (Quarto, and the pandoc+Typst
    fallback). Without Quarto its runs are skipped, or fail under POLARITY_REQUIRE_QUARTO."""
    return _render_smoke(request.param, smoke_results, tmp_path_factory)


@pytest.fixture(scope="session")
def fallback_project(smoke_results, tmp_path_factory) -> SimpleNamespace:
    """The fallback's smoke project alone (the same one as smoke_project's), for tests of the
    build or of rendering again, which need a built project but not each renderer's output."""
    return _render_smoke("fallback", smoke_results, tmp_path_factory)


# Costly fixtures whose tests must share a worker, so that each is set up once, not once per
# worker too: fixture -> group. A fixture of one test module is named "module.py::fixture".
# A parametrised fixture's tests are grouped per parameter.
SHARED_FIXTURES = {
    # the smoke project rendered by both renderers (a minute)
    "smoke_project": "rendered",
    "fallback_project": "rendered",
    "test_parity.py::both": "rendered",
    # a fresh clone rendered by Quarto (50 s); the record rendered by the fallback (15 s)
    "test_quarto_paths.py::rendered_clone": "rendered clone",
    "test_reader.py::record": "record rendered for the reader",
    "test_attacks.py::project": "record rendered for attacks",
    # the record built once, each test building on a copy (its figures drawn cold: 15 s)
    "test_attacks.py::built": "record built for attacks",
    # every figure of the record, drawn to inspect its artists (5 s)
    "test_figure_style.py::drawn": "figures of record drawn",
    # convnet ensembles trained beside convnets trained alone (15 to 25 s per variant)
    "test_convnet_ensemble.py::both_ways": "convnet ensemble",
}


def worker_group(item) -> str | None:
    """The group of tests `item` must share a worker with (SHARED_FIXTURES); None: it can
    run anywhere."""
    for name in item.fixturenames:
        group = SHARED_FIXTURES.get(f"{item.path.name}::{name}") or SHARED_FIXTURES.get(name)
        if group:
            params = getattr(item, "callspec", None)
            if params and name in params.params and group != "rendered":
                return f"{group}[{params.params[name]}]"
            return group
    return None


# Under pytest-xdist (`make test`), the tests of one group run on one worker, so that the
# project is rendered once per renderer, not once per worker too. xdist's own `xdist_group`
# cannot do it under pytest 9 (it renames node ids through an attribute pytest no longer
# reads), so the workers list each test's group in a file the controller names, and the
# scheduler below, xdist's loadgroup with that list, sends a group's tests to one worker.
_groups_file: Path | None = None  # the controller's file


def _groups() -> dict[str, str]:
    if not _groups_file:
        return {}
    return dict(line.split("\t", 1)[::-1] for line in _groups_file.read_text().splitlines())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    global _groups_file
    if _groups_file is None:
        _groups_file = Path(tempfile.mkdtemp(prefix="polarity-xdist-")) / "worker-groups"
    node.workerinput["worker_groups_file"] = str(_groups_file)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class GroupedTogether(LoadGroupScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # read once, after every worker has collected
                self.groups = _groups()
            return self.groups.get(nodeid, nodeid)

    return GroupedTogether(config, log)


def pytest_unconfigure(config):
    _stop_background_fill()
    if _groups_file is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(_groups_file.parent, ignore_errors=True)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected what will not run
def pytest_collection_modifyitems(config, items):
    _start_background_fill(config, items)
    listed = getattr(config, "workerinput", {}).get("worker_groups_file")
    if listed:
        grouped = [(worker_group(item), item.nodeid) for item in items]
        staging = Path(f"{listed}.{os.getpid()}")
        # group TAB node id: a group name may hold anything but a tab or a newline
        staging.write_text("\n".join(f"{group}\t{node}" for group, node in grouped if group))
        staging.replace(listed)  # every worker writes the same list; each write whole
