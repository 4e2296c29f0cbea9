"""The arithmetic judge on the full ProcessBench: quality per split and throughput, in one run.

Quality (issue 4 targets: consistency >= 0.90 on gsm8k and math, false alarms on all-correct items <= 2 %):
the protocol metrics (error / correct accuracy, F1) and the statistics of the judge's flags (flagged items,
exact precision = flag == label, consistency = flag at or after the label, false-alarm rate on correct
items). Throughput: steps judged per second over all 3,400 items (the judge reads every step of an item
with no flag and stops at the first flagged one), best of --repeat runs, and as a ratio against the shared
pure-Python anchor workload of benchmarks/speed_gate.py measured in the same run, so that the figure can be
compared across machines.

    .venv/bin/python benchmarks/bench_arith_processbench.py [--data-dir ../shared/data] [--repeat 3] [--limit N]
"""
from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

from stepkto_eval import processbench_scoring as pb
from stepkto_eval.audit.arith import ArithJudge
from stepkto_eval.commands.processbench import format_table

REPO = Path(__file__).resolve().parents[1]


def _anchor_seconds() -> float:
    spec = importlib.util.spec_from_file_location("speed_gate", REPO / "benchmarks" / "speed_gate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.measure_anchor(repeats=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, help="first N items per split (smoke run)")
    args = parser.parse_args(argv)

    dataset = pb.load_splits(data_dir=args.data_dir, limit=args.limit)
    judge = ArithJudge()
    anchor_before = _anchor_seconds()
    best, predictions = float("inf"), []
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        predictions = pb.run_judge(judge, dataset=dataset)
        best = min(best, time.perf_counter() - start)
    anchor = min(anchor_before, _anchor_seconds())

    report = pb.score(predictions, dataset)
    print(format_table(report))
    n_steps = sum(len(it.steps) for items in dataset.values() for it in items)
    print(f"\nthroughput: {n_steps} steps of {sum(map(len, dataset.values()))} items in {best:.2f} s "
          f"= {n_steps / best:,.0f} steps/s (best of {args.repeat}); "
          f"anchor workload {anchor * 1000:.1f} ms; judge time / anchor = {best / anchor:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
