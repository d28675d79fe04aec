"""Training within a CPU budget (issue 21 part 2), on the tiny random Qwen2 of
test_finetune_train: the budget stops training, a resumed run ends exactly where an
uninterrupted one does, LoRA can adapt only the upper layers, the shortest examples come
first, a validation share is held out, and bf16 is chosen only where the CPU computes it."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from test_finetune_train import fixture_data, tiny_model, tiny_tok, write_config  # noqa: E402,F401

import finetune.train as ft  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class FakeClock:
    """time.perf_counter advancing 10 s per call: a budget stops after a fixed number of
    steps whatever the machine's speed (no timed test)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 10.0
        return self.now


def _config(where: Path, data: list[str], **extra) -> ft.TrainConfig:
    where.mkdir(parents=True, exist_ok=True)
    return ft.load_config(write_config(where, data, **extra))


def _trainable(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=False)["tensors"]


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_a_budget_stops_training_and_resume_ends_where_an_unbroken_run_does(
        tiny_tok, fixture_data, tmp_path, monkeypatch, dropout) -> None:
    """Dropout on too: the random state goes on from the checkpoint, so do its masks."""
    data = [str(fixture_data / "code.jsonl")]
    common = {"max_steps": 6, "lr": 2e-2, "batch_size": 1, "checkpoint_minutes": 1000,
              "lora": {"r": 4, "alpha": 8, "dropout": dropout}}
    broken = _config(tmp_path / "a", data, budget_minutes=2.0, **common)
    monkeypatch.setattr(ft.time, "perf_counter", FakeClock())
    first = ft.train(broken, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok,
                     log=lambda _: None)
    assert first["stopped"] == "budget" and 0 < first["steps"] < 6
    monkeypatch.undo()
    with (Path(broken.output) / "metrics.jsonl").open("a") as f:  # a kill after the checkpoint
        f.write('{"step": 99, "loss": 0.0}\n')
    again = _config(tmp_path / "a", data, **common)
    second = ft.train(again, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok,
                      log=lambda _: None, resume=True)
    assert second["resumed_from_step"] == first["steps"] and second["steps"] == 6
    assert second["examples_seen"] == 6
    whole = _config(tmp_path / "b", data, **common)
    ft.train(whole, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok, log=lambda _: None)
    resumed, unbroken = _trainable(Path(again.output)), _trainable(Path(whole.output))
    assert resumed.keys() == unbroken.keys()
    for name in resumed:
        assert torch.allclose(resumed[name], unbroken[name], atol=1e-6), name
    lines = (Path(again.output) / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 6  # the first session's steps kept, the rest appended


@pytest.mark.parametrize("change", [{"lr": 1e-4}, {"max_len": 64}])
def test_resume_refuses_a_checkpoint_of_other_settings(tiny_tok, fixture_data, tmp_path,
                                                       change) -> None:
    data = [str(fixture_data / "code.jsonl")]
    cfg = ft.load_config(write_config(tmp_path, data, max_steps=1, checkpoint_minutes=1000))
    ft.train(cfg, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok, log=lambda _: None)
    other = ft.load_config(write_config(tmp_path, data, max_steps=1, **change))
    with pytest.raises(ft.BadInputError, match="settings or data differ"):
        ft.train(other, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok,
                 log=lambda _: None, resume=True)


def test_resume_refuses_a_checkpoint_of_another_config(tiny_tok, fixture_data, tmp_path
                                                       ) -> None:
    data = [str(fixture_data / "code.jsonl")]
    cfg = ft.load_config(write_config(tmp_path, data, max_steps=1, checkpoint_minutes=1000))
    ft.train(cfg, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok, log=lambda _: None)
    other = ft.load_config(write_config(tmp_path, data, max_steps=2,
                                        lora={"r": 4, "alpha": 8, "dropout": 0.0,
                                              "layers_from": 1}))
    with pytest.raises(ft.BadInputError, match="another config"):
        ft.train(other, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok,
                 log=lambda _: None, resume=True)


def test_layers_from_adapts_only_the_upper_layers(tiny_tok, fixture_data, tmp_path) -> None:
    data = [str(fixture_data / "code.jsonl")]
    cfg = ft.load_config(write_config(tmp_path, data, max_steps=1, checkpoint_minutes=1000,
                                      lora={"r": 4, "alpha": 8, "dropout": 0.0,
                                            "layers_from": 1}))
    ft.train(cfg, model=tiny_model(len(tiny_tok)), tokenizer=tiny_tok, log=lambda _: None)
    names = list(_trainable(Path(cfg.output)))
    assert names and all(".layers.1." in n for n in names), names


def test_shortest_first_and_a_held_out_validation_share(fixture_data, tmp_path) -> None:
    extra = fixture_data / "long.jsonl"
    rows = (fixture_data / "code.jsonl").read_text().splitlines()
    long_row = rows[0].replace("count the peaks", "count the peaks " + "very " * 40)
    extra.write_text(long_row + "\n")
    data = [str(fixture_data / "code.jsonl"), str(extra)]
    cfg = ft.load_config(write_config(tmp_path, data, select="shortest", validation=0.3,
                                      max_examples=4))
    train, held = ft.read_splits(cfg)
    lengths = [ft._length(r) for r in train["code"]]
    assert lengths == sorted(lengths) and len(lengths) == 4
    # the long example is not among the kept shortest ones, unless it was held out
    assert all("very very" not in r["messages"][1]["content"] for r in train["code"])
    assert len(held["code"]) == 1
    capped = ft.read_splits(ft.load_config(write_config(tmp_path, data, validation=0.3,
                                                        max_examples=3)))
    assert len(capped[1]["code"]) == 1 and len(capped[0]["code"]) == 3
    assert not {id(r) for r in held["code"]} & {id(r) for r in train["code"]}
    plain = ft.read_splits(ft.load_config(write_config(tmp_path, data)))
    assert plain[1] == {} and len(plain[0]["code"]) == 7


@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu avx2 avx512f avx512_bf16 amx_tile", True), ("fpu avx2 amx_bf16", True),
    ("fpu sse4_2 avx2 fma", False), ("", False)])
def test_bf16_only_where_the_cpu_computes_it(flags: str, expected: bool) -> None:
    assert ft.cpu_has_bf16(f"processor\t: 0\nflags\t\t: {flags}\n") is expected


@pytest.mark.parametrize(("extra", "key"), [
    ({"select": "longest"}, "select"), ({"select": "shortest"}, "select"),
    ({"validation": 0.7}, "validation"),
    ({"budget_minutes": 0}, "budget_minutes"), ({"dtype": "bf17"}, "dtype"),
    ({"method": "pect", "lora": {"layers_from": 2}}, "lora.layers_from")])
def test_bad_budget_settings_name_their_key(fixture_data, tmp_path, extra, key) -> None:
    with pytest.raises(ft.BadInputError, match=key):
        ft.load_config(write_config(tmp_path, [str(fixture_data / "code.jsonl")], **extra))
