"""`python -m agent run SPEC` and `run --resume RUN_DIR`: drive the graph to a passing
program, with a run directory holding everything needed to audit or continue it.

runs/<spec id>/<timestamp>/
  run.json          what was asked (spec path, configuration) — written first
  checkpoint.sqlite LangGraph checkpoints, one per step (resume continues from the last)
  trajectory.jsonl  every model call with its prompt, completion and outcome
  candidates/       every program the model wrote
  solution.py       the best candidate;  report.json  the verdict and figures
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from agent.configuration import MODES, RunConfig, add_stage_arguments, stage_options
from agent.context import RunContext
from agent.errors import EXIT_FAIL, EXIT_OK, BadInputError
from agent.models.base import add_adapter_argument, parse_adapter_args
from agent.spec import load_spec
from sandboxes import BACKENDS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    r = sub.add_parser("run", help="let the local model write a program until every check "
                                   "passes")
    r.add_argument("spec", type=Path, nargs="?", help="spec file")
    r.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue an interrupted run")
    r.add_argument("--model", default=RunConfig.model, help="registered name, .gguf or HF dir")
    r.add_argument("--backend", choices=["auto", "llama", "hf"], default="auto")
    add_adapter_argument(r)
    r.add_argument("--mode", choices=MODES, default="agent")
    r.add_argument("--max-attempts", type=int, default=RunConfig.max_attempts)
    r.add_argument("--max-new-tokens", type=int, default=RunConfig.max_new_tokens)
    r.add_argument("--time-limit", type=float, default=RunConfig.time_limit_s,
                   help="seconds; the run stops after the round that passes it")
    r.add_argument("--seed", type=int, default=0)
    add_stage_arguments(r)
    r.add_argument("--runs-dir", type=Path, default=Path("runs"))
    r.add_argument("--sandbox", default=RunConfig.sandbox, choices=BACKENDS)
    r.set_defaults(func=cmd_run)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    for name in ("max_attempts", "max_new_tokens"):
        if getattr(args, name) < 1:
            raise BadInputError(f"run: --{name.replace('_', '-')} must be at least 1")
    return RunConfig(
        model=args.model, backend=args.backend, adapter=parse_adapter_args(args.adapter),
        mode=args.mode,
        max_attempts=args.max_attempts, max_new_tokens=args.max_new_tokens,
        time_limit_s=args.time_limit, seed=args.seed, sandbox=args.sandbox,
        **stage_options(args, "run"))


def cmd_run(args: argparse.Namespace) -> int:
    if args.resume:
        if args.spec:
            raise BadInputError("run: give either a spec or --resume RUN_DIR, not both")
        return resume_run(args.resume)
    if args.spec is None:
        raise BadInputError("run: give a spec file (or --resume RUN_DIR)")
    cfg = config_from_args(args)
    spec = load_spec(args.spec)
    run_dir = args.runs_dir / spec.id / time.strftime("%Y%m%d-%H%M%S")
    while run_dir.exists():  # two runs in the same second
        run_dir = run_dir.with_name(run_dir.name + "b")
    return start_run(spec.path, cfg, run_dir)


def start_run(spec_path: Path, cfg: RunConfig, run_dir: Path, *, model: Any = None,
              sandbox: Any = None, log: Any = print) -> int:
    """Create the run directory and run the graph to the end; the exit code says solved."""
    run_dir.mkdir(parents=True, exist_ok=False)
    meta = {"spec_path": str(Path(spec_path).resolve()), "config": cfg.to_dict(),
            "run_id": f"{run_dir.parent.name}-{run_dir.name}", "created": time.time()}
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    return _drive(run_dir, meta, {"spec_path": meta["spec_path"], "run_dir": str(run_dir)},
                  model=model, sandbox=sandbox, log=log)


def resume_run(run_dir: Path, *, model: Any = None, sandbox: Any = None,
               log: Any = print) -> int:
    """Continue an interrupted run from its last checkpoint (a finished one just reports)."""
    meta_file = run_dir / "run.json"
    if not meta_file.is_file():
        raise BadInputError(f"run --resume: {run_dir} is not a run directory (no run.json)")
    report = run_dir / "report.json"
    if report.is_file():
        solved = json.loads(report.read_text())["solved"]
        log(f"{run_dir} already finished: {'SOLVED' if solved else 'NOT SOLVED'}")
        return EXIT_OK if solved else EXIT_FAIL
    meta = json.loads(meta_file.read_text())
    log(f"resuming {run_dir}")
    return _drive(run_dir, meta, None, model=model, sandbox=sandbox, log=log)


def _drive(run_dir: Path, meta: dict, inputs: dict | None, *, model: Any, sandbox: Any,
           log: Any) -> int:
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agent.graph import build_graph
    from agent.models import load_model
    from sandboxes import open_sandbox

    cfg = RunConfig.from_dict(meta["config"])
    spec = load_spec(meta["spec_path"])
    own_sandbox = sandbox is None
    sandbox = sandbox or open_sandbox(cfg.sandbox)
    own_model = model is None
    try:
        if model is None:
            log(f"[model] loading {cfg.model} ({cfg.backend})")
            model = load_model(cfg.model, backend=cfg.backend, adapter=cfg.adapter)
        ctx = RunContext(spec=spec, model=model, sandbox=sandbox, config=cfg, run_dir=run_dir,
                         log=log, run_id=meta["run_id"])
        conn = sqlite3.connect(run_dir / "checkpoint.sqlite", check_same_thread=False)
        try:
            app = build_graph(cfg).compile(checkpointer=SqliteSaver(conn))
            final = app.invoke(inputs, {"configurable": {"thread_id": meta["run_id"]},
                                        "recursion_limit": cfg.recursion_limit}, context=ctx)
        finally:
            conn.close()
    finally:
        if own_model and model is not None:
            model.close()
        if own_sandbox:
            sandbox.close()
    return EXIT_OK if final.get("solved") else EXIT_FAIL
