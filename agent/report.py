"""Bench summaries: solved %, pass@k, per category and difficulty, tokens and wall time,
written as OUT/report.md and a self-contained OUT/report.html with inline SVG plots.

Plots show what a program actually returned: the run's solution.py is judged again on one
visible case through the checker (agent/checker.check_case keeps the returned value), so
an event task gets a trace excerpt with detected against reference events and a
classification task a confusion matrix. The plots and the page are agent/plots.py's, the
same the run report (agent/run_report.py) draws.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from agent.checker import atomic_write
from agent.plots import (  # confusion and event_excerpt: still importable from here
    case_plot,
    esc,
    html_page,
    html_table,
    pct,
    svg_bars,
    svg_plot,
)
from agent.plots import confusion as confusion
from agent.plots import event_excerpt as event_excerpt
from agent.results import load_results


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), in a stable product."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0}
    return {"mean": statistics.fmean(values), "median": statistics.median(values)}


def _group(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures for a set of attempts: per task n samples and c solved, then the pass@k."""
    per_task: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        per_task[r["task"]].append(bool(r["solved"]))
    k_max = min((len(v) for v in per_task.values()), default=0)
    return {
        "tasks": len(per_task), "attempts": len(records),
        "solved_pct": 100.0 * sum(any(v) for v in per_task.values()) / max(len(per_task), 1),
        "pass_at": {k: statistics.fmean(pass_at_k(len(v), sum(v), k)
                                        for v in per_task.values())
                    for k in range(1, k_max + 1)},
        "tokens_in": _stats([r["tokens_in"] for r in records]),
        "tokens_out": _stats([r["tokens_out"] for r in records]),
        "wall_s": _stats([r["wall_s"] for r in records]),
    }


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole summary: overall, per category, per difficulty, per task, and errors.

    solved % counts a task solved when any of its samples is; pass@1 is the mean solve
    rate; pass@k is reported for every k up to the fewest samples any task has.
    """
    by: dict[str, dict[str, list]] = {"category": defaultdict(list),
                                      "difficulty": defaultdict(list),
                                      "task": defaultdict(list)}
    for r in records:
        for key, groups in by.items():
            groups[r[key]].append(r)
    return {
        "overall": _group(records),
        "category": {k: _group(v) for k, v in sorted(by["category"].items())},
        "difficulty": {k: _group(v) for k, v in sorted(by["difficulty"].items(),
                                                       key=lambda kv: _difficulty_rank(kv[0]))},
        "task": {k: {**_group(v), "category": v[0]["category"],
                     "difficulty": v[0]["difficulty"]} for k, v in sorted(by["task"].items())},
        "errors": [f"{r['task']} s{r['sample']}: {r['error']}" for r in records if r["error"]],
    }


def _difficulty_rank(name: str) -> tuple[int, str]:
    order = {"easy": 0, "medium": 1, "hard": 2}
    return order.get(name, 3), name


# -- text and markdown ---------------------------------------------------------------------

def _rows(summary: dict[str, Any], key: str) -> list[list[str]]:
    """Table rows per group; per task the count column is samples, not tasks."""
    rows = []
    for name, g in summary[key].items():
        who = [g["category"], g["difficulty"], str(g["attempts"])] if key == "task" \
            else [str(g["tasks"])]
        rows.append([name, *who, f"{g['solved_pct']:.1f}%", pct(g["pass_at"].get(1, 0)),
                     f"{g['tokens_out']['mean']:.0f}", f"{g['wall_s']['mean']:.1f}"])
    return rows


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


FIGURES = ["solved %", "pass@1", "tokens out (mean)", "wall s (mean)"]
HEAD = {"category": ["category", "tasks", *FIGURES],
        "difficulty": ["difficulty", "tasks", *FIGURES],
        "task": ["task", "category", "difficulty", "samples", *FIGURES]}


def overall_lines(summary: dict[str, Any]) -> list[str]:
    o = summary["overall"]
    passk = ", ".join(f"pass@{k} {pct(v)}" for k, v in o["pass_at"].items())
    return [
        f"tasks {o['tasks']}, attempts {o['attempts']}: solved {o['solved_pct']:.1f}%; {passk}",
        f"tokens in per attempt: mean {o['tokens_in']['mean']:.0f}, median "
        f"{o['tokens_in']['median']:.0f}; tokens out: mean {o['tokens_out']['mean']:.0f}, "
        f"median {o['tokens_out']['median']:.0f}",
        f"wall time per attempt: mean {o['wall_s']['mean']:.1f} s, median "
        f"{o['wall_s']['median']:.1f} s",
    ]


def text_summary(summary: dict[str, Any]) -> str:
    """What `bench` prints at the end."""
    lines = overall_lines(summary)
    for key in ("category", "difficulty"):
        lines.append(f"per {key}:")
        lines += [f"  {r[0]:<16} {r[1]:>3} task(s)  solved {r[2]:>6}  pass@1 {r[3]:>6}  "
                  f"{r[4]:>5} tokens out  {r[5]:>6} s" for r in _rows(summary, key)]
    lines += [f"error: {e}" for e in summary["errors"]]
    return "\n".join(lines)


def render_md(summary: dict[str, Any], config: dict[str, Any]) -> str:
    cfg = ", ".join(f"{k} `{v}`" for k, v in config.items())
    parts = ["# IoTBench report", "", f"Configuration: {cfg}", "",
             *[f"- {x}" for x in overall_lines(summary)], "",
             "solved %: tasks solved by at least one sample; pass@1: mean solve rate; pass@k: "
             "unbiased estimator (Chen et al. 2021).", ""]
    for key in ("category", "difficulty", "task"):
        parts += [f"## Per {key}", "", _table(HEAD[key], _rows(summary, key)), ""]
    if summary["errors"]:
        parts += ["## Errors", "", *[f"- {e}" for e in summary["errors"]], ""]
    parts += ["Plots (event traces, confusion matrices) are in report.html.", ""]
    return "\n".join(parts)


# -- plot data: the program's output on one visible case ------------------------------------

PLOTTED = ("events_f1", "accuracy")  # the bench plots tasks of these metrics only


def plot_data(rec: dict[str, Any], out: Path, sandbox: Any) -> dict[str, Any] | None:
    """Re-judge the attempt's solution.py on its first visible events_f1/accuracy case."""
    from agent.checker import check_case
    from agent.spec import load_spec

    solution = out / rec["run_dir"] / "solution.py"
    if not solution.is_file() or not Path(rec["spec_path"]).is_file():
        return None
    spec = load_spec(rec["spec_path"])
    case = next((c for c in spec.visible_cases if c.check.metric in PLOTTED), None)
    if case is None:
        return None
    res = check_case(spec, case, solution, sandbox, run_id="bench-report")
    return {"task": rec["task"], "sample": rec["sample"], **case_plot(case, vars(res))}


def collect_plots(records: list[dict[str, Any]], out: Path) -> tuple[list[dict], str]:
    """One plot per event/classification task (a solved sample first); '' or why none."""
    chosen: dict[str, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: (not r["solved"], r["sample"])):
        metrics = {c.get("metric") for c in r.get("cases", [])}
        if r["task"] not in chosen and metrics & set(PLOTTED):
            chosen[r["task"]] = r
    if not chosen:
        return [], ""
    from agent.errors import GpiotError
    from sandboxes import SandboxPool

    pool = SandboxPool()
    try:
        plots = [p for _, r in sorted(chosen.items())
                 if (p := plot_data(r, out, pool.get(r.get("environment"))))]
    except GpiotError as exc:
        return [], f"plots skipped: {exc.line()}"
    finally:
        pool.close()
    return plots, ""


# -- HTML ------------------------------------------------------------------------------------

def render_html(summary: dict[str, Any], config: dict[str, Any], plots: list[dict],
                note: str = "") -> str:
    cfg = ", ".join(f"{k} <code>{esc(v)}</code>" for k, v in config.items())
    body = ["<h1>IoTBench report</h1>", f"<p>Configuration: {cfg}</p>", "<ul>",
            *[f"<li>{esc(x)}</li>" for x in overall_lines(summary)], "</ul>",
            "<h2>pass@1 per category</h2>",
            svg_bars({k: g["pass_at"].get(1, 0.0) for k, g in summary["category"].items()})]
    for key in ("category", "difficulty", "task"):
        body += [f"<h2>Per {key}</h2>", html_table(HEAD[key], _rows(summary, key))]
    if summary["errors"]:
        body += ["<h2>Errors</h2><ul>", *[f"<li>{esc(e)}</li>" for e in summary["errors"]],
                 "</ul>"]
    body.append("<h2>What the programs returned (one visible case per task)</h2>")
    if note:
        body.append(f"<p>{esc(note)}</p>")
    for p in plots:
        body.append(f"<h3>{esc(p['task'])} (sample {p['sample']}, case {esc(p['case'])}): "
                    f"{'PASS' if p['passed'] else 'FAIL'}, {esc(p['summary'])}</h3>")
        body.append(svg_plot(p))
    return html_page("IoTBench report", body)


def bench_label(config: dict[str, Any]) -> str:
    """A short column name for a bench: model, mode and adapter."""
    label = f"{Path(str(config.get('model', '?'))).name} {config.get('mode', '?')}"
    adapter = config.get("adapter")
    if isinstance(adapter, dict):  # per role: "+code=a.gguf,repair=b.gguf"
        label += " +" + ",".join(f"{r}={Path(p).name}" for r, p in sorted(adapter.items()))
    elif adapter:
        label += f" +{Path(str(adapter)).name}"
    for stage, on in sorted((config.get("stages") or {}).items()):  # an ablation's switches
        flag = stage.replace("_", "-")
        label += f" {flag}={on}" if not isinstance(on, bool) else (
            f" +{flag}" if on else f" -{flag}")
    return label


def render_compare(benches: list[tuple[str, list[dict[str, Any]], int]]) -> str:
    """Benches side by side (label, records, tasks planned): overall, then on the tasks
    every bench finished (a partial run compared only where it is comparable), per
    category and difficulty as solved/finished, and a per-task matrix. Tokens and wall time
    are means per run (one task x one sample), the unit that costs them."""
    labels = [b[0] for b in benches]
    done = [{r["task"] for r in recs} for _, recs, _ in benches]
    common = set.intersection(*done) if done else set()
    sums = [summarise(recs) for _, recs, _ in benches]
    sums_common = [summarise([r for r in recs if r["task"] in common]) if common else None
                   for _, recs, _ in benches]

    def solved(g: dict[str, Any] | None) -> str:
        if not g or not g["tasks"]:
            return "-"
        n = round(g["solved_pct"] * g["tasks"] / 100)
        return f"{n}/{g['tasks']} ({g['solved_pct']:.1f}%)"

    rows = [["tasks finished / planned", *[f"{len(d)}/{b[2]}" for d, b in zip(done, benches,
                                                                             strict=True)]],
            ["solved (all finished)", *[solved(s["overall"]) for s in sums]],
            [f"solved (the {len(common)} tasks all finished)",
             *[solved(s["overall"] if s else None) for s in sums_common]],
            ["pass@1 (all finished)", *[pct(s["overall"]["pass_at"].get(1, 0)) for s in sums]],
            ["tokens out per run (mean)",
             *[f"{s['overall']['tokens_out']['mean']:.0f}" for s in sums]],
            ["tokens in per run (mean)",
             *[f"{s['overall']['tokens_in']['mean']:.0f}" for s in sums]],
            ["wall s per run (mean)", *[f"{s['overall']['wall_s']['mean']:.1f}" for s in sums]]]
    parts = ["## Overall", _table(["", *labels], rows)]
    for key in ("category", "difficulty"):
        names = sorted({n for s in sums for n in s[key]},
                       key=_difficulty_rank if key == "difficulty" else str)
        parts += [f"## Solved per {key}",
                  _table([key, *labels], [[n, *[solved(s[key].get(n)) for s in sums]]
                                          for n in names])]
    tasks = sorted(set.union(*done)) if done else []
    def mark(s: dict[str, Any], t: str) -> str:
        g = s["task"].get(t)
        return "-" if g is None else "solved" if g["solved_pct"] > 0 else "no"

    parts += ["## Per task", _table(["task", *labels],
                                    [[t, *[mark(s, t) for s in sums]] for t in tasks])]
    return "\n\n".join(parts) + "\n"


def write_reports(out: Path, plots: bool = True) -> dict[str, Any]:
    """Summarise OUT/results.jsonl into report.md and report.html; return the summary."""

    records = load_results(out)
    config = json.loads((out / "bench.json").read_text())["config"]
    summary = summarise(records)
    atomic_write(out / "report.md", render_md(summary, config))
    drawn, note = collect_plots(records, out) if plots else ([], "plots not drawn")
    if note:
        print(note, file=sys.stderr)
    atomic_write(out / "report.html", render_html(summary, config, drawn, note))
    return summary
