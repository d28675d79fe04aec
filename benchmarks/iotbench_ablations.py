"""Stage ablations on IoTBench: one `bench` per variant (the same variants as
run_examples.py), each into its own resumable OUT, then `bench-compare` side by side.

usage: python benchmarks/iotbench_ablations.py --out DIR [--model M] [--variants V ...]
       [--dry-run] [-- more bench flags, e.g. --max-attempts 4 --time-limit 150 --tasks 'ppg-*']
A full pass is about 2 h per variant for the 1.5B on 2 CPU cores (BENCHMARKS.md); run it
where there is time, or on a GPU with --jobs N. Re-running the same command resumes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_examples import ROOT, VARIANTS  # noqa: E402


def commands(out: Path, model: str, variants: list[str], extra: list[str]) -> list[list[str]]:
    """The bench command per variant, then the comparison of them all."""
    runs = [[sys.executable, "-m", "agent", "bench", "--model", model, "--out",
             str(out / variant), *VARIANTS[variant], *extra] for variant in variants]
    compare = [sys.executable, "-m", "agent", "bench-compare",
               *[str(out / v) for v in variants]]
    return [*runs, compare]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--model", default="qwen2.5-coder-1.5b")
    p.add_argument("--variants", nargs="+", choices=sorted(VARIANTS),
                   default=["agent", "no-lint", "no-controller", "no-recipes", "one-candidate",
                            "retrieve", "decompose"])
    p.add_argument("--dry-run", action="store_true", help="print the commands only")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more `bench` flags")
    args = p.parse_args()
    extra = [x for x in args.extra if x != "--"]
    for cmd in commands(args.out, args.model, args.variants, extra):
        print(" ".join(cmd[1:]), flush=True)
        if not args.dry_run:
            code = subprocess.call(cmd, cwd=ROOT)
            if code not in (0, 1):  # 1: some task unsolved, which is what is measured
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
