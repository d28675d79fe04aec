"""Where a bench's time goes: wall per attempt and per model call, prompt tokens per call,
tokens out per second, from the run directories of one or more bench outputs (issue 17's
figures). Reads report.json and trajectory.jsonl; runs nothing.

    python benchmarks/attempt_times.py OUT [OUT ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def calls_of(run: Path) -> list[dict]:
    """The model calls of a run (one trajectory line per call, deduplicated by time)."""
    seen, out = set(), []
    for line in (run / "trajectory.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "completion" not in rec or "seconds" not in rec:
            continue
        key = (rec.get("at"), rec.get("seed"), rec.get("role"))
        if key not in seen:
            seen.add(key)
            out.append(rec)
    return out


def summary(out: Path) -> dict:
    per_attempt, per_call, tin, tps = [], [], [], []
    for report in sorted(out.glob("runs/*/*/report.json")):
        r = json.loads(report.read_text())
        if r.get("attempts"):
            per_attempt.append(r["wall_s"] / len(r["attempts"]))
        for c in calls_of(report.parent):
            per_call.append(c["seconds"])
            tin.append(c["tokens_in"])
            if c["seconds"] > 0:
                tps.append(c["tokens_out"] / c["seconds"])
    med = statistics.median
    return {"runs": len(per_attempt), "calls": len(per_call),
            "wall_s_per_attempt_median": round(med(per_attempt), 1) if per_attempt else None,
            "s_per_call_median": round(med(per_call), 1) if per_call else None,
            "prompt_tokens_per_call_median": med(tin) if tin else None,
            "tokens_out_per_s_median": round(med(tps), 1) if tps else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outs", nargs="+", type=Path)
    args = parser.parse_args()
    for out in args.outs:
        print(out, json.dumps(summary(out)))


if __name__ == "__main__":
    main()
