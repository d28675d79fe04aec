"""The bench's results store, results.jsonl: one JSON line per finished attempt, appended
atomically by any number of workers, read back as the latest record per (task, sample).

A leaf module, so the bench that writes it and the reports that read it share it without
importing each other.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


def append_result(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line: a single write under an exclusive lock, then fsync."""
    data = (json.dumps(record, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock


def load_results(out: Path) -> list[dict[str, Any]]:
    """The latest record per (task, sample); a torn last line (a kill mid-write) is ignored."""
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    path = out / "results.jsonl"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            latest[(rec["task"], rec["sample"])] = rec
    return list(latest.values())
