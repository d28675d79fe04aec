"""Per-execution overhead of the sandbox backends, side by side in one run.

    python benchmarks/sandbox_overhead.py [--warm-n 200] [--cold-n 30] [--batch 200]

A trivial solution on a small real trace (examples/hrv-rmssd, 5 min of NN intervals), so
what is measured is the sandbox, not the program: host wall time of `execute()` per call
(median, p90, p99, max) for the warm fork-server, the cold container and bubblewrap, then the
throughput of a batch with 2 workers (one sandbox each, in threads). The warm server recycles
its container every 200 executions, which the max column shows. Prints markdown tables for
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from sandboxes import open_sandbox
from sandboxes.base import ExecutionRequest, Limits

ROOT = Path(__file__).resolve().parent.parent
NNI = np.load(ROOT / "examples/hrv-rmssd/traces/short-5min.npy")
SOLUTION = "import numpy as np\n\ndef f(x):\n    return float(np.mean(x))\n"


def request(path: Path) -> ExecutionRequest:
    return ExecutionRequest(path, "f", {"x": NNI}, Limits(timeout_s=10, memory_mb=512),
                            run_id="bench-sandbox")


def latencies(backend: str, n: int, path: Path) -> tuple[list[float], float]:
    """n sequential executions on one sandbox; the first (server start) reported apart."""
    sb = open_sandbox(backend)
    try:
        t0 = time.perf_counter()
        first = sb.execute(request(path))
        first_s = time.perf_counter() - t0
        assert first.status == "ok", first.error
        out = []
        for _ in range(n):
            t = time.perf_counter()
            res = sb.execute(request(path))
            out.append(time.perf_counter() - t)
            assert res.status == "ok", res.error
        return out, first_s
    finally:
        sb.close()


def throughput(backend: str, total: int, workers: int, path: Path) -> float:
    """Executions per second for `total` executions shared by `workers` sandboxes."""
    sandboxes = [open_sandbox(backend) for _ in range(workers)]
    for sb in sandboxes:  # start-up outside the timed part, as in a long batch
        sb.execute(request(path))
    counter = iter(range(total))
    lock = threading.Lock()

    def work(sb) -> None:  # noqa: ANN001
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            assert sb.execute(request(path)).status == "ok"

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(sb,)) for sb in sandboxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for sb in sandboxes:
        sb.close()
    return total / elapsed


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm-n", type=int, default=200)
    ap.add_argument("--cold-n", type=int, default=30)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--cold-batch", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "solution.py"
        path.write_text(SOLUTION)
        rows = []
        for backend, n in (("docker-warm", args.warm_n), ("docker-cold", args.cold_n),
                           ("bwrap", args.cold_n)):
            lat, first = latencies(backend, n, path)
            rows.append((backend, n, first, lat))
        print("| backend | n | first call s | median ms | p90 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|---|---|")
        for backend, n, first, lat in rows:
            print(f"| {backend} | {n} | {first:.2f} | {statistics.median(lat) * 1e3:.0f} | "
                  f"{pct(lat, 90) * 1e3:.0f} | {pct(lat, 99) * 1e3:.0f} | "
                  f"{max(lat) * 1e3:.0f} |")
        warm_med = statistics.median(rows[0][3])
        cold_med = statistics.median(rows[1][3])
        print(f"\ncold/warm median ratio: {cold_med / warm_med:.1f}x")
        print("\n| backend | executions | workers | executions/s |")
        print("|---|---|---|---|")
        for backend, total in (("docker-warm", args.batch), ("docker-cold", args.cold_batch),
                               ("bwrap", args.cold_batch)):
            rate = throughput(backend, total, 2, path)
            print(f"| {backend} | {total} | 2 | {rate:.1f} |")


if __name__ == "__main__":
    main()
