"""Build chat messages from the prompt files and the spec: the spec's own words, the
function contract, and the environment the program will really run in."""

from __future__ import annotations

from functools import cache

import prompts
from agent.spec import Spec
from sandboxes import api_index, profiles


@cache
def environment(profile: str | None = None) -> str:
    """What the sandbox image of `profile` offers, in words. Versions are left out on
    purpose: adding them changed a small model's drafts for the worse (BENCHMARKS.md)."""
    return "Python 3.11 with its standard library" + "".join(
        f", {x}" for x in api_index.third_party(profile))


def spec_fields(spec: Spec) -> dict[str, str]:
    """The placeholders every task prompt shares."""
    args = "\n".join(f"- {a.name} ({a.type}): {a.description}".rstrip(": ")
                     for a in spec.function.args)
    r = spec.function.returns
    returns = f"{r.get('type')}" + (f": {r['description']}" if r.get("description") else "")
    return {"title": spec.title, "requirement": spec.requirement.strip(),
            "signature": spec.function.signature(), "args": args, "returns": returns,
            "libraries": profiles.get(spec.environment).libraries}


def messages(user: str, profile: str | None = None) -> list[dict[str, str]]:
    """The chat for one call: the system prompt names what the profile's image holds."""
    system = prompts.render("system", environment=environment(profile),
                            absent=profiles.get(profile).absent)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def advice(failure: str, profile: str | None = None) -> str:
    """The repair advice for a failure class ('' when it has none), naming what `profile`'s
    image really holds (an invented import is replaced with a real name of those)."""
    name = f"repair/{failure}"
    if not prompts.exists(name):
        return ""
    return prompts.render(name, real_names=profiles.get(profile).real_names)
