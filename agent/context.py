"""What the graph's nodes share besides the state: the live model, sandbox and spec.

These cannot be checkpointed, so they are rebuilt from run.json on `--resume` and passed to
every node as LangGraph's runtime context. The context also holds the run's deadline, so the
time limit holds inside every model call, not only between nodes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.configuration import RunConfig
from agent.models.base import CALL_ROLE, ChatModel, Completion
from agent.spec import Spec
from sandboxes.base import Sandbox


def time_limit_reason(cfg: RunConfig) -> str:
    """The stop_reason of a run that reached its time limit."""
    return f"time limit ({cfg.time_limit_s:g} s) reached"


@dataclass
class RunContext:
    spec: Spec
    model: ChatModel
    sandbox: Sandbox
    config: RunConfig
    run_dir: Path
    log: Callable[[str], None] = print
    run_id: str = "run"
    # wall clock (time.time) of the run's start, the state's started_at: a resumed run keeps
    # its budget; None leaves model calls without a deadline
    started_at: float | None = None

    @property
    def deadline(self) -> float | None:
        """The time.time() instant the run's time limit passes."""
        if self.started_at is None:
            return None
        return self.started_at + self.config.time_limit_s

    def time_up(self) -> str:
        """The stop_reason once the deadline has passed, else "": a node that makes several
        model calls checks it before each further one, so none starts after the limit."""
        deadline = self.deadline
        if deadline is not None and time.time() >= deadline:
            return time_limit_reason(self.config)
        return ""

    def chat(self, role: str, messages: list[dict], *, temperature: float = 0.0,
             seed: int | None = None, max_new_tokens: int | None = None) -> dict[str, Any]:
        """One model call, stopped at the run's deadline, returned as the record that goes
        into trajectory.jsonl."""
        done = self.model.generate(messages,
                                   max_new_tokens=max_new_tokens or self.config.max_new_tokens,
                                   temperature=temperature, seed=seed, role=CALL_ROLE[role],
                                   deadline=self.deadline, node=role)
        return self._call_record(role, messages, done, temperature, seed)

    def chat_many(self, role: str, messages: list[dict], temperatures: Sequence[float],
                  seeds: Sequence[int | None], *,
                  max_new_tokens: int | None = None) -> list[dict[str, Any]]:
        """K replies to one prompt in one request (decoded as a batch where the backend can),
        stopped at the run's deadline: fewer records than asked once it has passed."""
        done = self.model.generate_many(
            messages, temperatures, seeds,
            max_new_tokens=max_new_tokens or self.config.max_new_tokens, role=CALL_ROLE[role],
            deadline=self.deadline, node=role)
        return [self._call_record(role, messages, c, t, s)
                for c, t, s in zip(done, temperatures, seeds, strict=False)]

    def _call_record(self, role: str, messages: list[dict], done: Completion,
                     temperature: float, seed: int | None) -> dict[str, Any]:
        return {"role": role, "messages": messages, "completion": done.text,
                "tokens_in": done.tokens_in, "tokens_out": done.tokens_out,
                "tokens_cached": done.tokens_cached, "finish_reason": done.finish_reason,
                "seconds": round(done.seconds, 3), "temperature": temperature, "seed": seed,
                "model": self.model.name, "at": time.time()}

    def record(self, entry: dict[str, Any]) -> None:
        """Append one line to trajectory.jsonl; a killed run keeps every finished line."""
        line = json.dumps(entry, default=str) + "\n"
        with open(self.run_dir / "trajectory.jsonl", "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
