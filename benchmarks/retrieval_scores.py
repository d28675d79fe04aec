"""How confident retrieval is on each task: the best card and its BM25 score for IoTBench
(validation) and the generator tasks (train/dev), to choose the floor above which the first
draft is given the cards' helpers (`--first-helpers`, `--helpers-floor`). No model runs.

    python benchmarks/retrieval_scores.py [--environment minimal]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from agent import knowledge as kb
from agent.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default="minimal")
    parser.add_argument("--tasks", default=str(ROOT / "iotbench" / "tasks"))
    args = parser.parse_args()
    rows = []
    for path in sorted(Path(args.tasks).rglob("spec.yaml")):
        spec = load_spec(path)
        ranked = kb.score("\n".join([spec.title, spec.requirement]),
                          environment=args.environment)
        best, top = ranked[0] if ranked else (None, 0.0)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        rows.append((spec.id, best.id if best else "-", top, second))
        print(f"{spec.id:<34} {rows[-1][1]:<24} {top:6.2f} {second:6.2f}")
    tops = [r[2] for r in rows]
    print(f"\n{len(rows)} tasks; best-card score median {statistics.median(tops):.2f}, "
          + ", ".join(f">= {f:g}: {sum(t >= f for t in tops)}" for f in (5, 8, 10, 12, 15)))


if __name__ == "__main__":
    main()
