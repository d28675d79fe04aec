"""OpenAI-compatible backend: the chat endpoint of a model server the user already runs
(Ollama, llama.cpp's llama-server, vLLM, LM Studio, llama-cpp-python's llama_cpp.server).

`--model openai:NAME --base-url URL` (or $GPIOT_BASE_URL, then $OPENAI_BASE_URL); an API key,
where the server wants one, comes from $OPENAI_API_KEY and is never written to run.json.
Replies are streamed so a call's deadline holds: at the deadline the stream is closed (a
server notices and stops generating) and the text so far is the reply. Token counts come
from the server's `usage`; a server that sends none in a stream (llama_cpp.server) gets its
streamed pieces counted as output tokens (one per token on llama.cpp servers) and 0 prompt
tokens. The seed and the local backend's sampler settings are sent; whether they are
honoured is the server's business (llama.cpp's servers do).
"""

from __future__ import annotations

import os
import time
from typing import Any

from agent.errors import BadInputError, InfraError
from agent.models.base import URL_VARIABLES, ChatModel, Completion, split_prefill
from agent.models.base import base_url as base_url  # lives in base (server_url); kept here

PREFIX = "openai:"  # --model openai:NAME picks this backend
INSTALL_HINT = "python3 -m pip install 'openai==3.60.0'  (the gpiot[openai] extra)"
# The OpenAI API takes at most 4 stop sequences; extra ones are cut here, so a strict server
# does not refuse the call (the agent's extraction copes with text after a stop).
MAX_STOPS = 4
NO_DEADLINE_READ_S = 600.0  # a server silent this long between two pieces is stuck


def _openai():  # noqa: ANN202 - the module
    try:
        import openai
    except ImportError as exc:
        raise InfraError(f"--model openai:NAME needs the OpenAI client: {INSTALL_HINT}") from exc
    return openai


class OpenAIModel(ChatModel):
    """A model served over the OpenAI chat-completions API. Adapters, KV reuse and batching
    are the server's: gpiot sends the same messages, budgets and seeds as to a local model."""

    sha256 = None

    def __init__(self, model: str, *, base_url: str | None, api_key: str | None = None,
                 **_decoding: Any) -> None:
        if not model:
            raise BadInputError("--model openai:NAME: NAME is the model the server serves "
                                "(e.g. openai:qwen2.5-coder:1.5b for Ollama)")
        if base_url is None:
            raise BadInputError(f"--model {PREFIX}{model} needs --base-url URL (or "
                                f"${URL_VARIABLES[0]}): the server's address, e.g. "
                                "http://127.0.0.1:8080/v1")
        openai = _openai()
        self.name = PREFIX + model
        self.model, self.base_url = model, base_url
        self.client = openai.OpenAI(base_url=base_url, max_retries=1,
                                    api_key=api_key or os.environ.get("OPENAI_API_KEY") or "none")
        self._check_served()
        # Asked for where the server takes them, dropped for good once it refuses them (400,
        # 422): usage in the stream, and the local backend's sampler (llama.cpp's top-k and
        # min-p, no repeat penalty: llama_cpp.server and Ollama default to 1.1, which changes
        # even a greedy reply).
        self.extras: dict[str, Any] = {"stream_options": {"include_usage": True},
                                       "extra_body": {"repeat_penalty": 1.0, "top_k": 40,
                                                      "min_p": 0.05}}

    def _check_served(self) -> None:
        """Exit 3 now, not at the first draft, for a server that is down or does not serve
        the model. A server that lists no models (some serve whatever is loaded) passes."""
        openai = _openai()
        try:
            served = [m.id for m in self.client.models.list(timeout=15)]
        except openai.APIConnectionError as exc:
            raise InfraError(f"no OpenAI-compatible server answers at {self.base_url} "
                             f"({_cause(exc)}); start it, or point --base-url at it") from None
        except openai.APIStatusError as exc:
            raise InfraError(f"the server at {self.base_url} answered {exc.status_code} to "
                             f"GET /models: {_message(exc)}") from None
        if served and self.model not in served:
            raise InfraError(f"the server at {self.base_url} does not serve {self.model!r}; "
                             f"it serves: {', '.join(served[:8])}")

    def generate(self, messages: list[dict], *, max_new_tokens: int = 512,
                 temperature: float = 0.0, seed: int | None = None,
                 stop: list[str] | None = None, role: str | None = None,
                 deadline: float | None = None, node: str | None = None) -> Completion:
        openai = _openai()
        start = time.monotonic()
        # servers do not agree on a prefill (a final assistant message): it is not sent, and
        # the reply is the server's whole reply
        request: dict[str, Any] = {
            "model": self.model, "messages": split_prefill(messages)[0],
            "max_tokens": max_new_tokens,
            "temperature": temperature, "top_p": 0.95, "stream": True}
        if seed is not None:
            request["seed"] = seed
        if stop:
            request["stop"] = list(stop)[:MAX_STOPS]
        pieces: list[str] = []
        counted = 0
        usage = None
        finish = "stop"
        try:
            stream = self._open(request, deadline)
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        usage = chunk.usage
                    for choice in chunk.choices or ():
                        if choice.delta is not None and choice.delta.content:
                            pieces.append(choice.delta.content)
                            counted += 1
                        if choice.finish_reason:
                            finish = choice.finish_reason
                    if deadline is not None and time.time() >= deadline:
                        finish = "deadline"
                        break  # leaving the block closes the stream: the server stops
        except openai.APITimeoutError:
            if deadline is None or time.time() < deadline:
                raise InfraError(f"the server at {self.base_url} sent nothing for "
                                 f"{NO_DEADLINE_READ_S:.0f} s") from None
            finish = "deadline"
        except openai.APIConnectionError as exc:
            raise InfraError(f"lost the OpenAI-compatible server at {self.base_url} "
                             f"({_cause(exc)})") from None
        except openai.APIStatusError as exc:
            raise InfraError(f"the server at {self.base_url} refused the call "
                             f"({exc.status_code}): {_message(exc)}") from None
        return Completion(
            text="".join(pieces),
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or counted),
            seconds=time.monotonic() - start,
            finish_reason=finish if finish in ("stop", "length", "deadline") else "stop",
            tokens_cached=int(getattr(getattr(usage, "prompt_tokens_details", None),
                                      "cached_tokens", 0) or 0))

    def _open(self, request: dict[str, Any], deadline: float | None) -> Any:
        """The stream, with the extras the server takes; one that refuses them is asked again
        without (and never again with them)."""
        openai = _openai()
        import httpx

        left = NO_DEADLINE_READ_S if deadline is None else max(1.0, deadline - time.time())
        timeout = httpx.Timeout(connect=10.0, write=30.0, pool=10.0, read=left)
        if self.extras:
            try:
                return self.client.chat.completions.create(**request, **self.extras,
                                                           timeout=timeout)
            except (openai.BadRequestError, openai.UnprocessableEntityError):
                self.extras = {}
        return self.client.chat.completions.create(**request, timeout=timeout)

    def close(self) -> None:
        self.client.close()


def _cause(exc: BaseException) -> str:
    """The innermost reason of a connection error ("Connection refused"), in one line."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split("] ", 1)[-1]


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        text = err.get("message") if isinstance(err, dict) else err
        if text:
            return str(text).splitlines()[0]
    return str(exc).splitlines()[0]
