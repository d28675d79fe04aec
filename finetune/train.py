"""LoRA (and PECT) training with peft from a YAML config: `python -m agent finetune CONFIG`.

One loop serves both methods: plain LoRA is one peft adapter; PECT (finetune/pect.py) is
several named adapters switched per batch by role. The loss is taken on assistant tokens
only (the model's own chat template renders the messages), because the prompt is given at
inference and learning to reproduce it only wastes capacity. Outputs land in one directory:
the adapter(s) in standard PEFT format, metrics.jsonl, loss.svg and train_report.json.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import random
import resource
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from agent.errors import BadInputError, InfraError
from finetune.lora import ALL_LINEAR, LoraSection, PectSection, lora_config  # noqa: F401

ROLES: tuple[str, ...] = ("code", "decompose", "repair")
MESSAGE_ROLES = ("system", "user", "assistant")
IGNORE = -100  # label of tokens that carry no loss (prompt, padding)
INSTALL_HINT = "pip install -e .[hf]  (torch==2.13.0, transformers, peft, gguf)"


# -- configuration ------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Everything one run needs; see finetune/configs/*.yaml for annotated examples."""

    path: Path | None = None  # the YAML file, for messages
    method: str = "lora"  # lora | pect
    base: str = "qwen2.5-coder-0.5b"  # registered name, .gguf file or HF directory
    data: list[str] = field(default_factory=list)  # JSONL files or globs
    roles: list[str] = field(default_factory=lambda: ["code"])
    max_examples: int | None = None  # per role, after shuffling (None: all)
    verified_only: bool = True
    lora: LoraSection = field(default_factory=LoraSection)
    pect: PectSection | None = None
    lr: float = 2e-4
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs when set
    batch_size: int = 4
    grad_accum: int = 1
    max_len: int = 1024
    warmup_steps: int = 0
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    dtype: str = "auto"  # auto: bf16 on a GPU, fp32 on a CPU
    device: str = "auto"
    gradient_checkpointing: bool = False
    loss_chunk: int = 2048  # label tokens per lm-head chunk (memory cap on a GPU)
    log_every: int = 1
    save_dtype: str = "float32"  # adapter tensors on disk (bfloat16 halves the size)
    export_gguf: bool = False  # also write llama.cpp GGUF LoRA adapters after training
    output: str = "runs/finetune/out"
    # A CPU budget (issue 21): stop when the wall clock is spent (the schedule still runs
    # over max_steps / epochs), save a resumable checkpoint this often (`--resume` goes on
    # from it; the budget counts over every resumed session), take the shortest examples
    # first (more of them per minute), and hold out a share of each role for a validation
    # loss measured before, at each checkpoint and after.
    budget_minutes: float | None = None
    checkpoint_minutes: float | None = None
    select: str = "shuffle"  # shuffle | shortest
    validation: float = 0.0

    def where(self, key: str) -> str:
        return f"{self.path}: {key}" if self.path else key


def _fail(cfg_path: Path | None, key: str, message: str) -> BadInputError:
    where = f"{cfg_path}: {key}" if cfg_path else key
    return BadInputError(f"finetune config {where}: {message}")


def _section(raw: Any, cls: type, cfg_path: Path | None, key: str, renames: dict | None = None):  # noqa: ANN202
    """Build a dataclass from a mapping, refusing unknown keys (typos must not pass silently)."""
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise _fail(cfg_path, key, f"expected a mapping, got {type(raw).__name__}")
    renames = renames or {}
    names = {f.name for f in fields(cls)} - {"path"}
    kw = {}
    for k, v in raw.items():
        name = renames.get(k, k)
        if name not in names:
            known = ", ".join(sorted(set(renames) | names - set(renames.values())))
            raise _fail(cfg_path, f"{key}.{k}" if key else k, f"unknown key (known: {known})")
        kw[name] = v
    return cls(**kw)


def _check_types(obj: Any, cfg_path: Path | None, prefix: str) -> None:
    """Type-check scalar fields against their defaults' types (YAML gives strings for typos)."""
    default = type(obj)()
    for f in fields(obj):
        if f.name == "path":
            continue
        value, ref = getattr(obj, f.name), getattr(default, f.name)
        key = f"{prefix}{f.name}" if f.name != "lam" else f"{prefix}lambda"
        if isinstance(ref, bool):
            ok = isinstance(value, bool)
        elif isinstance(ref, float):
            if isinstance(value, str):  # YAML 1.1 reads 2e-4 (no dot) as a string
                try:
                    value = float(value)
                    setattr(obj, f.name, value)
                except ValueError:
                    pass
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif isinstance(ref, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(ref, str):
            ok = isinstance(value, str)
        elif isinstance(ref, list):
            ok = isinstance(value, list) and all(isinstance(x, str) for x in value)
        elif f.name in ("max_examples", "max_steps", "layers_from"):
            ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
        elif f.name in ("budget_minutes", "checkpoint_minutes"):
            ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool)
                                   and value > 0)
        else:
            continue
        if not ok:
            raise _fail(cfg_path, key, f"expected {type(ref).__name__}, got {value!r}")


def load_config(path: str | os.PathLike[str], overrides: dict[str, Any] | None = None
                ) -> TrainConfig:
    """Read and validate a training YAML; every problem is one BadInputError naming the key."""
    cfg_path = Path(path)
    if not cfg_path.is_file():
        raise BadInputError(f"finetune: {cfg_path}: no such config file")
    try:
        raw = yaml.safe_load(cfg_path.read_text())
    except yaml.YAMLError as exc:
        msg = f"finetune: {cfg_path}: not valid YAML ({exc})".replace("\n", " ")
        raise BadInputError(msg) from None
    if not isinstance(raw, dict):
        raise _fail(cfg_path, "", "expected a mapping at the top level")
    raw = {**raw, **(overrides or {})}
    lora_raw, pect_raw = raw.pop("lora", None), raw.pop("pect", None)
    cfg = _section(raw, TrainConfig, cfg_path, "")
    cfg.path = cfg_path
    cfg.lora = _section(lora_raw, LoraSection, cfg_path, "lora")
    _check_types(cfg, cfg_path, "")
    _check_types(cfg.lora, cfg_path, "lora.")
    if cfg.method not in ("lora", "pect"):
        raise _fail(cfg_path, "method", f"{cfg.method!r} is not one of lora, pect")
    if cfg.method == "pect":
        pr = dict(pect_raw or {})
        shared = pr.pop("shared", None)
        cfg.pect = _section(pr, PectSection, cfg_path, "pect", {"lambda": "lam"})
        if shared is not None:
            cfg.pect.shared = _section(shared, LoraSection, cfg_path, "pect.shared")
        _check_types(cfg.pect, cfg_path, "pect.")
        _check_types(cfg.pect.shared, cfg_path, "pect.shared.")
        if not 0.0 <= cfg.pect.lam <= 1.0:
            raise _fail(cfg_path, "pect.lambda", f"{cfg.pect.lam} is outside [0, 1]")
        if len(cfg.pect.roles) < 1 or len(set(cfg.pect.roles)) != len(cfg.pect.roles):
            raise _fail(cfg_path, "pect.roles", "give one or more distinct roles")
        if "shared" in cfg.pect.roles:
            raise _fail(cfg_path, "pect.roles", "'shared' names the shared path, not a role")
        cfg.roles = list(cfg.pect.roles)
    elif pect_raw is not None:
        raise _fail(cfg_path, "pect", "only used with method: pect")
    for r in cfg.roles:
        if r not in ROLES:
            raise _fail(cfg_path, "roles", f"{r!r} is not one of {', '.join(ROLES)}")
    if not cfg.data:
        raise _fail(cfg_path, "data", "give one or more JSONL files (globs allowed)")
    positive = {"lr": cfg.lr, "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum,
                "max_len": cfg.max_len, "lora.r": cfg.lora.r, "epochs": cfg.epochs,
                "loss_chunk": cfg.loss_chunk, "log_every": cfg.log_every}
    if cfg.max_steps is not None:
        positive["max_steps"] = cfg.max_steps
    for key, value in positive.items():
        if value <= 0:
            raise _fail(cfg_path, key, f"must be positive, got {value}")
    if cfg.dtype not in ("auto", "best", "float32", "bfloat16", "float16"):
        raise _fail(cfg_path, "dtype", f"{cfg.dtype!r}: use auto, best, float32, bfloat16 or "
                    "float16")
    if cfg.select not in ("shuffle", "shortest"):
        raise _fail(cfg_path, "select", f"{cfg.select!r}: use shuffle or shortest")
    # batches are shuffled, so "shortest" decides only which examples a cap keeps: without
    # max_examples it would train on everything in random order, the budget cutting at random
    if cfg.select == "shortest" and cfg.max_examples is None:
        raise _fail(cfg_path, "select", "shortest picks what max_examples keeps: set "
                    "max_examples (per role) too")
    if not 0.0 <= cfg.validation < 0.5:
        raise _fail(cfg_path, "validation", f"{cfg.validation} is outside [0, 0.5)")
    if cfg.lora.layers_from is not None and (cfg.lora.layers_from < 0 or cfg.method != "lora"):
        raise _fail(cfg_path, "lora.layers_from", "must be 0 or more, with method: lora")
    if cfg.save_dtype not in ("float32", "bfloat16", "float16"):
        raise _fail(cfg_path, "save_dtype", f"{cfg.save_dtype!r}: use float32, bfloat16 or "
                    "float16")
    if not 0.0 <= cfg.lora.dropout < 1.0:
        raise _fail(cfg_path, "lora.dropout", f"{cfg.lora.dropout} is outside [0, 1)")
    return cfg


# -- data ---------------------------------------------------------------------------------


@dataclass
class Example:
    """One tokenised conversation: loss only where labels != IGNORE."""

    input_ids: list[int]
    labels: list[int]
    role: str
    truncated: bool = False


def _data_files(cfg: TrainConfig) -> list[Path]:
    files: list[Path] = []
    for pattern in cfg.data:
        hits = sorted(glob.glob(pattern, recursive=True))
        if not hits:
            raise BadInputError(f"finetune {cfg.where('data')}: {pattern}: no such file")
        files += [Path(h) for h in hits if Path(h).is_file()]
    return files


def _check_record(rec: Any, where: str) -> None:
    if not isinstance(rec, dict):
        raise BadInputError(f"{where}: expected a JSON object per line")
    msgs = rec.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadInputError(f"{where}: 'messages' must be a non-empty list")
    for i, m in enumerate(msgs):
        if (not isinstance(m, dict) or m.get("role") not in MESSAGE_ROLES
                or not isinstance(m.get("content"), str)):
            raise BadInputError(f"{where}: messages[{i}] needs role in {MESSAGE_ROLES} and a "
                                "string content")
    if not any(m["role"] == "assistant" for m in msgs):
        raise BadInputError(f"{where}: no assistant message, nothing to learn")


def read_examples(cfg: TrainConfig) -> dict[str, list[dict]]:
    """Records per role from the configured JSONL files (validated, filtered, capped)."""
    return read_splits(cfg)[0]


def _length(rec: dict) -> int:
    return sum(len(m["content"]) for m in rec["messages"])


def read_splits(cfg: TrainConfig) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """(training, validation) records per role: shuffled with the seed, `validation` of
    each role held out first (so selection never decides what is measured), then the
    shortest first where `select: shortest`, then capped at max_examples."""
    by_role: dict[str, list[dict]] = {r: [] for r in cfg.roles}
    for path in _data_files(cfg):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"{where}: not JSON ({exc.msg})") from None
            _check_record(rec, where)
            if rec.get("role") not in by_role:
                continue
            if cfg.verified_only and rec.get("verified") is not True:
                continue
            by_role[rec["role"]].append(rec)
    rng = random.Random(cfg.seed)
    for role, recs in by_role.items():
        if not recs:
            which = "verified " if cfg.verified_only else ""
            raise BadInputError(f"finetune {cfg.where('data')}: no {which}examples with role "
                                f"{role!r} in {', '.join(cfg.data)}")
        rng.shuffle(recs)
    held: dict[str, list[dict]] = {}
    for role, recs in by_role.items():
        # the share of what is there, and never more than that share of what is trained on
        n_val = min(round(cfg.validation * len(recs)), len(recs) - 1)
        if cfg.max_examples is not None:
            n_val = min(n_val, max(1, round(cfg.validation * cfg.max_examples)))
        n_val = max(n_val, 0)
        held[role], by_role[role] = recs[:n_val], recs[n_val:]
        if cfg.select == "shortest":
            by_role[role].sort(key=_length)
        if cfg.max_examples is not None:
            del by_role[role][cfg.max_examples:]
    return by_role, {r: v for r, v in held.items() if v}


def encode(tokenizer: Any, messages: list[dict], max_len: int, role: str = "code") -> Example:
    """Tokenise a conversation with the model's chat template; label only assistant turns.

    Each assistant turn is located by rendering the conversation up to it (with the
    generation prompt) and up to its end: the characters in between are what the model
    says, end-of-turn token included (so it learns to stop). Token offsets map those
    characters to tokens of the whole rendered text, tokenised once as at inference.
    """
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(messages[:i], tokenize=False,
                                               add_generation_prompt=True)
        upto = tokenizer.apply_chat_template(messages[: i + 1], tokenize=False)
        if not (full.startswith(before) and full.startswith(upto)):
            raise BadInputError("the chat template does not render conversations "
                                "prefix-consistently; cannot find the assistant tokens")
        end = upto.rstrip("\n")  # the newline after <|im_end|> belongs to the next turn
        spans.append((len(before), len(end)))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    labels = [IGNORE] * len(ids)
    for t, (s, e) in enumerate(offsets):
        if e > s and any(a <= s and e <= b for a, b in spans):
            labels[t] = ids[t]
    truncated = len(ids) > max_len
    return Example(ids[:max_len], labels[:max_len], role, truncated)


def encode_all(tokenizer: Any, by_role: dict[str, list[dict]], max_len: int
               ) -> tuple[dict[str, list[Example]], dict[str, int]]:
    """Tokenise every record; drop those whose assistant part is cut away entirely."""
    out: dict[str, list[Example]] = {}
    stats = {"examples": 0, "truncated": 0, "dropped_no_labels": 0, "label_tokens": 0,
             "tokens": 0}
    for role, recs in by_role.items():
        kept = []
        for rec in recs:
            ex = encode(tokenizer, rec["messages"], max_len, role)
            n_lab = sum(lab != IGNORE for lab in ex.labels)
            if n_lab == 0:
                stats["dropped_no_labels"] += 1
                continue
            stats["truncated"] += ex.truncated
            stats["label_tokens"] += n_lab
            stats["tokens"] += len(ex.input_ids)
            kept.append(ex)
        if not kept:
            raise BadInputError(f"finetune: every {role!r} example is longer than max_len="
                                f"{max_len} before its answer starts; raise max_len")
        stats["examples"] += len(kept)
        out[role] = kept
    return out, stats


def encode_validation(tokenizer: Any, held_out: dict[str, list[dict]], max_len: int
                      ) -> dict[str, list[Example]]:
    """The held-out examples that keep some answer within max_len (one cut away entirely
    measures nothing; it must not stop the training either)."""
    out: dict[str, list[Example]] = {}
    for role, recs in held_out.items():
        kept = [ex for ex in (encode(tokenizer, r["messages"], max_len, role) for r in recs)
                if any(lab != IGNORE for lab in ex.labels)]
        if kept:
            out[role] = kept
    return out


def make_batches(examples: dict[str, list[Example]], batch_size: int, rng: random.Random
                 ) -> list[list[Example]]:
    """One epoch of single-role batches (PECT switches paths per batch), roles interleaved."""
    batches: list[list[Example]] = []
    for exs in examples.values():
        order = list(exs)
        rng.shuffle(order)
        batches += [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(batch: list[Example], pad_id: int, device: str) -> dict[str, Any]:
    """Right-padded tensors; padding carries no loss and no attention."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device),
            "attention_mask": mask.to(device)}


# -- model --------------------------------------------------------------------------------


def resolve_device_dtype(cfg: TrainConfig) -> tuple[str, Any]:
    """bf16 on a GPU (fast, half the memory), fp32 on a CPU (bf16 matmuls are slow there)."""
    import torch

    device = cfg.device if cfg.device != "auto" else (
        "cuda" if torch.cuda.is_available() else "cpu")
    if cfg.dtype == "auto":
        dtype = torch.float32 if device == "cpu" else torch.bfloat16
    elif cfg.dtype == "best":  # bf16 where the hardware computes it, else fp32
        dtype = torch.bfloat16 if device != "cpu" or cpu_has_bf16() else torch.float32
    else:
        dtype = getattr(torch, cfg.dtype)
    return device, dtype


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """The CPU computes bf16 natively (AVX512-BF16 or AMX): without it bf16 matmuls are
    emulated and slower than fp32. Machines of one kind differ (AVX2-only EPYC, AMX Xeon)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                  if line.startswith("flags")), [])
    return "avx512_bf16" in flags or "amx_bf16" in flags


def load_base(base: str, dtype: Any, device: str) -> tuple[Any, Any]:
    """The base model and tokenizer: a registered name or .gguf (dequantised) or an HF dir."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise InfraError(f"training needs transformers and torch: {INSTALL_HINT}") from exc
    from agent.models.fetch import model_path

    path = model_path(base)
    where, kw = (str(path), {}) if path.is_dir() else (str(path.parent), {"gguf_file": path.name})
    try:
        tok = AutoTokenizer.from_pretrained(where, local_files_only=True, **kw)
        model = AutoModelForCausalLM.from_pretrained(where, local_files_only=True, dtype=dtype,
                                                     **kw)
    except (OSError, ValueError) as exc:
        raise InfraError(f"transformers could not load {path} ({exc}); check it is a complete "
                         "GGUF or HF model directory (gpiot models pull NAME)") from exc
    model.config.use_cache = False
    return model.to(device), tok


def lm_loss(model: Any, batch: dict[str, Any], chunk: int) -> tuple[Any, int]:
    """Summed next-token loss over labelled positions, and how many there were.

    The 152k-token vocabulary makes full logits the biggest tensor in training; the lm
    head runs only on labelled positions, in checkpointed chunks when there are many.
    """
    import torch
    import torch.nn.functional as F
    from torch.utils.checkpoint import checkpoint

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = inner.get_decoder()(input_ids=batch["input_ids"],
                                 attention_mask=batch["attention_mask"]).last_hidden_state
    targets = batch["labels"][:, 1:]
    sel = targets != IGNORE
    h, t = hidden[:, :-1][sel], targets[sel]
    head = inner.get_output_embeddings()

    def part(hc: Any, tc: Any) -> Any:
        return F.cross_entropy(head(hc).float(), tc, reduction="sum")

    n = int(t.shape[0])
    if n <= chunk:
        return part(h, t), n
    total = torch.zeros((), device=h.device)
    for i in range(0, n, chunk):
        total = total + checkpoint(part, h[i:i + chunk], t[i:i + chunk], use_reentrant=False)
    return total, n


# -- outputs ------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loss_svg(points: list[tuple[int, float]], title: str, width: int = 640, height: int = 320
             ) -> str:
    """A loss curve as a standalone SVG (no plotting dependency)."""
    ml, mr, mt, mb = 56, 16, 28, 36
    w, h = width - ml - mr, height - mt - mb
    xs = [p[0] for p in points] or [0]
    ys = [p[1] for p in points] or [0.0]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def px(x: float) -> float:
        return ml + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return mt + (1 - (y - y0) / (y1 - y0)) * h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="11">',
             f'<rect x="{ml}" y="{mt}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
             f'<text x="{ml}" y="18" font-size="13">{_esc(title)}</text>',
             f'<text x="{ml + w / 2:.0f}" y="{height - 6}" text-anchor="middle">step</text>',
             f'<text x="14" y="{mt + h / 2:.0f}" transform="rotate(-90 14 {mt + h / 2:.0f})" '
             'text-anchor="middle">loss</text>']
    for frac in (0.0, 0.5, 1.0):
        yv = y0 + frac * (y1 - y0)
        parts.append(f'<text x="{ml - 4}" y="{py(yv) + 4:.1f}" text-anchor="end">{yv:.3g}</text>')
    for xv in (x0, x1):
        parts.append(f'<text x="{px(xv):.1f}" y="{mt + h + 14}" text-anchor="middle">{xv}</text>')
    if points:
        line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cast_safetensors(path: Path, dtype_name: str) -> None:
    """Rewrite an adapter's tensors in a smaller float type (bf16 halves transfer size)."""
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    dtype = getattr(torch, dtype_name)
    save_file({k: v.to(dtype).contiguous() for k, v in tensors.items()}, str(path),
              metadata={"format": "pt"})


# -- the loop -----------------------------------------------------------------------------


class _Lora:
    """Plain LoRA: one peft adapter for every role in the data."""

    def __init__(self, model: Any, cfg: TrainConfig) -> None:
        from peft import get_peft_model

        try:
            config = lora_config(cfg.lora, model.config.num_hidden_layers)
        except ValueError as exc:
            raise BadInputError(f"finetune {cfg.where('lora.layers_from')}: {exc}") from None
        self.model = get_peft_model(model, config)

    def parameters(self) -> list[Any]:
        return [p for p in self.model.parameters() if p.requires_grad]

    def set_role(self, role: str) -> None:
        pass

    def save(self, out: Path, cfg: TrainConfig) -> list[Path]:
        dest = out / "adapter"
        self.model.peft_config["default"].base_model_name_or_path = cfg.base
        self.model.save_pretrained(str(dest), save_embedding_layers=False)
        return [dest]


def _schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak learning rate."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def _probe_losses(method: Any, probes: dict[str, dict], chunk: int) -> dict[str, float]:
    """Mean loss per labelled token on fixed batches, dropout off (before vs after training)."""
    import torch

    model = method.model
    was_training = model.training
    model.eval()
    out = {}
    with torch.no_grad():
        for role, batch in probes.items():
            method.set_role(role)
            total, n = lm_loss(model, batch, chunk)
            out[role] = float(total) / max(n, 1)
    model.train(was_training)
    return out


def _steps_total(cfg: TrainConfig, n_batches: int) -> int:
    if cfg.max_steps is not None:
        return cfg.max_steps
    return max(1, math.ceil(cfg.epochs * n_batches / cfg.grad_accum))


def _batch_stream(examples: dict[str, list[Example]], cfg: TrainConfig) -> Iterator[list[Example]]:
    rng = random.Random(cfg.seed)
    while True:
        yield from make_batches(examples, cfg.batch_size, rng)


def train(cfg: TrainConfig, *, model: Any = None, tokenizer: Any = None,
          log: Any = print, resume: bool = False) -> dict[str, Any]:
    """Run one training job and write its outputs; returns the train report.

    model/tokenizer: an already loaded base (tests reuse one); otherwise cfg.base is loaded.
    resume: go on from OUTPUT/checkpoint.pt (same config), with what is left of the budget.
    """
    try:
        import torch
    except ImportError as exc:
        raise InfraError(f"training needs torch: {INSTALL_HINT}") from exc
    started = time.perf_counter()
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device, dtype = resolve_device_dtype(cfg)
    by_role, held_out = read_splits(cfg)
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    if model is None or tokenizer is None:
        log(f"loading {cfg.base} ({dtype}, {device}) ...")
        model, tokenizer = load_base(cfg.base, dtype, device)
    load_s = time.perf_counter() - started
    examples, data_stats = encode_all(tokenizer, by_role, cfg.max_len)
    validation = encode_validation(tokenizer, held_out, cfg.max_len)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (
        tokenizer.eos_token_id)
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.method == "pect":
        from finetune.pect import PECT

        method: Any = PECT(model, cfg.pect, default_lora=cfg.lora)
    else:
        method = _Lora(model, cfg)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    # every path's parameters are in the optimizer; a PECT path not used in a step has
    # grad None and AdamW leaves it alone
    all_params = method.parameters()
    n_trainable = sum(p.numel() for p in all_params)
    opt = torch.optim.AdamW(all_params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_batches = len(make_batches(examples, cfg.batch_size, random.Random(0)))
    total_steps = _steps_total(cfg, n_batches)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: _schedule(s, total_steps, cfg.warmup_steps))
    probes = {role: collate(exs[:cfg.batch_size], pad_id, device)
              for role, exs in examples.items()}
    probe_before = _probe_losses(method, probes, cfg.loss_chunk)
    ckpt = Checkpoint(out / "checkpoint.pt", fingerprint(cfg))
    state = ckpt.load(method, opt, sched) if resume else None
    if resume and state is None:
        log(f"no checkpoint in {out}: starting from step 0")
    start_step = state["step"] if state else 0
    spent_s = state["train_seconds"] if state else 0.0
    budget_s = cfg.budget_minutes * 60 if cfg.budget_minutes else math.inf
    val_curve: list[tuple[int, float]] = state["val_curve"] if state else []
    if validation and not state:
        val_curve.append((0, validation_loss(method, validation, cfg, pad_id, device)))
    counts = ", ".join(f"{r}: {len(e)}" for r, e in examples.items())
    log(f"{data_stats['examples']} examples ({counts}), "
        f"{total_steps} steps of {cfg.batch_size}x{cfg.grad_accum}; {n_trainable:,} trainable "
        f"parameters; loss before {probe_before}")
    metrics_path = out / "metrics.jsonl"
    if not state:
        metrics_path.unlink(missing_ok=True)
    elif metrics_path.exists():  # steps a killed session logged after its last checkpoint
        kept = [line for line in metrics_path.read_text().splitlines()
                if line.strip() and json.loads(line)["step"] <= start_step]
        metrics_path.write_text("".join(line + "\n" for line in kept))
    stream = _batch_stream(examples, cfg)
    for _ in range(start_step * cfg.grad_accum):  # the batches the checkpoint has seen
        next(stream)
    method.model.train()
    curve: list[tuple[int, float]] = state["curve"] if state else []
    tokens_seen = state["tokens_seen"] if state else 0
    examples_seen = state["examples_seen"] if state else 0
    stopped = "steps"
    train_start = time.perf_counter()
    last_save = train_start

    def elapsed() -> float:
        return spent_s + time.perf_counter() - train_start

    def validate(step_done: int) -> None:
        if validation and (not val_curve or val_curve[-1][0] != step_done):
            val_curve.append((step_done, validation_loss(method, validation, cfg, pad_id,
                                                         device)))
            log(f"validation loss at step {step_done}: {val_curve[-1][1]:.4f}")

    def save(step_done: int) -> None:
        validate(step_done)
        ckpt.save(method, opt, sched, {"step": step_done, "train_seconds": elapsed(),
                                       "curve": curve, "val_curve": val_curve,
                                       "tokens_seen": tokens_seen,
                                       "examples_seen": examples_seen})

    with metrics_path.open("a") as mfile:
        for step in range(start_step, total_steps):
            if elapsed() >= budget_s:
                stopped = "budget"
                break
            t0 = time.perf_counter()
            micro = [next(stream) for _ in range(cfg.grad_accum)]
            batches = [collate(b, pad_id, device) for b in micro]
            n_label = sum(int((b["labels"][:, 1:] != IGNORE).sum()) for b in batches)
            n_tok = sum(int(b["attention_mask"].sum()) for b in batches)
            loss_sum = 0.0
            roles_here = []
            for b, ex in zip(batches, micro, strict=True):
                method.set_role(ex[0].role)
                roles_here.append(ex[0].role)
                total, _ = lm_loss(method.model, b, cfg.loss_chunk)
                (total / max(n_label, 1)).backward()
                loss_sum += float(total.detach())
            if cfg.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(all_params, cfg.max_grad_norm)
            lr = sched.get_last_lr()[0]
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            tokens_seen += n_tok
            examples_seen += sum(len(b) for b in micro)
            loss = loss_sum / max(n_label, 1)
            curve.append((step + 1, loss))
            row = {"step": step + 1, "loss": round(loss, 5), "lr": lr,
                   "roles": sorted(set(roles_here)), "tokens": n_tok, "label_tokens": n_label,
                   "tokens_per_s": round(n_tok / dt, 1), "seconds": round(dt, 3),
                   "peak_rss_mb": round(peak_rss_mb(), 1)}
            if device.startswith("cuda"):
                row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            mfile.write(json.dumps(row) + "\n")
            mfile.flush()
            if (step + 1) % cfg.log_every == 0 or step + 1 == total_steps:
                log(f"step {step + 1}/{total_steps} loss {loss:.4f} lr {lr:.2e} "
                    f"{row['tokens_per_s']:.0f} tok/s")
            if cfg.checkpoint_minutes and time.perf_counter() - last_save >= \
                    cfg.checkpoint_minutes * 60:
                save(step + 1)
                last_save = time.perf_counter()
    steps_done = curve[-1][0] if curve else start_step
    if cfg.checkpoint_minutes or cfg.budget_minutes:
        save(steps_done)  # a budget run can always be resumed where it stopped
    else:
        validate(steps_done)
    train_s = elapsed()
    probe_after = _probe_losses(method, probes, cfg.loss_chunk)
    saved = method.save(out, cfg)
    if cfg.save_dtype != "float32":
        for d in saved:
            cast_safetensors(d / "adapter_model.safetensors", cfg.save_dtype)
    ggufs = []
    if cfg.export_gguf:
        from finetune.export import export_gguf

        # the saved tensors were cast to save_dtype already, so f16 loses nothing more
        gguf_dtype = "f32" if cfg.save_dtype == "float32" else "f16"
        for d in saved:
            ggufs.append(str(export_gguf(d, d.with_suffix(".gguf"), base=cfg.base,
                                         dtype=gguf_dtype)))
    (out / "loss.svg").write_text(loss_svg(curve, f"{cfg.method} on {', '.join(cfg.roles)} "
                                                  f"({cfg.base})"))
    if cfg.path is not None:
        shutil.copyfile(cfg.path, out / "config.yaml")
    report = {
        "method": cfg.method, "base": cfg.base, "roles": cfg.roles, "device": device,
        "dtype": str(dtype).replace("torch.", ""), "steps": steps_done,
        "steps_planned": total_steps, "stopped": stopped, "resumed_from_step": start_step,
        "budget_minutes": cfg.budget_minutes, "examples_seen": examples_seen,
        "distinct_examples_seen": min(examples_seen, data_stats["examples"]),
        "validation_examples": sum(len(v) for v in validation.values()),
        "validation_loss": val_curve,
        "batch_size": cfg.batch_size, "grad_accum": cfg.grad_accum, "max_len": cfg.max_len,
        "lr": cfg.lr, "seed": cfg.seed, "trainable_parameters": n_trainable,
        "data": data_stats, "tokens_trained": tokens_seen,
        "tokens_per_s": round(tokens_seen / train_s, 1) if train_s > 0 else None,
        "train_seconds": round(train_s, 2), "load_seconds": round(load_s, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if device.startswith("cuda") else None,
        "probe_loss_before": probe_before, "probe_loss_after": probe_after,
        "final_loss": curve[-1][1] if curve else None,
        "adapters": [str(d) for d in saved], "gguf": ggufs,
        "torch_threads": torch.get_num_threads(),
    }
    (out / "train_report.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"loss on the probe batch {probe_before} -> {probe_after}; adapters in "
        f"{', '.join(str(d) for d in saved)}; {report['tokens_per_s']} tokens/s, peak RSS "
        f"{report['peak_rss_mb']:.0f} MB")
    return report


def fingerprint(cfg: TrainConfig) -> str:
    """What a checkpoint must agree with to be resumed: every setting that shapes the
    parameters, the data, the batch order or the schedule (not output, budget or logging)."""
    keep = {k: v for k, v in asdict(cfg).items()
            if k not in ("path", "output", "budget_minutes", "checkpoint_minutes",
                         "log_every", "export_gguf", "save_dtype")}
    data = [(str(f), hashlib.sha256(f.read_bytes()).hexdigest()) for f in _data_files(cfg)]
    text = json.dumps({"config": keep, "data": data}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Checkpoint:
    """A resumable training state in one file: the trainable tensors, optimizer, scheduler
    and random states, and the counters; written atomically (a killed run keeps the last)."""

    def __init__(self, path: Path, fingerprint: str = "") -> None:
        self.path = path
        self.fingerprint = fingerprint

    def save(self, method: Any, opt: Any, sched: Any, counters: dict[str, Any]) -> None:
        import torch

        tensors = {n: p.detach().cpu() for n, p in method.model.named_parameters()
                   if p.requires_grad}
        rng = {"torch": torch.get_rng_state(), "python": random.getstate(),
               "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
        tmp = self.path.with_suffix(".tmp")
        torch.save({"tensors": tensors, "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "counters": counters, "rng": rng, "fingerprint": self.fingerprint}, tmp)
        tmp.replace(self.path)

    def load(self, method: Any, opt: Any, sched: Any) -> dict[str, Any] | None:
        """Restore into a freshly built method; the counters, or None without a file."""
        import torch

        if not self.path.exists():
            return None
        data = torch.load(self.path, map_location="cpu", weights_only=False)
        params = dict(method.model.named_parameters())
        missing = sorted(set(data["tensors"]) ^ {n for n, p in params.items()
                                                 if p.requires_grad})
        if missing or data.get("fingerprint") != self.fingerprint:
            what = (f"parameters differ: {', '.join(missing[:3])}" if missing else
                    "settings or data differ")
            raise BadInputError(f"finetune --resume: {self.path} was written by another "
                                f"config ({what}); resume with the same config and data, "
                                "or train afresh without --resume")
        with torch.no_grad():
            for name, value in data["tensors"].items():
                params[name].copy_(value.to(params[name].device, params[name].dtype))
        opt.load_state_dict(data["opt"])
        sched.load_state_dict(data["sched"])
        rng = data.get("rng") or {}
        if "torch" in rng:  # dropout masks go on as in an unbroken run
            torch.set_rng_state(rng["torch"])
            random.setstate(rng["python"])
            if rng.get("cuda") and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
        return data["counters"]


def validation_loss(method: Any, validation: dict[str, list[Example]], cfg: TrainConfig,
                    pad_id: int, device: str) -> float:
    """Mean loss per labelled token over every held-out example, dropout off."""
    import torch

    model = method.model
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for role, exs in validation.items():
            method.set_role(role)
            for i in range(0, len(exs), cfg.batch_size):
                loss, n = lm_loss(model, collate(exs[i:i + cfg.batch_size], pad_id, device),
                                  cfg.loss_chunk)
                total, count = total + float(loss), count + n
    model.train(was_training)
    return round(total / max(count, 1), 5)


def iter_jsonl(path: Path) -> Iterable[dict]:
    """Rows of a metrics.jsonl (for reports and tests)."""
    return (json.loads(line) for line in path.read_text().splitlines() if line.strip())
