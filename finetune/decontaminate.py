"""Decontamination: no IoTBench (or examples/) task, reference or trace may enter training.

Three checks, each against every IoTBench task under iotbench/tasks/ and every example under
examples/:
- code: 8-grams of normalised Python tokens (comments and layout dropped, strings -> STR,
  names kept: mapping them all to one symbol made every short numpy function "overlap" with
  every other) of every training target's program vs every reference/solution program.
  Overlap of a pair = the share of the target's 8-grams found in the reference, or the share
  of the reference's found in the target when the reference has >= MIN_REF_GRAMS of them
  (a copied reference inside a longer program counts; a tiny one is mostly boilerplate).
- text: 13-grams of lower-cased words of every IoTBench/example requirement vs the example's
  messages (prompt and answer): the fraction of the requirement's 13-grams found.
- traces: every 16-value window of a generated task's real-recording traces vs the windows
  of every IoTBench/example trace (values rounded to 6 significant digits).
An example is flagged when its code or text overlap exceeds the threshold; the build fails
then. Usage: python -m finetune.decontaminate DATASET_DIR [--threshold 0.3]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tokenize
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
THRESHOLD = 0.3
CODE_N = 8
TEXT_N = 13
TRACE_N = 16
MIN_REF_GRAMS = 30
FENCE = re.compile(r"```[ \t]*(?:python|py)?[^\n]*\n(.*?)```", re.S)


def code_tokens(source: str) -> list[str]:
    """Normalised tokens: comments/layout dropped, strings (docstrings too) -> STR."""
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                            tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            s = tok.string
            if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
                s = "STR"
            out.append(s)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out = source.split()
    return out


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:\.[0-9]+)?", text.lower())


def grams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


@cache
def references(root: Path = ROOT) -> dict[str, Any]:
    """IoTBench/examples programs (8-grams) and requirements (13-grams), by path."""
    code: dict[str, set] = {}
    text: dict[str, set] = {}
    py = [*sorted((root / "iotbench" / "tasks").rglob("*.py")),
          *sorted((root / "examples" / "solutions").glob("*.py"))]
    for p in py:
        g = grams(code_tokens(p.read_text(encoding="utf-8")), CODE_N)
        if g:
            code[str(p.relative_to(root))] = g
    specs = [*sorted((root / "iotbench" / "tasks").rglob("*.yaml")),
             *sorted((root / "examples").glob("*/spec.yaml"))]
    for p in specs:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and isinstance(doc.get("requirement"), str):
            g = grams(words(doc["requirement"]), TEXT_N)
            if g:
                text[str(p.relative_to(root))] = g
    return {"code": code, "text": text}


def programs(ex: dict[str, Any]) -> list[str]:
    """The program(s) an example teaches: python blocks of the assistant's reply."""
    reply = ex["messages"][-1]["content"]
    return FENCE.findall(reply) if ex["role"] != "decompose" else []


def code_overlap(target: str, refs: dict[str, set]) -> tuple[float, str]:
    a = grams(code_tokens(target), CODE_N)
    best, where = 0.0, ""
    for name, b in refs.items():
        if not a:
            break
        shared = len(a & b)
        if shared:
            v = max(shared / len(a), shared / len(b) if len(b) >= MIN_REF_GRAMS else 0.0)
            if v > best:
                best, where = v, name
    return best, where


def text_overlap(text: str, refs: dict[str, set]) -> tuple[float, str]:
    a = grams(words(text), TEXT_N)
    best, where = 0.0, ""
    for name, b in refs.items():
        shared = len(a & b)
        if shared:
            v = shared / len(b)
            if v > best:
                best, where = v, name
    return best, where


def report(examples: Iterable[dict[str, Any]], threshold: float = THRESHOLD,
           root: Path = ROOT) -> dict[str, Any]:
    """Per-example maxima, their distribution, and the flagged examples."""
    refs = references(root)
    rows = []
    for i, ex in enumerate(examples):
        c, cw = max((code_overlap(p, refs["code"]) for p in programs(ex)), default=(0.0, ""))
        text = "\n".join(m["content"] for m in ex["messages"] if m["role"] != "system")
        t, tw = text_overlap(text, refs["text"])
        rows.append({"index": i, "task": ex["task"], "role": ex["role"], "code": round(c, 4),
                     "code_ref": cw, "text": round(t, 4), "text_ref": tw})
    flagged = [r for r in rows if r["code"] > threshold or r["text"] > threshold]
    cs = np.array([r["code"] for r in rows]) if rows else np.zeros(1)
    ts = np.array([r["text"] for r in rows]) if rows else np.zeros(1)

    def dist(x: np.ndarray) -> dict[str, float]:
        return {q: round(float(np.percentile(x, p)), 4)
                for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))}

    hist = np.histogram(cs, bins=[0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0001])[0].tolist()
    return {"threshold": threshold, "clean": not flagged, "examples": len(rows),
            "references": {"code": len(refs["code"]), "text": len(refs["text"])},
            "max_code": float(cs.max()), "max_text": float(ts.max()),
            "code_distribution": dist(cs), "text_distribution": dist(ts),
            "code_histogram": {"bins": ["0-0.05", "0.05-0.1", "0.1-0.2", "0.2-0.3",
                                        "0.3-0.5", "0.5-1"], "counts": hist},
            "flagged_count": len(flagged), "flagged": flagged[:200],
            "top": sorted(rows, key=lambda r: -max(r["code"], r["text"]))[:10]}


def _windows(x: np.ndarray) -> set[bytes]:
    x = np.asarray(x, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size < TRACE_N:
        return set()
    r = np.array([float(f"{v:.6g}") for v in x])
    w = np.lib.stride_tricks.sliding_window_view(r, TRACE_N)
    return {row.tobytes() for row in w}


def _load_trace(p: Path) -> list[np.ndarray]:
    try:
        if p.suffix == ".npy":
            return [np.load(p, allow_pickle=False)]
        if p.suffix == ".json":
            v = json.loads(p.read_text(encoding="utf-8"))
            a = np.asarray(v, dtype=float) if isinstance(v, list) else None
            return [a] if a is not None and a.dtype.kind == "f" else []
        if p.suffix == ".csv":
            a = np.genfromtxt(p, delimiter=",", skip_header=1)
            return [a[:, j] for j in range(a.shape[1])] if a.ndim == 2 else [a]
    except (ValueError, OSError):
        return []
    return []


def trace_overlap(task_dirs: Iterable[Path], root: Path = ROOT) -> dict[str, Any]:
    """Generated traces whose 16-value windows occur in an IoTBench/example trace."""
    bench: set[bytes] = set()
    for p in [*(root / "iotbench" / "tasks").rglob("*"), *(root / "examples").rglob("*")]:
        if p.suffix in (".npy", ".json", ".csv") and p.is_file():
            for a in _load_trace(p):
                bench |= _windows(a)
    hits, checked = [], 0
    for d in task_dirs:
        for p in sorted(Path(d).rglob("traces/*")):
            for a in _load_trace(p):
                checked += 1
                if _windows(a) & bench:
                    hits.append(str(p))
    return {"checked": checked, "bench_windows": len(bench), "overlapping": hits}


def write_report(rep: dict[str, Any], out: Path) -> None:
    """decontamination.json and decontamination.md in the dataset directory."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "decontamination.json").write_text(json.dumps(rep, indent=2) + "\n",
                                              encoding="utf-8")
    cd, td = rep["code_distribution"], rep["text_distribution"]
    lines = [
        "# Decontamination report", "",
        f"{rep['examples']} training examples against {rep['references']['code']} "
        f"IoTBench/examples programs and {rep['references']['text']} requirements. "
        f"Threshold {rep['threshold']}: **{'clean' if rep['clean'] else 'CONTAMINATED'}** "
        f"({rep['flagged_count']} flagged).", "",
        "| overlap | p50 | p90 | p99 | max |", "|---|---|---|---|---|",
        f"| code 8-grams (share of the target, or of a reference >= {MIN_REF_GRAMS} grams) "
        f"| {cd['p50']} | {cd['p90']} | {cd['p99']} | {cd['max']} |",
        f"| requirement 13-grams (share of the requirement) | {td['p50']} | {td['p90']} | "
        f"{td['p99']} | {td['max']} |", "",
        "Code overlap histogram: " + ", ".join(
            f"{b}: {n}" for b, n in zip(rep["code_histogram"]["bins"],
                                        rep["code_histogram"]["counts"], strict=True)), "",
        "Highest overlaps:", "", "| task | role | code | nearest program | text | nearest "
        "requirement |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['role']} | {r['code']} | {r['code_ref']} | {r['text']} | "
              f"{r['text_ref']} |" for r in rep["top"]]
    if "traces" in rep:
        t = rep["traces"]
        lines += ["", f"Traces: {t['checked']} real-recording trace(s) checked against "
                      f"{t['bench_windows']} IoTBench/example windows of {TRACE_N} values: "
                      f"{len(t['overlapping'])} overlapping."]
    (out / "decontamination.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_examples(where: Path) -> list[dict[str, Any]]:
    out = []
    for p in sorted(where.glob("*.jsonl")):
        out += [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m finetune.decontaminate",
                                description="n-gram overlap of a dataset with IoTBench")
    p.add_argument("dataset", type=Path, help="directory with *.jsonl")
    p.add_argument("--threshold", type=float, default=THRESHOLD)
    a = p.parse_args(argv)
    if not a.dataset.is_dir() or not list(a.dataset.glob("*.jsonl")):
        print(f"error: {a.dataset}: no *.jsonl files", file=sys.stderr)
        return 2
    rep = report(load_examples(a.dataset), a.threshold)
    write_report(rep, a.dataset)
    print(f"{'clean' if rep['clean'] else 'CONTAMINATED'}: {rep['flagged_count']} flagged; "
          f"max code {rep['max_code']:.3f}, max text {rep['max_text']:.3f} "
          f"(threshold {a.threshold}) -> {a.dataset / 'decontamination.md'}")
    return 0 if rep["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
