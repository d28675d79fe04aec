"""Ship a trained LoRA adapter inside gpiot, loadable by name (`--adapter NAME`).

    python -m finetune.ship runs/finetune/cpu-budget --name gpiot-code-0.5b

copies the run's `adapter.gguf` (llama.cpp) and `adapter/` (PEFT, for transformers) into
agent/models/adapters/NAME/ and writes manifest.json: the base model and its SHA-256, the
hash of the dataset manifest it was trained on and the command that rebuilds that dataset,
the training config and figures (and loss.svg), the licence and provenance, and the SHA-256
of every shipped file (checked again whenever the adapter is loaded). Only a plain LoRA run
of a registered base with a GGUF export can be shipped: a name has to serve both backends.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from agent.errors import BadInputError, exit_code_of
from agent.models.registry import ADAPTER_FILES, ADAPTERS_DIR, MODELS, file_sha256

# what the manifest keeps of train_report.json: enough to judge and reproduce the run
REPORT_KEYS = ("method", "roles", "device", "dtype", "steps", "steps_planned", "stopped",
               "examples_seen", "distinct_examples_seen", "validation_examples",
               "validation_loss", "tokens_trained", "tokens_per_s", "train_seconds",
               "peak_rss_mb", "probe_loss_before", "probe_loss_after", "final_loss",
               "trainable_parameters", "torch_threads")
LICENCE = "Apache-2.0"
PROVENANCE = (
    "LoRA weights trained by gpiot's finetune pipeline on the base model named here "
    "(Qwen2.5-Coder, Apache-2.0), from the project's own sandbox-verified generator tasks: "
    "simulated signals, plus real segments of the UCR anomaly archive (InternalBleeding16) "
    "and Sheffield Solar PV_Live read from the aeon 1.6.0 wheel (BSD-3-Clause); nothing "
    "from IoTBench or examples/ (decontaminated, see the data manifest's summary).")


def ship(run_dir: Path, name: str, dest_root: Path = ADAPTERS_DIR) -> Path:
    """Copy a finished run's adapter into dest_root/name with its manifest; returns the
    folder. Refuses (BadInputError) a run that cannot serve both backends by name."""
    report_path = run_dir / "train_report.json"
    if not report_path.is_file():
        raise BadInputError(f"{run_dir}: no train_report.json (not a finished training run)")
    report = json.loads(report_path.read_text())
    config = yaml.safe_load((run_dir / "config.yaml").read_text()) \
        if (run_dir / "config.yaml").is_file() else {}
    if report.get("method") != "lora":
        raise BadInputError(f"{run_dir}: method {report.get('method')!r}; only a plain LoRA "
                            "adapter serves every call under one name")
    base = report.get("base")
    if base not in MODELS:
        raise BadInputError(f"{run_dir}: base {base!r} is not a registered model")
    gguf, peft_dir = run_dir / "adapter.gguf", run_dir / "adapter"
    for need in (gguf, peft_dir / "adapter_config.json", peft_dir / "adapter_model.safetensors"):
        if not need.is_file():
            raise BadInputError(f"{run_dir}: {need.name} is missing (train with export_gguf)")
    dest = dest_root / name
    tmp = dest_root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / ADAPTER_FILES["hf"]).mkdir(parents=True)
    shutil.copyfile(gguf, tmp / ADAPTER_FILES["llama"])
    for f in ("adapter_config.json", "adapter_model.safetensors"):
        shutil.copyfile(peft_dir / f, tmp / ADAPTER_FILES["hf"] / f)
    if (run_dir / "loss.svg").is_file():  # the training curve, for a person to look at
        shutil.copyfile(run_dir / "loss.svg", tmp / "loss.svg")
    files = {str(p.relative_to(tmp)): file_sha256(p)
             for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {
        "name": name,
        "base": {"name": base, "sha256": MODELS[base].sha256, "file": MODELS[base].filename},
        "licence": LICENCE,
        "provenance": PROVENANCE,
        "data": _data_summary(config),
        "config": config,
        "training": {k: report[k] for k in REPORT_KEYS if k in report},
        "files": files,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def _data_summary(config: dict[str, Any]) -> dict[str, Any]:
    """The dataset manifest's hash, counts, builder command and decontamination summary,
    from the folder of the config's first data file."""
    data = config.get("data") or []
    if not data:
        return {}
    manifest = Path(data[0]).parent / "manifest.json"
    if not manifest.is_file():
        return {"files": data}
    m = json.loads(manifest.read_text())
    return {"files": data, "manifest_sha256": file_sha256(manifest),
            "builder": m.get("builder"), "counts": m.get("counts"),
            "decontamination": m.get("decontamination")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finetune.ship", description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a finished training run's output folder")
    parser.add_argument("--name", required=True, help="the name users pass to --adapter")
    parser.add_argument("--dest", type=Path, default=ADAPTERS_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return exit_code_of(lambda: print(ship(args.run_dir, args.name, args.dest)))


if __name__ == "__main__":
    sys.exit(main())
