"""Shared fixtures: the real Docker sandbox (tests skip only where no Docker engine exists)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _engine_exists() -> bool:
    return bool(shutil.which("dockerd") or os.path.exists("/var/run/docker.sock")
                or os.environ.get("DOCKER_HOST"))


_OPEN: list = []  # every sandbox the session opened (their live warm containers are fine)


def _open(name: str, environment: str | None = None):  # noqa: ANN202
    if not _engine_exists():
        pytest.skip("no Docker engine on this machine")
    from sandboxes import open_sandbox

    sb = open_sandbox(name, environment)
    _OPEN.append(sb)
    return sb


@pytest.fixture(scope="session")
def warm_sandbox():
    """The real default sandbox (the warm Docker fork-server). An engine that exists but fails
    is an error, not a skip."""
    sb = _open("docker-warm")
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def sandbox(warm_sandbox):
    """The real default sandbox; a module may override `sandbox` and still reach this one as
    `warm_sandbox`."""
    return warm_sandbox


@pytest.fixture(scope="session")
def cold_sandbox():
    """The real cold Docker sandbox: one container per execution."""
    sb = _open("docker-cold")
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def bwrap_sandbox():
    """The bubblewrap backend, where bubblewrap and its root filesystem are installed."""
    from sandboxes.bwrap import rootfs_dir

    if not shutil.which("bwrap") or not (rootfs_dir() / "usr/bin/python3").exists():
        pytest.skip("bubblewrap or its root filesystem (`sandbox build --bwrap`) is missing")
    from sandboxes.bwrap import BwrapSandbox

    return BwrapSandbox()


@pytest.fixture(params=["docker-cold", "docker-warm", "bwrap"])
def any_sandbox(request):
    """Each backend in turn, for tests every backend must pass."""
    return request.getfixturevalue({"docker-cold": "cold_sandbox", "docker-warm": "sandbox",
                                    "bwrap": "bwrap_sandbox"}[request.param])


@pytest.fixture(scope="session")
def scientific_sandboxes():
    """The scientific image's sandbox of a backend, opened on first use (setup.sh builds the
    image; a machine that has Docker but not the image is an error, not a skip)."""
    opened: dict = {}

    def get(backend: str = "docker-warm"):  # noqa: ANN202
        if backend not in opened:
            if backend == "bwrap":
                from sandboxes.bwrap import BwrapSandbox, rootfs_dir

                if not shutil.which("bwrap") or not (
                        rootfs_dir("scientific") / "usr/bin/python3").exists():
                    pytest.skip("bubblewrap or the scientific root filesystem is missing")
                opened[backend] = BwrapSandbox(profile="scientific")
            else:
                opened[backend] = _open(backend, "scientific")
        return opened[backend]

    yield get
    for sb in opened.values():
        sb.close()


@pytest.fixture(scope="session")
def scientific_sandbox(scientific_sandboxes):
    """The scientific image's warm sandbox."""
    return scientific_sandboxes("docker-warm")


@pytest.fixture(params=[(b, e) for e in ("minimal", "scientific")
                        for b in ("docker-cold", "docker-warm", "bwrap")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def every_sandbox(request, scientific_sandboxes):
    """Each backend on each image, for what every sandbox must hold to (the battery)."""
    backend, environment = request.param
    if environment == "scientific":
        return scientific_sandboxes(backend)
    return request.getfixturevalue({"docker-cold": "cold_sandbox", "docker-warm": "sandbox",
                                    "bwrap": "bwrap_sandbox"}[backend])


@pytest.fixture
def gpiot_containers(sandbox):
    """A function listing this process's gpiot containers (running or not), except the live
    fork-server containers of the session's own warm sandboxes; other gpiot processes on the
    machine may legitimately have their own."""
    mine = ["gpiot", f"gpiot.pid={os.getpid()}"]

    def listing() -> list:
        live = {getattr(sb, "container", None) and sb.container.id for sb in _OPEN}
        return [c for c in sandbox.client.containers.list(all=True, filters={"label": mine})
                if c.id not in live]

    return listing


@pytest.fixture(autouse=True)
def _own_experience_store(tmp_path_factory, monkeypatch):
    """Every test learns into a store of its own: no test reads what another solved, and
    none writes the user's ~/.local/share/gpiot/experience.sqlite."""
    store = tmp_path_factory.mktemp("experience") / "experience.sqlite"
    monkeypatch.setenv("GPIOT_EXPERIENCE", str(store))
    return store
