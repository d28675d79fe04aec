"""Build chat messages from the prompt files and the spec: the spec's own words, the
function contract, and the environment the program will really run in."""

from __future__ import annotations

from functools import cache

import prompts
from agent.spec import Spec
from sandboxes import api_index


@cache
def environment() -> str:
    """What the sandbox image holds, in words (its python3-* packages). Versions are left
    out on purpose: adding them changed the 0.5B's drafts for the worse (BENCHMARKS.md)."""
    return "Python 3.11 with its standard library" + "".join(
        f", {x}" for x in api_index.third_party())


def spec_fields(spec: Spec) -> dict[str, str]:
    """The placeholders every task prompt shares."""
    args = "\n".join(f"- {a.name} ({a.type}): {a.description}".rstrip(": ")
                     for a in spec.function.args)
    r = spec.function.returns
    returns = f"{r.get('type')}" + (f": {r['description']}" if r.get("description") else "")
    return {"title": spec.title, "requirement": spec.requirement.strip(),
            "signature": spec.function.signature(), "args": args, "returns": returns}


def messages(user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": prompts.render("system", environment=environment())},
            {"role": "user", "content": user}]


def advice(failure: str) -> str:
    """The repair advice for a failure class ('' when it has none)."""
    name = f"repair/{failure}"
    return prompts.render(name) if prompts.exists(name) else ""
