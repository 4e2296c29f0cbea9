"""Notations that carry a value, rewritten into the form the parser reads (policy rules 1, 3, 6, 7).

Unlike the clean-up in `normalize.py`, these rewrites are about *meaning*: a magnitude word multiplies
(`1.5 \\text{ million}`), an ellipsis after a visibly repeating block is a repeating decimal
(`0.333...`), a base can be written `(4210)_5` or `4210_{\\text{five}}`, and unicode superscripts are
exponents (`10⁻⁵`).  Each function returns its input unchanged when the notation is absent.
"""
from __future__ import annotations

import re

TEXT_CMD = (
    r"\\(?:text|textnormal|textup|textbf|textit|textrm|textsf|texttt|mathrm|mathbf|mathit|mathsf|mathtt|mbox|hbox|operatorname|"
    r"boldsymbol|mathnormal|underline|bm|emph|vec|overrightarrow)"
)
# A whole answer spelled as one number word (`\text{three}`) is that number.
NUMBER_WORDS = {
    word: value for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}

_SUPERSCRIPTS = dict(zip("\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207a\u207b",
                         "0123456789+-", strict=True))
_SUPERSCRIPT_RUN = re.compile("[" + "".join(_SUPERSCRIPTS) + "]+")
_ROOT_OPERAND = re.compile(r"\u221a\s*(\d+(?:\.\d+)?|[A-Za-z])")


def _power(exponent: str) -> str:
    return f"^{exponent}" if len(exponent) == 1 else f"^{{{exponent}}}"


def unicode_powers_and_roots(text: str) -> str:
    """`10⁻⁵` is `10^{-5}` and `√13` is `\\sqrt{13}` (the whole number is under the root, not `\\sqrt1 3`)."""
    text = _SUPERSCRIPT_RUN.sub(lambda m: _power("".join(_SUPERSCRIPTS[c] for c in m.group(0))), text)
    return _ROOT_OPERAND.sub(r"\\sqrt{\1}", text)


_SCALE = {"hundred": "100", "thousand": "10^{3}", "million": "10^{6}", "billion": "10^{9}",
          "trillion": "10^{12}", "dozen": "12", "tenth": "10^{-1}", "hundredth": "10^{-2}",
          "thousandth": "10^{-3}", "millionth": "10^{-6}"}  # `5 hundredths` is 0.05, not a unit
_SCALE_WORD = re.compile(
    r"(?<=[\d}])\s*(" + TEXT_CMD + r"\s*\{\s*)?"
    r"(hundredth|thousandth|millionth|tenth|hundred|thousand|million|billion|trillion|dozen|squared|cubed)"
    r"s?(?![A-Za-z])(?(1)(\s*\})?)",
    re.IGNORECASE,
)


def scale_words(text: str) -> str:
    """`1.5 \\text{ million}` is 1,500,000 and `5 squared` is 25: these words change the value, unlike units."""
    def spell(match: re.Match) -> str:
        word = match.group(2).lower()
        value = {"squared": "^{2}", "cubed": "^{3}"}.get(word) or r" \times " + _SCALE[word]
        opened, closed = match.group(1), match.group(3)
        # `\text{ million dollars}`: the text group stays open for its unit
        return value + (" " + opened.rstrip() if opened and not closed else " ")

    return _SCALE_WORD.sub(spell, text)


_BASE_FORMS = [
    (re.compile(r"\(\s*([0-9A-Z]+)\s*\)\s*_"), r"\1_"),  # `(4210)_5`
    (re.compile(r"(?<=[0-9A-Z])\s+_(?=\s*\{?\s*\(?\s*\d)"), "_"),  # `\text{4210}_5` -> ` 4210 _5`
    (re.compile(r"_\s*\{\s*\(\s*(\d+)\s*\)\s*\}|_\s*\(\s*(\d+)\s*\)"), r"_{\1\2}"),  # `4210_{(5)}`
]
_BASE_WORD = re.compile(r"_\s*\{\s*([a-z]+)\s*\}")


def base_subscript(text: str) -> str:
    """`(4210)_5`, `4210_{(5)}`, `4210_{\\text{five}}` are the base-5 numeral `4210_{5}` (rule 7)."""
    if "_" not in text:
        return text
    for pattern, repl in _BASE_FORMS:
        text = pattern.sub(repl, text)

    def base(match: re.Match) -> str:
        number = NUMBER_WORDS.get(match.group(1), 0)
        return f"_{{{number}}}" if number >= 2 else match.group(0)

    return _BASE_WORD.sub(base, text)


_ELLIPSIS = re.compile(r"\s*(?:\.{3}|\\(?:ldots|cdots|dots)(?![A-Za-z]))")
MAX_PERIOD = 6


def _period(digits: str) -> tuple[str, int] | None:
    """The shortest block repeated at the end of `digits` and how often: thrice for one digit, twice for more."""
    for length in range(1, MAX_PERIOD + 1):
        block, copies = digits[-length:], 1
        while len(digits) >= (copies + 1) * length and digits[-(copies + 1) * length : -copies * length] == block:
            copies += 1
        if len(block) == length and copies >= (3 if length == 1 else 2):
            return block, copies
    return None


def _decimal_before(text: str, end: int) -> tuple[int, str, str] | None:
    """(start, whole digits, fractional digits) of a decimal ending at `end`, scanned backwards (linear)."""
    pos = end
    while pos > 0 and text[pos - 1].isdigit():
        pos -= 1
    fraction, point = text[pos:end], pos - 1
    if not fraction or point < 0 or text[point] != ".":
        return None
    start = point
    while start > 0 and text[start - 1].isdigit():
        start -= 1
    if start > 0 and text[start - 1] == ".":
        return None
    return start, text[start:point], fraction


def repeating_ellipsis(text: str) -> str:
    """`0.333...`, `0.1666\\ldots`: a block shown repeating before an ellipsis is `0.\\overline{3}` (rule 3).

    The block must be seen three times (one digit) or twice (two to six digits); `3.14159...` shows no
    period and stays the truncated decimal it is.  Linear in the length of the text.
    """
    if "." not in text:
        return text
    pieces, done = [], 0
    for match in _ELLIPSIS.finditer(text):
        decimal = _decimal_before(text, match.start())
        found = _period(decimal[2]) if decimal and match.start() >= done else None
        if found is None:
            continue
        (start, whole, fraction), (block, copies) = decimal, found
        head = fraction[: len(fraction) - copies * len(block)]
        pieces.append(f"{text[done:start]}{whole}.{head}\\overline{{{block}}}")
        done = match.end()
    return "".join(pieces) + text[done:]


_UNITS_WORDS = "one two three four five six seven eight nine".split()


def number_word(text: str) -> int | None:
    """A whole answer spelled as a number: `three`, `forty-two`, `forty two` (rule 6)."""
    words = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text.strip().strip(".").lower()).split()  # not `-five`
    if len(words) == 1:
        return NUMBER_WORDS.get(words[0])
    if len(words) == 2 and words[0] in NUMBER_WORDS and NUMBER_WORDS[words[0]] % 10 == 0 \
            and NUMBER_WORDS[words[0]] >= 20 and words[1] in _UNITS_WORDS:
        return NUMBER_WORDS[words[0]] + NUMBER_WORDS[words[1]]
    return None


_PRIME = r"(?:'|\^\s*\{?\s*\\prime\s*\}?)"
_DOUBLE_PRIME = r"(?:''|\"|\^\s*\{?\s*\\prime\s*\\prime\s*\}?|\^\s*\{?\s*\\dprime\s*\}?)"
_NUMBER = r"\d+(?:\.\d+)?"
# `22°30'` and `22°30'15''`: degrees, arc minutes and arc seconds (the degree mark is already `°`).
_ARC = re.compile(rf"({_NUMBER})\s*\u00b0\s*({_NUMBER})\s*{_PRIME}(?:\s*({_NUMBER})\s*{_DOUBLE_PRIME})?")
# `12'`, `12''`, `12^\prime` as a whole answer: feet or inches (or arc minutes when the gold is in degrees).
FOOT_INCH = re.compile(rf"([-+]?{_NUMBER})\s*(?:{_DOUBLE_PRIME}|{_PRIME})")


def arc_minutes(text: str) -> str:
    """`22°30'` is `(22+\\frac{30}{60})°` and `22°30'15''` adds 15/3600 of a degree."""
    if "'" not in text and "prime" not in text and '"' not in text:
        return text

    def degrees(match: re.Match) -> str:
        seconds = rf"+\frac{{{match.group(3)}}}{{3600}}" if match.group(3) else ""
        return rf"({match.group(1)}+\frac{{{match.group(2)}}}{{60}}{seconds})" + "\u00b0"

    return _ARC.sub(degrees, text)
