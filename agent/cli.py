"""The `gpiot` / `python -m agent` command line.

Exit codes (agent.errors): 0 all pass, 1 some case fails, 2 bad input, 3 infrastructure,
130 Ctrl-C, 143 SIGTERM.
Every error is one line on stderr saying what and where, and for 3, how to fix it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from agent.errors import (
    EXIT_FAIL,
    EXIT_INFRA,
    EXIT_OK,
    BadInputError,
    GpiotError,
    exit_code_of,
    interrupt_exit_code,
)
from sandboxes import BACKENDS, DEFAULT_BACKEND, profiles


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2 (bad input)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise BadInputError(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="gpiot", description="Local SLMs that write IoT programs, proven on "
                                          "recorded traces in a sandbox.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="judge a solution against a spec (all cases, hidden too)")
    c.add_argument("spec", type=Path, help="spec file, or a directory of specs")
    c.add_argument("solution", type=Path, nargs="?", help="solution .py (for one spec)")
    c.add_argument("--solutions", type=Path, help="directory of <spec id>.py (for a spec dir)")
    c.add_argument("--json", type=Path, help="write the full results as JSON here")
    c.add_argument("--junit", type=Path, help="write JUnit XML here (for CI)")
    c.add_argument("--sandbox", default=DEFAULT_BACKEND, choices=BACKENDS,
                   help="docker-warm: fork-server, ms per case; docker-cold: a container per "
                        "case; bwrap: bubblewrap, weaker isolation, for hosts without Docker")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("sandbox", help="build, diagnose or clean the Docker sandbox")
    ssub = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    b = ssub.add_parser("build", help="build the sandbox image (air-gapped: debootstrap)")
    b.add_argument("--method", choices=["auto", "debootstrap", "dockerfile"], default="auto")
    b.add_argument("--force", action="store_true", help="rebuild even if up to date")
    b.add_argument("--bwrap", action="store_true",
                   help="also make the root filesystem the bwrap backend uses (exported from "
                        "the image; debootstrapped where there is no Docker)")
    b.add_argument("--environment", choices=[*profiles.NAMES, "all"], default=profiles.DEFAULT,
                   help="which profile's image: minimal (numpy, scipy; the default), "
                        "scientific (also scikit-learn, pandas, NeuroKit2), or all")
    b.set_defaults(func=cmd_sandbox_build)
    ssub.add_parser("doctor", help="say what is missing and how to fix it").set_defaults(
        func=cmd_sandbox_doctor)
    ssub.add_parser("clean", help="remove gpiot's leftover containers").set_defaults(
        func=cmd_sandbox_clean)
    _register_more(sub)
    return p


def _register_more(sub: argparse._SubParsersAction) -> None:
    """Subcommands defined beside their code (models, run, bench)."""
    from agent import bench, experience, run, scaffold
    from agent.models import cli as models_cli

    run.register(sub)
    scaffold.register(sub)
    models_cli.register(sub)
    bench.register(sub)
    experience.register(sub)
    __import__("finetune.cli").cli.register(sub)


def _dispatch(args: argparse.Namespace) -> int:
    return args.func(args)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    try:
        return exit_code_of(lambda: _dispatch(build_parser().parse_args(argv)))
    except KeyboardInterrupt as exc:
        print("interrupted", file=sys.stderr)
        return interrupt_exit_code(exc)


def _pairs(args: argparse.Namespace) -> list[tuple[Path, Path | None]]:
    """(spec file, solution file or None when missing) for a spec or a spec directory."""
    if not args.spec.exists():
        raise BadInputError(f"check: {args.spec}: no such file or directory")
    if args.spec.is_file():
        if args.solutions is not None:
            raise BadInputError("check: --solutions goes with a directory of specs; "
                                "for one spec give the solution file")
        if args.solution is None:
            raise BadInputError(f"check: give the solution file to judge against {args.spec}")
        if not args.solution.is_file():
            raise BadInputError(f"check: {args.solution}: no such solution file")
        return [(args.spec, args.solution)]
    if args.solution is not None or args.solutions is None:
        raise BadInputError(f"check: {args.spec} is a directory: give --solutions DIR "
                            "holding <spec id>.py files")
    if not args.solutions.is_dir():
        raise BadInputError(f"check: --solutions {args.solutions}: no such directory")
    specs = sorted(p for ext in ("*.yaml", "*.yml") for p in args.spec.rglob(ext))
    if not specs:
        raise BadInputError(f"check: no spec files (*.yaml) under {args.spec}")
    return [(p, None) for p in specs]


def cmd_check(args: argparse.Namespace) -> int:
    from agent.checker import SpecResult, case_line, check_solution, write_json, write_junit
    from agent.spec import load_spec
    from sandboxes import SandboxPool
    from sandboxes.base import new_run_id

    pairs = _pairs(args)
    specs = [load_spec(p) for p, _ in pairs]  # every spec validated before anything runs
    ids: dict[str, Path] = {}
    for spec in specs:
        if spec.id in ids:
            raise BadInputError(f"check: spec id {spec.id!r} is used by both {ids[spec.id]} "
                                f"and {spec.path}")
        ids[spec.id] = spec.path
    pool = SandboxPool(args.sandbox)
    pool.get(specs[0].environment)  # Docker and the image are checked before any spec runs
    run_id = new_run_id()
    results: list[SpecResult] = []
    try:
        for spec, (_, solution) in zip(specs, pairs, strict=True):
            if solution is None:
                solution = args.solutions / f"{spec.id}.py"
            print(f"{spec.id} ({spec.path}) <- {solution}")
            sandbox = pool.get(spec.environment)
            if not solution.is_file():
                result = SpecResult(spec.id, str(spec.path), str(solution), [],
                                    sandbox.describe(), error=f"no solution file {solution}")
            else:
                result = check_solution(spec, solution, sandbox, run_id=run_id,
                                        on_case=lambda r: print(case_line(r), flush=True))
            print(result.verdict(), flush=True)
            results.append(result)
    finally:
        pool.close()
    if len(results) > 1:
        n = sum(r.passed for r in results)
        print(f"verdict: {n}/{len(results)} specs pass")
    if args.json:
        write_json(args.json, results)
    if args.junit:
        write_junit(args.junit, results)
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAIL


def cmd_sandbox_build(args: argparse.Namespace) -> int:
    from sandboxes import docker_sandbox, image

    names = profiles.NAMES if args.environment == "all" else (args.environment,)
    if args.bwrap:
        from sandboxes.bwrap import build_rootfs

        try:
            client = docker_sandbox.connect()
        except GpiotError:
            client = None  # no Docker: bwrap's root filesystem is debootstrapped directly
        for name in names:
            if client is not None:
                image.build(client, method=args.method, force=args.force, profile=name)
            build_rootfs(profile=name)
        return EXIT_OK
    client = docker_sandbox.connect()
    for name in names:
        image.build(client, method=args.method, force=args.force, profile=name)
    return EXIT_OK


def cmd_sandbox_doctor(args: argparse.Namespace) -> int:
    from sandboxes.doctor import diagnose

    findings = diagnose()
    for f in findings:
        fix = "" if f.ok else f"\n         fix: {f.fix}"
        print(f"{'ok     ' if f.ok else 'MISSING'}  {f.what}{fix}")
    if all(f.ok for f in findings):
        print("the sandbox is ready")
        return EXIT_OK
    return EXIT_INFRA


def cmd_sandbox_clean(args: argparse.Namespace) -> int:
    from sandboxes import docker_sandbox
    from sandboxes.base import stale_scratch

    client = docker_sandbox.connect()
    gone = docker_sandbox.leftovers(client, only_dead_owners=True)
    for c in gone:
        c.remove(force=True)
    scratch = stale_scratch()
    for d in scratch:
        shutil.rmtree(d, ignore_errors=True)
    print(f"removed {len(gone)} leftover gpiot container(s) and {len(scratch)} scratch "
          "folder(s) of dead gpiot processes")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
