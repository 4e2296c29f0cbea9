"""Tables for scalar equality (stepkto_eval/grading/values.py) and the structural helpers it serves.

The numeric rule: exact rationals compare exactly; irrational constants at a working precision that
grows with the literals an answer contains (so a perturbation of 10^-70 is still seen); expressions
with variables at seeded points, positive ones plus real-only negative ones.
"""
from __future__ import annotations

import pytest

from stepkto_eval.grading.budget import Budget
from stepkto_eval.grading.parse import parse_math
from stepkto_eval.grading.structure_equality import expand_pm, to_interval
from stepkto_eval.grading.values import DPS, compare_scalars, sample_points, working_digits


def _cmp(a: str, b: str):
    return compare_scalars(parse_math(a), parse_math(b), Budget(5.0))


@pytest.mark.parametrize(
    "a,b,equal,rule",
    [
        (r"\frac{1}{3}", "0.333", False, "numeric-exact"),
        ("113", "113.0000001", False, "numeric-exact"),
        (r"2^{-99}", r"2^{-98}", False, "numeric-exact"),
        (r"\frac{\sqrt8}{2}", r"\sqrt2", True, "numeric-precise"),
        (r"\sqrt2", "1.41421356", False, "numeric-precise"),
        (r"\pi", r"\pi + 10^{-70}", False, "numeric-precise"),
        (r"\sqrt{2}", r"\sqrt{2 + 10^{-50}}", False, "numeric-precise"),
        (r"e^{i\pi}", "-1", True, "numeric-precise"),
        (r"\sin\frac{\pi}{6}", r"\frac12", True, "numeric-precise"),
        ("(x+1)^2", "x^2+2x+1", True, "symbolic-exact"),  # rational functions: exact at rational points
        ("|x|", "x", False, "symbolic-exact"),  # caught at a negative point
        (r"\sqrt{x}\sqrt{y}", r"\sqrt{xy}", True, "symbolic-points"),  # complex there: not counted
        (r"2\ln x", r"\ln x^2", True, "symbolic-points"),
        (r"\sin^2 x + \cos^2 x", "1", True, "symbolic-points"),
        ("x", "X", False, "variables"),
        (r"\frac{1}{x}", r"\frac{1}{x+10^{-50}}", False, "symbolic-exact"),
        (r"x^{\frac12}", r"\sqrt{x}", True, "symbolic-points"),  # not rational at the points: mpmath
    ],
)
def test_scalar_rules(a, b, equal, rule):
    outcome = _cmp(a, b)
    assert (outcome.equal, outcome.rule) == (equal, rule), outcome


@pytest.mark.parametrize(
    "a,b,at_least",
    [(r"\frac{\sqrt3}{2}", r"\sqrt{3}/2", DPS), (r"\pi", r"\pi+10^{-70}", DPS + 70), ("x", "x^{-200}", DPS + 200)],
)
def test_working_precision_grows_with_literals(a, b, at_least):
    assert working_digits(parse_math(a), parse_math(b)) >= at_least


def test_sample_points_are_deterministic_and_cover_both_signs():
    first, second = sample_points(frozenset({"x", "y"})), sample_points(frozenset({"y", "x"}))
    assert first == second
    assert {positive for _, positive in first} == {True, False}
    assert all((env["x"] > 0) == positive for env, positive in first)


@pytest.mark.parametrize(
    "text,interval",
    [("x>3", ("(", ")")), (r"x\le 2", ("(", "]")), (r"1<x\le 3", ("(", "]")), (r"3\ge x", ("(", "]")), ("x=3", None)],
)
def test_inequalities_as_intervals(text, interval):
    result = to_interval(parse_math(text))
    assert (result if result is None else (result[1], result[2])) == interval


def test_plus_minus_expands_to_both_signs():
    variants = expand_pm(parse_math(r"1\pm\sqrt2"))
    assert len(variants) == 2 and variants[0] != variants[1]
    assert len(expand_pm(parse_math(r"\pm 1 \pm 2"))) == 4
