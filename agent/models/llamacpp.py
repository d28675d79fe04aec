"""llama.cpp backend: runs the quantised GGUF directly, the fast path on a CPU.

The prompt is built from the chat template stored in the GGUF (llama-cpp-python's
default when no chat_format is given), so prompts match what the model was tuned on.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.errors import BadInputError, InfraError
from agent.models.base import ChatModel, Completion, adapter_for, split_prefill
from agent.models.llamacpp_engine import Decoder, DecodeStats

INSTALL_HINT = "pip install llama-cpp-python==0.3.36  (builds from source, about 5 min on 2 cores)"


def cpu_count() -> int:
    """Cores this process may use (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def import_llama_cpp():  # noqa: ANN201 - returns the module
    """Import llama_cpp lazily, turning its absence into an actionable InfraError."""
    try:
        import llama_cpp
    except ImportError as exc:
        raise InfraError(f"the llama backend needs llama-cpp-python: {INSTALL_HINT}") from exc
    return llama_cpp


def use_extra_buffers() -> bool:
    """Whether llama.cpp may repack weights into its extra CPU buffer types.

    On CPUs with AMX (e.g. Sapphire Rapids VMs) llama-cpp-python 0.3.36's AMX buffer type
    segfaults in the first decode (seen here: `amx repack tensor ...` then SIGSEGV), so there
    the plain CPU buffers are used. GPIOT_LLAMA_EXTRA_BUFTS=1/0 forces either way.
    """
    forced = os.environ.get("GPIOT_LLAMA_EXTRA_BUFTS")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return True
    return "amx_tile" not in flags.split()


@contextmanager
def _default_params(extra_buffers: bool, n_seq: int):  # noqa: ANN202
    """llama-cpp-python exposes neither use_extra_bufts nor the context's sequence count:
    set them on the defaults it asks for. The KV cache is unified (one buffer all sequences
    share), so K replies to one prompt share its cells instead of copying them."""
    import llama_cpp.llama_cpp as low

    model_defaults = low.llama_model_default_params
    context_defaults = low.llama_context_default_params

    def model():  # noqa: ANN202
        params = model_defaults()
        params.use_extra_bufts = extra_buffers
        return params

    def context():  # noqa: ANN202
        params = context_defaults()
        params.n_seq_max = n_seq
        params.kv_unified = True
        return params

    low.llama_model_default_params = model
    low.llama_context_default_params = context
    try:
        yield
    finally:
        low.llama_model_default_params = model_defaults
        low.llama_context_default_params = context_defaults


def chat_formatter(llm: Any) -> Any:
    """The formatter llama-cpp-python's chat completion applies: the GGUF's own template, or
    the named format it guessed from it."""
    from llama_cpp import llama_chat_format as fmt

    if llm.chat_format == "chat_template.default":
        eos, bos = llm.token_eos(), llm.token_bos()
        return fmt.Jinja2ChatFormatter(
            template=llm.metadata["tokenizer.chat_template"],
            eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos])
    named = getattr(fmt, "format_" + str(llm.chat_format).replace("-", "_"), None)
    if named is None:
        raise InfraError(f"{llm.model_path}: chat format {llm.chat_format!r} has no formatter "
                         "gpiot can apply; use a GGUF that carries its chat template")
    return named


class LlamaCppModel(ChatModel):
    """A GGUF model loaded in llama.cpp, decoded by agent.models.llamacpp_engine.

    prefix_cache: reuse the KV state of the previous prompt's whole chunks (greedy text is
    byte-identical with and without it). parallel: decode generate_many's replies as
    parallel sequences of one batch. lookup: prompt-lookup drafts for greedy repair calls
    (fewer passes when the reply copies its prompt; repeatable, not byte-identical).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        sha256: str | None = None,
        adapters: Mapping[str, Path] | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        seed: int = 0,
        prefix_cache: bool = True,
        parallel: bool = True,
        lookup: bool = False,
        n_seq: int = 4,
    ) -> None:
        llama_cpp = import_llama_cpp()
        self.path = Path(path)
        self.name = name or self.path.name
        self.sha256 = sha256
        self.seed, self.parallel, self.lookup, self.n_seq = seed, parallel, lookup, n_seq
        self.last_stats: DecodeStats | None = None
        self._group_stats: DecodeStats | None = None
        if n_gpu_layers is None:  # offload everything when this build can, else stay on CPU
            n_gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        self.extra_buffers = use_extra_buffers()
        try:
            with _default_params(self.extra_buffers, n_seq):
                self._llm = llama_cpp.Llama(
                    model_path=str(self.path),
                    n_ctx=n_ctx,
                    n_threads=n_threads or cpu_count(),
                    # batches (prompts, parallel candidates, lookup) use this count: without
                    # it llama-cpp-python takes every core of the machine, not ours
                    n_threads_batch=n_threads or cpu_count(),
                    n_gpu_layers=n_gpu_layers,
                    seed=seed,
                    verbose=False,
                )
        except ValueError as exc:  # llama-cpp-python's "Failed to load model from file"
            raise InfraError(
                f"llama.cpp could not load {self.path} ({exc}); check the file is a complete "
                "GGUF (gpiot models pull NAME re-fetches a registered model)"
            ) from exc
        self._adapters = {role: self._load_adapter(llama_cpp, path)
                          for role, path in (adapters or {}).items()}
        self._active: str | None = None  # no adapter on the context after loading
        self._formatter = chat_formatter(self._llm)
        self._engine = Decoder(self._llm, n_seq=n_seq, prefix_cache=prefix_cache)

    def _load_adapter(self, llama_cpp: Any, path: Path) -> Any:
        """One GGUF LoRA, held beside the base weights (freed with the model) and switched on
        per call, so several roles share one loaded model."""
        if path.is_dir() or not path.is_file():
            raise BadInputError(f"{path}: the llama backend needs a GGUF LoRA file "
                                "(python -m finetune.export ADAPTER_DIR writes one)")
        ptr = llama_cpp.llama_adapter_lora_init(self._llm._model.model, os.fspath(path).encode())
        if not ptr:
            raise InfraError(f"llama.cpp could not load the LoRA adapter {path}; check it was "
                             "exported for this base model (python -m finetune.export)")
        return ptr

    def _use(self, role: str | None) -> None:
        """Put the call's adapter (or none) on the context; a no-op when it is already on."""
        key = adapter_for(self._adapters, role)
        if key == self._active:
            return
        llama_cpp = import_llama_cpp()
        ctx = self._llm._ctx.ctx
        if key is None:
            failed = llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
        else:
            ptrs = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._adapters[key])
            failed = llama_cpp.llama_set_adapters_lora(ctx, ptrs, 1, (ctypes.c_float * 1)(1.0))
        if failed:
            raise InfraError(f"llama.cpp could not switch to the {key or 'base'} adapter")
        self._active = key

    def _prompt_tokens(self, messages: list[dict]) -> list[int]:
        """The chat template stored in the GGUF applied to the messages, tokenized the way
        llama-cpp-python's chat completion does (special tokens parsed, no extra BOS)."""
        chat, prefill = split_prefill(messages)
        result = self._formatter(messages=chat)
        return self._llm.tokenize((result.prompt + prefill).encode("utf-8"),
                                  add_bos=not result.added_special, special=True)

    def _text(self, tokens: list[int]) -> str:
        return self._llm.detokenize(tokens).decode("utf-8", errors="ignore")

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
        """Chat completion; temperature 0 is greedy (a greedy repair uses prompt lookup when
        switched on)."""
        return self._decode(messages, [temperature], [seed], max_new_tokens=max_new_tokens,
                            stop=stop, role=role, deadline=deadline)[0]

    @property
    def group_size(self) -> int:  # type: ignore[override]
        """A draft's replies are parallel sequences of one batch when `parallel` is on."""
        return self.n_seq if self.parallel else 1

    def generate_many(self, messages: list[dict], temperatures: Sequence[float],
                      seeds: Sequence[int | None], **options: Any) -> list[Completion]:
        """As ChatModel's; last_stats then sums the groups."""
        self._group_stats = DecodeStats()
        try:
            return super().generate_many(messages, temperatures, seeds, **options)
        finally:
            self.last_stats, self._group_stats = self._group_stats, None

    def generate_group(self, messages: list[dict], temperatures: Sequence[float],
                       seeds: Sequence[int | None], **options: Any) -> list[Completion]:
        out = self._decode(messages, temperatures, seeds, **options)
        if self._group_stats is not None:
            self._group_stats.add(self.last_stats)
        return out

    def _decode(self, messages: list[dict], temperatures: Sequence[float],
                seeds: Sequence[int | None], *, max_new_tokens: int, stop: list[str] | None,
                role: str | None, deadline: float | None,
                node: str | None = None) -> list[Completion]:
        start = time.perf_counter()
        self._use(role)
        tokens = self._prompt_tokens(messages)
        # the K sequences share the prompt's cells; each needs its own for the reply, so the
        # reply is shortened to fit (as llama-cpp-python's completion does) rather than fail
        room = (self._llm.n_ctx() - len(tokens)) // len(temperatures)
        if room < 1:
            raise BadInputError(f"a prompt of {len(tokens)} tokens does not fit the model's "
                                f"context ({self._llm.n_ctx()} tokens)")
        stops = [s for s in stop or [] if s]
        tail = 2 + max((len(s) for s in stops), default=0)  # tokens: at least a char each
        stop_text = (lambda toks: any(s in self._text(toks[-tail:]) for s in stops)) \
            if stops else None
        replies, stats = self._engine.generate(
            tokens, [max(t, 0.0) for t in temperatures],
            [self.seed + i if s is None else s for i, s in enumerate(seeds)],
            max_new_tokens=min(max_new_tokens, room),
            key=self._active, deadline=deadline,
            lookup=self.lookup and role == "repair" and len(temperatures) == 1,
            stop_text=stop_text)
        self.last_stats = stats
        seconds = time.perf_counter() - start
        out = []
        prefill = split_prefill(messages)[1]
        for r in replies:
            text = self._text(r.tokens)
            for s in stops:  # the stop string itself is not part of the reply
                text = text.split(s, 1)[0]
            text = prefill + text
            out.append(Completion(text=text, tokens_in=len(tokens), tokens_out=len(r.tokens),
                                  seconds=seconds, finish_reason=r.finish_reason,
                                  tokens_cached=stats.cached_tokens))
        return out

    def close(self) -> None:
        engine, self._engine = getattr(self, "_engine", None), None
        if engine is not None:
            engine.close()
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None:
            llm.close()
