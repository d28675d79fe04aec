"""Shipped adapters (issue 21 part 4): `finetune.ship` packs a trained LoRA with a manifest,
`--adapter NAME` finds it, checks its files' hashes and its base before any model loads, and
serves it on both backends; the real shipped adapter changes what the 0.5B writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from agent.errors import BadInputError
from agent.models import base, registry
from finetune import ship as ship_mod

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = "gpiot-code-0.5b"


def _fake_run(where: Path, **report) -> Path:
    """A finished LoRA run's files (contents are bytes, not weights: no model loads here)."""
    (where / "adapter").mkdir(parents=True)
    (where / "adapter" / "adapter_config.json").write_text('{"r": 8}\n')
    (where / "adapter" / "adapter_model.safetensors").write_bytes(b"weights" * 10)
    (where / "adapter.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    data = where / "data"
    data.mkdir()
    (data / "manifest.json").write_text(json.dumps({"builder": "python -m finetune.build",
                                                    "counts": {"code": 3}}))
    (where / "config.yaml").write_text(yaml.safe_dump({"data": [str(data / "code.jsonl")]}))
    (where / "train_report.json").write_text(json.dumps(
        {"method": "lora", "base": "qwen2.5-coder-0.5b", "steps": 3, **report}))
    return where


def test_ship_writes_a_manifest_the_registry_reads_and_a_changed_byte_is_refused(tmp_path):
    dest = ship_mod.ship(_fake_run(tmp_path / "run"), "tiny", tmp_path / "adapters")
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["base"]["sha256"] == registry.MODELS["qwen2.5-coder-0.5b"].sha256
    assert manifest["data"]["counts"] == {"code": 3} and manifest["data"]["manifest_sha256"]
    assert manifest["training"]["steps"] == 3 and manifest["licence"]
    found = registry.shipped_adapters(tmp_path / "adapters")
    spec = found["tiny"]
    assert spec.path_for("llama") == dest / "adapter.gguf"
    assert spec.path_for("hf") == dest / "peft"
    (dest / "adapter.gguf").write_bytes(b"GGUF" + b"\1" * 60)  # tampered
    with pytest.raises(BadInputError, match="SHA-256"):
        spec.path_for("llama")
    spec.path_for("hf")  # the other backend's files are still intact


@pytest.mark.parametrize(("report", "remove", "match"), [
    ({"method": "pect"}, None, "plain LoRA"),
    ({"base": "some-model"}, None, "registered"),
    ({}, "adapter.gguf", "adapter.gguf"),
])
def test_ship_refuses_a_run_that_cannot_serve_by_name(tmp_path, report, remove, match):
    run = _fake_run(tmp_path / "run", **report)
    if remove:
        (run / remove).unlink()
    with pytest.raises(BadInputError, match=match):
        ship_mod.ship(run, "x", tmp_path / "adapters")
    assert not (tmp_path / "adapters" / "x").exists()


@pytest.fixture
def tiny_shipped(tmp_path, monkeypatch):
    ship_mod.ship(_fake_run(tmp_path / "run"), "tiny", tmp_path / "adapters")
    monkeypatch.setattr(registry, "ADAPTERS_DIR", tmp_path / "adapters")
    return tmp_path / "adapters" / "tiny"


def test_a_name_is_kept_as_a_name_and_an_unknown_one_lists_the_shipped(tiny_shipped):
    assert base.parse_adapter_args(["tiny"]) == "tiny"
    assert base.parse_adapter_args(["code=tiny"]) == {"code": "tiny"}
    with pytest.raises(BadInputError, match="shipped adapters: tiny"):
        base.parse_adapter_args(["tinny"])


def test_a_shipped_adapter_is_refused_on_another_base(tiny_shipped):
    other = registry.MODELS["qwen2.5-coder-1.5b"]
    with pytest.raises(BadInputError, match="trained on qwen2.5-coder-0.5b"):
        base.resolve_shipped({"*": Path("tiny")}, "llama", other.name, other.sha256)
    same = registry.MODELS["qwen2.5-coder-0.5b"]
    assert base.resolve_shipped({"*": Path("tiny")}, "llama", "my.gguf", same.sha256) == {
        "*": tiny_shipped / "adapter.gguf"}  # the base given by path: known by its hash
    assert base.resolve_shipped({"code": Path("tiny")}, "hf", same.name, None) == {
        "code": tiny_shipped / "peft"}


def test_the_shipped_adapter_has_a_complete_manifest():
    spec = registry.shipped_adapters()[SHIPPED]
    manifest = json.loads((spec.directory / "manifest.json").read_text())
    assert spec.base == "qwen2.5-coder-0.5b"
    assert spec.base_sha256 == registry.MODELS[spec.base].sha256
    assert manifest["data"]["decontamination"] and manifest["data"]["manifest_sha256"]
    assert manifest["training"]["tokens_trained"] > 0 and manifest["config"]["method"] == "lora"
    for backend in registry.ADAPTER_FILES:
        assert spec.path_for(backend).exists()  # every file matches its hash
    size = sum(p.stat().st_size for p in spec.directory.rglob("*") if p.is_file())
    assert size < 16 * 2**20  # small enough to keep in the repository


def _code_prompt() -> list[dict]:
    rec = json.loads((ROOT / "finetune" / "data" / "sample" / "code.jsonl")
                     .read_text().splitlines()[0])
    return [m for m in rec["messages"] if m["role"] != "assistant"]


@pytest.mark.skipif(os.environ.get("GPIOT_SKIP_REAL_MODELS") == "1",
                    reason="GPIOT_SKIP_REAL_MODELS=1")
def test_the_shipped_adapter_serves_by_name_on_both_backends():
    """By name and by path the same greedy tokens; different from the base (the adapter
    has an effect); the same through transformers with its PEFT folder."""
    pytest.importorskip("peft")
    from agent.models import fetch

    fetch.pull("qwen2.5-coder-0.5b", progress=False)
    spec = registry.shipped_adapters()[SHIPPED]
    msgs, n = _code_prompt(), 32
    with base.load_model("qwen2.5-coder-0.5b", backend="llama", adapter=SHIPPED) as llm:
        tuned = llm.generate(msgs, max_new_tokens=n, role="code")
    with base.load_model("qwen2.5-coder-0.5b", backend="llama",
                         adapter=spec.directory / "adapter.gguf") as llm:
        assert llm.generate(msgs, max_new_tokens=n, role="code").text == tuned.text
    with base.load_model("qwen2.5-coder-0.5b", backend="llama") as llm:
        plain = llm.generate(msgs, max_new_tokens=n, role="code")
    assert plain.text != tuned.text
    with base.load_model("qwen2.5-coder-0.5b", backend="hf", adapter=SHIPPED) as hf:
        assert hf.generate(msgs, max_new_tokens=n, role="code").text == tuned.text
