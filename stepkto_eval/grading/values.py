"""Equality of two scalar trees: exact first, then high-precision numeric, then seeded test points.

Order of evidence (cheapest and most certain first):
1. both sides exact rationals -> compare the Fractions (a decimal literal is its exact rational, so
   `0.333` != 1/3 and `113.0000001` != 113);
2. constants without variables (π, √2, i, sin 1) -> mpmath at DPS = 60 significant digits *plus* the
   largest literal or exponent size in the answers (so `\\pi + 10^{-70}` is still told apart from π);
   equal when |a - b| <= 10^-(digits - 20) * max(|a|, |b|); an approximation such as `1.41421356`
   differs from √2 at the 1e-9 level;
3. expressions with variables -> evaluated at 5 positive and 2 negative seeded rational points
   (the generator is seeded by the variable names: deterministic).  Rational functions are evaluated
   exactly there (a disagreement is certain, an agreement is an identity with probability ~1);
   others with mpmath, where negative points count only if both sides are real.  Variables are
   case-sensitive and never renamed.
Terms too large to compute (`10^{10^{10}}`) are first cancelled structurally; if the value still
cannot be computed exactly, a numeric match is not trusted and the verdict is "too-large".
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from .budget import Budget, GradingError, TooLarge
from .parse import Node
from .scalar_value import DPS, NotRational, Undefined, approx, cancel, exact, free_symbols, precision

GUARD_DIGITS = 20  # digits of the working precision not trusted for equality
MAX_DPS = 3_000  # beyond this the inputs are adversarial; equality is then refused
MAX_VARIABLES = 40
POINTS = 5
NEGATIVE_POINTS = 2
MIN_VALID_POINTS = 3


@dataclass(frozen=True)
class Outcome:
    """A partial verdict: the decision, the rule that made it and why."""

    equal: bool
    rule: str
    reason: str


def close(a, b) -> bool:
    """Equality of two mpmath numbers up to the last GUARD_DIGITS digits of the working precision."""
    if mpmath.isinf(a) or mpmath.isinf(b):
        return a == b
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    digits = mpmath.mp.dps - GUARD_DIGITS
    return diff <= scale * mpmath.mpf(10) ** -digits or scale <= mpmath.mpf(10) ** -(digits + 10)


def _literal_digits(node: Node) -> int:
    """Decimal digits a difference hidden in this tree can need: the largest literal or |exponent|.

    `\\pi + 10^{-70}` differs from π only in the 71st digit, so the comparison runs at about
    DPS + 84 digits (exponents are over-estimated); a plain answer (`\\frac{\\sqrt3}{2}`) stays near DPS.
    """
    if not isinstance(node, tuple) or not node:
        return 0
    kind = node[0]
    if kind == "num":
        value = node[1]
        return int((value.numerator.bit_length() + value.denominator.bit_length()) * 0.302) + 1
    own = 0
    if kind == "pow":
        exponent = _literal(node[2])
        if exponent is not None:
            base = _literal(node[1]) or Fraction(10)  # unknown bases count like 10
            size = max(abs(base.numerator), base.denominator, 2)
            own = int(abs(exponent) * size.bit_length() * 0.302) + 1
    largest = own
    for child in node[1:]:
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            largest = max(largest, _literal_digits(child))
        elif isinstance(child, tuple):
            largest = max([largest] + [_literal_digits(item) for item in child if isinstance(item, tuple)])
    return largest


def _literal(node: Node) -> Fraction | None:
    if node[0] == "num":
        return node[1]
    if node[0] == "neg" and node[1][0] == "num":
        return -node[1][1]
    if _numeric_only(node):  # `e^{-10^{5}}`: an exponent written as a power of literals still counts
        try:
            return exact(node)
        except (GradingError, ArithmeticError, ValueError):
            return None
    return None


def _numeric_only(node) -> bool:
    if node[0] == "num":
        return True
    return node[0] in ("neg", "pow", "div") and all(
        isinstance(child, tuple) and _numeric_only(child) for child in node[1:])


def working_digits(gold: Node, cand: Node) -> int:
    """Working precision for comparing these two trees (DPS plus what their literals could hide)."""
    return DPS + max(_literal_digits(gold), _literal_digits(cand))


def _try_exact(node: Node, budget: Budget) -> tuple[Fraction | None, str | None]:
    try:
        return exact(node, budget), None
    except NotRational:
        return None, "irrational"
    except TooLarge:
        return None, "too-large"
    except Undefined:
        return None, "undefined"
    except (ZeroDivisionError, OverflowError, ValueError):
        return None, "undefined"


def compare_constants(gold: Node, cand: Node, budget: Budget) -> Outcome:
    """Two trees without variables."""
    g_val, g_err = _try_exact(gold, budget)
    c_val, c_err = _try_exact(cand, budget)
    if g_err == "too-large" or c_err == "too-large":
        gold, cand = cancel(gold), cancel(cand)
        g_val, g_err = _try_exact(gold, budget)
        c_val, c_err = _try_exact(cand, budget)
    if g_val is not None and c_val is not None:
        equal = g_val == c_val
        shown = _show_exact(g_val) if equal else f"{_show_exact(g_val)} vs {_show_exact(c_val)}"
        return Outcome(equal, "numeric-exact", f"exact values {'agree' if equal else 'differ'}: {shown}")
    if "undefined" in (g_err, c_err):
        return Outcome(False, "undefined", "one side has no value (e.g. division by zero)")
    digits = working_digits(gold, cand)
    if digits > MAX_DPS:  # `e^{10^{10}} - e^{10^{10}}`: equal terms cancel before the precision is set
        gold, cand = cancel(gold), cancel(cand)
        digits = working_digits(gold, cand)
    if digits > MAX_DPS:
        return Outcome(False, "too-large", f"telling these apart could need {digits:,} digits")
    try:
        with precision(digits, budget):
            g_num, c_num = approx(gold, {}, budget), approx(cand, {}, budget)
            equal = close(g_num, c_num)
    except TooLarge as exc:
        return Outcome(False, "too-large", f"value too large to compare: {exc}")
    except (Undefined, ZeroDivisionError, ValueError, OverflowError):
        return Outcome(False, "undefined", "one side has no value (e.g. division by zero)")
    if equal and "too-large" in (g_err, c_err):
        return Outcome(False, "too-large", "values agree to 60 digits but are too large to prove equal")
    verdict = "agree" if equal else "differ"
    shown = _show_approx(g_num) if equal else f"{_show_approx(g_num)} vs {_show_approx(c_num)}"
    return Outcome(
        equal, "numeric-precise", f"values {verdict} ({shown}; compared to {digits - GUARD_DIGITS} significant digits)"
    )


def _show_exact(value) -> str:
    """A short display of an exact value for a verdict's reason (huge numbers are elided, not printed)."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:18]}…{text[-18:]} ({len(text)} chars)"


def _show_approx(value) -> str:
    import mpmath

    return mpmath.nstr(value, 15)


def sample_points(names: frozenset, integers: bool = False) -> list[tuple[dict, bool]]:
    """Deterministic test points (seeded by the variable names) and whether each is a positive point.

    Positive points in (0.3, 2.8) avoid special values and keep roots and logarithms real; two
    negative points then catch `|x|` vs `x` and `\\sqrt{x^2}` vs `x`, but only count where both
    sides are real there (so `2\\ln x` vs `\\ln x^2` is not penalised for its domain).  A far positive
    and a far negative point (magnitude 6.2 to 16.2) catch `|x-5|` vs `5-x` and `|x+3|` vs `x+3`.  With several
    variables two mixed-sign points follow (the first variable negative; then every other one, then
    only the first), which catch `|xy|` vs `xy` and `|x|+|y|` vs `|x+y|`.  `integers` adds a positive
    and a negative integer point: floor and ceiling differ only there (`\\lceil x\\rceil` vs
    `\\lfloor x\\rfloor+1`).  Non-positive points count only where both sides are real.
    """
    ordered = sorted(names)
    rng = random.Random("|".join(ordered))
    draw = lambda: Fraction(rng.randint(300_000, 2_800_000), 1_000_000) + Fraction(1, 7919)  # noqa: E731
    points = []
    for index in range(POINTS + NEGATIVE_POINTS):
        sign = 1 if index < POINTS else -1
        points.append(({name: sign * draw() for name in ordered}, sign > 0))
    for sign in (1, -1):  # far points: `|x-5|` and `5-x` agree on all of (-2.8, 2.8)
        points.append(({name: sign * (draw() * 4 + 5) for name in ordered}, sign > 0))
    if len(ordered) > 1:
        for flip in (lambda k: k % 2 == 0, lambda k: k == 0):
            points.append(({name: (-1 if flip(k) else 1) * draw() for k, name in enumerate(ordered)}, False))
    if integers:
        points.append(({name: Fraction(k + 2) for k, name in enumerate(ordered)}, True))
        points.append(({name: Fraction(-k - 2) for k, name in enumerate(ordered)}, False))
    return points


def _value_at(node: Node, env: dict, budget: Budget, positive: bool):
    try:
        return approx(node, env, budget, real_only=not positive)
    except (Undefined, TooLarge, NotRational, ZeroDivisionError, ValueError, OverflowError):
        return None


def _usable(g_num, c_num, positive: bool) -> bool:
    if g_num is None or c_num is None:
        return False
    return positive or (mpmath.im(g_num) == 0 and mpmath.im(c_num) == 0)


def _has_rounding(node) -> bool:
    """Whether a tree uses floor or ceiling (which call for integer test points)."""
    if not isinstance(node, tuple) or not node:
        return False
    if node[:2] in (("fn", "floor"), ("fn", "ceil")):
        return True
    children = node[1:] if isinstance(node[0], str) else node  # a node, or a tuple of nodes
    return any(_has_rounding(child) for child in children)


def _exact_points(gold: Node, cand: Node, points: list, budget: Budget) -> Outcome | None:
    """Rational functions of the variables: exact values at the rational test points, or None.

    Two different rational functions agree at random points with probability ~0 (Schwartz-Zippel),
    and a disagreement found in exact arithmetic is certain.
    """
    for env, _ in points:
        try:
            g_val, c_val = exact(gold, budget, env), exact(cand, budget, env)
        except (NotRational, TooLarge, Undefined, ZeroDivisionError, ValueError, OverflowError):
            return None
        if g_val != c_val:
            point = ", ".join(f"{k}={float(v):.6g}" for k, v in env.items())
            return Outcome(False, "symbolic-exact", f"expressions differ exactly at {point}")
    return Outcome(True, "symbolic-exact", f"expressions agree exactly at {len(points)} seeded rational points")


def compare_expressions(gold: Node, cand: Node, budget: Budget) -> Outcome:
    """Two trees with variables: agreement at seeded test points."""
    names = free_symbols(gold) | free_symbols(cand)
    if len(names) > MAX_VARIABLES:
        return Outcome(False, "too-large", f"{len(names)} variables; answers have at most {MAX_VARIABLES}")
    points = sample_points(names, _has_rounding(gold) or _has_rounding(cand))
    settled = _exact_points(gold, cand, points, budget)
    if settled is not None:
        return settled
    valid = 0
    digits = working_digits(gold, cand)
    if digits > MAX_DPS:
        gold, cand = cancel(gold), cancel(cand)
        digits = working_digits(gold, cand)
    if digits > MAX_DPS:
        return Outcome(False, "too-large", f"telling these apart could need {digits:,} digits")
    with precision(digits, budget):
        for env, positive in points:
            g_num, c_num = _value_at(gold, env, budget, positive), _value_at(cand, env, budget, positive)
            if not _usable(g_num, c_num, positive):
                continue
            valid += positive
            if not close(g_num, c_num):
                point = ", ".join(f"{k}={mpmath.nstr(v, 6)}" for k, v in env.items())
                return Outcome(False, "symbolic-points", f"expressions differ at {point}")
    if valid < MIN_VALID_POINTS:
        return Outcome(False, "undefined", "expressions could not be evaluated at enough test points")
    return Outcome(True, "symbolic-points", f"expressions agree at {valid} seeded test points")


def compare_scalars(gold: Node, cand: Node, budget: Budget) -> Outcome:
    """Equality of two scalar trees (numbers or expressions)."""
    g_names, c_names = free_symbols(gold), free_symbols(cand)
    if not g_names and not c_names:
        return compare_constants(gold, cand, budget)
    outcome = compare_expressions(gold, cand, budget)
    if g_names != c_names and not outcome.equal:
        # Variables are case-sensitive and are never renamed; a side may still lose a variable
        # through an identity (sin^2 x + cos^2 x = 1), which the test points see.
        show = lambda names: "{" + ", ".join(sorted(names)) + "}"  # noqa: E731
        return Outcome(False, "variables", f"variables differ: {show(g_names)} vs {show(c_names)}")
    return outcome


def proportional(gold: Node, cand: Node, budget: Budget) -> Outcome:
    """Whether cand = k * gold for one nonzero constant k (same zero set for equations f = 0)."""
    names = free_symbols(gold) | free_symbols(cand)
    if free_symbols(gold) != free_symbols(cand):
        return Outcome(False, "equation", "the equations involve different variables")
    if len(names) > MAX_VARIABLES:
        return Outcome(False, "too-large", f"{len(names)} variables; answers have at most {MAX_VARIABLES}")
    ratio = None
    valid = 0
    digits = min(working_digits(gold, cand), MAX_DPS)
    zero = mpmath.mpf(10) ** -(digits - GUARD_DIGITS + 10)
    with precision(digits, budget):
        for env, positive in sample_points(names):
            g_num, c_num = _value_at(gold, env, budget, positive), _value_at(cand, env, budget, positive)
            if not _usable(g_num, c_num, positive):
                continue
            if abs(g_num) <= zero or abs(c_num) <= zero:
                if close(g_num, c_num):
                    continue
                return Outcome(False, "equation", "one equation holds at a test point where the other fails")
            current = c_num / g_num
            if ratio is None:
                ratio = current
            elif not close(ratio, current):
                return Outcome(False, "equation", "the equations describe different loci")
            valid += positive
    if valid < MIN_VALID_POINTS:
        return Outcome(False, "undefined", "equations could not be evaluated at enough test points")
    return Outcome(True, "equation", "the equations are nonzero multiples of each other")
