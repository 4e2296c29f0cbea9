"""Aggregate run folders into a leaderboard: README.md, leaderboard.csv and index.html.

Usage: `stepkto-eval leaderboard RUN_DIR [RUN_DIR ...] [--out leaderboards/]`.
Runs with different comparable settings (prompts, sampling, checker, data) go into separate groups.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stepkto_eval.folder_guard import EXIT_DISK, FolderRefused, disk_error, hold_folder
from stepkto_eval.reports.leaderboard_writer import foreign_outputs, write_leaderboard
from stepkto_eval.reports.run_view import RunFolderError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run folders to aggregate")
    parser.add_argument("--out", type=Path, default=Path("leaderboards"), help="output folder (default leaderboards/)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N run folders (smoke test)")


def run(args: argparse.Namespace) -> int:
    run_dirs = args.run_dirs[: args.limit] if args.limit else args.run_dirs
    if foreign := foreign_outputs(args.out):
        print(f"stepkto-eval leaderboard: --out {args.out}: {', '.join(foreign)} exist and were not written by "
              "`stepkto-eval leaderboard`; refusing to replace them (nothing was changed). Give another --out.",
              file=sys.stderr)
        return 2
    try:
        with hold_folder(args.out):  # two leaderboard commands into one folder: the second exits 2
            paths = write_leaderboard(run_dirs, args.out)
    except (RunFolderError, FolderRefused) as exc:
        print(f"stepkto-eval leaderboard: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if (message := disk_error(exc)) is None:
            raise
        print(f"stepkto-eval leaderboard: {message}", file=sys.stderr)
        return EXIT_DISK
    for path in paths:
        print(path)
    return 0
