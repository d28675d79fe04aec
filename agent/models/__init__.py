"""Local code models: a registry of pinned GGUF files, a fetcher, and chat backends.

Heavy runtimes (llama_cpp, torch, transformers) are imported only inside the backend
that needs them, so importing this package stays fast and works without them.
"""

from __future__ import annotations

from agent.models.base import ChatModel, Completion, load_model
from agent.models.fetch import model_path, pull
from agent.models.registry import DEFAULT_MODEL, MODELS, ModelSpec, get_spec

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "ChatModel",
    "Completion",
    "ModelSpec",
    "get_spec",
    "load_model",
    "model_path",
    "pull",
]
