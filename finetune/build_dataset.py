"""Build the execution-verified fine-tuning dataset.

    python -m finetune.build_dataset --out finetune/out/v1 --per-generator 12 --seed 0
        [--sandbox docker-warm] [--generators a,b] [--max-mutants 2]
        [--trajectories runs/]  [--sample finetune/data/sample]

Per generator and variant: write the task (spec v1 + traces) under OUT/tasks/, run the
reference through the sandbox (all cases, hidden included; a failing reference drops the
task), emit a decomposition and a code-generation example, and up to --max-mutants repair
examples from faulty variants that really fail. Solved agent runs under --trajectories are
converted too (rejection sampling). Then the decontamination report is written and the
build fails (exit 1) when any target overlaps an IoTBench/examples reference above the
threshold. Exit codes: 0 built and clean, 1 contaminated, 2 bad arguments, 3 no sandbox.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from agent.errors import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, exit_code_of
from finetune import decontaminate
from finetune.data import manifest as mf
from finetune.data.pipeline import task_examples
from finetune.data.trajectories import convert_runs
from finetune.generators import DEV_SEED_BASE, GENERATORS

SAMPLE_PER_ROLE = 12  # the committed sample: <= 50 examples in all


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m finetune.build_dataset",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path, help="output directory (outside git)")
    p.add_argument("--per-generator", type=int, default=10, help="variants per generator")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sandbox", default="docker-warm",
                   help="sandbox backend (docker-warm, docker-cold, bwrap)")
    p.add_argument("--generators", default="", help="comma-separated subset (default: all)")
    p.add_argument("--max-mutants", type=int, default=2, help="repair examples per task")
    p.add_argument("--trajectories", type=Path, default=None,
                   help="runs directory whose solved runs are converted")
    p.add_argument("--threshold", type=float, default=decontaminate.THRESHOLD,
                   help="max shared fraction of n-grams with any IoTBench/example reference")
    p.add_argument("--sample", type=Path, default=None,
                   help="also write a small sample (<= 50 examples) to this directory")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def build(args: argparse.Namespace, argv: list[str]) -> int:
    names = [n for n in args.generators.split(",") if n] or list(GENERATORS)
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        print(f"error: unknown generator(s) {', '.join(unknown)}; known: "
              f"{', '.join(GENERATORS)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.seed >= DEV_SEED_BASE:
        print(f"error: --seed {args.seed}: seeds from {DEV_SEED_BASE} on draw the dev split "
              "(`bench dev`), never training data", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.per_generator < 1 or args.max_mutants < 0:
        print("error: --per-generator must be >= 1 and --max-mutants >= 0", file=sys.stderr)
        return EXIT_BAD_INPUT
    from sandboxes import open_sandbox

    log = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    started = time.time()
    sandbox = open_sandbox(args.sandbox)
    examples: list[dict[str, Any]] = []
    dropped: Counter = Counter()
    faults: Counter = Counter()
    failures: Counter = Counter()
    sources: list[dict[str, Any]] = []
    executions = 0
    tasks_root = args.out / "tasks"
    try:
        for name in names:
            gen = GENERATORS[name]
            t0 = time.time()
            n_before = len(examples)
            for i in range(args.per_generator):
                task = gen.make(args.seed, i, tasks_root)
                res = task_examples(task, sandbox, i, args.max_mutants)
                examples += res.examples
                dropped.update(res.dropped)
                faults.update(res.faults)
                failures.update(res.failures)
                executions += res.executions
                for s in task.draft.sources:
                    sources.append({"task": task.task_id, **s})
            log(f"[build] {name}: {len(examples) - n_before} examples from "
                f"{args.per_generator} variants in {time.time() - t0:.1f} s")
    finally:
        sandbox.close()
    traj_stats: dict[str, Any] = {}
    if args.trajectories is not None:
        conv = convert_runs(args.trajectories)
        examples += conv.examples
        traj_stats = conv.stats()
        log(f"[build] trajectories: {len(conv.examples)} examples from "
            f"{traj_stats['runs_kept']} solved run(s) ({traj_stats['runs_seen']} seen)")
    report = decontaminate.report(examples, threshold=args.threshold)
    report["traces"] = decontaminate.trace_overlap(
        [tasks_root / n for n in names if GENERATORS[n].real_data])
    if report["traces"]["overlapping"]:
        report["clean"] = False
    decontaminate.write_report(report, args.out)
    files = mf.write_jsonl(args.out, examples)
    elapsed = time.time() - started
    extra = {"seed": args.seed, "per_generator": args.per_generator,
             "generators": {n: {"modality": GENERATORS[n].modality,
                                "real_data": GENERATORS[n].real_data} for n in names},
             "builder": "python -m finetune.build_dataset " + shlex.join(argv),
             "sandbox": args.sandbox, "executions": executions,
             "dropped": dict(dropped), "repair_faults": dict(faults),
             "repair_failure_classes": dict(failures), "real_segments": sources,
             "trajectories": traj_stats, "build_seconds": round(elapsed, 1),
             "decontamination": {k: report[k] for k in ("threshold", "clean", "max_code",
                                                        "max_text", "flagged_count")}}
    mf.write_manifest(args.out, files, examples, extra)
    if args.sample is not None:
        write_sample(args.sample, examples, extra)
    c = mf.counts(examples)
    log(f"[build] {c['total']} verified examples {c['by_role']} in {elapsed:.0f} s "
        f"({executions} sandbox executions) -> {args.out}")
    if not report["clean"]:
        print(f"error: decontamination failed: {report['flagged_count']} example(s) share "
              f"more than {args.threshold} of their n-grams with an IoTBench/example "
              f"reference, {len(report['traces']['overlapping'])} trace(s) overlap (see "
              f"{args.out / 'decontamination.md'})", file=sys.stderr)
        return EXIT_FAIL
    log(f"[build] decontamination clean: max code overlap {report['max_code']:.3f}, max "
        f"requirement overlap {report['max_text']:.3f} (threshold {args.threshold})")
    return EXIT_OK


def write_sample(where: Path, examples: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    """A few examples per role, spread over generators, for the training code's tests."""
    picked: list[dict[str, Any]] = []
    for role in mf.ROLES:
        rows = [e for e in examples if e["role"] == role]
        seen: set[str] = set()
        for e in rows:  # one per generator first, then fill up
            g = e["task"].split("/")[0]
            if g not in seen and len([x for x in picked if x["role"] == role]) < SAMPLE_PER_ROLE:
                picked.append(e)
                seen.add(g)
        for e in rows:
            if len([x for x in picked if x["role"] == role]) >= SAMPLE_PER_ROLE:
                break
            if e not in picked:
                picked.append(e)
    files = mf.write_jsonl(where, picked)
    mf.write_manifest(where, files, picked, {**extra, "sample_of": "full build",
                                             "real_segments": [], "sample": True})


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    return exit_code_of(lambda: build(args, argv))


if __name__ == "__main__":
    sys.exit(main())
