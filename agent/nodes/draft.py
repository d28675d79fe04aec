"""draft (code generation): one or more complete modules from the task prompt. The first
round's first candidate is greedy; the others, and every fresh draft the controller asks
for, are sampled at the round's temperature. The candidates are one request to the model
(a backend that batches decodes them together), stopped at the run's deadline.

A fresh draft after a stall (with `recipes` on) is also told what failed and given the helpers
of the cards that match the task to import from `iot_helpers` and call (the import is
dropped and their verified code linked into the program; the reply is that import and the
task's function only), and
its first candidate is greedy the first time: the stalled repairs kept the method that failed,
and a recipe is a different method that is known to work."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

import prompts
from agent import knowledge as kb
from agent.context import RunContext
from agent.extract import defines, extract_code
from agent.nodes import timed
from agent.nodes.retrieve import task_query
from agent.prompting import advice, messages, spec_fields
from agent.spec import Spec
from agent.state import Candidate, State

SAMPLE_TEMPERATURE = 0.7
# The start of a reply shown helpers (--prefill): no trailing space, so the model's next
# token is the usual " name" of an import rather than a name without its leading space.
HELPERS_PREFILL = f"```python\nfrom {kb.HELPER_MODULE} import"


def new_candidate(ctx: RunContext, attempt: int, k: int, call: dict[str, Any],
                  cards: list[kb.Card] | None = None) -> Candidate:
    """Extract the program from a reply (with the shown `cards`' helpers it calls linked in)
    and save it in the run directory."""
    code = kb.link(extract_code(call["completion"], ctx.spec.function.name), cards or [])
    path = ctx.run_dir / "candidates" / f"a{attempt}-k{k}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code, encoding="utf-8")
    return {"id": f"a{attempt}-k{k}", "code": code, "path": str(path), "call": call}


def draft_prompt(state: State, spec: Spec, earlier: str = "",
                 knowledge: str | None = None, reply: str = "") -> str:
    """The task prompt; `earlier` (a rendered prompts/earlier.md) describes a failure
    without showing its code; `knowledge` replaces the retrieved block when given; `reply`
    replaces the closing instruction (a complete module)."""
    plan = ""
    if state.get("subtasks") or state.get("io_spec"):
        plan = prompts.render("plan", subtasks=state.get("subtasks", ""),
                              io_spec=state.get("io_spec", ""))
    if knowledge is None:
        knowledge = state.get("knowledge", "")
    return prompts.render("draft", trace_cards=state.get("trace_cards", ""), plan=plan,
                          knowledge=knowledge, experience=state.get("experience", ""),
                          earlier=earlier,
                          reply=reply or prompts.render("reply"), **spec_fields(spec))


def earlier_failure(state: State, environment: str | None = None) -> str:
    """prompts/earlier.md for the round that just failed: its class, feedback and the advice
    for `environment`'s image."""
    failure = state.get("failure", "")
    return prompts.render("earlier", failure=failure, feedback=state.get("feedback", "").strip(),
                          advice=advice(failure, environment))


def recipe_prompt(state: State, ctx: RunContext, *, first: bool = False
                  ) -> tuple[str, list[kb.Card]]:
    """A draft given the matching cards' helpers, presented as a module to import from
    (`kb.link` drops the import and puts the verified code of those the reply calls in
    front): the controller's fresh draft, told what failed, or (first) the first draft,
    given them only when the best card scores at least `helpers_floor`."""
    floor = ctx.config.helpers_floor if first else kb.MIN_SCORE
    cards = kb.for_entry(kb.search(task_query(state, ctx), k=ctx.config.knowledge_k,
                                   min_score=floor, environment=ctx.spec.environment),
                         ctx.spec.function.name)
    earlier = "" if first else earlier_failure(state, ctx.spec.environment)
    if not cards:
        return draft_prompt(state, ctx.spec, earlier), cards
    block = prompts.render("recipes", cards=kb.render_helpers(cards), module=kb.HELPER_MODULE)
    reply = prompts.render("reply-helpers", module=kb.HELPER_MODULE,
                           signature=ctx.spec.function.signature())
    return draft_prompt(state, ctx.spec, earlier, knowledge=block, reply=reply), cards


@timed("draft")
def draft(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    cfg = ctx.config
    attempt = state.get("attempt", 0) + 1
    temperature = state.get("temperature", 0.0)
    first_temperature = temperature
    shown: list[kb.Card] = []
    if attempt > 1 and cfg.recipes:
        user, shown = recipe_prompt(state, ctx)
        if shown and sum(h["mode"] == "draft" for h in state.get("history", [])) == 1:
            first_temperature = 0.0
        ctx.log(f"[draft] attempt {attempt}: fresh draft told what failed; recipes: "
                f"{', '.join(c.id for c in shown) or 'none match'}")
    elif attempt == 1 and cfg.first_helpers:
        user, shown = recipe_prompt(state, ctx, first=True)
        ctx.log(f"[draft] attempt 1: helpers at the first draft (floor {cfg.helpers_floor:g}): "
                f"{', '.join(c.id for c in shown) or 'no card that confident'}")
    else:
        user = draft_prompt(state, ctx.spec)
    temperatures = [first_temperature if k == 0 else max(temperature, SAMPLE_TEMPERATURE)
                    for k in range(cfg.candidates)]
    seeds = [cfg.seed * 1000 + attempt * 10 + k for k in range(cfg.candidates)]
    chat = messages(user, ctx.spec.environment)
    if shown and cfg.prefill:  # the reply starts with the import the prompt asks for
        chat.append({"role": "assistant", "content": HELPERS_PREFILL})
    calls = ctx.chat_many("draft", chat, temperatures, seeds)
    # a reply cut by the deadline before it defined the function is no program to run
    calls = [c for c in calls if c.get("finish_reason") != "deadline"
             or defines(extract_code(c["completion"], ctx.spec.function.name),
                        ctx.spec.function.name)]
    if not calls:
        reason = ctx.time_up() or "the model returned no reply"
        ctx.log(f"[draft] attempt {attempt}: {reason}, no candidate")
        return {"candidates": [], "stop_reason": reason}
    candidates: list[Candidate] = []
    seen: set[str] = set()
    tokens_in = tokens_out = 0
    for k, call in enumerate(calls):
        tokens_in += call["tokens_in"]
        tokens_out += call["tokens_out"]
        cand = new_candidate(ctx, attempt, k, call, shown)
        if cand["code"] in seen:
            ctx.record({**call, "candidate": cand["id"], "outcome": "duplicate"})
            continue
        seen.add(cand["code"])
        candidates.append(cand)
    temps = "/".join(dict.fromkeys(f"{c['call']['temperature']:g}" for c in candidates))
    ctx.log(f"[draft] attempt {attempt}: {len(candidates)} candidate(s) at temperature "
            f"{temps or f'{temperature:g}'}, {tokens_out} tokens")
    return {"attempt": attempt, "mode": "draft", "candidates": candidates,
            "tokens_in": tokens_in, "tokens_out": tokens_out}
