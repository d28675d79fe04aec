"""What a program returns or raises reaches the prompt bounded, and an error that ends a run
early still leaves its best program and a report. The incident: a classifier that turned each
window's 100 per-sample labels into one numpy string gave a 46,000-character repair prompt
(14,104 tokens, over the model's 8,192), and the run ended without a report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agent.checker import check_solution
from agent.configuration import RunConfig
from agent.errors import BadInputError
from agent.feedback import LINE_CHARS, feedback_for_case
from agent.models.base import ChatModel, Completion
from agent.nodes.repair import repair_prompt
from agent.run import start_run
from agent.spec import load_spec
from agent.text import clip, clip_lines

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_sandbox import FakeSandbox  # noqa: E402

HAR = ROOT / "examples" / "har-basicmotions" / "spec.yaml"
# nearest class mean per *sample* of 3-D windows: each prediction is an array of labels, and
# str() of it is numpy's repr of 100 strings
PER_SAMPLE_LABELS = '''import numpy as np


def classify_activity(train_windows, train_labels, test_windows):
    X = np.asarray(train_windows, dtype=float)
    y = np.array([str(v) for v in train_labels])
    labels = np.unique(y)
    cents = np.array([X[y == c].mean(axis=0) for c in labels])
    Z = np.asarray(test_windows, dtype=float)
    dist = np.linalg.norm(Z[:, None, :, :] - cents[None, :, :, :], axis=2)
    return [str(labels[i]) for i in dist.argmin(axis=1)]
'''


def test_clip_says_what_it_left_out_and_keeps_short_text() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcdef", 3) == "abc... (3 more characters)"
    assert clip_lines("ab\n" + "x" * 10, 4) == "ab\nxxxx... (6 more characters)"


@pytest.mark.docker
def test_unbounded_returned_labels_give_a_repair_prompt_that_fits(warm_sandbox,
                                                                  tmp_path) -> None:
    spec = load_spec(HAR)
    (tmp_path / "bad.py").write_text(PER_SAMPLE_LABELS)
    res = check_solution(spec, tmp_path / "bad.py", warm_sandbox, cases=spec.visible_cases)
    by_name = {c.name: c for c in spec.cases}
    failing = [r for r in res.cases if not r.passed]
    assert failing and all(r.status == "wrong_value" for r in failing)
    # what the program returned is large: quoting it whole is what overflowed the context
    assert sum(len(str(v)) for v in failing[0].value) > 20_000
    texts = [feedback_for_case(r, by_name[r.case], spec) for r in failing[:2]]
    assert all(max(len(line) for line in t.splitlines()) <= LINE_CHARS + 40 for t in texts)
    assert all("labels returned: " in t and "more characters)" in t for t in texts)
    prompt = repair_prompt(spec, PER_SAMPLE_LABELS, "wrong_value", "\n\n".join(texts))
    assert len(prompt) < 8_000  # about 2,000 tokens, a quarter of the context


WRONG = "import numpy as np\n\ndef rmssd(nni):\n    d = nni - np.roll(nni, 1)\n" \
        "    return float(np.sqrt(np.mean(d ** 2)))\n"


class FailingRepairs(ChatModel):
    """Drafts a wrong program, then fails as an overlong prompt does: with an error."""

    name = "failing-repairs"
    sha256 = None

    def generate(self, messages, *, max_new_tokens=512, temperature=0.0, seed=None, stop=None,
                 role=None, deadline=None, node=None) -> Completion:
        if node != "draft":
            raise BadInputError("a prompt of 14104 tokens does not fit the model's context")
        return Completion(f"```python\n{WRONG}```", 10, 10, 0.01, "stop")


def test_an_error_that_ends_a_run_leaves_the_best_program_and_a_report(tmp_path) -> None:
    run_dir = tmp_path / "run"
    with pytest.raises(BadInputError):
        start_run(ROOT / "examples" / "hrv-rmssd" / "spec.yaml", RunConfig(), run_dir,
                  model=FailingRepairs(), sandbox=FakeSandbox(), log=lambda s: None,
                  keep_stopped=True)
    report = json.loads((run_dir / "report.json").read_text())
    assert report["stop_reason"] == ("error: a prompt of 14104 tokens does not fit the "
                                     "model's context")
    assert not report["solved"] and report["attempts"]
    assert (run_dir / "solution.py").read_text() == WRONG


def test_a_bench_attempt_an_error_ended_leaves_no_report(tmp_path) -> None:
    """A bench takes a report.json as a finished attempt: one an error (Docker gone, say)
    ended must be run again on resume, so without keep_stopped nothing is written."""
    run_dir = tmp_path / "run"
    with pytest.raises(BadInputError):
        start_run(ROOT / "examples" / "hrv-rmssd" / "spec.yaml", RunConfig(), run_dir,
                  model=FailingRepairs(), sandbox=FakeSandbox(), log=lambda s: None)
    assert not (run_dir / "report.json").exists()
