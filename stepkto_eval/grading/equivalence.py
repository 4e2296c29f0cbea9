"""`grade(gold, candidate)`: the one equivalence checker of stepkto (policy section 3).

Cheap evidence first: identical cleaned strings, then multiple-choice letters and text answers,
then the parsed trees compared structure by structure (`structure_equality.py`) with exact rationals and
high-precision numbers (`values.py`).  Every verdict names its rule and gives a one-line reason.
Parsing is cached (a gold is compared with many candidates) and all work is bounded (`budget.py`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache

import mpmath

from .budget import MAX_INPUT_CHARS, Budget, GradingError, Timeout, TooLarge
from .choice import gold_letter, parse_options, same_text, split_choice
from .lexer import LexError
from .normalize import TIME, braces_balanced, clean, connectives_to_commas, text_key
from .notation import FOOT_INCH
from .parse import Node, ParseError, parse_math
from .parse_latex import substitute as _substitute
from .scalar_value import approx, exact, free_symbols, precision
from .structure_equality import Comparer, strip_label
from .verdict import Verdict

CHECKER_VERSION = "1.1.0"

_EMPTY_WORDS = {
    "no solution", "no solutions", "no real solution", "no real solutions", "none", "empty set",
    "the empty set", "no such", "there are no solutions", "no real roots", "no roots", "no real numbers",
    "no value", "no values", "does not exist", "no such number", "no such value", "dne",
}
_TEXT_WORD = re.compile(r"(?<![\\A-Za-z{])[A-Za-z]{3,}")
_MATH_WORDS = {"and", "or"}
_SHORT_WORDS = {"no", "ok"}
_PERCENT_QUESTION = re.compile(r"percent", re.IGNORECASE)


@dataclass(frozen=True)
class Prepared:
    """A cleaned answer and its parse (or the reason it did not parse)."""

    clean: str
    node: Node | None
    error: str | None
    textual: bool
    radians: bool = False  # the raw answer names radians (`\\text{ rad}`), which cleaning drops as a unit
    approximation: str | None = None  # `\\frac13 \\approx 0.333`: the decimal that cleaning drops


MAX_CACHED_CHARS = 1_000  # long (usually hostile) strings are not worth keeping in the cache


def prepare(text: str) -> Prepared:
    """Clean and parse once per distinct string (bounded: input length and nesting are capped)."""
    return _prepare_cached(text) if len(text) <= MAX_CACHED_CHARS else _prepare(text)


@lru_cache(maxsize=8192)
def _prepare_cached(text: str) -> Prepared:
    return _prepare(text)


def _prepare(text: str) -> Prepared:
    prepared = _parse_clean(text)
    approximation = _APPROXIMATION.search(text)
    if approximation:
        prepared = replace(prepared, approximation=approximation.group(1))
    return replace(prepared, radians=True) if _RADIANS.search(text) else prepared


# An exact answer followed by its decimal value (`\\frac{1}{36} \\approx 0.028`), up to closing wrappers.
# A unit may follow the decimal (`\\approx 2.24 \\text{ cm}`); the search starts only at an `\\approx` or `≈`.
_APPROXIMATION = re.compile(
    r"(?:\\approx|\u2248)\s*([-+]?(?:\d+\.?\d*|\.\d+))"
    r"(?:\s*\\(?:text|mathrm|mbox)\s*\{[^{}]{0,40}\}|\s+[A-Za-z]{1,12})?[\s}$.)\\\]]*$"
)


def _parse_clean(text: str) -> Prepared:
    cleaned = clean(text)
    words = {w.lower() for w in _TEXT_WORD.findall(cleaned)} - _MATH_WORDS
    if text_key(cleaned) in _SHORT_WORDS:
        words.add(text_key(cleaned))  # `no` is the word, not the product n*o
    if text_key(cleaned) in _EMPTY_WORDS:
        return Prepared(cleaned, ("empty",), None, False)
    try:
        node = parse_math(connectives_to_commas(cleaned))
        return Prepared(cleaned, node, None, bool(words) and node[0] != "base")  # `BEEF_{16}` is a number
    except TooLarge as exc:
        return Prepared(cleaned, None, f"too large: {exc}", bool(words))
    except (ParseError, LexError, RecursionError) as exc:
        return Prepared(cleaned, None, f"does not parse: {exc}", True if words else False)


def gold_string(gold: str | int | float) -> str:
    """Dataset golds as text: AMC23's `27.0` -> `27`; strings unchanged."""
    if isinstance(gold, bool):
        raise TypeError("a gold answer cannot be a bool")
    if isinstance(gold, int):
        return str(gold)
    if isinstance(gold, float):
        return str(int(gold)) if gold.is_integer() else repr(gold)
    return str(gold)


def _verdict(equal: bool, rule: str, reason: str, gold: Prepared | None, cand: Prepared | None) -> Verdict:
    return Verdict(equal, rule, reason, gold.clean if gold else None, cand.clean if cand else None)


def grade(gold: str | int | float, candidate: str | None, *, problem: str | None = None,
          timeout: float = 1.0) -> Verdict:
    """Decide whether `candidate` is the same answer as `gold` (see the README's grading policy)."""
    gold_text = gold_string(gold)
    if candidate is None or not str(candidate).strip():
        return Verdict(False, "no-answer", "no final answer was given", gold_text, None)
    candidate = str(candidate)
    if len(candidate) > MAX_INPUT_CHARS or len(gold_text) > MAX_INPUT_CHARS:
        return Verdict(False, "too-large", f"answer longer than {MAX_INPUT_CHARS:,} characters", None, None)
    if not braces_balanced(candidate):
        return Verdict(False, "malformed", "unbalanced braces in the candidate", gold_text, candidate)
    budget = Budget(timeout)
    g = c = None
    try:
        g, c = prepare(gold_text), prepare(candidate)
        verdict = _decide(g, c, problem, budget)
        if verdict.equal and c.approximation is not None and c.node is not None and \
                not _approximates(strip_label(c.node), c.approximation, budget):
            # `x = \\frac13 \\approx 0.5`: the check applies to the value after its name is dropped too.
            # `\\frac13 \\approx 0.5`: the exact part is right, the stated value is not - two answers.
            return _verdict(False, "approximation", f"the stated value {c.approximation} is not this answer", g, c)
        return verdict
    except Timeout as exc:
        return _verdict(False, "timeout", f"gave up: {exc}", g, c)
    except TooLarge as exc:
        return _verdict(False, "too-large", f"refused: {exc}", g, c)
    except (RecursionError, GradingError, ArithmeticError, ValueError) as exc:
        return _verdict(False, "error", f"could not compare: {type(exc).__name__}: {exc}", g, c)
    except Exception as exc:  # noqa: BLE001 - one hostile sample must not end a long scoring run
        return _verdict(False, "error", f"checker failure: {type(exc).__name__}: {exc}", g, c)


def _decide(g: Prepared, c: Prepared, problem: str | None, budget: Budget) -> Verdict:
    if g.clean and g.clean == c.clean:
        return _verdict(True, "identical", "identical after normalisation", g, c)
    g_time, c_time = TIME.fullmatch(g.clean), TIME.fullmatch(c.clean)
    if g_time and c_time:
        equal = _same_time(g_time, c_time)
        return _verdict(equal, "time", "same clock time" if equal else "different clock times", g, c)
    letter = gold_letter(g.clean)
    if letter is not None:
        return _choice(letter, g, c, parse_options(problem), budget)
    g_letter, g_text = split_choice(g.clean)
    if g_letter not in (None, "several") and g_text is not None and re.match(r"\(?[A-J]\)", g.clean):
        # A gold that is a letter with its option text, `(B) 5`: that option is known without the problem.
        options = {**parse_options(problem), g_letter: g_text}
        return _choice(g_letter, g, c, options, budget)
    options = parse_options(problem)
    c_letter, c_text = split_choice(c.clean)
    if options and c_letter is not None and c_letter in options and g.node is not None:
        if c_text is not None and not _same_answer(options[c_letter], c_text, budget):
            # `(C) 14` where (C) is 12: the letter and the text name different options (rule 8).
            return _verdict(False, "choice-text", f"({c_letter}) with text that is not option ({c_letter})", g, c)
        inner = grade(g.clean, options[c_letter], timeout=max(budget.remaining(), 0.0))
        return _verdict(inner.equal, "choice-text", f"option ({c_letter}) is {options[c_letter]!r}", g, c)
    if c_letter not in (None, "several") and c_text and g.node is not None and not g.textual:
        # `(C) 5` for the value 5 without the options at hand: the candidate's own text is its answer.
        inner = grade(g.clean, c_text, timeout=max(budget.remaining(), 0.0))
        return _verdict(inner.equal, "choice-text", f"the text after ({c_letter}): {inner.reason}", g, c)
    if g.textual or g.node is None:
        # A word answer is compared as text, never as a product of letters (`east` is not `seat`).
        if same_text(g.clean, c.clean):
            return _verdict(True, "text", "same text up to case, wrappers and articles", g, c)
        if c_letter not in (None, "several") and c_text and same_text(g.clean, c_text):
            # `(D) ellipse` for `ellipse`: without the options the candidate's own text is its answer.
            return _verdict(True, "choice-text", f"the text after ({c_letter}) is the answer", g, c)
        return _verdict(False, "text", "texts differ", g, c)
    if g.node is not None and g.node[0] == "base" and re.fullmatch(r"[0-9A-Za-z]+", c.clean):
        return _bare_digits(g, c)
    unit = _LETTER_UNIT.fullmatch(c.clean) or (FOOT_INCH.fullmatch(c.clean) if "\u00b0" not in g.clean else None)
    if unit and g.node is not None and not free_symbols(g.node):
        # `12 m`, `5 g`, `12'` for a plain number: a spaced one-letter unit or a foot/inch mark, not a
        # product with a variable (against a degree gold `36'` stays arc minutes and does not parse).
        head = prepare(unit.group(1))
        if head.node is not None and not free_symbols(head.node):
            c = replace(head, clean=c.clean)
    if c.node is None and g.node is not None:
        named = _named_value(c.clean)
        if named is not None:  # `\\Pr(A) = \\frac14`, `\\gcd(a, b) = 7`: a name in notation we do not read
            c = replace(named, clean=c.clean, approximation=c.approximation, radians=c.radians)
    if c.node is None:
        return _verdict(False, "unparseable", f"candidate {c.error}", g, c)
    if _unit_clash(g, c):
        return _verdict(False, "degrees", "one side is in degrees, the other in radians", g, c)
    percent_question = bool(problem and _PERCENT_QUESTION.search(problem))
    clock = bool(TIME.fullmatch(g.clean) or TIME.fullmatch(c.clean))
    outcome = Comparer(budget, percent_question, clock, problem).compare(g.node, _engineering_j(g.node, c.node))
    return _verdict(outcome.equal, outcome.rule, outcome.reason, g, c)


_ORDER_SIGNS = re.compile(r"[<>]|\\(?:le|ge|ne|approx)(?![A-Za-z])")


def _named_value(text: str) -> Prepared | None:
    """The constant right of the first top-level `=` when the whole answer does not parse only because its left
    side is a name written in notation the parser does not read (`P(A \\cap B) = \\frac14`, `\\#\\text{ways} = 8`,
    `\\lim_{x \\to 0} \\frac{\\sin x}{x} = 1`). The right side must parse to a constant: an equation to solve
    has its unknown on the side that parses, or it does not parse at all."""
    depth, cut = 0, -1
    for pos, char in enumerate(text):
        if char == "{" and (pos == 0 or text[pos - 1] != "\\"):
            depth += 1
        elif char == "}" and (pos == 0 or text[pos - 1] != "\\"):
            depth -= 1
        elif char == "=" and depth == 0:
            cut = pos  # the first one: `N = 6 = 5` leaves `6 = 5`, a relation, not a value
            break
    if cut <= 0 or _ORDER_SIGNS.search(text):
        return None
    left, right = text[:cut].strip(), text[cut + 1:].strip()
    if not right or not re.search(r"[A-Za-z]", left):
        return None
    value = prepare(right)
    if value.node is None or value.textual or free_symbols(value.node) or value.node[0] in ("rel", "list", "set"):
        return None
    return value


def _approximates(node: Node, decimal: str, budget: Budget) -> bool:
    """Whether `decimal` is `node`'s value rounded or cut to its number of decimal places.

    Answers with variables, or whose value is not a plain number, are not checked (True)."""
    if free_symbols(node) or node[0] in ("list", "set", "seq", "matrix", "rel", "union", "setminus", "empty") \
            or _has_kind(node, ("deg", "pct")):
        return True  # `30^\\circ \\approx 0.52` restates in another unit: not checked
    places = len(decimal.split(".")[1]) if "." in decimal else 0
    digits = places + len(decimal.split(".")[0]) + 20
    if digits > 1_000:
        return True
    try:
        value = exact(node, budget)
    except (GradingError, ArithmeticError, ValueError, TypeError):
        try:
            with precision(digits, budget):
                value = approx(node, {}, budget)
                value = Fraction(mpmath.nstr(mpmath.re(value), digits)) if mpmath.im(value) == 0 else None
        except (GradingError, ArithmeticError, ValueError, TypeError):
            return True
    if value is None:
        return True
    scaled, stated = value * 10**places, Fraction(decimal) * 10**places
    return abs(scaled - stated) <= Fraction(1, 2) or stated == int(scaled)  # rounded, or cut toward zero


_LETTER_UNIT = re.compile(r"(.*[\d}])\s+(?:m|g|s|h|l|L|N|J|W|V)(?:\^\{?[23]\}?)?")
_RADIANS = re.compile(r"(?<![A-Za-z\\])rad(?:ian)?s?(?![A-Za-z])", re.IGNORECASE)


def _unit_clash(g: Prepared, c: Prepared) -> bool:
    """`30^\\circ` against `30 \\text{ radians}` (or the reverse): the units strip away, the clash stays (rule 5).

    A degree mark on a rational multiple of pi (`\\frac{\\pi}{6}^\\circ` for the radian gold `\\frac{\\pi}{6}`)
    is the same kind of clash: pi/6 degrees is not pi/6 radians (`(\\frac{180}{\\pi})^\\circ` stays a degree value).
    """
    if ("\u00b0" in g.clean and c.radians) or ("\u00b0" in c.clean and g.radians):
        return True
    g_deg, c_deg = _degrees_of_pi(g.node), _degrees_of_pi(c.node)
    return g_deg != c_deg and not _has_kind(c.node if g_deg else g.node)


def _has_kind(node, kinds: tuple[str, ...] = ("deg",)) -> bool:
    return isinstance(node, tuple) and (node[:1] in [(k,) for k in kinds] or any(_has_kind(c, kinds) for c in node))


def _degrees_of_pi(node) -> bool:
    """A degree mark on a multiple of pi anywhere in the tree (`2\\pi^\\circ` is 2 * (pi degrees))."""
    if not isinstance(node, tuple):
        return False
    if node[:1] == ("deg",):
        return _pi_multiple(node[1])
    return any(_degrees_of_pi(child) for child in node)


_PI, _PI_SYMBOL = ("const", "pi"), ("sym", "\\pi-multiple")


def _pi_multiple(node: Node) -> bool:
    """Whether `node` is k*pi for a nonzero rational k (its value doubles when pi does)."""
    if not _contains(node, _PI) or free_symbols(node):
        return False
    tree = _substitute(node, _PI, _PI_SYMBOL)
    try:
        one, two = (exact(tree, None, {_PI_SYMBOL[1]: Fraction(k)}) for k in (1, 2))
    except (GradingError, ArithmeticError, ValueError, TypeError):
        return False
    return one != 0 and two == 2 * one


_I, _J = ("const", "i"), ("sym", "j")


def _engineering_j(gold: Node, cand: Node) -> Node:
    """`3-4j` for a complex gold `3-4i`: j is the imaginary unit when the gold uses i and never j."""
    if not (_contains(gold, _I) and _contains(cand, _J)) or _contains(gold, _J) or _contains(cand, _I):
        return cand
    return _substitute(cand, _J, _I)


def _contains(node, leaf: Node) -> bool:
    if node == leaf:
        return True
    return isinstance(node, tuple) and any(isinstance(child, tuple) and _contains(child, leaf) for child in node)


def _same_time(a: re.Match, b: re.Match) -> bool:
    """`4:30 pm` = `16:30` = `4:30`: a missing am/pm is a dropped decoration, two different ones differ."""
    def minutes(match: re.Match) -> int | None:  # minutes after midnight when the half of the day is known
        hour = int(match[1])
        if match[3] is not None:
            return (hour % 12 + (12 if match[3] == "pm" else 0)) * 60 + int(match[2])
        return hour * 60 + int(match[2]) if hour > 12 else None  # `16:30` is a 24-hour time
    known = minutes(a), minutes(b)
    if None not in known:
        return known[0] == known[1]
    return (int(a[1]) % 12, a[2]) == (int(b[1]) % 12, b[2])


def _bare_digits(g: Prepared, c: Prepared) -> Verdict:
    """Bare digits (`4210`, `A3`) are read in the base of the gold's subscript (policy rule 7)."""
    digits, base = g.node[1], g.node[2]
    try:
        value = int(c.clean, base)
    except ValueError:
        return _verdict(False, "base", f"{c.clean} is not a valid base-{base} numeral", g, c)
    equal = value == int(digits, base)
    return _verdict(equal, "base", f"bare digits read in base {base} {'match' if equal else 'differ'}", g, c)


def _choice(letter: str, g: Prepared, c: Prepared, options: dict[str, str], budget: Budget) -> Verdict:
    c_letter, c_text = split_choice(c.clean)
    if c_letter == "several":
        return _verdict(False, "choice", "several options given for one answer", g, c)
    if c_letter is None and len(c.clean.strip("() ")) == 1:
        c_letter = c.clean.strip("() ").upper() if c.clean.strip("() ").isalpha() else None
    if c_letter is None:
        matches = [k for k, body in options.items() if _same_answer(body, c.clean, budget)]
        if matches == [letter]:
            return _verdict(True, "choice-text", f"the text of option ({letter})", g, c)
        return _verdict(False, "choice", f"not option ({letter}) nor its text", g, c)
    if c_letter != letter:
        return _verdict(False, "choice", f"chose ({c_letter}), expected ({letter})", g, c)
    if c_text is None:
        return _verdict(True, "choice", f"option ({letter})", g, c)
    if letter in options and not _same_answer(options[letter], c_text, budget):
        return _verdict(False, "choice", f"letter ({letter}) with text that is not its option", g, c)
    return _verdict(True, "choice", f"option ({letter}) with its text", g, c)


def _same_answer(a: str, b: str, budget: Budget) -> bool:
    return same_text(a, b) or grade(a, b, timeout=max(budget.remaining(), 0.0)).equal


def is_equivalent(gold: str | int | float, candidate: str | None) -> bool:
    """`grade(gold, candidate).equal`."""
    return grade(gold, candidate).equal
