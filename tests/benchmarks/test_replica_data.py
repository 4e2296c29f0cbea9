"""The replica experiment's first stage (benchmarks/replica): seeded problems, task YAMLs the product loads,
and gold solutions whose steps the `arith` judge reads exactly. No model, no training (the experiment itself
is `python benchmarks/replica/run.py`, not run in CI)."""
from __future__ import annotations

import importlib.util
import json
import random
import sys

from conftest import REPO

from stepkto_eval.audit.arith import ArithJudge
from stepkto_eval.audit.base import JudgeInput
from stepkto_eval.audit.steps import split_steps
from stepkto_eval.tasks import load_task, load_task_spec

_spec = importlib.util.spec_from_file_location("replica_problems", REPO / "benchmarks" / "replica" / "problems.py")
problems = importlib.util.module_from_spec(_spec)
sys.modules["replica_problems"] = problems
_spec.loader.exec_module(problems)

SIZES = {"warmup": 12, "train": 8, "valid": 4, "test": 8}


def test_splits_are_seeded_disjoint_and_balanced(tmp_path):
    a = problems.generate_splits(SIZES, seed=3)
    assert a == problems.generate_splits(SIZES, seed=3)
    assert a != problems.generate_splits(SIZES, seed=4)
    texts = [p.problem for rows in a.values() for p in rows]
    assert len(texts) == len(set(texts)) == sum(SIZES.values())  # no problem in two splits
    for split, rows in a.items():
        assert len(rows) == SIZES[split]
        assert [p.n_ops for p in rows] == [1 + i % 4 for i in range(len(rows))]


def test_task_yaml_loads_through_the_product(tmp_path):
    paths = problems.write_splits(tmp_path / "data", SIZES, seed=0, max_tokens=96)
    assert paths["warmup"].suffix == ".jsonl"
    for split in ("train", "valid", "test"):
        spec = load_task_spec(str(paths[split]))
        assert spec.name == f"replica_{split}" and spec.generation["max_tokens"] == 96
        assert spec.prompt.instruction == problems.INSTRUCTION
        task = load_task(spec, limit=3)
        assert task.n_available == SIZES[split] and len(task.problems) == 3
        rows = [json.loads(line) for line in paths[split].with_name(f"{split}.jsonl").read_text().splitlines()]
        assert [(p.id, p.problem, p.answer) for p in task.problems] == [
            (r["id"], r["problem"], r["answer"]) for r in rows[:3]]
        assert task.problems[0].meta == {"n_ops": 1}


def test_gold_solutions_are_exact_for_the_arith_judge():
    """Every gold step is one true claim the judge checks; changing one result flags exactly that step."""
    rng, judge = random.Random(0), ArithJudge()
    for p in problems.generate_splits({"test": 40}, seed=1)["test"]:
        steps = [s.text for s in split_steps(p.solution)]
        assert len(steps) == p.n_ops + 1 and steps[-1] == f"Answer: \\boxed{{{p.answer}}}"
        verdict = judge.judge_one(JudgeInput(problem=p.problem, steps=tuple(steps)))
        assert verdict.first_error == -1
        assert len(verdict.evidence["claims"]) == p.n_ops and all(c["ok"] for c in verdict.evidence["claims"])
        bad = rng.randrange(p.n_ops)
        lhs, result = steps[bad].rsplit(" = ", 1)
        wrong = list(steps)
        wrong[bad] = f"{lhs} = {int(result) + rng.choice([-2, -1, 1, 3])}"
        assert judge.judge_one(JudgeInput(problem=p.problem, steps=tuple(wrong))).first_error == bad


def _load_run():
    spec = importlib.util.spec_from_file_location("replica_run", REPO / "benchmarks" / "replica" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["replica_run"] = module
    spec.loader.exec_module(module)
    return module


def test_validation_mode_and_overrides_reach_the_recipe(tmp_path):
    """--eval-split valid evaluates every round on the whole validation split (never the held-out one), and the
    sweep's training overrides land in the `train` section the trainer reads."""
    run = _load_run()
    data = problems.write_splits(tmp_path / "data", SIZES, seed=0, max_tokens=96)
    plan = run.Plan(sizes=SIZES, train_problems=2, test_problems=8, valid_problems=0, rounds=1, eval_split="valid",
                    arms=("stepkto",))
    plan.train = {**plan.train, "learning_rate": 2e-6, "desirable_ratio": 4.0}
    r = run.recipe(plan, tmp_path / "out", "stepkto", tmp_path / "m0", data, plan.rounds)
    assert r["eval"]["tasks"] == str(data["valid"]) and r["eval"]["limit"] == SIZES["valid"]
    assert r["train"]["learning_rate"] == 2e-6 and r["train"]["desirable_ratio"] == 4.0 and r["train"]["alpha"] == 1.0
    held_out = run.recipe(run.replace(plan, eval_split="test"), tmp_path / "out", "kto", tmp_path / "m0", data, 1)
    assert held_out["eval"]["tasks"] == str(data["test"]) and held_out["eval"]["limit"] == 8


def test_one_arm_results_are_written(tmp_path):
    """A sweep runs one arm: the table and the plot name the split and need no second arm."""
    run = _load_run()
    row = {"round": 0, "pass1": 0.3, "pass1_ci": [0.2, 0.4], "flawed": 0.05, "flawed_ci": [0.0, 0.1]}
    results = {"plan": {"eval_split": "valid"}, "compare_kto_vs_stepkto_last": None,
               "arms": {"stepkto": {"alpha": 1.0, "rounds": [row, {**row, "round": 1, "pass1": 0.35}],
                                    "compare_m0_vs_last": None}}}
    run.write_outputs(results, tmp_path / "sweep-a")
    table = (tmp_path / "sweep-a.md").read_text()
    assert "validation pass@1" in table and "| stepkto (α=1) | M1 | 35.0 [20.0, 40.0]" in table
    assert (tmp_path / "sweep-a.png").stat().st_size > 0
    # the recorded command line names no local folder
    assert run.portable_argv(["--out", str(tmp_path / "w"), "--lr", "2e-6"]) == ["--out", "w", "--lr", "2e-6"]
