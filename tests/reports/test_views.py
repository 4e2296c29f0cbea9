"""reports/views.py: each view on hand-built samples with hand-computed expectations, and its absence where
it does not apply (greedy runs, no levels, no audit)."""
from __future__ import annotations

import pytest

from stepkto_eval import metrics as m
from stepkto_eval.reports import views

SAME = str.__eq__  # answers vote together only when spelled alike: keeps the hand computations simple
AIME_URL = "https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_{}"


def rec(pid: str, k: int = 0, correct: bool | None = True, **extra) -> dict:
    base = {"task": "t", "id": pid, "sample_index": k, "correct": correct, "finish_reason": "stop",
            "extracted": "4" if correct else "5", "completion": "x" * 10, "tokens": {"prompt": 3, "completion": 7},
            "meta": {}}
    base.update(extra)
    return base


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"level": "Level 3"}, ("level", 3, "3")),  # MATH-500's spelling
        ({"level": 5}, ("level", 5, "5")),
        ({"level": "hard"}, ("level", 10**6, "hard")),  # non-numeric levels sort last
        ({"level": "Level ²"}, ("level", 10**6, "²")),  # str.isdigit() is true for "²" but int() refuses it
        ({"level": "Level ?"}, ("level", 10**6, "?")),
        ({"url": AIME_URL.format(1)}, ("problem number in contest (from meta.url)", 0, "1-5")),
        ({"url": AIME_URL.format(7)}, ("problem number in contest (from meta.url)", 1, "6-10")),
        ({"url": AIME_URL.format(15)}, ("problem number in contest (from meta.url)", 2, "11-15")),
        ({"level": 2, "url": AIME_URL.format(15)}, ("level", 2, "2")),  # a level beats the proxy
        ({"url": "https://example.org/no-number"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_difficulty(meta, expected):
    assert views.difficulty(meta) == expected


def test_accuracy_by_level_averages_per_problem_means():
    samples = [rec("a", 0, True, meta={"level": "Level 1"}), rec("a", 1, False, meta={"level": "Level 1"}),
               rec("b", 0, True, meta={"level": "Level 1"}), rec("b", 1, True, meta={"level": "Level 1"}),
               rec("c", 0, False, meta={"level": "Level 10"}), rec("c", 1, False, meta={"level": "Level 10"}),
               rec("d", 0, True, meta={"level": "Level 2"}), rec("d", 1, True, meta={"level": "Level 2"}),
               rec("e", 0, True), rec("e", 1, True)]  # no level: left out and counted
    view = views.accuracy_by_difficulty(samples)
    assert view.axis == "level"
    assert view.labels == ["1", "2", "10"]  # numeric order
    assert view.n == [2, 1, 1]
    assert [e.value for e in view.estimates] == [0.75, 1.0, 0.0]  # a = 0.5, b = 1.0
    assert view.estimates[0] == m.estimate([0.5, 1.0])  # the metrics module's bootstrap, not a copy
    assert view.n_unbucketed == 1


def test_accuracy_by_contest_problem_number():
    samples = [rec(str(i), 0, i < 4, meta={"url": AIME_URL.format(i)}) for i in (1, 2, 3, 6, 12, 13)]
    view = views.accuracy_by_difficulty(samples)
    assert view.axis.startswith("problem number")
    assert view.labels == ["1-5", "6-10", "11-15"]
    assert view.n == [3, 1, 2]
    assert [e.value for e in view.estimates] == [1.0, 0.0, 0.0]


def test_no_difficulty_view_without_levels_or_numbers():
    assert views.accuracy_by_difficulty([rec("a"), rec("b", correct=False)]) is None
    assert views.flawed_rate_by_difficulty([rec("a", first_error=1, steps=["s"] * 3)]) is None
    assert views.accuracy_by_difficulty([]) is None


def test_lengths_use_tokens_only_when_every_sample_has_them():
    samples = [rec("a", 0, True, tokens={"completion": 12}), rec("b", 0, False, tokens={"completion": 30}),
               rec("c", 0, False, finish_reason="error", tokens={"completion": None})]  # failed: left out
    lengths = views.lengths_by_correctness(samples)
    assert (lengths.unit, lengths.correct, lengths.wrong) == ("tokens", [12], [30])
    samples[1]["tokens"] = {"prompt": 3, "completion": None}  # one missing count: characters for all
    samples[1]["completion"] = "y" * 25
    lengths = views.lengths_by_correctness(samples)
    assert (lengths.unit, lengths.correct, lengths.wrong) == ("characters", [10], [25])
    scored = [rec("a", tokens=None, finish_reason=None)]  # `stepkto-eval score` records
    assert views.lengths_by_correctness(scored).unit == "characters"


@pytest.mark.parametrize(
    ("values", "n_bins", "edges"),
    [
        ([3, 10, 25], 4, [3, 9, 15, 21, 27]),  # width ceil(22 / 4) = 6
        ([0, 100], 10, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]),
        ([20, 20, 20], 10, [20, 21]),  # one value: one bin
        ([1, 2, 3], 10, [1, 2, 3, 4]),  # fewer distinct lengths than bins
    ],
)
def test_bin_edges(values, n_bins, edges):
    assert views.bin_edges(values, n_bins, tail=0.0) == edges


def test_bin_edges_leave_a_long_tail_to_the_last_bin():
    values = list(range(1, 100)) + [10_000]  # 100 values; the 99% quantile is 99
    assert views.bin_edges(values, 10) == [1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 101]
    assert views.bin_edges([]) == [0, 1]
    bins = views.length_bins([rec(str(v), tokens={"completion": v}) for v in values], n_bins=10)
    assert bins.n[-1] == 10 and bins.longest == 10_000  # 91..99 and the outlier


def test_length_bins_count_accuracy_and_truncation():
    # tokens 10, 12, 30, 50 with 4 bins: lo 10, width 10, edges 10..50; 50 falls in the last bin.
    samples = [rec("a", correct=True, tokens={"completion": 10}), rec("b", correct=False, tokens={"completion": 12}),
               rec("c", correct=True, tokens={"completion": 30}),
               rec("d", correct=False, tokens={"completion": 50}, finish_reason="length")]
    bins = views.length_bins(samples, n_bins=4)
    assert bins.unit == "tokens" and bins.edges == [10, 20, 30, 40, 50] and bins.longest == 50
    assert bins.n == [2, 0, 1, 1]
    assert bins.accuracy == [0.5, None, 1.0, 0.0]
    assert bins.truncated == [0.0, None, 0.0, 1.0]
    for s in samples:  # a score run: no finish_reason, so truncation is unknown rather than 0
        s["finish_reason"] = None
    assert views.length_bins(samples, n_bins=4).truncated == [None] * 4


def _sampled_run() -> list[dict]:
    """Three problems, n = 4. p1 answers 5, 4, 4, 7 (4 correct); p2 all correct; p3 all wrong, no answers."""
    p1 = [rec("p1", k, a == "4", extracted=a) for k, a in enumerate(["5", "4", "4", "7"])]
    p2 = [rec("p2", k, True) for k in range(4)]
    p3 = [rec("p3", k, False, extracted=None) for k in range(4)]
    return p3[::-1] + p1 + p2  # input order must not matter


def test_pass_at_k_curve_is_the_unbiased_estimator():
    curves = views.pass_and_majority_curves(_sampled_run(), SAME)
    assert curves.ks == [1, 2, 3, 4]
    # p1: c = 2 of 4 -> pass@1 = 0.5, pass@2 = 1 - C(2,2)/C(4,2) = 5/6, pass@3 = pass@4 = 1; p2: 1; p3: 0.
    expected = [(0.5 + 1) / 3, (5 / 6 + 1) / 3, 2 / 3, 2 / 3]
    assert [e.value for e in curves.pass_at] == pytest.approx(expected)
    assert curves.pass_at[0] == m.estimate([0.5, 1.0, 0.0])


def test_majority_curve_matches_metrics_for_every_k():
    samples = _sampled_run()
    curves = views.pass_and_majority_curves(samples, SAME)
    # p1: maj@1 = 0 (only 5 voted), maj@2 = 0 (5 vs 4 tie, 5 came first), maj@3 = maj@4 = 1; p2 = 1; p3 = 0.
    assert [e.value for e in curves.maj_at] == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3])
    groups = m.group_by_problem(samples, ["p1", "p2", "p3"], 4)
    for k in range(1, 5):
        assert curves.maj_at[k - 1].value == pytest.approx(sum(m.problem_scores(groups, f"maj@{k}", SAME)) / 3)


def test_majority_prefix_scores_tie_goes_to_the_earliest_group():
    group = [rec("p", k, a == "4", extracted=a) for k, a in enumerate(["5", "4", "4"])]
    assert views.majority_prefix_scores(group, SAME) == [0.0, 0.0, 1.0]
    group = [rec("p", k, a == "4", extracted=a) for k, a in enumerate([None, "4", "5", "5"])]
    assert views.majority_prefix_scores(group, SAME) == [0.0, 1.0, 1.0, 0.0]  # no vote yet -> 0


def test_solve_rate_histogram():
    assert views.solve_rate_histogram(_sampled_run()) == [1, 0, 1, 0, 1]  # p3: 0/4, p1: 2/4, p2: 4/4


def test_greedy_runs_have_no_sampling_views():
    greedy = [rec("a"), rec("b", correct=False)]
    assert views.pass_and_majority_curves(greedy, SAME) is None
    assert views.solve_rate_histogram(greedy) is None


def test_no_majority_curve_without_extracted_answers():
    samples = [rec("a", k, k == 0, extracted=None) for k in range(2)]
    curves = views.pass_and_majority_curves(samples, SAME)
    assert curves.maj_at is None and [e.value for e in curves.pass_at] == [0.5, 1.0]


def test_flawed_rate_by_level():
    steps = ["s1", "s2", "s3", "s4"]
    samples = [rec("a", 0, True, first_error=-1, steps=steps, meta={"level": 1}),
               rec("a", 1, True, first_error=2, steps=steps, meta={"level": 1}),
               rec("a", 2, False, first_error=0, steps=steps, meta={"level": 1}),  # wrong: not in the rate
               rec("b", 0, True, first_error=None, steps=steps, meta={"level": 2})]  # no verdict only
    view = views.flawed_rate_by_difficulty(samples)
    assert view.labels == ["1"]  # level 2 has no judged correct completion
    assert view.n == [2]
    assert view.estimates[0].value == 0.5


def test_first_error_positions():
    samples = [rec("a", 0, True, first_error=1, steps=["s"] * 4),  # 1/4
               rec("b", 0, False, first_error=0, step_labels=[0, 1, 1, 1, 1]),  # 0/5
               rec("c", 0, False, first_error=4, step_char_spans=[[0, 1]] * 5),  # 4/5
               rec("d", 0, True, first_error=-1, steps=["s"] * 3),  # no error
               rec("e", 0, True, first_error=None, steps=["s"] * 3),  # no verdict
               rec("f", 0, True, first_error=9, steps=["s"] * 3)]  # malformed: no such step
    assert views.first_error_positions(samples) == {"correct answer": [0.25], "wrong answer": [0.0, 0.8]}
    assert views.first_error_positions([rec("a")]) is None


def test_malformed_records_do_not_break_the_views():
    """Hand-edited or corrupt lines: wrong types in meta, completion, sample_index, extracted and audit fields."""
    odd = [rec("a", 0, True, meta="Level 1", completion=12345, sample_index="0", extracted=7),
           rec("a", 1, False, meta={"level": 1}, first_error="2", judge="x", steps="abc"),
           rec("b", 0, True, meta={"level": 1}, first_error=True, tokens="many"),
           rec("b", 1, True, meta={"level": 1}, first_error=0, steps=["s", "t"], judge={"evidence": "e"})]
    assert views.accuracy_by_difficulty(odd).labels == ["1"]
    assert views.flawed_rate_by_difficulty(odd).estimates[0].value == 1.0  # only b#1 is a well-formed verdict
    assert views.lengths_by_correctness(odd).unit == "characters"
    assert views.pass_and_majority_curves(odd, SAME) is not None
    assert views.first_error_positions(odd) == {"correct answer": [0.0]}
