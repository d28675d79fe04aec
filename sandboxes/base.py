"""The one sandbox interface every backend implements and every caller (check, run, bench) uses.

A request is one function call of one solution on one case's inputs; a result says what
came back or which failure class ended it. Judging the value is the caller's business
(agent.checks), so a backend only has to execute faithfully. What the backends share (laying
out a case's inputs, classifying what came back, the host scratch folders) is here too.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
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

# What every backend shares (Docker cold and warm, bwrap): the harness they run, the host
# scratch folders they lay inputs out in, output capture and start-up allowances.
HARNESS = Path(__file__).resolve().parent / "harness.py"
SCRATCH_PREFIX = "gpiot-sbx-"  # + owner pid: host scratch dirs a SIGKILLed gpiot leaves
KEEP_BYTES = 32 * 1024  # head and tail of program output kept for feedback
STARTUP_GRACE_S = 10.0  # interpreter + numpy import before the harness's own alarm counts
THREAD_ENV = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
# The environment of every sandboxed process. matplotlib (NeuroKit2 imports it in the
# scientific image) wants a writable config dir and a display: /tmp and no GUI backend.
SANDBOX_ENV = {"HOME": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
               **THREAD_ENV}


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


def write_inputs(workdir: Path, request: ExecutionRequest) -> None:
    """Lay out what the harness reads: solution, harness, case.json and arrays.npz."""
    import numpy as np

    inputs = workdir / "input"
    inputs.mkdir()
    arrays: dict[str, np.ndarray] = {}
    args: dict[str, Any] = {}
    for i, (name, value) in enumerate(request.args.items()):
        if isinstance(value, np.ndarray):
            key = f"a{i}"
            arrays[key] = value
            args[name] = {"array": key}
        else:
            args[name] = {"value": value}
    np.savez(inputs / "arrays.npz", **arrays)
    case = {"function": request.function, "args": args, "timeout_s": request.limits.timeout_s,
            "max_result_bytes": request.limits.result_mb * 2**20}
    (inputs / "case.json").write_text(json.dumps(case))
    shutil.copyfile(request.solution, workdir / "solution.py")
    shutil.copyfile(HARNESS, workdir / "harness.py")
    for p in [workdir, inputs]:
        p.chmod(0o755)
    for p in [*inputs.iterdir(), workdir / "solution.py", workdir / "harness.py"]:
        p.chmod(0o644)


def classify(raw: bytes, output: Output, state: dict, timed_out: bool, overflow: bool,
              limits: Limits) -> ExecutionResult:
    """Turn what the container left into one failure class (or ok)."""
    from sandboxes.harness import from_json_safe

    exit_code = state.get("ExitCode")
    parsed: dict | None = None
    if raw and not overflow:
        try:
            parsed = json.loads(raw.decode("utf-8").splitlines()[-1])
        except (ValueError, IndexError, UnicodeDecodeError):
            parsed = None
    if overflow:
        too_much = ("program output" if output.total > limits.output_kb * 1024
                    else "result stream")
        return ExecutionResult(
            OUTPUT_TOO_LARGE, output=output, exit_code=exit_code,
            error=f"{too_much} passed the {limits.output_kb:,} KiB limit "
                  f"({output.total:,} bytes printed); the run was stopped")
    if state.get("OOMKilled"):
        return ExecutionResult(MEMORY, output=output, exit_code=exit_code,
                               error=f"killed for exceeding the {limits.memory_mb} MB memory "
                                     "limit (confirmed: the container's OOMKilled flag)")
    if parsed is None and timed_out:
        return ExecutionResult(TIMEOUT, output=output, exit_code=exit_code,
                               error=f"killed after {limits.timeout_s:g} s (+ start-up) "
                                     "without finishing")
    if parsed is None:
        return ExecutionResult(CRASH, output=output, exit_code=exit_code,
                               error=f"the process ended with exit code {exit_code} and no "
                                     "result (killed, or exited the interpreter)")
    status = parsed.get("status", CRASH)
    if status not in EXECUTION_CLASSES:
        status = CRASH
    return ExecutionResult(
        status,
        value=from_json_safe(parsed.get("value")) if status == OK else None,
        error=parsed.get("error", ""),
        traceback=parsed.get("traceback", ""),
        duration_s=parsed.get("duration_s"),
        output=output,
        exit_code=exit_code,
    )


def stale_scratch() -> list[Path]:
    """Host scratch directories (inputs of an execution, a warm server's mount) whose owning
    gpiot process is gone."""
    found = []
    for p in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = p.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if p.is_dir() and pid.isdigit() and not pid_alive(int(pid)):
            found.append(p)
    return found


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_run_id() -> str:
    """Short unique id for a run's containers."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
