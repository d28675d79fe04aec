"""PECT (GPIoT's parameter-efficient co-tuning): a multi-path LoRA trained on several roles.

Mapping onto peft (what peft expresses, and the one custom piece):
- each role ("decompose", "code", ...) is a named peft LoRA adapter on the attention and
  FFN projections (the run's `lora:` section);
- the SHARED path is one more named adapter, "shared", on the key/value projections
  (`pect.shared`);
- a batch of role R runs with adapters [R, "shared"] active (peft sums active adapters),
  and on every projection that has the shared path the adapters' scalings are set to
  lambda * alpha_s/r_s (shared) and (1 - lambda) * alpha/r (role), so
  k/v delta = lambda * shared + (1 - lambda) * role exactly; elsewhere the role path is
  unscaled. Both roles' batches update the shared path: that is the co-tuning;
- the optional bottleneck adapters beside each FFN (down -> SiLU -> up, zero-initialised,
  one set per role) are not something peft has: they are small modules added to the MLP
  output by forward hooks. They cannot be written as a LoRA, so they are off by default and,
  when on, served only through transformers with `load_pect`.
Export per role: a sum of two low-rank products is one LoRA of rank r1 + r2 (concatenate
the A's, scale and concatenate the B's), so each role becomes ONE standard PEFT adapter
that both serving backends load with nothing custom.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from agent.errors import BadInputError
from finetune.lora import LoraSection, PectSection, lora_config

SHARED = "shared"


def _torch():  # noqa: ANN202
    import torch

    return torch


class _Bottleneck:
    """Factory for one FFN bottleneck adapter (kept lazy so importing needs no torch)."""

    @staticmethod
    def make(hidden: int, dim: int) -> Any:
        nn = _torch().nn

        class Bottleneck(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.down = nn.Linear(hidden, dim)
                self.up = nn.Linear(dim, hidden)
                nn.init.zeros_(self.up.weight)  # starts as the identity: the base is unchanged
                nn.init.zeros_(self.up.bias)

            def forward(self, x: Any) -> Any:
                return self.up(nn.functional.silu(self.down(x)))

        return Bottleneck()


class FFNAdapters:
    """Per-role bottleneck adapters added to each decoder layer's MLP output by hooks."""

    def __init__(self, base_model: Any, roles: list[str], dim: int) -> None:
        nn = _torch().nn
        layers = base_model.get_decoder().layers
        hidden = base_model.config.hidden_size
        device = next(base_model.parameters()).device
        self.modules = nn.ModuleDict({
            role: nn.ModuleList([_Bottleneck.make(hidden, dim) for _ in layers])
            for role in roles
        }).to(device)
        self.role: str | None = None
        self._hooks = [layer.mlp.register_forward_hook(self._hook(i))
                       for i, layer in enumerate(layers)]

    def _hook(self, i: int):  # noqa: ANN202
        def add(module: Any, args: tuple, output: Any) -> Any:
            if self.role is None:
                return output
            adapter = self.modules[self.role][i]
            x = args[0].to(adapter.down.weight.dtype)
            return output + adapter(x).to(output.dtype)

        return add

    def remove(self) -> None:
        for h in self._hooks:
            h.remove()


def _lora_layers(peft_model: Any) -> list[tuple[str, Any]]:
    from peft.tuners.lora import LoraLayer

    return [(n, m) for n, m in peft_model.base_model.model.named_modules()
            if isinstance(m, LoraLayer)]


class PECT:
    """A peft model with one LoRA path per role plus the shared k/v path, mixed by lambda."""

    def __init__(self, model: Any, sec: PectSection, default_lora: LoraSection,
                 _load_from: Path | None = None) -> None:
        from peft import PeftModel, get_peft_model

        self.sec, self.lora = sec, default_lora
        self.roles = list(sec.roles)
        self.lam = float(sec.lam)
        if _load_from is None:
            self.model = get_peft_model(model, lora_config(default_lora),
                                        adapter_name=self.roles[0])
            for role in self.roles[1:]:
                self.model.add_adapter(role, lora_config(default_lora))
            self.model.add_adapter(SHARED, lora_config(sec.shared))
        else:
            self.model = PeftModel.from_pretrained(model, str(_load_from / self.roles[0]),
                                                   adapter_name=self.roles[0])
            for name in [*self.roles[1:], SHARED]:
                self.model.load_adapter(str(_load_from / name), adapter_name=name)
        self.set_lambda(self.lam)
        self.ffn = (FFNAdapters(self.model.get_base_model(), self.roles, sec.ffn_dim)
                    if sec.ffn_adapter else None)
        if self.ffn is not None and _load_from is not None:
            from safetensors.torch import load_file

            state = load_file(str(_load_from / "ffn_adapters.safetensors"))
            self.ffn.modules.load_state_dict(state)
        self.role: str | None = None
        self.set_role(self.roles[0])

    def set_lambda(self, lam: float) -> None:
        """Scale the paths: lam on the shared one, 1 - lam on a role where the shared one is."""
        self.lam = lam
        for _, m in _lora_layers(self.model):
            if SHARED not in m.lora_A:
                continue
            m.set_scale(SHARED, lam)
            for role in self.roles:
                m.set_scale(role, 1.0 - lam)

    def set_role(self, role: str) -> None:
        """Activate this role's path and the shared path (peft sums the active adapters)."""
        if role not in self.roles:
            raise BadInputError(f"PECT has no role {role!r} (roles: {', '.join(self.roles)})")
        self.model.base_model.set_adapter([role, SHARED])
        self.role = role
        if self.ffn is not None:
            self.ffn.role = role

    def parameters(self) -> list[Any]:
        """Every path's parameters (inactive paths are frozen by peft for the current batch)."""
        params = [p for n, p in self.model.named_parameters() if "lora_" in n]
        if self.ffn is not None:
            params += list(self.ffn.modules.parameters())
        for p in params:  # in the optimizer from the start; set_role decides who gets grads
            p.requires_grad_(True)
        self.set_role(self.role or self.roles[0])
        return params

    def kv_delta(self, module_name: str) -> Any:
        """The weight delta the current role adds to one projection (for tests and checks)."""
        module = dict(_lora_layers(self.model))[module_name]
        delta = 0
        for a in (self.role, SHARED):
            if a in module.lora_A:
                delta = delta + module.scaling[a] * (
                    module.lora_B[a].weight.float() @ module.lora_A[a].weight.float())
        return delta

    # -- saving ---------------------------------------------------------------------------

    def save(self, out: Path, cfg: Any) -> list[Path]:
        """The multi-path checkpoint (out/pect) and one standard adapter per role."""
        ckpt = out / "pect"
        for name in [*self.roles, SHARED]:
            self.model.peft_config[name].base_model_name_or_path = cfg.base
        self.model.save_pretrained(str(ckpt), save_embedding_layers=False)
        meta = {"roles": self.roles, "lambda": self.lam, "base": cfg.base,
                "lora": vars(self.lora), "shared": vars(self.sec.shared),
                "ffn_adapter": self.sec.ffn_adapter, "ffn_dim": self.sec.ffn_dim}
        (ckpt / "pect.json").write_text(json.dumps(meta, indent=2) + "\n")
        if self.ffn is not None:
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in self.ffn.modules.state_dict().items()},
                      str(ckpt / "ffn_adapters.safetensors"))
        return [self.export_role(role, out / "adapters" / role, base=cfg.base)
                for role in self.roles]

    def export_role(self, role: str, dest: str | os.PathLike[str], base: str = "") -> Path:
        """Merge shared + role into one standard PEFT LoRA (rank r1 + r2 on k/v).

        Each module's effective scalings (lambda included) are folded into its B, and the
        adapter is written with alpha = r per module (scaling 1), so it computes exactly
        sum_a s_a B_a A_a. A path whose scaling is 0 (lambda 0 or 1) is left out.
        FFN bottleneck adapters cannot be expressed as a LoRA and are not included.
        """
        from peft import LoraConfig
        from safetensors.torch import save_file

        torch = _torch()
        dest = Path(dest)
        tensors: dict[str, Any] = {}
        ranks: dict[str, int] = {}
        for name, m in _lora_layers(self.model):
            a_parts, b_parts = [], []
            for a in (role, SHARED):
                if a in m.lora_A and m.scaling[a] != 0:
                    a_parts.append(m.lora_A[a].weight.detach().float().cpu())
                    b_parts.append(m.lora_B[a].weight.detach().float().cpu() * m.scaling[a])
            if not a_parts:
                continue
            key = f"base_model.model.{name}"
            tensors[f"{key}.lora_A.weight"] = torch.cat(a_parts, 0).contiguous()
            tensors[f"{key}.lora_B.weight"] = torch.cat(b_parts, 1).contiguous()
            ranks[name] = tensors[f"{key}.lora_A.weight"].shape[0]
        if not ranks:
            raise BadInputError(f"PECT role {role!r} has no LoRA path to export")
        r = Counter(ranks.values()).most_common(1)[0][0]
        odd = _rank_pattern(ranks, r)
        config = LoraConfig(
            r=r, lora_alpha=r, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
            target_modules=sorted({n.rsplit(".", 1)[-1] for n in ranks}),
            rank_pattern=odd, alpha_pattern=dict(odd),
            base_model_name_or_path=base or None, inference_mode=True)
        dest.mkdir(parents=True, exist_ok=True)
        config.save_pretrained(str(dest))
        save_file(tensors, str(dest / "adapter_model.safetensors"), metadata={"format": "pt"})
        note = {"pect_role": role, "lambda": self.lam,
                "ffn_adapters_omitted": bool(self.sec.ffn_adapter)}
        (dest / "pect_export.json").write_text(json.dumps(note, indent=2) + "\n")
        return dest


def _rank_pattern(ranks: dict[str, int], r: int) -> dict[str, int]:
    """peft rank_pattern for modules whose rank is not r: by leaf name ("k_proj") when every
    module of that name agrees, else by the module's escaped full name."""
    import re

    by_leaf: dict[str, set[int]] = {}
    for n, k in ranks.items():
        by_leaf.setdefault(n.rsplit(".", 1)[-1], set()).add(k)
    out: dict[str, int] = {}
    for n, k in ranks.items():
        leaf = n.rsplit(".", 1)[-1]
        if by_leaf[leaf] == {k}:
            if k != r:
                out[leaf] = k
        elif k != r:
            out[re.escape(n)] = k
    return out


def load_pect(base_model: Any, ckpt: str | os.PathLike[str]) -> PECT:
    """Rebuild a trained PECT model (with FFN adapters if it has them) on a loaded base."""
    ckpt = Path(ckpt)
    meta_path = ckpt / "pect.json"
    if not meta_path.is_file():
        raise BadInputError(f"{ckpt}: not a PECT checkpoint (no pect.json)")
    meta = json.loads(meta_path.read_text())
    sec = PectSection(roles=meta["roles"], lam=meta["lambda"],
                      shared=LoraSection(**meta["shared"]), ffn_adapter=meta["ffn_adapter"],
                      ffn_dim=meta["ffn_dim"])
    pect = PECT(base_model, sec, LoraSection(**meta["lora"]), _load_from=ckpt)
    pect.model.eval()
    return pect
