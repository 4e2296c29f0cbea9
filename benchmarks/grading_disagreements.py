"""List where our checker disagrees with the grader stored in the Qwen2.5-Math-7B completions file.

The file (../shared/data/qwen25math7b_math_cot_100.jsonl) holds 100 MATH problems, each with `gt` (gold),
`response` (8 completions), `pred` (that project's extracted answers) and `score` (that project's verdicts).
We extract and grade every completion and print one line per disagreement, so a human can adjudicate it
against the policy; the adjudicated table lives in tests/grading/test_real_completions.py.

    .venv/bin/python benchmarks/grading_disagreements.py [--data FILE] [--limit N] [--all]
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from stepkto_eval.grading import extract_answer, grade

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "qwen25math7b_math_cot_100.jsonl"


@dataclass(frozen=True)
class Judged:
    row: int
    completion: int
    gold: str
    stored_pred: str
    extracted: str | None
    stored: bool
    ours: bool
    rule: str
    reason: str


def load_rows(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            for field in ("gt", "response", "score", "pred"):
                if field not in row:
                    raise ValueError(f"{path}: line {line_no}: missing field {field!r}")
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    return rows


def judge_one(row_index: int, completion_index: int, row: dict) -> Judged:
    """Extract and grade one completion; a crash is recorded as a wrong verdict, not raised."""
    gold = str(row["gt"])
    try:
        extracted = extract_answer(row["response"][completion_index])
        if extracted is None:
            ours, rule, reason = False, "no-answer", "no final-answer marker in the completion"
        else:
            verdict = grade(gold, extracted)
            ours, rule, reason = verdict.equal, verdict.rule, verdict.reason
    except Exception as error:  # one bad sample must not stop the listing
        extracted, ours, rule, reason = None, False, "error", f"{type(error).__name__}: {error}"
    return Judged(
        row_index, completion_index, gold, str(row["pred"][completion_index]), extracted,
        bool(row["score"][completion_index]), ours, rule, reason,
    )


def judge_all(rows: list[dict]) -> list[Judged]:
    return [judge_one(i, j, row) for i, row in enumerate(rows) for j in range(len(row["response"]))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N problems")
    parser.add_argument("--all", action="store_true", help="print every completion, not only disagreements")
    args = parser.parse_args(argv)

    judged = judge_all(load_rows(args.data, args.limit))
    shown = judged if args.all else [j for j in judged if j.ours != j.stored]
    print("row\tcompl\tstored\tours\tgold\tstored_pred\textracted\trule\treason")
    for j in shown:
        print(
            f"{j.row}\t{j.completion}\t{j.stored}\t{j.ours}\t{j.gold!r}\t{j.stored_pred!r}\t"
            f"{j.extracted!r}\t{j.rule}\t{j.reason}"
        )
    disagreements = sum(j.ours != j.stored for j in judged)
    print(
        f"\ncompletions={len(judged)} stored_correct={sum(j.stored for j in judged)} "
        f"ours_correct={sum(j.ours for j in judged)} disagreements={disagreements} "
        f"errors={sum(j.rule == 'error' for j in judged)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
