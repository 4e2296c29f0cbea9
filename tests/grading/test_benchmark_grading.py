"""pytest-benchmark of our extract+grade over the 800 real completions.

Skipped in the default run (`--benchmark-skip` in pyproject addopts); run it with
    .venv/bin/python -m pytest tests/grading/test_benchmark_grading.py --benchmark-only
The ratio against Math-Verify (measured in the same run) is printed by benchmarks/bench_grading.py.
"""
from __future__ import annotations

import json

import pytest

from stepkto_eval.grading import extract_answer, grade

from .test_real_completions import ADJUDICATED_CORRECT, DATA_NAME


def _score_all(pairs: list[tuple[str, str]]) -> int:
    correct = 0
    for gold, completion in pairs:
        extracted = extract_answer(completion)
        correct += extracted is not None and grade(gold, extracted).equal
    return correct


# allow_skip: the default run skips benchmarks on purpose (--benchmark-skip); that is not a missing part.
@pytest.mark.allow_skip
def test_extract_and_grade_800_completions(benchmark, shared_data):
    with (shared_data / DATA_NAME).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    pairs = [(str(row["gt"]), text) for row in rows for text in row["response"]]
    assert len(pairs) == 800
    correct = benchmark.pedantic(_score_all, args=(pairs,), rounds=3, iterations=1, warmup_rounds=1)
    assert correct == ADJUDICATED_CORRECT
