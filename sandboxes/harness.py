"""Runs inside the sandbox container: load one case's inputs, call the solution, report.

Stdlib + numpy only: it runs on the image's Python, and the host imports `to_plain` from
here so that expected values and returned values go through the very same conversion.

Channel: the original stdout (fd 1) carries exactly one JSON result line; everything the
solution prints (its stdout and its stderr) is sent to fd 2, which the host caps (head and
tail) as the program's output.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
import traceback
from typing import Any

SOLUTION = "/gpiot/solution.py"
INPUT_DIR = "/gpiot/input"


class Unconvertible(TypeError):
    """A return value with no plain-JSON form (object, complex number, set...)."""


def to_plain(value: Any, _path: str = "result") -> Any:
    """Convert a return value to plain JSON-able Python: arrays to lists, numpy scalars to
    numbers, tuples to lists; anything else raises Unconvertible naming where it was."""
    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufUS":
            return value.tolist()
        if value.dtype.kind == "O":
            return [to_plain(v, f"{_path}[{i}]") for i, v in enumerate(value.tolist())]
        raise Unconvertible(f"{_path}: array of dtype {value.dtype} has no JSON form")
    if isinstance(value, np.generic):
        if value.dtype.kind in "biufUS":
            return value.item()
        raise Unconvertible(f"{_path}: numpy {value.dtype} scalar has no JSON form")
    if isinstance(value, (list, tuple)):
        return [to_plain(v, f"{_path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = to_plain(k, f"{_path} key")
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise Unconvertible(f"{_path}: dict key {k!r} is not a string or number")
            out[str(key)] = to_plain(v, f"{_path}[{k!r}]")
        return out
    raise Unconvertible(f"{_path}: {type(value).__module__}.{type(value).__qualname__} "
                        "has no JSON form (return numbers, strings, lists, dicts or arrays)")


def _json_safe(value: Any) -> Any:
    """NaN/inf are valid floats to return but not valid JSON: tag them."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def from_json_safe(value: Any) -> Any:
    """Inverse of the NaN/inf tagging, used by the host."""
    if isinstance(value, dict):
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: from_json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json_safe(v) for v in value]
    return value


class TimeLimitExceeded(BaseException):
    """Raised by the alarm; a BaseException so `except Exception` in a solution can't eat it."""


def _solution_traceback(exc: BaseException) -> str:
    """The traceback lines that point into the solution (the harness's own are noise)."""
    from collections import deque

    # the innermost frames only: a recursion a million deep must not take minutes to format
    innermost = deque(traceback.walk_tb(exc.__traceback__), maxlen=30)
    frames = [f for f in traceback.StackSummary.extract(innermost)
              if os.path.basename(f.filename) == "solution.py"]
    lines = [f'  File "solution.py", line {f.lineno}, in {f.name}\n    {f.line}\n'
             for f in frames]
    last = traceback.format_exception_only(type(exc), exc)
    return "".join(lines + last).rstrip()


def _hit_address_space_limit() -> bool:
    """Evidence, not a guess: the peak mapping reached the address-space rlimit (warm path)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return False
    try:
        with open("/proc/self/status") as f:
            peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmPeak:"))
    except (OSError, StopIteration):
        return False
    return peak >= 0.97 * soft


def _run(case: dict, result: dict, solution: str, input_dir: str) -> None:
    import importlib.util

    import numpy as np

    try:
        source = open(solution, encoding="utf-8").read()
        compile(source, "solution.py", "exec")
    except SyntaxError as exc:
        result.update(status="syntax", error=f"line {exc.lineno}: {exc.msg}",
                      traceback="".join(traceback.format_exception_only(type(exc), exc)))
        return
    arrays = np.load(os.path.join(input_dir, "arrays.npz"), allow_pickle=False)
    kwargs = {}
    for name, ref in case["args"].items():
        kwargs[name] = arrays[ref["array"]] if "array" in ref else ref["value"]

    start = time.monotonic()
    phase = "import"
    try:
        spec = importlib.util.spec_from_file_location("solution", solution)
        module = importlib.util.module_from_spec(spec)
        sys.modules["solution"] = module
        spec.loader.exec_module(module)
        func = getattr(module, case["function"], None)
        if not callable(func):
            result.update(status="missing_function",
                          error=f"solution.py defines no function {case['function']}()")
            return
        phase = "call"
        value = func(**kwargs)
        phase = "convert"
        plain = to_plain(value)
        result.pop("error", None)
        result.update(status="ok", value=_json_safe(plain), type=type(value).__name__)
    except TimeLimitExceeded:
        result.update(status="timeout", error=f"still running after {case['timeout_s']} s",
                      traceback=_solution_traceback(sys.exc_info()[1]))
    except MemoryError as exc:
        result.update(status="memory", error="MemoryError", traceback=_solution_traceback(exc))
    except Unconvertible as exc:
        result.update(status="unconvertible", error=str(exc))
    except (ImportError, AttributeError) as exc:
        status = "import" if phase == "import" or isinstance(exc, ImportError) else "exception"
        result.update(status=status, error=f"{type(exc).__name__}: {exc}",
                      traceback=_solution_traceback(exc))
    except BaseException as exc:  # noqa: BLE001 - the solution's failure is the result
        if _hit_address_space_limit():  # e.g. a SystemError raised while out of memory
            result.update(status="memory", error=f"address-space limit reached "
                          f"({type(exc).__name__}: {exc})"[:500],
                          traceback=_solution_traceback(exc)[-8000:])
            return
        result.update(status="exception", error=f"{type(exc).__name__}: {exc}"[:2000],
                      traceback=_solution_traceback(exc)[-8000:])
    finally:
        result["duration_s"] = round(time.monotonic() - start, 6)


def run_case(case: dict, result_fd: int, solution: str = SOLUTION,
             input_dir: str = INPUT_DIR) -> None:
    """Call the solution on one case under an alarm and write one JSON result line to
    result_fd. Shared by the cold path (one process per container) and the fork-server's
    children, so both report exactly the same classes."""

    def _alarm(signum, frame):  # noqa: ANN001, ARG001
        raise TimeLimitExceeded()

    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(case["timeout_s"]))
    result: dict = {"status": "crash", "error": "harness ended without a result"}
    try:
        _run(case, result, solution, input_dir)
    except TimeLimitExceeded:
        result.update(status="timeout", error=f"still running after {case['timeout_s']} s")
    signal.setitimer(signal.ITIMER_REAL, 0)
    line = json.dumps(result, allow_nan=False)
    if len(line) > case["max_result_bytes"]:
        line = json.dumps({
            "status": "output_too_large", "duration_s": result.get("duration_s"),
            "error": f"return value is {len(line):,} bytes as JSON; the limit is "
                     f"{case['max_result_bytes']:,}",
        })
    data = (line + "\n").encode()
    while data:
        data = data[os.write(result_fd, data):]
    sys.stdout.flush()


def main() -> int:
    """Entry point inside the container (cold path)."""
    result_fd = os.dup(1)
    os.dup2(2, 1)  # the solution's prints go to the capped output stream
    with open(os.path.join(INPUT_DIR, "case.json"), encoding="utf-8") as f:
        case = json.load(f)
    run_case(case, result_fd)
    os._exit(0)  # skip atexit handlers and threads the solution may have left


if __name__ == "__main__":
    main()
