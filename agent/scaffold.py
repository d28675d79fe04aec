"""`gpiot new ID --trace FILE --function NAME`: a spec (docs/spec-v1.md) from a user's own
recording, so a task starts from real data rather than from a blank YAML file.

It reads the recording, names its columns, picks the signal column, infers the sampling rate
from a time column, copies the data into ID/traces/ and writes ID/spec.yaml with one case on
it. What only the user knows (the task in words, the expected output) is left as `todo:`
placeholders, which the spec loader refuses with one line naming each one, so an unfilled
scaffold can never be judged or run by mistake. Nothing that exists is ever overwritten.
"""

from __future__ import annotations

import argparse
import csv
import json
import keyword
import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from agent.errors import EXIT_OK, BadInputError
from agent.spec import ID_RE

# A time column is one whose name, split into words, is all time words: time, t_ms,
# "Time (s)", timestamp_ms, millis, seconds. A unit word in it says the unit.
UNIT_WORDS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "ms": "ms", "msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms",
    "milliseconds": "ms",
    "us": "us", "usec": "us", "micros": "us", "microsecond": "us", "microseconds": "us",
    "ns": "ns", "nsec": "ns", "nanos": "ns", "nanosecond": "ns", "nanoseconds": "ns",
}
TIME_WORDS = {"time", "timestamp", "timestamps", "ts", "t", "date", "datetime", "elapsed",
              "clock", "utc", "epoch"}
# Words a time column's name may start with: bare "s", "us" and "ns" are too likely to name
# a signal, so they count only after a time word (t_s, time_us).
FIRST_WORDS = TIME_WORDS | (set(UNIT_WORDS) - {"s", "us", "ns"})
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
# Unix time of 1973 and later in each unit: a first value at least this big is an epoch.
EPOCH_FROM = (("ns", 1e17), ("us", 1e14), ("ms", 1e11), ("s", 1e8))
DEFAULT_CHECK = {"metric": "rel_error", "max": 0.05}
FS_ARG = "fs"


@dataclass
class Table:
    """A recording as named columns: CSV cells as text (as the spec loader reads them) or
    .npy columns as arrays. `named` is False where gpiot made the names up (col0, col1...)."""

    source: Path
    kind: str  # "csv" or "npy"
    names: list[str]
    columns: dict[str, list[str] | np.ndarray]
    named: bool = True
    verbatim: bool = True  # the loader reads the file as-is; otherwise a normalised copy
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))


def _bad(message: str) -> BadInputError:
    return BadInputError(f"new: {message}")


def read_table(path: Path) -> Table:
    """Read a .csv (header row or none; comma, semicolon or tab) or a .npy (1-D, or 2-D with
    one column per channel) into named columns; any problem is one BadInputError line."""
    if not path.is_file():
        raise _bad(f"--trace {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".npy":
        return _read_npy(path)
    raise _bad(f"--trace {path}: unsupported file type {suffix or '(none)'}; expected .csv "
               "or .npy")


def _read_csv(path: Path) -> Table:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(f"{path}: cannot read: not a UTF-8 text file") from None
    except OSError as exc:
        raise _bad(f"{path}: cannot read: {exc.strerror}") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    # the separator is the one the first line uses most; a single column has none
    delim = max((",", ";", "\t"), key=first.count) if first else ","
    all_rows = list(csv.reader(lines, delimiter=delim))
    rows = [r for r in all_rows if any(c.strip() for c in r)]
    if not rows:
        raise _bad(f"{path}: cannot read: the file is empty")
    # A header row has a cell that is neither a number nor a date (the spec loader's rule:
    # a first row of numbers is data).
    head = [c.strip() for c in rows[0]]
    named = any(c and not _is_number(c) and _to_datetime(c) is None for c in head)
    width = max(len(r) for r in rows)
    if named:
        names = _unique([c or f"col{i}" for i, c in enumerate(head + [""] * (width - len(head)))])
        body = rows[1:]
    else:
        names, body = [f"col{i}" for i in range(width)], rows
    if not body:
        raise _bad(f"{path}: cannot read: no data rows under the header")
    columns: dict[str, list[str] | np.ndarray] = {
        n: [r[i].strip() if i < len(r) else "" for r in body] for i, n in enumerate(names)}
    # Copied byte for byte only where the spec loader reads the same columns from it:
    # comma-separated, a header naming every column once, no byte-order mark, no blank rows.
    verbatim = (named and delim == "," and names == head and not raw.startswith(b"\xef\xbb\xbf")
                and len(rows) == len(all_rows))
    table = Table(path, "csv", names, columns, named=named, verbatim=verbatim)
    if not named:
        table.notes.append("no header row: columns named " + ", ".join(names))
    return table


def _read_npy(path: Path) -> Table:
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input
        raise _bad(f"{path}: cannot read: {str(exc).splitlines()[0][:160]}") from None
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "biuf":
        kind = getattr(data, "dtype", type(data).__name__)
        raise _bad(f"{path}: cannot read: expected an array of numbers, got {kind}")
    if data.ndim not in (1, 2) or data.size == 0:
        raise _bad(f"{path}: cannot read: expected a 1-D recording or a 2-D one with a column "
                   f"per channel, got shape {data.shape}")
    notes = []
    if data.ndim == 1:
        data = data[:, None]
    elif data.shape[0] < data.shape[1]:
        # a recording has more samples than channels: (channels, samples) is read transposed
        data = data.T
        notes.append(f"shape {data.T.shape} read as {data.shape[1]} channel(s) of "
                     f"{data.shape[0]} samples")
    names = [f"col{i}" for i in range(data.shape[1])]
    columns: dict[str, list[str] | np.ndarray] = {n: data[:, i] for i, n in enumerate(names)}
    # a 1-D array is the case's trace as-is; a column of a 2-D one is saved on its own,
    # because a .npy trace reference loads the whole array (docs/spec-v1.md)
    return Table(path, "npy", names, columns, named=False, verbatim=data.shape[1] == 1,
                 notes=notes)


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        m, k = n, 2
        while m in out:
            m, k = f"{n}_{k}", k + 1
        out.append(m)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _to_datetime(text: str) -> datetime | None:
    """ISO-like dates and times ("2010-01-04 00:00", "2010/01/04T00:00:00Z"), naive ones
    taken as UTC; None for anything else."""
    if not text or not text[0].isdigit() or _is_number(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z]+", name.lower())


def is_time_name(name: str) -> bool:
    """A column named like a clock: time, timestamp, t, t_ms, "Time (s)", seconds, millis."""
    words = _words(name)
    return bool(words) and words[0] in FIRST_WORDS and all(
        w in TIME_WORDS or w in UNIT_WORDS for w in words)


def unit_in_name(name: str) -> str | None:
    """The unit a time column's name states (t_ms -> ms, "Time (s)" -> s), else None."""
    for w in _words(name):
        if w in UNIT_WORDS:
            return UNIT_WORDS[w]
    return None


def _column(table: Table, wanted: str, option: str) -> str:
    """A column by name, or by 0-based position when no column has that name."""
    if wanted in table.names:
        return wanted
    if wanted.isdigit() and int(wanted) < len(table.names):
        return table.names[int(wanted)]
    raise _bad(f"{option} {wanted!r}: no such column in {table.source.name} "
               f"(columns: {', '.join(table.names)})")


def infer_rate(table: Table, column: str, unit: str | None = None) -> tuple[float, str]:
    """The sampling rate in Hz from a time column, and a line saying how it was read.

    Units: dates and times ("2010/01/04 00:00") are exact. Numbers are in the unit given
    (--time-unit), else the unit the name states (t_ms, time_s, "Time (us)"), else judged
    from the values:
    - a first value of Unix time (1973 on) in s, ms, us or ns, by its size: epoch clocks;
    - smaller values (elapsed time) with a median step of 1 or more: milliseconds, as
      microcontroller loggers write millis(); in seconds that would be 1 Hz or slower, and
      slow loggers stamp dates or Unix time, which the rules above catch;
    - elapsed time with a median step under 1: seconds (in ms it would be over 1 kHz).
    The line returned says which rule applied; --time-unit or --fs overrides it.
    Rate: 1 / the median step, which gaps in the log do not move; but where timestamps
    repeat (a clock coarser than the sampling writes several rows per tick) the median step
    means nothing, and the rate is (rows - 1) / the time spanned.
    """
    where = f"time column {column!r} of {table.source.name}"
    cells = table.columns[column]
    if table.kind == "csv":
        cells = [c for c in cells if c]  # an empty cell is a row without a time
    how: str
    if table.kind == "csv" and not all(_is_number(c) for c in cells):
        stamps = [_to_datetime(c) for c in cells]
        bad = next((i for i, s in enumerate(stamps) if s is None), None)
        if bad is not None:
            raise _bad(f"{where}: {cells[bad]!r} is neither a number nor a date; give the rate "
                       "with --fs HZ")
        t = np.array([s.timestamp() for s in stamps if s is not None])
        how = "dates and times"
    else:
        t = np.asarray([float(c) for c in cells] if table.kind == "csv" else cells, dtype=float)
        t = t[~np.isnan(t)]
        if len(t) < 2:
            raise _bad(f"{where}: fewer than two times; give the rate with --fs HZ")
        steps = np.diff(t)
        if unit is not None:
            how = f"{UNIT_NAMES[unit]}, as --time-unit says"
        elif (named_unit := unit_in_name(column)) is not None:
            unit, how = named_unit, f"{UNIT_NAMES[named_unit]}, from the column name"
        elif (epoch := next((u for u, low in EPOCH_FROM if abs(t[0]) >= low), None)):
            unit, how = epoch, f"Unix time in {UNIT_NAMES[epoch]}, from the size of the values"
        elif np.median(steps) >= 1:
            unit, how = "ms", "taken as milliseconds: elapsed time stepping by 1 or more"
        else:
            unit, how = "s", "taken as seconds: elapsed time stepping by less than 1"
        t = t * UNITS[unit]
    if len(t) < 2:
        raise _bad(f"{where}: fewer than two times; give the rate with --fs HZ")
    steps = np.diff(t)
    if np.any(steps < 0):
        i = int(np.argmax(steps < 0))
        raise _bad(f"{where}: times go backwards after row {i + 1}; sort the file or give the "
                   "rate with --fs HZ")
    if t[-1] <= t[0]:
        raise _bad(f"{where}: every time is the same; give the rate with --fs HZ")
    if np.any(steps == 0):
        fs = (len(t) - 1) / (t[-1] - t[0])
        rule = f"timestamps repeat, so rows / time spanned ({_duration(t[-1] - t[0])})"
    else:
        fs = 1.0 / float(np.median(steps))
        rule = f"median step {_duration(float(np.median(steps)))}"
    fs = float(f"{fs:.6g}")
    return fs, f"{fs:g} Hz from {where} ({how}; {rule})"


def _duration(seconds: float) -> str:
    for unit in ("s", "ms", "us"):
        if seconds >= UNITS[unit]:
            return f"{seconds / UNITS[unit]:.6g} {unit}"
    return f"{seconds / UNITS['ns']:.6g} ns"


def _numeric(table: Table, name: str) -> bool:
    cells = table.columns[name]
    return table.kind == "npy" or (all(_is_number(c) for c in cells if c) and any(cells))


def pick_signal(table: Table, column: str | None, time_columns: list[str]) -> str:
    """--column, else the only numeric column that is not a time column."""
    if column is not None:
        name = _column(table, column, "--column")
    else:
        candidates = [n for n in table.names if n not in time_columns and _numeric(table, n)]
        if len(candidates) != 1:
            why = "no numeric signal column" if not candidates else "several signal columns"
            raise _bad(f"{table.source.name} has {why}; pick one with --column "
                       f"(columns: {', '.join(table.names)})")
        name = candidates[0]
    if not _numeric(table, name):
        sample = next(c for c in table.columns[name] if c and not _is_number(c))
        raise _bad(f"column {name!r} of {table.source.name} is not numeric ({sample!r}); pick "
                   f"a signal column with --column (columns: {', '.join(table.names)})")
    if name in time_columns:
        raise _bad(f"column {name!r} is the time column; pick the signal with --column "
                   f"(columns: {', '.join(table.names)})")
    return name


def arg_name(column: str, named: bool) -> str:
    """The signal argument's name: the column's name as a Python identifier (ppg, ecg,
    temp_max), or `signal` where the column had no name of its own."""
    name = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_") if named else ""
    if not name or name[0].isdigit() or name == FS_ARG:
        return "signal"
    return f"{name}_" if keyword.iskeyword(name) else name


def _q(text: str) -> str:
    """A YAML scalar: JSON strings are valid double-quoted YAML."""
    return json.dumps(text, ensure_ascii=False)


def _float(x: float) -> str:
    """A float YAML reads back as a float: PyYAML (YAML 1.1) takes 1e-05 for a string, so
    the mantissa gets its point (1.0e-05)."""
    text = repr(float(x))
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def render_spec(spec_id: str, function: str, signal: str, trace_ref: dict[str, str],
                fs: float, case: str, source: str, how: str, described: str) -> str:
    """The spec text: written by hand rather than dumped, so the comments that say what to
    fill in survive."""
    ref = ", ".join(f"{k}: {_q(v)}" for k, v in trace_ref.items())
    todo_req = (f"say in your own words what {function} should compute from the recording "
                "and return, with units; the model reads this text as-is")
    todo_expect = (f"what {function} should return for this recording, written as "
                   "expect: {value: ...}")
    return f"""\
# Scaffolded by `gpiot new` from {source}.
# Fill in every `todo:` below: the spec loader refuses this file, one line naming each,
# until none is left. Then judge a program: gpiot check {spec_id}/spec.yaml SOLUTION.py
# or let the model write one: gpiot run {spec_id}/spec.yaml  (format: docs/spec-v1.md)
# fs: {how}
id: {spec_id}
title: {_q(f"{function} from {signal}")}
requirement: {{todo: {_q(todo_req)}}}
function:
  name: {function}
  args:
  - {{name: {signal}, type: ndarray, description: {_q(described)}}}
  - {{name: {FS_ARG}, type: float, description: "sampling rate in Hz"}}
  # what {function} returns: float, int, bool, str, list or dict; add a description
  returns: {{type: float}}
cases:
- name: {_q(case)}
  hidden: false
  args:
    {signal}: {{{ref}}}
    {FS_ARG}: {_float(fs)}
  expect: {{todo: {_q(todo_expect)}}}
  # how close counts as right (here within 5 %); every metric: docs/spec-v1.md, Checks
  check: {{metric: {DEFAULT_CHECK['metric']}, max: {DEFAULT_CHECK['max']}}}
"""


def scaffold(spec_id: str, trace: Path, function: str, *, column: str | None = None,
             fs: float | None = None, time_column: str | None = None,
             time_unit: str | None = None, parent: Path = Path("."),
             log: Callable[[str], None] = print) -> Path:
    """Write parent/spec_id/spec.yaml and its trace; return the spec's path. Everything is
    read and checked before the directory is made, and a directory that exists is refused:
    what a user made is never overwritten."""
    if not ID_RE.match(spec_id):
        raise _bad(f"ID {spec_id!r} must match [a-z0-9][a-z0-9-]* (it is the spec id and "
                   "the directory name)")
    if not function.isidentifier() or keyword.iskeyword(function):
        raise _bad(f"--function {function!r} is not a Python identifier")
    if fs is not None and not (math.isfinite(fs) and fs > 0):
        raise _bad(f"--fs {fs:g}: expected a positive sampling rate in Hz")
    if not parent.is_dir():
        raise _bad(f"--dir {parent}: no such directory")
    target = parent / spec_id
    if target.exists() or target.is_symlink():
        raise _bad(f"{target} already exists; gpiot new never overwrites: choose another ID "
                   "or remove it yourself")

    table = read_table(trace)
    if time_column is not None:
        times = [_column(table, time_column, "--time-column")]
    else:
        times = [n for n in table.names if table.named and is_time_name(n)]
    signal_col = pick_signal(table, column, times)
    if fs is not None:
        fs, how = float(fs), f"{fs:g} Hz, as --fs says"
    elif times:
        fs, how = infer_rate(table, times[0], time_unit)
    else:
        raise _bad(f"{table.source.name} has no time column to infer the sampling rate from "
                   f"(columns: {', '.join(table.names)}); give it with --fs HZ, or name the "
                   "time column with --time-column")
    signal = arg_name(signal_col, table.named)
    trace_name = trace.name
    if table.kind == "npy" and not table.verbatim:
        trace_name = f"{trace.stem}-{signal_col}.npy"
    trace_ref = {"trace": f"traces/{trace_name}"}
    if table.kind == "csv":
        trace_ref["column"] = signal_col
    what = f"column {signal_col!r}" if len(table.names) > 1 else "its only column"
    source = f"{trace.resolve()}, {what}"

    for note in table.notes:
        log(f"{trace.name}: {note}")
    log(f"read {trace.name}: {table.rows} rows, columns {', '.join(table.names)}")
    log(f"signal: {what} -> argument {signal}")
    log(f"sampling rate: {how}")
    try:
        target.mkdir()  # exclusive: loses to anything made since the check above
    except FileExistsError:
        raise _bad(f"{target} already exists; gpiot new never overwrites") from None
    try:
        (target / "traces").mkdir()
        _write_trace(table, signal_col, target / "traces" / trace_name)
        described = (f"recorded {signal_col} samples, in time order" if table.named
                     else "recorded samples, in time order")
        text = render_spec(spec_id, function, signal, trace_ref, fs, trace.stem, source, how,
                           described)
        (target / "spec.yaml").write_text(text, encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)  # ours: made just above
        raise _bad(f"cannot write {target}: {exc.strerror or exc}") from None
    spec = target / "spec.yaml"
    log(f"wrote {spec} and {target / 'traces' / trace_name}")
    log(f"next: fill in requirement and expect (marked todo:) in {spec}, then "
        f"gpiot check {spec} SOLUTION.py  or  gpiot run {spec}")
    return spec


def _write_trace(table: Table, column: str, dest: Path) -> None:
    """The user's file as-is where the loader reads it so; else the data it needs."""
    if table.verbatim:
        shutil.copyfile(table.source, dest)
    elif table.kind == "npy":
        np.save(dest, np.ascontiguousarray(table.columns[column]))
    else:  # a CSV the loader cannot read as-is: comma-separated, with a header row
        with dest.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(table.names)
            cols = [table.columns[n] for n in table.names]
            out.writerows(zip(*cols, strict=True))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `new` subcommand."""
    n = sub.add_parser("new", help="scaffold a spec from your own recording (.csv or .npy)")
    n.add_argument("id", metavar="ID", help="spec id and the directory to create")
    n.add_argument("--trace", type=Path, required=True, metavar="FILE",
                   help=".csv (header row or none) or .npy (1-D, or 2-D with one column "
                        "per channel)")
    n.add_argument("--function", required=True, metavar="NAME",
                   help="name of the function the program must define")
    n.add_argument("--column", metavar="C",
                   help="the signal column, by name or 0-based position (default: the only "
                        "numeric column that is not a time column)")
    n.add_argument("--fs", type=float, metavar="HZ",
                   help="sampling rate in Hz (default: inferred from a time column)")
    n.add_argument("--time-column", metavar="C",
                   help="the time column, where its name is not like time/t/timestamp/t_ms")
    n.add_argument("--time-unit", choices=sorted(UNITS),
                   help="unit of a numeric time column (default: from its name, else judged "
                        "from its values)")
    n.add_argument("--dir", type=Path, default=Path("."), help="where to create ID/ "
                                                               "(default: here)")
    n.set_defaults(func=cmd_new)


def cmd_new(args: argparse.Namespace) -> int:
    scaffold(args.id, args.trace, args.function, column=args.column, fs=args.fs,
             time_column=args.time_column, time_unit=args.time_unit, parent=args.dir)
    return EXIT_OK
