"""benchmarks/run_examples.py keeps each child's stderr in a log file beside its runs (an
unread pipe blocked a child past 64 KiB, and a crashed run showed only its exit code)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_failing_run_leaves_its_error_in_the_log(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run_examples
    finally:
        sys.path.pop(0)
    spec = tmp_path / "broken" / "spec.yaml"
    spec.parent.mkdir()
    spec.write_text("id: broken\nfunction: [\n")  # not YAML: `run` exits 2 before any model
    row = run_examples.run_one(spec, "qwen2.5-coder-0.5b", "agent", tmp_path / "runs", [])
    assert row["exit"] == 2 and not row["solved"]
    log = Path(row["log"])
    assert log.parent.is_relative_to(tmp_path) and "spec.yaml" in log.read_text()
