"""Evaluate a model on math benchmarks (MATH-500, AIME24, AMC23, or your own task YAML) into a resumable run folder.

Example: stepkto-eval --model Qwen/Qwen2.5-Math-1.5B-Instruct --tasks math500,aime24 --n 8 --temperature 0.6
Rerunning the same command continues an interrupted run; changed settings are refused.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml


def _option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.replace("-", "_"), yaml.safe_load(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="local checkpoint folder, .gguf file, hub id, or the server's model name")
    parser.add_argument("--tasks", help="comma-separated task names (see --list-tasks) or paths to task YAML files")
    parser.add_argument("--list-tasks", action="store_true", help="list the built-in tasks and exit")
    parser.add_argument("--backend", default="auto", choices=["auto", "hf", "vllm", "openai"],
                        help="generation engine; auto = vllm when usable, else hf (default: auto)")
    parser.add_argument("--base-url", help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1 (openai); "
                                           "several servers of one model: URL1,URL2,... (requests are spread over them)")
    parser.add_argument("--api-key", help="API key for --base-url (default: $OPENAI_API_KEY if the backend reads it)")
    parser.add_argument("--backend-option", "-O", action="append", type=_option, default=[], metavar="KEY=VALUE",
                        help="extra backend option, repeatable (e.g. -O device=cuda -O tensor_parallel_size=2)")
    parser.add_argument("--n", type=int, default=1, help="completions per problem (default 1)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default 0)")
    parser.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default 1.0)")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="completion token limit (default: the task's, 4096 for the built-in tasks)")
    parser.add_argument("--limit", type=int, default=None, help="first K problems of each task (smoke runs)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; every sample derives its own from it")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="run folder (default runs/<model-name>-<timestamp>); rerun with it to resume")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the tasks' local files instead of the hub (env STEPKTO_DATA_DIR)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="requests per backend call and per durable write (default: hf 16, vllm 512, openai 64)")
    parser.add_argument("--audit", default=None, metavar="SPEC",
                        help="judge the steps of every completion (e.g. arith); adds the flawed-step rate")
    parser.add_argument("--judge", default=None, metavar="SPEC",
                        help="step judge to benchmark with --tasks processbench (same grammar as --audit; "
                             "equivalent to `stepkto-eval processbench --judge SPEC`)")
    add_report_to(parser)


def add_report_to(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-to", default="none", metavar="TRACKERS",
                        help="also log metrics (with CIs), settings and the report to experiment trackers: "
                             "comma-separated tensorboard, wandb, mlflow, or all / none (default none); "
                             "they write under <run folder>/tracking unless WANDB_DIR / MLFLOW_TRACKING_URI say "
                             "otherwise")


def report_tracking(command: str, notes: list[dict]) -> int:
    """Print where each tracker logged; 1 when one failed.

    Exit 1, not 0: a pipeline that relies on the tracker must notice the gap, and the cure is cheap — rerunning
    the same command finds every sample done and only logs again (the same convention as failed samples).
    The evaluation itself is on disk either way."""
    failed = [n for n in notes if n["status"] == "error"]
    for note in notes:
        if note["status"] != "error":
            print(f"{note['backend']}: {note['status']} at step {note['step']}")
    for note in failed:
        print(f"{command}: logging to {note['error']} (the run folder is complete; rerun the same command "
              "to retry the logging)", file=sys.stderr)
    return 1 if failed else 0


def print_tasks() -> None:
    from rich.console import Console
    from rich.table import Table

    from ..tasks import list_tasks, load_task_spec

    table = Table(title="built-in tasks")
    for col in ("name", "version", "source", "description"):
        table.add_column(col)
    for name in list_tasks():
        spec = load_task_spec(name)
        table.add_row(spec.name, str(spec.version), f"{spec.source.path} [{spec.source.split}]", spec.description)
    Console().print(table)


def print_summary(metrics: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..reports.markdown_report import fmt_estimate, pct

    names: list[str] = []
    for entry in metrics["tasks"].values():
        names += [k for k in entry["metrics"] if k not in names]
    audited = any("flawed_step_rate" in e for e in metrics["tasks"].values())
    table = Table(title="results (%, 95% bootstrap CI)")
    for col in ["task", "problems", *names, *(["flawed-step rate (flawed/correct)"] if audited else []),
                "truncated %"]:
        table.add_column(col, justify="left" if col == "task" else "right")
    for task, e in metrics["tasks"].items():
        flawed = [_flawed_cell(e.get("flawed_step_rate"))] if audited else []
        table.add_row(task, str(e["n_problems"]), *(fmt_estimate(e["metrics"][k]) if k in e["metrics"] else "–"
                                                     for k in names), *flawed, pct(e["truncation_rate"]))
    if len(metrics["tasks"]) > 1:
        o = metrics["overall"]
        table.add_row("overall", str(o["n_problems"]),
                      *(fmt_estimate(o["metrics"][k]) if k in o["metrics"] else "–" for k in names),
                      *([""] if audited else []), "")
    Console().print(table)


def _flawed_cell(rate: dict | None) -> str:
    """`21.1 [15.0, 27.3] (12/57)`; "–" when no completion was correct (the rate is undefined)."""
    if not rate or rate.get("value") is None:
        return "– (0 correct)" if rate else "–"
    from ..reports.markdown_report import fmt_estimate

    return f"{fmt_estimate(rate)} ({rate['n_flawed']}/{rate['n_correct']})"


def run_processbench(args: argparse.Namespace) -> int:
    """`--tasks processbench --judge SPEC`: ProcessBench scores a judge, not a generator, so hand over to the
    processbench command (one implementation of the protocol)."""
    from . import processbench

    if args.tasks.strip() != "processbench" or not args.judge:
        print("stepkto-eval: ProcessBench benchmarks a step judge: run it alone, as "
              "`--tasks processbench --judge SPEC`", file=sys.stderr)
        return 2
    if (args.report_to or "none").strip().lower() != "none":
        # its output is F1 per split, not the metrics.json our trackers read: refuse rather than drop silently
        print("stepkto-eval: --report-to is not supported for ProcessBench runs", file=sys.stderr)
        return 2
    return processbench.run(argparse.Namespace(
        judge=args.judge, replay=None, splits=None, limit=args.limit, data_dir=args.data_dir,
        output_dir=None if args.output_dir is None else str(args.output_dir), tune_threshold_on=None))


def _is_openai(args: argparse.Namespace) -> bool:
    return args.backend == "openai" or (args.backend == "auto" and bool(args.base_url))


def _served_model(args: argparse.Namespace) -> str:
    """The one model the --base-url server(s) list at /v1/models (ValueError when not exactly one)."""
    import os

    from ..backends import check_backend_options
    from ..backends.openai import served_model

    options = dict(args.backend_option)
    check_backend_options("openai", options, base_url=args.base_url)
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1"
    api_key = args.api_key or os.environ.get("OPENAI_API_KEY")
    return served_model(base_url, api_key, **{k: v for k, v in options.items() if k != "base_url"})


def run(args: argparse.Namespace) -> int:
    if args.list_tasks:
        print_tasks()
        return 0
    if args.tasks and "processbench" in [t.strip() for t in args.tasks.split(",")]:
        return run_processbench(args)
    if args.judge:
        print("stepkto-eval: --judge is for --tasks processbench; use --audit SPEC to audit generated completions",
              file=sys.stderr)
        return 2
    if not args.model and args.tasks and _is_openai(args):
        try:  # the README's promise: a server that serves exactly one model needs no --model
            args.model = _served_model(args)
        except ValueError as exc:
            print(f"stepkto-eval: {exc}", file=sys.stderr)
            return 2
    if not args.model or not args.tasks:
        print("stepkto-eval: --model and --tasks are required (see --help, --list-tasks)", file=sys.stderr)
        return 2
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..eval_run import EvalConfig, run_evaluation
    from ..folder_guard import EXIT_DISK, FolderRefused, disk_error
    from ..metrics import MissingSamplesError
    from ..runs import RunSettingsChanged
    from ..tasks import TaskError

    try:
        config = EvalConfig(
            model=args.model, tasks=[t.strip() for t in args.tasks.split(",") if t.strip()], backend=args.backend,
            base_url=args.base_url, api_key=args.api_key, backend_options=dict(args.backend_option), n=args.n,
            temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens, limit=args.limit,
            seed=args.seed, output_dir=args.output_dir, data_dir=args.data_dir, batch_size=args.batch_size,
            audit=args.audit, command=["stepkto-eval", *sys.argv[1:]], report_to=args.report_to,
        )
        with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
            task_id = bar.add_task("generate", total=None)
            outcome = run_evaluation(config, on_progress=lambda done, total: bar.update(task_id, completed=done,
                                                                                      total=total))
    except (TaskError, RunSettingsChanged, MissingSamplesError, FolderRefused, ValueError) as exc:
        print(f"stepkto-eval: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if (message := disk_error(exc)) is None:
            raise
        print(f"stepkto-eval: {message}", file=sys.stderr)
        return EXIT_DISK
    print_summary(outcome.metrics)
    print(f"run folder: {outcome.folder.path}  (generated {outcome.n_generated}, "
          f"already done {outcome.n_skipped}{', resumed' if outcome.resumed else ''})")
    tracking_code = report_tracking("stepkto-eval", outcome.tracking)
    if outcome.n_errors:
        print(f"stepkto-eval: {outcome.n_errors} sample(s) failed to generate (counted as wrong); "
              "rerun the same command to retry them", file=sys.stderr)
        return 1
    return tracking_code
