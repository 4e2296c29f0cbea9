"""Value of a scalar tree: exactly (Fraction) when possible, else with mpmath at 60 digits.

* `exact(node)` returns a Fraction or raises `NotRational` (π, √2, i, a variable...) or `TooLarge`
  (size estimated *before* computing: |e|·bits(base) for powers, n ≤ 3000 for n!).
* `approx(node, env)` returns an mpmath number (real or complex) at the working precision; variables
  take their values from `env`.  Huge magnitudes are fine (mpmath keeps arbitrary exponents), but a
  value whose log2 exceeds 10^12 is refused.
* `cancel(node)` merges like terms of a sum structurally (`a - a` -> 0) without evaluating them, which
  keeps `10^{10^{10}} - 10^{10^{10}}` exact when its terms are far too large to compute.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from fractions import Fraction

import mpmath

from .budget import (
    MAX_APPROX_FACTORIAL,
    MAX_APPROX_LOG2,
    MAX_EXACT_FACTORIAL,
    MAX_TRIG_ARGUMENT_BITS,
    Budget,
    GradingError,
    Timeout,
    TooLarge,
    check_exact_bits,
)
from .parse import Node

DPS = 60
MAX_ROOT_BITS = 4_000  # exact root tests beyond this size are left to mpmath


# mpmath's working precision is one global setting, not per thread: a comparison holds this lock
# while it runs at its precision, so graders in parallel threads cannot change it under each other.
_PRECISION_LOCK = threading.Lock()


@contextmanager
def precision(digits: int, budget: Budget | None = None):
    """Run mpmath at `digits` significant digits, exclusively; waits at most the remaining budget."""
    wait = -1 if budget is None else max(budget.remaining(), 0.0)
    if not _PRECISION_LOCK.acquire(timeout=wait):
        raise Timeout("waited too long for the numeric evaluator")
    try:
        with mpmath.workdps(digits):
            yield
    finally:
        _PRECISION_LOCK.release()


class NotRational(GradingError):
    """The exact evaluator cannot represent this value as a rational number."""


class Undefined(GradingError):
    """Division by zero, log of zero, a domain error: the value does not exist."""


def _bits(value: Fraction) -> int:
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def _exact_root(value: Fraction, n: int) -> Fraction:
    """The rational n-th root of `value`, or NotRational."""
    if value < 0:
        if n % 2 == 0:
            raise NotRational("even root of a negative number")
        return -_exact_root(-value, n)
    parts = []
    for part in (value.numerator, value.denominator):
        if part.bit_length() > MAX_ROOT_BITS:
            raise NotRational("too large for an exact root test")
        root = round(part ** (1.0 / n)) if part.bit_length() < 50 else _int_root(part, n)
        for candidate in (root - 1, root, root + 1):
            if candidate >= 0 and candidate**n == part:
                parts.append(candidate)
                break
        else:
            raise NotRational(f"{part} is not a perfect {n}-th power")
    return Fraction(parts[0], parts[1])


def _int_root(value: int, n: int) -> int:
    if n == 2:
        return math.isqrt(value)
    low, high = 0, 1 << (value.bit_length() // n + 1)
    while low < high:
        mid = (low + high + 1) // 2
        if mid**n <= value:
            low = mid
        else:
            high = mid - 1
    return low


def _exact_pow(base: Fraction, exp: Fraction) -> Fraction:
    if exp.denominator != 1:
        if exp.denominator > 64:
            raise NotRational("root of high order")
        base = _exact_root(base, exp.denominator)
        exp = Fraction(exp.numerator)
    if base == 0 and exp < 0:
        raise Undefined("zero to a negative power")
    if base in (0, 1):
        return base
    if base == -1:
        return Fraction(1 if exp.numerator % 2 == 0 else -1)
    check_exact_bits(abs(exp.numerator) * _bits(base), "this power")
    return base ** int(exp)


def exact(node: Node, budget: Budget | None = None, env: dict | None = None) -> Fraction:
    """Exact rational value of a scalar tree (raises NotRational / TooLarge / Undefined).

    `env` maps variable names to rational values (seeded test points of `values.py`).
    """
    if budget is not None:
        budget.check()
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "sym" and env is not None and node[1] in env:
        return env[node[1]]
    if kind == "base":
        return Fraction(int(node[1], node[2]))
    if kind == "neg":
        return -exact(node[1], budget, env)
    if kind == "add":
        total = Fraction(0)
        for term in node[1]:
            total += exact(term, budget, env)
            check_exact_bits(_bits(total), "this sum")
        return total
    if kind == "mul":
        product = Fraction(1)
        for factor in node[1]:
            product *= exact(factor, budget, env)
            check_exact_bits(_bits(product), "this product")
        return product
    if kind == "div":
        denominator = exact(node[2], budget, env)
        if denominator == 0:
            raise Undefined("division by zero")
        return exact(node[1], budget, env) / denominator
    if kind == "pow":
        return _exact_pow(exact(node[1], budget, env), exact(node[2], budget, env))
    if kind == "root":
        index = exact(node[2], budget, env)
        if index.denominator != 1 or not 1 <= index <= 64:
            raise NotRational("unusual root index")
        return _exact_root(exact(node[1], budget, env), int(index))
    if kind == "pct":
        return exact(node[1], budget, env) / 100
    if kind == "deg":  # outside trig functions a degree mark is a decoration (policy rule 5)
        return exact(node[1], budget, env)
    if kind == "abs":
        return abs(exact(node[1], budget, env))
    if kind == "fact":
        return _exact_factorial(exact(node[1], budget, env))
    if kind == "binom":
        n, k = exact(node[1], budget, env), exact(node[2], budget, env)
        if n.denominator != 1 or k.denominator != 1 or n < 0:
            raise NotRational("binomial of non-integers")
        if k < 0 or k > n:
            return Fraction(0)
        check_exact_bits(int(n), "this binomial coefficient")
        return Fraction(math.comb(int(n), int(k)))
    if kind == "fn" and node[1] in ("floor", "ceil"):
        value = exact(node[2], budget, env)
        return Fraction(math.floor(value) if node[1] == "floor" else math.ceil(value))
    raise NotRational(f"{kind} is not rational in general")


def _exact_factorial(n: Fraction) -> Fraction:
    if n.denominator != 1 or n < 0:
        raise NotRational("factorial of a non-natural number")
    if n > MAX_EXACT_FACTORIAL:
        raise TooLarge(f"{n}! is too large to compute exactly")
    return Fraction(math.factorial(int(n)))


_FUNCS = {
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "cot": mpmath.cot, "sec": mpmath.sec,
    "csc": mpmath.csc, "arcsin": mpmath.asin, "arccos": mpmath.acos, "arctan": mpmath.atan,
    "arccot": mpmath.acot, "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh,
    "ln": mpmath.ln, "floor": mpmath.floor, "ceil": mpmath.ceil, "cis": mpmath.expj,
}
_CONSTS = {"pi": lambda: mpmath.pi, "e": lambda: mpmath.e, "i": lambda: mpmath.mpc(0, 1), "inf": lambda: mpmath.inf}


def _mp(value: Fraction):
    return mpmath.mpf(value.numerator) / value.denominator


def _guard(value):
    if isinstance(value, (mpmath.mpf, mpmath.mpc)) and mpmath.isnan(value):
        raise Undefined("not a number")
    return value


def approx(node: Node, env: dict, budget: Budget | None = None, real_only: bool = False):
    """Numeric value at mpmath's current precision (call inside `precision(digits)`).

    With `real_only`, any complex intermediate value makes the whole value Undefined (used at
    negative test points, where `\\sqrt{x}\\sqrt{y}` and `\\sqrt{xy}` part ways only through i).
    """
    value = _approx(node, env, budget, real_only)
    if real_only and isinstance(value, mpmath.mpc) and mpmath.im(value) != 0:
        raise Undefined("complex intermediate value")
    return value


def _approx(node: Node, env: dict, budget: Budget | None, real_only: bool):
    if budget is not None:
        budget.check()
    kind = node[0]
    if kind == "num":
        return _mp(node[1])
    if kind == "base":
        return mpmath.mpf(int(node[1], node[2]))
    if kind == "const":
        return _CONSTS[node[1]]()
    if kind == "sym":
        if node[1] not in env:
            raise NotRational(f"free variable {node[1]}")
        return _mp(env[node[1]])
    if kind == "neg":
        return -approx(node[1], env, budget, real_only)
    if kind == "add":
        return _guard(mpmath.fsum(approx(term, env, budget, real_only) for term in node[1]))
    if kind == "mul":
        product = mpmath.mpf(1)
        for factor in node[1]:
            product = _guard(product * approx(factor, env, budget, real_only))
        return product
    if kind == "div":
        denominator = approx(node[2], env, budget, real_only)
        if denominator == 0:
            raise Undefined("division by zero")
        return _guard(approx(node[1], env, budget, real_only) / denominator)
    if kind == "pow":
        return _approx_pow(approx(node[1], env, budget, real_only), approx(node[2], env, budget, real_only))
    if kind == "root":
        index = approx(node[2], env, budget, real_only)
        base = approx(node[1], env, budget, real_only)
        if index == 2:
            return mpmath.sqrt(base)
        if mpmath.im(base) == 0 and base < 0 and mpmath.im(index) == 0 and int(index) == index and int(index) % 2:
            return -mpmath.root(-base, int(index))  # real odd root of a negative number
        return _approx_pow(base, 1 / index)
    if kind == "pct":
        return approx(node[1], env, budget, real_only) / 100
    if kind == "deg":
        return approx(node[1], env, budget, real_only)
    if kind == "abs":
        return abs(approx(node[1], env, budget, real_only))
    if kind == "fact":
        return _approx_factorial(approx(node[1], env, budget, real_only))
    if kind == "binom":
        return _guard(mpmath.binomial(approx(node[1], env, budget, real_only), approx(node[2], env, budget, real_only)))
    if kind == "fn" and node[1] in _FUNCS:
        arg = approx(node[2], env, budget, real_only)
        _check_argument(node[1], arg)
        if node[1] == "ln" and arg == 0:
            raise Undefined("log of zero")
        return _guard(_FUNCS[node[1]](arg))
    if kind == "log":
        arg = approx(node[2], env, budget, real_only)
        base = mpmath.e if node[1] is None else approx(node[1], env, budget, real_only)
        if arg == 0 or base in (0, 1):
            raise Undefined("log of zero or to base 0/1")
        return _guard(mpmath.log(arg) / mpmath.log(base))
    raise NotRational(f"{kind} has no scalar value")


_PERIODIC = {"sin", "cos", "tan", "cot", "sec", "csc", "cis"}
_GROWING = {"sinh", "cosh", "tanh"}


def _check_argument(name: str, arg) -> None:
    """Refuse arguments whose evaluation cost grows with their size (argument reduction, exp)."""
    if mpmath.isinf(arg) or mpmath.isnan(arg):
        raise Undefined(f"{name} of a non-finite number")
    if name in _PERIODIC and mpmath.mag(arg) > MAX_TRIG_ARGUMENT_BITS:
        raise TooLarge(f"{name} of a number above 2^{MAX_TRIG_ARGUMENT_BITS}")
    if name in _GROWING and abs(arg) > MAX_APPROX_LOG2:
        raise TooLarge(f"{name} of a number above 10^12")


def _approx_pow(base, exp):
    if base == 0:
        if mpmath.re(exp) <= 0:
            raise Undefined("zero to a non-positive power")
        return mpmath.mpf(0)
    if mpmath.isinf(base) or mpmath.isinf(exp):
        raise Undefined("power with infinity")
    magnitude = abs(mpmath.re(exp)) * abs(mpmath.log(abs(base), 2))
    if magnitude > MAX_APPROX_LOG2:
        raise TooLarge("a power whose size exceeds 2^(10^12)")
    if mpmath.im(exp) == 0 and mpmath.im(base) == 0 and int(mpmath.re(exp)) == exp and abs(exp) < 2**62:
        return _guard(mpmath.mpf(base) ** int(mpmath.re(exp)))
    return _guard(mpmath.power(base, exp))


def _approx_factorial(n):
    if mpmath.im(n) != 0 or n < 0:
        raise Undefined("factorial of a negative or complex number")
    if n > MAX_APPROX_FACTORIAL:
        raise TooLarge("factorial of a number above 10^7")
    return mpmath.factorial(n)


def free_symbols(node: Node) -> frozenset:
    """Names of the variables in a tree (case-sensitive)."""
    if not isinstance(node, tuple) or not node:
        return frozenset()
    if node[0] == "sym":
        return frozenset([node[1]])
    names: set = set()
    for child in node[1:]:
        if isinstance(child, tuple):
            if child and isinstance(child[0], str):
                names |= free_symbols(child)
            else:
                for item in child:
                    names |= free_symbols(item)
    return frozenset(names)


def cancel(node: Node) -> Node:
    """Merge structurally identical terms of a sum: sum of c_k * t_k with c_k rational, t_k a tree."""
    if node[0] != "add":
        return node
    coefficients: dict = {}
    order: list = []
    for term in node[1]:
        coefficient, body = _split_coefficient(term)
        if body not in coefficients:
            order.append(body)
            coefficients[body] = Fraction(0)
        coefficients[body] += coefficient
    kept = [(coefficients[body], body) for body in order if coefficients[body] != 0]
    if not kept:
        return ("num", Fraction(0))
    terms = tuple(body if c == 1 else ("mul", (("num", c), body)) for c, body in kept)
    return terms[0] if len(terms) == 1 else ("add", terms)


def _split_coefficient(term: Node) -> tuple[Fraction, Node]:
    if term[0] == "neg":
        coefficient, body = _split_coefficient(term[1])
        return -coefficient, body
    if term[0] == "num":
        return term[1], ("num", Fraction(1))
    if term[0] == "mul" and term[1][0][0] == "num":
        rest = term[1][1:]
        return term[1][0][1], rest[0] if len(rest) == 1 else ("mul", rest)
    return Fraction(1), term
