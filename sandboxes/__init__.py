"""Sandboxes that execute generated code, never on the host.

`open_sandbox(name)` is the one way callers get one; it also removes containers left by a
gpiot process that died (found by label, only ours).
"""

from __future__ import annotations

import shutil

from sandboxes.base import ExecutionRequest, ExecutionResult, Limits, Sandbox, stale_scratch

BACKENDS = ("docker-warm", "docker-cold", "bwrap")
DEFAULT_BACKEND = "docker-warm"

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "ExecutionRequest", "ExecutionResult", "Limits",
           "Sandbox", "open_sandbox"]


def open_sandbox(name: str = DEFAULT_BACKEND) -> Sandbox:
    """A ready sandbox of the named backend; InfraError (exit 3) says what to fix."""
    from sandboxes import docker_sandbox

    if name not in BACKENDS:
        raise ValueError(f"unknown sandbox {name!r}; choose from {', '.join(BACKENDS)}")
    for scratch in stale_scratch():
        shutil.rmtree(scratch, ignore_errors=True)
    if name == "bwrap":  # only ever when asked for by name: it isolates less than Docker
        import sys

        from sandboxes.bwrap import WARNING, BwrapSandbox

        print(f"warning: {WARNING}", file=sys.stderr)
        return BwrapSandbox()
    client = docker_sandbox.connect()
    docker_sandbox.sweep(client)
    if name == "docker-warm":
        from sandboxes.warm import WarmDockerSandbox

        return WarmDockerSandbox(client)
    return docker_sandbox.DockerSandbox(client)
