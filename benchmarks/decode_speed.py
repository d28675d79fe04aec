"""Decode speed of the llama.cpp engine's three switches, side by side in one process.

One loaded model serves every variant (the switches are flipped between calls, and the
variants alternate task by task), so CPU differences between machines cancel in the ratios.
The prompts are the agent's own: the draft prompt of each task (its trace cards) and a
repair prompt holding that task's realistic wrong program (examples/wrong/ or none).

For each task it measures:
- a round's calls (draft with K candidates, a greedy repair, the sampled repair of the same
  prompt, a rewrite from the draft prompt) with the switches off ("plain": the previous
  behaviour, each call re-reads its prompt, candidates one by one) and at the defaults
  (prefix cache and parallel candidates on);
- the draft's wall time with K = 1, 2, 4 candidates decoded together, against K = 1;
- the greedy repair with and without prompt lookup (whether the text is the same, too).

    python benchmarks/decode_speed.py [--model qwen2.5-coder-1.5b] [--tasks examples]
        [--max-new-tokens 384] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.models import load_model  # noqa: E402
from agent.models.base import CALL_ROLE  # noqa: E402
from agent.nodes.draft import draft_prompt, earlier_failure  # noqa: E402
from agent.nodes.repair import repair_prompt  # noqa: E402
from agent.nodes.understand import trace_cards  # noqa: E402
from agent.prompting import messages  # noqa: E402
from agent.spec import load_spec  # noqa: E402

FEEDBACK = ("case {case}: the returned value is far from the expected one; check the units "
            "and the method.")


def task_prompts(spec_path: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """(draft, repair, rewrite) messages for one spec, built with the nodes' templates."""
    spec = load_spec(spec_path)
    cards = trace_cards(spec)
    wrong = ROOT / "examples/wrong" / f"{spec.id}.py"
    code = wrong.read_text() if wrong.is_file() else \
        (ROOT / "examples/wrong/hrv-rmssd.py").read_text()
    feedback = FEEDBACK.format(case=spec.visible_cases[0].name)
    state = {"trace_cards": cards, "failure": "wrong_value", "feedback": feedback}
    draft = draft_prompt({"trace_cards": cards}, spec)
    repair = repair_prompt(spec, code, "wrong_value", feedback)
    rewrite = draft_prompt(state, spec, earlier_failure(state, spec.environment))
    return messages(draft), messages(repair), messages(rewrite)


def switch(model: Any, on: bool) -> None:
    """on: the defaults (prefix cache, parallel candidates); lookup is measured apart."""
    model._engine.prefix_cache = model.parallel = on
    model.lookup = False
    model._engine._canonical = []  # every variant starts cold


def call(model: Any, kind: str, msgs: list[dict], temps: list[float], seeds: list[int],
         n: int) -> dict[str, Any]:
    role = CALL_ROLE[kind.split("-")[0]]  # the adapter role the graph's node would pass
    start = time.perf_counter()
    if len(temps) == 1:
        outs = [model.generate(msgs, temperature=temps[0], seed=seeds[0], max_new_tokens=n,
                               role=role)]
    else:
        outs = model.generate_many(msgs, temps, seeds, max_new_tokens=n, role=role)
    wall = time.perf_counter() - start
    s = model.last_stats
    return {"kind": kind, "k": len(temps), "wall_s": round(wall, 2),
            "prompt_tokens": outs[0].tokens_in, "evaluated": s.prompt_tokens,
            "cached": s.cached_tokens,
            "prompt_tps": round(s.prompt_tokens / s.prompt_seconds, 1) if s.prompt_seconds
            else None,
            "new_tokens": sum(o.tokens_out for o in outs),
            "decode_tps": round(sum(o.tokens_out for o in outs) / s.decode_seconds, 2)
            if s.decode_seconds else None,
            "passes": s.passes, "drafted": s.drafted, "accepted": s.accepted,
            "texts": [o.text for o in outs]}


def round_calls(model: Any, p: tuple, n: int, k: int) -> list[dict[str, Any]]:
    """The calls of a draft round and a repair round that needed all three of its calls."""
    draft, repair, rewrite = p
    temps = [0.0] + [0.7] * (k - 1)
    return [call(model, "draft", draft, temps, list(range(k)), n),
            call(model, "repair", repair, [0.0], [10], n),
            call(model, "repair-sample", repair, [0.7], [11], n),
            call(model, "rewrite", rewrite, [0.7], [12], n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--tasks", default="examples",
                    help="a folder of */spec.yaml (examples, iotbench/tasks)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many tasks")
    ap.add_argument("--max-new-tokens", type=int, default=384)
    ap.add_argument("--candidates", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write every measurement here")
    args = ap.parse_args(argv)

    specs = sorted((ROOT / args.tasks).glob("*/spec.yaml"))
    if args.limit:
        specs = specs[:args.limit]
    t0 = time.perf_counter()
    model = load_model(args.model, backend="llama")
    print(f"model {model.name} loaded in {time.perf_counter() - t0:.1f} s; "
          f"{len(specs)} task(s) from {args.tasks}; max new tokens {args.max_new_tokens}")
    rows: list[dict[str, Any]] = []
    n = args.max_new_tokens
    for i, spec_path in enumerate(specs):
        task = spec_path.parent.name
        p = task_prompts(spec_path)
        order = (False, True) if i % 2 == 0 else (True, False)  # alternate who goes first
        rounds = {}
        for on in order:
            switch(model, on)
            rounds[on] = round_calls(model, p, n, args.candidates)
            for r in rounds[on]:
                rows.append({"task": task, "bench": "round", "variant": "on" if on else
                             "plain", **r})
        same_greedy = rounds[True][1]["texts"] == rounds[False][1]["texts"]
        switch(model, True)
        k_rows = {}
        for k in (1, 2, 4):
            model._engine._canonical = []
            k_rows[k] = call(model, "draft", p[0], [0.0] + [0.7] * (k - 1), list(range(k)), n)
            rows.append({"task": task, "bench": "candidates", "variant": f"k{k}", **k_rows[k]})
        lk = {}
        for on in (False, True):
            model.lookup = on
            model._engine._canonical = []
            lk[on] = call(model, "repair", p[1], [0.0], [10], n)
            rows.append({"task": task, "bench": "lookup", "variant": "on" if on else "off",
                         **lk[on]})
        model.lookup = False
        plain_s = sum(r["wall_s"] for r in rounds[False])
        on_s = sum(r["wall_s"] for r in rounds[True])
        print(f"{task:24} rounds plain {plain_s:6.1f} s on {on_s:6.1f} s ({on_s / plain_s:.2f}x)"
              f" | K=2 {k_rows[2]['wall_s'] / k_rows[1]['wall_s']:.2f}x K=4 "
              f"{k_rows[4]['wall_s'] / k_rows[1]['wall_s']:.2f}x of K=1 | repair lookup "
              f"{lk[True]['decode_tps']} vs {lk[False]['decode_tps']} tok/s, same text "
              f"{lk[True]['texts'] == lk[False]['texts']}; greedy repair same with cache "
              f"{same_greedy}", flush=True)

    def med(bench: str, variant: str, key: str, kind: str | None = None) -> float:
        vals = [r[key] for r in rows if r["bench"] == bench and r["variant"] == variant
                and (kind is None or r["kind"] == kind) and r[key] is not None]
        return statistics.median(vals) if vals else float("nan")

    print("\nmedians over tasks")
    print(f"{'call':14} {'variant':6} {'wall s':>7} {'evaluated':>9} {'cached':>7} "
          f"{'prompt tok/s':>12} {'decode tok/s':>12}")
    for kind in ("draft", "repair", "repair-sample", "rewrite"):
        for v in ("plain", "on"):
            print(f"{kind:14} {v:6} {med('round', v, 'wall_s', kind):7.1f} "
                  f"{med('round', v, 'evaluated', kind):9.0f} "
                  f"{med('round', v, 'cached', kind):7.0f} "
                  f"{med('round', v, 'prompt_tps', kind):12.1f} "
                  f"{med('round', v, 'decode_tps', kind):12.2f}")
    ratios = {k: statistics.median(
        [a["wall_s"] / b["wall_s"] for a, b in zip(
            [r for r in rows if r["variant"] == f"k{k}"],
            [r for r in rows if r["variant"] == "k1"], strict=True)]) for k in (2, 4)}
    print(f"candidates: K=2 {ratios[2]:.2f}x, K=4 {ratios[4]:.2f}x the wall time of K=1 "
          "(targets 1.3x, 1.8x)")
    print(f"repair decode tok/s: lookup {med('lookup', 'on', 'decode_tps'):.2f} vs "
          f"{med('lookup', 'off', 'decode_tps'):.2f} without (target 1.5x)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
