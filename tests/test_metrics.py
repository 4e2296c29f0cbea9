"""Metrics: closed forms, hand-worked examples, voting by equivalence, bootstrap CIs."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from stepkto_eval.metrics import (
    MissingSamplesError,
    bootstrap_ci,
    flawed_step_rate,
    group_by_problem,
    majority_index,
    overall_metrics,
    pass_at_k,
    resolve_metric_names,
    task_metrics,
)


def value_equal(a: str, b: str) -> bool:
    """A toy checker for these tests: equal when both parse to the same rational number."""
    try:
        return Fraction(a) == Fraction(b)
    except ValueError:
        return a == b


def closed_form(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


# --- pass@k -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,c,k,expected", [
    (4, 1, 2, 0.5),            # 1 - C(3,2)/C(4,2) = 1 - 3/6
    (10, 3, 1, 0.3),           # pass@1 = c/n
    (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
    (5, 0, 3, 0.0),            # nothing correct
    (5, 5, 1, 1.0),            # everything correct
    (8, 6, 3, 1.0),            # n - c < k: every 3-subset holds a correct one
])
def test_pass_at_k_hand_worked(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_matches_closed_form_everywhere_small():
    for n in range(1, 13):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(closed_form(n, c, k), abs=1e-12), (n, c, k)


@pytest.mark.parametrize("n,c,k", [(1000, 10, 100), (2000, 3, 1000), (512, 500, 256)])
def test_pass_at_k_is_stable_for_large_n(n, c, k):
    # math.comb is exact integer arithmetic: the reference has no rounding at all.
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-9)


@pytest.mark.parametrize("n,c,k", [(4, 5, 1), (4, 1, 0), (4, 1, 5), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


# --- majority vote ----------------------------------------------------------------------------------

@pytest.mark.parametrize("answers,winner", [
    (["1/2", "0.5", "3"], 0),                # 1/2 and 0.5 vote together: 2 votes beat 1
    (["3", "1/2", "0.5", "0.50"], 1),        # a later group of 3 beats an earlier single
    (["0.5", "1/2", "3", "3"], 0),           # tie 2-2: the group whose first vote came first
    (["3", "3", "0.5", "1/2"], 0),           # same tie, other order: still the earliest group
    ([None, None, "7"], 2),                  # no-answer samples do not vote
    ([None, None], None),                    # nobody voted
])
def test_majority_index_groups_by_equivalence(answers, winner):
    assert majority_index(answers, value_equal) == winner


def test_majority_uses_the_real_checker_for_frac_and_decimal():
    from conftest import require

    try:
        from stepkto_eval.grading import is_equivalent
    except ImportError:
        is_equivalent = None
    require(is_equivalent is not None, "stepkto_eval.grading.is_equivalent not available")
    assert majority_index(["\\frac12", "7", "0.5", "7", "\\dfrac{1}{2}"], is_equivalent) == 0


# --- grouping and task metrics ----------------------------------------------------------------------

def rec(pid, i, extracted, correct, **extra):
    return {"task": "t", "id": pid, "sample_index": i, "extracted": extracted, "correct": correct,
            "finish_reason": extra.pop("finish_reason", "stop"), **extra}


def two_problems():
    # p1: answers 1/2, 0.5, 3, 3 with gold 1/2 -> c = 2; majority tie 2-2 -> earliest group (1/2) -> correct
    # p2: answers 5, None(truncated), 5, 4 with gold 4 -> c = 1; majority 5 (2 votes) -> wrong
    return [
        rec("p1", 0, "1/2", True, meta={"level": 1}), rec("p1", 1, "0.5", True, meta={"level": 1}),
        rec("p1", 2, "3", False, meta={"level": 1}), rec("p1", 3, "3", False, meta={"level": 1}),
        rec("p2", 0, "5", False, meta={"level": 2}),
        rec("p2", 1, None, False, meta={"level": 2}, finish_reason="length"),
        rec("p2", 2, "5", False, meta={"level": 2}), rec("p2", 3, "4", True, meta={"level": 2}),
    ]


def test_task_metrics_hand_worked():
    entry, table = task_metrics(two_problems(), ["p1", "p2"], n=4, metric_names=["pass@1", "avg@n", "pass@2",
                                "pass@n", "maj@n"], greedy=False, breakdown=["level"], equivalent=value_equal)
    m = {k: v["value"] for k, v in entry["metrics"].items()}
    assert list(m) == ["pass@1", "avg@4", "pass@2", "pass@4", "maj@4"]
    assert m["pass@1"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert m["avg@4"] == pytest.approx(0.375)
    assert m["pass@2"] == pytest.approx(((1 - 1 / 6) + (1 - 3 / 6)) / 2)  # C(2,2)/C(4,2), C(3,2)/C(4,2)
    assert m["pass@4"] == 1.0
    assert m["maj@4"] == 0.5
    assert table["maj@4"] == [1.0, 0.0]
    assert entry["truncation_rate"] == pytest.approx(1 / 8)
    assert entry["error_rate"] == 0.0
    assert entry["n_problems"] == 2 and entry["n_samples_per_problem"] == 4
    level = entry["breakdown"]["level"]
    assert list(level) == ["1", "2"]
    assert level["1"]["metrics"]["avg@4"]["value"] == 0.5 and level["2"]["metrics"]["avg@4"]["value"] == 0.25
    assert "flawed_step_rate" not in entry


def test_maj_at_k_uses_only_the_first_k_samples():
    entry, _ = task_metrics(two_problems(), ["p1", "p2"], n=4, metric_names=["maj@2", "maj@3"], greedy=False,
                            equivalent=value_equal)
    assert entry["metrics"]["maj@2"]["value"] == 0.5  # p1: 1/2 and 0.5 agree; p2: 5 (None does not vote)
    assert entry["metrics"]["maj@3"]["value"] == 0.5  # p1: 1/2 x2 wins; p2: 5 x2 wins


def test_missing_sample_is_a_hard_error():
    samples = [s for s in two_problems() if not (s["id"] == "p2" and s["sample_index"] == 3)]
    with pytest.raises(MissingSamplesError, match="p2#3"):
        group_by_problem(samples, ["p1", "p2"], 4, task="t")
    with pytest.raises(MissingSamplesError, match="p3"):
        group_by_problem(two_problems(), ["p1", "p2", "p3"], 4)


def test_records_beyond_the_expected_set_are_ignored():
    groups = group_by_problem(two_problems(), ["p1"], 2)
    assert [s["sample_index"] for s in groups["p1"]] == [0, 1]


@pytest.mark.parametrize("names,n,expected", [
    (["pass@1", "avg@n", "pass@n", "maj@n"], 8, ["pass@1", "avg@8", "pass@8", "maj@8"]),
    (["pass@1", "avg@n", "pass@n", "maj@n"], 1, ["pass@1"]),      # avg@1 = maj@1 = pass@1
    (["pass@16", "pass@4", "maj@4"], 4, ["pass@4", "maj@4"]),   # k > n dropped
])
def test_resolve_metric_names(names, n, expected):
    assert resolve_metric_names(names, n) == expected


def test_unknown_metric_name_is_rejected():
    with pytest.raises(ValueError, match="unknown metric"):
        resolve_metric_names(["best@3"], 4)


# --- flawed-step rate ---------------------------------------------------------------------------------

def test_flawed_step_rate_hand_worked():
    groups = {
        "a": [{"correct": True, "first_error": -1}, {"correct": True, "first_error": 2},
              {"correct": False, "first_error": 0}],                       # wrong ones never count
        "b": [{"correct": True, "first_error": None}, {"correct": True, "first_error": 0},
              {"correct": True, "first_error": -1}],
    }
    f = flawed_step_rate(groups)
    assert f["value"] == pytest.approx(2 / 4)  # flawed: a#1, b#1; judged correct: a#0, a#1, b#1, b#2
    assert (f["n_correct"], f["n_flawed"], f["n_no_verdict"]) == (5, 2, 1)
    assert (f["n_judge_truncated"], f["judge_truncation_rate"]) == (0, 0.0)


def test_flawed_step_rate_counts_the_judges_truncation():
    # a critic review cut by max_tokens (no verdict), a PRM input cut at max_length (verdict from the prefix),
    # an ensemble whose member was cut; wrong completions are not audited for this rate
    cut_critic = {"evidence": {"truncated": True, "n_truncated": 1}}
    cut_member = {"evidence": {"members": [{"evidence": {}}, {"evidence": {"truncated": True}}]}}
    groups = {"a": [{"correct": True, "first_error": None, "judge": cut_critic},
                    {"correct": True, "first_error": 1, "judge": {"evidence": {"truncated": True}}},
                    {"correct": True, "first_error": -1, "judge": cut_member},
                    {"correct": True, "first_error": -1, "judge": {"evidence": {"truncated": False}}},
                    {"correct": False, "first_error": None, "judge": cut_critic}]}
    f = flawed_step_rate(groups)
    assert (f["n_correct"], f["n_judge_truncated"], f["judge_truncation_rate"]) == (4, 3, 0.75)
    assert 0.0 <= f["ci_low"] <= f["value"] <= f["ci_high"] <= 1.0


# --- bootstrap -------------------------------------------------------------------------------------------

def test_bootstrap_is_deterministic_and_brackets_the_mean():
    scores = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1]
    assert bootstrap_ci(scores, seed=3) == bootstrap_ci(scores, seed=3)
    low, high = bootstrap_ci(scores)
    assert low < np.mean(scores) < high
    assert bootstrap_ci([1.0] * 20) == (1.0, 1.0)


def test_bootstrap_width_shrinks_with_more_problems():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 2, 30)
    large = rng.integers(0, 2, 500)
    w_small = np.subtract(*bootstrap_ci(small)[::-1])
    w_large = np.subtract(*bootstrap_ci(large)[::-1])
    assert w_large < w_small / 2  # width ~ 1/sqrt(m): sqrt(500/30) ~ 4


def test_bootstrap_ci_coverage_is_near_nominal():
    # 300 simulated benchmarks of 60 Bernoulli(0.4) problems: a 95% interval should hold 0.4 about 95%
    # of the time (percentile bootstrap under-covers slightly at this size).
    rng = np.random.default_rng(1)
    hits = 0
    for trial in range(300):
        low, high = bootstrap_ci(rng.random(60) < 0.4, seed=trial, n_boot=500)
        hits += low <= 0.4 <= high
    assert 0.88 <= hits / 300 <= 0.99


def test_overall_pools_problems_across_tasks():
    out = overall_metrics([{"pass@1": [1.0, 0.0]}, {"pass@1": [1.0, 1.0, 1.0, 1.0], "maj@4": [1.0] * 4}])
    assert out["n_problems"] == 6
    assert out["metrics"]["pass@1"]["value"] == pytest.approx(5 / 6)
    assert "maj@4" not in out["metrics"]  # not every task has it
