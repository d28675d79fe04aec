"""Training (LoRA, PECT), adapter export and serving the adapter on both backends.

Fast tests use a tiny random Qwen2 and a byte-level tokenizer trained on the fixture, so
the PECT algebra and the exports are checked in seconds; the `real` tests train the 0.5B
for a few CPU steps through the CLI and compare greedy tokens of llama.cpp (GGUF LoRA on
the Q4_K_M file) and transformers (PEFT adapter on the same file dequantised).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
gguf = pytest.importorskip("gguf")

from agent.cli import main as run_cli  # noqa: E402
from agent.errors import BadInputError  # noqa: E402
from finetune import train as ft  # noqa: E402
from finetune.export import export_gguf  # noqa: E402
from finetune.pect import PECT, SHARED, load_pect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SKIP_REAL = os.environ.get("GPIOT_SKIP_REAL_MODELS") == "1"

QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _example(role: str, i: int) -> dict:
    task = f"count the peaks above {i} in the accelerometer trace"
    reply = ("1. Smooth the signal.\n2. Find local maxima above the threshold.\n3. Count them."
             if role == "decompose" else
             f"def count_peaks(x, t={i}):\n    return int(((x[1:-1] > x[:-2]) & "
             "(x[1:-1] > x[2:]) & (x[1:-1] > t)).sum())\n")
    return {"role": role, "task": f"peaks-{i}", "source": "test fixture", "verified": True,
            "messages": [{"role": "system", "content": "You write IoT Python."},
                         {"role": "user", "content": f"Task: {task}."},
                         {"role": "assistant", "content": reply}]}


@pytest.fixture(scope="module")
def fixture_data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("data")
    for role in ("code", "decompose"):
        rows = [_example(role, i) for i in range(6)]
        rows.append({**_example(role, 99), "verified": False})  # filtered out
        (d / f"{role}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


@pytest.fixture(scope="module")
def tiny_tok(fixture_data):
    """A byte-level BPE with the Qwen chat layout, trained on the fixture (no model needed)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    texts = [m["content"] for f in fixture_data.glob("*.jsonl")
             for line in f.read_text().splitlines() for m in json.loads(line)["messages"]]
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = QWEN_TEMPLATE
    return fast


def tiny_model(vocab: int, seed: int = 0):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=vocab, hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=256, tie_word_embeddings=False)
    return Qwen2ForCausalLM(cfg).eval()


def write_config(tmp_path: Path, data: list[str], **extra) -> Path:
    import yaml

    cfg = {"method": "lora", "base": "tiny", "data": data, "roles": ["code"],
           "lora": {"r": 4, "alpha": 8, "dropout": 0.0}, "lr": 5e-3, "max_steps": 3,
           "batch_size": 2, "max_len": 128, "output": str(tmp_path / "out"), **extra}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


# -- config and data ----------------------------------------------------------------------


def test_configs_in_the_repo_all_load():
    for path in sorted((ROOT / "finetune" / "configs").glob("*.yaml")):
        cfg = ft.load_config(path)
        assert cfg.data and cfg.roles
        if cfg.method == "pect":
            assert cfg.pect is not None and cfg.roles == cfg.pect.roles
            assert cfg.pect.shared.target_modules == ["k_proj", "v_proj"]
    smoke = ft.load_config(ROOT / "finetune" / "configs" / "cpu-smoke.yaml")
    assert smoke.lora.r == 4 and smoke.max_steps is not None and smoke.max_steps <= 10


@pytest.mark.parametrize("extra, key", [
    ({"lerning_rate": 1e-4}, "lerning_rate"),
    ({"roles": ["coding"]}, "roles"),
    ({"lr": "fast"}, "lr"),
    ({"lora": {"r": 4, "rank": 8}}, "lora.rank"),
    ({"method": "pect", "pect": {"roles": ["code"], "lambda": 1.5}}, "pect.lambda"),
    ({"pect": {"lambda": 0.5}}, "pect"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, fixture_data, extra, key):
    path = write_config(tmp_path, [str(fixture_data / "code.jsonl")], **extra)
    with pytest.raises(BadInputError) as err:
        ft.load_config(path)
    assert f": {key}:" in str(err.value) and "\n" not in str(err.value)


def test_good_twin_config_loads_and_reads_yaml_exponents(tmp_path, fixture_data):
    path = write_config(tmp_path, [str(fixture_data / "code.jsonl")])
    path.write_text(path.read_text().replace("lr: 0.005", "lr: 2e-4"))  # YAML 1.1: a string
    cfg = ft.load_config(path)
    assert cfg.lr == pytest.approx(2e-4)


def test_cli_bad_config_exits_2_before_loading_any_model(tmp_path, capsys):
    assert run_cli(["finetune", str(tmp_path / "missing.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err
    path = write_config(tmp_path, [str(tmp_path / "nothing-*.jsonl")])
    assert run_cli(["finetune", str(path)]) == 2


def test_unverified_and_other_roles_are_filtered(tmp_path, fixture_data):
    cfg = ft.load_config(write_config(tmp_path, [str(fixture_data / "*.jsonl")]))
    recs = ft.read_examples(cfg)
    assert list(recs) == ["code"] and len(recs["code"]) == 6
    cfg.verified_only = False
    assert len(ft.read_examples(cfg)["code"]) == 7


def test_bad_jsonl_line_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(_example("code", 1)) + "\n" + json.dumps(
        {"role": "code", "messages": [{"role": "user", "content": "no answer"}]}) + "\n")
    cfg = ft.load_config(write_config(tmp_path, [str(bad)]))
    with pytest.raises(BadInputError, match=r"bad.jsonl:2: no assistant message"):
        ft.read_examples(cfg)


def test_loss_only_on_assistant_tokens(tiny_tok):
    msgs = _example("code", 3)["messages"]
    ex = ft.encode(tiny_tok, msgs, max_len=1000)
    labelled = [t for t, lab in zip(ex.input_ids, ex.labels, strict=True) if lab != ft.IGNORE]
    assert tiny_tok.decode(labelled) == msgs[-1]["content"] + "<|im_end|>"
    assert all(lab in (ft.IGNORE, t) for t, lab in zip(ex.input_ids, ex.labels, strict=True))
    # the twin: the user turn is in the input but carries no loss
    prompt_ids = tiny_tok(msgs[1]["content"], add_special_tokens=False)["input_ids"]
    assert tiny_tok.decode(labelled).find(msgs[1]["content"]) == -1 and len(prompt_ids) > 3
    cut = ft.encode(tiny_tok, msgs, max_len=10)
    assert cut.truncated and all(lab == ft.IGNORE for lab in cut.labels)


def test_chunked_loss_equals_the_plain_loss_and_its_gradients(tiny_tok):
    model = tiny_model(len(tiny_tok))
    exs = [ft.encode(tiny_tok, _example("code", i)["messages"], 128) for i in range(2)]
    batch = ft.collate(exs, tiny_tok.pad_token_id, "cpu")
    results = []
    for chunk in (7, 10_000):
        model.zero_grad()
        total, n = ft.lm_loss(model, batch, chunk)
        total.backward()
        results.append((float(total), n, model.lm_head.weight.grad.clone()))
    (a, na, ga), (b, nb, gb) = results
    assert na == nb == sum(lab != ft.IGNORE for e in exs for lab in e.labels[1:]) > 7
    assert a == pytest.approx(b, rel=1e-5) and torch.allclose(ga, gb, atol=1e-6)
    # labels are next tokens: the loss of labelled positions only, not of the prompt
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    full = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                             batch["labels"][:, 1:].reshape(-1),
                                             ignore_index=ft.IGNORE, reduction="sum")
    assert float(full) == pytest.approx(a, rel=1e-4)


# -- PECT algebra on a tiny model ---------------------------------------------------------


def _randomise_lora(peft_model, seed: int = 1) -> None:
    """Fresh LoRA B's are zero (no effect): give every path a deterministic non-zero B."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)


def _pect(vocab: int, lam: float, ffn: bool = False) -> PECT:
    sec = ft.PectSection(roles=["decompose", "code"], lam=lam,
                         shared=ft.LoraSection(r=2, alpha=4, dropout=0.0,
                                               target_modules=["k_proj", "v_proj"]),
                         ffn_adapter=ffn, ffn_dim=8)
    pect = PECT(tiny_model(vocab), sec, ft.LoraSection(r=4, alpha=8, dropout=0.0))
    _randomise_lora(pect.model)
    pect.model.eval()
    return pect


def _path_delta(pect: PECT, module: str, adapter: str):
    from finetune.pect import _lora_layers

    m = dict(_lora_layers(pect.model))[module]
    return (m.lora_alpha[adapter] / m.r[adapter]) * (m.lora_B[adapter].weight @ m.lora_A[
        adapter].weight)


@pytest.mark.parametrize("lam", [0.0, 1.0, 0.3])
def test_pect_kv_delta_is_lambda_mix_of_shared_and_role(tiny_tok, lam):
    pect = _pect(len(tiny_tok), lam)
    pect.set_role("code")
    k = "model.layers.1.self_attn.k_proj"
    role, shared = _path_delta(pect, k, "code"), _path_delta(pect, k, SHARED)
    assert not torch.allclose(role, shared)
    want = lam * shared + (1 - lam) * role
    assert torch.allclose(pect.kv_delta(k), want, atol=1e-6)
    if lam == 0.0:
        assert torch.allclose(pect.kv_delta(k), role, atol=1e-6)
    if lam == 1.0:
        assert torch.allclose(pect.kv_delta(k), shared, atol=1e-6)
    if lam == 0.3:  # the twin: neither path alone
        assert not torch.allclose(pect.kv_delta(k), role, atol=1e-3)
        assert not torch.allclose(pect.kv_delta(k), shared, atol=1e-3)
    # and it is what the forward pass computes, not only what kv_delta reports
    from finetune.pect import _lora_layers

    layer = dict(_lora_layers(pect.model))[k]
    x = torch.randn(3, 32)
    with torch.no_grad():
        got = layer(x) - layer.base_layer(x)
    assert torch.allclose(got, x @ want.T, atol=1e-5)
    # q has no shared path: the role path at full weight whatever lambda is
    q = "model.layers.1.self_attn.q_proj"
    assert torch.allclose(pect.kv_delta(q), _path_delta(pect, q, "code"), atol=1e-6)


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_pect_role_export_is_one_standard_lora_with_the_same_logits(tiny_tok, tmp_path):
    from peft import PeftModel

    pect = _pect(len(tiny_tok), 0.3)
    ids = torch.tensor([tiny_tok("count the peaks above 3", add_special_tokens=False)
                        ["input_ids"]])
    pect.set_role("code")
    want_code = _logits(pect.model, ids)
    pect.set_role("decompose")
    want_dec = _logits(pect.model, ids)
    dest = pect.export_role("code", tmp_path / "code", base="tiny")
    cfg = json.loads((dest / "adapter_config.json").read_text())
    assert cfg["r"] == 4 and cfg["rank_pattern"] == {"k_proj": 6, "v_proj": 6}
    served = PeftModel.from_pretrained(tiny_model(len(tiny_tok)), str(dest)).eval()
    got = _logits(served, ids)
    assert torch.allclose(got, want_code, atol=1e-4)
    assert not torch.allclose(got, want_dec, atol=1e-2)  # the other role's logits differ
    base = _logits(tiny_model(len(tiny_tok)), ids)
    assert not torch.allclose(got, base, atol=1e-2)  # and the adapter does something


def test_pect_lambda_zero_export_has_no_shared_rank(tiny_tok, tmp_path):
    pect = _pect(len(tiny_tok), 0.0)
    dest = pect.export_role("decompose", tmp_path / "d")
    assert json.loads((dest / "adapter_config.json").read_text())["rank_pattern"] == {}


def test_pect_training_co_tunes_the_shared_path_from_both_roles(tiny_tok, fixture_data,
                                                                tmp_path):
    path = write_config(tmp_path, [str(fixture_data / "*.jsonl")], method="pect",
                        pect={"roles": ["decompose", "code"], "lambda": 0.5,
                              "shared": {"r": 2, "alpha": 4, "dropout": 0.0,
                                         "target_modules": ["k_proj", "v_proj"]},
                              "ffn_adapter": True, "ffn_dim": 8},
                        max_steps=6, batch_size=3, lr=1e-2)
    cfg = ft.load_config(path)
    model = tiny_model(len(tiny_tok))
    report = ft.train(cfg, model=model, tokenizer=tiny_tok, log=lambda _: None)
    out = Path(cfg.output)
    rows = list(ft.iter_jsonl(out / "metrics.jsonl"))
    assert len(rows) == 6 and {"step", "loss", "lr", "tokens_per_s", "peak_rss_mb"} <= set(
        rows[0])
    assert {r for row in rows for r in row["roles"]} == {"decompose", "code"}
    for role in ("decompose", "code"):
        assert report["probe_loss_after"][role] < report["probe_loss_before"][role]
    assert (out / "loss.svg").read_text().startswith("<svg")
    ckpt = out / "pect"
    assert (ckpt / "pect.json").is_file() and (ckpt / "ffn_adapters.safetensors").is_file()
    for name in ("decompose", "code", SHARED):
        assert (ckpt / name / "adapter_model.safetensors").is_file()
    note = json.loads((out / "adapters" / "code" / "pect_export.json").read_text())
    assert note["ffn_adapters_omitted"] is True
    # the checkpoint reloads with its FFN adapters: same logits as the trained model
    ids = torch.tensor([tiny_tok("count peaks", add_special_tokens=False)["input_ids"]])
    again = load_pect(tiny_model(len(tiny_tok)), ckpt)
    again.set_role("code")
    with_ffn = _logits(again.model, ids)
    again.ffn.role = None
    without_ffn = _logits(again.model, ids)
    assert not torch.allclose(with_ffn, without_ffn, atol=1e-4)  # FFN adapters were trained


def test_lora_training_writes_peft_adapter_metrics_and_report(tiny_tok, fixture_data, tmp_path):
    cfg = ft.load_config(write_config(tmp_path, [str(fixture_data / "code.jsonl")],
                                      save_dtype="bfloat16", max_steps=4, lr=2e-2,
                                      gradient_checkpointing=True, loss_chunk=8))
    report = ft.train(cfg, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok,
                      log=lambda _: None)
    out = Path(cfg.output)
    assert report["probe_loss_after"]["code"] < report["probe_loss_before"]["code"]
    assert {"tokens_per_s", "train_seconds", "peak_rss_mb"} <= set(
        json.loads((out / "train_report.json").read_text()))
    from safetensors.torch import load_file

    weights = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    assert weights and all(t.dtype == torch.bfloat16 for t in weights.values())
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["r"] == 4


# -- GGUF export ----------------------------------------------------------------------------


def test_gguf_export_names_layout_and_scaling(tiny_tok, tmp_path):
    pect = _pect(len(tiny_tok), 0.3)
    dest = pect.export_role("code", tmp_path / "code")
    out = export_gguf(dest, tmp_path / "code.gguf")  # no base: arch qwen2, blocks from names
    reader = gguf.GGUFReader(str(out))
    assert reader.get_field("general.type").contents() == "adapter"
    assert reader.get_field("general.architecture").contents() == "qwen2"
    assert reader.get_field("adapter.type").contents() == "lora"
    alpha = reader.get_field("adapter.lora.alpha").contents()
    assert alpha == 4.0
    tensors = {t.name: t for t in reader.tensors}
    assert len(tensors) == 2 * 2 * 7  # 2 layers x 7 projections x (a, b)
    a = tensors["blk.1.attn_k.weight.lora_a"]
    b = tensors["blk.1.attn_k.weight.lora_b"]
    assert tuple(a.shape) == (32, 6) and tuple(b.shape) == (6, 16)  # ggml ne: [in, r], [r, out]
    # llama.cpp computes (alpha / rank) * B @ A: it must equal what peft computes
    delta = (alpha / 6) * torch.from_numpy(b.data.copy()) @ torch.from_numpy(a.data.copy())
    pect.set_role("code")
    assert torch.allclose(delta, pect.kv_delta("model.layers.1.self_attn.k_proj"), atol=1e-5)
    q = (alpha / 4) * torch.from_numpy(tensors["blk.0.attn_q.weight.lora_b"].data.copy()) \
        @ torch.from_numpy(tensors["blk.0.attn_q.weight.lora_a"].data.copy())
    assert torch.allclose(q, pect.kv_delta("model.layers.0.self_attn.q_proj"), atol=1e-5)


def test_gguf_export_refuses_what_llama_cpp_cannot_hold(tiny_tok, tmp_path):
    pect = _pect(len(tiny_tok), 0.5)
    dest = pect.export_role("code", tmp_path / "code")
    with pytest.raises(BadInputError, match="not a PEFT adapter"):
        export_gguf(tmp_path, tmp_path / "x.gguf")
    with pytest.raises(BadInputError, match="architecture 'llama' is not supported"):
        export_gguf(dest, tmp_path / "x.gguf", arch="llama")
    cfg_path = dest / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text(json.dumps({**cfg, "use_dora": True}))
    with pytest.raises(BadInputError, match="use_dora"):
        export_gguf(dest, tmp_path / "x.gguf")
    cfg_path.write_text(json.dumps(cfg))
    export_gguf(dest, tmp_path / "x.gguf")  # the twin: the unmodified adapter converts


# -- the real model: CPU smoke training and both backends ----------------------------------

real = pytest.mark.skipif(SKIP_REAL, reason="GPIOT_SKIP_REAL_MODELS=1")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    """`python -m agent finetune finetune/configs/cpu-smoke.yaml`: a few real 0.5B steps."""
    from agent.models import fetch

    fetch.pull("qwen2.5-coder-0.5b", progress=False)
    out = tmp_path_factory.mktemp("smoke")
    config = ROOT / "finetune" / "configs" / "cpu-smoke.yaml"
    data = ROOT / "finetune" / "data" / "sample" / "decompose.jsonl"
    assert run_cli(["finetune", str(config), "--output", str(out), "--data", str(data)]) == 0
    return out


@real
def test_cpu_smoke_training_lowers_the_loss_and_saves_a_peft_adapter(smoke_run):
    report = json.loads((smoke_run / "train_report.json").read_text())
    before, after = report["probe_loss_before"], report["probe_loss_after"]
    assert after["decompose"] < before["decompose"]
    assert report["steps"] == len(list(ft.iter_jsonl(smoke_run / "metrics.jsonl")))
    assert report["tokens_per_s"] > 0 and report["peak_rss_mb"] > 0
    adapter = smoke_run / "adapter"
    assert (adapter / "adapter_config.json").is_file()
    assert (adapter / "adapter_model.safetensors").is_file()
    assert (smoke_run / "adapter.gguf").is_file() and (smoke_run / "loss.svg").is_file()


def _prompt() -> list[dict]:
    rec = json.loads((ROOT / "finetune" / "data" / "sample" / "decompose.jsonl")
                     .read_text().splitlines()[0])
    return [m for m in rec["messages"] if m["role"] != "assistant"]


@real
def test_both_backends_give_the_same_greedy_tokens_with_the_adapter(smoke_run):
    """The GGUF LoRA on llama.cpp and the PEFT adapter on transformers agree, and the
    adapter changes the output (else the comparison would prove nothing). Loaded for one
    role, it serves that role's calls only: the other roles get the base tokens, and
    switching back and forth within one loaded model gives the same tokens each time."""
    from agent.models.base import load_model

    n = 24
    msgs = _prompt()
    per_role = {"decompose": smoke_run / "adapter.gguf"}
    with load_model("qwen2.5-coder-0.5b", backend="llama", adapter=per_role) as llm:
        llama_tuned = llm.generate(msgs, max_new_tokens=n, role="decompose")
        llama_base = llm.generate(msgs, max_new_tokens=n, role="code")
        again = llm.generate(msgs, max_new_tokens=n, role="decompose")
        assert llm.generate(msgs, max_new_tokens=n).text == llama_base.text  # no role: base
    assert llama_tuned.text != llama_base.text  # the adapter has an effect
    assert again.text == llama_tuned.text
    with load_model("qwen2.5-coder-0.5b", backend="llama",
                    adapter=smoke_run / "adapter.gguf") as llm:  # one adapter for every call
        assert llm.generate(msgs, max_new_tokens=n, role="code").text == llama_tuned.text
    with load_model("qwen2.5-coder-0.5b", backend="hf",
                    adapter={"decompose": smoke_run / "adapter"}) as hf:
        hf_tuned = hf.generate(msgs, max_new_tokens=n, role="decompose")
        hf_base = hf.generate(msgs, max_new_tokens=n, role="repair")
        hf_again = hf.generate(msgs, max_new_tokens=n, role="decompose")
    assert hf_base.text == llama_base.text
    assert hf_tuned.tokens_out == llama_tuned.tokens_out == n
    assert hf_tuned.text == llama_tuned.text == hf_again.text
