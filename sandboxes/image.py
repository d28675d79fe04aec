"""The sandbox image: its recipe, its content-addressed tag, and how to build it.

One image per profile (sandboxes/profiles.py). The tag is the profile's name and a hash of its
recipe files, so `sandbox build` rebuilds only when a recipe changes and every report can name
exactly which image judged a program. Here no container
registry is reachable, so the default build debootstraps a minimal Debian root through
apt's own configured mirror and `docker import`s it; the Dockerfile does the same where a
registry is reachable.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandboxes import profiles
from sandboxes.errors import InfraError

HERE = Path(__file__).resolve().parent
RECIPE_FILES = ("build-rootfs.sh", "Dockerfile")  # + each profile's package and wheel lists
REPOSITORY = "gpiot-sandbox"
IMAGE_LABEL = "gpiot.image"
# Image settings `docker import` would otherwise lose (a plain rootfs has no metadata).
IMPORT_CHANGES = [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin",
    "ENV LANG=C.UTF-8",
    "USER 65534:65534",
    "WORKDIR /tmp",
    f"LABEL {IMAGE_LABEL}=1",
]


def recipe_files(profile: str | None = None) -> list[str]:
    """The files that decide the image of `profile` (sandboxes/<name>)."""
    p = profiles.get(profile)
    return [*RECIPE_FILES, p.packages_file, *([p.wheels_file] if p.wheels_file else [])]


def recipe_hash(profile: str | None = None) -> str:
    """Hash of everything that decides the image's content."""
    p = profiles.get(profile)
    h = hashlib.sha256()
    for name in recipe_files(p.name):
        h.update(name.encode() + b"\0" + (HERE / name).read_bytes() + b"\0")
    h.update("\n".join(IMPORT_CHANGES).encode())
    h.update(",".join(p.preimport).encode())  # the build's import check
    return h.hexdigest()[:12]


def image_tag(profile: str | None = None) -> str:
    """The image `profile` judges programs with, e.g. ``gpiot-sandbox:minimal-3f2a...``."""
    p = profiles.get(profile)
    return f"{REPOSITORY}:{p.name}-{recipe_hash(p.name)}"


def packages(profile: str | None = None) -> list[str]:
    """Debian packages in the image of `profile` (from its packages file)."""
    lines = (HERE / profiles.get(profile).packages_file).read_text().splitlines()
    return [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]


def rootfs_command(root: Path, mirror: str, suite: str, profile: str | None = None
                   ) -> list[str]:
    """build-rootfs.sh's command line for `profile` (the Docker and the bwrap builds)."""
    p = profiles.get(profile)
    wheels = str(HERE / p.wheels_file) if p.wheels_file else "-"
    return ["sh", str(HERE / "build-rootfs.sh"), str(root), mirror, suite,
            str(HERE / p.packages_file), wheels, ",".join(p.preimport)]


def debian_mirror() -> tuple[str, str]:
    """(mirror URI, suite) of the host's own apt configuration, for debootstrap.

    Read from apt's sources so the repo names no registry host; GPIOT_DEBIAN_MIRROR and
    GPIOT_DEBIAN_SUITE override.
    """
    suite = os.environ.get("GPIOT_DEBIAN_SUITE") or _os_codename()
    mirror = os.environ.get("GPIOT_DEBIAN_MIRROR")
    if mirror:
        return mirror, suite
    sources: list[tuple[str, list[str]]] = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = dict(
                (m.group(1).lower(), m.group(2).strip())
                for m in re.finditer(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M)
            )
            if fields.get("types", "deb").split()[0] == "deb" and "uris" in fields:
                sources.append((fields["uris"].split()[0], fields.get("suites", "").split()))
    listfile = Path("/etc/apt/sources.list")
    if listfile.exists():
        for line in listfile.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb":
                uri_i = 2 if parts[1].startswith("[") else 1
                sources.append((parts[uri_i], parts[uri_i + 1 : uri_i + 2]))
    for uri, suites in sources:
        if suite in suites:
            return uri, suite
    raise InfraError(
        f"no apt source for Debian '{suite}' found in /etc/apt; set GPIOT_DEBIAN_MIRROR to a "
        "Debian mirror URI, or build with `python -m agent sandbox build --method dockerfile`"
    )


def _os_codename() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return "bookworm"
    m = re.search(r"^VERSION_CODENAME=\"?(\w+)", text, re.M)
    return m.group(1) if m else "bookworm"


def find_image(client, profile: str | None = None) -> object | None:  # noqa: ANN001
    """The image for the current recipe of `profile`, or None when it has not been built."""
    import docker.errors

    try:
        return client.images.get(image_tag(profile))
    except docker.errors.ImageNotFound:
        return None


def build(client, method: str = "auto", force: bool = False, log=print,  # noqa: ANN001
          profile: str | None = None) -> str:
    """Build the image for the current recipe of `profile` unless it exists; return its tag."""
    p = profiles.get(profile)
    tag = image_tag(p.name)
    if not force and find_image(client, p.name) is not None:
        log(f"sandbox image {tag} is up to date")
        return tag
    if method == "auto":
        method = "debootstrap" if shutil.which("debootstrap") else "dockerfile"
    start = time.monotonic()
    if method == "debootstrap":
        _build_debootstrap(client, tag, log, p.name)
    elif method == "dockerfile":
        log(f"building {tag} from {HERE / 'Dockerfile'} (needs a reachable registry)")
        client.images.build(path=str(HERE), tag=tag, rm=True, labels={IMAGE_LABEL: "1"},
                            buildargs={"PACKAGES": p.packages_file,
                                       "WHEELS": p.wheels_file or "",
                                       "IMPORTS": ",".join(p.preimport)})
    else:
        raise ValueError(f"unknown build method {method!r}")
    log(f"built {tag} in {time.monotonic() - start:.0f} s")
    return tag


def _build_debootstrap(client, tag: str, log, profile: str) -> None:  # noqa: ANN001
    if os.geteuid() != 0:
        raise InfraError("the air-gapped sandbox build needs root (debootstrap, chroot): "
                         "run `sudo python -m agent sandbox build`")
    if not shutil.which("debootstrap"):
        raise InfraError("debootstrap is missing: run `apt-get install -y debootstrap`")
    mirror, suite = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="gpiot-rootfs-") as tmp:
        root = Path(tmp) / "root"
        wheels = profiles.get(profile).wheels_file
        extra = f" and the wheels of {wheels}" if wheels else ""
        log(f"debootstrap {suite} with {', '.join(packages(profile))}{extra} "
            "(a minute or two)")
        proc = subprocess.run(rootfs_command(root, mirror, suite, profile),
                              capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            raise InfraError("debootstrap of the sandbox root failed (check apt's and pip's "
                             "network access and disk space): " + " | ".join(tail))
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
        log(f"docker import {tag} ({tarball.stat().st_size / 2**20:.0f} MiB)")
        repo, _, version = tag.partition(":")
        client.api.import_image_from_file(
            str(tarball), repository=repo, tag=version, changes=IMPORT_CHANGES
        )


if __name__ == "__main__":  # pragma: no cover - handy for debugging the recipe
    print(image_tag(sys.argv[1] if len(sys.argv) > 1 else None), file=sys.stdout)
