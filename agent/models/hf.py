"""transformers backend: full-precision weights, for GPUs, LoRA training and peft adapters.

A GGUF file is dequantised on load (tens of seconds for a small model on 2 CPU cores), so on a CPU
the llama backend is the fast path; this one exists for what llama.cpp cannot do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from agent.errors import BadInputError, InfraError
from agent.models.base import ALL_ROLES, ChatModel, Completion, adapter_for, split_prefill

ADAPTER_NAME = {ALL_ROLES: "default"}  # peft's name for a model's only adapter

INSTALL_HINT = (
    "pip install torch==2.13.0 transformers peft gguf  (pin torch: unpinned it pulls a "
    "multi-GB CUDA build)"
)


class HFModel(ChatModel):
    """A causal LM in transformers, loaded from an HF directory or a GGUF file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        sha256: str | None = None,
        adapters: Mapping[str, Path] | None = None,
        device: str | None = None,
        dtype: str | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local files only, never the hub
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            msg = f"the hf backend needs transformers and torch: {INSTALL_HINT}"
            raise InfraError(msg) from exc
        self._torch = torch
        self.path = Path(path)
        self.name = name or self.path.name
        self.sha256 = sha256
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # fp32 on CPU (bf16 matmuls are slow there), bf16 on a GPU
        torch_dtype = getattr(torch, dtype) if dtype else (
            torch.float32 if self.device == "cpu" else torch.bfloat16
        )  # fmt: skip
        if self.path.is_dir():
            where, kw = str(self.path), {}
        else:
            where, kw = str(self.path.parent), {"gguf_file": self.path.name}
        try:
            self._tok = AutoTokenizer.from_pretrained(where, local_files_only=True, **kw)
            model = AutoModelForCausalLM.from_pretrained(
                where, local_files_only=True, dtype=torch_dtype, **kw
            )
        except (OSError, ValueError) as exc:
            raise InfraError(
                f"transformers could not load {self.path} ({exc}); check it is a complete GGUF "
                "or HF model directory, and that the gguf package is installed for GGUF files"
            ) from exc
        self._adapters = dict(adapters or {})
        if self._adapters:
            try:
                from peft import PeftModel
            except ImportError as exc:
                raise InfraError(f"loading an adapter needs peft: {INSTALL_HINT}") from exc
            for i, (role, path) in enumerate(self._adapters.items()):
                if not (path / "adapter_config.json").is_file():
                    raise BadInputError(f"{path}: the hf backend needs a PEFT adapter "
                                        "directory (adapter_config.json + weights)")
                name = ADAPTER_NAME.get(role, role)  # "*" -> peft's "default"
                if i == 0:
                    model = PeftModel.from_pretrained(model, os.fspath(path), adapter_name=name)
                else:
                    model.load_adapter(os.fspath(path), adapter_name=name)
        self._model = model.to(self.device).eval()

    def _adapter_context(self, role: str | None) -> AbstractContextManager[Any]:
        """The call's adapter switched on, or every adapter off for a role without one."""
        if not self._adapters:
            return nullcontext()
        key = adapter_for(self._adapters, role)
        if key is None:
            return self._model.disable_adapter()
        self._model.set_adapter(ADAPTER_NAME.get(key, key))
        return nullcontext()

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
        """Chat completion with the tokenizer's template; temperature 0 is greedy; generation
        stops at `deadline` (transformers' max_time, counted from the call's start)."""
        from transformers import GenerationConfig

        torch = self._torch
        start = time.perf_counter()
        chat, prefill = split_prefill(messages)
        if prefill:  # the template's generation prompt, then the reply's start as text
            prompt = self._tok.apply_chat_template(chat, add_generation_prompt=True,
                                                   tokenize=False) + prefill
            inputs = self._tok(prompt, return_tensors="pt", add_special_tokens=False
                               ).to(self.device)
        else:
            inputs = self._tok.apply_chat_template(
                chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(self.device)
        n_in = inputs["input_ids"].shape[1]
        max_time = None if deadline is None else deadline - time.time()
        if max_time is not None and max_time <= 0:
            return Completion("", int(n_in), 0, time.perf_counter() - start,
                              finish_reason="deadline")
        sample = temperature > 0
        pad = self._tok.pad_token_id
        config = GenerationConfig(  # explicit, so no defaults shipped with a model apply
            max_new_tokens=max_new_tokens,
            do_sample=sample,
            temperature=temperature if sample else None,
            top_p=None,
            top_k=None,
            eos_token_id=self._model.generation_config.eos_token_id or self._tok.eos_token_id,
            pad_token_id=self._tok.eos_token_id if pad is None else pad,
            stop_strings=stop or None,
            max_time=max_time,
        )
        if seed is not None:
            torch.manual_seed(seed)
        with torch.inference_mode(), self._adapter_context(role):
            out = self._model.generate(**inputs, generation_config=config, tokenizer=self._tok)
        new = out[0, n_in:]
        text = self._tok.decode(new, skip_special_tokens=True)
        stopped = any(s in text for s in stop or ())
        for s in stop or ():  # match llama.cpp: cut at the first stop string, excluding it
            text = text.split(s, 1)[0]
        eos = config.eos_token_id
        eos_ids = set(eos) if isinstance(eos, list) else {eos}
        if stopped or (new.shape[0] and int(new[-1]) in eos_ids):
            finish = "stop"
        elif new.shape[0] >= max_new_tokens:
            finish = "length"
        else:  # neither an end nor the token cap: max_time ended it
            finish = "deadline" if deadline is not None else "stop"
        return Completion(
            text=prefill + text,
            tokens_in=int(n_in),
            tokens_out=int(new.shape[0]),
            seconds=time.perf_counter() - start,
            finish_reason=finish,
        )

    def close(self) -> None:
        self._model = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()
