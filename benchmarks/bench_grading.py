"""Throughput of extract+grade: our checker vs Math-Verify on the same 800 real completions, in one run.

Both checkers get the full completion text and the gold string, and do their own extraction:
  ours:        grade(gt, extract_answer(completion))
  math-verify: verify(parse("$" + gt + "$"), parse(completion))   (gold first, as its docs require)
Math-Verify runs in the main thread with its default SIGALRM timeouts (its normal configuration); ours runs
with its default per-pair budget. Prints pairs/s for both, the ratio (target >= 3x), the slowest single pair
(target < 1 s) and how often each agrees with the stored scores and with the hand-adjudicated truth kept in
tests/grading/test_real_completions.py.

    .venv/bin/python benchmarks/bench_grading.py [--limit N] [--repeat R]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

from stepkto_eval.grading import extract_answer, grade

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "qwen25math7b_math_cot_100.jsonl"
ADJUDICATION = REPO / "tests" / "grading" / "test_real_completions.py"


WARM_UP = [
    (r"\frac{2}{7}", r"So the probability is \boxed{\dfrac{2}{7}}."),
    ("(1,5]", r"The solution set is \boxed{(1, 5]}."),
    (r"3\sqrt{7}", r"Hence $\boxed{\sqrt{63}}$."),
    ("x^2-4", r"\boxed{(x-2)(x+2)}"),
]


def load_pairs(limit: int | None) -> list[tuple[int, int, str, str, bool]]:
    """(row, completion, gold, completion text, stored score) for every completion."""
    pairs = []
    with DATA.open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            if limit is not None and i >= limit:
                break
            row = json.loads(line)
            pairs += [(i, j, str(row["gt"]), text, bool(row["score"][j])) for j, text in enumerate(row["response"])]
    return pairs


def adjudicated_overrides() -> dict[tuple[int, int], bool]:
    spec = importlib.util.spec_from_file_location("_adjudication", ADJUDICATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ADJUDICATED


def ours(gold: str, completion: str) -> bool:
    extracted = extract_answer(completion)
    return extracted is not None and grade(gold, extracted).equal


def math_verify_checker():
    from math_verify import parse, verify

    def check(gold: str, completion: str) -> bool:
        try:
            return bool(verify(parse(f"${gold}$"), parse(completion)))
        except Exception:  # its parser raises on some inputs; that is a "no"
            return False

    return check


def timed(check, pairs, repeat: int) -> tuple[list[bool], float, float]:
    """Verdicts, total seconds over `repeat` passes, slowest single pair (seconds)."""
    verdicts: list[bool] = []
    slowest = 0.0
    start = time.perf_counter()
    for _ in range(repeat):
        verdicts = []
        for _, _, gold, text, _ in pairs:
            t0 = time.perf_counter()
            verdicts.append(check(gold, text))
            slowest = max(slowest, time.perf_counter() - t0)
    return verdicts, time.perf_counter() - start, slowest


def agree(a: list[bool], b: list[bool]) -> int:
    return sum(x == y for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems (8 pairs each)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the pairs for each checker")
    args = parser.parse_args(argv)

    pairs = load_pairs(args.limit)
    overrides = adjudicated_overrides()
    stored = [p[4] for p in pairs]
    truth = [overrides.get((p[0], p[1]), p[4]) for p in pairs]
    mv = math_verify_checker()
    for check in (ours, mv):  # warm-up on pairs outside the data set: imports and parser tables, no cache hits
        for gold, text in WARM_UP:
            check(gold, text)

    ours_v, ours_s, ours_max = timed(ours, pairs, args.repeat)
    mv_v, mv_s, mv_max = timed(mv, pairs, args.repeat)
    n = len(pairs) * args.repeat
    print(f"pairs: {len(pairs)} x {args.repeat} pass(es)")
    print(f"ours:        {n / ours_s:8.1f} pairs/s  total {ours_s:6.2f} s  slowest pair {ours_max * 1000:7.1f} ms")
    print(f"math-verify: {n / mv_s:8.1f} pairs/s  total {mv_s:6.2f} s  slowest pair {mv_max * 1000:7.1f} ms")
    print(f"throughput ratio ours/math-verify: {mv_s / ours_s:.2f}x (target >= 3x)")
    print(f"slowest single pair (ours) < 1 s: {ours_max < 1.0}")
    print(f"correct: ours {sum(ours_v)}  math-verify {sum(mv_v)}  stored {sum(stored)}  adjudicated {sum(truth)}")
    print(f"agreement with stored score: ours {agree(ours_v, stored)}/{len(pairs)}  "
          f"math-verify {agree(mv_v, stored)}/{len(pairs)}")
    print(f"agreement with adjudicated truth: ours {agree(ours_v, truth)}/{len(pairs)}  "
          f"math-verify {agree(mv_v, truth)}/{len(pairs)}")
    print(f"ours vs math-verify: agree on {agree(ours_v, mv_v)}/{len(pairs)}")
    for (i, j, gold, _, _), a, b, t in zip(pairs, ours_v, mv_v, truth, strict=True):
        if a != b:
            print(f"  differ row {i} completion {j}: gold {gold!r} ours={a} math-verify={b} truth={t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
