"""Runs inside a long-lived sandbox container: import the profile's libraries (numpy and scipy,
or those its argv names) once, then fork a fresh child per execution (the warm path; the host
side is sandboxes/warm.py).

Protocol over the container's stdin/stdout (nothing else reaches the host): the host writes
one JSON line {"job": DIR, "timeout_s", "memory_mb", "output_kb", "max_result_bytes",
"nofile"}; the files of that job (solution.py, input/case.json, input/arrays.npz) are in
/gpiot/jobs/DIR, a read-only bind mount. The server answers one JSON line with the child's
raw result line, its output (head and tail, base64, exact byte count) and what happened to
it (exit code or signal, timed out, output overflow, OOM kill, processes left behind).

The server is the container's PID 1 (no init: the kernel ignores signals a child sends to
PID 1, so a candidate cannot kill it) and is marked non-dumpable, so a child running as the
same user cannot ptrace it and plant code that would outlive the candidate; it reaps the
orphans it inherits.

Each child: its own process group, stdin /dev/null, stdout+stderr into a capped pipe, a
fresh empty working directory under /tmp, rlimits on address space (the job's memory on top
of what the server already maps), CPU time, open files and core size, and the harness's own
alarm. After it ends, its process group is killed, every other process but init and the
server is killed (a daemonised grandchild counts as "strays": the host then recycles the
container), and /tmp is emptied, so nothing leaks into the next candidate.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, "/gpiot")
import harness  # noqa: E402 - the harness sits next to this file in the mount

JOBS = "/gpiot/jobs"
KEEP = 32 * 1024
GRACE_S = 1.0  # after the harness's own alarm had its chance
OOM_EVENTS = "/sys/fs/cgroup/memory.events"


def _oom_kills() -> int:
    try:
        with open(OOM_EVENTS) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except OSError:
        pass
    return -1


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(job: dict, w_out: int, w_res: int) -> None:
    """In the forked child: isolate, limit, run the harness, never return."""
    try:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(w_out, 1)
        os.dup2(w_out, 2)
        res_fd = os.dup(w_res)
        os.closerange(3, res_fd)
        os.closerange(res_fd + 1, 1024)
        work = tempfile.mkdtemp(prefix="run-", dir="/tmp")
        os.chdir(work)
        os.environ["HOME"] = work
        mem = job["memory_mb"] * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (_vm_bytes() + mem,) * 2)
        cpu = int(job["timeout_s"]) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_NOFILE, (job["nofile"],) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        base = os.path.join(JOBS, job["job"])
        with open(os.path.join(base, "input", "case.json"), encoding="utf-8") as f:
            case = json.load(f)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the child's own stdout
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        harness.run_case(case, res_fd, os.path.join(base, "solution.py"),
                         os.path.join(base, "input"))
    finally:
        os._exit(0)


def _reap() -> None:
    """Collect every exited child (orphans are re-parented to us, PID 1)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_others() -> int:
    """Kill and reap every process but this server; return how many there were."""
    me = os.getpid()
    found = 0
    for _ in range(50):
        _reap()
        alive = []
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in (me, 1):
                continue
            try:
                os.kill(int(name), signal.SIGKILL)
                alive.append(int(name))
            except OSError:
                continue
        if not alive:
            break
        found = max(found, len(alive))
        time.sleep(0.01)
    return found


def _protect() -> None:
    """Non-dumpable: processes of the same user can no longer ptrace or read our memory."""
    import ctypes

    pr_set_dumpable = 4
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def _empty_tmp() -> None:
    for name in os.listdir("/tmp"):
        path = os.path.join("/tmp", name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def run_job(job: dict) -> dict:
    """Fork one child for the job and watch it; return the answer for the host."""
    r_out, w_out = os.pipe()
    r_res, w_res = os.pipe()
    oom_before = _oom_kills()
    sys.stdout.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(r_out)
        os.close(r_res)
        _child(job, w_out, w_res)
    os.close(w_out)
    os.close(w_res)
    head, tail, total = b"", b"", 0
    result = bytearray()
    max_out = job["output_kb"] * 1024
    max_res = job["max_result_bytes"] + 4096
    deadline = started + job["timeout_s"] + GRACE_S
    timed_out = overflow = False
    open_fds = {r_out, r_res}
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(list(open_fds), [], [], left)
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
            elif fd == r_res:
                result += chunk
            else:
                total += len(chunk)
                room = KEEP - len(head)
                if room > 0:
                    head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    tail = (tail + chunk)[-KEEP:]
        if total > max_out or len(result) > max_res:
            overflow = True
            break
    if timed_out or overflow:
        _killpg(pid)
    _, status = os.waitpid(pid, 0)
    wall = time.monotonic() - started
    _killpg(pid)  # background processes the child left in its group
    os.close(r_out)
    os.close(r_res)
    strays = _kill_others()
    _empty_tmp()
    oom = _oom_kills() > oom_before >= 0
    return {
        "result": "" if overflow else result.decode("utf-8", "replace"),
        "head": base64.b64encode(head).decode(), "tail": base64.b64encode(tail).decode(),
        "total": total, "timed_out": timed_out, "overflow": overflow, "oom": oom,
        "exit_code": _exit_code(status), "strays": strays,
        "wall_s": round(wall, 6),
    }


def _exit_code(status: int) -> int:
    """As a shell and Docker report it: 128 + signal number for a killed child."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def main() -> None:
    import importlib

    # The profile's libraries (argv: Profile.preimport, which warm.py always passes),
    # imported once here so every child starts with them.
    for name in sys.argv[1:]:
        importlib.import_module(name)

    _protect()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    out = sys.stdout
    out.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = run_job(json.loads(line))
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
