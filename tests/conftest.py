"""Shared fixtures: the real MNIST files from ../shared/data, and one smoke-profile project
trained, built and rendered once per session."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from polarity import data, paths

# The same variable users set: a folder holding mnist/ (and fashion-mnist/).
DATA_ROOT = Path(os.environ.get("POLARITY_DATA_DIR") or paths.SHARED_DATA)
MNIST_DIR = DATA_ROOT / "mnist"


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


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory) -> SimpleNamespace:
    """The smoke profile, trained, built and rendered in a throwaway project folder, so that
    tests never overwrite the user's report."""
    import experiments
    from polarity.article import build
    from polarity.render import render
    from polarity.runner import run_experiment

    root = tmp_path_factory.mktemp("project")
    results = root / "results"
    for name in experiments.NAMES:
        run_experiment(name, "smoke", data_dir=DATA_ROOT, results_dir=results)
    copy_quarto_project(root)
    built = build(results, root / "report")
    rendered = render(root, results)
    return SimpleNamespace(root=root, results=results, built=built, rendered=rendered)
