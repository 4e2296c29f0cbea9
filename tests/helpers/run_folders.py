"""Write small run folders (manifest.json, samples.jsonl, metrics.json) following docs/run-folder.md.

Tests of the report, leaderboard and compare commands build their inputs with this, so they do not
depend on running a model. Correctness per (item, sample) is given explicitly; metrics are computed
here (mean over problems of per-problem mean correctness; seeded bootstrap CI) the way the pipeline does.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUBJECTS = ["Algebra", "Geometry", "Number Theory", "Precalculus"]


@dataclass
class TaskSpec:
    correct: dict[str, list[bool]]  # item id -> correctness of each sample
    meta: dict[str, dict] = field(default_factory=dict)
    flawed: set[tuple[str, int]] = field(default_factory=set)  # (id, sample_index) correct but flawed
    audited: bool = False
    prompt_hash: str = "p1"
    completion: str = "Step one.\n\nStep two: 2+2=5.\n\nSo the answer is \\boxed{4}."
    extra_metrics: dict[str, Any] = field(default_factory=dict)  # merged into metrics.json's task entry


def _bootstrap(values: list[float], seed: int = 0, n: int = 500) -> tuple[float, float]:
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(values) for _ in values) / len(values) for _ in range(n))
    return means[int(0.025 * n)], means[int(0.975 * n) - 1]


def _estimate(values: list[float]) -> dict[str, float]:
    low, high = _bootstrap(values)
    return {"value": sum(values) / len(values), "ci_low": low, "ci_high": high}


def manifest(model: str, tasks: dict[str, TaskSpec], n: int, *, round_: int | None = None,
             checker: str = "1", created: str = "2026-11-22T03:00:00Z", temperature: float = 0.0) -> dict:
    return {
        "stepkto_version": "0.1.0", "created": created, "command": ["stepkto-eval", "--model", model],
        "versions": {"python": "3.11"},
        "model": {"name_or_path": model, "revision": "r1", "hash": None},
        "backend": {"name": "hf"},
        "tasks": {name: {"version": 1, "source": f"{name}.jsonl", "split": "test", "revision": None,
                         "file_sha256": "abc", "prompt_hash": spec.prompt_hash,
                         "n_problems": len(spec.correct), "limit": None} for name, spec in tasks.items()},
        "sampling": {"n": n, "temperature": temperature, "top_p": 1.0, "max_tokens": 512, "seed": 0},
        "checker_version": checker,
        "audit": {"judge": "arith"} if any(s.audited for s in tasks.values()) else None,
        "round": round_,
        "hardware": {"platform": "linux", "cpu_count": 2, "gpus": []},
        "settings_hash": f"hash-of-{model}-{checker}-{n}",
    }


def sample_records(task: str, spec: TaskSpec) -> list[dict]:
    records = []
    for item, flags in spec.correct.items():
        for k, ok in enumerate(flags):
            flawed = (item, k) in spec.flawed
            rec = {
                "task": task, "id": item, "sample_index": k, "prompt": f"Problem {item}?",
                "completion": spec.completion, "finish_reason": "stop",
                "extracted": "4" if ok else "5", "correct": ok,
                "verdict": {"equal": ok, "rule": "numeric-exact" if ok else "numeric-mismatch",
                            "reason": "4 == 4" if ok else "5 != 4", "gold_norm": "4", "candidate_norm": "4" if ok else "5"},
                "tokens": {"prompt": 5, "completion": 20}, "gold": "4", "meta": spec.meta.get(item, {}),
                "error": None,
            }
            if spec.audited:
                completion = spec.completion
                spans, start = [], 0
                for part in completion.split("\n\n"):
                    spans.append([start, start + len(part)])
                    start += len(part) + 2
                rec.update(steps=completion.split("\n\n"), step_char_spans=spans,
                           step_labels=[1, 0, 1] if flawed else [1, 1, 1], first_error=1 if flawed else -1,
                           judge={"name": "arith", "kind": "checker", "evidence": "2+2 is 4, not 5"})
            records.append(rec)
    return records


def metrics_for(model: str, tasks: dict[str, TaskSpec], n: int, round_: int | None) -> dict:
    out: dict[str, Any] = {}
    for name, spec in tasks.items():
        per_item = [sum(v) / len(v) for v in spec.correct.values()]
        entry: dict[str, Any] = {
            "n_problems": len(per_item), "n_samples_per_problem": n,
            "metrics": {"pass@1": _estimate(per_item)}, "greedy": n == 1,
            "truncation_rate": 0.0, "error_rate": 0.0, "breakdown": {},
        }
        if spec.audited:
            n_correct = sum(sum(v) for v in spec.correct.values())
            n_flawed = len(spec.flawed)
            rate = n_flawed / n_correct if n_correct else 0.0
            entry["flawed_step_rate"] = {"value": rate, "ci_low": max(0.0, rate - 0.1),
                                         "ci_high": min(1.0, rate + 0.1), "n_correct": n_correct,
                                         "n_flawed": n_flawed, "n_no_verdict": 0}
        entry.update(spec.extra_metrics)
        out[name] = entry
    everything = [sum(v) / len(v) for spec in tasks.values() for v in spec.correct.values()]
    overall = {"metrics": {"pass@1": _estimate(everything)}, "n_problems": len(everything)}
    return {"settings_hash": f"hash-of-{model}", "model": model, "round": round_, "tasks": out, "overall": overall}


def write_run(path: Path, model: str, tasks: dict[str, TaskSpec], *, n: int = 1, round_: int | None = None,
              checker: str = "1", temperature: float = 0.0, extra_samples: list[dict] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    man = manifest(model, tasks, n, round_=round_, checker=checker, temperature=temperature)
    (path / "manifest.json").write_text(json.dumps(man, indent=2))
    records = [r for name, spec in tasks.items() for r in sample_records(name, spec)] + (extra_samples or [])
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (path / "metrics.json").write_text(json.dumps(metrics_for(model, tasks, n, round_), indent=2))
    return path


def math_items(accuracy_pattern: list[bool]) -> TaskSpec:
    """A MATH-500-like task: items with subject and level meta, one sample each."""
    correct, meta = {}, {}
    for i, ok in enumerate(accuracy_pattern):
        item = f"test/item{i:03d}.json"
        correct[item] = [ok]
        meta[item] = {"subject": SUBJECTS[i % len(SUBJECTS)], "level": i % 5 + 1}
    return TaskSpec(correct=correct, meta=meta)


def write_sampled_run(path: Path, n: int = 8) -> Path:
    """A sampled (temperature 0.7), audited run: math500 with levels (40 problems), amc23 with contest problem
    numbers in meta.url (25 problems). Harder problems are solved less often; completion lengths vary with
    the sample and the longest wrong ones hit the token limit, so every view of report.html has data."""
    correct, meta, flawed = {}, {}, set()
    for i in range(40):
        item, level = f"test/item{i:03d}.json", i % 5 + 1
        correct[item] = [(i * 7 + k * 3) % 10 < 10 - 2 * level for k in range(n)]
        meta[item] = {"subject": SUBJECTS[i % len(SUBJECTS)], "level": level}
        flawed |= {(item, k) for k in range(n) if correct[item][k] and (i + k) % 4 == 0}
    math = TaskSpec(correct=correct, meta=meta, audited=True, flawed=flawed)
    url = "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_{}"
    amc = TaskSpec(correct={f"amc{i}": [(i + k) % 25 < 25 - i for k in range(n)] for i in range(25)},
                   meta={f"amc{i}": {"url": url.format(i + 1)} for i in range(25)})
    write_run(path, "org/model-7b", {"math500": math, "amc23": amc}, n=n, temperature=0.7)
    records = [json.loads(line) for line in (path / "samples.jsonl").read_text().splitlines()]
    for j, r in enumerate(records):
        length = 40 + (j * 37) % 400 + (0 if r["correct"] else 120)
        r["tokens"]["completion"] = min(length, 512)
        r["finish_reason"] = "length" if length >= 512 else "stop"
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
