"""Build the experience store shipped with gpiot (agent/knowledge/experience.jsonl) from the
generator families' reference programs: each one run in the sandbox on every case of its
variant (hidden included) and kept only when it passes all of them, and only when neither
its program nor its requirement overlaps an IoTBench or examples/ reference
(finetune/decontaminate.py, the training data's threshold).

    python -m finetune.build_experience [--per-generator 2] [--seed 0]
        [--out agent/knowledge/experience.jsonl] [--sandbox docker-warm]

What an entry holds is what a draft prompt may show (agent/experience.py): the task's words,
its contract, the trace cards of its visible cases and the program; never an expected value
or a hidden case. Exit codes: 0 written, 2 bad arguments, 3 no sandbox.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from agent import experience
from agent.errors import EXIT_BAD_INPUT, exit_code_of
from agent.nodes.understand import trace_cards
from finetune import decontaminate
from finetune.data.pipeline import run_program
from finetune.generators import DEV_SEED_BASE, GENERATORS


def build(per_generator: int, seed: int, sandbox_name: str,
          log=print) -> list[experience.Experience]:  # noqa: ANN001 - a print-like callable
    """The verified, decontaminated entries, generator by generator."""
    from sandboxes import open_sandbox

    refs = decontaminate.references()
    entries = []
    sandbox = open_sandbox(sandbox_name)
    try:
        with tempfile.TemporaryDirectory(prefix="gpiot-exp-") as tmp:
            for name in sorted(GENERATORS):
                for index in range(per_generator):
                    task = GENERATORS[name].make(seed, index, Path(tmp))
                    code = task.draft.reference
                    result = run_program(task, code, sandbox)
                    code_v, where_c = decontaminate.code_overlap(code, refs["code"])
                    text_v, where_t = decontaminate.text_overlap(task.spec.requirement,
                                                                 refs["text"])
                    if not result.passed:
                        log(f"{task.task_id}: reference fails, dropped")
                    elif max(code_v, text_v) > decontaminate.THRESHOLD:
                        log(f"{task.task_id}: overlaps {where_c or where_t}, dropped")
                    else:
                        entries.append(experience.from_spec(
                            task.spec, code, f"generator:{name}", trace_cards(task.spec)))
    finally:
        sandbox.close()
    return entries


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m finetune.build_experience",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--per-generator", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=experience.SHIPPED)
    p.add_argument("--sandbox", default="docker-warm")
    args = p.parse_args(argv)
    if args.per_generator < 1 or args.seed >= DEV_SEED_BASE:
        print(f"error: --per-generator must be >= 1 and --seed below {DEV_SEED_BASE} (the "
              "dev split is never shown as experience)", file=sys.stderr)
        return EXIT_BAD_INPUT

    def write() -> None:
        entries = build(args.per_generator, args.seed, args.sandbox)
        # the build's own time is no part of what was proven: the file is the same on a rebuild
        experience.write_jsonl(args.out, [replace(e, created=0.0) for e in entries])
        print(f"{len(entries)} entries -> {args.out}")

    return exit_code_of(write)


if __name__ == "__main__":
    sys.exit(main())
