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
            update = checkpointable(fn(state, runtime) or {})
            update["node_seconds"] = {name: time.monotonic() - start}
            return update

        return inner

    return wrap


def checkpointable(value: Any) -> Any:
    """`value` with integers beyond 64 bits turned into floats (or text when even a float
    overflows): LangGraph's checkpoint (msgpack) cannot hold them, and a generated program
    may return them (a run-length encoder that doubles a count in a loop), and one such value
    would end the whole run with "Integer exceeds 64-bit range")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if -2**63 <= value < 2**64:
            return value
        try:
            return float(value)
        except OverflowError:
            return f"<int of {value.bit_length()} bits>"
    if isinstance(value, dict):
        return {k: checkpointable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [checkpointable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(checkpointable(v) for v in value)
    return value
