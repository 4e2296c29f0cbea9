"""Read-only view of a finished run folder, for reports, leaderboards and the regression gate.

The folder layout is documented in docs/run-folder.md. Reading is tolerant: a bad line in
`samples.jsonl` is recorded in `RunView.problems` (file, line, why) instead of aborting, because a
report on 499 good samples is more useful than a crash. The newest line for a key
`(task, id, sample_index)` wins, exactly as a resumed run treats it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepkto_eval.jsonl import iter_jsonl, loads_text


class RunFolderError(ValueError):
    """A run folder (or a file in it) that cannot be used at all."""


@dataclass
class RunView:
    path: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    samples: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        """What produced the results: the model, the completions file, or (ProcessBench folders) the judge."""
        if not self.manifest and isinstance(self.metrics.get("processbench"), dict):
            return f"judge {self.metrics['processbench'].get('judge', '?')}"
        return model_label(self.manifest)

    def task_names(self) -> list[str]:
        names = list((self.metrics.get("tasks") or {}).keys())
        names += [t for t in (self.manifest.get("tasks") or {}) if t not in names]
        names += sorted({s["task"] for s in self.samples} - set(names))
        return names

    def samples_of(self, task: str) -> list[dict[str, Any]]:
        return [s for s in self.samples if s.get("task") == task]


def read_json(path: Path) -> dict[str, Any]:
    """Load a JSON object, naming the file in every error."""
    try:
        data = loads_text(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise RunFolderError(f"{path}: not UTF-8 (byte {exc.start + 1}: {exc.reason})") from None
    if not isinstance(data, dict):
        raise RunFolderError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def read_samples(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Latest record per (task, id, sample_index), in first-seen order, plus a list of skipped lines."""
    latest: dict[tuple, dict[str, Any]] = {}
    problems: list[str] = []
    if not path.exists():
        return [], [f"{path}: file not found (no samples)"]
    for number, rec, problem in iter_jsonl(path, required=("task", "id")):
        if problem:
            problems.append(problem)
            continue
        # The key must be hashable and the task a name: a list here stopped the report with a TypeError.
        if not isinstance(rec["task"], str):
            problems.append(f"{path}: line {number}: field task is not a string ({type(rec['task']).__name__})")
            continue
        index = rec.get("sample_index", 0)
        if not (index is None or isinstance(index, (int, str))):
            problems.append(f"{path}: line {number}: field sample_index is not an integer ({type(index).__name__})")
            continue
        key = (rec["task"], str(rec["id"]), rec.get("sample_index", 0))
        latest.pop(key, None)  # re-insert so dict order follows the newest write
        latest[key] = rec
    return list(latest.values()), problems


def load_run(run_dir: Path | str) -> RunView:
    """Load manifest.json (required), metrics.json (optional) and samples.jsonl of a run folder."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunFolderError(f"{path}: not a run folder (directory not found)")
    manifest_path, metrics_path = path / "manifest.json", path / "metrics.json"
    if not manifest_path.exists() and not metrics_path.exists():
        raise RunFolderError(f"{manifest_path}: file not found (and no metrics.json either)")
    # `stepkto-eval processbench` folders carry metrics.json and predictions but no manifest.
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    samples, problems = read_samples(path / "samples.jsonl") if (path / "samples.jsonl").exists() or manifest \
        else ([], [])
    if not manifest:
        problems.append(f"{manifest_path.name}: not found (provenance unknown)")
    return RunView(path=path, manifest=manifest, metrics=metrics, samples=samples, problems=problems)


def natural_key(value: Any) -> tuple:
    """Sort "item2" before "item10": digit runs compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", str(value)) if part)


def model_label(manifest: dict[str, Any]) -> str:
    model = manifest.get("model") or {}
    if isinstance(model, str):
        return model
    name = model.get("name_or_path") or model.get("name")
    if name:
        return str(name)
    source = manifest.get("source") or {}  # `stepkto-eval score`: the completions came from a file
    return f"completions file {Path(source['file']).name}" if source.get("file") else "unknown model"


def main_metric(task_metrics: dict[str, Any]) -> str | None:
    """The headline metric of a task: pass@1 when present, else the first one listed."""
    metrics = task_metrics.get("metrics") or {}
    if "pass@1" in metrics:
        return "pass@1"
    return next(iter(metrics), None)


def headline(task_metrics: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(name, estimate) of a task's headline: its main metric, or ProcessBench's mean F1 over splits."""
    name = main_metric(task_metrics)
    if name is not None:
        return name, task_metrics["metrics"][name]
    if isinstance(task_metrics.get("f1_avg"), (int, float)):
        return "f1_avg", {"value": float(task_metrics["f1_avg"])}
    return None


def compat_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """Everything except the model that must match for two runs to be ranked or compared.

    Prompts (hash), task versions, data (file hash / revision), the number of problems evaluated,
    the generation budget, sampling and seed, for `score` runs the problems' ids and gold answers (older
    score manifests: the completions file's hash and fields), the checker version and the audit judge. Keys with null values are kept, so a
    run that records a hash never matches one that does not.
    """
    tasks = {}
    for name, spec in sorted((manifest.get("tasks") or {}).items()):
        spec = spec or {}
        tasks[name] = {k: spec.get(k) for k in ("version", "prompt_hash", "file_sha256", "revision", "n_problems", "limit",
                                       "max_tokens")}
    audit = manifest.get("audit")
    source = manifest.get("source")  # `stepkto-eval score` runs: a completions file instead of tasks
    if isinstance(source, dict) and source.get("problems_sha256"):
        # Score runs grade completions of some model on some problems: two of them are comparable when the
        # problems (ids and gold answers) are the same, whatever completions file they graded (the gate's
        # use: a new checkpoint's completions against a baseline's). Checker and n are compared below.
        source = {"problems_sha256": source["problems_sha256"]}
    elif isinstance(source, dict):
        source = {k: v for k, v in source.items() if k != "file"}  # the content hash, not the path, matters
    return {
        "kind": manifest.get("kind"),
        "source": source,
        "tasks": tasks,
        "sampling": manifest.get("sampling"),
        "checker_version": manifest.get("checker_version"),
        "audit": (audit or {}).get("judge") if isinstance(audit, dict) else audit,
    }
