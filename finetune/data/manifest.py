"""Write the dataset files (chat JSONL per role) and manifest.json beside them."""

from __future__ import annotations

import json
import platform
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from agent.models.registry import file_sha256

ROLES = ("code", "decompose", "repair")
REQUIRED = {"role", "messages", "task", "source", "verified"}


sha256 = file_sha256  # one hashing of files for datasets, models and adapters


def versions() -> dict[str, str]:
    """Versions of what shaped the data: ours, numpy/scipy on the host, python."""
    out = {"python": platform.python_version()}
    for dist in ("gpiot", "numpy", "scipy", "PyYAML", "docker"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def validate(ex: dict[str, Any]) -> None:
    """The JSONL contract with the training code; a bad line is a bug here, not data."""
    missing = REQUIRED - ex.keys()
    if missing:
        raise ValueError(f"example lacks {sorted(missing)}")
    if ex["role"] not in ROLES or ex["source"] not in ("generator", "trajectory"):
        raise ValueError(f"bad role/source {ex['role']}/{ex['source']}")
    roles = [m["role"] for m in ex["messages"]]
    if roles[-1] != "assistant" or roles[0] != "system" or ex["verified"] is not True:
        raise ValueError(f"bad example {ex['task']}: roles {roles}")


def write_jsonl(out: Path, examples: list[dict[str, Any]]) -> list[Path]:
    """One file per role present, lines in a stable order (task, then content)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for role in ROLES:
        rows = [e for e in examples if e["role"] == role]
        if not rows:
            continue
        for e in rows:
            validate(e)
        path = out / f"{role}.jsonl"
        path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in rows),
                        encoding="utf-8")
        paths.append(path)
    return paths


def counts(examples: list[dict[str, Any]]) -> dict[str, Any]:
    gen: dict[str, Counter] = {}
    for e in examples:
        gen.setdefault(e["task"].split("/")[0], Counter())[e["role"]] += 1
    return {"total": len(examples),
            "by_role": dict(Counter(e["role"] for e in examples)),
            "by_source": dict(Counter(e["source"] for e in examples)),
            "by_teacher": dict(Counter(e["teacher"] for e in examples if e.get("teacher"))),
            "by_generator": {k: dict(v) for k, v in sorted(gen.items())}}


def write_manifest(out: Path, files: list[Path], examples: list[dict[str, Any]],
                   extra: dict[str, Any]) -> Path:
    """manifest.json: counts, versions, sha256 per file and whatever the builder adds."""
    doc = {"format": "gpiot-chat-jsonl-v1", "counts": counts(examples),
           "files": {p.name: {"sha256": sha256(p), "lines": sum(1 for _ in p.open())}
                     for p in files},
           "versions": versions(), **extra}
    path = out / "manifest.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def check_manifest(out: Path) -> list[str]:
    """Mismatches between manifest.json and the files beside it (empty when all match)."""
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    bad = []
    for name, info in doc["files"].items():
        p = out / name
        if not p.is_file():
            bad.append(f"{name}: missing")
        elif sha256(p) != info["sha256"]:
            bad.append(f"{name}: sha256 differs")
    return bad
