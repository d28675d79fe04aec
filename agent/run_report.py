"""RUN_DIR/report.html: one run, readable in a browser — the verdict and per-case figures
(report.json), the attempts as a timeline (score and failure class from report.json; tokens
and seconds per node from the run's checkpoints, one per graph step; verify's outcome from
trajectory.jsonl), what the final program returned on each visible case against the
expected (the plots of agent/plots.py, the bench report's own), and the program itself.

Hidden cases appear as pass/fail only: their inputs, expected and returned values (and the
metric's summary, which quotes them) never reach the page, as they never reach a prompt.
The returned values are those the run measured (finalize judged every case); only a page
redrawn later (`python -m agent.run_report RUN_DIR`) runs the program again, on the visible
cases.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.checker import atomic_write
from agent.plots import case_plot, esc, html_page, html_table, svg_plot, svg_stacked, svg_timeline
from agent.spec import Spec

CANDIDATE = re.compile(r"a(\d+)-k\d+$")  # "a3-k1": attempt 3, candidate 1
STYLE = (".verdict{font-size:1.4em;font-weight:bold;padding:.4em .8em;display:inline-block;"
         "border-radius:4px}.solved{background:#e6f4ea;color:#1a7f37}.failed{background:"
         "#fdecea;color:#b42318}.note{background:#fff8e1;padding:.5em}.pass{color:#1a7f37}"
         ".fail{color:#b42318}pre{background:#f6f8fa;padding:1em;overflow-x:auto;"
         "font-size:13px}h3{font-size:1em;margin-top:1.5em}.cases td{text-align:left}"
         ".cases td:first-child{white-space:nowrap}")


def load_trajectory(run_dir: Path) -> list[dict[str, Any]]:
    """trajectory.jsonl's entries; a torn last line (a killed run) is skipped."""
    path = run_dir / "trajectory.jsonl"
    out = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def load_steps(run_dir: Path, thread_id: str) -> list[dict[str, Any]]:
    """The state after each graph step, oldest first, from the run's LangGraph checkpoints
    (one per step): attempt, running token counts, running seconds per node and the wall
    clock. Only these survive a step; report.json keeps the run's totals alone. [] when
    there is no readable checkpoint."""
    from datetime import datetime

    from langgraph.checkpoint.sqlite import SqliteSaver

    path = run_dir / "checkpoint.sqlite"
    if not path.is_file():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        items = list(SqliteSaver(conn).list({"configurable": {"thread_id": thread_id}}))
    except Exception:  # noqa: BLE001 - without the costs the page still says the rest
        return []
    finally:
        conn.close()
    steps = []
    for it in sorted(items, key=lambda it: it.metadata.get("step", -1)):
        v = it.checkpoint.get("channel_values", {})
        steps.append({"attempt": v.get("attempt") or 0, "tokens_in": v.get("tokens_in") or 0,
                      "tokens_out": v.get("tokens_out") or 0,
                      "node_seconds": v.get("node_seconds") or {},
                      "started_at": v.get("started_at"),
                      "at": datetime.fromisoformat(it.checkpoint["ts"]).timestamp()})
    return steps


def per_attempt(steps: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """What each attempt cost, from the differences between consecutive steps: tokens,
    seconds per node, and when its last step ended (seconds since the run started). Steps
    before the first draft (understand, decompose, specify, retrieve) are attempt 0.
    finalize is left out: the page finalize writes cannot hold its own time, and a page
    redrawn later shows the same."""
    out: dict[int, dict[str, Any]] = {}
    prev: Mapping[str, Any] = {"tokens_in": 0, "tokens_out": 0, "node_seconds": {}}
    started = next((s["started_at"] for s in steps if s.get("started_at")), None)
    for s in steps:
        took = {node: total - prev["node_seconds"].get(node, 0.0)
                for node, total in s["node_seconds"].items()}
        if took.get("finalize", 0.0) > 0:  # the step after the page was written
            prev = s
            continue
        a = out.setdefault(int(s["attempt"]), {"tokens_in": 0, "tokens_out": 0,
                                               "seconds": {}, "ended_s": None})
        a["tokens_in"] += s["tokens_in"] - prev["tokens_in"]
        a["tokens_out"] += s["tokens_out"] - prev["tokens_out"]
        for node, t in took.items():
            if t > 0:
                a["seconds"][node] = round(a["seconds"].get(node, 0.0) + t, 3)
        if started:
            a["ended_s"] = round(s["at"] - started, 1)
        prev = s
    return out


def attempt_rows(report: Mapping[str, Any], steps: Sequence[Mapping[str, Any]],
                 trajectory: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """report.json's attempts, each with its cost (per_attempt) and whether verify passed
    the hidden cases (trajectory.jsonl's verify events; None: verify did not run)."""
    verified: dict[int, bool] = {}
    for e in trajectory:
        m = CANDIDATE.match(str(e.get("candidate", "")))
        if m and e.get("event") == "verify":
            verified[int(m.group(1))] = bool(e.get("hidden_passed"))
    cost = per_attempt(steps)
    empty = {"tokens_in": None, "tokens_out": None, "seconds": {}, "ended_s": None}
    return [{**h, **cost.get(h["attempt"], empty), "hidden": verified.get(h["attempt"])}
            for h in report.get("attempts", [])]


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _verdict(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def case_rows(report: Mapping[str, Any]) -> list[list[str]]:
    """One row per case, as HTML cells: a visible case with its figures, a hidden one with
    its name and verdict only (its summary quotes the values it must not show)."""
    rows = []
    for c in report.get("cases", []):
        if c.get("hidden"):
            rows.append([esc(c["case"]), "hidden", _verdict(bool(c["passed"])), "", "", "", ""])
            continue
        rows.append([esc(c["case"]), "visible", _verdict(bool(c["passed"])), esc(c["status"]),
                     esc(c["metric"]), esc(_fmt(c.get("figure"))), esc(c.get("summary", ""))])
    return rows


def render_run_html(report: Mapping[str, Any], spec: Spec,
                    visible: Sequence[Mapping[str, Any]], code: str | None,
                    steps: Sequence[Mapping[str, Any]] = (),
                    trajectory: Sequence[Mapping[str, Any]] = ()) -> str:
    """The page. visible: the judged visible cases (CaseResult dicts, value included) of the
    program in `code`; anything hidden in it is ignored."""
    measured = {r["case"]: r for r in visible if not r.get("hidden")}
    cases = report.get("cases", [])
    solved = bool(report.get("solved"))
    n_hidden = sum(bool(c.get("hidden")) for c in cases)
    left = len(spec.hidden_cases) - n_hidden
    unmeasured = f"; {left} hidden not measured" if left > 0 else ""
    model = report.get("model") or {}
    sandbox = report.get("sandbox") or {}
    body = [f"<h1>gpiot run: {esc(report.get('spec', spec.id))}</h1>",
            f"<p>{esc(spec.title)}</p>",
            f'<p class="verdict {"solved" if solved else "failed"}">'
            f'{"SOLVED" if solved else "NOT SOLVED"}</p>', "<ul>",
            f"<li>stop reason: {esc(report.get('stop_reason', ''))}</li>",
            f"<li>best candidate {esc(report.get('best_candidate'))}: "
            f"{sum(bool(c['passed']) for c in cases)}/{len(cases)} cases pass "
            f"({len(cases) - n_hidden} visible, {n_hidden} hidden{unmeasured})</li>",
            f"<li>{len(report.get('attempts', []))} attempt(s), tokens in "
            f"{report.get('tokens_in', 0)}, out {report.get('tokens_out', 0)}, wall time "
            f"{float(report.get('wall_s', 0)):.1f} s</li>",
            f"<li>model {esc(model.get('name'))} ({esc(model.get('backend'))}, sha256 "
            f"{esc(str(model.get('sha256'))[:12])}); sandbox {esc(sandbox.get('backend'))} "
            f"{esc(sandbox.get('image', ''))}; run {esc(report.get('run_id', ''))}</li>", "</ul>"]
    if not report.get("final_check"):
        body.append('<p class="note">No final check: the run stopped before its program was '
                    'judged on every case, so the cases below are those it had measured by '
                    'then (hidden ones only where verify ran).</p>')
    args = ", ".join(a.name for a in spec.function.args)
    body += ["<h2>Task</h2>", f"<p><code>{esc(spec.function.name)}({esc(args)})</code></p>",
             f"<pre>{esc(spec.requirement.strip())}</pre>",
             "<h2>Cases</h2>",
             html_table(["case", "", "verdict", "status", "metric", "figure", "summary"],
                        case_rows(report), raw=True, cls="cases") if cases else
             "<p>No case was judged.</p>"]
    rows = attempt_rows(report, steps, trajectory)
    body.append("<h2>Attempts</h2>")
    if rows:
        body += [svg_timeline(rows), html_table(
            ["attempt", "mode", "candidate", "candidates", "failure", "score", "tokens in",
             "tokens out", "seconds", "ended at s", "hidden cases"],
            [[r["attempt"], r["mode"], r["candidate"], r.get("n_candidates", ""), r["failure"],
              _fmt(float(r["score"])), _fmt(r["tokens_in"]), _fmt(r["tokens_out"]),
              f"{sum(r['seconds'].values()):.2f}" if r["seconds"] else "-",
              _fmt(r["ended_s"]), {None: "-", True: "pass", False: "fail"}[r["hidden"]]]
             for r in rows])]
    else:
        body.append("<p>No attempt was judged.</p>")
    setup = per_attempt(steps).get(0, {}).get("seconds")
    bars = ([("before drafting", setup)] if setup else []) + \
        [(f"attempt {r['attempt']}", r["seconds"]) for r in rows if r["seconds"]]
    if bars:
        body += ["<h2>Seconds per node</h2>",
                 svg_stacked(bars, {k: float(v) for k, v in
                                    (report.get("node_seconds") or {}).items()})]
    body.append("<h2>What the program returned (visible cases)</h2>")
    for case in spec.visible_cases:
        r = measured.get(case.name)
        if r is None:
            body.append(f"<h3>{esc(case.name)}: not measured</h3>")
            continue
        body += [f"<h3>{esc(case.name)}: {_verdict(bool(r['passed']))}, "
                 f"{esc(r.get('summary', ''))}</h3>", svg_plot(case_plot(case, r))]
    body += ["<h2>Final program</h2>",
             f"<pre><code>{esc(code)}</code></pre>" if code is not None
             else "<p>The run ended without a program.</p>"]
    return html_page(f"gpiot run {report.get('spec', spec.id)}", body, STYLE)


def write_run_html(run_dir: Path, report: Mapping[str, Any], spec: Spec,
                   visible: Sequence[Mapping[str, Any]]) -> Path:
    """Render RUN_DIR/report.html from the run's report, trajectory and solution.py, and
    write it whole or not at all."""
    solution = run_dir / "solution.py"
    code = solution.read_text(encoding="utf-8") if solution.is_file() else None
    steps = load_steps(run_dir, str(report.get("run_id", "")))
    page = render_run_html(report, spec, visible, code, steps, load_trajectory(run_dir))
    atomic_write(run_dir / "report.html", page)
    return run_dir / "report.html"


def redraw_run_html(run_dir: Path, sandbox: Any = None) -> Path:
    """report.html of a finished run from its report.json, judging solution.py again on the
    visible cases only (report.json keeps no returned values)."""
    from dataclasses import asdict

    from agent.checker import check_solution
    from agent.errors import BadInputError
    from agent.spec import load_spec, with_environment

    if not (run_dir / "report.json").is_file():
        raise BadInputError(f"{run_dir}: no report.json (not a finished run's folder)")
    report = json.loads((run_dir / "report.json").read_text())
    config = report.get("config") or {}
    spec = with_environment(load_spec(report["spec_path"]), config.get("environment"))
    visible: list[dict[str, Any]] = []
    if (run_dir / "solution.py").is_file():
        from sandboxes import open_sandbox

        own = sandbox is None
        sandbox = sandbox or open_sandbox(config.get("sandbox", "docker-warm"), spec.environment)
        try:
            res = check_solution(spec, run_dir / "solution.py", sandbox,
                                 cases=spec.visible_cases, run_id="run-report")
            visible = [asdict(r) for r in res.cases]
        finally:
            if own:
                sandbox.close()
    return write_run_html(run_dir, report, spec, visible)


def main(argv: list[str] | None = None) -> int:
    """python -m agent.run_report RUN_DIR...: redraw the report.html of finished runs."""
    from agent.errors import exit_code_of

    dirs = argv if argv is not None else sys.argv[1:]
    if not dirs:
        print("usage: python -m agent.run_report RUN_DIR...", file=sys.stderr)
        return 2
    def redraw() -> None:
        for d in dirs:
            print(redraw_run_html(Path(d)))

    return exit_code_of(redraw)


if __name__ == "__main__":
    sys.exit(main())
