"""The one interface every model backend implements, and the factory that picks one.

Callers (the agent loop, benchmarks, tests) see only ChatModel; whether tokens come from
llama.cpp on a CPU or transformers on a GPU is a load-time choice. The backends import this
module, never the other way round: load_model finds a backend's class in BACKEND_CLASSES
and imports it by name only when that backend is chosen.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from agent.errors import BadInputError

Backend = Literal["auto", "llama", "hf", "openai"]
BACKENDS: tuple[str, ...] = ("auto", "llama", "hf", "openai")
OPENAI_PREFIX = "openai:"  # --model openai:NAME: a model an OpenAI-compatible server serves
URL_VARIABLES = ("GPIOT_BASE_URL", "OPENAI_BASE_URL")  # --base-url's defaults, in this order
# The registry load_model picks a backend from: name -> "module:Class" (a ChatModel), imported
# only when chosen, so importing this module loads no runtime (llama_cpp, torch, openai).
BACKEND_CLASSES: dict[str, str] = {
    "llama": "agent.models.llamacpp:LlamaCppModel",
    "hf": "agent.models.hf:HFModel",
    "openai": "agent.models.openai_compat:OpenAIModel",
}

# The roles fine-tuning trains one adapter for (GPIoT's decomposition and code generation,
# plus repair), and which of them each of the graph's model calls speaks in: requirement
# transformation (specify) is the decomposition model's job in GPIoT, a rewrite is a draft.
ADAPTER_ROLES: tuple[str, ...] = ("decompose", "code", "repair")
CALL_ROLE: dict[str, str] = {"decompose": "decompose", "specify": "decompose", "draft": "code",
                             "rewrite": "code", "repair": "repair"}
ALL_ROLES = "*"  # the key of an adapter that serves every call
LLAMA_OPTIONS = ("prefix_cache", "parallel", "lookup")  # load_model options hf ignores
SERVER_OPTIONS = ("base_url",)  # load_model options only the openai backend takes
Adapter = str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]]


def split_prefill(messages: list[dict]) -> tuple[list[dict], str]:
    """(the chat, the start of the reply): a final assistant message is a prefill, the start
    of the reply that the model continues (as chat APIs with a prefill take it); a local
    backend's reply text begins with it."""
    if messages and messages[-1].get("role") == "assistant":
        return messages[:-1], messages[-1]["content"]
    return messages, ""


@dataclass
class Completion:
    """One generated reply, with the counts needed to report speed and cost."""

    text: str
    tokens_in: int
    tokens_out: int
    seconds: float
    # "stop" (end of reply or a stop string), "length" (max_new_tokens) or "deadline" (the
    # call's deadline passed: the text is what was generated until then)
    finish_reason: str = "stop"
    tokens_cached: int = 0  # prompt tokens whose KV state was reused, not evaluated

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
        role: str | None = None,
        deadline: float | None = None,
        node: str | None = None,
    ) -> Completion:
        """Reply to chat messages ({"role": ..., "content": ...}) using the model's template;
        a final assistant message is the reply's start, which the model continues
        (split_prefill).

        role: the adapter role of the call (one of ADAPTER_ROLES); with per-role adapters it
        picks the adapter, a role without one runs on the base weights.
        deadline: a time.time() instant after which generation stops (finish_reason
        "deadline"), so a run's time limit holds inside a long call.
        node: the graph node that makes the call (draft, repair, rewrite, ...): backends
        ignore it; it lets a scripted model in a routing test answer per node.
        """

    def generate_many(
        self,
        messages: list[dict],
        temperatures: Sequence[float],
        seeds: Sequence[int | None],
        *,
        max_new_tokens: int = 512,
        stop: list[str] | None = None,
        role: str | None = None,
        deadline: float | None = None,
        node: str | None = None,
    ) -> list[Completion]:
        """One reply per (temperature, seed) to the same prompt (draft candidates), in
        groups of `group_size` replies decoded together; no group starts once the deadline
        has passed, so it may return fewer replies than asked."""
        if len(temperatures) != len(seeds):
            raise ValueError("generate_many: one seed per temperature")
        out: list[Completion] = []
        size = self.group_size
        for lo in range(0, len(temperatures), size):
            if out and deadline is not None and time.time() >= deadline:
                break
            out += self.generate_group(messages, temperatures[lo:lo + size],
                                       seeds[lo:lo + size], max_new_tokens=max_new_tokens,
                                       stop=stop, role=role, deadline=deadline,
                                       node=node)
        return out

    # replies a backend decodes together (one pass over the weights per step serves them)
    group_size: int = 1

    def generate_group(self, messages: list[dict], temperatures: Sequence[float],
                       seeds: Sequence[int | None], **options: Any) -> list[Completion]:
        """The replies of one group; backends that batch override this, the default makes
        one call per reply."""
        return [self.generate(messages, temperature=t, seed=s, **options)
                for t, s in zip(temperatures, seeds, strict=True)]

    def close(self) -> None:  # noqa: B027 - optional hook, most backends free on GC
        """Free the weights now rather than at garbage collection."""

    def __enter__(self) -> ChatModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def role_adapters(adapter: Adapter | None) -> dict[str, Path]:
    """{role or ALL_ROLES: path} from one adapter for every call or a mapping per role."""
    if adapter is None:
        return {}
    if not isinstance(adapter, Mapping):
        return {ALL_ROLES: Path(adapter)}
    unknown = sorted(set(adapter) - {*ADAPTER_ROLES, ALL_ROLES})
    if unknown:
        raise BadInputError(f"adapter role {unknown[0]!r} is not one of "
                            f"{', '.join(ADAPTER_ROLES)}")
    return {role: Path(path) for role, path in adapter.items()}


def resolve_shipped(adapters: Mapping[str, Path], backend: str, model: str,
                    model_sha: str | None) -> dict[str, Path]:
    """Shipped adapter names -> their file for this backend (paths pass through).

    A shipped adapter serves only the base it was trained on: on another model's weights
    its deltas are noise, so that is refused (exit 2) before the model loads."""
    from agent.models.registry import shipped_adapters

    shipped = shipped_adapters()
    out: dict[str, Path] = {}
    for role, path in adapters.items():
        spec = shipped.get(str(path)) if not path.exists() else None
        if spec is None:
            out[role] = path
            continue
        if model != spec.base and model_sha != spec.base_sha256:
            raise BadInputError(f"--adapter {spec.name}: trained on {spec.base}, it cannot "
                                f"serve {model} (use --model {spec.base})")
        out[role] = spec.path_for(backend)
    return out


def adapter_for(adapters: Mapping[str, Path], role: str | None) -> str | None:
    """The key of the adapter that serves a call of this role, or None for the base weights."""
    if role is not None and role in adapters:
        return role
    return ALL_ROLES if ALL_ROLES in adapters else None


def parse_adapter_args(values: list[str] | None) -> str | dict[str, str] | None:
    """--adapter values -> RunConfig.adapter: one PATH for every call, or ROLE=PATH each.

    Exits 2 (BadInputError) on a missing file, an unknown role or a role given twice, before
    any model is loaded.
    """
    if not values:
        return None
    from agent.models.registry import shipped_adapters

    shipped = shipped_adapters()
    roles: dict[str, str] = {}
    for value in values:
        role, sep, path = value.partition("=")
        if not sep or (role not in ADAPTER_ROLES and Path(value).exists()):
            role, path = ALL_ROLES, value
        elif role not in ADAPTER_ROLES:
            raise BadInputError(f"--adapter {value}: role {role!r} is not one of "
                                f"{', '.join(ADAPTER_ROLES)} (ROLE=PATH, or PATH for all)")
        if role in roles:
            raise BadInputError(f"--adapter {value}: more than one adapter for "
                                f"{'every call' if role == ALL_ROLES else role}")
        if path in shipped and not Path(path).exists():
            roles[role] = path  # a shipped adapter's name: load_model picks its file
            continue
        if not Path(path).exists():
            known = f" (shipped adapters: {', '.join(sorted(shipped))})" if shipped else ""
            raise BadInputError(f"--adapter {value}: {path} does not exist{known}")
        roles[role] = str(Path(path).resolve())  # run.json must resume from any folder
    return roles[ALL_ROLES] if list(roles) == [ALL_ROLES] else roles


def add_model_arguments(parser: argparse.ArgumentParser, default_model: str) -> None:
    """--model, --backend, --base-url and --adapter, as `run` and `bench` take them."""
    parser.add_argument("--model", default=default_model,
                        help="registered name, .gguf, HF dir, or openai:NAME for a model an "
                             "OpenAI-compatible server serves (Ollama, llama-server, vLLM)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--base-url", metavar="URL", default=None,
                        help="the OpenAI-compatible server of --model openai:NAME (default "
                             "$GPIOT_BASE_URL, then $OPENAI_BASE_URL)")
    add_adapter_argument(parser)


def server_url(args: argparse.Namespace) -> str | None:
    """--base-url (or the environment's) for an openai:NAME model, else None: a local model
    keeps no URL in run.json. Exits 2 on a URL that is not http(s)://HOST[:PORT][/path]."""
    if not (args.backend == "openai" or str(args.model).startswith(OPENAI_PREFIX)):
        if args.base_url:
            raise BadInputError("--base-url is for --model openai:NAME (an OpenAI-compatible "
                                "server)")
        return None
    return base_url(args.base_url)


def base_url(given: str | None) -> str | None:
    """The server's URL from --base-url, else the environment; "/v1" added to a bare host
    (the path every OpenAI-compatible server serves its API under)."""
    url = given or next((os.environ[v] for v in URL_VARIABLES if os.environ.get(v)), None)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInputError(f"--base-url {url!r}: expected http://HOST:PORT[/v1], e.g. "
                            "http://127.0.0.1:11434/v1 for Ollama")
    return url.rstrip("/") + ("/v1" if parts.path.strip("/") == "" else "")


def add_adapter_argument(parser: argparse.ArgumentParser) -> None:
    """--adapter as `run` and `bench` take it (parse with parse_adapter_args)."""
    parser.add_argument("--adapter", action="append", metavar="[ROLE=]PATH",
                        help="LoRA adapter (GGUF for llama.cpp, PEFT dir for hf, or the name "
                             "of a shipped one, see `models list`) for every call, or per "
                             f"role ({', '.join(ADAPTER_ROLES)}) as ROLE=PATH, repeated; a "
                             "role without one runs on the base weights")


def backend_class(backend: str) -> type[ChatModel]:
    """The ChatModel class registered for a backend (BACKEND_CLASSES), imported now."""
    module, _, name = BACKEND_CLASSES[backend].partition(":")
    return getattr(importlib.import_module(module), name)


def load_model(
    name_or_path: str | os.PathLike[str],
    backend: Backend = "auto",
    adapter: Adapter | None = None,
    **options: object,
) -> ChatModel:
    """Load a registered model name, .gguf file or HF directory on the chosen backend.

    auto: a .gguf file runs on llama.cpp (fast on a CPU), a directory on transformers, and
    openai:NAME on the OpenAI-compatible server at options["base_url"].
    adapter: a LoRA adapter (GGUF for llama.cpp, a peft directory for hf) for every call, or
    {role: adapter} (roles: ADAPTER_ROLES) so each of GPIoT's roles runs on its own.
    """
    from agent.models.fetch import cached_file, model_path
    from agent.models.registry import MODELS

    if backend not in BACKENDS:
        raise BadInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    adapters = role_adapters(adapter)
    text = os.fspath(name_or_path)
    if backend == "openai" or text.startswith(OPENAI_PREFIX):
        if adapters:
            raise BadInputError("--adapter: a model server applies its own adapters; load "
                                "the adapter there (e.g. llama-server --lora FILE)")
        return backend_class("openai")(text.removeprefix(OPENAI_PREFIX),
                                       base_url=options.get("base_url"))
    for server_only in SERVER_OPTIONS:
        options.pop(server_only, None)
    path = model_path(text)
    sha = MODELS[text].sha256 if text in MODELS else next(  # a registered file by path
        (m.sha256 for m in MODELS.values()
         if cached_file(m.name).resolve() == path.resolve()), None)
    name = text if text in MODELS else Path(text).name
    if backend == "auto":
        backend = "hf" if path.is_dir() else "llama"
    adapters = resolve_shipped(adapters, backend, text, sha)
    if backend == "llama":
        if path.is_dir():
            raise BadInputError(
                f"{text}: the llama backend needs a .gguf file, not a directory (use --backend hf)"
            )
        return backend_class("llama")(path, name=name, sha256=sha, adapters=adapters,
                                      **options)
    for llama_only in LLAMA_OPTIONS:  # decoding switches of the llama.cpp engine
        options.pop(llama_only, None)
    return backend_class("hf")(path, name=name, sha256=sha, adapters=adapters, **options)
