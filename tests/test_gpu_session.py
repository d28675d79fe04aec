"""The lent-GPU session kit (finetune/gpu_session.py): pieces that fit a device call, the
one training call (verify, dequantise once, train, pack into $OUT-sized parts) and the way
back (join, extract, GGUF export). The real test runs the device step on this CPU with the
real 0.5B pieces, so the first GPU session does not spend device time finding bugs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from agent.errors import BadInputError, InfraError
from finetune import gpu_session as gs

ROOT = Path(__file__).resolve().parent.parent
SKIP_REAL = os.environ.get("GPIOT_SKIP_REAL_MODELS") == "1"


def _runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    adapter = runs / "lora-code" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps(
        {"r": 4, "base_model_name_or_path": "/tmp/gpiot-gpu/hf"}))
    (adapter / "adapter_model.safetensors").write_bytes(os.urandom(3 * 2**20))
    (runs / "summary.json").write_text(json.dumps(
        {"configs": {"lora-code": {"adapters": ["lora-code/adapter"]}}}))
    return runs


def test_pack_and_unpack_round_trip_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "PART_BYTES", 2**20)
    runs = _runs(tmp_path)
    parts = gs._pack(runs, tmp_path / "OUT")
    assert len(parts) >= 3 and all(p.stat().st_size <= 2**20 for p in parts)
    into = tmp_path / "back"
    assert gs.unpack(tmp_path / "OUT", into, base=None) == []
    src = runs / "lora-code" / "adapter" / "adapter_model.safetensors"
    got = into / "lora-code" / "adapter" / "adapter_model.safetensors"
    assert got.read_bytes() == src.read_bytes()
    # the device's base path is not kept: it names nothing here
    cfg = json.loads((into / "lora-code" / "adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == "/tmp/gpiot-gpu/hf"  # base=None: left alone


def test_unpack_with_a_part_missing_fails_instead_of_extracting_half(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "PART_BYTES", 2**20)
    parts = gs._pack(_runs(tmp_path), tmp_path / "OUT")
    parts[1].unlink()
    with pytest.raises(Exception):  # noqa: B017 - tarfile's truncation error, whatever its class
        gs.unpack(tmp_path / "OUT", tmp_path / "back", base=None)
    with pytest.raises(BadInputError, match="no runs.tar"):
        gs.unpack(tmp_path / "nothing", tmp_path / "back", base=None)


def test_pack_refuses_outputs_over_what_the_device_returns(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "PART_BYTES", 2**19)  # 3 MiB of adapter -> 6+ parts
    monkeypatch.setattr(gs, "MAX_PARTS", 4)
    with pytest.raises(InfraError, match="over the 4"):
        gs._pack(_runs(tmp_path), tmp_path / "OUT")
    assert not list((tmp_path / "OUT").glob("runs.tar.*"))  # nothing half-written


def test_device_refuses_missing_or_corrupt_pieces_before_loading_anything(tmp_path):
    pieces = tmp_path / "w"
    pieces.mkdir()
    with pytest.raises(BadInputError, match="no part"):
        gs.device(pieces, "0" * 64, ["lora-code"], tmp_path / "OUT", 60, tmp_path / "work")
    (pieces / "part00").write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(InfraError, match="SHA-256"):
        gs.device(pieces, "0" * 64, ["lora-code"], tmp_path / "OUT", 60, tmp_path / "work")
    assert not (tmp_path / "OUT").exists()


def test_prepare_refuses_when_the_training_data_is_not_built(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "config_data", lambda configs: ["finetune/out/none/code.jsonl"])
    with pytest.raises(BadInputError, match="build_dataset"):
        gs.prepare("qwen2.5-coder-0.5b", ["lora-code"], tmp_path / "gpu", 540)


real = pytest.mark.skipif(SKIP_REAL, reason="GPIOT_SKIP_REAL_MODELS=1")


@real
def test_prepare_then_device_then_unpack_with_the_real_model(tmp_path, monkeypatch):
    """The whole kit on the CPU: the plan's pieces fit a call and reassemble to the pinned
    file; the device step trains one real step from the dequantised directory; the parts
    come back and the adapter exports to a GGUF LoRA that llama.cpp serves."""
    pytest.importorskip("torch")
    pytest.importorskip("gguf")
    from agent.models.base import load_model
    from agent.models.registry import get_spec

    spec = get_spec("qwen2.5-coder-0.5b")
    sample = "finetune/data/sample/decompose.jsonl"
    monkeypatch.setattr(gs, "config_data", lambda configs: [sample])
    plan = gs.prepare(spec.name, ["cpu-smoke"], tmp_path / "gpu", 540)
    tree = gs._tree_bytes()
    for call in plan["calls"][:-1]:
        carried = sum(f.stat().st_size for c in call["carry"]
                      for f in Path(c).rglob("*") if f.is_file())
        assert carried + tree <= gs.CARRY_LIMIT, call
    assert list((tmp_path / "gpu" / "w").glob("gguf-0.19.0-*.whl"))
    assert plan["calls"][-1]["carry"] == [sample]
    assert "--sha256 " + spec.sha256 in plan["calls"][-1]["command"]
    # what the copy calls do on the device: every piece into one folder
    w = tmp_path / "w"
    w.mkdir()
    for p in sorted((tmp_path / "gpu").glob("p*/part*")):
        shutil.copy(p, w / p.name)
    assert len(list(w.iterdir())) == plan["pieces"] >= 2
    monkeypatch.chdir(ROOT)  # the configs' data paths are repo-relative, as on the device
    out = tmp_path / "OUT"
    summary = gs.device(w, spec.sha256, ["cpu-smoke"], out, 900, tmp_path / "work",
                        max_steps=1)
    got = summary["configs"]["cpu-smoke"]
    assert "error" not in got and got["steps"] == 1 and got["adapters"] == ["cpu-smoke/adapter"]
    # dequantised once into an HF dir, or (a transformers that keeps GGUF weights packed)
    # the GGUF itself, which each config loads
    assert summary["base"] in ("hf", "model.gguf")
    assert (summary["base"] == "hf") == (tmp_path / "work" / "hf" / "config.json").is_file()
    assert summary["parts"] and all((out / p).stat().st_size <= gs.PART_BYTES
                                    for p in summary["parts"])
    into = tmp_path / "back"
    ggufs = gs.unpack(out, into, base=spec.name)
    assert ggufs == [into / "cpu-smoke" / "adapter.gguf"] and ggufs[0].is_file()
    cfg = json.loads((into / "cpu-smoke" / "adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == spec.name
    msgs = [{"role": "user", "content": "Split 'RMS of a window' into steps."}]
    with load_model(spec.name, backend="llama", adapter=ggufs[0]) as llm:
        assert llm.generate(msgs, max_new_tokens=8).tokens_out > 0
