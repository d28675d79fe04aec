"""The one interface every model backend implements, and the factory that picks one.

Callers (the agent loop, benchmarks, tests) see only ChatModel; whether tokens come from
llama.cpp on a CPU or transformers on a GPU is a load-time choice.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.errors import BadInputError

Backend = Literal["auto", "llama", "hf"]
BACKENDS: tuple[str, ...] = ("auto", "llama", "hf")


@dataclass
class Completion:
    """One generated reply, with the counts needed to report speed and cost."""

    text: str
    tokens_in: int
    tokens_out: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_out / self.seconds if self.seconds > 0 else 0.0


class ChatModel(ABC):
    """A loaded chat model. Greedy decoding when temperature == 0, so runs are reproducible."""

    name: str
    sha256: str | None  # of the weights file when known (registered models), else None

    @abstractmethod
    def generate(
        self,
        messages: list[dict],
        *,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        """Reply to chat messages ({"role": ..., "content": ...}) using the model's template."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends free on GC
        """Free the weights now rather than at garbage collection."""

    def __enter__(self) -> ChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_model(
    name_or_path: str | os.PathLike[str],
    backend: Backend = "auto",
    adapter: str | os.PathLike[str] | None = None,
    **options: object,
) -> ChatModel:
    """Load a registered model name, .gguf file or HF directory on the chosen backend.

    auto: a .gguf file runs on llama.cpp (fast on a CPU), a directory on transformers.
    adapter: a LoRA adapter (GGUF for llama.cpp, a peft directory for hf).
    """
    from agent.models.fetch import model_path
    from agent.models.registry import MODELS

    if backend not in BACKENDS:
        raise BadInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    text = os.fspath(name_or_path)
    path = model_path(text)
    sha = MODELS[text].sha256 if text in MODELS else None
    name = text if text in MODELS else Path(text).name
    if backend == "auto":
        backend = "hf" if path.is_dir() else "llama"
    if backend == "llama":
        if path.is_dir():
            raise BadInputError(
                f"{text}: the llama backend needs a .gguf file, not a directory (use --backend hf)"
            )
        from agent.models.llamacpp import LlamaCppModel

        return LlamaCppModel(path, name=name, sha256=sha, adapter=adapter, **options)
    from agent.models.hf import HFModel

    return HFModel(path, name=name, sha256=sha, adapter=adapter, **options)
