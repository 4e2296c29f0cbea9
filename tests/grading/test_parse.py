"""Tables for the tokenizer + parser (stepkto_eval/grading/lexer.py, parse.py) and the exact evaluator.

Each row: the text, then the exact value of its tree (Fraction) or the expected tree itself.
Grouped by phenomenon; the value column is what LaTeX renders, not what a lenient reading guesses.
"""
from __future__ import annotations

from fractions import Fraction as F

import pytest

from stepkto_eval.grading.budget import TooLarge
from stepkto_eval.grading.lexer import LexError, tokenize
from stepkto_eval.grading.parse import ParseError, parse_math
from stepkto_eval.grading.scalar_value import NotRational, exact

NUMBERS = [
    ("42", F(42)), ("0042", F(42)), ("3.25", F(13, 4)), (".5", F(1, 2)), ("2.6e4", F(26000)),
    ("2.6e-2", F(26, 1000)), (r"0.\overline{3}", F(1, 3)), (r"0.1\overline{6}", F(1, 6)),
    (r"0.\overline{142857}", F(1, 7)), (r"1.\overline{9}", F(2)), ("4210_5", F(555)), ("4210_{5}", F(555)),
    ("A3_{16}", F(163)), ("1011_2", F(11)),
]
FRACTIONS_AND_MIXED = [
    (r"\frac{1}{2}", F(1, 2)), (r"\frac12", F(1, 2)), (r"\frac43", F(4, 3)), (r"\frac{1}2", F(1, 2)),
    (r"\frac1{2}", F(1, 2)), (r"2\frac12", F(5, 2)), (r"2 \frac{1}{2}", F(5, 2)), (r"-2\frac12", F(-5, 2)),
    (r"12\frac{3}{5}", F(63, 5)), (r"2\frac{x}{x}", None), ("1/2/2", F(1, 4)), ("3/4*2", F(3, 2)),
    (r"\frac{\frac12}{3}", F(1, 6)), (r"2\cdot\frac{1}{2}", F(1)),
]
PRECEDENCE = [
    ("-2^2", F(-4)), ("(-2)^2", F(4)), ("2^23", F(12)), ("2^{10}", F(1024)), ("2^{-1}", F(1, 2)),
    ("2^-1", F(1, 2)), ("2(3)", F(6)), ("(1+2)(3+4)", F(21)), ("2^3^2", F(64)), ("1-2-3", F(-4)),
    ("2\\times3+4", F(10)), ("8\\div2\\div2", F(2)), ("5!", F(120)), ("3!!", F(720)), (r"\binom{5}{2}", F(10)),
    (r"\sqrt{16}", F(4)), (r"\sqrt[3]{27}", F(3)), (r"\sqrt9", F(3)), (r"\sqrt{\frac{4}{9}}", F(2, 3)),
    (r"|-3|", F(3)), (r"\lfloor 2.5 \rfloor", F(2)), (r"\lceil 2.5 \rceil", F(3)), ("25%", F(1, 4)),
    (r"8^{\frac{2}{3}}", F(4)), (r"(\frac{1}{2})^{2}", F(1, 4)),
]
IRRATIONAL = [r"\sqrt{2}", r"\pi", "e", "i", r"\sin 1", r"2^{1/2}", r"\ln 2", r"\sqrt{-4}", "x"]
STRUCTURES = [
    ("(1,2)", ("seq", "(", ")", (("num", F(1)), ("num", F(2))))),
    ("[1,2)", ("seq", "[", ")", (("num", F(1)), ("num", F(2))))),
    (r"\{1,2\}", ("set", (("num", F(1)), ("num", F(2))))),
    ("1, 2", ("list", (("num", F(1)), ("num", F(2))))),
    (r"\emptyset", ("empty",)),
    ("x=5", ("rel", ("=",), (("sym", "x"), ("num", F(5))))),
    (r"1<x\le 2", ("rel", ("<", "<="), (("num", F(1)), ("sym", "x"), ("num", F(2))))),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}",
     ("matrix", ((("num", F(1)), ("num", F(2))), (("num", F(3)), ("num", F(4)))))),
    (r"(0,1)\cup(2,3)", ("union", (("seq", "(", ")", (("num", F(0)), ("num", F(1)))),
                                   ("seq", "(", ")", (("num", F(2)), ("num", F(3))))))),
    (r"1\pm 2", ("pm", ("num", F(1)), ("num", F(2)))),
    ("x_1", ("sym", "x_1")), ("x_{10}", ("sym", "x_10")), (r"\theta", ("sym", "\\theta")),
    ("3:4", ("colon", ("num", F(3)), ("num", F(4)))),
    (r"\sin^{-1} x", ("fn", "arcsin", ("sym", "x"))),
    (r"\exp(x)", ("pow", ("const", "e"), ("sym", "x"))),
    ("2x", ("mul", (("num", F(2)), ("sym", "x")))),
    ("xy", ("mul", (("sym", "x"), ("sym", "y")))),
]
MALFORMED = [
    "", "(", "(1,2", "1+", r"\frac{1}", "1 2", r"\unknowncommand", r"\begin{cases}1\end{cases}", "((1]",
    "(" * 200 + "1" + ")" * 200, "-" * 500 + "1", r"\begin{pmatrix}1&2\\3\end{pmatrix}", "1 @ 2",
]


def _value(text: str) -> F:
    return exact(parse_math(text))


@pytest.mark.parametrize("text,value", NUMBERS)
def test_number_literals_are_exact(text, value):
    assert _value(text) == value


@pytest.mark.parametrize("text,value", FRACTIONS_AND_MIXED)
def test_fractions_and_mixed_numbers(text, value):
    if value is None:  # a whole number before a non-numeric fraction is a product, not a mixed number
        assert parse_math(text)[0] == "mul"
    else:
        assert _value(text) == value


@pytest.mark.parametrize("text,value", PRECEDENCE)
def test_precedence_follows_latex_rendering(text, value):
    assert _value(text) == value


@pytest.mark.parametrize("text", IRRATIONAL)
def test_irrational_values_are_not_forced_into_fractions(text):
    with pytest.raises(NotRational):
        _value(text)


@pytest.mark.parametrize("text,tree", STRUCTURES)
def test_structures(text, tree):
    assert parse_math(text) == tree


@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_input_raises_a_parse_error(text):
    with pytest.raises((ParseError, LexError)):
        parse_math(text)


@pytest.mark.parametrize("text", ["2^{10^{10}}", "10^{100000}", "5000!", r"\binom{100000}{50000}"])
def test_exact_evaluation_refuses_huge_values_before_computing(text):
    with pytest.raises(TooLarge):
        _value(text)


def test_digit_split_follows_latex_one_token_arguments():
    # `\frac123` renders as (1/2)*3; `x^23` as x^2 * 3.
    assert _value(r"\frac123") == F(3, 2)
    assert [t.kind for t in tokenize("x^23")] == ["SYM", "OP", "NUM"]


def test_too_long_literal_is_refused_by_the_lexer():
    with pytest.raises(TooLarge):
        tokenize("9" * 5000)
