"""Metrics: pure functions over sample records grouped by problem, with 95% bootstrap confidence intervals.

Notation for one problem: n completions, c of them correct, samples ordered by `sample_index`.

* avg@n   = c / n (mean correctness; with n = 1 and temperature 0 this is pass@1 greedy).
* pass@k  = 1 - C(n-c, k) / C(n, k), the unbiased estimator of Chen et al. (2021, "Evaluating Large
            Language Models Trained on Code", eq. 1), computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i) to avoid
            huge binomials. pass@1 = c/n.
* maj@k   = correctness of the majority answer among the first k samples. Votes are grouped by
            *equivalence* (the checker's `is_equivalent`), not string identity, so `\\frac12` and `0.5`
            vote together. Each answer joins the first existing group whose representative (its first
            member) is equivalent to it. Samples with no extracted answer do not vote. Ties between groups
            of equal size go to the group whose first vote came earliest (lowest sample_index): a
            deterministic rule that does not depend on answer spelling. The group is correct when its
            representative was graded correct.

A task's value of a metric is the mean of its per-problem scores; the 95% CI is a percentile bootstrap
over problems (resample problems with replacement, B = 1000 replicates, seeded numpy generator, so the
same scores always give the same interval). Missing samples are a hard error: a silently smaller
denominator would overstate a model that crashed on its hardest problems.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

Equivalent = Callable[[str, str], bool]
N_BOOTSTRAP = 1000


class MissingSamplesError(ValueError):
    """Some expected (task, id, sample_index) has no record."""


def _finite(x: float) -> float | None:
    """NaN (no data, e.g. no correct completion to audit) becomes None: metrics.json stays valid JSON."""
    return None if x is None or math.isnan(x) else x


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict:
        return {k: _finite(v) for k, v in asdict(self).items()}


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k = 1 - C(n-c, k)/C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i).

    Example: n=4, c=1, k=2 -> 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def vote_groups(answers: Sequence[str | None], equivalent: Equivalent) -> list[list[int]]:
    """Indices of `answers` grouped by equivalence, in order of each group's first appearance."""
    groups: list[list[int]] = []
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        for group in groups:
            if equivalent(answers[group[0]], answer):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def majority_index(answers: Sequence[str | None], equivalent: Equivalent) -> int | None:
    """Index of the representative of the largest vote group (earliest group wins ties); None if no votes.

    Example: ["0.5", "\\frac12", "3", "3"] -> groups [0, 1] and [2, 3] tie at 2 votes -> index 0.
    """
    groups = vote_groups(answers, equivalent)
    if not groups:
        return None
    best = max(groups, key=lambda g: (len(g), -g[0]))
    return best[0]


def bootstrap_ci(scores: Sequence[float], *, seed: int = 0, n_boot: int = N_BOOTSTRAP,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of per-problem `scores` (resampling problems)."""
    values = np.asarray(scores, dtype=float)
    if values.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_boot, values.size))  # (B, m) resampled problem indices
    means = values[idx].mean(axis=1)
    alpha = (1.0 - level) / 2
    return (float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def estimate(scores: Sequence[float], *, seed: int = 0) -> Estimate:
    low, high = bootstrap_ci(scores, seed=seed)
    return Estimate(value=float(np.mean(scores)) if len(scores) else math.nan, ci_low=low, ci_high=high)


def group_by_problem(samples: Iterable[Mapping], problem_ids: Sequence[str], n: int,
                     *, task: str = "") -> dict[str, list[Mapping]]:
    """{id: [sample 0 .. n-1]} for every expected problem; raises MissingSamplesError on any gap.

    Records for ids outside `problem_ids` or indexes >= n are ignored (they belong to other settings).
    """
    wanted = {str(pid): [None] * n for pid in problem_ids}
    for s in samples:
        slots = wanted.get(str(s["id"]))
        if slots is not None and 0 <= int(s["sample_index"]) < n:
            slots[int(s["sample_index"])] = s
    missing = [(pid, i) for pid, slots in wanted.items() for i, s in enumerate(slots) if s is None]
    if missing:
        shown = ", ".join(f"{pid}#{i}" for pid, i in missing[:5])
        raise MissingSamplesError(f"task {task or '?'}: {len(missing)} expected sample(s) missing "
                                  f"(e.g. {shown}); metrics need all {n} samples of every problem")
    return wanted  # type: ignore[return-value]


def parse_metric(name: str, n: int) -> tuple[str, int]:
    """'pass@n' -> ('pass', n); 'maj@4' -> ('maj', 4)."""
    kind, _, k = name.partition("@")
    if kind not in ("pass", "avg", "maj") or not k:
        raise ValueError(f"unknown metric {name!r} (use pass@K, avg@n, maj@K with K an integer or 'n')")
    return kind, n if k == "n" else int(k)


def resolve_metric_names(names: Iterable[str], n: int) -> list[str]:
    """Concrete names for n samples per problem: 'n' substituted, k > n dropped, duplicates removed.

    With n = 1, avg@1 and maj@1 are pass@1 by definition and are reported once, as pass@1.
    """
    out: list[str] = []
    for name in names:
        kind, k = parse_metric(name, n)
        if kind == "avg":
            k = n
        if k == 1:
            kind = "pass"
        concrete = f"{kind}@{k}"
        if k <= n and concrete not in out:
            out.append(concrete)
    return out


def problem_scores(groups: Mapping[str, Sequence[Mapping]], name: str, equivalent: Equivalent) -> list[float]:
    """Per-problem score of one concrete metric, in the order of `groups`."""
    kind, k = parse_metric(name, 0)
    scores = []
    for samples in groups.values():
        correct = [bool(s.get("correct")) for s in samples]
        if kind == "avg":
            scores.append(sum(correct) / len(correct))
        elif kind == "pass":
            scores.append(pass_at_k(len(correct), sum(correct), k))
        else:
            head = samples[:k]
            winner = majority_index([s.get("extracted") for s in head], equivalent)
            scores.append(0.0 if winner is None else float(bool(head[winner].get("correct"))))
    return scores


def cached(equivalent: Equivalent) -> Equivalent:
    """Memoise an equivalence function (maj@k for several k asks the same pairs again)."""
    memo: dict[tuple[str, str], bool] = {}

    def check(a: str, b: str) -> bool:
        if a == b:
            return True
        if (a, b) not in memo:
            memo[(a, b)] = bool(equivalent(a, b))
        return memo[(a, b)]

    return check


def default_equivalent() -> Equivalent:
    from .grading import is_equivalent

    return is_equivalent


def score_table(groups: Mapping[str, Sequence[Mapping]], names: Sequence[str], equivalent: Equivalent
                ) -> dict[str, list[float]]:
    return {name: problem_scores(groups, name, equivalent) for name in names}


def estimates(table: Mapping[str, Sequence[float]], *, seed: int = 0) -> dict[str, dict]:
    return {name: estimate(scores, seed=seed).to_dict() for name, scores in table.items()}


def rate(samples: Iterable[Mapping], predicate: Callable[[Mapping], bool]) -> float:
    items = list(samples)
    return sum(1 for s in items if predicate(s)) / len(items) if items else 0.0


def flawed_step_rate(groups: Mapping[str, Sequence[Mapping]], *, seed: int = 0) -> dict:
    """Share of *correct* completions whose audit found an error step (first_error >= 0).

    Completions with no verdict (first_error None) leave the denominator and are counted separately.
    CI: bootstrap over problems of the ratio sum(flawed)/sum(judged correct).
    Example: correct completions with first_error [-1, 2, None] -> 1 flawed / 2 judged = 0.5, 1 no verdict.
    """
    from .audit.base import judge_truncated

    flawed, judged, no_verdict, cut = [], [], 0, 0
    for samples in groups.values():
        f = j = 0
        for s in samples:
            if not s.get("correct") or "first_error" not in s:
                continue
            cut += judge_truncated((s.get("judge") or {}).get("evidence"))
            if s["first_error"] is None:
                no_verdict += 1
                continue
            j += 1
            f += int(s["first_error"] >= 0)
        flawed.append(f)
        judged.append(j)
    f_arr, j_arr = np.asarray(flawed, float), np.asarray(judged, float)
    value = float(f_arr.sum() / j_arr.sum()) if j_arr.sum() else math.nan
    low = high = math.nan
    if j_arr.sum():
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(f_arr), size=(N_BOOTSTRAP, len(f_arr)))
        den = j_arr[idx].sum(axis=1)
        ratios = f_arr[idx].sum(axis=1)[den > 0] / den[den > 0]
        low, high = float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))
    n_correct = int(j_arr.sum()) + no_verdict
    return {"value": _finite(value), "ci_low": _finite(low), "ci_high": _finite(high), "n_correct": n_correct,
            "n_flawed": int(f_arr.sum()), "n_no_verdict": no_verdict,
            # audited correct completions where the judge hit its length limit (critic review / PRM input cut)
            "n_judge_truncated": cut, "judge_truncation_rate": cut / n_correct if n_correct else None}


def task_metrics(samples: Iterable[Mapping], problem_ids: Sequence[str], *, n: int, metric_names: Sequence[str],
                 greedy: bool, breakdown: Sequence[str] = (), equivalent: Equivalent | None = None,
                 seed: int = 0, task: str = "") -> tuple[dict, dict[str, list[float]]]:
    """The metrics.json entry of one task, plus its per-problem score table (for pooling into "overall")."""
    equivalent = cached(equivalent or default_equivalent())
    groups = group_by_problem(samples, problem_ids, n, task=task)
    names = resolve_metric_names(metric_names, n)
    table = score_table(groups, names, equivalent)
    flat = [s for group in groups.values() for s in group]
    entry: dict = {
        "n_problems": len(groups), "n_samples_per_problem": n,
        "metrics": estimates(table, seed=seed), "greedy": greedy,
        "truncation_rate": rate(flat, lambda s: s.get("finish_reason") == "length"),
        "error_rate": rate(flat, lambda s: s.get("finish_reason") == "error"),
        "breakdown": breakdown_metrics(groups, table, breakdown, seed=seed),
    }
    if any("first_error" in s for s in flat):
        entry["flawed_step_rate"] = flawed_step_rate(groups, seed=seed)
    return entry, table


def breakdown_metrics(groups: Mapping[str, Sequence[Mapping]], table: Mapping[str, Sequence[float]],
                      fields: Sequence[str], *, seed: int = 0) -> dict:
    """{field: {value: {"n": problems, "metrics": {...}}}} from the problems' `meta` (e.g. subject, level)."""
    out: dict = {}
    ids = list(groups)
    for fld in fields:
        buckets: dict[str, list[int]] = {}
        for pos, pid in enumerate(ids):
            value = (groups[pid][0].get("meta") or {}).get(fld)
            if value is not None:
                buckets.setdefault(str(value), []).append(pos)
        out[fld] = {
            value: {"n": len(pos), "metrics": estimates({m: [s[p] for p in pos] for m, s in table.items()}, seed=seed)}
            for value, pos in sorted(buckets.items(), key=lambda kv: _natural(kv[0]))
        }
    return out


def _natural(text: str) -> tuple:
    return (0, float(text), "") if text.replace(".", "", 1).isdigit() else (1, 0.0, text)


def overall_metrics(tables: Sequence[Mapping[str, Sequence[float]]], *, seed: int = 0) -> dict:
    """Pooled over all problems of all tasks (each problem weighs the same), for metrics every task has."""
    if not tables:
        return {"n_problems": 0, "metrics": {}}
    common = [m for m in tables[0] if all(m in t for t in tables[1:])]
    pooled = {m: [x for t in tables for x in t[m]] for m in common}
    n_problems = len(next(iter(pooled.values()))) if pooled else 0
    return {"n_problems": n_problems, "metrics": estimates(pooled, seed=seed)}
