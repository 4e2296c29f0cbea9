"""(Re)write report.md and report.html of finished run folder(s) from their manifest, metrics and samples.

Usage: `stepkto-eval report RUN_DIR [RUN_DIR ...] [--sample-cap 50]`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stepkto_eval.folder_guard import EXIT_DISK, FolderRefused, disk_error, hold_folder
from stepkto_eval.reports.html_report import SAMPLE_CAP, write_html_report
from stepkto_eval.reports.markdown_report import render_markdown
from stepkto_eval.reports.run_view import RunFolderError, load_run
from stepkto_eval.runs import RunFolder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run folder(s) to report on")
    parser.add_argument("--sample-cap", type=int, default=SAMPLE_CAP,
                        help=f"samples shown per outcome (wrong / correct-but-flawed / correct / no verdict); "
                             f"default {SAMPLE_CAP}")


def run(args: argparse.Namespace) -> int:
    status = 0
    for run_dir in args.run_dirs:
        try:
            if not run_dir.is_dir():
                raise RunFolderError(f"{run_dir}: not a run folder (directory not found)")
            with hold_folder(run_dir):  # never rewrite a report while a run is writing into the folder
                status = max(status, _report_one(run_dir, args))
        except (RunFolderError, FolderRefused) as exc:
            print(f"stepkto-eval report: {exc}", file=sys.stderr)
            status = max(status, 2)
        except OSError as exc:
            if (message := disk_error(exc)) is None:
                raise
            print(f"stepkto-eval report: {message}", file=sys.stderr)
            status = EXIT_DISK
    return status


def _report_one(run_dir: Path, args: argparse.Namespace) -> int:
    view = load_run(run_dir)
    tasks = view.metrics.get("tasks") or {}
    status = 0
    if tasks and not all(isinstance(t, dict) and "metrics" in t for t in tasks.values()):
        print(f"{run_dir / 'report.md'}: left as written by its command (not an eval/score run)")
    elif tasks:
        try:
            markdown = render_markdown(view.metrics, view.samples, view.manifest)
            RunFolder(run_dir).write_text("report.md", markdown)
            print(run_dir / "report.md")
        except (KeyError, TypeError) as exc:  # a malformed metrics.json must not block the HTML page
            print(f"stepkto-eval report: {run_dir / 'metrics.json'}: report.md not written "
                  f"(missing or bad field {exc})", file=sys.stderr)
            status = 2
    print(write_html_report(run_dir, sample_cap=args.sample_cap))
    return status
