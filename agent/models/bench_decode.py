"""Decode speed of our llama.cpp backend against raw llama-cpp-python, side by side.

The wrapper must cost next to nothing (target: >= 90% of raw). Both sides load the same
file with the same context, threads and GPU offload, and decode the same prompt
greedily, interleaved so that machine noise hits both alike.

    python -m agent.models.bench_decode [--model NAME|PATH] [--tokens 200] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from agent.models.base import load_model
from agent.models.llamacpp import LlamaCppModel, import_llama_cpp

PROMPT = [
    {"role": "system", "content": "You write correct, self-contained Python programs."},
    {
        "role": "user",
        "content": (
            "Write a Python program that reads a CSV of PPG samples (columns t_ms, value) "
            "sampled at 100 Hz from stdin, band-pass filters it between 0.5 and 4 Hz, "
            "detects the heartbeats and prints the mean heart rate in beats per minute."
        ),
    },
]


def main(argv: list[str] | None = None) -> int:
    """Print tokens/s for ours and raw, and the ratio; exit 0 (it is a report, not a gate)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--tokens", type=int, default=200, help="new tokens per run")
    ap.add_argument("--reps", type=int, default=3, help="timed runs per side, after a warm-up")
    args = ap.parse_args(argv)

    llama_cpp = import_llama_cpp()
    t0 = time.perf_counter()
    ours = load_model(args.model, backend="llama")
    load_ours = time.perf_counter() - t0
    assert isinstance(ours, LlamaCppModel)
    params = ours._llm.model_params
    t0 = time.perf_counter()
    raw = llama_cpp.Llama(
        model_path=str(ours.path),
        n_ctx=ours._llm.n_ctx(),
        n_threads=ours._llm.n_threads,
        n_gpu_layers=params.n_gpu_layers,
        seed=0,
        verbose=False,
    )
    load_raw = time.perf_counter() - t0

    def run_ours() -> tuple[int, float, str]:
        c = ours.generate(PROMPT, max_new_tokens=args.tokens, temperature=0.0)
        return c.tokens_out, c.seconds, c.text

    def run_raw() -> tuple[int, float, str]:
        start = time.perf_counter()
        out = raw.create_chat_completion(
            messages=PROMPT, max_tokens=args.tokens, temperature=0.0, repeat_penalty=1.0
        )
        seconds = time.perf_counter() - start
        return out["usage"]["completion_tokens"], seconds, out["choices"][0]["message"]["content"]

    results: dict[str, list[float]] = {"ours": [], "raw": []}
    texts = {}
    for rep in range(args.reps + 1):  # rep 0 warms caches and is not counted
        for label, fn in (("ours", run_ours), ("raw", run_raw)):
            n, seconds, texts[label] = fn()
            if rep:
                results[label].append(n / seconds)
    ours_tps, raw_tps = (statistics.median(results[k]) for k in ("ours", "raw"))
    print(
        f"model {ours.name}  file {ours.path.name}  threads {ours._llm.n_threads}  "
        f"gpu layers {params.n_gpu_layers}  new tokens {args.tokens}  reps {args.reps}"
    )
    print(f"{'':6} {'load s':>8} {'tokens/s (median)':>18}  runs")
    for label, load in (("ours", load_ours), ("raw", load_raw)):
        runs = " ".join(f"{x:.1f}" for x in results[label])
        print(f"{label:6} {load:8.2f} {statistics.median(results[label]):18.1f}  {runs}")
    same = texts["ours"] == texts["raw"]
    print(f"ours/raw = {ours_tps / raw_tps:.1%} (target >= 90%); same text: {same}")
    ours.close()
    raw.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
