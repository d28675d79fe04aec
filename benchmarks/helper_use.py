"""What the drafts did with what the prompt offered (issue 19): of the drafts shown verified
helpers, how many imported them and how many called them (their code was linked in); of
those shown a proven program, how many; and how the first drafts ended (failure classes,
the lint rules that blocked them). Reads the run directories' trajectory.jsonl; runs nothing.

    python benchmarks/helper_use.py OUT [OUT ...]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from agent.knowledge import HELPER_MODULE, VERIFIED_MARK

EXPERIENCE_MARK = "A program proven on a similar task"  # prompts/experience.md


def drafts(out: Path) -> list[dict]:
    """Every draft call of every run under `out`, with its candidate's outcome."""
    found = []
    for path in sorted(out.glob("runs/*/*/trajectory.jsonl")):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("role") == "draft" and "messages" in rec:
                rec["task"] = path.parent.parent.name
                found.append(rec)
    return found


def summary(out: Path) -> dict:
    calls = drafts(out)
    user = [next(m["content"] for m in reversed(c["messages"]) if m["role"] == "user")
            for c in calls]
    shown = [c for c, u in zip(calls, user, strict=True) if HELPER_MODULE in u]
    # a candidate identical to another of its round is not run: its outcome is "duplicate"
    outcome = [o if isinstance(o := c.get("outcome"), dict) else {"failure": str(o)}
               for c in calls]
    first = [o for c, o in zip(calls, outcome, strict=True)
             if str(c.get("candidate", "")).startswith("a1-")]
    blocked = Counter(rule for o in first if o.get("failure") == "lint"
                      for rule in set(o.get("lint", [])))
    return {
        "runs": len({c["task"] for c in calls}),
        "drafts": len(calls),
        "shown helpers": len(shown),
        "imported them": sum(HELPER_MODULE in c["completion"] for c in shown),
        "called them": sum(VERIFIED_MARK in (c.get("code") or "") for c in shown),
        "shown a proven program": sum(EXPERIENCE_MARK in u for u in user),
        "first drafts": len(first),
        "first drafts by failure": dict(Counter(o.get("failure") or "?" for o in first)
                                        .most_common()),
        "first drafts blocked by (runs of each rule)": dict(blocked.most_common(8)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outs", nargs="+", type=Path, help="bench output directories")
    args = p.parse_args(argv)
    for out in args.outs:
        print(f"== {out}")
        for key, value in summary(out).items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
