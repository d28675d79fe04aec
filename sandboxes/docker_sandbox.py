"""Cold Docker backend: one locked-down container per execution, always removed.

Every container: no network, read-only root, capped tmpfs /tmp, uid 65534, all
capabilities dropped, no-new-privileges, pids/memory(=swap)/CPU limits, a wall-clock kill,
inputs and solution mounted read-only, labels naming gpiot, the run and the owning process
(so leftovers of a crashed gpiot can be found and removed, and nothing else ever is).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sandboxes import base, image, profiles
from sandboxes.base import (  # what every backend shares lives in base; still importable here
    HARNESS,  # noqa: F401
    KEEP_BYTES,
    SANDBOX_ENV,
    SCRATCH_PREFIX,
    STARTUP_GRACE_S,
    ExecutionRequest,
    ExecutionResult,
    Output,
    classify,
    new_run_id,  # noqa: F401
    pid_alive,
    stale_scratch,  # noqa: F401
    write_inputs,
)
from sandboxes.errors import InfraError

LABEL = "gpiot"
LABEL_RUN = "gpiot.run"
LABEL_PID = "gpiot.pid"

DOCKER_FIX = (
    "start a Docker engine: on Debian `apt-get install -y docker.io` then `dockerd &` "
    "(as root); elsewhere install Docker Desktop; then `python -m agent sandbox doctor`"
)


def connect():  # noqa: ANN201 - docker.DockerClient, imported lazily
    """A live Docker client, or InfraError saying exactly what to fix."""
    import docker

    if not shutil.which("docker") and not os.path.exists("/var/run/docker.sock") \
            and not os.environ.get("DOCKER_HOST"):
        raise InfraError(f"no Docker engine on this machine: {DOCKER_FIX}")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        text = str(exc)
        if "Permission denied" in text:
            raise InfraError("no permission to use the Docker socket: run as root or add "
                             "your user to the 'docker' group (`usermod -aG docker $USER`, "
                             "then log in again)") from None
        raise InfraError(f"the Docker engine does not answer ({text.splitlines()[0][:120]}): "
                         f"{DOCKER_FIX}") from None
    return client


class DockerSandbox:
    """One fresh container per execution (the cold path)."""

    name = "docker-cold"

    def __init__(self, client=None, tag: str | None = None,  # noqa: ANN001
                 profile: str | None = None) -> None:
        self.client = client or connect()
        self.profile = profiles.get(profile).name
        self.tag = tag or image.image_tag(self.profile)
        img = (image.find_image(self.client, self.profile) if tag is None
               else self.client.images.get(tag))
        if img is None:
            raise InfraError(f"sandbox image {self.tag} is not built: run `python -m agent "
                             f"sandbox build{profiles.build_flag(self.profile)}` (a minute or "
                             "two, as root)")
        self.image_id = img.id

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "image": self.tag, "image_id": self.image_id,
                "environment": self.profile}

    def close(self) -> None:
        self.client.close()

    def execute(self, request: ExecutionRequest) -> ExecutionResult:
        limits = request.limits
        workdir = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        container = None
        started = time.monotonic()
        try:
            write_inputs(workdir, request)
            container = self.client.containers.create(
                self.tag, command=["python3", "-I", "-B", "/gpiot/harness.py"],
                **container_options(limits, workdir, request.run_id, case=request.case))
            return self._run(container, limits, started)
        finally:
            if container is not None:
                try:
                    container.remove(force=True)
                except Exception:  # noqa: BLE001 - already gone is fine
                    pass
            shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, container, limits: base.Limits, started: float) -> ExecutionResult:  # noqa: ANN001
        import requests

        stream = container.attach(stdout=True, stderr=True, stream=True, demux=True, logs=False)
        result_buf = bytearray()
        output = Output()
        overflow = threading.Event()
        wake = threading.Event()  # set on overflow and when the stream ends (container exited)
        max_result = limits.result_mb * 2**20 + 4096
        max_output = limits.output_kb * 1024

        def pump() -> None:
            # Never stop reading: a container blocked on a full stdio pipe cannot be killed.
            try:
                for out, err in stream:
                    if overflow.is_set():
                        continue
                    if out:
                        result_buf.extend(out)
                    if err:
                        base.capture(output, err, KEEP_BYTES)
                    if output.total > max_output or len(result_buf) > max_result:
                        overflow.set()
                        wake.set()
            finally:
                wake.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        container.start()
        deadline = time.monotonic() + limits.timeout_s + STARTUP_GRACE_S
        timed_out = not wake.wait(max(0.0, deadline - time.monotonic()))
        if timed_out or overflow.is_set():
            _kill(container)
        try:
            container.wait(timeout=30)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            raise InfraError(f"container {container.short_id} did not stop after a kill; "
                             "check the Docker engine (`python -m agent sandbox doctor`)") from None
        reader.join(timeout=10)
        container.reload()
        state = container.attrs["State"]
        wall = time.monotonic() - started
        res = classify(bytes(result_buf), output, state, timed_out, overflow.is_set(), limits)
        res.wall_s = wall
        return res


def container_options(limits: base.Limits, mount: Path, run_id: str, *, case: str = "",
                      memory_mb: int | None = None, pids: int | None = None) -> dict[str, Any]:
    """The lockdown every gpiot container gets, cold or warm (one place, so they can't drift)."""
    memory = f"{memory_mb or limits.memory_mb}m"
    return dict(
        user="65534:65534",
        working_dir="/tmp",
        environment=dict(SANDBOX_ENV),
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        pids_limit=pids or limits.pids,
        mem_limit=memory,
        memswap_limit=memory,
        nano_cpus=int(limits.cpus * 1e9),
        ulimits=[_ulimit("nofile", 256), _ulimit("core", 0)],
        volumes={str(mount): {"bind": "/gpiot", "mode": "ro"}},
        labels={LABEL: "1", LABEL_RUN: run_id, LABEL_PID: str(os.getpid()), "gpiot.case": case},
        log_config={"type": "none"},
        init=True,  # tini as PID 1: signals and zombies behave as on a host
        detach=True,
    )


def _ulimit(name: str, value: int):  # noqa: ANN202
    import docker.types

    return docker.types.Ulimit(name=name, soft=value, hard=value)


def _kill(container) -> None:  # noqa: ANN001
    try:
        container.kill()
    except Exception:  # noqa: BLE001 - it may have exited on its own
        pass


def sweep(client) -> None:  # noqa: ANN001
    """Remove the leftovers; another gpiot process starting at the same moment (two bench
    workers) may be removing the same ones, and a container already gone is fine."""
    import docker

    for container in leftovers(client):
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: "removal ... is already in progress"
                raise


def leftovers(client, only_dead_owners: bool = True) -> list:  # noqa: ANN001
    """gpiot's own containers (by label) whose owning process is gone."""
    found = client.containers.list(all=True, filters={"label": LABEL})
    if not only_dead_owners:
        return found
    dead = []
    for c in found:
        pid = c.labels.get(LABEL_PID, "")
        if not pid.isdigit() or not pid_alive(int(pid)):
            dead.append(c)
    return dead
