"""Warm Docker backend: one long-lived locked-down container per worker runs a fork-server
(sandboxes/forkserver.py) that imported numpy and scipy once; each execution is a fresh
forked child with its own limits, so a case costs milliseconds instead of a container start.

Same lockdown as the cold path (sandboxes.docker_sandbox.container_options), same harness,
same classification. The container is recycled after `recycle_after` executions and after any
abnormal end (timeout, memory, output overflow, crash, processes left behind, a dead server),
so no state can leak from one candidate to the next.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sandboxes import base, profiles
from sandboxes.base import (
    HARNESS,
    SCRATCH_PREFIX,
    ExecutionRequest,
    ExecutionResult,
    Limits,
    Output,
    classify,
    new_run_id,
    write_inputs,
)
from sandboxes.docker_sandbox import DockerSandbox, container_options
from sandboxes.errors import InfraError

FORKSERVER = Path(__file__).resolve().parent / "forkserver.py"
SERVER_MB = 256  # the server's own share of the container's memory, beside the child's limit
READY_S = 60.0  # server start-up (interpreter + numpy/scipy imports), generous under load
ANSWER_GRACE_S = 15.0  # server-side kill + cleanup after the child's deadline
ABNORMAL = {base.TIMEOUT, base.MEMORY, base.CRASH, base.OUTPUT_TOO_LARGE}
SIGXCPU_EXIT = 128 + 24  # the CPU-time rlimit's signal


class WarmDockerSandbox(DockerSandbox):
    """A fork-server container per instance (one instance per worker; not thread-safe by
    design, a lock serialises callers)."""

    name = "docker-warm"

    def __init__(self, client=None, tag: str | None = None, recycle_after: int = 200,  # noqa: ANN001
                 profile: str | None = None) -> None:
        super().__init__(client, tag, profile)
        self.recycle_after = recycle_after
        self.mount = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-warm-"))
        (self.mount / "jobs").mkdir()
        shutil.copyfile(HARNESS, self.mount / "harness.py")
        shutil.copyfile(FORKSERVER, self.mount / "forkserver.py")
        for p in (self.mount, self.mount / "jobs"):
            p.chmod(0o755)
        for p in (self.mount / "harness.py", self.mount / "forkserver.py"):
            p.chmod(0o644)
        self.container: Any = None
        self.limits_key: tuple | None = None
        self.executions = 0
        self.recycled = 0
        self.jobs = 0
        self._lock = threading.Lock()
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._sock: Any = None
        self._stderr = bytearray()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "recycle_after": self.recycle_after}

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self.mount, ignore_errors=True)
        super().close()

    # -- container life cycle -------------------------------------------------------------
    def _start(self, limits: Limits, run_id: str) -> None:
        opts = container_options(limits, self.mount, f"warm-{run_id}",
                                 memory_mb=limits.memory_mb + SERVER_MB, pids=limits.pids + 4)
        opts["init"] = False  # the server is PID 1: a candidate cannot kill it
        self.container = self.client.containers.create(
            self.tag, command=["python3", "-I", "-B", "/gpiot/forkserver.py",
                               *profiles.get(self.profile).preimport],
            stdin_open=True, **opts)
        self._lines = queue.Queue()
        self._stderr = bytearray()
        sock = self.container.attach_socket(
            params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        self._sock = sock
        threading.Thread(target=self._pump, args=(sock, self._lines), daemon=True).start()
        self.container.start()
        ready = self._next_line(READY_S)
        if ready is None or not json.loads(ready).get("ready"):
            err = bytes(self._stderr).decode("utf-8", "replace").strip()[-300:]
            self._stop()
            raise InfraError(f"the warm sandbox server did not start ({err or 'no output'}); "
                             "try --sandbox docker-cold or `python -m agent sandbox doctor`")
        self.limits_key = _key(limits)
        self.executions = 0

    def _pump(self, sock: Any, lines: queue.Queue) -> None:
        """Demultiplex the attach stream; complete stdout lines go to the queue, None = EOF."""
        from docker.utils.socket import frames_iter

        buf = bytearray()
        try:
            for stream, data in frames_iter(sock, tty=False):
                if stream == 1:
                    buf += data
                    while (i := buf.find(b"\n")) >= 0:
                        lines.put(bytes(buf[:i]))
                        del buf[: i + 1]
                else:
                    self._stderr = (self._stderr + data)[-4096:]
        except Exception:  # noqa: BLE001 - a closed socket ends the stream like EOF
            pass
        finally:
            lines.put(None)

    def _next_line(self, timeout: float) -> bytes | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def _stop(self) -> None:
        container, self.container, self.limits_key = self.container, None, None
        if self._sock is not None:
            try:
                self._sock.close()
            except Exception:  # noqa: BLE001
                pass
            self._sock = None
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - already gone is fine
                pass

    def _recycle(self) -> None:
        self._stop()
        self.recycled += 1

    # -- one execution --------------------------------------------------------------------
    def execute(self, request: ExecutionRequest) -> ExecutionResult:
        with self._lock:
            return self._execute(request)

    def _execute(self, request: ExecutionRequest) -> ExecutionResult:
        limits = request.limits
        started = time.monotonic()
        if self.container is not None and (self.limits_key != _key(limits)
                                           or self.executions >= self.recycle_after):
            self._recycle()
        if self.container is None:
            self._start(limits, request.run_id or new_run_id())
        self.jobs += 1
        job = f"{self.jobs:06d}"
        jobdir = self.mount / "jobs" / job
        jobdir.mkdir()
        try:
            write_inputs(jobdir, request)
            jobdir.chmod(0o755)
            message = {"job": job, "timeout_s": limits.timeout_s, "memory_mb": limits.memory_mb,
                       "output_kb": limits.output_kb, "nofile": 256,
                       "max_result_bytes": limits.result_mb * 2**20}
            self._sock._sock.sendall((json.dumps(message) + "\n").encode())
            self.executions += 1
            line = self._next_line(limits.timeout_s + ANSWER_GRACE_S)
            if line is None:
                res = self._server_lost(limits, time.monotonic() - started)
            else:
                res = self._judge(json.loads(line), limits)
        finally:
            shutil.rmtree(jobdir, ignore_errors=True)
        res.wall_s = time.monotonic() - started
        return res

    def _judge(self, answer: dict, limits: Limits) -> ExecutionResult:
        output = Output(base64.b64decode(answer["head"]), base64.b64decode(answer["tail"]),
                        answer["total"])
        timed_out = answer["timed_out"] or answer["exit_code"] == SIGXCPU_EXIT
        state = {"ExitCode": answer["exit_code"], "OOMKilled": answer["oom"]}
        res = classify(answer["result"].encode(), output, state, timed_out, answer["overflow"],
                       limits)
        if (res.status in ABNORMAL or answer["strays"] or answer["exit_code"] != 0
                or timed_out or answer["overflow"] or answer["oom"]):
            self._recycle()
        return res

    def _server_lost(self, limits: Limits, waited: float) -> ExecutionResult:
        """No answer: the server died (the child killed it, or the cgroup OOM killer) or hung."""
        container = self.container
        oom, code = False, None
        try:
            container.kill()
        except Exception:  # noqa: BLE001 - it may have exited already
            pass
        try:
            container.wait(timeout=30)
            container.reload()
            oom = bool(container.attrs["State"].get("OOMKilled"))
            code = container.attrs["State"].get("ExitCode")
        except Exception:  # noqa: BLE001
            pass
        self._recycle()
        if oom:
            return ExecutionResult(base.MEMORY, exit_code=code,
                                   error=f"killed for exceeding the {limits.memory_mb} MB memory "
                                         "limit (confirmed: the container's OOMKilled flag)")
        if waited >= limits.timeout_s:
            return ExecutionResult(base.TIMEOUT, exit_code=code,
                                   error=f"killed after {limits.timeout_s:g} s without finishing")
        return ExecutionResult(base.CRASH, exit_code=code,
                               error="the sandbox process ended with no result (the program "
                                     "killed its parent or exited the interpreter)")


def _key(limits: Limits) -> tuple:
    """Limits fixed when the container starts; a request with others needs a new container."""
    return (limits.memory_mb, limits.cpus, limits.pids, limits.tmpfs_mb)
