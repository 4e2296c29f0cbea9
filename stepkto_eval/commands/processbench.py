"""Score a step-error judge (or a file of predictions) on ProcessBench.

    stepkto-eval processbench --judge arith --data-dir ../shared/data --output-dir runs/pb-arith
    stepkto-eval processbench --judge "critic:vllm:/models/qwen?votes=3&temperature=0.7" --limit 20
    stepkto-eval processbench --replay runs/pb-arith/predictions.jsonl --data-dir ../shared/data

Writes predictions.jsonl ({split, id, pred, judge, evidence}), metrics.json (the `processbench` task with
per-split error_acc / correct_acc / f1 / confusion, as fractions) and report.md, and prints the table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from stepkto_eval import processbench as pb


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--judge", help="judge spec, e.g. arith, critic:hf:MODEL, prm:MODEL?family=qwen-prm, arith+critic:...")
    what.add_argument("--replay", help="JSONL of {split, id, pred} to score without running a judge")
    parser.add_argument("--splits", nargs="+", choices=pb.SPLITS, help="default: all four")
    parser.add_argument("--limit", type=int, help="first N items per split (smoke run; the F1 is then not comparable)")
    parser.add_argument("--data-dir", help="folder holding processbench/<split>.json (default: $STEPKTO_DATA_DIR, else the hub)")
    parser.add_argument("--output-dir", help="where predictions.jsonl, metrics.json and report.md go")


def _judge(spec: str):
    from stepkto_eval.audit.registry import make_judge

    return make_judge(spec)


def run(args: argparse.Namespace) -> int:
    from stepkto_eval.audit.registry import JudgeSpecError

    if args.limit is not None and args.limit < 1:
        print("stepkto-eval processbench: --limit must be >= 1", file=sys.stderr)
        return 2
    try:
        return _run(args)
    except (JudgeSpecError, pb.ProcessBenchError, OSError) as exc:
        print(f"stepkto-eval processbench: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    problems: list[str] = []
    if args.replay:
        predictions, problems = pb.read_predictions(args.replay)
        splits = args.splits or sorted({p["split"] for p in predictions} & set(pb.SPLITS), key=pb.SPLITS.index)
        dataset = pb.load_splits(splits or None, args.data_dir, args.limit)
        judge_name, seconds = f"replay:{args.replay}", None
    else:
        dataset = pb.load_splits(args.splits, args.data_dir, args.limit)
        judge = _judge(args.judge)
        start = time.perf_counter()
        predictions = pb.run_judge(judge, dataset=dataset)
        seconds = time.perf_counter() - start
        judge_name = judge.name
    report = pb.score(predictions, dataset)
    report.update({"judge": judge_name, "seconds": seconds, "problems": problems, "limit": args.limit,
                   "steps": {s: sum(len(it.steps) for it in items) for s, items in dataset.items()}})
    table = format_table(report)
    print(table)
    for line in problems:
        print(f"skipped: {line}")
    if args.output_dir:
        write_outputs(Path(args.output_dir), predictions, report, table)
        print(f"wrote {args.output_dir}/predictions.jsonl, metrics.json, report.md")
    return 0


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def format_table(report: dict) -> str:
    """Markdown table: protocol metrics (×100), flag statistics and confusion per split, then the mean F1."""
    head = ("| split | items | error acc | correct acc | F1 | flagged | exact prec. | consistency | "
            "false alarms on correct | too early / exact / too late / missed | no verdict |")
    lines = [head, "|" + "---|" * 11]
    for split, m in report["splits"].items():
        c = m["confusion"]
        lines.append(
            f"| {split} | {m['n']} | {_pct(m['error_acc'])} | {_pct(m['correct_acc'])} | {_pct(m['f1'])} | "
            f"{m['flagged']} | {_pct(m['exact_precision'])} | {_pct(m['consistency'])} | "
            f"{_pct(m['false_alarm_rate_correct'])} ({c['false_alarm']}/{m['n_correct']}) | "
            f"{c['too_early']} / {c['exact']} / {c['too_late']} / {c['missed']} | {m['no_verdict']} |")
    note = "" if report["complete"] else " (not all four full splits: not comparable with published numbers)"
    lines.append("")
    lines.append(f"Average F1 over {len(report['splits'])} split(s): {_pct(report['f1_avg'])}{note}")
    return "\n".join(lines)


def write_outputs(folder: Path, predictions: list[dict], report: dict, table: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "predictions.jsonl").open("w", encoding="utf-8") as fh:
        for p in predictions:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    task = {"splits": report["splits"], "f1_avg": report["f1_avg"], "version": pb.load_source().version}
    metrics = {"tasks": {"processbench": task},
               "processbench": {k: v for k, v in report.items() if k != "splits"}}
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    seconds = report.get("seconds")
    timing = "" if seconds is None else f" in {seconds:.1f} s"
    (folder / "report.md").write_text(
        f"# ProcessBench: {report['judge']}\n\n{len(predictions)} predictions{timing}.\n\n{table}\n\n"
        "Error / correct accuracy and F1 follow the official protocol; flag statistics count predictions "
        ">= 0: exact precision = flag == label, consistency = flag at or after the label on an erroneous "
        "item.\n", encoding="utf-8")
