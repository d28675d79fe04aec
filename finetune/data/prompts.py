"""The exact chat messages the agent sends at inference, built with the agent's own code.

Training on other prompts than the ones the model sees at run time teaches it the wrong
thing, so nothing here holds template text or a copy of a node: the draft prompt comes from
agent.nodes.draft.draft_prompt, lint from agent.nodes.lint.lint_code, the repair prompt
from agent.nodes.repair.repair_prompt, feedback from agent.nodes.evaluate.judge
(agent/feedback.py) and the hidden-case line from agent.feedback.feedback_for_hidden, all
public functions the nodes themselves call.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import prompts
from agent import feedback as fb
from agent.checker import SpecResult
from agent.nodes import evaluate as evaluate_node
from agent.nodes.draft import draft_prompt
from agent.nodes.lint import lint_code
from agent.nodes.repair import repair_prompt
from agent.nodes.understand import trace_cards
from agent.prompting import messages, spec_fields
from agent.spec import Spec


def numbered(steps: list[str]) -> str:
    """Sub-tasks as the decompose role answers them: '1. ...' one per line."""
    return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))


def code_messages(spec: Spec, subtasks: str = "") -> list[dict[str, str]]:
    """The draft node's messages for this spec (plan included when decompose ran)."""
    state = {"trace_cards": trace_cards(spec), "knowledge": ""}
    if subtasks:
        state["subtasks"] = subtasks
    return messages(draft_prompt(state, spec), spec.environment)


def decompose_messages(spec: Spec) -> list[dict[str, str]]:
    """The decompose node's messages (same template, same spec fields)."""
    return messages(prompts.render("decompose", **spec_fields(spec)), spec.environment)


def lint_candidate(code: str, spec: Spec) -> dict[str, Any]:
    """What the lint node makes of a program: autofixed code, findings, blocked."""
    fixed, findings = lint_code(code, spec)
    return {"id": "mutant", "code": fixed, "lint": [asdict(f) for f in findings],
            "blocked": any(f.blocking for f in findings)}


def judged_failure(cand: dict[str, Any], spec: Spec, result: SpecResult | None
                   ) -> tuple[str, str] | None:
    """(failure class, feedback text) the agent would hand to repair for this candidate:
    lint's blocking findings, else the visible cases' feedback (evaluate), else the hidden
    cases' one line (verify). None when the program passes everything."""
    if not cand.get("blocked"):
        assert result is not None
        visible = [asdict(r) for r in result.cases if not r.hidden]
        judged = evaluate_node.judge({**cand, "results": visible}, spec)
        if judged["failure"]:
            return judged["failure"], judged["feedback"]
        hidden = [r for r in result.cases if r.hidden and not r.passed]
        if not hidden:
            return None
        return "hidden", "\n".join(sorted({fb.feedback_for_hidden(r) for r in hidden}))
    judged = evaluate_node.judge(cand, spec)
    return judged["failure"], judged["feedback"]


def repair_messages(spec: Spec, code: str, failure: str, feedback: str
                    ) -> list[dict[str, str]]:
    """The repair node's messages for a failing program and the agent's feedback on it."""
    return messages(repair_prompt(spec, code, failure, feedback), spec.environment)


def answer(doc: str, code: str) -> str:
    """An assistant reply in the format agent/extract.py takes: prose, one python block."""
    return f"{doc.strip()}\n\n```python\n{code.rstrip()}\n```"
