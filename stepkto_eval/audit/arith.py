"""`arith`: a model-free step judge that checks explicit arithmetic claims exactly.

A *claim* is a relation ``A = B`` or ``A ≈ B`` (also each link of a chain ``A = B = C``) whose two sides
are complete numeric expressions: numbers (thousands separators, decimals, ``\\frac``/``\\dfrac``, ``%``,
``$``), ``+ - × · * ÷ / ^ !``, ``\\sqrt``/``√``, brackets (``\\left( \\right)`` too) and "of" after a
number ("20% of 50"). Both sides are evaluated with `fractions.Fraction` (`arith_parse`; an irrational
square root is carried to 40 digits and such claims are compared to 25) and then, in order:

1. equal ⇒ true; a percentage equal to the other side's face value ("0.2 × 100 = 20%") ⇒ true;
2. a written number that has enough decimals to hold the exact value must be exact ⇒ else false
   ("59049/729 ≈ 80.83" — it is 81; "0.971 × 1.089 = 1.056519" — it is 1.057419), except after an
   approximation sign with a rounded-looking operand ("18 × 3.14159 ≈ 56.54866" means 18π);
3. after ``≈``/``\\approx``/"about"/"approximately" or before "..."/``\\ldots``: within 1 % ⇒ true;
4. an expression with an operand of 3+ decimals (itself rounded, "(2.8284)^2 = 8"): within 0.1 % ⇒ true;
5. one side a written number with d decimals: a correct rounding to d decimals, or a truncation
   ("1/3 = 0.333", "2/3 = 0.66", "7.5 × 3.25 = 24.38") ⇒ true; an integer result must be exact unless the
   step talks about rounding, remainders or floors (then rounding up or down is accepted too) or an
   approximation sign allows it (then "≈ 1200" counts to the hundreds);
6. otherwise false, and the step is flagged.

High precision over recall: a link is not a claim when a side touches a variable (``2x``, ``\\pi``), an
unsupported function, a unit word that an operator continues ("12 apples + 6") or mixed units ("2 weeks
+ 3 days"), a number word (dozen, thousand, percent), an operator word (times, of, half), a time or ratio
(``3:45``), a range (``1-5``), a subscript, a tuple or function argument (``C(9, 2)``), an inequality,
an elided sequence (``\\cdots``), or anything the parser refuses; two bare integers ("Day 1 = 5") are not
compared unless they sit inside a chain; a running total written as a chain ("5 + 3 = 8 + 2 = 10") is
read as two claims, not as 5 + 3 = 8 + 2; one unit word on every number ("3 hours + 5 hours = 8 hours")
and bracketed notes ("100 (first day) + 150") are read through; a step that calls its own equation false
("(False)", "contradiction") has its false claims dropped.

Labels. The judge can only say "this step contains a false arithmetic claim". `first_error` is the first
flagged step; the steps before it get label 1, which here means only "no false claim found", and an item
with no flag gets first_error = -1 for the same reason — never "verified correct".
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Sequence

from stepkto_eval.audit.arith_lex import (
    ARITH_KINDS,
    BREAK,
    DOTS,
    LP,
    NUM,
    OP,
    PCT,
    REL,
    RP,
    VAR,
    WORD,
    Token,
    attach_units,
    drop_annotations,
    tokenize_step,
)
from stepkto_eval.audit.arith_parse import IRRATIONAL_DIGITS, Unparseable, evaluate_with_precision
from stepkto_eval.audit.base import JudgeInput, StepJudgement, labels_from_first_error

# Words before an expression that make it part of a longer one ("3 times 4", "half of 12", "5 more than 3").
_LEFT_WORDS = {
    "times", "x", "plus", "minus", "by", "over", "per", "of", "half", "twice", "double", "triple", "thrice",
    "third", "thirds", "quarter", "quarters", "fourth", "fifth", "percent", "dozen", "dozens", "hundred",
    "hundreds", "thousand", "thousands", "million", "millions", "billion", "billions", "less", "more",
    "than", "mod", "modulo", "sqrt", "root", "power", "pi", "divided", "multiplied", "subtracted",
    "added", "factorial", "choose", "log", "ln", "sin", "cos", "tan", "exp",
}
# Words after a result that change its value ("= 25 percent", "= 1.5 million", "= 3 remainder 2").
_RIGHT_WORDS = {
    "percent", "percentage", "squared", "cubed", "dozen", "dozens", "hundred", "hundreds", "thousand",
    "thousands", "million", "millions", "billion", "billions", "remainder", "r", "cents", "cent", "pi",
    "times", "factorial", "choose", "mod", "modulo", "degrees", "radians",
}
_MAX_WORDS_SKIPPED = 3
# A step that talks about rounding or integer division may write floor/ceil values after "=".
_ROUNDING = re.compile(r"\bround|\bremainder|\bquotient|\bfloor|\bceil|\bwhole number|\binteger part", re.IGNORECASE)
# A step that says its equation is false ("2 + 1 = 1 (False)", "a contradiction") is not claiming it.
_NEGATED = re.compile(
    r"\bfalse\b|contradiction|not true|not equal|\bincorrect|\binvalid|\bdoes(?:n't| not) hold|\bnot satisf"
    r"|\bextraneous|\bnot (?:a )?(?:valid )?solution|\bimpossible|\bnot possible|\bmistake|\berror\b|\bwrong\b",
    re.IGNORECASE)
IRRATIONAL_TOLERANCE = Fraction(1, 10**IRRATIONAL_DIGITS)
APPROX_RELATIVE = Fraction(1, 100)  # "≈" accepts 1 % relative error: slips there are not step errors
ROUNDED_OPERAND_RELATIVE = Fraction(1, 1000)  # an operand like 2.8284 was itself rounded


@dataclass(frozen=True)
class Claim:
    """One checked relation: as written, both values (as exact fractions) and the verdict."""

    text: str
    lhs: str
    rhs: str
    relation: str  # "=" or "≈"
    ok: bool
    reason: str  # "exact" | "rounded to N decimals" | "false"

    def to_dict(self) -> dict:
        return asdict(self)


def find_claims(step: str) -> list[Claim]:
    """Every arithmetic claim of `step` the checker is sure about, with its verdict."""
    if "=" not in step and "≈" not in step and "\\approx" not in step and "equals" not in step:
        return []  # no relation, no claim: most prose steps stop here
    tokens = attach_units(drop_annotations(tokenize_step(step)), _LEFT_WORDS | _RIGHT_WORDS | {"~approx"})
    rounding = bool(_ROUNDING.search(step))
    claims = []
    for i, tok in enumerate(tokens):
        if tok.kind == REL:
            claim = _check_link(tokens, i, rounding)
            if claim is not None:
                claims.append(claim)
    if any(not c.ok for c in claims) and _NEGATED.search(step):
        claims = [c for c in claims if c.ok]
    return claims


def _check_link(tokens: list[Token], i: int, rounding: bool) -> Claim | None:
    approx = tokens[i].text == "~"
    start = i + 1
    if start < len(tokens) and tokens[start].kind == WORD and tokens[start].text == "~approx":
        approx, start = True, start + 1
    left = _left_side(tokens, i)
    if left is not None and not approx:
        division = _remainder_claim(left, tokens, start)
        if division is not None:
            return division
    right = _right_side(tokens, start)
    if left is None or right is None:
        return None
    right_tokens, trailing_dots = right
    approx = approx or trailing_dots
    in_chain = i > len(left) and tokens[i - len(left) - 1].kind == REL
    if _integer_literal(left) and _integer_literal(right_tokens) and not in_chain:
        return None
    if not _units_consistent(left, right_tokens):
        return None
    try:
        (lv, lexact), (rv, rexact) = evaluate_with_precision(left), evaluate_with_precision(right_tokens)
    except (Unparseable, ZeroDivisionError, OverflowError):
        return None
    text = f"{_show(left)} {'≈' if tokens[i].text == '~' else '='} {_show(right_tokens)}"
    if not (lexact and rexact) and abs(lv - rv) <= IRRATIONAL_TOLERANCE * max(1, abs(lv), abs(rv)):
        return Claim(text, _show_value(lv), _show_value(rv), "≈" if tokens[i].text == "~" else "=", True,
                     f"equal to {IRRATIONAL_DIGITS} digits (square roots)")
    ok, reason = _compare(lv, rv, left, right_tokens, approx, rounding)
    if not ok and _running_total(lv, right_tokens):
        return None
    return Claim(text, _show_value(lv), _show_value(rv), "≈" if tokens[i].text == "~" else "=", ok, reason)


_REMAINDER_WORDS = {"r", "remainder", "with", "a", "of", "and", "rem"}


def _remainder_claim(left: list[Token], tokens: list[Token], start: int) -> Claim | None:
    """"355 ÷ 6 = 59 R 1", "= 59 with a remainder of 1": checked as a = q·b + r with 0 <= r < b."""
    if not (len(left) == 3 and left[0].kind == NUM and left[1].kind == OP and left[1].text == "/"
            and left[2].kind == NUM):
        return None
    a, b = left[0].value, left[2].value
    k = start
    if k >= len(tokens) or tokens[k].kind != NUM:
        return None
    q, k = tokens[k].value, k + 1
    words = []
    while k < len(tokens) and tokens[k].kind == WORD and tokens[k].text.lower() in _REMAINDER_WORDS:
        words.append(tokens[k].text.lower())
        k += 1
    if not ({"r", "remainder", "rem"} & set(words)) or k >= len(tokens) or tokens[k].kind != NUM:
        return None
    r = tokens[k].value
    if any(v.denominator != 1 for v in (a, b, q, r)) or b <= 0:
        return None
    ok = a == q * b + r and 0 <= r < b
    text = f"{_show(left)} = {tokens[start].text} remainder {tokens[k].text}"
    return Claim(text, f"{a // b} remainder {a % b}", f"{q} remainder {r}", "=", ok,
                 "exact" if ok else "false")


def _left_side(tokens: list[Token], i: int) -> list[Token] | None:
    j = i
    while j > 0 and tokens[j - 1].kind in ARITH_KINDS:
        j -= 1
    first, stop = _strip_unmatched(tokens, j, i)
    run = tokens[first:stop]
    if not run:
        return None
    prev = tokens[first - 1] if first > 0 else None
    if run[0].kind == OP and not (run[0].text == "-" and (prev is None or prev.kind in (BREAK, REL, LP))):
        return None  # "apples + 3 = 8": the expression started before the words
    if prev is None or prev.kind in (BREAK, REL, LP):
        return run
    if prev.kind == WORD and run[0].space and _words_before_are_plain(tokens, first - 1):
        return run
    return None


def _words_before_are_plain(tokens: list[Token], k: int) -> bool:
    """The words before an expression are prose, not part of it ("3 times 4", "18 flamingos minus 6")."""
    for _ in range(_MAX_WORDS_SKIPPED + 1):
        if k < 0 or tokens[k].kind in (BREAK, REL):
            return True
        if tokens[k].kind != WORD:
            return tokens[k].kind not in (OP, VAR)
        if tokens[k].text.lower() in _LEFT_WORDS:
            return False
        k -= 1
    return True


def _right_side(tokens: list[Token], start: int) -> tuple[list[Token], bool] | None:
    k = start
    while k < len(tokens) and tokens[k].kind in ARITH_KINDS:
        k += 1
    first, end = _strip_unmatched(tokens, start, k)
    run = tokens[first:end]
    if not run or run[-1].kind == OP:
        return None
    nxt = tokens[end] if end < len(tokens) else None
    if nxt is None or nxt.kind in (BREAK, REL):
        return run, False
    if nxt.kind == DOTS:
        return run, True
    if nxt.kind == RP:  # a bracket closed that this side did not open: "(so 3 + 4 = 7)"
        return run, False
    if nxt.kind == WORD and nxt.space and _words_after_are_plain(tokens, end):
        return run, False
    return None


def _words_after_are_plain(tokens: list[Token], k: int) -> bool:
    for _ in range(_MAX_WORDS_SKIPPED + 1):
        if k >= len(tokens) or tokens[k].kind in (BREAK, REL):
            return True
        if tokens[k].kind != WORD:
            return tokens[k].kind not in (NUM, OP, VAR, PCT)  # "= 4 buses (rounded up)" is fine
        if tokens[k].text.lower() in _RIGHT_WORDS:
            return False
        k += 1
    return True


def _strip_unmatched(tokens: list[Token], a: int, b: int) -> tuple[int, int]:
    """Narrow tokens[a:b] past edge brackets closed or opened outside it ("(so 3 + 4" -> "3 + 4")."""
    while a < b:
        depth, min_depth = 0, 0
        for tok in tokens[a:b]:
            depth += 1 if tok.kind == LP else -1 if tok.kind == RP else 0
            min_depth = min(min_depth, depth)
        if min_depth < 0 and tokens[b - 1].kind == RP:
            b -= 1
        elif depth > 0 and tokens[a].kind == LP:
            a += 1
        else:
            break
    return a, b


def _units_consistent(left: list[Token], right: list[Token]) -> bool:
    """No unit words, one unit on every number ("3 hours + 5 hours = 8 hours"), or only on the result."""
    units = [t.unit for t in left + right if t.kind == NUM]
    if not any(units) or (units[0] is not None and len(set(units)) == 1):
        return True
    return all(u is None for u in units[:-1]) and right[-1].kind == NUM


def _integer_literal(side: list[Token]) -> bool:
    literal = _literal(side)
    return literal is not None and literal == (0, Fraction(1))


def _literal(side: list[Token]) -> tuple[int, Fraction] | None:
    """(decimals, scale) when the side is one written number: "12.5", "-3", "33.3%"."""
    core = side[1:] if side and side[0].kind == OP and side[0].text == "-" else side
    if len(core) == 1 and core[0].kind == NUM:
        return core[0].decimals, Fraction(1)
    if len(core) == 2 and core[0].kind == NUM and core[1].kind == PCT:
        return core[0].decimals, Fraction(1, 100)
    return None


def _compare(lv: Fraction, rv: Fraction, left: list[Token], right: list[Token], approx: bool,
             rounding: bool) -> tuple[bool, str]:
    if lv == rv:
        return True, "exact"
    for side, written, exact in ((right, rv, lv), (left, lv, rv)):
        literal = _literal(side)
        if literal is not None and literal[1] != 1 and exact == written / literal[1]:
            return True, "percentage written as its face value (0.2 x 100 = 20%)"
    size = max(abs(lv), abs(rv))
    # A value that can be written exactly at the precision used must be written exactly: "59049/729 ≈ 80.83"
    # (it is 81) and "0.971 x 1.089 = 1.056519" (it is 1.057419) are errors, whatever the tolerances below.
    expressions = [side for side in (left, right) if _literal(side) is None]
    rounded_operand = any(_has_rounded_operand(side) for side in expressions)
    if _exact_at_written_precision(lv, rv, left, right) and not (approx and rounded_operand):
        return False, "false"  # ("18 x 3.14159 ≈ 56.54866" is pi, not 3.14159: left to rule 3)
    if approx and abs(lv - rv) <= APPROX_RELATIVE * size:
        return True, "approximation within 1%"
    if rounded_operand and abs(lv - rv) <= ROUNDED_OPERAND_RELATIVE * size:
        return True, "operands were rounded"
    for side, written, exact in ((right, rv, lv), (left, lv, rv)):
        literal = _literal(side)
        if literal is None:
            continue
        decimals, scale = literal
        if decimals == 0 and not (approx or rounding):
            return False, "false"
        unit = Fraction(1, 10**decimals) * scale
        if decimals == 0 and approx:
            unit *= 10 ** _trailing_zeros(written / scale)  # "≈ 1200" is written to the hundreds
        if any(_rounds_to(e, w, u, rounding) for e, w, u in ((exact, written, unit),
                                                           (exact, written / scale, unit / scale))):
            return True, f"rounded to {decimals} decimals" if decimals else "rounded"
        return False, "false"
    return False, "false"


def _exact_at_written_precision(lv: Fraction, rv: Fraction, left: list[Token], right: list[Token]) -> bool:
    """The written number (a literal side) has enough decimals to hold the exact value of the other side."""
    for side, exact in ((right, lv), (left, rv)):
        literal = _literal(side)
        if literal is not None:
            decimals, scale = literal
            return (exact / scale * 10**decimals).denominator == 1
    return False


def _rounds_to(exact: Fraction, written: Fraction, unit: Fraction, up_too: bool) -> bool:
    """`written` is `exact` rounded to the nearest multiple of `unit`, or truncated toward zero
    (1/3 = 0.33, 2/3 = 0.66); with `up_too` (the step talks about rounding or remainders) also rounded up."""
    gap = abs(exact) - abs(written)
    if exact != 0 and written != 0 and (exact < 0) != (written < 0):
        return False
    return abs(exact - written) <= unit / 2 or 0 <= gap < unit or (up_too and 0 <= -gap < unit)


def _has_rounded_operand(tokens: list[Token]) -> bool:
    return any(t.kind == NUM and t.decimals >= 3 for t in tokens)


def _trailing_zeros(value: Fraction) -> int:
    n, zeros = abs(int(value)), 0
    while n and n % 10 == 0:
        n, zeros = n // 10, zeros + 1
    return zeros


def _running_total(lv: Fraction, right: list[Token]) -> bool:
    """"5 + 3 = 8 + 2 = 10": the right side starts with the left side's value and goes on."""
    return len(right) > 1 and right[0].kind == NUM and right[0].value == lv and right[1].kind == OP


def _show(side: list[Token]) -> str:
    return " ".join(t.text for t in side)


def _show_value(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    if value.denominator > 10**12:  # an approximated irrational: show digits, not a 40-digit fraction
        return f"{float(value):.12g}"
    return f"{value.numerator}/{value.denominator}"


class ArithJudge:
    """Flags the first step containing a false arithmetic claim (see the module docstring)."""

    kind = "arith"

    def __init__(self, name: str = "arith"):
        self.name = name

    def judge(self, items: Sequence[JudgeInput]) -> list[StepJudgement]:
        return [self.judge_one(item) for item in items]

    def judge_one(self, item: JudgeInput) -> StepJudgement:
        n = len(item.steps)
        try:
            checked = []
            first_error = -1
            for index, step in enumerate(item.steps):
                claims = find_claims(step)
                checked.extend({"step": index, **c.to_dict()} for c in claims)
                if any(not c.ok for c in claims):
                    first_error = index
                    break
        except Exception as exc:  # one odd step must not stop a long run; recorded as no verdict
            return StepJudgement([None] * n, None, self.name, {"error": f"{type(exc).__name__}: {exc}"})
        evidence = {"claims": checked, "meaning_of_1": "no false arithmetic claim found"}
        return StepJudgement(labels_from_first_error(n, first_error), first_error, self.name, evidence)
