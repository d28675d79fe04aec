"""The experience store: proven programs kept and shown as worked examples of similar tasks,
learnt only from verified solves, never from a bench, never shown for the task itself, and a
shipped store that holds nothing of IoTBench, no expected value and no hidden case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_graph import BASE, CORRECT, ROLL, ScriptedModel, fenced

from agent import experience
from agent.bench import BenchConfig
from agent.cli import main
from agent.configuration import RunConfig
from agent.run import start_run
from agent.spec import load_spec
from finetune import decontaminate
from finetune.generators import GENERATORS

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "hrv-rmssd" / "spec.yaml"
SHIPPED = experience.read_jsonl(experience.SHIPPED)


def _entry(task_id: str = "nn-rmssd-twin", environment: str = "minimal",
           title: str = "RMSSD of NN intervals", code: str = CORRECT,
           requirement: str = "Root mean square of successive differences of NN intervals "
                              "in ms.") -> experience.Experience:
    return experience.Experience(
        task_id=task_id, title=title, environment=environment, requirement=requirement,
        signature="rmssd(nni)", code=code, source="test")


@pytest.fixture(params=["fake", pytest.param("docker-warm", marks=pytest.mark.docker)])
def sandbox(request):
    if request.param == "fake":
        from fake_sandbox import FakeSandbox

        return FakeSandbox()
    return request.getfixturevalue("warm_sandbox")


def test_the_store_adds_once_lists_and_clears(_own_experience_store) -> None:
    store = experience.Store()
    assert store.path == _own_experience_store
    assert store.add(_entry()) and not store.add(_entry())  # the same program once
    assert store.add(_entry(code=CORRECT + "# another\n"))
    assert [e.task_id for e in store.all()] == ["nn-rmssd-twin"] * 2
    assert store.clear() == 2 and store.all() == []


def test_search_finds_the_twin_task_and_never_the_task_itself() -> None:
    spec = load_spec(SPEC)
    query = "\n".join([spec.title, spec.requirement, spec.function.signature()])
    # among the shipped entries, as recall searches (BM25's weights come from the corpus)
    pool = [_entry(), _entry(task_id=spec.id),
            _entry("ac-power", title="Real power of an AC line",
                   requirement="Mean of voltage times current over whole mains cycles.",
                   code="def power(v, i):\n    return 0.0\n"), *SHIPPED]
    found = experience.search(query, pool, k=3, exclude_task=spec.id)
    ids = [e.task_id for e, _ in found]
    assert "nn-rmssd-twin" in ids and spec.id not in ids and "ac-power" not in ids
    assert all(0.35 <= s <= 1.5 for _, s in found)


@pytest.mark.parametrize("query", ["parse a JSON config file and retry HTTP requests", ""])
def test_an_unrelated_task_gets_no_example(query: str) -> None:
    assert experience.search(query, [_entry(), *SHIPPED]) == []


def test_a_scientific_program_is_never_shown_for_a_minimal_spec() -> None:
    query = "RMSSD of NN intervals"
    sci = _entry(environment="scientific")
    def shown(environment: str) -> list[str]:
        return [e.environment for e, _ in experience.search(query, [sci, *SHIPPED], k=5,
                                                            environment=environment)]

    assert "scientific" not in shown("minimal") and "scientific" in shown("scientific")


def _run(tmp_path: Path, sandbox, script: dict, **cfg) -> tuple[int, ScriptedModel, dict]:
    model = ScriptedModel(script)
    code = start_run(SPEC, RunConfig(**cfg), tmp_path / "run", model=model, sandbox=sandbox,
                     log=lambda _line: None)
    return code, model, json.loads((tmp_path / "run" / "report.json").read_text())


def test_a_verified_solve_is_learnt_and_no_learn_keeps_the_store(tmp_path, sandbox) -> None:
    code, _, report = _run(tmp_path / "a", sandbox, {**BASE, "draft": [fenced(CORRECT)]},
                           candidates=1)
    assert code == 0 and report["learnt"]
    [entry] = experience.Store().all()
    assert entry.task_id == "hrv-rmssd" and entry.code.strip() == CORRECT.strip()
    assert entry.trace_cards and "hidden" not in entry.trace_cards
    experience.Store().clear()
    code, _, report = _run(tmp_path / "b", sandbox, {**BASE, "draft": [fenced(CORRECT)]},
                           candidates=1, learn=False)
    assert code == 0 and not report["learnt"] and experience.Store().all() == []


def test_a_failed_run_learns_nothing(tmp_path, sandbox) -> None:
    code, _, report = _run(tmp_path, sandbox, {**BASE, "draft": [fenced(ROLL)],
                                               "repair": [fenced(ROLL)]},
                           candidates=1, max_attempts=1)
    assert code == 1 and not report["learnt"] and experience.Store().all() == []


def test_a_bench_never_learns_and_never_reads_the_users_store() -> None:
    config = BenchConfig(tasks_dir=str(ROOT / "iotbench" / "tasks"))
    assert config.run_config(0).learn is False
    assert config.run_config(0).own_experience is False
    assert RunConfig().learn is True and RunConfig().own_experience is True


def test_a_benchmark_task_never_joins_the_store() -> None:
    bench = next((ROOT / "iotbench" / "tasks").rglob("spec.yaml"))
    assert not experience.learnable(load_spec(bench))
    assert experience.learnable(load_spec(SPEC))


def test_a_pool_too_small_for_word_weights_shows_nothing() -> None:
    """With a handful of entries BM25 weighs words by nothing (an unrelated program scored
    1.2 against a one-entry pool): below MIN_POOL nothing is shown."""
    rain = "Total rainfall per day from a tipping-bucket gauge: def f(x, fs)"
    assert experience.search(rain, [_entry()] * (experience.MIN_POOL - 1),
                             min_similarity=0.0) == []
    assert experience.search(rain, [*SHIPPED, _entry()], min_similarity=0.35) == []


def test_an_unreadable_store_does_not_end_the_run(tmp_path, sandbox, no_shipped,
                                                  _own_experience_store) -> None:
    _own_experience_store.write_bytes(b"not a database at all" * 50)
    code, model, report = _run(tmp_path, sandbox, {**BASE, "draft": [fenced(CORRECT)]},
                               candidates=1, experience=True)
    assert code == 0 and report["solved"] and report["experience"] == []


@pytest.fixture
def no_shipped(tmp_path, monkeypatch) -> None:
    """A shipped store without the cardiac families: what a heart-rate run is shown then
    comes from the test's own entries (the rest still give BM25 its word weights)."""
    other = [e for e in SHIPPED if not e.source.endswith(("nn-windows", "ecg-beats",
                                                           "pulse-rate"))]
    assert len(other) >= experience.MIN_POOL
    path = tmp_path / "shipped.jsonl"
    experience.write_jsonl(path, other)
    monkeypatch.setattr(experience, "SHIPPED", path)


def test_recall_shows_the_proven_twin_in_the_first_draft_only_when_switched_on(
        tmp_path, sandbox, no_shipped) -> None:
    experience.Store().add(_entry(code=CORRECT + "# the twin's own program\n"))
    _, model, report = _run(tmp_path / "on", sandbox, {**BASE, "draft": [fenced(CORRECT)]},
                            candidates=1, experience=True)
    prompt = model.calls[0]["messages"][-1]["content"]
    assert "A program proven on a similar task" in prompt
    assert "# the twin's own program" in prompt and report["experience"] == ["nn-rmssd-twin"]
    _, model, _ = _run(tmp_path / "off", sandbox, {**BASE, "draft": [fenced(CORRECT)]},
                       candidates=1)
    assert "proven on a similar task" not in model.calls[0]["messages"][-1]["content"]


def test_the_task_itself_is_never_its_own_example(tmp_path, sandbox, no_shipped) -> None:
    experience.Store().add(_entry(task_id="hrv-rmssd"))
    _, model, report = _run(tmp_path, sandbox, {**BASE, "draft": [fenced(CORRECT)]},
                            candidates=1, experience=True)
    assert "proven on a similar task" not in model.calls[0]["messages"][-1]["content"]
    assert report["experience"] == []


def test_the_shipped_store_holds_only_verified_generator_programs_clean_of_iotbench() -> None:
    assert len(SHIPPED) >= 30
    refs = decontaminate.references()
    bench_ids = {yaml.safe_load(p.read_text())["id"]
                 for p in [*(ROOT / "iotbench" / "tasks").rglob("spec.yaml"),
                           *(ROOT / "examples").glob("*/spec.yaml")]}
    for e in SHIPPED:
        family = e.source.removeprefix("generator:")
        assert family in GENERATORS and e.task_id.startswith(family), e.source
        assert e.task_id not in bench_ids
        assert decontaminate.code_overlap(e.code, refs["code"])[0] <= decontaminate.THRESHOLD
        assert decontaminate.text_overlap(e.requirement, refs["text"])[0] \
            <= decontaminate.THRESHOLD
        assert "expect" not in json.dumps(e.__dict__)  # no expected value, no check
        assert "hidden" not in e.trace_cards


def test_an_iotbench_task_is_shown_only_a_program_of_its_own_kind(tmp_path) -> None:
    """A shipped example reaches an IoTBench task only from a generator family of the task's
    category or signal (a PPG task sees the pulse-rate family, an ECG-derived respiration
    task the ECG one), never the nearest unrelated program, which a raw BM25 floor showed
    every task."""
    tags = {name: set(g.make(0, 0, tmp_path / name).draft.tags)
            for name, g in GENERATORS.items()}
    shown = 0
    for path in sorted((ROOT / "iotbench" / "tasks").rglob("spec.yaml")):
        spec = load_spec(path)
        kind = {t.split(":", 1)[1] for t in spec.tags
                if t.startswith(("category:", "modality:"))}
        for entry, _ in experience.recall(spec, store=experience.Store()):
            family = entry.source.removeprefix("generator:")
            assert kind & tags[family], (spec.id, entry.task_id)
            shown += 1
    assert shown <= 12  # most IoTBench tasks have no family of their own kind yet


def test_the_cli_says_where_the_store_is_and_clears_it(capsys, _own_experience_store) -> None:
    experience.Store().add(_entry())
    assert main(["experience", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(_own_experience_store)
    assert main(["experience", "list"]) == 0
    assert "nn-rmssd-twin" in capsys.readouterr().out
    assert main(["experience", "clear"]) == 0 and experience.Store().all() == []
