"""Robustness and safety of the checker (issue 2, section 4).

* bounded: hostile answers return promptly with a reason, in the main thread, in threads, in a thread
  pool and in worker processes (the bounds are by construction, not SIGALRM);
* cheap exact reasoning still happens (`10^{10^{10}} - 10^{10^{10}}` is 0);
* untrusted text is never executed (a canary file proves it);
* deterministic: the same pair gives the same verdict, across calls and across interpreter processes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from stepkto_eval.grading import grade

# Bound asserted per call: the 1 s budget plus the (bounded) clean-up/parse time on a loaded 2-core box.
WALL_LIMIT = 3.0

HOSTILE = [
    ("5", "10^{10^{10}}"),
    ("5", "2^{10^{10}}"),
    ("5", "((9!)!)!"),
    ("5", "+".join(["1"] * 5000)),  # a 5,000-term sum (its value is 5000, so it is simply wrong)
    ("5", "x" * 10_000),
    ("5", "7" * 10_000),
    ("5", "(" * 5000 + "1" + ")" * 5000),
    ("5", r"\sin(10^{10^{10}})"),
    ("5", r"\cosh(10^{10^{10}})"),
    ("5", "10^{10^{10^{10}}}"),
    ("5", r"\sqrt[10^{10}]{2}"),
    ("5", "-" * 5000 + "5"),
    ("5", r"\boxed{" * 1000 + "5" + "}" * 1000),
    ("5", "1, " * 3000 + "1"),
    ("1, " * 400 + "1", "1, " * 400 + "2"),
    ("5", r"0.\overline{" + "9" * 3000 + "}"),
    ("5", "x^{10^{10}}"),
    ("5", "a" + " " * 10_000 + "b"),  # a long inner run of spaces (a trailing-space regex was quadratic)
    ("5", "1" + r"\," * 5000 + "x"),
    # Notation checker 1.1 reads (written-out sums and products, polynomial inequalities, determinants).
    ("5", r"\sum_{k=1}^{1000} k^{1000}"),
    ("5", r"\prod_{k=1}^{1000} k^{k}"),
    ("5", r"\sum_{i=1}^{100}\sum_{j=1}^{100}\sum_{k=1}^{100} ijk"),
    ("(-3,3)", r"x^{10^{10}} < 9"),
    ("(-3,3)", r"|x^{10^{6}}-1| < 3"),
    ("5", r"\det\begin{pmatrix}10^{10^{10}}&1\\1&10^{10^{10}}\end{pmatrix}"),
    ("(1,2),(3,4)", "x=1,y=2;" * 1200),
    ("x<1", "-x>-1, " * 1400),
]


def _ids(pairs):
    return [f"{c[:24]}..{len(c)}" for _, c in pairs]


def _timed(gold, cand):
    start = time.perf_counter()
    verdict = grade(gold, cand)
    return verdict, time.perf_counter() - start


@pytest.mark.parametrize("gold,cand", HOSTILE, ids=_ids(HOSTILE))
def test_hostile_inputs_return_promptly_with_a_reason(gold, cand):
    verdict, seconds = _timed(gold, cand)
    assert seconds < WALL_LIMIT, (seconds, verdict)
    assert verdict.equal is False
    assert verdict.rule and verdict.reason


@pytest.mark.parametrize(
    "gold,cand,rule",
    [
        ("5", "((9!)!)!", "too-large"),
        ("5", "10^{10^{10^{10}}}", "too-large"),
        ("10^{10^{10}}", "10^{10^{10}}+1", "too-large"),  # agree to 60 digits, cannot be proved: refused
        ("5", "(" * 5000 + "1" + ")" * 5000, "unparseable"),
    ],
)
def test_refusals_name_their_reason(gold, cand, rule):
    verdict = grade(gold, cand)
    assert (verdict.equal, verdict.rule) == (False, rule)


@pytest.mark.parametrize(
    "gold,cand,expected",
    [
        ("0", "10^{10^{10}}-10^{10^{10}}", True),
        ("0", "2^{10^{10}} - 2^{10^{10}}", True),
        ("2^{10^{10}}", "2^{10^{10}}", True),
        ("1", "10^{10^{10}}-10^{10^{10}}+1", True),
        ("1", "10^{10^{10}}-10^{10^{10}}", False),
        ("5000", "+".join(["1"] * 5000), True),
    ],
)
def test_cheap_exact_reasoning_still_decides(gold, cand, expected):
    verdict, seconds = _timed(gold, cand)
    assert verdict.equal is expected, verdict
    assert seconds < WALL_LIMIT


def test_timeout_budget_is_honoured():
    # A 20-entry list against a reordered one does 200 element comparisons; a zero budget stops it.
    gold = ", ".join(f"\\sqrt{{{k}}}" for k in range(2, 22))
    cand = ", ".join(f"\\sqrt{{{k}}}" for k in reversed(range(2, 22)))
    assert grade(gold, cand).equal is True
    verdict = grade(gold, cand, timeout=0.0)
    assert (verdict.equal, verdict.rule) == (False, "timeout")


def test_bounded_inside_threads():
    results: dict[int, tuple] = {}

    def work(index, gold, cand):
        results[index] = _timed(gold, cand)

    threads = [threading.Thread(target=work, args=(k, g, c)) for k, (g, c) in enumerate(HOSTILE[:8])]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 8 and all(verdict.equal is False for verdict, _ in results.values())
    # 8 threads share the GIL: the whole batch stays within 8 budgets.
    assert time.perf_counter() - start < 8 * WALL_LIMIT


def test_bounded_inside_a_thread_pool():
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_timed, g, c) for g, c in HOSTILE]
        outcomes = [future.result(timeout=60) for future in futures]
    assert all(verdict.equal is False and seconds < WALL_LIMIT * 4 for verdict, seconds in outcomes)


def test_bounded_inside_worker_processes():
    pairs = HOSTILE[:6] + [("\\frac12", "0.5"), ("x^2-1", "(x-1)(x+1)")]
    golds, cands = zip(*pairs, strict=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:  # `grade` itself is the task: importable anywhere
        verdicts = list(pool.map(grade, golds, cands, timeout=120))
    assert [v.equal for v in verdicts] == [False] * 6 + [True, True]
    assert all(v.rule and v.reason for v in verdicts)
    assert time.perf_counter() - start < 60


INJECTIONS = [
    "__import__('os').system('touch {canary}')",
    "__import__(\"os\").system(\"touch {canary}\")",
    "exec(\"open('{canary}', 'w').write('x')\")",
    "eval(\"open('{canary}', 'w')\")",
    "lambda: open('{canary}', 'w')",
    "open('{canary}', 'w').write('1')",
    "\\boxed{{__import__('os').system('touch {canary}')}}",
    "$(open('{canary}','w'))$",
    "Symbol('x').__class__.__base__.__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_injection_strings_are_never_executed(template, tmp_path):
    canary = tmp_path / "canary"
    text = template.format(canary=canary)
    for gold, cand in ((text, "5"), ("5", text), (text, text + " ")):
        verdict = grade(gold, cand)
        assert isinstance(verdict.equal, bool)
    assert not canary.exists()


DETERMINISM_PAIRS = [
    ("x^2+2x+1", "(x+1)^2"), ("x^2+2x+1", "(x+1)^3"), (r"\sin^2 x", r"1-\cos^2 x"), ("1, 2, 3", "3, 2, 1"),
    (r"\sqrt2", "1.41421356"), ("a+b", "b+a"), ("xy+z", "z+yx"), ("2x+4y=6", "x+2y=3"),
]


def test_same_pair_same_verdict_across_calls():
    first = [grade(g, c).to_dict() for g, c in DETERMINISM_PAIRS]
    for _ in range(3):
        assert [grade(g, c).to_dict() for g, c in DETERMINISM_PAIRS] == first


def test_same_verdict_across_processes_with_different_hash_seeds():
    script = (
        "import json,sys; from stepkto_eval.grading import grade; "
        "pairs=json.loads(sys.argv[1]); print(json.dumps([grade(g,c).to_dict() for g,c in pairs]))"
    )
    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(DETERMINISM_PAIRS)],
            capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


def test_threads_get_the_serial_verdicts():
    # mpmath's precision is process-global; pairs needing different precisions, graded concurrently,
    # must still get exactly the verdicts they get one by one.
    pairs = [
        (r"\pi", r"\pi + 10^{-70}"), (r"\sqrt2", r"\frac{\sqrt8}{2}"), (r"\pi", r"\pi(1+10^{-65})"),
        ("x^2-1", "(x-1)(x+1)"), (r"\sqrt{2}", r"\sqrt{2 + 10^{-50}}"), (r"\sin^2 x", r"1-\cos^2 x"),
    ] * 8
    serial = [grade(g, c).to_dict() for g, c in pairs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda pair: grade(*pair, timeout=30.0).to_dict(), pairs))
    assert threaded == serial
    assert [v["equal"] for v in serial[:6]] == [False, True, False, True, False, True]


@pytest.mark.parametrize(
    "gold,cand,expected",
    [
        (r"\text{east}", r"\text{seat}", False),  # same letters: a product-of-letters reading would accept
        (r"\text{Evelyn}", "nEvely", False),
        (r"\text{east}", "East.", True),
        ("abc", "bca", False),  # a three-letter gold is read as a word
        ("ab", "ba", True),  # two letters stay a product
    ],
)
def test_words_are_not_products_of_letters(gold, cand, expected):
    assert grade(gold, cand).equal is expected
