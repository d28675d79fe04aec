"""The experience store: programs proven on real checks, kept to show the model a worked
example of a similar task.

Two stores, searched together: the user's own (SQLite under the user's data directory; a
`run` adds its solution after a verified solve, hidden cases included, unless --no-learn)
and a read-only one shipped with gpiot (agent/knowledge/experience.jsonl, built from the
finetune generators' sandbox-verified references by finetune/build_experience.py). An
entry holds what the draft prompt can show: the task's words, its function contract, the
trace cards of its visible inputs and the program. Never a case's expected value, never a
hidden case, never an IoTBench task (the shipped store is checked for that by a test, and
`bench` never learns, so a benchmark is not its own teacher).

Ranking is BM25 (rank-bm25) over the task words, as a similarity: an entry's score divided
by the score the query would get against itself, so one floor serves short and long
requirements. An entry is shown only above it, and never for the task it came from.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import EXIT_OK

if TYPE_CHECKING:
    from agent.spec import Spec

SHIPPED = Path(__file__).resolve().parent / "knowledge" / "experience.jsonl"
ENV_VAR = "GPIOT_EXPERIENCE"  # the user store's path, for tests, CI and several profiles
# Similarity below which an entry is not shown. Measured (BENCHMARKS.md): generator dev tasks
# score 0.40-1.03 against the shipped entries of their own family, IoTBench tasks at most 0.28.
MIN_SIMILARITY = 0.35
MAX_CODE_LINES = 60  # a worked example the prompt can afford
# BM25's word weights come from the corpus: with a handful of entries they mean nothing (a
# word in every entry gets a weight of zero or below), so a smaller pool shows nothing
MIN_POOL = 8
# runs on these never enter the user's store: a benchmark task must not become a worked
# example for another one
BENCH_PARTS = ("iotbench",)


@dataclass(frozen=True)
class Experience:
    """One proven program and the task it solved, as a prompt can show it."""

    task_id: str
    title: str
    requirement: str
    signature: str
    code: str
    source: str  # "generator:<family>" or "run:<spec path>"
    environment: str = "minimal"
    trace_cards: str = ""
    created: float = 0.0

    @property
    def text(self) -> str:
        """What similarity is measured on: the task's words and its contract."""
        return "\n".join([self.title, self.title, self.requirement, self.signature])


def learnable(spec: Spec) -> bool:
    """A solved spec may join the user's store: not a benchmark task."""
    return not any(part in BENCH_PARTS for part in Path(spec.path).resolve().parts)


def from_spec(spec: Spec, code: str, source: str, trace_cards: str = "") -> Experience:
    """An entry for `code`, proven on `spec` (its visible trace cards only)."""
    return Experience(task_id=spec.id, title=spec.title, requirement=spec.requirement.strip(),
                      signature=spec.function.signature(), code=code.strip() + "\n",
                      source=source, environment=spec.environment, trace_cards=trace_cards,
                      created=round(time.time(), 3))


def user_store_path() -> Path:
    """$GPIOT_EXPERIENCE, else $XDG_DATA_HOME/gpiot/experience.sqlite (~/.local/share)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gpiot" / "experience.sqlite"


_COLUMNS = [f.name for f in fields(Experience)]


class Store:
    """The user's store: one SQLite file, one row per (task, program)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_store_path()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction (committed, or rolled back on an error), then closed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path)
        try:
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS experience (task_id TEXT, title TEXT, "
                           "requirement TEXT, signature TEXT, code TEXT, source TEXT, "
                           "environment TEXT, trace_cards TEXT, created REAL, "
                           "UNIQUE (task_id, code))")
                yield db
        finally:
            db.close()

    def add(self, exp: Experience) -> bool:
        """Store `exp` (atomically); False when that program of that task is there already."""
        with self._connect() as db:
            cur = db.execute(f"INSERT OR IGNORE INTO experience ({', '.join(_COLUMNS)}) "
                             f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                             [getattr(exp, c) for c in _COLUMNS])
            return cur.rowcount == 1

    def all(self) -> list[Experience]:
        if not self.path.exists():
            return []
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM experience "
                              "ORDER BY created").fetchall()
        return [Experience(*row) for row in rows]

    def clear(self) -> int:
        """Delete every entry; the number deleted."""
        if not self.path.exists():
            return 0
        with self._connect() as db:
            return db.execute("DELETE FROM experience").rowcount


def read_jsonl(path: Path) -> list[Experience]:
    if not path.exists():
        return []
    return [Experience(**json.loads(line)) for line in path.read_text().splitlines()
            if line.strip()]


def write_jsonl(path: Path, entries: Iterable[Experience]) -> None:
    """The shipped store's format: one JSON object per line, sorted keys (reviewable)."""
    text = "".join(json.dumps(asdict(e), sort_keys=True) + "\n" for e in entries)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def search(query: str, entries: list[Experience], *, k: int = 1,
           min_similarity: float = MIN_SIMILARITY, environment: str | None = None,
           exclude_task: str | None = None) -> list[tuple[Experience, float]]:
    """The k entries most similar to `query` (at least `min_similarity`), best first: only
    programs `environment`'s image can run, never one of the task `exclude_task` itself."""
    from rank_bm25 import BM25Okapi

    from agent.knowledge import tokenize
    from sandboxes import profiles

    offered = set(profiles.get(environment).offered)
    pool = [e for e in entries if e.task_id != exclude_task
            and set(profiles.get(e.environment).offered) <= offered]
    words = tokenize(query)
    if len(pool) < MIN_POOL or not words:
        return []
    # the query is a document of the corpus too: its own score is the scale of a perfect match
    scores = BM25Okapi([*(tokenize(e.text) for e in pool), words]).get_scores(words)
    scale = float(scores[-1])
    if scale <= 0:
        return []
    ranked = sorted(((e, float(s) / scale) for e, s in zip(pool, scores[:-1], strict=True)),
                    key=lambda pair: -pair[1])
    return [(e, s) for e, s in ranked[:k] if s >= min_similarity]


def recall(spec: Spec, *, k: int = 1, min_similarity: float = MIN_SIMILARITY,
           store: Store | None = None, shipped: Path | None = None, own: bool = True
           ) -> list[tuple[Experience, float]]:
    """The nearest proven programs for `spec` from the shipped store (SHIPPED) and, with
    `own`, the user's (a bench reads only the shipped one: its results must not depend on
    what a user solved before)."""
    entries = read_jsonl(shipped or SHIPPED) + ((store or Store()).all() if own else [])
    return search("\n".join([spec.title, spec.requirement, spec.function.signature()]),
                  entries, k=k, min_similarity=min_similarity, environment=spec.environment,
                  exclude_task=spec.id)


def render(found: list[tuple[Experience, float]]) -> str:
    """The draft prompt's block ('' when nothing is close enough)."""
    import prompts

    if not found:
        return ""
    blocks = []
    for exp, _score in found:
        code = "\n".join(exp.code.splitlines()[:MAX_CODE_LINES])
        blocks.append(prompts.render("experience", title=exp.title,
                                     requirement=exp.requirement.strip(),
                                     signature=exp.signature, code=code.rstrip()))
    return "".join(blocks)


# --- `gpiot experience ...` ------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experience", help="list, locate or clear the store of proven programs")
    p.add_argument("action", choices=("list", "path", "clear"))
    p.set_defaults(func=cmd_experience)


def cmd_experience(args: argparse.Namespace) -> int:
    store = Store()
    if args.action == "path":
        print(store.path)
    elif args.action == "clear":
        print(f"removed {store.clear()} entr(y/ies) from {store.path}")
    else:
        own = store.all()
        for e in own:
            day = time.strftime("%Y-%m-%d", time.gmtime(e.created))
            print(f"{e.task_id:<30} {e.source:<40} {day}")
        print(f"{len(own)} in {store.path}; {len(read_jsonl(SHIPPED))} shipped ({SHIPPED})")
    return EXIT_OK
