"""A sandbox without an engine, for routing tests: it runs the real harness (the same
classes, conversion and result line as every backend) in this process, on the test's own
programs. It isolates nothing, so it must never be given a model's program: routing tests
script their model, and every capability keeps its test through the real sandbox."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sandboxes import base
from sandboxes.docker_sandbox import classify, write_inputs
from sandboxes.harness import run_case


class FakeSandbox:
    name = "fake"

    def __init__(self) -> None:
        self.executions = 0

    def execute(self, request: base.ExecutionRequest) -> base.ExecutionResult:
        self.executions += 1
        workdir = Path(tempfile.mkdtemp(prefix="gpiot-fake-"))
        try:
            write_inputs(workdir, request)
            case = json.loads((workdir / "input" / "case.json").read_text())
            fd = os.open(workdir / "result", os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                run_case(case, fd, solution=str(workdir / "solution.py"),
                         input_dir=str(workdir / "input"))
            finally:
                os.close(fd)
            raw = (workdir / "result").read_bytes()
            return classify(raw, base.Output(), {"ExitCode": 0}, False, False,
                            request.limits)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "image": None}

    def close(self) -> None:
        pass
