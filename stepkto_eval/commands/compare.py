"""Paired regression gate: does RUN score significantly lower than BASELINE on the same items?

Usage:
  stepkto-eval compare --baseline BASELINE --run RUN_DIR [--alpha 0.05] [--json OUT]
  stepkto-eval compare --write-baseline RUN_DIR --out leaderboards/baselines/NAME.json

BASELINE is a run folder or a baseline file. Exit codes: 0 no task dropped significantly, 1 at least one
task dropped, 2 incompatible or unreadable inputs (the message says what differs).
Tests: exact McNemar (one sample per item) or paired bootstrap (several), Holm-adjusted over tasks;
see stepkto_eval/regression_gate.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stepkto_eval.regression_gate import (
    IncompatibleInputs,
    compare,
    format_results,
    load_snapshot,
    results_json,
    write_baseline,
)
from stepkto_eval.reports.run_view import RunFolderError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", type=Path, help="baseline run folder or baseline .json file")
    parser.add_argument("--run", type=Path, help="run folder to test")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    parser.add_argument("--correction", choices=["holm", "none"], default="holm",
                        help="multiple-testing correction over tasks (default holm)")
    parser.add_argument("--allow-checker-change", action="store_true",
                        help="compare even if the checker version differs (to gate a grader change itself)")
    parser.add_argument("--bootstrap", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--json", type=Path, help="also write the per-task results as JSON to this file")
    parser.add_argument("--write-baseline", type=Path, metavar="RUN_DIR",
                        help="instead of comparing, store RUN_DIR's per-item correctness as a baseline file")
    parser.add_argument("--out", type=Path, help="baseline file to write (with --write-baseline)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.write_baseline is not None:
            if args.out is None:
                print("stepkto-eval compare: --write-baseline needs --out FILE", file=sys.stderr)
                return 2
            print(write_baseline(args.write_baseline, args.out))
            return 0
        if not 0 < args.alpha < 1:
            print(f"stepkto-eval compare: --alpha must be in (0, 1), got {args.alpha}", file=sys.stderr)
            return 2
        if args.baseline is None or args.run is None:
            print("stepkto-eval compare: give --baseline and --run (or --write-baseline)", file=sys.stderr)
            return 2
        results = compare(load_snapshot(args.baseline), load_snapshot(args.run), alpha=args.alpha,
                          correction=args.correction, allow_checker_change=args.allow_checker_change,
                          n_boot=args.bootstrap, seed=args.seed)
    except (IncompatibleInputs, RunFolderError) as exc:
        print(f"stepkto-eval compare: incompatible inputs: {exc}", file=sys.stderr)
        return 2
    print(format_results(results, args.alpha))
    if args.json is not None:
        args.json.write_text(json.dumps(results_json(results), indent=2) + "\n", encoding="utf-8")
    dropped = [r.task for r in results if r.dropped]
    if dropped:
        print(f"REGRESSION: significant drop on {', '.join(dropped)} (alpha {args.alpha})", file=sys.stderr)
        return 1
    print(f"no significant drop (alpha {args.alpha}, {args.correction} correction)")
    return 0
