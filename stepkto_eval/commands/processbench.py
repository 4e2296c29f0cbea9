"""Score a step-error judge (or a file of predictions) on ProcessBench.

    stepkto-eval processbench --judge arith --data-dir ../shared/data --output-dir runs/pb-arith
    stepkto-eval processbench --judge "critic:vllm:/models/qwen?votes=3&temperature=0.7" --limit 20
    stepkto-eval processbench --replay runs/pb-arith/predictions.jsonl --data-dir ../shared/data
    stepkto-eval processbench --judge "prm:Qwen/Qwen2.5-Math-PRM-7B?trust_remote_code=1" --tune-threshold-on gsm8k

Writes predictions.jsonl ({split, id, pred, judge, evidence}), metrics.json (the `processbench` task with
per-split error_acc / correct_acc / f1 / confusion, as fractions) and report.md, and prints the table.

`--tune-threshold-on SPLIT` (PRM judges, or a replay of a PRM run): the threshold is chosen for best F1 on
SPLIT from the stored step scores and every prediction is re-decided with it (no second forward pass). The
tuning split's F1 is in-sample; the report gives the mean over the other splits and the mean over all.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from stepkto_eval import processbench_scoring as pb
from stepkto_eval.folder_guard import EXIT_DISK, FolderRefused, disk_error, hold_folder
from stepkto_eval.jsonl import write_text_atomic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--judge", help="judge spec, e.g. arith, critic:hf:MODEL, prm:MODEL?family=qwen-prm, arith+critic:...")
    what.add_argument("--replay", help="JSONL of {split, id, pred} to score without running a judge (a PRM run's "
                      "predictions.jsonl also carries evidence.step_scores, which --tune-threshold-on re-decides)")
    parser.add_argument("--splits", nargs="+", choices=pb.SPLITS, help="default: all four")
    parser.add_argument("--limit", type=int, help="first N items per split (smoke run; the F1 is then not comparable)")
    parser.add_argument("--data-dir", help="folder holding processbench/<split>.json (default: $STEPKTO_DATA_DIR, else the hub)")
    parser.add_argument("--output-dir", help="where predictions.jsonl, metrics.json, report.md and report.html go")
    parser.add_argument("--tune-threshold-on", choices=pb.SPLITS, metavar="SPLIT",
                        help="PRM only: choose the step-score threshold for best F1 on SPLIT (ProcessBench uses "
                             "gsm8k) and apply it to the other splits; SPLIT is added to --splits if missing")


def _judge(spec: str):
    from stepkto_eval.audit.registry import make_judge

    return make_judge(spec)


def run(args: argparse.Namespace) -> int:
    from stepkto_eval.audit.registry import JudgeSpecError

    if args.limit is not None and args.limit < 1:
        print("stepkto-eval processbench: --limit must be >= 1", file=sys.stderr)
        return 2
    try:
        if not args.output_dir:
            return _run(args)
        out = Path(args.output_dir)
        check_output_folder(out)  # before a judge spends hours on a folder we may not write
        with hold_folder(out):
            return _run(args)
    except (JudgeSpecError, pb.ProcessBenchError, FolderRefused) as exc:
        print(f"stepkto-eval processbench: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"stepkto-eval processbench: {disk_error(exc) or exc}", file=sys.stderr)
        return EXIT_DISK if disk_error(exc) else 2


# What a ProcessBench output folder holds; a rerun into it replaces them (it is the same kind of result).
OUTPUT_FILES = ("predictions.jsonl", "metrics.json", "report.md", "report.html")


def check_output_folder(out: Path) -> None:
    """Refuse, before anything runs, an --output-dir that holds something other than a ProcessBench result:
    somebody else's files, or an eval/score/label run (its metrics.json and report would be overwritten)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise FolderRefused(f"--output-dir {out}: exists and is not a folder")
    names = sorted(p.name for p in out.iterdir() if not p.name.endswith(".tmp"))
    if not names:
        return
    try:
        ours = isinstance(json.loads((out / "metrics.json").read_text(encoding="utf-8")).get("processbench"), dict)
    except (OSError, ValueError, AttributeError):
        ours = False
    foreign = [n for n in names if n not in OUTPUT_FILES]
    if not ours or foreign:
        shown = ", ".join((foreign or names)[:8])
        raise FolderRefused(f"--output-dir {out}: is not empty and does not hold a ProcessBench result (it holds: "
                            f"{shown}); nothing was changed. Give a new or empty folder.")


def _check_tunable(spec: str) -> None:
    from stepkto_eval.audit.registry import JudgeSpecError, parse_spec

    plans = parse_spec(spec)
    if len(plans) != 1 or plans[0].kind != "prm":
        raise JudgeSpecError(f"--tune-threshold-on needs a single prm: judge (a threshold on step scores), "
                             f"got {spec!r}")


def _with_tuning_split(splits: list[str] | None, tune: str | None) -> list[str] | None:
    if not splits or tune is None or tune in splits:
        return splits
    return sorted([*splits, tune], key=pb.SPLITS.index)


def _run(args: argparse.Namespace) -> int:
    problems: list[str] = []
    tune = args.tune_threshold_on
    if args.replay:
        predictions, problems = pb.read_predictions(args.replay)
        splits = args.splits or sorted({p["split"] for p in predictions} & set(pb.SPLITS), key=pb.SPLITS.index)
        dataset = pb.load_splits(_with_tuning_split(splits, tune) or None, args.data_dir, args.limit)
        judge_name, seconds, where = f"replay:{args.replay}", None, str(args.replay)
    else:
        if tune:
            _check_tunable(args.judge)  # before loading a model
        dataset = pb.load_splits(_with_tuning_split(args.splits, tune), args.data_dir, args.limit)
        judge = _judge(args.judge)
        start = time.perf_counter()
        predictions = pb.run_judge(judge, dataset=dataset)
        seconds = time.perf_counter() - start
        judge_name, where = judge.name, f"judge {judge.name}"
    fit = baseline = None
    if tune:
        predictions, fit = pb.tune_and_apply(predictions, dataset, tune, where)
        if fit.judge_threshold is not None:  # what the run would have scored without tuning
            baseline = pb.score(pb.apply_threshold(predictions, fit.judge_threshold, where), dataset)["f1_avg"]
    report = pb.score(predictions, dataset)
    tuning = pb.tuning_summary(report, fit, baseline) if fit else None
    report.update({"judge": judge_name, "seconds": seconds, "problems": problems, "limit": args.limit,
                   "steps": {s: sum(len(it.steps) for it in items) for s, items in dataset.items()},
                   "threshold_tuning": tuning})
    table = format_table(report)
    print(table)
    for line in problems:
        print(f"skipped: {line}")
    if args.output_dir:
        write_outputs(Path(args.output_dir), predictions, report, table)
        print(f"wrote {args.output_dir}/predictions.jsonl, metrics.json, report.md, report.html")
    return 0


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def format_table(report: dict) -> str:
    """Markdown table: protocol metrics (×100), flag statistics and confusion per split, then the mean F1."""
    head = ("| split | items | error acc | correct acc | F1 | flagged | exact prec. | consistency | "
            "false alarms on correct | too early / exact / too late / missed | no verdict |")
    lines = [head, "|" + "---|" * 11]
    tuning = report.get("threshold_tuning")
    for split, m in report["splits"].items():
        c = m["confusion"]
        name = f"{split} (tuning split, in-sample)" if tuning and split == tuning["split"] else split
        lines.append(
            f"| {name} | {m['n']} | {_pct(m['error_acc'])} | {_pct(m['correct_acc'])} | {_pct(m['f1'])} | "
            f"{m['flagged']} | {_pct(m['exact_precision'])} | {_pct(m['consistency'])} | "
            f"{_pct(m['false_alarm_rate_correct'])} ({c['false_alarm']}/{m['n_correct']}) | "
            f"{c['too_early']} / {c['exact']} / {c['too_late']} / {c['missed']} | {m['no_verdict']} |")
    note = "" if report["complete"] else " (not all four full splits: not comparable with published numbers)"
    lines.append("")
    if report.get("judge_truncation_rate") is not None:
        cut = sum(m["judge_truncated"] for m in report["splits"].values())
        total = sum(m["n"] for m in report["splits"].values())
        lines.append(f"Judge truncated by its length limit on {cut} of {total} items "
                     f"({_pct(report['judge_truncation_rate'])}%): counted as no verdict unless a verdict came first.")
    if tuning:
        lines += _tuning_lines(tuning, note)
    else:
        lines.append(f"Average F1 over {len(report['splits'])} split(s): {_pct(report['f1_avg'])}{note}")
    return "\n".join(lines)


def _tuning_lines(t: dict, note: str) -> list[str]:
    held = t["held_out_splits"]
    judged = "" if t["judge_threshold"] is None else f"; the judge ran with {t['judge_threshold']:g}"
    lines = [
        f"Threshold {t['threshold']:.6g} chosen for best F1 on {t['split']} ({t['n_items']} items){judged}.",
        f"{t['split']} F1 (in-sample: the split the threshold was tuned on): {_pct(t['in_sample']['f1'])}",
    ]
    if held:
        lines.append(f"Average F1 over {len(held)} held-out split(s) ({', '.join(held)}): "
                     f"{_pct(t['f1_avg_held_out'])}{note}")
    lines.append(f"Average F1 over all {len(held) + 1} split(s), {t['split']} in-sample included: "
                 f"{_pct(t['f1_avg_all'])}{note}")
    if t["f1_avg_at_judge_threshold"] is not None:
        lines.append(f"(Average F1 over all {len(held) + 1} split(s) at the judge's own threshold: "
                     f"{_pct(t['f1_avg_at_judge_threshold'])})")
    return lines


_TUNING_NOTE = (
    " The PRM threshold was chosen for best F1 on the tuning split from the stored step scores and applied "
    "unchanged to the other splits (predictions.jsonl holds the re-decided predictions); the tuning split's F1 "
    "is in-sample, the held-out average is the fair one.")


def write_outputs(folder: Path, predictions: list[dict], report: dict, table: str) -> None:
    """Each file is replaced whole (temp file + rename): a crash or a full disk leaves the previous result or
    the new one, never half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "predictions.jsonl", "".join(json.dumps(p, ensure_ascii=False) + "\n"
                                                            for p in predictions))
    task = {"splits": report["splits"], "f1_avg": report["f1_avg"], "version": pb.load_source().version,
            "judge_truncation_rate": report.get("judge_truncation_rate")}
    if report.get("threshold_tuning"):
        task["threshold_tuning"] = report["threshold_tuning"]
    metrics = {"tasks": {"processbench": task},
               "processbench": {k: v for k, v in report.items() if k != "splits"}}
    write_text_atomic(folder / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    seconds = report.get("seconds")
    timing = "" if seconds is None else f" in {seconds:.1f} s"
    write_text_atomic(
        folder / "report.md",
        f"# ProcessBench: {report['judge']}\n\n{len(predictions)} predictions{timing}.\n\n{table}\n\n"
        "Error / correct accuracy and F1 follow the official protocol; flag statistics count predictions "
        ">= 0: exact precision = flag == label, consistency = flag at or after the label on an erroneous "
        f"item.{_TUNING_NOTE if report.get('threshold_tuning') else ''}\n")
    from ..reports.html_report import write_html_report  # lazy: matplotlib is needed only here

    write_html_report(folder)
