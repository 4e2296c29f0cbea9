"""Extraction time on adversarial completions, as ratios against a normal completion measured in the same run.

`extract_answer` must stay linear in the completion's length: a 200 kB degenerate completion, 50,000
unclosed `\\boxed{`, or 100,000 `{` must extract promptly. The anchor is the mean over the 800 real
completions of ../shared/data/qwen25math7b_math_cot_100.jsonl (about 1 kB each); each adversarial input
is timed as the best of R runs and printed with its size, its ratio to the anchor, and that ratio per
character (near-constant when extraction is linear; the old quadratic extractor's grew with the size).

    .venv/bin/python benchmarks/bench_extract.py [--repeat R]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from stepkto_eval.grading import extract_answer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qwen25math7b_math_cot_100.jsonl"

ADVERSARIAL = {
    "50k unclosed \\boxed{": "\\boxed{" * 50_000,
    "100k {": "{" * 100_000,
    "25k nested boxes": "\\boxed{" * 25_000 + "7" + "}" * 25_000,
    "20k closed boxes": "\\boxed{1}" * 20_000,
    "20k \\boxed 5": "\\boxed 5 " * 20_000,
    "15k 'the answer is' on one line": "the answer is " * 15_000,
    "10k Minerva heads, no 'I hope'": "The final answer is " * 10_000,
    "50k unclosed \\(": "The answer is " + "\\(" * 50_000,
    "40k ####": "#### " * 40_000,
    "30k <answer>": "<answer>" * 30_000,
    "200 kB thought then answer": "<think>" + "x " * 100_000 + "</think>\nThe answer is 3.",
    "200 kB box content": "\\boxed{" + " " * 200_000 + "x}",
    "200 kB degenerate tail after a box": "\\boxed{6}" + " \\] garbage" * 20_000,
    "100 markers, each 600 unclosed \\(": ("the answer is " + "\\(" * 600 + "\n") * 100,
    "100 markers, each 600 unclosed \\[": ("the answer is $$" + "\\[" * 600 + "\n") * 100,
}


def best_of(text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        extract_answer(text)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with DATA.open(encoding="utf-8") as handle:
        completions = [text for line in handle for text in json.loads(line)["response"]]
    start = time.perf_counter()
    for _ in range(args.repeat):
        for text in completions:
            extract_answer(text)
    anchor = (time.perf_counter() - start) / (args.repeat * len(completions))
    size = sum(map(len, completions)) / len(completions)
    print(f"anchor: normal completion ({size:.0f} chars, mean of {len(completions)}): {anchor * 1e3:.3f} ms")
    worst = 0.0
    for name, text in ADVERSARIAL.items():
        seconds = best_of(text, args.repeat)
        worst = max(worst, seconds)
        per_char = (seconds / len(text)) / (anchor / size)
        print(
            f"{name:36s} {len(text):>8d} chars {seconds * 1e3:8.2f} ms  {seconds / anchor:6.0f}x anchor"
            f"  {per_char:5.1f}x anchor per char"
        )
    print(f"slowest adversarial input: {worst * 1e3:.1f} ms (target: well under 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
