"""Prompt templates as files (`$name` placeholders, string.Template), so they can be read,
diffed and tuned without touching code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent


@cache
def _template(name: str) -> Template:
    return Template((HERE / f"{name}.md").read_text(encoding="utf-8"))


def exists(name: str) -> bool:
    return (HERE / f"{name}.md").is_file()


def render(name: str, **values: object) -> str:
    """Fill prompts/<name>.md; a missing placeholder is an error, not a silent blank."""
    return _template(name).substitute({k: str(v) for k, v in values.items()}).strip() + "\n"
