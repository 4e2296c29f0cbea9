"""`stepkto-eval` entry point.

Subcommands live in `stepkto_eval/commands/<name>.py`, each exposing `add_arguments(parser)` and
`run(args) -> int`; they are imported lazily so that `stepkto-eval grade` does not pay for torch.
With no subcommand (`stepkto-eval --model CKPT --tasks math500`), the `eval` command runs.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

COMMANDS: dict[str, str] = {
    "eval": "evaluate a model on benchmark tasks (the default command)",
    "grade": "compare one gold answer with one candidate and explain the verdict",
    "score": "grade a JSONL file of completions and compute pass@k / avg@n / maj@k",
    "label": "sample, grade and audit completions into a labeled dataset for stepkto-train",
    "processbench": "score a step-error judge (or a file of predictions) on ProcessBench",
    "leaderboard": "aggregate run folders into leaderboards/",
    "compare": "paired regression test of a run against a baseline (CI gate)",
    "report": "(re)write report.md / report.html of a run folder",
}


def _load(name: str):
    return importlib.import_module(f"stepkto_eval.commands.{name.replace('-', '_')}")


def available_commands() -> dict[str, str]:
    """Commands whose module exists in this installation."""
    return {
        name: help_text
        for name, help_text in COMMANDS.items()
        if importlib.util.find_spec(f"stepkto_eval.commands.{name}") is not None
    }


def main(argv: list[str] | None = None) -> int:
    """Run a command; SIGINT exits 130 and SIGTERM 143 with one line and engines shut down (signals.py)."""
    from .signals import run_cli

    return run_cli("stepkto-eval", lambda: _main(argv))


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = available_commands()
    if argv and argv[0] in commands:
        name, rest = argv[0], argv[1:]
    elif argv and argv[0] in ("-h", "--help") and "eval" not in commands:
        name, rest = None, argv
    else:
        name, rest = "eval", argv
    if name is None or name not in commands:
        parser = argparse.ArgumentParser(prog="stepkto-eval")
        sub = parser.add_subparsers(dest="command")
        for cmd, help_text in commands.items():
            sub.add_parser(cmd, help=help_text)
        parser.print_help()
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = _load(name)
    prog = "stepkto-eval" if name == "eval" else f"stepkto-eval {name}"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else None,
        epilog=("other commands: " + ", ".join(c for c in commands if c != "eval")) if name == "eval" else None,
    )
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
