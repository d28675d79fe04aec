"""Failure classes and cases passed per bench, side by side: what a change moved when the
solved count did not (e.g. an adapter that turns exceptions into wrong values).

usage: python benchmarks/failure_mix.py OUT [OUT ...]   (bench output folders)
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path


def summary(out: Path) -> dict:
    """Per bench: attempts, cases passed (all / visible), and each case status's count."""
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()
            if line.strip()]
    cases = [c for r in rows for c in r.get("cases", [])]
    visible = [c for c in cases if not c.get("hidden")]
    status = collections.Counter(c.get("status", "?") for c in cases)
    return {"attempts": len(rows), "solved": sum(bool(r.get("solved")) for r in rows),
            "cases passed": f"{sum(bool(c.get('passed')) for c in cases)}/{len(cases)}",
            "visible passed": f"{sum(bool(c.get('passed')) for c in visible)}/{len(visible)}",
            **{f"case {k}": v for k, v in sorted(status.items())}}


def main(argv: list[str]) -> None:
    outs = [Path(a) for a in argv]
    sums = [summary(o) for o in outs]
    keys = list(dict.fromkeys(k for s in sums for k in s))
    print("| | " + " | ".join(o.name for o in outs) + " |")
    print("|---" * (len(outs) + 1) + "|")
    for k in keys:
        print(f"| {k} | " + " | ".join(str(s.get(k, 0)) for s in sums) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
