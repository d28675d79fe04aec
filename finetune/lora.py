"""The LoRA paths a training config describes (`lora:`, `pect:`) and their peft LoraConfig.

A leaf shared by train.py (which reads the config and runs either method) and pect.py
(which builds PECT's paths), so PECT does not import the trainer that imports it.
finetune.train re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class LoraSection:
    """One LoRA path: rank, alpha, dropout and the projections it wraps."""

    r: int = 16
    alpha: float = 32.0
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(ALL_LINEAR))
    # only decoder layers from this index on (None: all): on a CPU budget the backward pass
    # then stops at the first adapted layer, since nothing below it needs a gradient
    layers_from: int | None = None


@dataclass
class PectSection:
    """PECT: per-role LoRA paths, a shared k/v path mixed by lambda, optional FFN adapters."""

    roles: list[str] = field(default_factory=lambda: ["decompose", "code"])
    lam: float = 0.5  # `lambda` in YAML: k/v delta = lam * shared + (1 - lam) * role
    shared: LoraSection = field(
        default_factory=lambda: LoraSection(r=8, alpha=16.0, target_modules=["k_proj", "v_proj"])
    )
    ffn_adapter: bool = False  # bottleneck adapters beside each FFN (transformers-only)
    ffn_dim: int = 64


def lora_config(sec: LoraSection, n_layers: int | None = None) -> Any:
    """peft's LoraConfig for one path; `n_layers` (the model's) is needed with layers_from."""
    from peft import LoraConfig

    layers = None
    if sec.layers_from is not None:
        if n_layers is None or sec.layers_from >= n_layers:
            raise ValueError(f"lora.layers_from {sec.layers_from} leaves no layer of "
                             f"{n_layers}")
        layers = list(range(sec.layers_from, n_layers))
    return LoraConfig(r=sec.r, lora_alpha=sec.alpha, lora_dropout=sec.dropout,
                      target_modules=list(sec.target_modules), bias="none",
                      task_type="CAUSAL_LM", layers_to_transform=layers)
