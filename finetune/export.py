"""Convert a PEFT LoRA adapter into a GGUF LoRA adapter that llama.cpp loads.

    python -m finetune.export ADAPTER_DIR [--base qwen2.5-coder-0.5b] [-o OUT.gguf]

Follows llama.cpp's convert_lora_to_gguf.py (vendored in llama-cpp-python 0.3.36's sdist):
- metadata general.type = "adapter", general.architecture = the base's, adapter.type =
  "lora", adapter.lora.alpha;
- tensors "<gguf name>.lora_a" / ".lora_b" with the base tensor's GGUF name
  (blk.N.attn_q.weight ...); A (r, in) and B (out, r) are written as PEFT stores them:
  GGUF reverses the dimension order, so ggml sees A as ne = [in, r] and B as [r, out],
  which is what llama.cpp checks (A.ne[0] == W.ne[0], B.ne[1] == W.ne[1]);
- llama.cpp scales every pair by alpha / rank (rank = that pair's own), PEFT by its
  per-module alpha / r (or / sqrt(r) with rsLoRA, and rank/alpha patterns), so any
  difference is folded into B, making the GGUF compute exactly what peft does.
Only architectures whose q/k weights GGUF stores unpermuted are accepted (qwen2): llama's
converter permutes q/k rows for RoPE, which an adapter would have to follow.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from agent.errors import BadInputError, InfraError, exit_code_of

SUPPORTED_ARCHS = ("qwen2",)


def _pattern_value(patterns: dict[str, Any], module: str, default: Any) -> Any:
    """peft's rank/alpha_pattern lookup: the first key matching the module name's tail."""
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def read_adapter(adapter_dir: str | os.PathLike[str]) -> tuple[dict, dict[str, Any]]:
    """The adapter's config and tensors, with the reasons a GGUF LoRA cannot hold it refused."""
    d = Path(adapter_dir)
    cfg_path, weights = d / "adapter_config.json", d / "adapter_model.safetensors"
    if not cfg_path.is_file() or not weights.is_file():
        raise BadInputError(f"{d}: not a PEFT adapter (needs adapter_config.json and "
                            "adapter_model.safetensors)")
    cfg = json.loads(cfg_path.read_text())
    if cfg.get("peft_type", "LORA") != "LORA":
        raise BadInputError(f"{d}: peft_type {cfg.get('peft_type')!r}; only LoRA converts")
    for key, why in (("use_dora", "DoRA magnitudes"), ("modules_to_save", "full modules"),
                     ("fan_in_fan_out", "fan-in/fan-out (Conv1D) weights")):
        if cfg.get(key):
            raise BadInputError(f"{d}: {key} is set ({why} have no GGUF LoRA form)")
    if cfg.get("bias", "none") != "none":
        raise BadInputError(f"{d}: bias={cfg['bias']!r}; llama.cpp LoRA adapters have no bias")
    from safetensors.torch import load_file

    return cfg, load_file(str(weights))


def _pairs(tensors: dict[str, Any], where: Path) -> dict[str, dict[str, Any]]:
    pairs: dict[str, dict[str, Any]] = {}
    for name, t in tensors.items():
        m = re.fullmatch(r"base_model\.model\.(.+)\.lora_([AB])\.weight", name)
        if not m:
            raise BadInputError(f"{where}: tensor {name!r} is not a LoRA A/B weight "
                                "(embeddings or extra modules cannot be converted)")
        pairs.setdefault(m.group(1), {})[m.group(2)] = t
    for module, ab in pairs.items():
        if set(ab) != {"A", "B"}:
            missing = ({"A", "B"} - set(ab)).pop()
            raise BadInputError(f"{where}: {module} lacks its lora_{missing}")
    return pairs


def _base_info(base: str) -> tuple[str, int, dict[str, tuple[int, ...]]]:
    """(architecture, block count, {tensor name: ggml ne}) of a base GGUF."""
    import gguf

    from agent.models.fetch import model_path

    path = model_path(base)
    if path.is_dir():
        raise BadInputError(f"{base}: --base must be a .gguf file or registered model name")
    reader = gguf.GGUFReader(str(path))
    arch_field = reader.get_field("general.architecture")
    arch = arch_field.contents() if arch_field else ""
    blocks = reader.get_field(f"{arch}.block_count")
    shapes = {t.name: tuple(int(x) for x in t.shape) for t in reader.tensors}
    return arch, int(blocks.contents()) if blocks else 0, shapes


def export_gguf(adapter_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None,
                *, base: str | None = None, arch: str = "qwen2", n_blocks: int | None = None,
                dtype: str = "f32") -> Path:
    """Write the GGUF LoRA for a PEFT adapter; returns its path.

    base: the GGUF (or registered name) the adapter will be applied to; gives the
    architecture and block count and checks every tensor's shape against it. Without
    it, arch and n_blocks (or the largest layer index + 1) are used unchecked.
    """
    try:
        import gguf
        import numpy as np
    except ImportError as exc:
        raise InfraError("export needs the gguf package: pip install gguf==0.19.0") from exc
    d = Path(adapter_dir)
    cfg, tensors = read_adapter(d)
    pairs = _pairs(tensors, d)
    shapes: dict[str, tuple[int, ...]] | None = None
    if base:
        arch, blocks, shapes = _base_info(base)
        n_blocks = n_blocks or blocks
    if arch not in SUPPORTED_ARCHS:
        raise BadInputError(f"{d}: architecture {arch!r} is not supported (supported: "
                            f"{', '.join(SUPPORTED_ARCHS)}; others need q/k permutation)")
    if n_blocks is None:
        idx = [int(m.group(1)) for k in pairs if (m := re.search(r"\.layers\.(\d+)\.", k))]
        n_blocks = max(idx, default=-1) + 1
    arch_enum = next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch)
    names = gguf.get_tensor_name_map(arch_enum, n_blocks)
    r0, alpha0 = int(cfg["r"]), float(cfg["lora_alpha"])
    rslora = bool(cfg.get("use_rslora"))
    np_dtype = {"f32": np.float32, "f16": np.float16}.get(dtype)
    if np_dtype is None:
        raise BadInputError(f"export dtype {dtype!r}: use f32 or f16")
    out = Path(out) if out else d.with_suffix(".gguf")
    writer = gguf.GGUFWriter(str(out), arch=arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha0)
    writer.add_name(d.name)
    for module in sorted(pairs):
        a = pairs[module]["A"].float()
        b = pairs[module]["B"].float()
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise BadInputError(f"{d}: {module}: A {tuple(a.shape)} and B {tuple(b.shape)} "
                                "are not a LoRA pair")
        gname = names.get_name(f"{module}.weight", try_suffixes=(".weight",))
        if gname is None:
            raise BadInputError(f"{d}: {module} has no GGUF tensor name for {arch}")
        rank = a.shape[0]
        r = int(_pattern_value(cfg.get("rank_pattern"), module, r0))
        alpha = float(_pattern_value(cfg.get("alpha_pattern"), module, alpha0))
        if r != rank:
            raise BadInputError(f"{d}: {module} has rank {rank} but the config says {r}")
        peft_scale = alpha / (math.sqrt(r) if rslora else r)
        gguf_scale = alpha0 / rank
        if shapes is not None:
            want = shapes.get(gname)
            if want is None:
                raise BadInputError(f"{d}: {gname} is not in the base model {base}")
            if want[:2] != (a.shape[1], b.shape[0]):
                raise BadInputError(f"{d}: {module}: adapter is {b.shape[0]}x{a.shape[1]}, base "
                                    f"{gname} is {want[1]}x{want[0]} (wrong base model?)")
        b = b * (peft_scale / gguf_scale)
        writer.add_tensor(f"{gname}.lora_a", a.numpy().astype(np_dtype))
        writer.add_tensor(f"{gname}.lora_b", b.numpy().astype(np_dtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m finetune.export",
                                description="PEFT LoRA adapter -> GGUF LoRA adapter")
    p.add_argument("adapter", type=Path, help="PEFT adapter directory")
    p.add_argument("-o", "--out", type=Path, help="output .gguf (default: ADAPTER.gguf)")
    p.add_argument("--base", default="qwen2.5-coder-0.5b",
                   help="base GGUF or registered model name (architecture and shape checks)")
    p.add_argument("--dtype", default="f32", choices=["f32", "f16"])
    args = p.parse_args(argv)
    return exit_code_of(
        lambda: print(export_gguf(args.adapter, args.out, base=args.base, dtype=args.dtype)))


if __name__ == "__main__":
    sys.exit(main())
