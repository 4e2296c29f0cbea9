"""Seeded synthetic multi-step arithmetic word problems for the Step-KTO replica (issue 12 §2).

Every problem is a short story about one person's pile of things changed by 1–4 integer operations
(add, subtract, multiply, divide exactly), in several phrasings, with a worked solution whose steps are
arithmetic claims ("17 - 3 = 14"), one step per operation and a last step with the boxed answer, separated by blank lines — so the `arith`
judge reads every step's claim and the blank-line splitter finds the same steps the solution was written
with. The generator draws problems with one `random.Random(seed)`; the splits (warm-up, training pool,
validation, held-out test) are disjoint by problem text (dedup across all of them, in that order).

Files written by `write_splits(folder, sizes, seed)`:
    folder/{warmup,train,valid,test}.jsonl   rows {id, problem, answer, solution, n_ops}
    folder/replica_{train,valid,test}.yaml   task YAMLs (source.path relative to the YAML)
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

NAMES = ("Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jude", "Kim", "Leo", "Mia", "Noor",
         "Omar", "Pia", "Raj", "Sofia", "Tom", "Uma")
ITEMS = ("apples", "marbles", "stickers", "coins", "books", "pencils", "stamps", "shells", "cards", "cookies")

# Story sentences per operation; {n}: person, {x}: operand, {i}: items.
ADD = ("{n} buys {x} more {i}.", "{n} finds {x} more {i}.", "A friend gives {n} {x} {i}.",
       "{n} wins {x} {i} in a game.")
SUB = ("{n} gives away {x} {i}.", "{n} loses {x} {i}.", "{n} sells {x} of the {i}.")
MUL = ("Then the number of {i} becomes {x} times as large.", "{n} ends up with {x} times as many {i} as before.")
DIV = ("{n} splits the {i} into {x} equal groups and keeps one group.",
       "{n} keeps 1 of every {x} {i} and gives the rest away.")
START = ("{n} has {x} {i}.", "{n} starts with {x} {i}.", "There are {x} {i} in {n}'s box.")
QUESTION = ("How many {i} does {n} have now?", "How many {i} are there at the end?",
            "What is the final number of {i}?")
SPLITS = ("warmup", "train", "valid", "test")

INSTRUCTION = "Solve step by step, one calculation per step. Put the answer in \\boxed{}."
TASK_VERSION = 1


@dataclass(frozen=True)
class WordProblem:
    id: str
    problem: str
    answer: str
    solution: str
    n_ops: int


def make_problem(rng: random.Random, n_ops: int, pid: str) -> WordProblem:
    """One story of `n_ops` operations; values stay positive integers below 1000 (exact division only)."""
    name, items = rng.choice(NAMES), rng.choice(ITEMS)
    value = rng.randint(2, 40)
    story = [rng.choice(START).format(n=name, x=value, i=items)]
    steps: list[str] = []
    for _ in range(n_ops):
        choices = ["add", "sub"] + (["mul"] if value <= 60 else []) + (
            ["div"] if any(value % d == 0 for d in range(2, 6)) else [])
        op = rng.choice(choices)
        if op == "add":
            x = rng.randint(2, 30)
            result, sym, table = value + x, "+", ADD
        elif op == "sub":
            x = rng.randint(1, max(1, value - 1))
            result, sym, table = value - x, "-", SUB
        elif op == "mul":
            x = rng.randint(2, 5)
            result, sym, table = value * x, "*", MUL
        else:
            x = rng.choice([d for d in range(2, 6) if value % d == 0])
            result, sym, table = value // x, "/", DIV
        story.append(rng.choice(table).format(n=name, x=x, i=items))
        steps.append(f"{value} {sym} {x} = {result}")
        value = result
    story.append(rng.choice(QUESTION).format(n=name, i=items))
    steps.append(f"Answer: \\boxed{{{value}}}")
    return WordProblem(id=pid, problem=" ".join(story), answer=str(value), solution="\n\n".join(steps), n_ops=n_ops)


def generate_splits(sizes: dict[str, int], seed: int = 0) -> dict[str, list[WordProblem]]:
    """Disjoint splits (by problem text), each with 1–4 operations in equal shares (cycled)."""
    rng, seen = random.Random(seed), set()
    out: dict[str, list[WordProblem]] = {}
    for split in SPLITS:
        rows: list[WordProblem] = []
        while len(rows) < sizes.get(split, 0):
            p = make_problem(rng, 1 + len(rows) % 4, f"{split}-{len(rows)}")
            if p.problem not in seen:
                seen.add(p.problem)
                rows.append(p)
        out[split] = rows
    return out


def task_yaml(split: str, max_tokens: int) -> str:
    """A task YAML reading `<split>.jsonl` beside it (fields: id, problem, answer, solution, meta n_ops)."""
    return "\n".join([
        f"# Step-KTO replica, {split} split: seeded synthetic arithmetic word problems (benchmarks/replica).",
        f"name: replica_{split}",
        f"version: {TASK_VERSION}",
        "description: synthetic 1-4 operation integer word problems (benchmarks/replica/problems.py)",
        "source:",
        f"  path: {split}.jsonl",
        "  split: train",
        "fields:",
        "  id: id",
        "  problem: problem",
        "  answer: answer",
        "  solution: solution",
        "  meta: [n_ops]",
        "prompt:",
        "  placement: system",  # the instruction replaces the chat template's default system turn (shorter prompt)
        f"  instruction: {json.dumps(INSTRUCTION)}",
        "generation:",
        f"  max_tokens: {max_tokens}",
        "metrics: [pass@1, avg@n]",
        "breakdown: [n_ops]",
        "",
    ])


def write_splits(folder: Path, sizes: dict[str, int], seed: int = 0, max_tokens: int = 160) -> dict[str, Path]:
    """Write the splits' JSONL files and the task YAMLs of the evaluated splits; returns {split: yaml or jsonl}."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for split, rows in generate_splits(sizes, seed).items():
        data = folder / f"{split}.jsonl"
        data.write_text("".join(json.dumps(asdict(r)) + "\n" for r in rows))
        paths[split] = data
        if split != "warmup":
            yml = folder / f"replica_{split}.yaml"
            yml.write_text(task_yaml(split, max_tokens))
            paths[split] = yml
    return paths
