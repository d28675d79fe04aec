"""`python -m agent bench [DIR]`: run the agent over every task spec below DIR and measure it.

One task attempt is one `start_run` (agent/run.py), with the model and the sandbox loaded
once per worker, not per task; the workers are processes on this machine (`--executor local`)
or Ray actors on a Ray cluster (`--executor ray`), and either way the records come back to this
process, which appends them. Each finished attempt is appended to OUT/results.jsonl as one
line (written, flushed and fsync'ed under a lock), so a killed bench loses nothing finished
and a re-run into the same OUT does only what is missing. OUT/bench.json pins the
configuration: resuming with a different one is refused, because the figures would mix.

OUT/
  bench.json      the configuration (and the task list when it started)
  results.jsonl   one line per finished (task, sample): verdict, tokens, wall time, cases
  runs/<task>/s<k>/  the run directory of each attempt (solution.py, report.json, ...)
  logs/<task>.s<k>.log  the run's step lines
  report.md, report.html  the summary (agent/report.py; `bench-report OUT` redraws them)
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import multiprocessing as mp
import os
import queue
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from agent.configuration import (
    MODES,
    RunConfig,
    add_stage_arguments,
    changed_stages,
    stage_options,
)
from agent.errors import EXIT_OK, BadInputError, GpiotError, InfraError, interrupt_exit_code
from agent.models.base import add_model_arguments, parse_adapter_args, server_url
from agent.results import append_result, load_results
from agent.run import add_environment_argument
from sandboxes import BACKENDS

DEFAULT_TASKS = Path("iotbench/tasks")
DEV = "dev"  # `bench dev --sample N`: generator tasks of the dev split, not a directory
SAMPLE_TEMPERATURE = 0.8  # Chen et al. (2021) sample at 0.8 for pass@k with k > 1


@dataclass
class BenchConfig:
    """What a bench measures; saved as bench.json so a resume cannot mix configurations."""

    tasks_dir: str
    tasks: str = "*"  # glob on task ids or paths relative to tasks_dir
    sample: int = 0  # a seeded draw of this many of the matching tasks (0: all of them)
    model: str = RunConfig.model
    backend: str = "auto"
    base_url: str | None = None  # the server of an openai:NAME model
    adapter: str | dict[str, str] | None = None  # one for all, or per role
    mode: str = "agent"
    samples: int = 1
    seed: int = 0
    temperature: float = 0.0  # floor for every model call; > 0 makes samples differ
    max_attempts: int = RunConfig.max_attempts
    time_limit_s: float = RunConfig.time_limit_s
    sandbox: str = RunConfig.sandbox
    environment: str | None = None  # a profile for every task instead of each spec's
    # stage switches and --candidates that differ from RunConfig's defaults (ablations)
    stages: dict[str, Any] = field(default_factory=dict)

    def run_config(self, sample: int) -> RunConfig:
        return RunConfig(model=self.model, backend=self.backend, base_url=self.base_url,
                         adapter=self.adapter,
                         mode=self.mode, max_attempts=self.max_attempts,
                         time_limit_s=self.time_limit_s, seed=self.seed + sample,
                         sandbox=self.sandbox, environment=self.environment, learn=False,
                         own_experience=False,
                         **self.stages)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Task:
    id: str
    spec_path: str
    category: str
    difficulty: str
    environment: str = "minimal"  # the spec's own (BenchConfig.environment overrides it)


def tag_value(tags: Iterable[str], key: str, default: str) -> str:
    """The value of the first `key:value` tag (spec tags carry category, difficulty...)."""
    return next((t.split(":", 1)[1] for t in tags if t.startswith(key + ":")), default)


def discover(tasks_dir: Path, pattern: str = "*", sample: int = 0, seed: int = 0
             ) -> list[Task]:
    """Every spec.yaml below tasks_dir (sorted) whose id or relative path matches pattern;
    with `sample`, a draw of that many of them fixed by `seed` (kept in sorted order).

    All specs are loaded first, so a bad one stops the bench before any model is loaded.
    """
    from agent.spec import load_spec

    if not tasks_dir.is_dir():
        raise BadInputError(f"bench: {tasks_dir}: no such directory of task specs")
    tasks: dict[str, Task] = {}
    for path in sorted(tasks_dir.rglob("spec.yaml")):
        rel = path.parent.relative_to(tasks_dir).as_posix()
        spec = load_spec(path)
        if not (fnmatch.fnmatch(spec.id, pattern) or fnmatch.fnmatch(rel, pattern)):
            continue
        if spec.id in tasks:
            raise BadInputError(f"bench: task id {spec.id!r} is used by both "
                                f"{tasks[spec.id].spec_path} and {path}")
        tasks[spec.id] = Task(spec.id, str(path.resolve()),
                              tag_value(spec.tags, "category", "uncategorised"),
                              tag_value(spec.tags, "difficulty", "unrated"), spec.environment)
    if not tasks:
        raise BadInputError(f"bench: no spec.yaml under {tasks_dir} matches --tasks {pattern!r}")
    found = list(tasks.values())
    if sample:
        if sample > len(found):
            raise BadInputError(f"bench: --sample {sample} but only {len(found)} task(s) under "
                                f"{tasks_dir} match --tasks {pattern!r}")
        import random

        keep = set(random.Random(f"gpiot-bench-sample-{seed}").sample(range(len(found)),
                                                                       sample))
        found = [t for i, t in enumerate(found) if i in keep]
    return found


# -- results.jsonl: one atomic line per finished attempt -------------------------------------

def pin_config(out: Path, cfg: BenchConfig, tasks: list[Task]) -> None:
    """Write bench.json, or refuse (exit 2) when OUT holds a bench of another configuration."""
    from agent.checker import atomic_write

    file = out / "bench.json"
    if file.is_file():
        old = json.loads(file.read_text())["config"]
        defaults = asdict(BenchConfig(tasks_dir=""))  # a key added later reads as its default
        diff = [k for k, v in asdict(cfg).items() if old.get(k, defaults[k]) != v]
        if not diff:
            return
        if load_results(out):
            what = ", ".join(f"{k} {old.get(k, defaults[k])!r} -> {getattr(cfg, k)!r}"
                             for k in diff)
            raise BadInputError(f"bench: {out} holds a bench with another configuration "
                                f"({what}); use another --out or the same options")
        # nothing was measured under the old one (say, a mistyped model name): replace it
    atomic_write(file, json.dumps({"config": asdict(cfg), "tasks": [t.id for t in tasks],
                                   "created": time.time()}, indent=2) + "\n")


# -- one attempt -----------------------------------------------------------------------------

class SampledModel:
    """Wraps a ChatModel so every call samples at >= temperature (pass@k needs samples that
    differ; the loop's first draft is otherwise greedy). Seeds still come from the run."""

    def __init__(self, model: Any, temperature: float) -> None:
        self.model, self.temperature = model, temperature
        self.name, self.sha256 = model.name, model.sha256

    def generate(self, messages: list[dict], **kw: Any) -> Any:
        kw["temperature"] = max(kw.get("temperature") or 0.0, self.temperature)
        return self.model.generate(messages, **kw)

    def generate_many(self, messages: list[dict], temperatures: list[float], seeds: list[Any],
                      **kw: Any) -> Any:
        hotter = [max(t or 0.0, self.temperature) for t in temperatures]
        return self.model.generate_many(messages, hotter, seeds, **kw)

    def close(self) -> None:
        self.model.close()


def run_attempt(task: Task, sample: int, cfg: BenchConfig, out: Path, model: Any,
                sandbox: Any) -> dict[str, Any]:
    """One agent run of one task; returns its results.jsonl record.

    A run directory left by a killed bench is started afresh, unless it finished (its
    report.json is written atomically) and only the result line was lost.
    """
    from agent.run import start_run

    run_dir = out / "runs" / task.id / f"s{sample}"
    log_file = out / "logs" / f"{task.id}.s{sample}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"task": task.id, "sample": sample, "seed": cfg.seed + sample,
                              "category": task.category, "difficulty": task.difficulty,
                              "environment": cfg.environment or task.environment,
                              "spec_path": task.spec_path,
                              "run_dir": run_dir.relative_to(out).as_posix(), "error": ""}
    started = time.time()
    if not (run_dir / "report.json").is_file():
        shutil.rmtree(run_dir, ignore_errors=True)
        with open(log_file, "w", encoding="utf-8", buffering=1) as log:
            try:
                start_run(Path(task.spec_path), cfg.run_config(sample), run_dir, model=model,
                          sandbox=sandbox, log=lambda line: print(line, file=log))
            except GpiotError:
                raise  # infrastructure or input: the bench cannot go on
            except Exception as exc:  # a bug in one run must not end a long bench
                record["error"] = f"{type(exc).__name__}: {exc}"[:500]
                print(f"[bench] {record['error']}", file=log)
    report_file = run_dir / "report.json"
    if record["error"] or not report_file.is_file():
        record["error"] = record["error"] or "the run ended without a report.json"
        return {**record, "solved": False, "tokens_in": 0, "tokens_out": 0,
                "wall_s": round(time.time() - started, 2), "cases": []}
    report = json.loads(report_file.read_text())
    return {**record, "solved": bool(report["solved"]), "stop_reason": report["stop_reason"],
            "tokens_in": report["tokens_in"], "tokens_out": report["tokens_out"],
            "wall_s": report["wall_s"], "attempts": len(report["attempts"]),
            "model_sha256": report["model"]["sha256"], "cases": report["cases"],
            "finished": time.time()}


def default_loader(cfg: BenchConfig) -> Any:
    from agent.models import load_model

    return load_model(cfg.model, backend=cfg.backend, adapter=cfg.adapter,
                      **cfg.run_config(0).model_options())


Job = tuple[Task, int]


class Worker:
    """One worker's model and sandbox, loaded once for all the jobs it is given. The local
    executor and each Ray actor are this class, so a job runs the same way on both. Loading is
    `start`, not `__init__`: Ray reports a failed constructor only as text, a failed method
    call with the exception itself (its exit code and line)."""

    def __init__(self) -> None:
        self.model: Any = None
        self.sandboxes: Any = None

    def start(self, cfg: BenchConfig, out: Path, load: Callable[[BenchConfig], Any]) -> None:
        from sandboxes import SandboxPool

        self.cfg, self.out = cfg, out
        model = load(cfg)
        self.model = SampledModel(model, cfg.temperature) if cfg.temperature > 0 else model
        self.sandboxes = SandboxPool(cfg.sandbox)
        self.sandboxes.get(cfg.environment)  # Docker and the image answer before any job

    def run(self, job: Job) -> dict[str, Any]:
        """One attempt; its results.jsonl record (the caller appends it)."""
        task, sample = job
        sandbox = self.sandboxes.get(self.cfg.environment or task.environment)
        return run_attempt(task, sample, self.cfg, self.out, self.model, sandbox)

    def close(self) -> None:
        try:
            if self.sandboxes is not None:
                self.sandboxes.close()
        finally:
            if self.model is not None:
                self.model.close()


def work(cfg: BenchConfig, out: Path, jobs: Iterable[Job], load: Callable[[BenchConfig], Any],
         on_done: Callable[[dict[str, Any]], None]) -> None:
    """A local worker: run the jobs it is given, appending each record as it finishes."""
    worker = Worker()
    try:
        worker.start(cfg, out, load)
        for job in jobs:
            rec = worker.run(job)
            append_result(out / "results.jsonl", rec)
            on_done(rec)
    finally:
        worker.close()


class _WorkerFailed(GpiotError):
    def __init__(self, code: int, line: str) -> None:
        super().__init__(line)
        self.exit_code = code


def _workers_died(left: int) -> InfraError:
    return InfraError(f"bench: the workers died with {left} attempt(s) to go (their errors are "
                      "above); fix that and run the same command again to finish")


def _worker_main(cfg: BenchConfig, out: Path, todo: Any, done: Any,
                 load: Callable[[BenchConfig], Any], parent: int) -> None:
    def jobs() -> Iterable[Job]:
        while os.getppid() == parent:  # a killed bench: finish the run in hand, then stop
            try:
                job = todo.get(timeout=2.0)
            except queue.Empty:
                continue
            if job is None:
                return
            yield job

    try:
        work(cfg, out, jobs(), load, lambda rec: done.put(("done", rec)))
    except GpiotError as exc:
        done.put(("fatal", exc.exit_code, exc.line()))
    except KeyboardInterrupt:
        pass


def run_pool(cfg: BenchConfig, out: Path, todo: list[Job], n: int,
             load: Callable[[BenchConfig], Any],
             on_done: Callable[[dict[str, Any]], None]) -> None:
    """N spawned worker processes, each with its own model, sharing one job queue."""
    ctx = mp.get_context("spawn")  # no fork of a process holding Docker or model threads
    jobs_q, done_q = ctx.Queue(), ctx.Queue()
    for job in todo:
        jobs_q.put(job)
    for _ in range(n):
        jobs_q.put(None)
    procs = [ctx.Process(target=_worker_main, args=(cfg, out, jobs_q, done_q, load, os.getpid()))
             for _ in range(n)]
    for p in procs:
        p.start()
    try:
        left = len(todo)
        while left:
            try:
                msg = done_q.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    raise _workers_died(left) from None
                continue
            if msg[0] == "fatal":
                for p in procs:  # the others would go on with the queue for nothing
                    p.terminate()
                raise _WorkerFailed(msg[1], msg[2])
            on_done(msg[1])
            left -= 1
    finally:
        for p in procs:
            p.join(timeout=30)  # a Ctrl-C reached the workers too: they close and leave
            if p.is_alive():
                p.terminate()
                p.join()


# -- the Ray executor: the same workers as actors, on one machine or a cluster -------------------

RAY_PIN = "ray==2.60.0"  # pyproject's `ray` extra


def _reachable(address: str) -> None:
    """One line (exit 3) when nothing listens at HOST:PORT: Ray itself retries for minutes
    and fills stderr with C++ warnings before it gives up on a wrong address."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise BadInputError(f"bench: --ray-address {address!r}: expected HOST:PORT, the "
                            "address `ray start --head` prints (port 6379 by default)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise InfraError(f"bench: no Ray cluster answers at {address} "
                         f"({exc.strerror or exc}); start one there with `ray start --head`, "
                         "or leave out --ray-address for a Ray on this machine") from None


def connect_ray(address: str | None) -> tuple[Any, bool]:
    """The ray module, connected to the cluster at address (or $RAY_ADDRESS, as Ray reads it),
    or to a Ray started on this machine; and whether this call started it (then the caller
    shuts it down). A Ray already initialised in this process is used as it is."""
    try:
        import ray
    except ImportError:
        raise InfraError(f"bench: --executor ray needs Ray: python3 -m pip install "
                         f"'{RAY_PIN}' (the gpiot[ray] extra)") from None
    if ray.is_initialized():
        return ray, False
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address not in (None, "auto", "local"):
        _reachable(address)
    # ray.init installs SIGTERM handlers of its own that outlive ray.shutdown (sys.exit in
    # the driver): this process keeps its own, so a stop signal means what it means elsewhere
    ours = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        ray.init(address=address)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise InfraError(f"bench: cannot use the Ray cluster at {address or 'this machine'}: "
                         f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        restore_signals(ours)
    return ray, True


def restore_signals(handlers: dict[int, Any]) -> None:
    """Put back the handlers a library replaced (only the main thread may set them)."""
    if threading.current_thread() is threading.main_thread():
        for signum, handler in handlers.items():
            if handler is not None:
                signal.signal(signum, handler)


def run_ray(ray: Any, cfg: BenchConfig, out: Path, todo: list[Job], n: int,
            load: Callable[[BenchConfig], Any],
            on_done: Callable[[dict[str, Any]], None]) -> None:
    """N Worker actors (one CPU each: `ray start --num-cpus K` caps the models on a node), one
    job in flight per actor; each record comes back here and is appended as it arrives, so
    results.jsonl and resuming are the local executor's. Failures end the bench as in
    run_pool: a GpiotError with its own exit code and line, a dead worker is dropped and the
    bench ends when none is left."""
    actors: list[Any] = []
    live: list[Any] = []  # started and not failed
    pending: dict[Any, Any] = {}  # ref of a start or run call -> its actor
    try:
        actor_cls = ray.remote(num_cpus=1)(Worker)
        jobs = iter(todo)
        for _ in range(n):
            actors.append(actor_cls.remote())
            pending[actors[-1].start.remote(cfg, out.resolve(), load)] = actors[-1]
        left = len(todo)
        while left:
            if not pending:
                raise _workers_died(left)
            [ref], _ = ray.wait(list(pending), num_returns=1)
            actor = pending.pop(ref)
            try:
                rec = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                if isinstance(exc.cause, GpiotError):
                    raise _WorkerFailed(exc.cause.exit_code, exc.cause.line()) from None
                print(f"[bench] a Ray worker failed: {type(exc.cause).__name__}: {exc.cause}",
                      file=sys.stderr, flush=True)
                ray.kill(actor)
                live[:] = [a for a in live if a != actor]
                continue
            except ray.exceptions.RayActorError as exc:  # its process or its node died
                print(f"[bench] a Ray worker died: {str(exc).splitlines()[0]}",
                      file=sys.stderr, flush=True)
                live[:] = [a for a in live if a != actor]
                continue
            if rec is None:  # start returned: the model is loaded
                live.append(actor)
            else:
                append_result(out / "results.jsonl", rec)
                on_done(rec)
                left -= 1
            job = next(jobs, None)
            if job is not None:
                pending[actor.run.remote(job)] = actor
    finally:
        busy = set(pending.values())
        try:  # the idle ones close their sandbox and model, as a local worker does
            ray.get([a.close.remote() for a in live if a not in busy], timeout=60)
        except Exception as exc:  # noqa: BLE001 - never hide the error that ended the bench
            print(f"[bench] closing the Ray workers failed: {exc}", file=sys.stderr)
        finally:
            # Ray cannot interrupt a running method: a busy one (after a Ctrl-C or a failure)
            # is killed with its attempt, and its container goes at the node's next gpiot start
            for actor in actors:
                ray.kill(actor)


# -- progress --------------------------------------------------------------------------------

class Progress:
    """A plain-text bar on stderr; without a tty, one line per finished attempt."""

    def __init__(self, total: int, skipped: int, jobs: int, stream: Any = None) -> None:
        self.total, self.done, self.jobs = total, skipped, jobs
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start, self.ran, self.solved = time.monotonic(), 0, 0
        if skipped:
            print(f"[bench] resuming: {skipped}/{total} attempt(s) already in results.jsonl",
                  file=self.stream, flush=True)
        if self.tty:
            self._bar("eta -", "")

    def _bar(self, eta: str, what: str) -> None:
        width = 24
        fill = round(width * self.done / max(self.total, 1))
        print(f"\r[{'#' * fill}{'-' * (width - fill)}] {self.done}/{self.total} solved "
              f"{self.solved}/{self.ran} {eta}  {what[:60]:<60}", end="", file=self.stream,
              flush=True)
        if self.done == self.total:
            print(file=self.stream)

    def __call__(self, rec: dict[str, Any]) -> None:
        self.done += 1
        self.ran += 1
        self.solved += bool(rec["solved"])
        per = (time.monotonic() - self.start) / self.ran
        eta = f"eta {per * (self.total - self.done) / self.jobs:.0f} s"
        verdict = "ERROR" if rec["error"] else "solved" if rec["solved"] else "not solved"
        what = (f"{rec['task']} s{rec['sample']}: {verdict} ({rec['wall_s']:.0f} s, "
                f"{rec['tokens_out']} tokens out)")
        if self.tty:
            self._bar(eta, what)
        else:
            print(f"[{self.done}/{self.total}] {what}; {eta}", file=self.stream, flush=True)


# -- the command -----------------------------------------------------------------------------

def run_bench(cfg: BenchConfig, out: Path, *, jobs: int = 1,
              load: Callable[[BenchConfig], Any] = default_loader, executor: str = "local",
              ray_address: str | None = None) -> int:
    """Run every missing (task, sample) of the bench in OUT, then write the reports.

    executor "local": `jobs` worker processes here; "ray": `jobs` Ray actors (run_ray).
    """
    from agent import report

    tasks = discover(Path(cfg.tasks_dir), cfg.tasks, cfg.sample, cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    pin_config(out, cfg, tasks)
    finished = {(r["task"], r["sample"]) for r in load_results(out) if not r["error"]}
    want = [(t, k) for t in tasks for k in range(cfg.samples)]
    todo = [(t, k) for t, k in want if (t.id, k) not in finished]
    # Ray first: a wrong address is one line before anything else is printed or loaded
    ray, own_ray = connect_ray(ray_address) if todo and executor == "ray" else (None, False)
    progress = Progress(len(want), len(want) - len(todo), jobs)
    print(f"[bench] {len(tasks)} task(s) x {cfg.samples} sample(s), {cfg.mode}, model "
          f"{cfg.model}, {jobs} {executor} worker(s) -> {out}", file=sys.stderr, flush=True)
    code = EXIT_OK
    # SIGTERM ends the bench as Ctrl-C does (records kept, reports written, Ray shut down);
    # with one local worker the run itself holds the signals, so it can clean up first
    from agent.run import StopSignals

    stops = StopSignals() if ray is not None or (todo and jobs > 1) else nullcontext()
    try:
        with stops:
            if ray is not None:
                run_ray(ray, cfg, out, todo, min(jobs, len(todo)), load, progress)
            elif todo and jobs == 1:
                work(cfg, out, todo, load, progress)
            elif todo:
                run_pool(cfg, out, todo, min(jobs, len(todo)), load, progress)
    except KeyboardInterrupt as exc:
        print(f"\n[bench] interrupted; finished attempts are kept in {out / 'results.jsonl'}; "
              "run the same command again to finish", file=sys.stderr)
        # Ray turns a KeyboardInterrupt raised inside ray.wait into a plain one
        received = getattr(stops, "received", None)
        code = 128 + received if received else interrupt_exit_code(exc)
    finally:
        if own_ray:
            ray.shutdown()
    summary = report.write_reports(out)
    print(report.text_summary(summary))
    return code


def register(sub: argparse._SubParsersAction) -> None:
    """Add `bench`, `bench-report` and `bench-compare`."""
    b = sub.add_parser("bench", help="run the agent over a directory of task specs (IoTBench) "
                                     "and report solved %%, pass@k, tokens and wall time")
    b.add_argument("dir", type=Path, nargs="?", default=DEFAULT_TASKS,
                   help="directory searched for spec.yaml files (default: iotbench/tasks), or "
                        "`dev`: the generator tasks of the dev split (with --sample N), "
                        "written into OUT/dev-tasks")
    b.add_argument("--sample", type=int, default=0, metavar="N",
                   help="a draw of N of the tasks, fixed by --seed (a quick read)")
    add_model_arguments(b, RunConfig.model)
    b.add_argument("--mode", choices=MODES, default="agent")
    b.add_argument("--jobs", type=int, default=1,
                   help="workers, each loading its own model (1 on a small CPU): processes "
                        "here, or Ray actors with --executor ray")
    b.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: worker processes on this machine; ray: Ray actors, on a Ray "
                        "started here or the cluster at --ray-address")
    b.add_argument("--ray-address", metavar="HOST:PORT", default=None,
                   help="a running Ray cluster (`ray start --head`; default $RAY_ADDRESS, "
                        "else a Ray started on this machine for the bench)")
    b.add_argument("--samples", type=int, default=1,
                   help="independent runs per task (seeds seed..seed+K-1) for pass@k")
    b.add_argument("--temperature", type=float, default=None,
                   help="lowest sampling temperature of every model call (default: 0, greedy, "
                        f"with one sample; {SAMPLE_TEMPERATURE} with --samples > 1)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--tasks", default="*", help="glob on task ids or relative task paths")
    b.add_argument("--max-attempts", type=int, default=RunConfig.max_attempts)
    b.add_argument("--time-limit", type=float, default=RunConfig.time_limit_s,
                   help="seconds per task attempt")
    add_stage_arguments(b)
    b.add_argument("--sandbox", default=RunConfig.sandbox, choices=BACKENDS)
    add_environment_argument(b)
    b.add_argument("--out", type=Path,
                   help="output directory (default: runs/bench/<model>-<mode>[-<environment>])")
    b.set_defaults(func=cmd_bench)

    r = sub.add_parser("bench-report", help="redraw report.md/report.html of a bench from "
                                            "its results.jsonl")
    r.add_argument("out", type=Path, help="the bench's output directory")
    r.set_defaults(func=cmd_bench_report)

    c = sub.add_parser("bench-compare", help="benches side by side (markdown): solved %%, "
                                             "per category, tokens, wall time, per task")
    c.add_argument("outs", type=Path, nargs="+", help="bench output directories")
    c.set_defaults(func=cmd_bench_compare)


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    for name in ("jobs", "samples", "max_attempts"):
        if getattr(args, name) < 1:
            raise BadInputError(f"bench: --{name.replace('_', '-')} must be at least 1")
    if args.sample < 0:
        raise BadInputError("bench: --sample must be at least 1 (or 0: every task)")
    temperature = args.temperature
    if temperature is None:
        temperature = SAMPLE_TEMPERATURE if args.samples > 1 else 0.0
    if temperature < 0:
        raise BadInputError("bench: --temperature must be >= 0")
    return BenchConfig(tasks_dir=str(args.dir.resolve()), tasks=args.tasks, model=args.model,
                       backend=args.backend, adapter=parse_adapter_args(args.adapter),
                       base_url=server_url(args),
                       mode=args.mode,
                       samples=args.samples, seed=args.seed, temperature=temperature,
                       max_attempts=args.max_attempts, time_limit_s=args.time_limit,
                       sandbox=args.sandbox, environment=args.environment, sample=args.sample,
                       stages=changed_stages(stage_options(args, "bench")))


def cmd_bench(args: argparse.Namespace,
              load: Callable[[BenchConfig], Any] = default_loader) -> int:
    cfg = config_from_args(args)
    if args.ray_address and args.executor != "ray":
        raise BadInputError("bench: --ray-address needs --executor ray")
    env = f"-{cfg.environment}" if cfg.environment else ""
    dev = args.dir == Path(DEV) and not args.dir.is_dir()
    out = args.out or Path("runs/bench") / (f"{Path(cfg.model).name}-{cfg.mode}{env}"
                                            + ("-dev" if dev else ""))
    if dev:
        cfg = replace(cfg, tasks_dir=str(write_dev_tasks(out, cfg.sample, cfg.seed).resolve()))
    return run_bench(cfg, out, jobs=args.jobs, load=load, executor=args.executor,
                     ray_address=args.ray_address)


def write_dev_tasks(out: Path, n: int, seed: int) -> Path:
    """The dev split's N generator tasks for `seed`, written into OUT/dev-tasks (the same
    tasks every time, so a bench of them resumes); the directory to bench."""
    if n < 1:
        raise BadInputError("bench dev: give --sample N, the number of generator tasks to draw")
    from finetune.generators import dev_tasks

    root = out / "dev-tasks"
    dev_tasks(n, seed, root)
    return root


def _pinned(out: Path, command: str) -> dict[str, Any]:
    """OUT's bench.json, or one line (exit 2) saying OUT is not a bench directory."""
    file = out / "bench.json"
    if not file.is_file():
        raise BadInputError(f"{command}: {out} is not a bench directory (no bench.json)")
    return json.loads(file.read_text())


def cmd_bench_report(args: argparse.Namespace) -> int:
    from agent import report

    _pinned(args.out, "bench-report")
    print(report.text_summary(report.write_reports(args.out)))
    return EXIT_OK


def cmd_bench_compare(args: argparse.Namespace) -> int:
    """Print a side-by-side markdown comparison of finished or partial benches."""
    from agent import report

    benches = []
    for out in args.outs:
        pinned = _pinned(out, "bench-compare")
        benches.append((report.bench_label(pinned["config"]), load_results(out),
                        len(pinned.get("tasks", []))))
    labels = [b[0] for b in benches]
    if len(set(labels)) < len(labels):  # same model and mode twice: name the folders too
        benches = [(f"{label} ({out.name})", recs, n) for (label, recs, n), out
                   in zip(benches, args.outs, strict=True)]
    print(report.render_compare(benches), end="")
    return 0
