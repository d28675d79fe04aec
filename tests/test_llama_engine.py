"""The llama.cpp decode loop: the prefix cache, parallel candidates, prompt lookup and the
deadline, through the real 0.5B (the engine is the same for every GGUF; the small model
keeps the test quick). What must hold: greedy text the same with and without the cache in
any call order; prompt lookup and parallel candidates repeatable and cheaper in passes;
a deadline that stops generation."""

from __future__ import annotations

import os
import time

import pytest

from agent.models.llamacpp_engine import CHUNK, lookup_draft

SKIP_REAL = os.environ.get("GPIOT_SKIP_REAL_MODELS") == "1"
MODEL = "qwen2.5-coder-0.5b"

SYSTEM = ("You are an expert embedded and IoT signal-processing programmer. You write small, "
          "correct, plain Python functions that process recorded sensor data. "
          "The program runs with: Python 3, numpy and scipy. Nothing else is installed.")
TASK = ("Task: heart rate from a wrist PPG recording\nThe recording is sampled at 64 Hz; "
        "return the mean heart rate in beats per minute over the whole recording, found from "
        "the systolic peaks of the pulse wave. Peaks closer than 0.3 s are one beat.\n"
        "Write a Python module that defines:\n    def mean_hr(ppg, fs):\n"
        "Arguments:\n- ppg: 1-D float array, the PPG samples\n- fs: sampling rate in Hz\n"
        "Returns: float, beats per minute\n\nExample inputs:\n- ppg: shape (3840,), "
        "range -812.0 to 1034.5, first values [12.1, 15.3, 19.9, 25.0, 30.2]\n- fs: 64\n")
ENDINGS = ["Reply with the complete module in one ```python block.",
           "Use scipy.signal.find_peaks. Reply with the module in one ```python block.",
           "Band-pass filter first (0.5-4 Hz). Reply with one ```python block."]
PROGRAM = ("import numpy as np\nfrom scipy.signal import find_peaks\n\n\n"
           "def mean_hr(ppg, fs):\n    x = np.asarray(ppg, dtype=float)\n"
           "    x = x - np.mean(x)\n    peaks, _ = find_peaks(x, distance=int(0.3 * fs))\n"
           "    if len(peaks) < 2:\n        return 0.0\n"
           "    ibi = np.diff(peaks) / fs\n    return float(60.0 / np.mean(ibi))\n")
REPAIR = (TASK + "\nThis program was tested on the real recordings and failed:\n```python\n"
          + PROGRAM + "```\nWhat went wrong (wrong_value): the value is 2.1 times the "
          "expected one.\nFix the program. Reply with the complete corrected module in one "
          "```python block.")


def msgs(user: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def test_lookup_draft_continues_the_latest_earlier_ngram():
    history = [1, 2, 3, 4, 5, 9, 9, 1, 2, 3, 7, 8, 2, 3]
    # the last 2-gram (2, 3) last occurred before 7, 8; no earlier 3- or 4-gram matches
    assert lookup_draft(history, 3) == [7, 8, 2]
    assert lookup_draft(history, 3, ngrams=(3,)) == []
    assert lookup_draft([5, 6, 7], 4) == []  # nothing repeats
    assert lookup_draft([1, 2, 3, 1, 2, 3], 10, ngrams=(3,)) == [1, 2, 3]


# -- the real model ------------------------------------------------------------------------

real = pytest.mark.skipif(SKIP_REAL, reason="GPIOT_SKIP_REAL_MODELS=1")


def _load(**options):
    pytest.importorskip("llama_cpp")
    from agent.models import load_model
    from agent.models.fetch import pull

    pull(MODEL, progress=False)
    return load_model(MODEL, **options)


@pytest.fixture(scope="module")
def cached():
    with _load(lookup=True) as model:
        yield model


@pytest.fixture(scope="module")
def plain():
    with _load(prefix_cache=False, lookup=False, parallel=False) as model:
        yield model


@real
def test_greedy_text_is_the_same_with_and_without_the_cache_in_any_order(cached, plain):
    prompts = [msgs(TASK + e) for e in ENDINGS]
    reference = [plain.generate(p, max_new_tokens=48).text for p in prompts]
    assert plain.last_stats.cached_tokens == 0
    reused = 0
    for order in ([0, 1, 2], [2, 1, 0], [1, 1, 0, 2]):
        for i in order:
            got = cached.generate(prompts[i], max_new_tokens=48)
            reused += got.tokens_cached
            assert got.text == reference[i], f"prompt {i} in order {order}"
            assert got.tokens_cached % CHUNK == 0
    # the shared system prompt and task were read once, not once per call
    assert reused >= 9 * CHUNK


@real
def test_prompt_lookup_drafts_repairs_repeatably_in_fewer_passes(cached, plain):
    first = cached.generate(msgs(REPAIR), max_new_tokens=160, role="repair")
    stats = cached.last_stats
    assert stats.accepted > 0 and stats.passes < first.tokens_out
    cached.generate(msgs(TASK + ENDINGS[2]), max_new_tokens=16)  # another cache state
    again = cached.generate(msgs(REPAIR), max_new_tokens=160, role="repair")
    assert again.text == first.text
    # a draft does not copy its prompt: no lookup there, nor with the switch off
    cached.generate(msgs(TASK + ENDINGS[0]), max_new_tokens=32, role="code")
    assert cached.last_stats.drafted == 0
    c = plain.generate(msgs(REPAIR), max_new_tokens=32, role="repair")
    assert plain.last_stats.drafted == 0
    assert plain.last_stats.passes in (c.tokens_out - 1, c.tokens_out)  # one per token


@real
def test_parallel_candidates_are_repeatable_and_seeded(cached):
    prompt = msgs(TASK + ENDINGS[0])
    first = cached.generate_many(prompt, [0.0, 1.2, 1.2], [1, 2, 3], max_new_tokens=60)
    again = cached.generate_many(prompt, [0.0, 1.2, 1.2], [1, 2, 3], max_new_tokens=60)
    assert [c.text for c in first] == [c.text for c in again]
    assert len(first) == 3 and first[1].text != first[2].text  # per-sequence seeds
    assert cached.last_stats.passes <= 60  # one pass per step serves all three


@real
def test_a_passed_deadline_stops_generation(cached):
    start = time.perf_counter()
    c = cached.generate(msgs(TASK + ENDINGS[1]), max_new_tokens=400,
                        deadline=time.time() + 1.0)
    assert c.finish_reason == "deadline" and c.tokens_out < 400
    assert time.perf_counter() - start < 10
