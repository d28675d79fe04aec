"""bubblewrap backend, for hosts without Docker: `--sandbox bwrap`, never chosen silently.

WEAKER ISOLATION than Docker, and reported as such: no seccomp filter, the kernel attack
surface of unprivileged user namespaces, and resource limits that depend on the host: run as
root, each execution gets its own cgroup (pids and memory, v2 or v1, like Docker's); otherwise
memory is an address-space rlimit and processes an RLIMIT_NPROC that counts the user's
processes host-wide (describe() says which). What it does give:
new user/pid/net/ipc/uts/mount namespaces (no network but loopback), the sandbox image's
root filesystem read-only, a private /tmp, uid 65534, no capabilities, a new session, the
same harness and failure classes as the Docker backends, a wall-clock kill of the whole
process tree.

The root filesystem is the Docker sandbox image's, exported once into the cache
(`python -m agent sandbox build --bwrap`); on a host without Docker the same debootstrap
recipe builds it directly (root needed once).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sandboxes import base, image, profiles
from sandboxes.base import (
    KEEP_BYTES,
    SANDBOX_ENV,
    SCRATCH_PREFIX,
    STARTUP_GRACE_S,
    ExecutionRequest,
    ExecutionResult,
    Output,
    classify,
    write_inputs,
)
from sandboxes.errors import InfraError

WARNING = ("bwrap: weaker isolation than Docker (no seccomp filter; without root no cgroup, "
           "so memory is an address-space rlimit and processes an RLIMIT_NPROC); use it only "
           "where Docker is not available")
CGROUP_ROOT = Path("/sys/fs/cgroup")


class Cgroup:
    """A throw-away cgroup (v2, else v1 pids+memory) for one execution; None where the host
    does not let us make one (not root, no cgroupfs)."""

    def __init__(self, name: str, pids: int, memory_bytes: int) -> None:
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            self.dirs = [CGROUP_ROOT / name]
            settings = {"pids.max": pids, "memory.max": memory_bytes, "memory.swap.max": 0}
        else:
            self.dirs = [CGROUP_ROOT / "pids" / name, CGROUP_ROOT / "memory" / name]
            settings = {"pids.max": pids, "memory.limit_in_bytes": memory_bytes,
                        "memory.memsw.limit_in_bytes": memory_bytes}
        for d in self.dirs:
            d.mkdir()
        for key, value in settings.items():
            for d in self.dirs:
                if (d / key).exists():
                    (d / key).write_text(str(value))

    @classmethod
    def make(cls, name: str, pids: int, memory_bytes: int) -> Cgroup | None:
        try:
            return cls(name, pids, memory_bytes)
        except OSError:
            return None

    def enter(self) -> None:
        """Called in the child before exec: everything it starts stays inside."""
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(os.getpid()))

    def oom_killed(self) -> bool:
        for d in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                f = d / name
                if f.exists():
                    for line in f.read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
        return False

    def remove(self) -> None:
        for _ in range(100):
            pids = [int(x) for d in self.dirs if (d / "cgroup.procs").exists()
                    for x in (d / "cgroup.procs").read_text().split()]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        for d in self.dirs:
            try:
                d.rmdir()
            except OSError:
                pass


def rootfs_dir(profile: str | None = None) -> Path:
    """Root's own cache is not readable by the unprivileged user bwrap runs as: a system one."""
    if os.geteuid() == 0:
        cache = Path("/var/cache")
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    p = profiles.get(profile)
    return cache / "gpiot" / "sandbox" / f"rootfs-{p.name}-{image.recipe_hash(p.name)}"


def build_rootfs(log=print, profile: str | None = None) -> Path:  # noqa: ANN001
    """Export the Docker image's filesystem, or debootstrap it where there is no Docker."""
    dest = rootfs_dir(profile)
    if (dest / "usr/bin/python3").exists():
        log(f"bwrap root filesystem {dest} is up to date")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    for d in (dest.parent, dest.parent.parent):
        d.chmod(0o755)
    tmp = Path(tempfile.mkdtemp(prefix="rootfs-", dir=dest.parent))
    try:
        try:
            from sandboxes import docker_sandbox

            client = docker_sandbox.connect()
            img = image.find_image(client, profile)
        except InfraError:
            client = img = None
        if img is not None:
            log(f"exporting {image.image_tag(profile)} into {dest}")
            container = client.containers.create(image.image_tag(profile), command=["true"])
            try:
                with tempfile.TemporaryFile() as tar:
                    for chunk in container.export():
                        tar.write(chunk)
                    tar.seek(0)
                    with tarfile.open(fileobj=tar) as tf:
                        tf.extractall(tmp, filter="tar")
            finally:
                container.remove(force=True)
        else:
            if os.geteuid() != 0 or not shutil.which("debootstrap"):
                raise InfraError("building the bwrap root filesystem without Docker needs root "
                                 "and debootstrap: `apt-get install -y debootstrap` and run "
                                 "`sudo python -m agent sandbox build --bwrap`")
            mirror, suite = image.debian_mirror()
            log(f"debootstrap {suite} into {dest} (about a minute)")
            subprocess.run(image.rootfs_command(tmp, mirror, suite, profile), check=True,
                           capture_output=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp.chmod(0o755)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


class BwrapSandbox:
    """One bubblewrap process tree per execution."""

    name = "bwrap"

    def __init__(self, rootfs: Path | None = None, profile: str | None = None) -> None:
        if not shutil.which("bwrap"):
            raise InfraError("bubblewrap is not installed: `apt-get install -y bubblewrap`")
        self.profile = profiles.get(profile).name
        self.rootfs = rootfs or rootfs_dir(self.profile)
        if not (self.rootfs / "usr/bin/python3").exists():
            raise InfraError(f"no bwrap root filesystem at {self.rootfs}: run `python -m agent "
                             f"sandbox build --bwrap{profiles.build_flag(self.profile)}`")
        self.runs = 0

    def describe(self) -> dict[str, Any]:
        probe = Cgroup.make(f"gpiot-bwrap-{os.getpid()}-probe", 8, 2**26)
        if probe is not None:
            probe.remove()
        return {"backend": self.name, "rootfs": str(self.rootfs), "isolation": WARNING,
                "environment": self.profile,
                "limits": "cgroup (pids, memory)" if probe else "rlimits only"}

    def close(self) -> None:
        pass

    def command(self, workdir: Path, limits: base.Limits) -> list[str]:
        env = [a for k, v in SANDBOX_ENV.items()
               for a in ("--setenv", k, v)]
        return ["bwrap", "--ro-bind", str(self.rootfs), "/", "--dev", "/dev", "--proc", "/proc",
                "--size", str(limits.tmpfs_mb * 2**20), "--perms", "1777", "--tmpfs", "/tmp",
                "--ro-bind", str(workdir), "/gpiot", "--chdir", "/tmp",
                "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                "--uid", "65534", "--gid", "65534", "--clearenv", *env,
                "python3", "-I", "-B", "/gpiot/harness.py"]

    def execute(self, request: ExecutionRequest) -> ExecutionResult:
        limits = request.limits
        workdir = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-bwrap-"))
        started = time.monotonic()
        cgroup = None
        try:
            write_inputs(workdir, request)

            self.runs += 1
            cgroup = Cgroup.make(f"gpiot-bwrap-{os.getpid()}-{self.runs}", limits.pids,
                                 limits.memory_mb * 2**20)

            def limit() -> None:  # in the child, before exec: inherited by the whole tree
                if cgroup is not None:
                    cgroup.enter()
                else:
                    resource.setrlimit(resource.RLIMIT_NPROC, (limits.pids,) * 2)
                # + the interpreter and the profile's libraries
                mem = (limits.memory_mb + profiles.get(self.profile).import_mb) * 2**20
                resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
                if os.geteuid() == 0:  # else root outside = the sandbox user inside, owning
                    os.setgroups([])   # every file of the root filesystem
                    os.setgid(65534)
                    os.setuid(65534)
                cpu = int(limits.timeout_s + STARTUP_GRACE_S) + 1
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
                resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

            proc = subprocess.Popen(self.command(workdir, limits), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    preexec_fn=limit, start_new_session=True)
            return self._watch(proc, limits, started, cgroup)
        finally:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(workdir, ignore_errors=True)

    def _watch(self, proc: subprocess.Popen, limits: base.Limits, started: float,
               cgroup: Cgroup | None) -> ExecutionResult:
        result = bytearray()
        output = Output()
        overflow = threading.Event()
        max_out, max_res = limits.output_kb * 1024, limits.result_mb * 2**20 + 4096

        def pump(stream, is_result: bool) -> None:  # noqa: ANN001
            for chunk in iter(lambda: stream.read1(1 << 16), b""):
                if overflow.is_set():
                    continue
                if is_result:
                    result.extend(chunk)
                else:
                    base.capture(output, chunk, KEEP_BYTES)
                if output.total > max_out or len(result) > max_res:
                    overflow.set()
                    _kill_tree(proc)

        readers = [threading.Thread(target=pump, args=(proc.stdout, True), daemon=True),
                   threading.Thread(target=pump, args=(proc.stderr, False), daemon=True)]
        for t in readers:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout_s + STARTUP_GRACE_S)
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_tree(proc)
        proc.wait()
        for t in readers:
            t.join(timeout=10)
        code = proc.returncode
        oom = cgroup is not None and cgroup.oom_killed()
        state = {"ExitCode": 128 - code if code < 0 else code, "OOMKilled": oom}
        timed_out = timed_out or code == -signal.SIGXCPU
        res = classify(bytes(result), output, state, timed_out, overflow.is_set(), limits)
        res.wall_s = time.monotonic() - started
        return res


def _kill_tree(proc: subprocess.Popen) -> None:
    """bwrap runs in its own session; --die-with-parent and the pid namespace take the rest."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
