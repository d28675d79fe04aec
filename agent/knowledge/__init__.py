"""Verified IoT recipes ("cards") retrieved selectively into draft and repair prompts.

Why selective: a fixed block of generic idioms in every prompt made the small models worse
(they band-pass filtered beat intervals because a filter recipe was in view). So each card is
short, says when it does NOT apply, and `search` returns only the few cards whose BM25 score
clears a floor -- often none. Every card carries a self-test (run in the real sandbox by
tests/test_knowledge.py), so what the model is shown is known to be correct.

Card file format (``cards/<id>.md``)::

    ---
    id: moving-mean-std
    title: ...
    tags: comma, separated, keywords
    when: when it applies. NOT when it does not apply.
    ---
    2-4 lines of guidance
    ```python
    <snippet defining a helper, <= 15 lines>
    ```
    ```python test
    <assertions using the helper>
    ```
"""

from __future__ import annotations

import ast
import io
import math
import re
import textwrap
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from tokenize import NAME, generate_tokens

from sandboxes import profiles

CARDS_DIR = Path(__file__).resolve().parent / "cards"
MAX_SNIPPET_LINES = 15
# Ends the linked helpers in a program (kb.link): what is above it is verified card code.
VERIFIED_MARK = "# --- verified helpers above (gpiot knowledge cards); the task's code below ---"
# The module the controller's fresh draft is told the shown helpers come from: a small model
# imports and calls a library function, where told "already defined in your module" it wrote
# its own versions of every helper until the reply ran out of tokens. No such module exists:
# kb.link drops the import and puts the verified code in front.
HELPER_MODULE = "iot_helpers"

__all__ = ["CARDS_DIR", "HELPER_MODULE", "VERIFIED_MARK", "Card", "card_tests", "find_helper",
           "for_entry", "helper_calls", "helpers", "link", "load_cards", "render",
           "render_helpers", "score", "search", "tokenize", "verified_lines"]


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    when: str  # one line: when it applies, then "NOT ..." when it does not
    tags: tuple[str, ...]
    body: str  # the guidance lines
    code: str  # the snippet shown to the model
    test: str = ""  # assertion-based self-test, run after `code` (never shown)
    path: Path | None = None
    # The sandbox profile whose libraries the snippet imports (front matter `environment:`,
    # default minimal): offered only to runs whose image holds them, tested in that image.
    environment: str = profiles.DEFAULT

    @property
    def when_not(self) -> str:
        """The part of `when` after NOT: query terms found only here count against the card."""
        parts = re.split(r"\bNOT\b", self.when, maxsplit=1)
        return parts[1] if len(parts) > 1 else ""

    @property
    def when_applies(self) -> str:
        return re.split(r"\bNOT\b", self.when, maxsplit=1)[0]


_FENCE = re.compile(r"```python( test)?\n(.*?)```", re.S)


def parse_card(text: str, path: Path | None = None) -> Card:
    """One card from its markdown; ValueError names the file and what is wrong."""
    where = path.name if path else "<card>"
    m = re.match(r"---\n(.*?)\n---\n(.*)\Z", text, re.S)
    if not m:
        raise ValueError(f"{where}: expected front matter between --- lines")
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{where}: front matter line {line!r} is not 'key: value'")
        meta[key.strip()] = value.strip()
    for key in ("id", "title", "tags", "when"):
        if not meta.get(key):
            raise ValueError(f"{where}: front matter lacks {key!r}")
    rest = m.group(2)
    blocks = {bool(b.group(1)): b.group(2) for b in _FENCE.finditer(rest)}
    if False not in blocks:
        raise ValueError(f"{where}: no ```python snippet")
    body = _FENCE.sub("", rest).strip()
    if "```" in body:
        raise ValueError(f"{where}: unclosed or unknown ``` block")
    tags = tuple(t.strip() for t in meta["tags"].split(",") if t.strip())
    environment = meta.get("environment", profiles.DEFAULT)
    if environment not in profiles.NAMES:
        raise ValueError(f"{where}: environment {environment!r} is not one of "
                         + ", ".join(profiles.NAMES))
    return Card(meta["id"], meta["title"], meta["when"], tags, body,
                blocks[False].strip("\n"), blocks.get(True, "").strip("\n"), path, environment)


@lru_cache(maxsize=1)
def _load(directory: str) -> tuple[Card, ...]:
    files = sorted(Path(directory).glob("*.md"))
    return tuple(parse_card(f.read_text(encoding="utf-8"), f) for f in files)


def load_cards(directory: Path = CARDS_DIR) -> list[Card]:
    """All cards, parsed once per process (sorted by file name)."""
    return list(_load(str(directory)))


# --- retrieval: BM25 over title + tags + when + body + code identifiers ----------------------

_STOP = frozenset("""
a an and are as at be by can do does each for from given has have how i if in into is it its
my of on or return returns returned that the their then there these this those to use used
using value values was we what when which will with without you your per as array arrays
function float int list number numbers compute computes computed np numpy def x y self none
true false import must should only one all any every also not no so than out get make to
""".split())


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lowercase words; identifiers also split on _ and . (find_peaks -> find_peaks, find,
    peak); light plural stemming; stop words dropped."""
    out: list[str] = []
    for raw in re.findall(r"[a-z0-9_]+", text.lower()):
        parts = [raw] + ([p for p in raw.split("_") if p] if "_" in raw else [])
        for p in parts:
            if p not in _STOP and not p.isdigit():
                out.append(_stem(p))
    return out


def _doc_tokens(card: Card) -> list[str]:
    # Title and tags count twice: they are written to be what a task mentions.
    tags = " ".join(card.tags)
    idents = " ".join(re.findall(r"(?:np|signal|scipy)\.[\w.]+|def \w+", card.code))
    return tokenize(" ".join([card.title, card.title, tags, tags, card.when_applies,
                              card.body, idents]))


@dataclass
class _Index:
    cards: list[Card]
    docs: list[Counter]
    lengths: list[int]
    avg_len: float
    df: Counter
    negatives: list[set[str]]

    def idf(self, term: str) -> float:
        n = len(self.docs)
        return math.log(1.0 + (n - self.df[term] + 0.5) / (self.df[term] + 0.5))


@lru_cache(maxsize=8)
def _index(directory: str, environment: str = profiles.DEFAULT) -> _Index:
    # Only the cards the environment can run, also in the statistics: a minimal run ranks
    # exactly as before scientific cards existed.
    cards = [c for c in _load(directory) if profiles.provides(environment, c.environment)]
    docs = [Counter(_doc_tokens(c)) for c in cards]
    lengths = [sum(d.values()) for d in docs]
    df: Counter = Counter()
    for d in docs:
        df.update(d.keys())
    negatives = [set(tokenize(c.when_not)) for c in cards]
    return _Index(cards, docs, lengths, sum(lengths) / max(1, len(lengths)), df, negatives)


def score(query: str, directory: Path = CARDS_DIR, k1: float = 1.2,
          b: float = 0.75, environment: str | None = None) -> list[tuple[Card, float]]:
    """Every card `environment` can run with its BM25 score for `query`, best first. Query
    terms that appear in a card's NOT clause (and not in the card itself) subtract their IDF:
    the card said it does not apply to such tasks."""
    ix = _index(str(directory), profiles.get(environment).name)
    terms = set(tokenize(query))  # a term repeated in a long requirement counts once
    scored = []
    for card, doc, length, neg in zip(ix.cards, ix.docs, ix.lengths, ix.negatives, strict=True):
        s = 0.0
        for t in terms:
            tf = doc.get(t, 0)
            if tf:
                s += ix.idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / ix.avg_len))
            elif t in neg:
                s -= ix.idf(t)
        scored.append((card, s))
    scored.sort(key=lambda cs: (-cs[1], cs[0].id))
    return scored


MIN_SCORE = 5.0  # below it a card is unrelated to the query


def search(query: str, k: int = 3, min_score: float = MIN_SCORE, rel_floor: float = 0.4,
           directory: Path = CARDS_DIR, environment: str | None = None) -> list[Card]:
    """At most k cards relevant to `query`: above an absolute floor (so an unrelated task gets
    none) and within `rel_floor` of the best (so a weak runner-up does not ride along); only
    cards whose libraries `environment`'s image holds."""
    ranked = score(query, directory, environment=environment)
    if not ranked or ranked[0][1] < min_score:
        return []
    top = ranked[0][1]
    return [c for c, s in ranked[:k] if s >= min_score and s >= rel_floor * top]


def render(cards: list[Card], with_code: bool = True) -> str:
    """The prompt block for retrieved cards ('' when none): short, and explicitly optional.
    Without code it is guidance only: a small model tends to paste a helper whole (name,
    arguments, return type) where only its idea applies."""
    if not cards:
        return ""
    parts = ["Optional reference notes (verified helpers). Use one only if it fits this task "
             "exactly; otherwise ignore them. Follow the task's own definitions and units."]
    for c in cards:
        code = f"\n```python\n{c.code}\n```" if with_code else ""
        parts.append(f"## {c.title}\nApplies: {c.when}\n{c.body}{code}")
    return "\n\n".join(parts) + "\n"


def helpers(card: Card) -> set[str]:
    """The functions a card's snippet defines (the same AST walk as helper_calls, so the
    linker and the prompt agree on what a card offers)."""
    return {call.split("(", 1)[0] for call, _ in helper_calls(card)}


def helper_calls(card: Card) -> list[tuple[str, str]]:
    """(call, what it returns) per helper the card defines: `name(args)` and its docstring's
    first line."""
    calls = []
    for node in ast.parse(card.code).body:
        if isinstance(node, ast.FunctionDef):
            doc = (ast.get_docstring(node) or "").strip().splitlines()
            calls.append((f"{node.name}({ast.unparse(node.args)})", doc[0] if doc else ""))
    return calls


def for_entry(cards: list[Card], entry: str) -> list[Card]:
    """The cards as a task whose own function is called `entry` is shown them: a helper of
    that name becomes `<entry>_helper` (its definition and every use in the card's code and
    test), the others are unchanged.

    Why: the helpers' names are reserved for the verified code, so `link` drops the reply's
    definitions of them; a helper named like the task's function (a task asking for
    `duty_cycle` shown the duty-cycle card) would delete the program's own function and
    leave a module of imports."""
    new = f"{entry}_helper"
    return [replace(c, code=_rename(c.code, entry, new), test=_rename(c.test, entry, new))
            if entry in helpers(c) else c for c in cards]


def _rename(code: str, old: str, new: str) -> str:
    """`code` with every name token `old` (not strings or comments) replaced by `new`."""
    lines = code.splitlines(keepends=True)
    spots = [t.start for t in generate_tokens(io.StringIO(code).readline)
             if t.type == NAME and t.string == old]
    for row, col in reversed(spots):
        lines[row - 1] = lines[row - 1][:col] + new + lines[row - 1][col + len(old):]
    return "".join(lines)


def find_helper(name: str) -> str | None:
    """The call of the card helper called `name` (any card), or None."""
    for card in load_cards():
        for call, _ in helper_calls(card):
            if call.split("(", 1)[0] == name:
                return call
    return None


def render_helpers(cards: list[Card]) -> str:
    """The cards as a library the program can call: when each applies and one line per helper
    (its call and what it returns), no code and no how-to. Shown the code, a small model
    pastes a detector under the task's own name (so it returned beat indices, not a rate); shown the
    how-to, it writes its own versions of the helpers until its reply runs out of tokens."""
    parts = []
    for c in cards:
        calls = [f"- `{call}`" + (f": {what}" if what else "") for call, what in helper_calls(c)]
        parts.append(f"## {c.title}\nApplies: {c.when_applies.strip()}\n" + "\n".join(calls))
    return "\n\n".join(parts) + "\n" if parts else ""


def link(code: str, cards: list[Card]) -> str:
    """`code` linked against the shown cards, whose helper names are reserved for the verified
    code: the reply's own definitions of them and imports of them (also `import iot_helpers
    [as h]` with `h.name(...)` calls) are dropped, and the snippet of every card whose helper
    the program calls is put in front.

    Why: the controller's fresh draft is told the helpers come from HELPER_MODULE. Shown
    their code, a small model pastes a detector under the task's own name (so it returns
    beat indices, not a rate); shown only their calls, it writes the right composition
    (`heart_rate_bpm(qrs_envelope_peaks(ecg, fs), fs)`) and then broken versions of both
    helpers and invented imports."""
    shown = set().union(*(helpers(c) for c in cards))
    if not shown:
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines()
    edits: list[tuple[int, int, list[str]]] = []
    aliases: set[str] = set()  # names the reply gave the helper module (`import iot_helpers`)
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in shown:
            start = min([n.lineno, *(d.lineno for d in n.decorator_list)])
            edits.append((start - 1, n.end_lineno or n.lineno, []))
        elif isinstance(n, ast.ImportFrom) and any(a.name in shown for a in n.names):
            keep = [a for a in n.names if a.name not in shown]
            edits.append((n.lineno - 1, n.end_lineno or n.lineno,
                           [ast.unparse(ast.ImportFrom(n.module, keep, n.level))] if keep else []))
        elif isinstance(n, ast.Import) and any(a.name == HELPER_MODULE for a in n.names):
            keep = [a for a in n.names if a.name != HELPER_MODULE]
            aliases.update(a.asname or a.name for a in n.names if a.name == HELPER_MODULE)
            edits.append((n.lineno - 1, n.end_lineno or n.lineno,
                          [ast.unparse(ast.Import(keep))] if keep else []))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    code = "\n".join(lines).strip("\n") + "\n"
    for alias in aliases:  # `iot_helpers.window_features(x)` -> `window_features(x)`
        code = re.sub(rf"\b{re.escape(alias)}\.(?=({'|'.join(map(re.escape, shown))})\b)", "",
                      code)
    try:
        tree = ast.parse(code)
    except SyntaxError:  # a statement shared a line with a dropped one (`;`)
        return code
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    need = [c.code.strip("\n") for c in cards if helpers(c) & used]
    if not need:
        return code
    imports: dict[tuple[str, str, str | None], None] = {}  # (module, name, asname), in order
    bodies = [_take_imports(src, imports) for src in [*need, code]]
    by_module: dict[str, list[str]] = {}
    plain = []
    for module, name, asname in imports:
        alias = name + (f" as {asname}" if asname else "")
        if module:
            by_module.setdefault(module, []).append(alias)
        else:
            plain.append(f"import {alias}")
    head = plain + [f"from {m} import {', '.join(names)}" for m, names in by_module.items()]
    return "\n\n\n".join(["\n".join(head), *bodies[:-1], VERIFIED_MARK, bodies[-1]]) + "\n"


def _take_imports(code: str, into: dict[tuple[str, str, str | None], None]) -> str:
    """`code` without its top-level imports, which are added to `into` (deduplicated), so a
    linked program imports each name once, at the top (no redefinitions for ruff's F811)."""
    tree = ast.parse(code)
    lines = code.splitlines()
    for n in reversed(tree.body):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            del lines[n.lineno - 1:n.end_lineno or n.lineno]
    for n in tree.body:
        if isinstance(n, ast.Import):
            into.update({("", a.name, a.asname): None for a in n.names})
        elif isinstance(n, ast.ImportFrom):
            module = "." * n.level + (n.module or "")
            into.update({(module, a.name, a.asname): None for a in n.names})
    return "\n".join(lines).strip("\n")


def verified_lines(code: str) -> int:
    """How many leading lines of `code` are linked card code (0 when none): lint keeps its
    advice for the lines the model wrote."""
    lines = code.splitlines()
    return lines.index(VERIFIED_MARK) + 1 if VERIFIED_MARK in lines else 0


def card_tests(directory: Path = CARDS_DIR) -> list[tuple[str, str]]:
    """(card id, module source) per card: the snippet, then its self-test wrapped in
    `selftest()` which returns True or raises. Cards without a test get a trivial one that
    still imports the snippet, so a broken snippet is caught."""
    out = []
    for c in load_cards(directory):
        test = textwrap.indent(c.test or "pass", "    ")
        out.append((c.id, f"{c.code}\n\n\ndef selftest():\n{test}\n    return True\n"))
    return out
