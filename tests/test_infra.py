"""Infrastructure failures are exit 3 with the fix in the message; Ctrl-C leaves no container."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from agent.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples/hrv-rmssd/spec.yaml"
GOOD = ROOT / "examples/solutions/hrv-rmssd.py"


def test_no_docker_engine_is_exit_3_with_the_fix(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    assert main(["check", str(SPEC), str(GOOD)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not answer" in err and "dockerd" in err
    assert main(["sandbox", "doctor"]) == 3
    out = capsys.readouterr().out
    assert "MISSING" in out and "fix:" in out


@pytest.mark.docker
def test_missing_image_is_exit_3_naming_the_build_command(sandbox, monkeypatch, capsys) -> None:
    from sandboxes import image

    monkeypatch.setattr(image, "recipe_hash", lambda profile=None: "000000000000")
    assert main(["check", str(SPEC), str(GOOD)]) == 3
    err = capsys.readouterr().err
    assert "gpiot-sandbox:minimal-000000000000 is not built" in err and "sandbox build`" in err


@pytest.mark.docker
def test_missing_scientific_image_names_its_build_command(sandbox, monkeypatch, capsys,
                                                          tmp_path) -> None:
    """A spec for the scientific profile needs that image, and the fix says which to build."""
    from sandboxes import image

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text().replace("\ncases:", "\nenvironment: scientific\ncases:", 1)
                    .replace("traces/", f"{SPEC.parent}/traces/"))
    monkeypatch.setattr(image, "recipe_hash", lambda profile=None: "000000000000")
    assert main(["check", str(spec), str(GOOD)]) == 3
    err = capsys.readouterr().err
    assert "gpiot-sandbox:scientific-000000000000 is not built" in err, err
    assert "sandbox build --environment scientific" in err


@pytest.mark.docker
def test_doctor_reports_ready(sandbox, capsys) -> None:
    assert main(["sandbox", "doctor"]) == 0
    assert "the sandbox is ready" in capsys.readouterr().out


@pytest.mark.docker
def test_ctrl_c_during_an_execution_leaves_no_container(sandbox, tmp_path) -> None:
    hang = tmp_path / "hang.py"
    hang.write_text("def rmssd(nni):\n    while True:\n        pass\n")
    proc = subprocess.Popen([sys.executable, "-m", "agent", "check", str(SPEC), str(hang)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    label = {"label": ["gpiot", f"gpiot.pid={proc.pid}"]}
    deadline = time.monotonic() + 60
    while not sandbox.client.containers.list(filters=label):
        assert time.monotonic() < deadline and proc.poll() is None, "no container started"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert sandbox.client.containers.list(all=True, filters=label) == []


@pytest.mark.docker
@pytest.mark.parametrize("backend", ["docker-warm", "docker-cold"])
def test_sigkill_mid_execution_then_restart_leaves_nothing(sandbox, tmp_path, backend) -> None:
    from sandboxes.docker_sandbox import SCRATCH_PREFIX

    hang = tmp_path / "hang.py"
    hang.write_text("def rmssd(nni):\n    while True:\n        pass\n")
    proc = subprocess.Popen([sys.executable, "-m", "agent", "check", str(SPEC), str(hang),
                             "--sandbox", backend], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    label = {"label": ["gpiot", f"gpiot.pid={proc.pid}"]}
    deadline = time.monotonic() + 60
    while not sandbox.client.containers.list(filters=label):
        assert time.monotonic() < deadline and proc.poll() is None, "no container started"
        time.sleep(0.2)
    time.sleep(1.0)  # inside the execution
    proc.kill()
    proc.wait(timeout=30)
    scratch = list(Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}{proc.pid}-*"))
    # the twin: a SIGKILLed process cannot clean up, so its container and scratch are there
    assert sandbox.client.containers.list(all=True, filters=label) != [] and scratch
    # starting gpiot again removes them (only those of dead owners)
    restart = subprocess.run([sys.executable, "-m", "agent", "check", str(SPEC), str(GOOD),
                              "--sandbox", backend], cwd=ROOT, capture_output=True, text=True)
    assert restart.returncode == 0, restart.stderr
    assert sandbox.client.containers.list(all=True, filters=label) == []
    assert not any(p.exists() for p in scratch)
    if sandbox.container is not None:  # a live owner's container survives the sweep
        sandbox.container.reload()  # raises NotFound if it was removed
