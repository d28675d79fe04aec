"""Run configuration: budgets, model choice and the stage switches used for ablations.

One dataclass, saved with every run (run.json) so `--resume` continues with exactly the same
settings and reports say what produced them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from agent.models.registry import DEFAULT_MODEL
from sandboxes import DEFAULT_BACKEND

MODES = ("agent", "single-shot")


@dataclass
class RunConfig:
    model: str = DEFAULT_MODEL
    backend: str = "auto"
    adapter: str | dict[str, str] | None = None  # PATH for every call, or {role: PATH}
    mode: str = "agent"  # "single-shot": one greedy draft, no feedback, same checks
    max_attempts: int = 8  # draft/repair rounds, each judged on the visible cases
    max_new_tokens: int = 768
    time_limit_s: float = 900.0
    seed: int = 0
    candidates: int = 2  # drafts per fresh-draft round (first greedy, others sampled)
    # Defaults follow the measurements in BENCHMARKS.md: on the 0.5B, a decomposition fed to
    # the code prompt and retrieved recipes made drafts worse (the model copied a recipe's
    # helper whole, or followed a wrong plan), so those stages are opt-in.
    decompose: bool = False
    specify: bool = False
    retrieve: bool = False
    lint: bool = True
    controller: bool = True  # fresh draft at a higher temperature after two stalled rounds
    knowledge_k: int = 3
    knowledge_code: bool = False  # show the cards' code in draft prompts (repair: never)
    plan_tokens: int = 200  # decompose/specify replies: a plan, not an essay
    sandbox: str = DEFAULT_BACKEND  # the warm fork-server; "docker-cold" for a container per case

    def __post_init__(self) -> None:
        if self.mode == "single-shot":
            self.decompose = self.specify = self.retrieve = self.lint = False
            self.controller = False
            self.max_attempts, self.candidates = 1, 1

    @property
    def recursion_limit(self) -> int:
        """Graph steps the budget can need: set-up, ~6 nodes per attempt, finalize."""
        return 12 + 7 * self.max_attempts

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
