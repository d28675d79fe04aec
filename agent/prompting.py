"""Build chat messages from the prompt files and the spec: the spec's own words, the
function contract, and the environment the program will really run in."""

from __future__ import annotations

from functools import cache

import prompts
from agent.spec import Spec
from sandboxes import image


@cache
def environment() -> str:
    """What the sandbox image holds, in words (derived from its package list)."""
    libs = [p.removeprefix("python3-") for p in image.packages() if p.startswith("python3-")]
    return "Python 3.11 with its standard library" + "".join(f", {x}" for x in libs)


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
