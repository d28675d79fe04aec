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


def _open(name: str):  # noqa: ANN202
    if not _engine_exists():
        pytest.skip("no Docker engine on this machine")
    from sandboxes import open_sandbox

    sb = open_sandbox(name)
    _OPEN.append(sb)
    return sb


@pytest.fixture(scope="session")
def sandbox():
    """The real default sandbox (the warm Docker fork-server). An engine that exists but fails
    is an error, not a skip."""
    sb = _open("docker-warm")
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def cold_sandbox():
    """The real cold Docker sandbox: one container per execution."""
    sb = _open("docker-cold")
    yield sb
    sb.close()


@pytest.fixture(params=["docker-cold", "docker-warm"])
def any_sandbox(request):
    """Each Docker backend in turn, for tests every backend must pass."""
    return request.getfixturevalue("cold_sandbox" if request.param == "docker-cold"
                                   else "sandbox")


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
