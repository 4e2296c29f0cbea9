"""Compare one gold answer with one candidate answer and explain the verdict.

    stepkto-eval grade '\\frac{1}{2}' '0.5'
    stepkto-eval grade C '(C) 12' --problem "... (A) 10 (B) 11 (C) 12 ..." --json

Exit code 0 whether or not the answers are equal (this is a query); 2 on usage errors.
"""
from __future__ import annotations

import argparse
import json

from stepkto_eval.grading import CHECKER_VERSION, grade


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gold", help="the reference answer (LaTeX or a number)")
    parser.add_argument("candidate", help="the answer to check (may still be wrapped in \\boxed{} or $..$)")
    parser.add_argument("--problem", default=None, help="problem text (needed for multiple-choice option text)")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds allowed for this pair (default 1)")
    parser.add_argument("--json", action="store_true", help="print the verdict as one JSON object")


def run(args: argparse.Namespace) -> int:
    verdict = grade(args.gold, args.candidate, problem=args.problem, timeout=args.timeout)
    if args.json:
        print(json.dumps({**verdict.to_dict(), "checker_version": CHECKER_VERSION}, ensure_ascii=False))
        return 0
    print(f"{'EQUAL' if verdict.equal else 'NOT EQUAL'}  [{verdict.rule}]  {verdict.reason}")
    print(f"  gold:      {verdict.gold_norm}")
    print(f"  candidate: {verdict.candidate_norm}")
    return 0
