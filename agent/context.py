"""What the graph's nodes share besides the state: the live model, sandbox and spec.

These cannot be checkpointed, so they are rebuilt from run.json on `--resume` and passed to
every node as LangGraph's runtime context.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.configuration import RunConfig
from agent.models.base import CALL_ROLE, ChatModel
from agent.spec import Spec
from sandboxes.base import Sandbox


@dataclass
class RunContext:
    spec: Spec
    model: ChatModel
    sandbox: Sandbox
    config: RunConfig
    run_dir: Path
    log: Callable[[str], None] = print
    run_id: str = "run"

    def chat(self, role: str, messages: list[dict], *, temperature: float = 0.0,
             seed: int | None = None, max_new_tokens: int | None = None) -> dict[str, Any]:
        """One model call, returned as the record that goes into trajectory.jsonl."""
        done = self.model.generate(messages,
                                   max_new_tokens=max_new_tokens or self.config.max_new_tokens,
                                   temperature=temperature, seed=seed, role=CALL_ROLE[role])
        return {"role": role, "messages": messages, "completion": done.text,
                "tokens_in": done.tokens_in, "tokens_out": done.tokens_out,
                "seconds": round(done.seconds, 3), "temperature": temperature, "seed": seed,
                "model": self.model.name, "at": time.time()}

    def record(self, entry: dict[str, Any]) -> None:
        """Append one line to trajectory.jsonl; a killed run keeps every finished line."""
        line = json.dumps(entry, default=str) + "\n"
        with open(self.run_dir / "trajectory.jsonl", "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
