"""`sandbox doctor`: say what is missing for the Docker sandbox and the exact fix."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from sandboxes import docker_sandbox, image, profiles
from sandboxes.errors import InfraError


@dataclass
class Finding:
    ok: bool
    what: str
    fix: str = ""


def diagnose() -> list[Finding]:
    """Check, in order, each thing the sandbox needs; stop at the first blocker."""
    found = []
    binary = shutil.which("docker")
    found.append(Finding(bool(binary), f"docker client: {binary or 'not found'}",
                         "apt-get install -y docker.io (Debian) or install Docker Desktop"))
    try:
        client = docker_sandbox.connect()
    except InfraError as exc:
        found.append(Finding(False, "Docker engine: not usable", str(exc)))
        return found
    version = client.version().get("Version", "?")
    found.append(Finding(True, f"Docker engine {version} answers as uid {os.getuid()}"))
    img = image.find_image(client)
    found.append(Finding(img is not None, f"sandbox image {image.image_tag()}: "
                         f"{'present' if img else 'not built'}",
                         "python -m agent sandbox build   (as root; about a minute)"))
    for name in profiles.NAMES:
        if name != profiles.DEFAULT:  # optional: only specs that ask for it need it
            built = image.find_image(client, name) is not None
            found.append(Finding(True, f"sandbox image {image.image_tag(name)}: "
                                 + ("present" if built else "not built (only specs with "
                                    f"`environment: {name}` need it: python -m agent sandbox "
                                    f"build{profiles.build_flag(name)})")))
    left = docker_sandbox.leftovers(client)
    found.append(Finding(not left, f"leftover gpiot containers: {len(left)}",
                         "python -m agent sandbox clean"))
    if img is not None and shutil.which("debootstrap") is None:
        found.append(Finding(True, "debootstrap: not installed (only needed to rebuild the "
                                   "image: apt-get install -y debootstrap)"))
    return found
