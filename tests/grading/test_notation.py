"""Value-carrying notations rewritten for the parser (`stepkto_eval/grading/notation.py`)."""
from __future__ import annotations

import pytest

from stepkto_eval.grading.notation import (
    base_subscript,
    repeating_ellipsis,
    scale_words,
    unicode_powers_and_roots,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("0.333...", r"0.\overline{3}"),
    (r"0.333\ldots", r"0.\overline{3}"),
    (r"0.1666\dots", r"0.1\overline{6}"),
    ("0.363636...", r"0.\overline{36}"),
    ("0.142857142857...", r"0.\overline{142857}"),
    ("3.333...", r"3.\overline{3}"),
    ("0.33...", "0.33..."),  # a digit seen twice is no visible period
    ("0.142857...", "0.142857..."),  # a six-digit block seen once
    ("3.14159...", "3.14159..."),
    ("0.333", "0.333"),  # no ellipsis: a truncated decimal
    (r"1, 2, 3, \ldots", r"1, 2, 3, \ldots"),
])
def test_repeating_ellipsis(text: str, expected: str) -> None:
    assert repeating_ellipsis(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (r"1.5 \text{ million}", r"1.5 \times 10^{6} "),
    (r"1.5 \text{ million dollars}", r"1.5 \times 10^{6} \text{ dollars}"),
    ("3 dozen", r"3 \times 12 "),
    (r"5 \text{ squared}", "5^{2} "),
    ("2 Thousand", r"2 \times 10^{3} "),
    (r"25 \text{ units squared}", r"25 \text{ units squared}"),  # after a unit word: the unit's square
    ("5 hundredths", r"5 \times 10^{-2} "),  # a fraction word scales too (not read as `hundred`, not a unit)
    ("x million", "x million"),  # only after a number
])
def test_scale_words(text: str, expected: str) -> None:
    assert scale_words(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("(4210)_5", "4210_5"),
    ("4210_{(5)}", "4210_{5}"),
    ("4210_{five}", "4210_{5}"),
    (" 4210 _5", " 4210_5"),
    ("4210_{one}", "4210_{one}"),  # base 1 does not exist
    ("a_n", "a_n"),
])
def test_base_subscript(text: str, expected: str) -> None:
    assert base_subscript(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("10\u207b\u2075", "10^{-5}"),
    ("x\u00b2", "x^2"),
    ("x\u00b9\u00b2", "x^{12}"),
    ("\u221a13", r"\sqrt{13}"),
    ("2\u221a 3", r"2\sqrt{3}"),
    ("\u221ax", r"\sqrt{x}"),
])
def test_unicode_powers_and_roots(text: str, expected: str) -> None:
    assert unicode_powers_and_roots(text) == expected
