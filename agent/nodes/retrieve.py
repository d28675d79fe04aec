"""retrieve: a few verified recipes from the local knowledge base, ranked against the
requirement and sub-tasks. Few and optional: a fixed block of generic idioms made the small
models worse."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent import knowledge
from agent.context import RunContext
from agent.nodes import timed
from agent.state import State


def task_query(state: State, ctx: RunContext) -> str:
    """What the cards are ranked against: the task's own words and any sub-tasks."""
    return "\n".join([ctx.spec.title, ctx.spec.requirement, state.get("subtasks", "")])


@timed("retrieve")
def retrieve(state: State, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    # the cards the spec's image can run: a scientific spec also gets the library cards
    cards = knowledge.search(task_query(state, ctx), k=ctx.config.knowledge_k,
                             environment=ctx.spec.environment)
    ctx.log(f"[retrieve] {', '.join(c.id for c in cards) or 'no relevant card'}")
    return {"knowledge": knowledge.render(cards, with_code=ctx.config.knowledge_code),
            "knowledge_notes": knowledge.render(cards, with_code=False),
            "knowledge_ids": [c.id for c in cards]}
