"""`stepkto-eval grade GOLD CANDIDATE [--problem TEXT] [--json]` run as a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stepkto_eval.cli", "grade", *args],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )


@pytest.mark.parametrize(
    "gold,cand,equal,rule",
    [
        (r"\frac{1}{2}", "0.5", True, "numeric-exact"),
        (r"\frac{1}{3}", "0.333", False, "numeric-exact"),
        (r"\boxed{10{,}000}", "10000", True, "identical"),
        ("4210_5", "4210", True, "base"),
        ("5", "", False, "no-answer"),
    ],
)
def test_json_verdict(gold, cand, equal, rule):
    done = _run(gold, cand, "--json")
    assert done.returncode == 0, done.stderr  # a query: 0 whether equal or not
    verdict = json.loads(done.stdout)
    assert (verdict["equal"], verdict["rule"]) == (equal, rule)
    assert verdict["reason"] and verdict["checker_version"]
    assert set(verdict) >= {"gold_norm", "candidate_norm"}


def test_human_readable_output_shows_decision_rule_and_forms():
    done = _run(r"\dfrac{\sqrt{8}}{2}", r"\sqrt2")
    assert done.returncode == 0
    first, gold_line, cand_line = done.stdout.strip().splitlines()
    assert first.startswith("EQUAL") and "[numeric-precise]" in first
    assert gold_line.split(":", 1)[1].strip() == r"\frac{\sqrt{8}}{2}"
    assert cand_line.split(":", 1)[1].strip() == r"\sqrt2"


def test_not_equal_still_exits_zero():
    done = _run("7", "8")
    assert done.returncode == 0 and done.stdout.startswith("NOT EQUAL")


def test_problem_option_text():
    problem = r"Which is largest? $\textbf{(A) }1\qquad\textbf{(B) }2\qquad\textbf{(C) }12$"
    right = json.loads(_run("C", "(C) 12", "--problem", problem, "--json").stdout)
    wrong = json.loads(_run("C", "(C) 2", "--problem", problem, "--json").stdout)
    assert right["equal"] is True and wrong["equal"] is False


@pytest.mark.parametrize("args", [(), ("only-gold",), ("1", "2", "--no-such-flag")])
def test_usage_errors_exit_2(args):
    done = _run(*args)
    assert done.returncode == 2
    assert "usage" in done.stderr
