"""Grade a JSONL file of completions against gold answers and report pass@1, avg@n, pass@n and maj@n.

One row per problem: a gold answer and either one completion (string) or several (list); other fields are
kept in each sample's `meta` (a list with one entry per completion contributes that completion's entry).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="JSONL file, one row per problem")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where samples.jsonl, metrics.json, report.md/.html go (default runs/score-<file>-<time>)")
    parser.add_argument("--gold-field", default="gold", help="field with the gold answer (default gold)")
    parser.add_argument("--completions-field", default=None,
                        help="field with the completion(s), a string or a list (default: completions or completion)")
    parser.add_argument("--id-field", default=None, help="field with the problem id (default: id, else row number)")
    parser.add_argument("--breakdown", action="append", default=[], metavar="FIELD",
                        help="also report metrics per value of this row field (repeatable, e.g. level)")
    parser.add_argument("--task", default=None,
                        help="task name recorded in the run folder (default: the file name without suffix); "
                             "give the baseline's name to gate these completions with `compare`")
    parser.add_argument("--workers", type=int, default=None, help="grading processes (default: CPU count, max 8)")
    from .eval import add_report_to

    add_report_to(parser)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..folder_guard import EXIT_DISK, FolderRefused, disk_error
    from ..option_checks import check_whole
    from ..reports.markdown_report import fmt_estimate
    from ..scoring import ScoreConfig, ScoreInputError, score_file
    from ..tracking import TrackingUnavailable, parse_report_to

    if not args.file.is_file():
        print(f"stepkto-eval score: {args.file} not found", file=sys.stderr)
        return 2
    out = args.output_dir or Path("runs") / f"score-{args.file.stem}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    cfg = ScoreConfig(file=args.file, output_dir=out, gold_field=args.gold_field,
                      completions_field=args.completions_field, id_field=args.id_field,
                      breakdown=tuple(args.breakdown), task=args.task, workers=args.workers,
                      command=["stepkto-eval", "score", *sys.argv[2:]])
    try:
        trackers = parse_report_to(args.report_to)
    except TrackingUnavailable as exc:
        print(f"stepkto-eval score: {exc}", file=sys.stderr)
        return 2
    try:
        check_whole("--workers", args.workers)
        if args.task is not None and not args.task.strip():
            raise ValueError("--task must not be empty")
        metrics = score_file(cfg)
    except (ScoreInputError, FolderRefused, ValueError) as exc:
        print(f"stepkto-eval score: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if (message := disk_error(exc)) is None:
            raise
        print(f"stepkto-eval score: {message}", file=sys.stderr)
        return EXIT_DISK
    (task, entry), = metrics["tasks"].items()
    table = Table(title=f"{task}\n{entry['n_problems']} problems x {entry['n_samples_per_problem']} completions",
                  caption="percent, 95% bootstrap CI over problems")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, est in entry["metrics"].items():
        table.add_row(name, fmt_estimate(est))
    Console().print(table)
    print(f"wrote {out}/samples.jsonl, metrics.json, report.md, report.html")
    return _track(out, trackers, metrics)


def _track(out: Path, trackers: list[str], metrics: dict) -> int:
    """Log the scored run to its trackers, after the run folder is complete (see eval.report_tracking)."""
    from ..runs import RunFolder
    from ..tracking import log_to_trackers
    from .eval import report_tracking

    folder = RunFolder(out)
    notes = log_to_trackers(folder, trackers, metrics, folder.read_manifest() or {})
    return report_tracking("stepkto-eval score", notes)
