"""One small module per graph node. Each node takes (state, runtime) and returns a partial
state update; `timed` adds the node's wall time to the state for the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from langgraph.runtime import Runtime

from agent.context import RunContext
from agent.state import State

Node = Callable[[State, Runtime[RunContext]], dict[str, Any]]


def timed(name: str) -> Callable[[Node], Node]:
    """Record the node's wall time under its name."""

    def wrap(fn: Node) -> Node:
        @wraps(fn)
        def inner(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
            start = time.monotonic()
            update = fn(state, runtime) or {}
            update["node_seconds"] = {name: time.monotonic() - start}
            return update

        return inner

    return wrap
