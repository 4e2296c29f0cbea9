"""Our checker on 800 real completions (Qwen2.5-Math-7B on 100 MATH problems, 8 samples each).

The file ../shared/data/qwen25math7b_math_cot_100.jsonl stores that project's own verdicts in `score`.
`benchmarks/grading_disagreements.py` lists every completion where our extract+grade disagrees with it;
each such completion was read in full and adjudicated by hand against the policy (README, issue 2 §3).
The adjudicated verdicts are asserted below, keyed by (row index, completion index); all other completions
keep the stored verdict, which was checked by reading the last box of every completion whose box differs
from `gt` (42 distinct row-and-answer groups): apart from the rows below, each is either a separator-only rewrite the
stored grader accepted (rows 53, 59, 98) or a plainly different value it rejected.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from stepkto_eval.grading import extract_answer, grade

DATA_NAME = "qwen25math7b_math_cot_100.jsonl"

# Stored grader: 728 of 800 marked correct. It wrongly rejected 9 completions (row 3 x8, row 72 completion 7)
# and wrongly accepted none, so the adjudicated truth is 728 + 9 = 737 correct completions.
STORED_CORRECT = 728
ADJUDICATED_CORRECT = 737

# (row, completion) -> adjudicated verdict. First the stored grader's errors, then completions where the
# stored verdict is right but the shape is one a checker easily gets wrong (kept as regression rows).
ADJUDICATED: dict[tuple[int, int], bool] = {
    # Row 3: gt '4:30p..' is the stored grader's mangling of the MATH answer '\text{4:30 p.m.}'. Every
    # completion boxes `4:30 \text{ p.m.}` -- the right time with its decoration; stored score False is a
    # false reject (the brief's known error).
    (3, 0): True,
    (3, 1): True,
    (3, 2): True,
    (3, 3): True,
    (3, 4): True,
    (3, 5): True,
    (3, 6): True,
    (3, 7): True,
    # Row 72: 49,994/7 + 20,006/7 = 70,000/7 = 10,000 exactly; gt '10{,}000'. Completion 7 boxes `10000`:
    # right (thousands separator only); stored False is a false reject (the brief's known error).
    (72, 7): True,
    # Row 72, the other completions: the stored rejections are right.
    (72, 0): False,  # boxes 9999 (integer part of a wrong sum)
    (72, 1): False,  # boxes 9998
    (72, 2): False,  # boxes 9999
    (72, 3): False,  # boxes 9999.857142857143: wrong value, and a truncated decimal
    (72, 4): False,  # boxes 9999
    (72, 5): False,  # two boxes; the last, 9998.571428571429, is the answer and it is wrong
    (72, 6): False,  # boxes 9999.857142857143 "or" 9999 6/7: the last box, 9999 6/7 = 69999/7, is wrong
    # Right answers in shapes a checker can get wrong; the stored grader was right on these.
    (24, 0): True,  # gt 12\frac{3}{5}, box `12 \frac{3}{5}`: a mixed number with a space, 63/5
    (37, 0): False,  # gt 1\frac{1}{10}, box `1 \frac{8}{91}`: a different mixed number
    (37, 4): False,  # gt 1\frac{1}{10}, box `1 \frac{1}{9}`
    (76, 0): True,  # gt 1\frac{1}{4}, box `1 \frac{1}{4}`
    (53, 0): True,  # gt '900,000,000', box 900000000
    (59, 0): True,  # gt '3,250', box 3250
    (98, 0): True,  # gt '50,625', box 50625
    (98, 4): False,  # box 2500
    (25, 1): True,  # box `25` twice, then degenerate multilingual garbage: the last box is still 25
    (48, 3): True,  # box `6` twice inside broken display math, then garbage: the last box is 6
    (13, 0): True,  # the question itself contains `\boxed{\phantom{2}}`; the last box (4) is the answer
    (54, 0): False,  # gt 25 (percent), box 6.5
    (54, 3): False,  # box 22.22 (an approximation of 200/9, itself wrong)
    (58, 1): False,  # gt 12 minutes, box 1.39
    (92, 0): False,  # gt 28, box \sqrt{34} + 3\sqrt{10} (about 15.3)
    (81, 3): False,  # gt A, box C
}


@lru_cache(maxsize=1)
def _rows(path: Path) -> tuple[dict, ...]:
    with path.open(encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def _ours(row: dict, completion: int) -> bool:
    extracted = extract_answer(row["response"][completion])
    if extracted is None:
        return False
    verdict = grade(str(row["gt"]), extracted)
    assert verdict.rule.strip() and verdict.reason.strip()
    return verdict.equal


@pytest.fixture(scope="module")
def rows(shared_data) -> tuple[dict, ...]:
    data = _rows(shared_data / DATA_NAME)
    assert len(data) == 100 and all(len(r["response"]) == 8 == len(r["score"]) for r in data)
    return data


@pytest.mark.parametrize(
    "row,completion,truth",
    [pytest.param(r, c, t, id=f"row{r}-c{c}-{'right' if t else 'wrong'}") for (r, c), t in ADJUDICATED.items()],
)
def test_adjudicated_completion(rows, row, completion, truth):
    assert _ours(rows[row], completion) is truth


def test_stored_scores_are_as_adjudicated(rows):
    # Guards the table itself: the stored grader's count, and that our overrides really are its errors.
    assert sum(sum(r["score"]) for r in rows) == STORED_CORRECT
    flipped = [key for key, truth in ADJUDICATED.items() if rows[key[0]]["score"][key[1]] != truth]
    assert len(flipped) == ADJUDICATED_CORRECT - STORED_CORRECT


def test_all_800_completions_match_adjudicated_truth(rows):
    mismatches = []
    correct = 0
    for i, row in enumerate(rows):
        for j, stored in enumerate(row["score"]):
            truth = ADJUDICATED.get((i, j), bool(stored))
            ours = _ours(row, j)
            correct += ours
            if ours != truth:
                mismatches.append((i, j, row["gt"], row["pred"][j], truth, ours))
    assert not mismatches, "\n".join(map(repr, mismatches))
    assert correct == ADJUDICATED_CORRECT
