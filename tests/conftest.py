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


@pytest.fixture(scope="session")
def sandbox():
    """The real cold Docker sandbox. An engine that exists but fails is an error, not a skip."""
    if not _engine_exists():
        pytest.skip("no Docker engine on this machine")
    from sandboxes import open_sandbox

    sb = open_sandbox("docker-cold")
    yield sb
    sb.close()


@pytest.fixture
def gpiot_containers(sandbox):
    """A function listing this process's gpiot containers (running or not); other gpiot
    processes on the machine may legitimately have their own."""
    mine = ["gpiot", f"gpiot.pid={os.getpid()}"]
    return lambda: sandbox.client.containers.list(all=True, filters={"label": mine})
