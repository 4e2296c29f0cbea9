"""Grading completions into sample records, and `stepkto-eval score` over a JSONL of completions.

`grade_completion` is the one place where a completion becomes (extracted, verdict, correct); the eval
pipeline and the score command both use it, and both feed the same metrics and report code.
"""
from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .jsonl import JsonlRowError, iter_object_rows
from .metrics import overall_metrics, task_metrics
from .runs import RunFolder, package_versions, utc_now
from .tasks import file_sha256

SCORE_METRICS = ("pass@1", "avg@n", "pass@n", "maj@n")
PARALLEL_MIN_PAIRS = 64  # below this, starting worker processes costs more than it saves


class ScoreInputError(ValueError):
    """A row of the input file lacks what scoring needs; the message names file, row and field."""


def grade_completion(gold: str, text: str | None, problem: str | None = None) -> dict[str, Any]:
    """{"extracted", "correct", "verdict"} for one completion; never raises (a checker crash is a verdict)."""
    from .grading import extract_answer, grade

    if text is None:
        return {"extracted": None, "correct": False,
                "verdict": {"equal": False, "rule": "no-completion", "reason": "generation failed",
                            "gold_norm": None, "candidate_norm": None}}
    try:
        extracted = extract_answer(text)
        if extracted is None:
            return {"extracted": None, "correct": False,
                    "verdict": {"equal": False, "rule": "no-answer", "reason": "no final answer marker found",
                                "gold_norm": None, "candidate_norm": None}}
        verdict = grade(gold, extracted, problem=problem)
        return {"extracted": extracted, "correct": bool(verdict.equal), "verdict": verdict.to_dict()}
    except Exception as exc:  # one bad sample must not end a long run: record why it failed
        return {"extracted": None, "correct": False,
                "verdict": {"equal": False, "rule": "grader-error", "reason": f"{type(exc).__name__}: {exc}",
                            "gold_norm": None, "candidate_norm": None}}


def _grade_pair(pair: tuple[str, str | None]) -> dict[str, Any]:
    return grade_completion(pair[0], pair[1])


def grade_many(pairs: Sequence[tuple[str, str | None]], *, workers: int | None = None, progress: bool = True
               ) -> list[dict[str, Any]]:
    """Grade (gold, completion) pairs in order; worker processes when there are many (the checker is
    CPU-bound pure Python, so threads would not help and processes isolate any pathological input)."""
    from tqdm.auto import tqdm

    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    bar = tqdm(total=len(pairs), desc="grading", unit="completion", disable=not progress)
    try:
        if workers <= 1 or len(pairs) < PARALLEL_MIN_PAIRS:
            out = []
            for pair in pairs:
                out.append(_grade_pair(pair))
                bar.update()
            return out
        chunk = max(1, len(pairs) // (workers * 8))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            out = []
            for result in pool.map(_grade_pair, pairs, chunksize=chunk):
                out.append(result)
                bar.update()
            return out
    finally:
        bar.close()


@dataclass
class ScoreConfig:
    file: Path
    output_dir: Path
    gold_field: str = "gold"
    completions_field: str | None = None  # None: "completions" (list) or "completion" (string)
    id_field: str | None = None  # None: "id" when present, else the row number
    breakdown: tuple[str, ...] = ()
    task: str | None = None  # the task name in the run folder; None: the file's name without suffix
    workers: int | None = None
    progress: bool = True
    command: list[str] = field(default_factory=list)


def _row_completions(row: dict, cfg: ScoreConfig, where: str) -> tuple[str, list[str]]:
    names = [cfg.completions_field] if cfg.completions_field else ["completions", "completion"]
    name = next((n for n in names if n in row), None)
    if name is None:
        raise ScoreInputError(f"{where}: field '{'|'.join(names)}' is missing")
    value = row[name]
    if isinstance(value, str):
        return name, [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return name, value
    raise ScoreInputError(f"{where}: field '{name}' must be a string or a non-empty list of strings")


def read_rows(cfg: ScoreConfig) -> list[dict]:
    """Parse the JSONL into per-problem dicts {id, gold, completions, meta}; all rows must have the same n."""
    problems, n_expected, seen = [], None, set()
    try:
        for line_no, row in iter_object_rows(cfg.file):
            where = f"{cfg.file}: line {line_no}"
            gold = row.get(cfg.gold_field)
            if gold in (None, ""):
                raise ScoreInputError(f"{where}: field '{cfg.gold_field}' (gold answer) is missing or empty")
            if isinstance(gold, (list, dict, bool)):
                raise ScoreInputError(f"{where}: field '{cfg.gold_field}' (gold answer) must be a string or a "
                                      f"number, got {type(gold).__name__} {json.dumps(gold)[:80]}")
            name, completions = _row_completions(row, cfg, where)
            if n_expected is None:
                n_expected = len(completions)
            elif len(completions) != n_expected:
                raise ScoreInputError(f"{where}: field '{name}' has {len(completions)} completions, "
                                      f"earlier rows have {n_expected} (metrics need the same n per problem)")
            id_name = cfg.id_field or ("id" if "id" in row else None)
            if id_name is not None and row.get(id_name) is None:
                raise ScoreInputError(f"{where}: field '{id_name}' (problem id) is missing")
            pid = str(row[id_name]) if id_name else str(line_no)
            if pid in seen:
                raise ScoreInputError(f"{where}: field '{id_name}' repeats id {pid!r}")
            seen.add(pid)
            meta = {k: v for k, v in row.items() if k not in (name, cfg.gold_field)}
            problems.append({"id": pid, "gold": row[cfg.gold_field], "completions": completions, "meta": meta})
    except JsonlRowError as exc:
        raise ScoreInputError(str(exc)) from None
    if not problems:
        raise ScoreInputError(f"{cfg.file}: the file is empty (no rows)")
    return problems


def _sample_meta(meta: dict, i: int, n: int) -> dict:
    # A list with one entry per completion (e.g. a stored `score` or `pred`) contributes its i-th entry.
    return {k: (v[i] if isinstance(v, list) and len(v) == n and n > 1 else v) for k, v in meta.items()}


def problems_digest(problems: Sequence[dict]) -> str:
    """sha256 over the sorted (id, gold answer) pairs: what two score runs must share to be compared item by
    item (`stepkto-eval compare`), whatever completions they graded."""
    pairs = sorted((str(p["id"]), str(p["gold"])) for p in problems)
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode("utf-8")).hexdigest()


def score_settings(manifest: dict) -> dict:
    """What decides whether a score folder may be rescored in place: the input (content, fields), the task
    name and the checker. A folder scored from other settings is refused, as an eval folder is."""
    source = dict(manifest.get("source") or {})
    source.pop("file", None)
    return {"source": source, "task": manifest.get("task"), "checker_version": manifest.get("checker_version")}


def score_file(cfg: ScoreConfig) -> dict:
    """Grade every completion, write samples.jsonl / metrics.json / report.md into cfg.output_dir.

    Everything is read and checked before the folder is touched; the folder is locked while written and must
    be new, empty, or a `score` run of the same input (which is then rescored in place)."""
    from .folder_guard import check_folder, hold_folder
    from .grading import CHECKER_VERSION
    from .reports import markdown_report as report

    problems = read_rows(cfg)
    n = len(problems[0]["completions"])
    task = cfg.task or cfg.file.stem
    folder = RunFolder(cfg.output_dir)
    manifest = {"stepkto_version": package_versions().get("stepkto"), "created": utc_now(), "command": cfg.command,
                "kind": "score", "task": task,
                "source": {"file": str(cfg.file), "file_sha256": file_sha256(cfg.file),
                           "gold_field": cfg.gold_field, "completions_field": cfg.completions_field,
                           "id_field": cfg.id_field, "problems_sha256": problems_digest(problems)},
                "checker_version": CHECKER_VERSION, "sampling": {"n": n}}
    check_folder(folder.path, "score")
    old = folder.read_manifest()
    if old is not None and score_settings(old) != score_settings(manifest):
        raise ScoreInputError(f"{folder.path} holds a score run of other input or settings, refusing to replace "
                              "it (nothing was changed); give a new --output-dir")
    pairs = [(str(p["gold"]), c) for p in problems for c in p["completions"]]
    graded = iter(grade_many(pairs, workers=cfg.workers, progress=cfg.progress))
    samples = []
    for p in problems:
        for i, text in enumerate(p["completions"]):
            samples.append({"task": task, "id": p["id"], "sample_index": i, "prompt": None, "completion": text,
                            "finish_reason": None, **next(graded), "gold": str(p["gold"]),
                            "tokens": {"prompt": None, "completion": None},
                            "meta": _sample_meta(p["meta"], i, n), "error": None})
    with hold_folder(folder.path, " ".join(cfg.command)):
        check_folder(folder.path, "score")
        folder.write_text("manifest.json", json.dumps(manifest, indent=2) + "\n")
        folder.samples_path.unlink(missing_ok=True)  # scoring is not resumable: a rerun replaces the file
        folder.append_samples(samples)
        entry, table = task_metrics(samples, [p["id"] for p in problems], n=n, metric_names=SCORE_METRICS,
                                    greedy=False, breakdown=cfg.breakdown, task=task)
        entry["greedy"] = None  # unknown for completions produced elsewhere
        entry["truncation_rate"] = None  # so is whether they hit a length limit (finish_reason is null)
        metrics = {"settings_hash": None, "model": None, "round": None, "tasks": {task: entry},
                   "overall": overall_metrics([table])}
        folder.write_metrics(metrics)
        report.write_reports(folder, metrics, samples, manifest)
    return metrics
