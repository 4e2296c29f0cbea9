"""ProcessBench: load the four splits, run a step judge on them, and score its earliest-error predictions.

Protocol (Zheng et al., 2024, "ProcessBench: Identifying Process Errors in Mathematical Reasoning"): for each
item the judge predicts the 0-based index of the earliest wrong step, or -1 for "all steps correct". Per split

    acc_error   = mean(pred == label  over items with label != -1)
    acc_correct = mean(pred == -1     over items with label == -1)
    F1          = 2 · acc_error · acc_correct / (acc_error + acc_correct)      (0 when both are 0)

and the headline is the plain mean of the four split F1s (reported ×100). A missing prediction or a judge
"no verdict" (pred None) is scored as wrong on both kinds of items and counted separately, and so is the
judge's truncation (a critic review stopped by its token limit, a PRM input cut at max_length: the
`judge_truncated` count per split and `judge_truncation_rate` overall).

Beyond the protocol, `score` reports the judge's confusion per split — on erroneous items: too early
(pred < label), exact, too late (pred > label), missed (pred -1); on correct items: false alarm — and the
statistics of its *flags* (pred >= 0) that matter for a high-precision judge such as `arith`: exact
precision (flag == label), consistency (flag at or after the label on an erroneous item) and the false-alarm
rate on all-correct items.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from stepkto_eval.audit.base import Judge, JudgeInput
from stepkto_eval.jsonl import iter_jsonl
from stepkto_eval.tasks import tasks_dir

SPLITS = ("gsm8k", "math", "olympiadbench", "omnimath")
SPLIT_SIZES = {"gsm8k": 400, "math": 1000, "olympiadbench": 1000, "omnimath": 1000}
TASK_FILE = tasks_dir() / "processbench.yaml"


class ProcessBenchError(ValueError):
    """Unusable ProcessBench data or predictions; the message names the file, row and field."""


@dataclass(frozen=True)
class Item:
    split: str
    id: str
    problem: str
    steps: tuple[str, ...]
    label: int  # earliest wrong step, -1 = all correct
    generator: str | None = None


@dataclass(frozen=True)
class Source:
    hub_id: str
    revision: str | None
    splits: tuple[str, ...]
    local_files: str  # pattern with {split}, relative to the data folder
    version: int


def load_source(task_file: Path = TASK_FILE) -> Source:
    """Where ProcessBench comes from, as written in tasks/processbench.yaml."""
    raw = yaml.safe_load(task_file.read_text(encoding="utf-8"))
    section = raw.get("processbench") or {}
    return Source(hub_id=raw["source"]["path"], revision=raw["source"].get("revision"),
                  splits=tuple(section.get("splits") or SPLITS),
                  local_files=section.get("local_files", "processbench/{split}.json"), version=int(raw["version"]))


def _rows(split: str, source: Source, data_dir: Path | None) -> tuple[Any, str]:
    import datasets

    if data_dir is not None:
        path = data_dir / source.local_files.format(split=split)
        if not path.is_file():
            raise ProcessBenchError(f"ProcessBench split {split!r}: {path} not found (from --data-dir / "
                                    "STEPKTO_DATA_DIR; expected processbench/<split>.json)")
        try:
            return datasets.load_dataset("json", data_files=str(path), split="train"), str(path)
        except Exception as exc:  # datasets wraps JSON errors in several types
            raise ProcessBenchError(f"{path}: could not be read as JSON: {exc}") from exc
    return (datasets.load_dataset(source.hub_id, split=split, revision=source.revision),
            f"{source.hub_id}[{split}]@{source.revision or 'unpinned'}")


def _item(row: dict, index: int, split: str, where: str) -> Item:
    def fail(field: str, why: str) -> ProcessBenchError:
        return ProcessBenchError(f"{where}: row {index}: field '{field}' {why}")

    for field in ("id", "problem", "steps", "label"):
        if row.get(field) is None:
            raise fail(field, "is missing")
    steps = row["steps"]
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
        raise fail("steps", "must be a non-empty list of strings")
    label = row["label"]
    if isinstance(label, bool) or not isinstance(label, int) or not -1 <= label < len(steps):
        raise fail("label", f"must be -1 or a step index below {len(steps)}, got {label!r}")
    return Item(split, str(row["id"]), str(row["problem"]), tuple(steps), label, row.get("generator"))


def load_splits(splits: Sequence[str] | None = None, data_dir: str | os.PathLike | None = None,
                limit: int | None = None, source: Source | None = None) -> dict[str, list[Item]]:
    """Items per split (the first `limit` of each when given), from `data_dir` or else the hub."""
    source = source or load_source()
    chosen = tuple(splits or source.splits)
    unknown = [s for s in chosen if s not in source.splits]
    if unknown:
        raise ProcessBenchError(f"unknown ProcessBench split(s) {unknown}; choose from {list(source.splits)}")
    if data_dir is None and os.environ.get("STEPKTO_DATA_DIR"):
        data_dir = os.environ["STEPKTO_DATA_DIR"]
    folder = Path(data_dir) if data_dir is not None else None
    out = {}
    for split in chosen:
        rows, where = _rows(split, source, folder)
        count = len(rows) if limit is None else min(limit, len(rows))
        out[split] = [_item(rows[i], i, split, where) for i in range(count)]
    return out


def run_judge(judge: Judge, splits: Sequence[str] | None = None, data_dir: str | os.PathLike | None = None,
              limit: int | None = None, dataset: dict[str, list[Item]] | None = None) -> list[dict]:
    """One prediction record {split, id, pred, judge, evidence} per item, in dataset order."""
    dataset = dataset if dataset is not None else load_splits(splits, data_dir, limit)
    predictions = []
    for split, items in dataset.items():
        judgements = judge.judge([JudgeInput(problem=it.problem, steps=it.steps) for it in items])
        if len(judgements) != len(items):
            raise RuntimeError(f"judge {judge.name} returned {len(judgements)} verdicts for {len(items)} items")
        for item, verdict in zip(items, judgements, strict=True):
            predictions.append({"split": split, "id": item.id, "pred": verdict.first_error,
                                "judge": verdict.judge, "evidence": verdict.evidence})
    return predictions


def read_predictions(path: str | os.PathLike) -> tuple[list[dict], list[str]]:
    """Predictions from a replay JSONL ({split, id, pred} per line, optional evidence) and the problems of bad lines.

    A bad line (not JSON, a missing field, a pred that is neither an integer >= -1 nor null) is reported and
    skipped, so its item counts as "no prediction" rather than stopping the replay.
    """
    predictions, problems = [], []
    for number, row, problem in iter_jsonl(path, required=("split", "id", "pred")):
        if problem:
            problems.append(problem)
            continue
        pred = row["pred"]
        if pred is not None and (isinstance(pred, bool) or not isinstance(pred, int) or pred < -1):
            problems.append(f"{path}: line {number}: field 'pred' must be an integer >= -1 or null, got {pred!r}")
            continue
        record = {"split": str(row["split"]), "id": str(row["id"]), "pred": pred}
        if isinstance(row.get("evidence"), dict):  # a PRM run's step scores allow re-tuning its threshold
            record["evidence"] = row["evidence"]
        predictions.append(record)
    return predictions, problems


def _f1(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0


def score_split(items: Sequence[Item], preds: dict[str, int | None]) -> dict:
    """Protocol metrics, confusion and flag statistics of one split (fractions in [0, 1])."""
    c = dict.fromkeys(("too_early", "exact", "too_late", "missed", "no_verdict_error",
                       "true_negative", "false_alarm", "no_verdict_correct"), 0)
    for item in items:
        pred = preds.get(item.id)
        if item.label == -1:
            key = "no_verdict_correct" if pred is None else "true_negative" if pred == -1 else "false_alarm"
        elif pred is None:
            key = "no_verdict_error"
        else:
            key = ("missed" if pred == -1 else "exact" if pred == item.label
                   else "too_early" if pred < item.label else "too_late")
        c[key] += 1
    n_error = sum(it.label != -1 for it in items)
    n_correct = len(items) - n_error
    acc_error = c["exact"] / n_error if n_error else 0.0
    acc_correct = c["true_negative"] / n_correct if n_correct else 0.0
    flagged = c["too_early"] + c["exact"] + c["too_late"] + c["false_alarm"]
    return {
        "n": len(items), "n_error": n_error, "n_correct": n_correct,
        "error_acc": acc_error, "correct_acc": acc_correct, "f1": _f1(acc_error, acc_correct),
        "confusion": c,
        "flagged": flagged,
        "exact_precision": c["exact"] / flagged if flagged else None,
        "consistency": (c["exact"] + c["too_late"]) / flagged if flagged else None,
        "false_alarm_rate_correct": c["false_alarm"] / n_correct if n_correct else None,
        "no_verdict": c["no_verdict_error"] + c["no_verdict_correct"],
    }


def score(predictions: Iterable[dict], dataset: dict[str, list[Item]]) -> dict:
    """Per-split metrics and the headline (mean F1 of the splits scored); see the module docstring."""
    from stepkto_eval.audit.base import judge_truncated

    by_split: dict[str, dict[str, int | None]] = {s: {} for s in dataset}
    truncated: dict[str, set[str]] = {s: set() for s in dataset}
    unmatched, with_evidence = 0, 0
    for p in predictions:
        if p["split"] in by_split:
            by_split[p["split"]][str(p["id"])] = p["pred"]
            with_evidence += isinstance(p.get("evidence"), dict)
            if judge_truncated(p.get("evidence")):
                truncated[p["split"]].add(str(p["id"]))
        else:
            unmatched += 1
    splits = {s: score_split(items, by_split[s]) for s, items in dataset.items()}
    for s, items in dataset.items():  # how often a length limit cut the judge's work (module docstring)
        splits[s]["judge_truncated"] = len(truncated[s] & {it.id for it in items})
    n_items = sum(len(items) for items in dataset.values())
    known = {s: {it.id for it in items} for s, items in dataset.items()}
    unmatched += sum(len(set(ids) - known[s]) for s, ids in by_split.items())
    f1s = [m["f1"] for m in splits.values()]
    return {
        "splits": splits,
        "f1_avg": sum(f1s) / len(f1s) if f1s else 0.0,
        # The headline is comparable with published numbers only on all four full splits.
        "complete": {s: len(items) for s, items in dataset.items()} == SPLIT_SIZES,
        "unmatched_predictions": unmatched,
        # items whose critic review hit max_tokens or whose PRM input was cut (None: no evidence to tell)
        "judge_truncation_rate": (sum(m["judge_truncated"] for m in splits.values()) / n_items
                                  if with_evidence and n_items else None),
    }


# ---------------------------------------------------------------- PRM threshold tuning
@dataclass(frozen=True)
class ThresholdTuning:
    """The threshold chosen on one split; `f1` etc. are in-sample (measured on the split it was chosen on)."""

    split: str
    threshold: float
    f1: float
    acc_error: float
    acc_correct: float
    n_items: int
    judge_threshold: float | None  # the threshold the judge ran with (from its evidence), for comparison


def _step_scores(prediction: dict, where: str) -> list[float | None]:
    scores = (prediction.get("evidence") or {}).get("step_scores")
    if not isinstance(scores, list) or not all(s is None or isinstance(s, (int, float)) for s in scores):
        raise ProcessBenchError(f"{where}: prediction for {prediction['split']}/{prediction['id']} has no "
                                "evidence.step_scores list: threshold tuning needs a PRM judge's predictions")
    return scores


def _judge_threshold(prediction: dict) -> float | None:
    # A re-tuned file keeps the threshold its judge ran with under judge_threshold.
    evidence = prediction.get("evidence") or {}
    value = evidence.get("judge_threshold", evidence.get("threshold"))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def apply_threshold(predictions: Sequence[dict], threshold: float, where: str = "predictions",
                    tuned_on: str | None = None) -> list[dict]:
    """Every prediction re-decided from its stored step scores: pred = first_error_from_scores(scores, t)
    (an item without steps stays a no-verdict, as in PRMJudge); evidence records the threshold used."""
    from stepkto_eval.audit.prm import first_error_from_scores

    out = []
    for p in predictions:
        scores = _step_scores(p, where)
        evidence = {**p["evidence"], "judge_threshold": _judge_threshold(p), "threshold": threshold}
        if tuned_on is not None:
            evidence["threshold_tuned_on"] = tuned_on
        out.append({**p, "pred": first_error_from_scores(scores, threshold) if scores else None,
                    "evidence": evidence})
    return out


def tune_and_apply(predictions: Sequence[dict], dataset: dict[str, list[Item]], split: str,
                   where: str = "predictions") -> tuple[list[dict], ThresholdTuning]:
    """ProcessBench's PRM protocol: choose the F1-best threshold on `split`, then re-decide every prediction.

    The step scores stored in each prediction's evidence are reused, so no model runs again. The threshold
    comes from `audit.prm.tune_threshold` on the items of `split` (ties go to the smallest threshold) and is
    applied to every prediction with `apply_threshold`; predictions of other splits need step scores too.
    """
    from stepkto_eval.audit.prm import tune_threshold

    if split not in dataset:
        raise ProcessBenchError(f"tuning split {split!r} is not among the splits loaded ({list(dataset)})")
    by_id = {str(p["id"]): p for p in predictions if p["split"] == split}
    missing = [it.id for it in dataset[split] if it.id not in by_id]
    if missing:
        raise ProcessBenchError(f"{where}: no prediction for tuning item(s) {missing[:5]} of split {split!r}")
    items = dataset[split]
    try:
        fit = tune_threshold([_step_scores(by_id[it.id], where) for it in items], [it.label for it in items])
    except ValueError as exc:
        raise ProcessBenchError(f"{where}: cannot tune a threshold on {split!r}: {exc}") from None
    judge_thresholds = {_judge_threshold(p) for p in predictions}
    judge_threshold = judge_thresholds.pop() if len(judge_thresholds) == 1 else None
    tuned = apply_threshold(predictions, fit.threshold, where, tuned_on=split)
    return tuned, ThresholdTuning(split, fit.threshold, fit.f1, fit.acc_error, fit.acc_correct, len(items),
                                  judge_threshold)


def tuning_summary(report: dict, tuning: ThresholdTuning, f1_avg_at_judge_threshold: float | None) -> dict:
    """What a tuned run reports: the threshold, the tuning split's F1 (in-sample: the threshold was chosen to
    maximise it), the mean F1 over the other splits (held out), and the mean over every split scored
    (includes the in-sample split; this is how ProcessBench averages PRMs tuned on gsm8k)."""
    held_out = [s for s in report["splits"] if s != tuning.split]
    f1s = [report["splits"][s]["f1"] for s in held_out]
    return {
        "split": tuning.split, "threshold": tuning.threshold, "judge_threshold": tuning.judge_threshold,
        "n_items": tuning.n_items,
        "in_sample": {"f1": tuning.f1, "error_acc": tuning.acc_error, "correct_acc": tuning.acc_correct},
        "held_out_splits": held_out,
        "f1_avg_held_out": sum(f1s) / len(f1s) if f1s else None,
        "f1_avg_all": report["f1_avg"],
        "f1_avg_at_judge_threshold": f1_avg_at_judge_threshold,
    }
