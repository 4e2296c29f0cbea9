"""Direct tests of `intervals.py`: inequalities, `|x - c| < r`, `x \\ne a` and punctured lines as intervals."""
from __future__ import annotations

from fractions import Fraction

import pytest

from stepkto_eval.grading.intervals import as_intervals, interval_like
from stepkto_eval.grading.normalize import clean, connectives_to_commas
from stepkto_eval.grading.parse import parse_math

INF = ("const", "inf")


def num(value) -> tuple:
    return ("num", Fraction(value))


def neg(node) -> tuple:
    return ("neg", node)


def intervals(text: str):
    return as_intervals(parse_math(connectives_to_commas(clean(text))))


def test_abs_less_than_is_a_symmetric_open_interval():
    [(kind, left, right, (low, high))] = intervals("|x|<3")
    assert (kind, left, right) == ("seq", "(", ")")
    assert low == ("add", (num(0), neg(num(3)))) and high == ("add", (num(0), num(3)))


def test_abs_with_center_and_closed_bound():
    [(_, left, right, (low, high))] = intervals(r"|x-2| \le 1")
    assert (left, right) == ("[", "]")
    assert low == ("add", (neg(neg(num(2))), neg(num(1))))  # center 2, radius 1
    assert high == ("add", (neg(neg(num(2))), num(1)))


def test_abs_greater_than_is_two_rays():
    pieces = intervals(r"|x| \ge 3")
    assert [(p[1], p[2]) for p in pieces] == [("(", "]"), ("[", ")")]
    assert pieces[0][3][0] == neg(INF) and pieces[1][3][1] == INF


@pytest.mark.parametrize("text", ["|x|<-3", "|x|<0", "|2x|<-6", "|x^3|<8", "|xy|<1"])
def test_abs_forms_we_do_not_solve_are_not_intervals(text):
    assert not interval_like(parse_math(clean(text)))


def test_abs_of_a_linear_form_is_solved():
    # |2x - 1| < 3 is |x - 1/2| < 3/2 (checker 1.1).
    assert intervals("|2x-1|<3") == [("seq", "(", ")", (
        ("add", (num(Fraction(1, 2)), neg(("div", num(3), num(2))))), ("add", (num(Fraction(1, 2)), ("div", num(3), num(2))))))]


def test_abs_of_a_square_is_solved_as_the_square():
    # |x^2| equals x^2 at every point, so it is the quadratic inequality x^2 < 9 (checker 1.1).
    assert intervals("|x^2|<9") == intervals("x^2<9") and len(intervals("x^2<9")) == 1


def test_not_equal_plus_minus_excludes_both_points():
    # `x \ne \pm 1` is rewritten by structure_equality.py to R \ {1, -1}; the punctured line has three pieces.
    pieces = intervals(r"\mathbb{R} \setminus \{-1, 1\}")
    assert len(pieces) == 3


def test_and_of_overlapping_bounds_is_one_interval():
    [(_, left, right, (low, high))] = intervals(r"x > -2 \text{ and } x \le 2")
    assert (left, right, low, high) == ("(", "]", neg(num(2)), num(2))


def test_or_between_inequalities_is_a_union():
    node = parse_math(connectives_to_commas(clean(r"x > 3 \text{ or } x < 5")))
    assert node[0] == "union"
    assert len(as_intervals(node)) == 2  # (3, inf) and (-inf, 5), never the overlap (3, 5)


def test_disjoint_bounds_listed_with_commas_stay_two_rays():
    assert len(intervals("x < -2, x > 2")) == 2


def test_chain_in_either_direction_keeps_inclusion():
    [(_, left, right, _bounds)] = intervals(r"5 \ge x > -2")
    assert (left, right) == ("(", "]")


def test_set_builder_reads_as_its_condition():
    assert clean(r"\{x \mid -3 \le x \le 2\}") == r"-3 \le x \le 2"
    assert clean(r"\{x \in \mathbb{R} : x > 1\}") == "x > 1"
    assert clean(r"\{1, 2\}") == r"\{1, 2\}"  # a plain set is untouched
