"""Benchmark the agent loop on the example specs: solved?, attempts, tokens, wall time and
peak RSS per spec, model and mode (or ablation), side by side in one run.

Each run is a separate `python -m agent run` process (so peak RSS is its own).
usage: python benchmarks/run_examples.py [--models M ...] [--variants V ...] [--specs ID ...]
variants: agent (the defaults), single-shot, and one stage switched on or off in turn:
decompose, decompose-only, retrieve, retrieve-code, no-lint, no-controller, no-recipes,
one-candidate
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {
    "agent": [],
    "single-shot": ["--mode", "single-shot"],
    "decompose": ["--decompose", "--specify"],
    "decompose-only": ["--decompose", "--no-specify"],
    "retrieve": ["--retrieve"],
    "retrieve-code": ["--retrieve", "--knowledge-code"],
    "no-lint": ["--no-lint"],
    "no-controller": ["--no-controller"],
    "no-recipes": ["--no-recipes"],
    "one-candidate": ["--candidates", "1"],
}


def run_one(spec: Path, model: str, variant: str, runs_dir: Path, extra: list[str]) -> dict:
    """One run in a child process; its report plus wall time and peak RSS."""
    out_dir = runs_dir / model / variant
    cmd = [sys.executable, "-m", "agent", "run", str(spec), "--model", model,
           "--runs-dir", str(out_dir), *VARIANTS[variant], *extra]
    # the child's log goes to a file, never an unread pipe: a pipe blocks the child once it
    # holds 64 KiB, and a crashed run must show why, not just its exit code
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / f"{spec.parent.name}.stderr.log"
    start = time.monotonic()
    with log.open("ab") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    reports = sorted(out_dir.glob(f"{spec.parent.name}/*/report.json"))
    rep = json.loads(reports[-1].read_text()) if reports else {}
    return {"spec": spec.parent.name, "model": model, "variant": variant, "flags": extra,
            "exit": os.waitstatus_to_exitcode(status), "solved": rep.get("solved", False),
            "attempts": len(rep.get("attempts", [])), "tokens_out": rep.get("tokens_out", 0),
            "tokens_in": rep.get("tokens_in", 0), "wall_s": round(wall, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "stop": rep.get("stop_reason", "?"),
            "log": str(log)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b"])
    p.add_argument("--variants", nargs="+", default=["agent", "single-shot"],
                   choices=sorted(VARIANTS))
    p.add_argument("--specs", nargs="+", help="example ids (default: all)")
    p.add_argument("--runs-dir", type=Path, default=ROOT / "runs" / "bench")
    p.add_argument("--results", type=Path, default=ROOT / "runs" / "bench" / "results.jsonl")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more `run` flags")
    args = p.parse_args()
    specs = sorted((ROOT / "examples").glob("*/spec.yaml"))
    if args.specs:
        specs = [s for s in specs if s.parent.name in args.specs]
    extra = [x for x in args.extra if x != "--"]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'spec':<18} {'model':<20} {'variant':<18} solved attempts tokens_out  wall_s  "
          "rss_MB")
    for spec in specs:
        for model in args.models:
            for variant in args.variants:
                row = run_one(spec, model, variant, args.runs_dir, extra)
                rows.append(row)
                with args.results.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"{row['spec']:<18} {model:<20} {variant:<18} {str(row['solved']):<6} "
                      f"{row['attempts']:>8} {row['tokens_out']:>10} {row['wall_s']:>7} "
                      f"{row['peak_rss_mb']:>7}", flush=True)
    print("\nsolved per model and variant:")
    for model in args.models:
        for variant in args.variants:
            sel = [r for r in rows if r["model"] == model and r["variant"] == variant]
            print(f"  {model:<20} {variant:<18} {sum(r['solved'] for r in sel)}/{len(sel)}")


if __name__ == "__main__":
    main()
