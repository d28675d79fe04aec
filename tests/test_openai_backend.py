"""`--model openai:NAME --base-url URL`: the agent drives an OpenAI-compatible server, tested
for real against llama-cpp-python's own server (llama_cpp.server) serving the 0.5B on
127.0.0.1, started and stopped here. Greedy replies through the server are the in-process
backend's, a seed is honoured, a deadline closes the stream and frees the server, and a
server that is down or does not serve the model is one line and exit 3."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import BadInputError, InfraError
from agent.models import load_model, model_path
from agent.models.llamacpp import cpu_count

ROOT = Path(__file__).resolve().parents[1]
SMALL = "qwen2.5-coder-0.5b"
ALIAS = "qwen-small"
PROMPT = [{"role": "system", "content": "You write short Python functions."},
          {"role": "user", "content": "Write a function `mean_rate(peaks, fs)` returning the "
                                      "mean heart rate in beats per minute from R-peak sample "
                                      "indices. Only the code."}]

pytestmark = pytest.mark.skipif(
    __import__("importlib").util.find_spec("openai") is None, reason="the openai extra")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama_cpp.server with the in-process backend's context (8192) and its canonical
    64-token prompt chunks (n_batch 64), so both evaluate the prompt in the same shapes. Its
    log goes to a file: llama.cpp's load log alone would fill an unread pipe and stall it."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path(SMALL)),
         "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "8192", "--n_batch", "64", "--n_threads", str(cpu_count()),
         "--n_threads_batch", str(cpu_count())],
        stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        until = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < until, "llama_cpp.server did not come up in 180 s"
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_greedy_through_the_server_is_the_in_process_reply(server) -> None:
    remote = load_model(f"openai:{ALIAS}", base_url=server)
    got = remote.generate(PROMPT, max_new_tokens=120, temperature=0.0, seed=0)
    with load_model(SMALL) as local:
        want = local.generate(PROMPT, max_new_tokens=120, temperature=0.0, seed=0)
    assert got.text == want.text and "def mean_rate" in got.text
    # llama_cpp.server sends no usage in a stream: its pieces (one per token) are counted
    assert got.tokens_out == want.tokens_out and got.finish_reason == want.finish_reason
    assert remote.name == f"openai:{ALIAS}" and remote.sha256 is None
    remote.close()


def test_the_seed_is_sent_and_the_stop_strings_kept(server) -> None:
    remote = load_model(f"openai:{ALIAS}", base_url=server)
    a, b, c = (remote.generate(PROMPT, max_new_tokens=40, temperature=1.0, seed=s)
               for s in (7, 7, 8))
    assert a.text == b.text != c.text
    cut = remote.generate(PROMPT, max_new_tokens=120, temperature=0.0, stop=["(peaks"])
    assert "def mean_rate" in cut.text and "(peaks" not in cut.text
    remote.close()


def test_a_deadline_closes_the_stream_and_frees_the_server(server) -> None:
    remote = load_model(f"openai:{ALIAS}", base_url=server)
    long = [{"role": "user", "content": "Count from 1 to 2000, one number per line."}]
    start = time.time()
    cut = remote.generate(long, max_new_tokens=4000, temperature=0.0, deadline=start + 10)
    assert cut.finish_reason == "deadline" and time.time() - start < 13
    assert cut.text.startswith("1\n2\n") and 0 < cut.tokens_out < 4000  # what came in time
    # the server stopped generating when the stream closed: the next call is served now
    start = time.time()
    short = remote.generate(PROMPT, max_new_tokens=8, temperature=0.0)
    assert short.finish_reason == "length" and time.time() - start < 20
    remote.close()


def test_a_run_through_the_server_writes_its_report(server, tmp_path, sandbox) -> None:
    """The user's path: `run --model openai:NAME --base-url URL`, single-shot on an example;
    run.json keeps the URL (resume finds the server) and no key."""
    code = main(["run", str(ROOT / "examples/ecg-mean-hr/spec.yaml"), "--mode", "single-shot",
                 "--model", f"openai:{ALIAS}", "--base-url", server.removesuffix("/v1"),
                 "--runs-dir", str(tmp_path), "--time-limit", "240"])
    assert code in (0, 1)
    [run_dir] = [p.parent for p in tmp_path.rglob("report.json")]
    report = json.loads((run_dir / "report.json").read_text())
    assert report["solved"] is (code == 0) and report["final_check"], report["stop_reason"]
    config = json.loads((run_dir / "run.json").read_text())["config"]
    assert config["model"] == f"openai:{ALIAS}" and config["base_url"] == server
    calls = [json.loads(x) for x in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    assert calls and all(c.get("tokens_out", 0) > 0 for c in calls if "completion" in c)


def test_a_server_that_does_not_serve_the_model_is_exit_3(server, capsys) -> None:
    with pytest.raises(InfraError, match=f"does not serve 'no-such-model'; it serves: {ALIAS}"):
        load_model("openai:no-such-model", base_url=server)
    code = main(["run", str(ROOT / "examples/ecg-mean-hr/spec.yaml"), "--model",
                 "openai:no-such-model", "--base-url", server])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and "does not serve 'no-such-model'" in err[-1]


def test_a_server_that_is_down_is_one_line_and_exit_3(tmp_path, capsys) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    code = main(["run", str(ROOT / "examples/ecg-mean-hr/spec.yaml"), "--model",
                 "openai:any", "--base-url", down, "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3, err
    assert err[-1].startswith(f"error: no OpenAI-compatible server answers at {down}/v1")


@pytest.mark.parametrize(("args", "says"), [
    (["--model", "openai:any"], "needs --base-url URL (or $GPIOT_BASE_URL)"),
    (["--model", "openai:any", "--base-url", "localhost:8080"], "expected http://HOST:PORT"),
    (["--base-url", "http://127.0.0.1:8080"], "--base-url is for --model openai:NAME"),
])
def test_what_is_missing_or_wrong_is_exit_2(args, says, tmp_path, capsys, monkeypatch) -> None:
    for var in ("GPIOT_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    code = main(["run", str(ROOT / "examples/ecg-mean-hr/spec.yaml"), *args,
                 "--runs-dir", str(tmp_path)])
    assert code == 2 and says in capsys.readouterr().err


def test_the_url_comes_from_the_environment(monkeypatch) -> None:
    from agent.models.openai_compat import base_url

    monkeypatch.setenv("OPENAI_BASE_URL", "http://a:1/v1")
    assert base_url(None) == "http://a:1/v1"
    monkeypatch.setenv("GPIOT_BASE_URL", "http://b:2")
    assert base_url(None) == "http://b:2/v1" and base_url("http://c:3/api/") == "http://c:3/api"
    with pytest.raises(BadInputError):
        load_model("openai:any", adapter=os.devnull)
