"""Paired regression test of a run against a baseline, per task, on the same items.

Inputs are *snapshots*: per task, per item, (number correct, number of samples). A snapshot comes from a
run folder (samples.jsonl, newest line per key; a failed generation counts as incorrect) or from a small
baseline file (`leaderboards/baselines/<name>.json`, written by `write_baseline`).

Tests (per task; d_i = run accuracy on item i − baseline accuracy on item i):

* one sample per item in both → exact McNemar test. With b = items right in the baseline and wrong in
  the run, c = the reverse, under H0 the b discordant pairs of b + c are Binomial(b + c, 1/2):
  p = min(1, 2 · Σ_{i ≤ min(b, c)} C(b + c, i) / 2^(b + c))   (p = 1 when b + c = 0).
* several samples per item → paired bootstrap over items on the per-item mean correctness d_i:
  resample items with replacement B times, m*_j = mean of resampled d; two-sided p from the
  null-centred distribution, p = (1 + #{j : |m*_j − d̄| ≥ |d̄|}) / (B + 1).

The difference d̄ (run − baseline, accuracy points) gets a 95% percentile interval from the same paired
bootstrap in both cases (seeded, so the gate is deterministic). With several tasks the p-values are
Holm-adjusted by default (family-wise error ≤ alpha over the tasks). A task *dropped* when its adjusted
p < alpha and d̄ < 0. Improvements are reported but never fail the gate.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stepkto_eval.reports.run_view import compat_summary, load_run, model_label, natural_key, read_json

BASELINE_FORMAT = "stepkto-baseline/1"


class IncompatibleInputs(ValueError):
    """Baseline and run cannot be compared (different tasks, items or settings)."""


@dataclass
class Snapshot:
    source: str
    model: str
    compat: dict[str, Any]
    summary: dict[str, Any]
    tasks: dict[str, dict[str, tuple[int, int]]]  # task -> item id -> (n correct, n samples)


@dataclass
class TaskComparison:
    task: str
    n_items: int
    test: str  # "mcnemar-exact" | "paired-bootstrap"
    baseline_accuracy: float
    run_accuracy: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    p_adjusted: float
    discordant: tuple[int, int] | None  # (b, c) for McNemar: (baseline-only right, run-only right)
    dropped: bool


def snapshot_from_run(run_dir: Path) -> Snapshot:
    run = load_run(run_dir)
    tasks: dict[str, dict[str, list[int]]] = {}
    for sample in run.samples:
        per_item = tasks.setdefault(str(sample["task"]), {}).setdefault(str(sample["id"]), [0, 0])
        per_item[0] += int(sample.get("correct") is True)
        per_item[1] += 1
    manifest = run.manifest
    summary = {k: manifest.get(k) for k in ("created", "stepkto_version", "settings_hash", "checker_version", "round")}
    summary["model"] = manifest.get("model")
    return Snapshot(source=str(run_dir), model=model_label(manifest), compat=compat_summary(manifest),
                    summary=summary,
                    tasks={t: {i: (v[0], v[1]) for i, v in items.items()} for t, items in tasks.items()})


def snapshot_from_baseline(path: Path) -> Snapshot:
    data = read_json(path)
    if data.get("format") != BASELINE_FORMAT:
        raise IncompatibleInputs(f"{path}: not a stepkto baseline (format {data.get('format')!r}, "
                                 f"expected {BASELINE_FORMAT!r})")
    try:
        tasks = {task: {str(item): (int(kn[0]), int(kn[1])) for item, kn in entry["items"].items()}
                 for task, entry in data["tasks"].items()}
        compat = data["compat"]
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise IncompatibleInputs(f"{path}: malformed baseline file ({type(exc).__name__}: {exc})") from None
    return Snapshot(source=str(path), model=data.get("model", "?"), compat=compat,
                    summary=data.get("manifest_summary", {}), tasks=tasks)


def load_snapshot(path: Path | str) -> Snapshot:
    path = Path(path)
    return snapshot_from_run(path) if path.is_dir() else snapshot_from_baseline(path)


def write_baseline(run_dir: Path | str, out: Path | str) -> Path:
    """Store a run's per-item correctness and manifest summary as a small JSON baseline."""
    snap = snapshot_from_run(Path(run_dir))
    data = {
        "format": BASELINE_FORMAT, "created_from": Path(run_dir).name, "model": snap.model,
        "manifest_summary": snap.summary, "compat": snap.compat,
        "tasks": {t: {"n_items": len(items), "items": {i: list(items[i]) for i in sorted(items, key=natural_key)}}
                  for t, items in sorted(snap.tasks.items())},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, ensure_ascii=False)
    text = re.sub(r"\[\n\s+(\d+),\n\s+(\d+)\n\s+\]", r"[\1, \2]", text)  # one line per item: small diffs
    out.write_text(text + "\n", encoding="utf-8")
    return out


def _differences(path: str, a: Any, b: Any) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _differences(f"{path}.{key}" if path else str(key), a.get(key), b.get(key))
        return out
    return [] if a == b else [f"{path}: baseline {a!r} vs run {b!r}"]


def check_compatible(base: Snapshot, run: Snapshot, allow_checker_change: bool = False) -> None:
    """Raise IncompatibleInputs listing every difference in tasks, items or settings."""
    problems = []
    base_compat, run_compat = dict(base.compat), dict(run.compat)
    if allow_checker_change:
        base_compat.pop("checker_version", None)
        run_compat.pop("checker_version", None)
    problems += [f"settings differ: {d}" for d in _differences("", base_compat, run_compat)]
    if set(base.tasks) != set(run.tasks):
        problems.append(f"tasks differ: baseline {sorted(base.tasks)} vs run {sorted(run.tasks)}")
    for task in sorted(set(base.tasks) & set(run.tasks)):
        b_items, r_items = base.tasks[task], run.tasks[task]
        only_base, only_run = sorted(set(b_items) - set(r_items)), sorted(set(r_items) - set(b_items))
        if only_base or only_run:
            problems.append(f"{task}: items differ ({len(only_base)} only in baseline, e.g. {only_base[:3]}; "
                            f"{len(only_run)} only in run, e.g. {only_run[:3]})")
        uneven = [i for i in sorted(set(b_items) & set(r_items)) if b_items[i][1] != r_items[i][1]]
        if uneven:
            i = uneven[0]
            problems.append(f"{task}: {len(uneven)} items have a different number of samples "
                            f"(e.g. {i}: baseline {b_items[i][1]}, run {r_items[i][1]}; an unfinished run?)")
    if problems:
        raise IncompatibleInputs("cannot compare " + base.source + " with " + run.source + ":\n  "
                                 + "\n  ".join(problems))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c (see module docstring)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return min(1.0, 2.0 * tail / 2.0**n)


def paired_bootstrap(diffs: np.ndarray, n_boot: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """(95% CI low, high, two-sided null-centred p) of the mean of paired differences."""
    rng = np.random.default_rng(seed)
    n = len(diffs)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 2000):  # chunks bound memory to 2000 × n indices
        stop = min(n_boot, start + 2000)
        means[start:stop] = diffs[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    observed = float(diffs.mean())
    extreme = np.abs(means - observed) >= abs(observed) - 1e-12
    p = (1 + int(extreme.sum())) / (n_boot + 1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high), min(1.0, p)


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (same order as the input)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def compare_task(task: str, base: dict[str, tuple[int, int]], run: dict[str, tuple[int, int]],
                 n_boot: int, seed: int) -> TaskComparison:
    items = sorted(base)
    b_acc = np.array([base[i][0] / base[i][1] for i in items])
    r_acc = np.array([run[i][0] / run[i][1] for i in items])
    diffs = r_acc - b_acc
    low, high, p = paired_bootstrap(diffs, n_boot, seed)
    discordant = None
    test = "paired-bootstrap"
    if all(base[i][1] == 1 for i in items):
        b = int(((b_acc == 1) & (r_acc == 0)).sum())
        c = int(((b_acc == 0) & (r_acc == 1)).sum())
        discordant, test, p = (b, c), "mcnemar-exact", mcnemar_exact(b, c)
    return TaskComparison(task=task, n_items=len(items), test=test, baseline_accuracy=float(b_acc.mean()),
                          run_accuracy=float(r_acc.mean()), difference=float(diffs.mean()), ci_low=low,
                          ci_high=high, p_value=p, p_adjusted=p, discordant=discordant, dropped=False)


def compare(base: Snapshot, run: Snapshot, alpha: float = 0.05, correction: str = "holm",
            allow_checker_change: bool = False, n_boot: int = 10_000, seed: int = 0) -> list[TaskComparison]:
    """Per-task paired comparison; raises IncompatibleInputs when the inputs do not match."""
    check_compatible(base, run, allow_checker_change)
    results = [compare_task(t, base.tasks[t], run.tasks[t], n_boot, seed) for t in sorted(base.tasks)]
    adjusted = holm([r.p_value for r in results]) if correction == "holm" else [r.p_value for r in results]
    for result, p_adj in zip(results, adjusted, strict=True):
        result.p_adjusted = p_adj
        result.dropped = p_adj < alpha and result.difference < 0
    return results


def format_results(results: list[TaskComparison], alpha: float) -> str:
    width = max([14, *[len(r.task) for r in results]])
    lines = [f"{'task':<{width}} {'items':>5} {'baseline':>9} {'run':>7} {'diff [95% CI]':>24} {'p':>8} {'p adj':>8}  verdict"]
    for r in results:
        ci = f"{r.difference * 100:+.1f} [{r.ci_low * 100:+.1f}, {r.ci_high * 100:+.1f}]"
        verdict = "DROP" if r.dropped else ("improved" if r.p_adjusted < alpha and r.difference > 0 else "ok")
        extra = f"  ({r.test}, b={r.discordant[0]} c={r.discordant[1]})" if r.discordant else f"  ({r.test})"
        lines.append(f"{r.task:<{width}} {r.n_items:>5} {r.baseline_accuracy * 100:>8.1f}% {r.run_accuracy * 100:>6.1f}% "
                     f"{ci:>24} {r.p_value:>8.4f} {r.p_adjusted:>8.4f}  {verdict}{extra}")
    return "\n".join(lines)


def results_json(results: list[TaskComparison]) -> list[dict[str, Any]]:
    return [asdict(r) for r in results]
