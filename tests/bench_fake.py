"""A scripted model for bench tests: it answers each example task with its reference solution
(examples/solutions) or its realistic wrong one (examples/wrong), so a bench over examples/
runs the real loop, the real sandbox and the real traces without a language model.

Run as a script it is `python -m agent bench` with this model, for tests that kill a bench
(SIGKILL) or interrupt it; knobs come from the environment so spawned workers see them too:
  BENCH_FAKE_WRONG=id,id     tasks answered with the wrong solution
  BENCH_FAKE_HANG=id         this task's model call touches BENCH_FAKE_MARK and never returns
  BENCH_FAKE_CALLS=file      append the task id of every model call to this file
  BENCH_FAKE_LOAD=bad|crash  loading fails: a bad-input error (exit 2), or a crash
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.errors import BadInputError  # noqa: E402
from agent.models.base import ChatModel, Completion  # noqa: E402
from agent.spec import load_spec  # noqa: E402

EXAMPLES = ROOT / "examples"


def _functions() -> dict[str, str]:
    """function name -> example task id."""
    return {load_spec(p).function.name: p.parent.name for p in EXAMPLES.glob("*/spec.yaml")}


class FakeModel(ChatModel):
    """Replies with an example's solution; wrong for `wrong` tasks, or when `wrong_if`
    says so for the run seed (draft seeds are run_seed * 1000 + attempt * 10 + k)."""

    name = "fake"
    sha256 = None

    def __init__(self, wrong: set[str] | None = None, wrong_if=None,  # noqa: ANN001
                 hang: str = "", mark: str = "", calls: str = "", raises: str = "") -> None:
        self.functions = _functions()
        self.wrong, self.wrong_if, self.raises = wrong or set(), wrong_if, raises
        self.hang, self.mark, self.calls = hang, mark, calls
        self.temperatures: list[float] = []

    def generate(self, messages, *, max_new_tokens=512, temperature=0.0, seed=None, stop=None,
                 role=None, deadline=None, node=None):
        text = messages[-1]["content"]
        task = next(t for f, t in self.functions.items() if f"{f}(" in text)
        self.temperatures.append(temperature)
        if self.calls:
            with open(self.calls, "a") as f:
                f.write(task + "\n")
        if task == self.raises:
            raise RuntimeError(f"backend fell over on {task}")
        if task == self.hang:
            Path(self.mark).touch()
            while True:
                time.sleep(60)
        run_seed = (seed or 0) // 1000
        bad = task in self.wrong or (self.wrong_if is not None and self.wrong_if(task, run_seed))
        code = (EXAMPLES / ("wrong" if bad else "solutions") / f"{task}.py").read_text()
        reply = f"Here is the program:\n```python\n{code}```\n"
        return Completion(reply, len(text) // 4, len(reply) // 4, 0.01)


def load_from_env(cfg: object) -> FakeModel:
    """The bench loader for subprocess tests (module level, so spawned workers import it)."""
    env = os.environ.get
    if env("BENCH_FAKE_LOAD") == "bad":
        raise BadInputError("fake: no such model")
    if env("BENCH_FAKE_LOAD") == "crash":
        raise RuntimeError("fake: the backend crashed while loading")
    return FakeModel(wrong=set(filter(None, env("BENCH_FAKE_WRONG", "").split(","))),
                     hang=env("BENCH_FAKE_HANG", ""), mark=env("BENCH_FAKE_MARK", ""),
                     calls=env("BENCH_FAKE_CALLS", ""))


if __name__ == "__main__":
    from agent.bench import cmd_bench
    from agent.cli import build_parser
    from agent.errors import GpiotError

    try:
        sys.exit(cmd_bench(build_parser().parse_args(["bench", *sys.argv[1:]]),
                           load=load_from_env))
    except GpiotError as exc:
        print(f"error: {exc.line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
