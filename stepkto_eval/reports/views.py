"""The views of report.html beyond the task table: pure functions over one task's sample records.

Every function takes the task's samples (records as in docs/run-folder.md) and returns a small dataclass,
or None when the view does not apply (a greedy run has no pass@k curve, a run without levels no level
view, an unaudited run no step views). Each is one pass over the samples plus work per problem or per
bucket, so a 10k-sample run costs what the pipeline's own metrics cost.

* Difficulty: MATH-500's `meta.level`; AIME and AMC carry no level, so their proxy is the problem's number
  within its contest, read from `meta.url` (".../2024_AIME_I_Problems/Problem_7"): contests order problems
  by rising difficulty, so numbers 1-5, 6-10, ... are coarse difficulty bands. Accuracy per bucket is the mean
  over its problems of per-problem mean correctness, with the bootstrap CI of `metrics.estimate`.
* Lengths: `tokens.completion` when every sample of the task has it, else characters of `completion` for all
  (one unit per chart; a score run has no token counts).
* pass@k for k = 1..n with the unbiased estimator (`metrics.pass_at_k`); maj@k with the vote groups of
  `metrics.vote_groups`, which are prefix-consistent (an answer joins a group formed by *earlier* answers
  only), so grouping all n answers once gives the groups of every prefix k.
* Audit: flawed-step rate per difficulty bucket via `metrics.flawed_step_rate`; the first error's relative
  position first_error / number of steps, in [0, 1).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from stepkto_eval import metrics as m

Sample = Mapping[str, Any]
BAND = 5  # contest problem numbers per difficulty band (AIME has 15 problems, AMC 25)
_PROBLEM_NUMBER = re.compile(r"Problem_(\d+)\s*$")


@dataclass(frozen=True)
class Bucketed:
    """One estimate per bucket of a view, in display order."""

    axis: str  # what the buckets are, e.g. "level" or "problem number in contest (from meta.url)"
    labels: list[str]
    n: list[int]  # problems per bucket (completions judged, for the flawed-step view)
    estimates: list[m.Estimate]
    n_unbucketed: int = 0  # problems (or completions) with no difficulty to place them


@dataclass(frozen=True)
class Lengths:
    unit: str  # "tokens" or "characters"
    correct: list[int]
    wrong: list[int]


@dataclass(frozen=True)
class LengthBins:
    """Per length bin: completions, accuracy and truncation rate (None where unknown, e.g. score runs)."""

    unit: str
    edges: list[int]  # bin i is [edges[i], edges[i + 1]); the last bin also takes values beyond it
    longest: int  # the largest length (beyond edges[-1] when the last bin holds a long tail)
    n: list[int]
    accuracy: list[float | None]
    truncated: list[float | None]


@dataclass(frozen=True)
class Curves:
    """pass@k and maj@k for k = 1..n (per-problem scores averaged, 95% bootstrap CI over problems)."""

    ks: list[int]
    pass_at: list[m.Estimate]
    maj_at: list[m.Estimate] | None  # None when no sample has an extracted answer


# --- difficulty -------------------------------------------------------------------------------------------

def difficulty(meta: Mapping[str, Any] | None) -> tuple[str, int, str] | None:
    """(axis, order, label) of a problem: its level, else its contest problem number in bands of five."""
    if not isinstance(meta, Mapping):  # a malformed record: no difficulty rather than a failed report
        return None
    level = meta.get("level")
    if level is not None:
        text = re.sub(r"^\s*Level\s*", "", str(level))
        # isdecimal, not isdigit: "²" is a digit that int() refuses
        return "level", int(text) if text.isdecimal() else 10**6, text
    match = _PROBLEM_NUMBER.search(str(meta.get("url") or ""))
    if match:
        band = (int(match.group(1)) - 1) // BAND
        return ("problem number in contest (from meta.url)", band,
                f"{band * BAND + 1}-{band * BAND + BAND}")
    return None


def _index(sample: Sample) -> int:
    value = sample.get("sample_index")
    return value if isinstance(value, int) else 0


def per_problem(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    """{id: samples in sample_index order}, in first-seen order of ids."""
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(str(s.get("id")), []).append(s)
    for group in groups.values():
        group.sort(key=_index)
    return groups


def _buckets(groups: Mapping[str, Sequence[Sample]]) -> tuple[str, dict[tuple[int, str], list[str]], int] | None:
    """Problems per difficulty bucket, on one axis (level wins when some problems have a level)."""
    placed = {pid: difficulty(group[0].get("meta")) for pid, group in groups.items()}
    axes = {d[0] for d in placed.values() if d}
    if not axes:
        return None
    axis = "level" if "level" in axes else next(iter(axes))
    buckets: dict[tuple[int, str], list[str]] = {}
    for pid, d in placed.items():
        if d and d[0] == axis:
            buckets.setdefault((d[1], d[2]), []).append(pid)
    ordered = dict(sorted(buckets.items()))
    return axis, ordered, len(groups) - sum(len(v) for v in ordered.values())


def _mean_correct(group: Sequence[Sample]) -> float | None:
    graded = [bool(s["correct"]) for s in group if s.get("correct") is not None]
    return sum(graded) / len(graded) if graded else None


def _by_bucket(groups: dict[str, list[Sample]],
               score: Callable[[list[str]], tuple[int, m.Estimate] | None]) -> Bucketed | None:
    """`score(problem ids of a bucket)` -> (n, estimate) or None (nothing to show), over the difficulty
    buckets of `groups`, in display order; None when the task has no difficulty or no bucket scored."""
    found = _buckets(groups)
    if found is None:
        return None
    axis, buckets, loose = found
    labels, ns, ests = [], [], []
    for (_, label), pids in buckets.items():
        if (scored := score(pids)) is not None:
            labels.append(label)
            ns.append(scored[0])
            ests.append(scored[1])
    return Bucketed(axis, labels, ns, ests, loose) if labels else None


def accuracy_by_difficulty(samples: Iterable[Sample], *, seed: int = 0) -> Bucketed | None:
    """Mean per-problem accuracy per difficulty bucket, with 95% bootstrap CIs over the bucket's problems."""
    groups = per_problem(samples)

    def score(pids: list[str]) -> tuple[int, m.Estimate] | None:
        scores = [x for x in (_mean_correct(groups[p]) for p in pids) if x is not None]
        return (len(scores), m.estimate(scores, seed=seed)) if scores else None

    return _by_bucket(groups, score)


def _well_formed_audit(sample: Sample) -> bool:
    """The audit fields `metrics.flawed_step_rate` reads have the recorded types (report inputs are untrusted)."""
    first, judge = sample.get("first_error"), sample.get("judge")
    return (first is None or (isinstance(first, int) and not isinstance(first, bool))) and \
        (judge is None or isinstance(judge, Mapping))


def flawed_rate_by_difficulty(samples: Iterable[Sample], *, seed: int = 0) -> Bucketed | None:
    """`metrics.flawed_step_rate` per difficulty bucket (share of audited correct completions with a wrong step)."""
    groups = per_problem(samples)
    if not any("first_error" in s for g in groups.values() for s in g):
        return None

    def score(pids: list[str]) -> tuple[int, m.Estimate] | None:
        rate = m.flawed_step_rate({p: [s for s in groups[p] if _well_formed_audit(s)] for p in pids}, seed=seed)
        if rate["value"] is None:
            return None
        return rate["n_correct"] - rate["n_no_verdict"], m.Estimate(rate["value"], rate["ci_low"], rate["ci_high"])

    return _by_bucket(groups, score)


# --- lengths and truncation -------------------------------------------------------------------------------

def _answered(samples: Iterable[Sample]) -> list[Sample]:
    """Completions that were generated and graded (failed generations have no length to speak of)."""
    return [s for s in samples if s.get("finish_reason") != "error" and s.get("correct") is not None]


def _token_count(sample: Sample) -> int | None:
    tokens = sample.get("tokens")
    value = tokens.get("completion") if isinstance(tokens, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def length_unit(samples: Sequence[Sample]) -> tuple[str, Callable[[Sample], int]]:
    """Tokens when every sample has a completion token count, else characters (one unit for all)."""
    if samples and all(_token_count(s) is not None for s in samples):
        return "tokens", lambda s: _token_count(s) or 0
    return "characters", lambda s: len(s["completion"]) if isinstance(s.get("completion"), str) else 0


def lengths_by_correctness(samples: Iterable[Sample]) -> Lengths | None:
    answered = _answered(samples)
    if not answered:
        return None
    unit, length = length_unit(answered)
    return Lengths(unit, [length(s) for s in answered if s["correct"]],
                   [length(s) for s in answered if not s["correct"]])


def bin_edges(values: Sequence[int], n_bins: int = 10, tail: float = 0.01) -> list[int]:
    """At most `n_bins` equal-width integer bins [lo, lo + w), ... from the smallest value to the (1 - tail)
    quantile; the few longer values belong to the last bin (a single 10x outlier must not squeeze every
    other completion into one bar).

    Example: [3, 10, 25] with 4 bins, no tail -> width ceil(22 / 4) = 6 -> edges [3, 9, 15, 21, 27].
    """
    ordered = sorted(values)
    if not ordered:
        return [0, 1]
    lo, hi = ordered[0], ordered[max(0, math.ceil((1 - tail) * len(ordered)) - 1)]
    width = max(1, -(-(hi - lo) // n_bins))  # ceil division, at least 1
    count = min(n_bins, (hi - lo) // width + 1)
    return [lo + i * width for i in range(count + 1)]


def length_bins(samples: Iterable[Sample], n_bins: int = 10) -> LengthBins | None:
    """Accuracy and truncation rate (finish_reason "length") per completion-length bin."""
    answered = _answered(samples)
    if not answered:
        return None
    unit, length = length_unit(answered)
    edges = bin_edges([length(s) for s in answered], n_bins)
    width, last = edges[1] - edges[0], len(edges) - 2
    n, right, cut, known = ([0] * (last + 1) for _ in range(4))
    for s in answered:
        i = min((length(s) - edges[0]) // width, last)
        n[i] += 1
        right[i] += bool(s["correct"])
        if s.get("finish_reason") in ("stop", "length"):  # score runs record null: truncation unknown
            known[i] += 1
            cut[i] += s["finish_reason"] == "length"
    return LengthBins(unit, edges, max(length(s) for s in answered), n, [r / c if c else None for r, c in zip(right, n, strict=True)],
                      [c / k if k else None for c, k in zip(cut, known, strict=True)])


# --- sampled runs -----------------------------------------------------------------------------------------

def _sampled(samples: Iterable[Sample]) -> tuple[dict[str, list[Sample]], int] | None:
    """Problems and the number of samples per problem every problem has (None for n = 1)."""
    groups = {pid: [s for s in g if s.get("correct") is not None] for pid, g in per_problem(samples).items()}
    groups = {pid: g for pid, g in groups.items() if g}
    n = min((len(g) for g in groups.values()), default=0)
    return (groups, n) if n > 1 else None


def graded_per_problem_range(samples: Iterable[Sample]) -> tuple[int, int]:
    """(fewest, most) graded samples of a problem (0, 0 without any): the sampling views need fewest > 1."""
    sizes = [sum(s.get("correct") is not None for s in g) for g in per_problem(samples).values()]
    sizes = [n for n in sizes if n]
    return (min(sizes), max(sizes)) if sizes else (0, 0)


def majority_prefix_scores(group: Sequence[Sample], equivalent: m.Equivalent) -> list[float]:
    """maj@k for k = 1..len(group) of one problem, from a single `metrics.vote_groups` pass.

    For prefix k a group's votes are its members with index < k; the largest group wins and ties go to the
    group whose first vote came earliest, as in `metrics.majority_index`. Example: answers [5, 4, 4] with
    4 correct -> maj@1 = 0 (only 5 voted), maj@2 = 0 (tie, 5 came first), maj@3 = 1.
    """
    answers = [s.get("extracted") if isinstance(s.get("extracted"), str) else None for s in group]
    vote_groups = m.vote_groups(answers, equivalent)
    owner = {i: g for g, members in enumerate(vote_groups) for i in members}
    counts = [0] * len(vote_groups)
    best: int | None = None
    scores = []
    for i in range(len(group)):
        g = owner.get(i)
        if g is not None:
            counts[g] += 1
            # only group g grew, so it is the only possible new leader; groups are numbered by first vote
            if best is None or counts[g] > counts[best] or (counts[g] == counts[best] and g < best):
                best = g
        scores.append(0.0 if best is None else float(bool(group[vote_groups[best][0]].get("correct"))))
    return scores


def pass_and_majority_curves(samples: Iterable[Sample], equivalent: m.Equivalent | None = None, *,
                             seed: int = 0) -> Curves | None:
    """pass@k (unbiased, Chen et al. 2021) and maj@k for k = 1..n over the first n samples of each problem."""
    found = _sampled(samples)
    if found is None:
        return None
    groups, n = found
    heads = [g[:n] for g in groups.values()]
    counts = [sum(bool(s["correct"]) for s in g) for g in heads]
    ks = list(range(1, n + 1))
    pass_at = [m.estimate([m.pass_at_k(n, c, k) for c in counts], seed=seed) for k in ks]
    maj_at = None
    if any(s.get("extracted") is not None for g in heads for s in g):
        check = m.cached(equivalent or m.default_equivalent())
        per_problem_maj = [majority_prefix_scores(g, check) for g in heads]  # [problem][k - 1]
        maj_at = [m.estimate([row[k - 1] for row in per_problem_maj], seed=seed) for k in ks]
    return Curves(ks, pass_at, maj_at)


def solve_rate_histogram(samples: Iterable[Sample]) -> list[int] | None:
    """counts[c] = problems solved by exactly c of their first n samples, c = 0..n (None for n = 1)."""
    found = _sampled(samples)
    if found is None:
        return None
    groups, n = found
    counts = [0] * (n + 1)
    for g in groups.values():
        counts[sum(bool(s["correct"]) for s in g[:n])] += 1
    return counts


# --- step audit -------------------------------------------------------------------------------------------

def _n_steps(sample: Sample) -> int:
    for key in ("steps", "step_labels", "step_char_spans"):
        value = sample.get(key)
        if isinstance(value, list) and value:
            return len(value)
    return 0


def first_error_positions(samples: Iterable[Sample]) -> dict[str, list[float]] | None:
    """first_error / number of steps of every completion the audit flagged, split by final-answer correctness.

    0 means the first step was wrong, values near 1 the last ones. Samples whose first_error does not index a
    step (a malformed record) are left out.
    """
    out: dict[str, list[float]] = {"correct answer": [], "wrong answer": []}
    for s in samples:
        first, steps = s.get("first_error"), _n_steps(s)
        if isinstance(first, int) and not isinstance(first, bool) and 0 <= first < steps:
            out["correct answer" if s.get("correct") else "wrong answer"].append(first / steps)
    out = {k: v for k, v in out.items() if v}
    return out or None
