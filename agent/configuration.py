"""Run configuration: budgets, model choice and the stage switches used for ablations.

One dataclass, saved with every run (run.json) so `--resume` continues with exactly the same
settings and reports say what produced them.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from typing import Any

from agent.errors import BadInputError
from agent.models.registry import DEFAULT_MODEL
from sandboxes import DEFAULT_BACKEND

MODES = ("agent", "single-shot")


@dataclass
class RunConfig:
    model: str = DEFAULT_MODEL
    backend: str = "auto"
    base_url: str | None = None  # the server of an openai:NAME model (no key is kept here)
    adapter: str | dict[str, str] | None = None  # PATH for every call, or {role: PATH}
    mode: str = "agent"  # "single-shot": one greedy draft, no feedback, same checks
    max_attempts: int = 8  # draft/repair rounds, each judged on the visible cases
    max_new_tokens: int = 768
    time_limit_s: float = 900.0
    seed: int = 0
    candidates: int = 2  # drafts per fresh-draft round (first greedy, others sampled)
    # Defaults follow the measurements in BENCHMARKS.md: for a small model, a decomposition fed to
    # the code prompt and retrieved recipes made drafts worse (the model copied a recipe's
    # helper whole, or followed a wrong plan), so those stages are opt-in.
    decompose: bool = False
    specify: bool = False
    retrieve: bool = False
    lint: bool = True
    controller: bool = True  # hotter fresh draft after two rounds without a new best
    # The controller's fresh draft is told what failed and given the matching cards' helpers
    # to call (their verified code linked in): a stalled small model rarely changes method in
    # a repair (BENCHMARKS.md).
    recipes: bool = True
    # The first draft already gets the cards' helpers to call, where the best card's BM25
    # score reaches helpers_floor (benchmarks/retrieval_scores.py shows the scores); off
    # until IoTBench over two seeds says it helps.
    first_helpers: bool = False
    helpers_floor: float = 15.0
    # A draft shown helpers gets its reply started as `from iot_helpers import` (a prefill the
    # model continues): told to import them, a small model's draft does so about half the
    # time (BENCHMARKS.md); off until measured.
    prefill: bool = False
    knowledge_k: int = 3
    # The draft sees the nearest proven program of the experience store (agent/experience.py);
    # off until IoTBench over two seeds says it helps.
    experience: bool = False
    experience_k: int = 1
    own_experience: bool = True  # recall also from the user's store (bench: shipped only)
    # After a verified solve (hidden cases included) `run` adds its program to the user's
    # experience store; `bench` never does (a benchmark must not teach itself).
    learn: bool = True
    knowledge_code: bool = False  # show the cards' code in draft prompts (repair: never)
    plan_tokens: int = 200  # decompose/specify replies: a plan, not an essay
    sandbox: str = DEFAULT_BACKEND  # the warm fork-server; "docker-cold" for a container per case
    # The sandbox profile (sandboxes/profiles.py) that replaces the spec's `environment`;
    # None keeps the spec's (`bench --environment` judges a whole benchmark in one profile).
    environment: str | None = None
    # llama.cpp decoding (agent/models/llamacpp_engine.py; the hf backend ignores them): reuse
    # the KV state of a prompt prefix already read, decode a round's candidates as parallel
    # sequences, and draft a greedy repair's tokens from its prompt. Greedy text is the same
    # with the cache on or off; parallel candidates and lookup are repeatable but can differ
    # from one-at-a-time decoding (llama.cpp gives a row other logits in another batch shape).
    prefix_cache: bool = True
    parallel: bool = True
    # off: it pays only where a pass over several tokens costs little more than one
    # (BENCHMARKS.md, issue 17)
    lookup: bool = False

    def __post_init__(self) -> None:
        if self.mode == "single-shot":
            self.decompose = self.specify = self.retrieve = self.lint = False
            self.controller = self.recipes = self.first_helpers = self.prefill = False
            self.max_attempts, self.candidates = 1, 1

    def model_options(self) -> dict[str, Any]:
        """The decoding switches (and a server's URL) as load_model takes them."""
        return {"prefix_cache": self.prefix_cache, "parallel": self.parallel,
                "lookup": self.lookup, "base_url": self.base_url}

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


# The switches the ablations turn, as `run` and `bench` take them (--retrieve/--no-retrieve)
STAGES: dict[str, str] = {
    "decompose": "sub-tasks from the model, fed to the draft",
    "specify": "input/output per sub-task (with --decompose)",
    "retrieve": "knowledge cards in draft and repair prompts",
    "knowledge_code": "show the cards' code too, not only guidance",
    "experience": "the draft sees the nearest proven program of the experience store",
    "lint": "static checks before running",
    "controller": "fresh hotter draft after two rounds without a new best score",
    "recipes": "that fresh draft gets what failed and the matching cards' helpers to call",
    "first_helpers": "the first draft gets the cards' helpers to call (best card >= "
                     "--helpers-floor)",
    "prefill": "a draft shown helpers starts its reply with `from iot_helpers import`",
    "prefix_cache": "llama.cpp: reuse the KV state of a prompt prefix already read",
    "parallel": "llama.cpp: decode a round's candidates together in one batch",
    "lookup": "llama.cpp: prompt-lookup drafts for greedy repairs (fewer passes)",
}


def add_stage_arguments(parser: argparse.ArgumentParser) -> None:
    """--candidates and a --STAGE/--no-STAGE pair per switch, defaulting to RunConfig's."""
    defaults = RunConfig()
    parser.add_argument("--candidates", type=int, default=defaults.candidates,
                        help="drafts per fresh-draft round")
    for name, what in STAGES.items():
        parser.add_argument(f"--{name.replace('_', '-')}", action=argparse.BooleanOptionalAction,
                            default=getattr(defaults, name), help=what)
    parser.add_argument("--helpers-floor", type=float, default=defaults.helpers_floor,
                        help="the best card's BM25 score from which --first-helpers shows "
                             "helpers (benchmarks/retrieval_scores.py)")


def stage_options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The switches and --candidates as RunConfig keyword arguments (exit 2 on < 1)."""
    if args.candidates < 1:
        raise BadInputError(f"{command}: --candidates must be at least 1")
    return {name: getattr(args, name) for name in ("candidates", "helpers_floor", *STAGES)}


def changed_stages(options: dict[str, Any]) -> dict[str, Any]:
    """Only the switches that differ from the defaults: what a bench's label must show."""
    defaults = RunConfig()
    return {k: v for k, v in options.items() if getattr(defaults, k) != v}
