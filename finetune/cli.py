"""`gpiot finetune CONFIG`: train a LoRA or PECT adapter from a YAML config.

Handlers return an exit code and let GpiotError propagate for the main CLI to report.
"""

from __future__ import annotations

import argparse
import sys

from agent.errors import EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `finetune` to a subparsers object; the handler is in `func`."""
    p = subparsers.add_parser(
        "finetune", help="train LoRA / PECT adapters with peft from a YAML config",
        description="Train from finetune/configs/*.yaml; writes adapters (PEFT format), "
                    "metrics.jsonl, loss.svg and train_report.json into the config's output.")
    p.add_argument("config", help="training config (YAML), e.g. finetune/configs/cpu-smoke.yaml")
    p.add_argument("--output", help="output directory (overrides the config's `output`)")
    p.add_argument("--base", help="base model: registered name, .gguf or HF dir (overrides)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--data", action="append",
                   help="JSONL file or glob (repeatable; replaces the config's `data`)")
    p.add_argument("--export-gguf", action="store_true",
                   help="also write GGUF LoRA adapters for the llama.cpp backend")
    p.add_argument("--budget-minutes", type=float,
                   help="stop training when this much wall time is spent (over every resumed "
                        "session); a checkpoint is written where it stopped")
    p.add_argument("--resume", action="store_true",
                   help="go on from OUTPUT/checkpoint.pt with what is left of the budget")
    p.set_defaults(func=cmd_finetune)
    return p


def cmd_finetune(args: argparse.Namespace) -> int:
    """Load and validate the config (bad input exits 2 before any model loads), then train."""
    from finetune.train import load_config, train

    overrides: dict = {}
    if args.output:
        overrides["output"] = args.output
    if args.base:
        overrides["base"] = args.base
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    if args.data:
        overrides["data"] = args.data
    if args.export_gguf:
        overrides["export_gguf"] = True
    if args.budget_minutes is not None:
        overrides["budget_minutes"] = args.budget_minutes
    cfg = load_config(args.config, overrides)
    train(cfg, log=lambda line: print(line, file=sys.stderr, flush=True), resume=args.resume)
    print(cfg.output)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """`python -m finetune.cli CONFIG`: the same command without the agent's CLI imports
    (langgraph, docker), for machines that only train, such as the lent GPU."""
    from agent.errors import exit_code_of

    parser = argparse.ArgumentParser(prog="python -m finetune.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["finetune", *(sys.argv[1:] if argv is None else argv)])
    return exit_code_of(lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
