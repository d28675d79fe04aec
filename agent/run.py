"""`python -m agent run SPEC` and `run --resume RUN_DIR`: drive the graph to a passing
program, with a run directory holding everything needed to audit or continue it.

runs/<spec id>/<timestamp>/
  run.json          what was asked (spec path, configuration) — written first
  checkpoint.sqlite LangGraph checkpoints, one per step (resume continues from the last)
  trajectory.jsonl  every model call with its prompt, completion and outcome
  candidates/       every program the model wrote
  solution.py       the best candidate;  report.json  the verdict and figures

A run stopped by its time limit finalizes as usual (every model call gets the remaining
time); one stopped by Ctrl-C or SIGTERM writes both from its last checkpoint, with
stop_reason "interrupted (SIGTERM)", removes its containers, and can be resumed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.configuration import MODES, RunConfig, add_stage_arguments, stage_options
from agent.context import RunContext
from agent.errors import EXIT_FAIL, EXIT_OK, BadInputError, Interrupted, interrupt_signal
from agent.models.base import add_model_arguments, parse_adapter_args, server_url
from agent.spec import load_spec, with_environment
from sandboxes import BACKENDS, profiles

INTERRUPTED = "interrupted"  # stop_reason prefix of a run a signal stopped
ERROR = "error"  # stop_reason prefix of a run an exception stopped


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    r = sub.add_parser("run", help="let the local model write a program until every check "
                                   "passes")
    r.add_argument("spec", type=Path, nargs="?", help="spec file")
    r.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue an interrupted run")
    add_model_arguments(r, RunConfig.model)
    r.add_argument("--mode", choices=MODES, default="agent")
    r.add_argument("--max-attempts", type=int, default=RunConfig.max_attempts)
    r.add_argument("--max-new-tokens", type=int, default=RunConfig.max_new_tokens)
    r.add_argument("--time-limit", type=float, default=RunConfig.time_limit_s,
                   help="seconds; model calls stop at it and the run ends with its best")
    r.add_argument("--seed", type=int, default=0)
    add_stage_arguments(r)
    r.add_argument("--learn", action=argparse.BooleanOptionalAction, default=RunConfig.learn,
                   help="after a verified solve, add the program to your experience store "
                        "(`gpiot experience path` says where)")
    r.add_argument("--runs-dir", type=Path, default=Path("runs"))
    r.add_argument("--sandbox", default=RunConfig.sandbox, choices=BACKENDS)
    add_environment_argument(r)
    r.set_defaults(func=cmd_run)


def add_environment_argument(p: argparse.ArgumentParser) -> None:
    """`--environment`, shared by run and bench."""
    p.add_argument("--environment", choices=profiles.NAMES, default=None,
                   help="sandbox profile the program is written for and judged in, instead "
                        "of the spec's `environment`: minimal (numpy, scipy) or scientific "
                        "(also scikit-learn, pandas, NeuroKit2)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    for name in ("max_attempts", "max_new_tokens"):
        if getattr(args, name) < 1:
            raise BadInputError(f"run: --{name.replace('_', '-')} must be at least 1")
    return RunConfig(
        model=args.model, backend=args.backend, adapter=parse_adapter_args(args.adapter),
        base_url=server_url(args),
        mode=args.mode,
        max_attempts=args.max_attempts, max_new_tokens=args.max_new_tokens,
        time_limit_s=args.time_limit, seed=args.seed, sandbox=args.sandbox,
        environment=args.environment, learn=args.learn, **stage_options(args, "run"))


def cmd_run(args: argparse.Namespace) -> int:
    if args.resume:
        if args.spec:
            raise BadInputError("run: give either a spec or --resume RUN_DIR, not both")
        return resume_run(args.resume, keep_stopped=True)
    if args.spec is None:
        raise BadInputError("run: give a spec file (or --resume RUN_DIR)")
    cfg = config_from_args(args)
    spec = load_spec(args.spec)
    run_dir = args.runs_dir / spec.id / time.strftime("%Y%m%d-%H%M%S")
    while run_dir.exists():  # two runs in the same second
        run_dir = run_dir.with_name(run_dir.name + "b")
    return start_run(spec.path, cfg, run_dir, keep_stopped=True)


def start_run(spec_path: Path, cfg: RunConfig, run_dir: Path, *, model: Any = None,
              sandbox: Any = None, log: Any = print, keep_stopped: bool = False) -> int:
    """Create the run directory and run the graph to the end; the exit code says solved.

    keep_stopped: on Ctrl-C, SIGTERM or an error, write solution.py and report.json from the
    last checkpoint before the exception propagates (`run` does; a bench restarts an
    unfinished attempt instead, and takes a report.json as finished)."""
    run_dir.mkdir(parents=True, exist_ok=False)
    meta = {"spec_path": str(Path(spec_path).resolve()), "config": cfg.to_dict(),
            "run_id": f"{run_dir.parent.name}-{run_dir.name}", "created": time.time()}
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    return _drive(run_dir, meta, {"spec_path": meta["spec_path"], "run_dir": str(run_dir)},
                  model=model, sandbox=sandbox, log=log, keep_stopped=keep_stopped)


def interrupted(report: dict[str, Any]) -> bool:
    """A report written when a signal stopped the run: it can be resumed."""
    return str(report.get("stop_reason", "")).startswith(INTERRUPTED)


def resume_run(run_dir: Path, *, model: Any = None, sandbox: Any = None,
               log: Any = print, keep_stopped: bool = False) -> int:
    """Continue an interrupted run from its last checkpoint (a finished one just reports;
    one a signal stopped continues unless it was already solved)."""
    meta_file = run_dir / "run.json"
    if not meta_file.is_file():
        raise BadInputError(f"run --resume: {run_dir} is not a run directory (no run.json)")
    report_file = run_dir / "report.json"
    if report_file.is_file():
        report = json.loads(report_file.read_text())
        if report["solved"] or not interrupted(report):
            log(f"{run_dir} already finished: {'SOLVED' if report['solved'] else 'NOT SOLVED'}")
            return EXIT_OK if report["solved"] else EXIT_FAIL
    meta = json.loads(meta_file.read_text())
    log(f"resuming {run_dir}")
    return _drive(run_dir, meta, None, model=model, sandbox=sandbox, log=log,
                  keep_stopped=keep_stopped)


class StopSignals:
    """SIGTERM and SIGINT raised as Interrupted in the main thread while a run is driven, so
    the graph unwinds through every finally block (containers removed) on both; a signal
    that comes while the run is cleaning up waits until the cleanup is done. Handlers that
    someone else installed (or SIG_IGN) are left alone."""

    DEFAULTS = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}

    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.deferring = False
        self.pending: int | None = None
        self.received: int | None = None  # the first stop signal, whoever catches the raise

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum, default in self.DEFAULTS.items():
                if signal.getsignal(signum) == default:
                    self.previous[signum] = signal.signal(signum, self._raise)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _raise(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum
        if self.deferring:
            if self.pending is None:
                self.pending = signum
            return
        raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold stop signals until the block is done, then raise the first one held."""
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.pending is not None:
            signum, self.pending = self.pending, None
            raise Interrupted(signum)


def _drive(run_dir: Path, meta: dict, inputs: dict | None, *, model: Any, sandbox: Any,
           log: Any, keep_stopped: bool) -> int:
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agent.graph import build_graph
    from agent.models import load_model
    from sandboxes import open_sandbox

    cfg = RunConfig.from_dict(meta["config"])
    spec = with_environment(load_spec(meta["spec_path"]), cfg.environment)
    with StopSignals() as stops:
        own_sandbox = sandbox is None
        own_model = model is None
        try:
            sandbox = sandbox or open_sandbox(cfg.sandbox, spec.environment)
            if model is None:
                log(f"[model] loading {cfg.model} ({cfg.backend})")
                model = load_model(cfg.model, backend=cfg.backend, adapter=cfg.adapter,
                                   **cfg.model_options())
            conn = sqlite3.connect(run_dir / "checkpoint.sqlite", check_same_thread=False)
            try:
                app = build_graph(cfg).compile(checkpointer=SqliteSaver(conn))
                config = {"configurable": {"thread_id": meta["run_id"]},
                          "recursion_limit": cfg.recursion_limit}
                # The budget counts from the first start: a resumed run keeps its started_at.
                before = app.get_state(config).values if inputs is None else {}
                started = before.get("started_at") or time.time()
                if inputs is not None:
                    inputs = {**inputs, "started_at": started}
                ctx = RunContext(spec=spec, model=model, sandbox=sandbox, config=cfg,
                                 run_dir=run_dir, log=log, run_id=meta["run_id"],
                                 started_at=started)
                try:
                    final = app.invoke(inputs, config, context=ctx)
                except KeyboardInterrupt as exc:
                    if keep_stopped:
                        with stops.deferred():
                            _keep_stopped(app, config, ctx,
                                          f"{INTERRUPTED} ({interrupt_signal(exc)})")
                    raise
                except Exception as exc:
                    # whatever ends a run early, the attempts it made are the user's: the best
                    # program and a report stay on disk before the error is raised
                    if keep_stopped:
                        with stops.deferred():
                            _keep_stopped(app, config, ctx, f"{ERROR}: {first_line(exc)}")
                    raise
            finally:
                conn.close()
        finally:
            with stops.deferred():
                if own_model and model is not None:
                    model.close()
                if own_sandbox and sandbox is not None:
                    sandbox.close()
    return EXIT_OK if final.get("solved") else EXIT_FAIL


def first_line(exc: BaseException) -> str:
    """An exception as one line of a report: its message's first line, else its type."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _keep_stopped(app: Any, config: dict, ctx: RunContext, reason: str) -> None:
    """solution.py and report.json of a run a signal or an error stopped, from its last
    checkpoint (only what was already measured: nothing more is run)."""
    from agent.nodes.finalize import write_artifacts

    try:
        write_artifacts(app.get_state(config).values, ctx, reason, judge=False)
    except Exception as err:  # noqa: BLE001 - the exit and the cleanup come first
        ctx.log(f"[run] {reason}; the report could not be written: {err}")
        return
    ctx.log(f"[run] {reason}; continue with `gpiot run --resume {ctx.run_dir}`")
