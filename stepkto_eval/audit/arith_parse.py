"""Exact evaluation of one arithmetic expression (a token list from `arith_lex`) with `fractions.Fraction`.

Grammar (usual precedence; ``^`` binds tighter than unary minus, so -2^2 = -4)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/" | "of" | implicit) unary)*      implicit: 2(3), (2)(3), \\frac{1}{2}(4)
    unary   := ("-" | "+") unary | power
    power   := postfix ("^" unary)?
    postfix := atom ("%" | "!")*
    atom    := NUM | "(" expr ")" | FRAC group group | SQRT group

A square root of a perfect square is exact; any other is carried as a rational within 10^-40 of it, the
value is marked inexact, and the caller compares such values to 25 significant digits (so
``(\\sqrt{2})^2 = 2`` holds and ``(3\\sqrt{2}/2)^4 = 5.0625`` does not).

Anything outside it raises `Unparseable`, including readings that are ambiguous in practice: a mixed
number ``2\\frac{1}{2}`` or "2 1/2", implicit multiplication right after a division (``1/2(3)``), a
percentage added to a plain number ("60 + 20%" usually means 60·1.2), and results past the size limits
(so a claim like ``9^{9^9}`` costs nothing). Nothing is ever `eval`-ed.
"""
from __future__ import annotations

from fractions import Fraction
from math import factorial, isqrt

from stepkto_eval.audit.arith_lex import FACT, FRAC, LP, NUM, OP, PCT, RP, SQRT, Token

MAX_BITS = 2048  # numerator / denominator size limit of any intermediate value
MAX_EXPONENT = 256
MAX_TOKENS = 256  # a longer side is not read: real claims are short, and this bounds the recursion
MAX_DEPTH = 32  # bracket / \\frac nesting
MAX_FACTORIAL = 50
SQRT_DIGITS = 40  # precision of an irrational square root; claims with one are compared to IRRATIONAL_DIGITS
IRRATIONAL_DIGITS = 25


class Unparseable(ValueError):
    """The tokens are not one complete, unambiguous arithmetic expression."""


def evaluate(tokens: list[Token]) -> Fraction:
    """Value of the expression spelled by `tokens` (all of them), or raise `Unparseable`."""
    return evaluate_with_precision(tokens)[0]


def evaluate_with_precision(tokens: list[Token]) -> tuple[Fraction, bool]:
    """(value, exact): exact is False when an irrational square root was approximated on the way."""
    if len(tokens) > MAX_TOKENS:
        raise Unparseable(f"expression longer than {MAX_TOKENS} tokens")
    parser = _Parser(tokens)
    value, _ = parser.expr()
    if parser.pos != len(tokens):
        raise Unparseable(f"unexpected {tokens[parser.pos].text!r}")
    return value, not parser.inexact


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.inexact = False  # an irrational square root was replaced by a close rational
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise Unparseable("expression ends early")
        self.pos += 1
        return tok

    # Each level returns (value, is_percent) so that "60 + 20%" can be refused.
    def expr(self) -> tuple[Fraction, bool]:
        value, pct = self.term()
        terms_pct = [pct]
        while (tok := self.peek()) is not None and tok.kind == OP and tok.text in "+-":
            self.pos += 1
            rhs, rpct = self.term()
            terms_pct.append(rpct)
            value = _check(value + rhs if tok.text == "+" else value - rhs)
        if any(terms_pct) and not all(terms_pct):
            raise Unparseable("percentage added to a plain number")
        return value, all(terms_pct)

    def term(self) -> tuple[Fraction, bool]:
        value, pct = self.unary()
        after_division = False
        while (tok := self.peek()) is not None:
            if tok.kind == OP and tok.text in ("*", "/", "of"):
                self.pos += 1
                rhs, rpct = self.unary()
                if tok.text == "/":
                    if rhs == 0:
                        raise Unparseable("division by zero")
                    value, after_division = value / rhs, True
                else:
                    value, after_division = value * rhs, False
                # 20% of 50, 50 x 20% are plain numbers; 50% / 2 is still a percentage.
                pct = pct and not rpct if tok.text == "/" else pct and rpct
            elif tok.kind in (LP, FRAC, NUM, SQRT) and self._implicit_ok(tok):
                if after_division:
                    raise Unparseable("implicit product after a division is ambiguous")
                rhs, rpct = self.unary()
                value, pct = value * rhs, pct and rpct
            else:
                break
            value = _check(value)
        return value, pct

    def _implicit_ok(self, tok: Token) -> bool:
        prev = self.tokens[self.pos - 1]
        if tok.kind == NUM or (tok.kind == FRAC and prev.kind == NUM):
            return False  # "2 3", "2\frac{1}{2}" (mixed number?) are refused, not guessed
        if tok.kind == LP and prev.kind == NUM and tok.space:
            return False  # "5 (1)": a number followed by an equation tag or an aside
        return prev.kind in (NUM, RP, PCT, FACT)

    def unary(self) -> tuple[Fraction, bool]:
        tok = self.peek()
        if tok is not None and tok.kind == OP and tok.text in "+-":
            self.pos += 1
            value, pct = self.unary()
            return (-value if tok.text == "-" else value), pct
        return self.power()

    def power(self) -> tuple[Fraction, bool]:
        base, pct = self.postfix()
        tok = self.peek()
        if tok is not None and tok.kind == OP and tok.text == "^":
            self.pos += 1
            exponent, _ = self.unary()
            if exponent.denominator != 1 or abs(exponent) > MAX_EXPONENT:
                raise Unparseable("exponent is not a small integer")
            if base == 0 and exponent < 0:
                raise Unparseable("zero to a negative power")
            if max(abs(base.numerator), base.denominator).bit_length() * abs(exponent) > MAX_BITS:
                raise Unparseable("power too large")
            return base ** int(exponent), pct
        return base, pct

    def postfix(self) -> tuple[Fraction, bool]:
        value, pct = self.atom()
        while (tok := self.peek()) is not None and tok.kind in (PCT, FACT):
            self.pos += 1
            if tok.kind == PCT:
                value, pct = value / 100, True
            else:
                if value.denominator != 1 or not 0 <= value <= MAX_FACTORIAL:
                    raise Unparseable("factorial of a non-small integer")
                value = Fraction(factorial(int(value)))
        return value, pct

    def atom(self) -> tuple[Fraction, bool]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unparseable(f"nested deeper than {MAX_DEPTH}")
        try:
            return self._atom()
        finally:
            self.depth -= 1

    def _atom(self) -> tuple[Fraction, bool]:
        tok = self.take()
        if tok.kind == NUM:
            return tok.value, False
        if tok.kind == LP:
            value, pct = self.expr()
            close = self.take()
            if close.kind != RP or _PAIRS[tok.text] != close.text:
                raise Unparseable("unbalanced brackets")
            return value, pct
        if tok.kind == FRAC:
            num, _ = self.group()
            den, _ = self.group()
            if den == 0:
                raise Unparseable("division by zero")
            return _check(num / den), False
        if tok.kind == SQRT:
            value, _ = self.group()
            root, exact = _sqrt(value)
            self.inexact = self.inexact or not exact
            return root, False
        raise Unparseable(f"unexpected {tok.text!r}")

    def group(self) -> tuple[Fraction, bool]:
        """A \\frac argument: a {..} group or a single number token (\\frac12 is split by the lexer)."""
        tok = self.peek()
        if tok is not None and tok.kind == NUM:
            self.pos += 1
            return tok.value, False
        if tok is None or tok.kind != LP:
            raise Unparseable("\\frac or \\sqrt without arguments")
        return self.atom()


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _sqrt(value: Fraction) -> tuple[Fraction, bool]:
    """(root, exact): the exact root of a perfect square (16, 9/4), else a rational within 10^-SQRT_DIGITS
    relative of the irrational root (integer square root of the scaled value, no floats)."""
    if value < 0:
        raise Unparseable("square root of a negative number")
    num, den = isqrt(value.numerator), isqrt(value.denominator)
    if num * num == value.numerator and den * den == value.denominator:
        return Fraction(num, den), True
    scale = 10**SQRT_DIGITS
    product = value.numerator * value.denominator  # sqrt(p/q) = sqrt(p*q) / q
    return Fraction(isqrt(product * scale * scale), value.denominator * scale), False


def _check(value: Fraction) -> Fraction:
    if max(abs(value.numerator), value.denominator).bit_length() > MAX_BITS:
        raise Unparseable("number too large")
    return value
