"""Every run writes RUN_DIR/report.html (issue 20): real runs through the real loop and the
real Docker sandbox on the examples' real traces, with a scripted model (tests/bench_fake.py
answers with the reference or the realistic wrong solution), loaded in a real headless
Chromium driven over its DevTools pipe: the page renders, every plot is drawn, no console
error, nothing fetched; a wrong program's page shows the failed verdict and the mismatch in
its plots; hidden cases appear as pass/fail only.

Chromium is Debian's `chromium` package; without it on PATH the browser tests skip.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from agent.checker import check_solution
from agent.configuration import RunConfig
from agent.errors import Interrupted
from agent.run import start_run
from agent.run_report import load_steps, load_trajectory, redraw_run_html, render_run_html
from agent.spec import load_spec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fake import FakeModel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no `chromium` on PATH (Debian: apt-get install -y chromium)")
CANARY_HIDDEN, CANARY_VISIBLE = 987.654321, 123.456789


# -- a headless Chromium over --remote-debugging-pipe ----------------------------------------

class Chromium:
    """Headless Chromium driven with the DevTools protocol over its pipe (fd 3 in, fd 4 out,
    NUL-separated JSON), so a test sees what the browser did: console errors, every request
    it made, the rendered layout. Host names resolve to nothing: no request leaves."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="gpiot-chromium-")
        args = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1100,1400",
                "about:blank"]
        # bash hands our stdin/stdout pipes to Chromium as fds 3 and 4
        self.proc = subprocess.Popen(
            ["bash", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null', *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buf, self.next_id, self.events = b"", 0, []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=True)

    def send(self, method: str, params: dict | None = None, session: bool = False,
             timeout: float = 60) -> dict:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        end = time.time() + timeout
        while True:
            reply = self._read(end)
            if reply.get("id") == msg["id"]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def _read(self, end: float) -> dict:
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, end - time.time()))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise EOFError("chromium closed its pipe")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\0", 1)
        return json.loads(line)

    def load(self, page: Path) -> dict[str, Any]:
        """Open the page; what the browser made of it: errors, requests, text, the plots."""
        self.events = []
        self.send("Page.navigate", {"url": page.resolve().as_uri()}, session=True)
        end = time.time() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read(end))
        found = json.loads(self.send("Runtime.evaluate", {"expression": LAYOUT,
                                                          "returnByValue": True},
                                     session=True)["result"]["value"])
        errors = [e["params"]["entry"]["text"] for e in self.events
                  if e.get("method") == "Log.entryAdded"
                  and e["params"]["entry"]["level"] == "error"]
        errors += [str(e["params"]) for e in self.events
                   if e.get("method") == "Runtime.exceptionThrown"
                   or (e.get("method") == "Runtime.consoleAPICalled"
                       and e["params"]["type"] in ("error", "assert"))]
        requests = [e["params"]["request"]["url"] for e in self.events
                    if e.get("method") == "Network.requestWillBeSent"]
        return {**found, "errors": errors,
                "external": [u for u in requests if not u.startswith(("file:", "data:"))]}

    def screenshot(self, path: Path) -> Path:
        shot = self.send("Page.captureScreenshot", {"format": "png",
                                                    "captureBeyondViewport": True}, session=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
            self.proc.wait(10)
        except Exception:  # noqa: BLE001 - a browser that will not close is killed
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


# the rendered page: its text, and per plot its drawn size and the marks it holds
LAYOUT = """JSON.stringify({
  text: document.body.innerText,
  svgs: [...document.querySelectorAll('svg')].map(s => {
    const r = s.getBoundingClientRect(), b = s.getBBox();
    const cy = sel => [...s.querySelectorAll(sel)].map(c => +c.getAttribute('cy'));
    return {cls: s.getAttribute('class'), width: r.width, height: r.height,
            drawn: b.width * b.height, det: s.querySelectorAll('circle.det').length,
            ref: s.querySelectorAll('line.ref').length, ret: cy('circle.ret'),
            exp: cy('circle.exp'),
            cells: [...s.querySelectorAll('text[text-anchor="middle"]')]
                   .map(t => +t.textContent)};
  })})"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no `chromium` on PATH (Debian: apt-get install -y chromium)")
    b = Chromium()
    yield b
    b.close()


# -- real runs --------------------------------------------------------------------------------

def _run(run_dir: Path, spec: Path, sandbox: Any, wrong: bool, log: list | None = None,
         model: FakeModel | None = None, **kw: Any) -> Path:
    task = load_spec(spec).function.name
    model = model or FakeModel(wrong={spec.parent.name} if wrong else set())
    assert task in model.functions
    start_run(spec, RunConfig(max_attempts=2, candidates=1, **kw), run_dir, model=model,
              sandbox=sandbox, log=(log.append if log is not None else lambda s: None))
    return run_dir


def _canary_spec(tmp: Path) -> Path:
    """hrv-rmssd with a canary as one hidden case's expected value and another as a visible
    one's: the visible canary must show on the page, the hidden one never."""
    shutil.copytree(EXAMPLES / "hrv-rmssd", tmp / "hrv-rmssd")
    path = tmp / "hrv-rmssd" / "spec.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["cases"][0]["expect"]["value"] = CANARY_VISIBLE  # short-5min, visible
    assert doc["cases"][2]["hidden"]
    doc["cases"][2]["expect"]["value"] = CANARY_HIDDEN  # long-30-35min
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, sandbox) -> dict[str, Path]:
    """One real run per page under test (about 10 s in all)."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for task, wrong in (("ecg-rpeaks", False), ("ecg-rpeaks", True),
                        ("har-basicmotions", False), ("har-basicmotions", True),
                        ("temp-daily-mean", False), ("temp-daily-mean", True),
                        ("hrv-rmssd", False)):
        name = f"{task}-{'wrong' if wrong else 'right'}"
        out[name] = _run(base / name, EXAMPLES / task / "spec.yaml", sandbox, wrong)
    out["canary"] = _run(base / "canary", _canary_spec(base), sandbox, wrong=False)
    return out


def _report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report.json").read_text())


def _page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


# -- the pages in a browser -------------------------------------------------------------------

@pytest.mark.docker
@needs_chromium
def test_every_page_renders_with_its_plots_and_no_error(runs, browser) -> None:
    shots = Path(tempfile.gettempdir()) / "gpiot-run-report"
    shots.mkdir(exist_ok=True)
    for name, run_dir in runs.items():
        report = _report(run_dir)
        seen = browser.load(run_dir / "report.html")
        assert seen["errors"] == [] and seen["external"] == [], name
        assert ("NOT SOLVED" if not report["solved"] else "SOLVED") in seen["text"]
        assert "Final program" in seen["text"] and "def " in seen["text"]
        kinds = [s["cls"] for s in seen["svgs"]]
        n_visible = sum(not c["hidden"] for c in report["cases"])
        plot = {"ecg": "events", "har": "confusion"}.get(name[:3], "values")
        assert kinds.count(plot) == n_visible == 2, (name, kinds)  # a plot per visible case
        assert "timeline" in kinds and "seconds" in kinds
        for s in seen["svgs"]:  # drawn: laid out with a size, and content inside
            assert s["width"] > 100 and s["height"] > 30 and s["drawn"] > 0, (name, s)
        png = browser.screenshot(shots / f"{name}.png")
        assert png.stat().st_size > 20_000


@pytest.mark.docker
@needs_chromium
def test_a_wrong_program_shows_its_failure_and_the_mismatch(runs, browser) -> None:
    """The twins: the reference and the realistic wrong program on the same task."""
    for task in ("ecg-rpeaks", "har-basicmotions", "temp-daily-mean"):
        right = browser.load(runs[f"{task}-right"] / "report.html")
        wrong = browser.load(runs[f"{task}-wrong"] / "report.html")
        assert re.search(r"\bSOLVED\b", right["text"]) and "NOT SOLVED" not in right["text"]
        assert "NOT SOLVED" in wrong["text"] and "FAIL" in wrong["text"]
        if task == "ecg-rpeaks":  # detected against reference beats in the excerpt
            for s in (s for s in right["svgs"] if s["cls"] == "events"):
                assert s["ref"] > 0 and s["det"] == s["ref"]
            for s in (s for s in wrong["svgs"] if s["cls"] == "events"):
                assert s["det"] > s["ref"] > 0  # no refractory period: extra beats
        elif task == "har-basicmotions":  # every prediction on the diagonal, or not
            for page, all_right in ((right, True), (wrong, False)):
                for s in (s for s in page["svgs"] if s["cls"] == "confusion"):
                    k = int(len(s["cells"]) ** 0.5)
                    diagonal = sum(s["cells"][i * k + i] for i in range(k))
                    assert (diagonal == sum(s["cells"]) == 40) is all_right
        else:  # each returned daily mean on its expected one, or off it
            for page, on in ((right, True), (wrong, False)):
                for s in (s for s in page["svgs"] if s["cls"] == "values"):
                    assert len(s["ret"]) == len(s["exp"]) > 5
                    gap = max(abs(a - b) for a, b in zip(s["ret"], s["exp"], strict=True))
                    assert (gap < 1.0) is on, gap


@needs_chromium
def test_the_browser_check_catches_a_broken_page(tmp_path, browser) -> None:
    """The harness's own twin: a malformed plot and a fetched image are both reported."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><svg xmlns="http://www.w3.org/2000/svg" '
                    'width="200" height="50" class="values"><polyline points="NaN,1 2,3"/>'
                    '</svg><img src="http://example.invalid/x.png"></body></html>')
    seen = browser.load(page)
    assert any("polyline" in e for e in seen["errors"])
    assert seen["external"] == ["http://example.invalid/x.png"]


# -- what the page holds ----------------------------------------------------------------------

@pytest.mark.docker
def test_hidden_cases_show_pass_or_fail_only(runs) -> None:
    page = _page(runs["canary"])
    report = _report(runs["canary"])
    hidden = [c for c in report["cases"] if c["hidden"]]
    assert [c["passed"] for c in hidden] == [False, True]  # the canary fails, the other passes
    # the visible canary is on the page (the twin: a leak would show the same way) ...
    assert f"{CANARY_VISIBLE:.6g}" in page
    # ... the hidden one, the figures and summaries of the hidden cases are not
    for text in ("987.65", "987.7", f"{CANARY_HIDDEN:.6g}",
                 *(c["summary"] for c in hidden), *(f"{c['figure']:.4g}" for c in hidden)):
        assert text not in page, text
    for c in hidden:  # a row with its name and verdict, nothing else
        row, = re.findall(rf"<tr><td>{c['case']}</td>(.*?)</tr>", page)
        assert [t for t in re.split(r"<[^>]+>", row) if t] == [
            "hidden", "PASS" if c["passed"] else "FAIL"]
    assert "long-30-35min.npy" not in page and "http" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.docker
def test_the_page_does_not_depend_on_hidden_inputs_or_values(runs, sandbox) -> None:
    """Rendered again with every hidden case's inputs, expected value and judgement changed
    (and hidden results passed in by mistake), the page is the same byte for byte; the twin:
    a changed visible input changes it."""
    run_dir = runs["canary"]
    report, spec = _report(run_dir), load_spec(_report(run_dir)["spec_path"])
    judged = [asdict(r) for r in check_solution(spec, run_dir / "solution.py", sandbox).cases]
    visible = [r for r in judged if not r["hidden"]]
    code = (run_dir / "solution.py").read_text()
    steps, traj = load_steps(run_dir, report["run_id"]), load_trajectory(run_dir)
    page = render_run_html(report, spec, visible, code, steps, traj)
    assert page == _page(run_dir)  # what finalize wrote, from the values the run measured

    def other(case):  # noqa: ANN001, ANN202
        return replace(case, args={"nni": np.asarray(case.args["nni"])[::-1] * 3},
                       expect=-1.0)
    spec2 = replace(spec, cases=[other(c) if c.hidden else c for c in spec.cases])
    report2 = {**report, "cases": [{**c, "figure": 4242.0, "summary": "leak 4242",
                                    "status": "exception", "duration_s": 9.9}
                                   if c["hidden"] else c for c in report["cases"]]}
    assert render_run_html(report2, spec2, judged, code, steps, traj) == page
    spec3 = replace(spec, cases=[other(c) if c.name == "long-00-05min" else c
                                 for c in spec.cases])
    assert render_run_html(report, spec3, visible, code, steps, traj) != page


@pytest.mark.docker
def test_attempts_carry_their_tokens_and_seconds_per_node(runs) -> None:
    """Per attempt from the checkpoints: the tokens add up to the run's (a repair round's
    sample and rewrite included), and each attempt has its nodes' seconds."""
    from agent.run_report import attempt_rows

    run_dir = runs["temp-daily-mean-wrong"]
    report = _report(run_dir)
    rows = attempt_rows(report, load_steps(run_dir, report["run_id"]), load_trajectory(run_dir))
    assert [r["mode"] for r in rows] == ["draft", "repair"]
    assert sum(r["tokens_out"] for r in rows) == report["tokens_out"] > 0
    assert sum(r["tokens_in"] for r in rows) == report["tokens_in"]
    assert {"draft", "lint", "execute", "evaluate"} <= set(rows[0]["seconds"])
    assert {"repair", "lint", "execute", "evaluate"} <= set(rows[1]["seconds"])
    assert rows[0]["ended_s"] <= rows[1]["ended_s"] and rows[1]["hidden"] is None
    solved = _report(runs["hrv-rmssd-right"])
    one, = attempt_rows(solved, load_steps(runs["hrv-rmssd-right"], solved["run_id"]),
                        load_trajectory(runs["hrv-rmssd-right"]))
    assert one["hidden"] is True and "verify" in one["seconds"]


# -- plots of any returned value ---------------------------------------------------------------

@pytest.mark.parametrize("returned", [None, "text", {"a": 1}, 5.0, float("nan"), [1.0, 2.0],
                                      [1.0, float("nan"), float("inf")], [[1, 2], [3, 4]],
                                      10 ** 30, list(range(5000))])
@pytest.mark.parametrize(("metric", "params", "expected"), [
    ("abs_error", {"max": 0.5}, 3.0), ("rel_error", {"max": 0.1}, [1.0, 2.0, 4.0]),
    ("allclose", {"rtol": 0.0, "atol": 0.01}, [float(x) for x in range(3000)]),
    ("equals", {}, "ok"), ("equals", {}, 21)])
def test_a_value_plot_is_valid_svg_for_any_returned_value(metric, params, expected,
                                                          returned) -> None:
    """Whatever a program hands back, the plot is well-formed SVG with finite coordinates
    (a NaN coordinate is a console error in the browser), and a long series stays small."""
    from xml.etree import ElementTree as ET

    from agent.plots import case_plot, svg_plot
    from agent.spec import Case, Check

    case = Case("c", False, {"x": np.sin(np.arange(20_000) / 7.0)}, expected,
                Check(metric, params))
    svg = svg_plot(case_plot(case, {"value": returned, "passed": False, "summary": "s"}))
    root = ET.fromstring(svg)
    assert root.get("class") == "values" and len(svg) < 200_000
    for el in root.iter():
        for key in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height", "points"):
            if el.get(key) is not None:
                numbers = re.split(r"[ ,]+", el.get(key).strip())
                assert all(np.isfinite(float(n)) for n in numbers), (key, el.get(key))


def test_a_run_without_a_program_still_gets_a_page() -> None:
    """A run stopped before any candidate (a draft cut by the time limit) has no program,
    no judged case and no attempt: the page says so."""
    spec = load_spec(EXAMPLES / "ecg-rpeaks/spec.yaml")
    page = render_run_html({"spec": spec.id, "solved": False, "stop_reason": "time limit",
                            "final_check": False, "cases": [], "attempts": []}, spec, [], None)
    for text in ("NOT SOLVED", "No final check", "No case was judged", "No attempt was judged",
                 "rec208-000s: not measured", "The run ended without a program"):
        assert text in page


# -- interrupted, broken, redrawn --------------------------------------------------------------

class StopAtRepair(FakeModel):
    """SIGTERM arrives while the repair call runs."""

    def generate(self, messages, **kw):  # noqa: ANN001, ANN003, ANN201
        if kw.get("role") == "repair":
            raise Interrupted(signal.SIGTERM)
        return super().generate(messages, **kw)


@pytest.mark.docker
def test_an_interrupted_run_still_writes_its_page(tmp_path, sandbox) -> None:
    run_dir = tmp_path / "run"
    with pytest.raises(Interrupted):
        start_run(EXAMPLES / "ecg-rpeaks/spec.yaml", RunConfig(candidates=1), run_dir,
                  model=StopAtRepair(wrong={"ecg-rpeaks"}), sandbox=sandbox,
                  log=lambda s: None, keep_stopped=True)
    report = _report(run_dir)
    assert report["stop_reason"] == "interrupted (SIGTERM)" and not report["final_check"]
    page = _page(run_dir)
    assert "No final check" in page and "NOT SOLVED" in page
    # the two visible cases the run measured are plotted; no hidden case was measured
    assert page.count('class="events"') == 2 and "hidden</td>" not in page


@pytest.mark.docker
def test_a_page_that_fails_loses_nothing(tmp_path, sandbox, monkeypatch) -> None:
    def broken(*a: Any, **kw: Any) -> str:
        raise RuntimeError("no page today")

    monkeypatch.setattr("agent.run_report.render_run_html", broken)
    log: list[str] = []
    run_dir = _run(tmp_path / "run", EXAMPLES / "hrv-rmssd/spec.yaml", sandbox, False, log)
    assert _report(run_dir)["solved"] and (run_dir / "solution.py").is_file()
    assert not (run_dir / "report.html").exists()
    assert "[finalize] report.html not written: RuntimeError: no page today" in log
    assert any(line.startswith("[finalize] SOLVED") for line in log)  # the run went on


@pytest.mark.docker
def test_a_page_redrawn_later_judges_the_visible_cases_again(runs, sandbox) -> None:
    """report.json keeps no returned values: a redraw runs solution.py on the visible cases
    (through the checker) and draws the same plots finalize drew."""
    run_dir = runs["ecg-rpeaks-wrong"]
    first = _page(run_dir)
    (run_dir / "report.html").unlink()
    redraw_run_html(run_dir, sandbox)
    assert _page(run_dir) == first
