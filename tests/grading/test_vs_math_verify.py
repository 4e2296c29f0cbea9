"""Where we differ from Math-Verify on purpose.

Each row is a pair on which Math-Verify 0.9 (called as `verify(parse(gold), parse(candidate))`, both wrapped
in `$..$`) gives a verdict that contradicts our grading policy; the third column is the policy's verdict.
`test_ours_follows_policy` asserts our verdict; `test_math_verify_still_differs` asserts Math-Verify's, so
that this table stays a true record of the differences (if a newer Math-Verify fixes a row, that test says
so and the row should move to test_equivalence.py).
"""
from __future__ import annotations

import importlib.util

import pytest
from conftest import require

from stepkto_eval.grading import grade

DIFFERENCES = [
    # Rule 3: approximations of an exact gold (Math-Verify rounds both sides to a few digits).
    (r"\frac{1}{3}", "0.3333333", False),
    (r"\frac{2}{3}", "0.6666667", False),
    (r"\frac{14}{3}", "4.666666667", False),
    (r"\sqrt{2}", "1.41421356", False),
    (r"\frac{\sqrt{3}}{2}", "0.8660254", False),
    (r"\pi", "3.14159265", False),
    (r"2\pi", "6.2831853", False),
    ("e", "2.718281828", False),
    (r"\frac{60}{43}", "1.3953488", False),
    ("0.1", "0.10000000000000001", False),
    # Rule 3: tiny values are different values (a relative tolerance calls them equal).
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}", False),
    ("10^{-20}", "10^{-21}", False),
    # Rule 3: exact repeating decimals are exact.
    (r"\frac{1}{3}", r"0.\overline{3}", True),
    ("1", r"0.\overline{9}", True),
    # Rule 1: a set does not answer an ordered pair.
    ("(15,-29)", r"\{15,-29\}", False),
    # Rule 9: variables are case-sensitive.
    ("p-q", "P-Q", False),
    ("3R^2", "3r^2", False),
    # Rule 9: complex numbers in any standard form.
    ("6 - 5i", "6+(-5)i", True),
    # Rule 10: inequalities vs intervals; "no solution" is the empty set.
    (r"(2,\infty)", "x>2", True),
    (r"(-\infty, 0]", r"x\le 0", True),
    ("[-2,7]", r"-2 \le x \le 7", True),
    (r"\emptyset", r"\text{no solution}", True),
    (r"\emptyset", r"\varnothing", True),
    (r"\infty", "\u221e", True),
    # Rule 9: i^2 is -1.
    ("-1", "i^2", True),
    # Rule 6: a large exact integer written out.
    (r"6.02\times10^{23}", "602000000000000000000000", True),
    # Rule 6: scientific notation with `e`.
    ("26000", "2.6e4", True),
    # Rule 7: another explicit base is another number.
    ("52_8", "52_{10}", False),
    (r"4210_{5}", "4210_6", False),  # Math-Verify drops the subscript
    ("2516_8", "2516_9", False),
    # Rules 4 and 8: decorations and a leading article.
    (r"\text{4:30 p.m.}", "4:30", True),
    (r"\text{east}", r"\text{the east}", True),
    (r"\text{ellipse}", "an ellipse", True),
    (r"\text{Navin}", "NAVIN", True),
]


def _rows() -> list:
    return [pytest.param(g, c, e, id=f"{g} {'==' if e else '!='} {c}") for g, c, e in DIFFERENCES]


@pytest.mark.parametrize("gold,candidate,policy", _rows())
def test_ours_follows_policy(gold, candidate, policy):
    verdict = grade(gold, candidate)
    assert verdict.rule.strip() and verdict.reason.strip()
    assert verdict.equal is policy, f"{verdict.rule}: {verdict.reason}"


@pytest.mark.parametrize("gold,candidate,policy", _rows())
def test_math_verify_still_differs(gold, candidate, policy):
    require(importlib.util.find_spec("math_verify") is not None, "math-verify not installed (pip install -e '.[dev]')")
    from math_verify import parse, verify

    # No SIGALRM timeouts: the test runner may call us off the main thread.
    theirs = verify(
        parse(f"${gold}$", parsing_timeout=None), parse(f"${candidate}$", parsing_timeout=None), timeout_seconds=None
    )
    assert bool(theirs) is not policy, "Math-Verify now follows the policy here: move the row to test_equivalence.py"
