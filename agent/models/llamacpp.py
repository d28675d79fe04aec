"""llama.cpp backend: runs the quantised GGUF directly, the fast path on a CPU.

The prompt is built from the chat template stored in the GGUF (llama-cpp-python's
default when no chat_format is given), so prompts match what the model was tuned on.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.errors import BadInputError, InfraError
from agent.models.base import ChatModel, Completion, adapter_for

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
def _model_params(extra_buffers: bool):  # noqa: ANN202
    """llama-cpp-python does not expose use_extra_bufts: set it on the defaults it asks for."""
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params

    def defaults():  # noqa: ANN202
        params = original()
        params.use_extra_bufts = extra_buffers
        return params

    low.llama_model_default_params = defaults
    try:
        yield
    finally:
        low.llama_model_default_params = original


class LlamaCppModel(ChatModel):
    """A GGUF model loaded in llama.cpp; every call starts from an empty KV cache (repeatable)."""

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
    ) -> None:
        llama_cpp = import_llama_cpp()
        self.path = Path(path)
        self.name = name or self.path.name
        self.sha256 = sha256
        if n_gpu_layers is None:  # offload everything when this build can, else stay on CPU
            n_gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        self.extra_buffers = use_extra_buffers()
        try:
            with _model_params(self.extra_buffers):
                self._llm = llama_cpp.Llama(
                    model_path=str(self.path),
                    n_ctx=n_ctx,
                    n_threads=n_threads or cpu_count(),
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

    def generate(
        self,
        messages: list[dict],
        *,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
        stop: list[str] | None = None,
        role: str | None = None,
    ) -> Completion:
        """Chat completion; temperature 0 selects llama.cpp's greedy sampler."""
        start = time.perf_counter()
        self._use(role)
        # Forget the previous call's KV cache: reusing a shared prefix evaluates the prompt
        # in other batch shapes, and greedy output then differed between identical calls
        # (seen with the 1.5B). Repeatable runs (--seed) are worth the prompt re-evaluation.
        self._llm.reset()
        out = self._llm.create_chat_completion(
            messages=messages,
            max_tokens=max_new_tokens,
            temperature=max(temperature, 0.0),
            repeat_penalty=1.0,  # plain sampling, the same as the hf backend
            seed=seed,
            stop=stop or None,
        )
        seconds = time.perf_counter() - start
        usage = out["usage"]
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",
            tokens_in=usage["prompt_tokens"],
            tokens_out=usage["completion_tokens"],
            seconds=seconds,
        )

    def close(self) -> None:
        llm, self._llm = getattr(self, "_llm", None), None
        if llm is not None:
            llm.close()
