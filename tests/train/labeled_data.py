"""Labeled rows built in the test, following the labeled-data contract of ../shared/DESIGN.md."""
from __future__ import annotations

import json
import random
from pathlib import Path

_STEPS = ["Compute 3 + 4 = 7.", "Then 7 * 6 = 42.", "Solve 2x + 4 = 10, so x = 3.",
          "The probability is 25%.", "It is \\frac{5}{6}.", "Subtract, then divide."]


def make_row(problem: int, sample: int, rng: random.Random, chat: bool = True) -> dict:
    steps = rng.sample(_STEPS, rng.randint(1, 4))
    completion, spans = "", []
    for s in steps:
        if completion:
            completion += "\n\n"
        spans.append([len(completion), len(completion) + len(s)])
        completion += s
    completion += " The answer is \\boxed{42}."
    first_error = rng.choice([-1, -1, None] + list(range(len(steps))))
    if first_error is None:
        labels = [None] * len(steps)
    elif first_error < 0:
        labels = [1] * len(steps)
    else:
        labels = [1] * first_error + [0] + [None] * (len(steps) - first_error - 1)
    text = f"Problem {problem}: what is 6 * 7?"
    return {
        "prompt": [{"role": "user", "content": text}] if chat else text,
        "completion": completion, "steps": steps, "step_char_spans": spans, "step_labels": labels,
        "first_error": first_error, "outcome_label": int(rng.random() < 0.5), "gold_answer": "42",
        "pred_answer": "42", "problem_id": f"p{problem}", "round": 0,
        "generator": {"model": "tiny", "temperature": 1.0}, "judge": "arith",
    }


def make_rows(n_problems: int = 4, per_problem: int = 2, seed: int = 0, chat: bool = True) -> list[dict]:
    rng = random.Random(seed)
    return [make_row(p, s, rng, chat) for p in range(n_problems) for s in range(per_problem)]


def write_jsonl(rows: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
