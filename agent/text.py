"""Text that goes into a prompt or a report is bounded: a program decides what it returns and
prints, and one unbounded value (a list of arrays turned into strings) can outgrow the model's
whole context."""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def clip_lines(text: str, limit: int) -> str:
    """Each line of `text` cut to `limit` characters."""
    return "\n".join(clip(line, limit) for line in text.split("\n"))
