"""Sandboxes that execute generated code, never on the host.

`open_sandbox(name, environment)` is the one way callers get one (the environment is a
profile of sandboxes/profiles.py: which image); it also removes containers left by a gpiot
process that died (found by label, only ours).
"""

from __future__ import annotations

import shutil

from sandboxes.base import ExecutionRequest, ExecutionResult, Limits, Sandbox, stale_scratch

BACKENDS = ("docker-warm", "docker-cold", "bwrap")
DEFAULT_BACKEND = "docker-warm"

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "ExecutionRequest", "ExecutionResult", "Limits",
           "Sandbox", "SandboxPool", "open_sandbox"]


def open_sandbox(name: str = DEFAULT_BACKEND, environment: str | None = None) -> Sandbox:
    """A ready sandbox of the named backend running the image of profile `environment`
    (default minimal); InfraError (exit 3) says what to fix."""
    from sandboxes import docker_sandbox, profiles

    if name not in BACKENDS:
        raise ValueError(f"unknown sandbox {name!r}; choose from {', '.join(BACKENDS)}")
    profile = profiles.get(environment).name
    for scratch in stale_scratch():
        shutil.rmtree(scratch, ignore_errors=True)
    if name == "bwrap":  # only ever when asked for by name: it isolates less than Docker
        import sys

        from sandboxes.bwrap import WARNING, BwrapSandbox

        print(f"warning: {WARNING}", file=sys.stderr)
        return BwrapSandbox(profile=profile)
    client = docker_sandbox.connect()
    docker_sandbox.sweep(client)
    if name == "docker-warm":
        from sandboxes.warm import WarmDockerSandbox

        return WarmDockerSandbox(client, profile=profile)
    return docker_sandbox.DockerSandbox(client, profile=profile)


class SandboxPool:
    """One sandbox per environment, opened on first use and closed together: `check` and
    `bench` meet specs written for different profiles in one invocation."""

    def __init__(self, backend: str = DEFAULT_BACKEND) -> None:
        self.backend = backend
        self._open: dict[str, Sandbox] = {}

    def get(self, environment: str | None = None) -> Sandbox:
        """The pool's sandbox for `environment` (default minimal)."""
        from sandboxes import profiles

        name = profiles.get(environment).name
        if name not in self._open:
            self._open[name] = open_sandbox(self.backend, name)
        return self._open[name]

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()
