"""The one sandbox interface every backend implements and every caller (check, run, bench) uses.

A request is one function call of one solution on one case's inputs; a result says what
came back or which failure class ended it. Judging the value is the caller's business
(agent.checks), so a backend only has to execute faithfully.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# Failure classes a backend can report (plus "ok"); the checker adds "wrong_type" and
# "wrong_value" when it judges a returned value.
OK = "ok"
SYNTAX = "syntax"
IMPORT = "import"
MISSING_FUNCTION = "missing_function"
EXCEPTION = "exception"
TIMEOUT = "timeout"
MEMORY = "memory"
OUTPUT_TOO_LARGE = "output_too_large"
UNCONVERTIBLE = "unconvertible"
CRASH = "crash"
EXECUTION_CLASSES = (OK, SYNTAX, IMPORT, MISSING_FUNCTION, EXCEPTION, TIMEOUT, MEMORY,
                     OUTPUT_TOO_LARGE, UNCONVERTIBLE, CRASH)


@dataclass(frozen=True)
class Limits:
    """Per-execution limits; timeout and memory come from the spec's `limits`."""

    timeout_s: float = 30.0
    memory_mb: int = 1024
    output_kb: int = 8192  # program output beyond this ends the run as output_too_large
    result_mb: int = 64  # the returned value as JSON
    cpus: float = 1.0
    pids: int = 64
    tmpfs_mb: int = 64


@dataclass
class ExecutionRequest:
    """Call `function(**args)` defined in `solution` (a file on the host)."""

    solution: Path
    function: str
    args: dict[str, Any]  # numpy arrays or plain values
    limits: Limits = field(default_factory=Limits)
    run_id: str = "adhoc"
    case: str = ""


@dataclass
class Output:
    """Captured program output: head and tail kept, total byte count always exact."""

    head: bytes = b""
    tail: bytes = b""
    total: int = 0

    def text(self) -> str:
        if self.total <= len(self.head):
            return self.head.decode("utf-8", "replace")
        skipped = self.total - len(self.head) - len(self.tail)
        return (self.head.decode("utf-8", "replace")
                + f"\n[... {skipped:,} bytes skipped of {self.total:,} ...]\n"
                + self.tail.decode("utf-8", "replace"))


@dataclass
class ExecutionResult:
    """What one execution produced."""

    status: str  # one of EXECUTION_CLASSES
    value: Any = None  # plain JSON-able value when status == "ok"
    error: str = ""  # one line
    traceback: str = ""
    duration_s: float | None = None  # the function call itself, measured inside
    wall_s: float = 0.0  # container start to removal
    output: Output = field(default_factory=Output)
    exit_code: int | None = None


class Sandbox(Protocol):
    """Executes untrusted solutions in isolation; never on the host."""

    name: str

    def execute(self, request: ExecutionRequest) -> ExecutionResult: ...

    def describe(self) -> dict[str, Any]:
        """Facts for reports: backend, image id, limits..."""
        ...

    def close(self) -> None: ...


def capture(output: Output, chunk: bytes, keep: int) -> None:
    """Append a chunk, keeping only the first and last `keep` bytes."""
    output.total += len(chunk)
    room = keep - len(output.head)
    if room > 0:
        output.head += chunk[:room]
        chunk = chunk[room:]
    if chunk:
        output.tail = (output.tail + chunk)[-keep:]
