"""`gpiot models list|pull`: see which pinned models are cached, and fetch them ahead of use.

Pulling ahead matters for CI and air-gapped runs: afterwards nothing needs a network.
Handlers return an exit code and let GpiotError propagate for the main CLI to report.
"""

from __future__ import annotations

import argparse

from agent.errors import EXIT_OK
from agent.models.fetch import cached_file, is_verified, pull
from agent.models.registry import DEFAULT_MODEL, MODELS, shipped_adapters


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `models` (with `list` and `pull`) to a subparsers object; handlers are in `func`."""
    models = subparsers.add_parser("models", help="list and pull the local code models")
    sub = models.add_subparsers(dest="models_command", metavar="{list,pull}", required=True)
    p_list = sub.add_parser("list", help="show registered models and whether they are cached")
    p_list.set_defaults(func=cmd_list)
    p_pull = sub.add_parser("pull", help="download, assemble and verify a model")
    p_pull.add_argument("name", choices=sorted(MODELS), help="registered model name")
    p_pull.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_pull.set_defaults(func=cmd_pull)
    return models


def cmd_list(args: argparse.Namespace) -> int:
    """Print one row per registered model; a cached file is re-hashed only if it changed."""
    rows = [("NAME", "SIZE", "CACHED", "LICENCE", "PATH")]
    for name, spec in MODELS.items():
        path = cached_file(name)
        if is_verified(name):
            state, shown = "verified", str(path)
        elif path.exists():
            state, shown = "corrupt", f"{path} (pull again)"
        else:
            state, shown = "no", "-"
        label = f"{name} (default)" if name == DEFAULT_MODEL else name
        rows.append((label, f"{spec.size / 1e6:.0f} MB", state, spec.licence, shown))
    _table(rows)
    adapters = shipped_adapters()
    if adapters:  # shipped with gpiot, so always present; `--adapter NAME` on their base
        print()
        _table([("ADAPTER", "BASE", "LICENCE", "PATH")]
               + [(a.name, a.base, a.licence, str(a.directory)) for a in adapters.values()])
    return EXIT_OK


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def cmd_pull(args: argparse.Namespace) -> int:
    """Fetch a model (a no-op when the verified file is already cached) and print its path."""
    path = pull(args.name, progress=not args.quiet)
    print(path)
    return EXIT_OK
