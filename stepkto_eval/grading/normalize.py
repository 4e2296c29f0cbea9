"""LaTeX / plain-text clean-up of an answer string before parsing.

Everything here maps *renderings* of one answer onto one string (policy rules 4, 6 and 11): wrappers
(`\\boxed`, `$..$`, `\\(..\\)`), spacing macros, `\\left`/`\\right`, `\\dfrac`, unicode symbols, units
and currency, degree marks, thousands separators, ordinals (`12^{th}`), one spelled-out number word,
set-builder braces, full-width and zero-width unicode.  It never changes a value: a percent sign is kept
(it is a factor 1/100), and so is everything the parser must see.
"""
from __future__ import annotations

import re
import unicodedata

from .notation import (
    TEXT_CMD,
    arc_minutes,
    base_subscript,
    number_word,
    repeating_ellipsis,
    scale_words,
    unicode_powers_and_roots,
)

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": r"\times ", "\u22c5": r"\cdot ",
    "\u00b7": r"\cdot ", "\u00f7": r"\div ", "\u03c0": r"\pi ", "\u221e": r"\infty ",
    "\u221a": r"\sqrt", "\u00b0": r"^\circ", "\u2264": r"\le ", "\u2265": r"\ge ", "\u2260": r"\ne ",
    "\u222a": r"\cup ", "\u2229": r"\cap ", "\u2205": r"\emptyset ", "\u00a0": " ", "\u2009": " ",
    "\u202f": " ", "\u00bd": r"\frac{1}{2}", "\u00bc": r"\frac{1}{4}", "\u00be": r"\frac{3}{4}",
    "\u2208": r"\in ", "\u2248": r"\approx ", "\u00b1": r"\pm ", "\u2032": "'", "\uff0c": ",", "\u00b2": "^2", "\u00b3": "^3",
    "\u00b9": "^1", "\u20ac": " ", "\u00a3": " ", "\u00a5": " ", "\u20b9": " ", "\u00a2": " ",  # currency signs
    "\u2010": "-", "\u2011": "-", "\u2219": r"\cdot ", "\u2044": "/", "\u2215": "/", "\u211d": r"\mathbb{R}",
}
_INVISIBLE = set("\u200b\u200c\u200d\u2060\ufeff")  # zero-width characters render as nothing
# Greek letters typed as unicode are the LaTeX letters (`2θ` is `2\theta`); π is the constant above.
_UNICODE |= {
    chr(code): f"\\{name} " for code, name in zip(
        range(0x3b1, 0x3ca),
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
        "varsigma sigma tau upsilon phi chi psi omega".split(), strict=True,
    ) if name not in ("pi", "omicron", "varsigma")
}
_DROP_MACROS = re.compile(
    r"\\(?:left|right)\s*\.|"  # `\left.` / `\right.` are invisible delimiters
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|"
    r"scriptstyle|limits|nolimits|mathstrut|phantom\{[^{}]*\}|hspace\*?\{[^{}]*\}|vspace\*?\{[^{}]*\}|"
    r"quad|qquad|enspace|thinspace|negthinspace|medspace|thickspace|color\s*\{[^{}]*\}|"
    r"textcolor\s*\{[^{}]*\})(?![a-zA-Z])"
)
_SPACING = re.compile(r"(?<!\\)\\[,;: ]|~")
_RENAMES = [
    (re.compile(r"\\[dtc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[dt]binom(?![a-zA-Z])"), r"\\binom"),
    (re.compile(r"\\(?:leq|leqslant|leqq)(?![a-zA-Z])"), r"\\le "),
    (re.compile(r"\\(?:geq|geqslant|geqq)(?![a-zA-Z])"), r"\\ge "),
    (re.compile(r"\\(?:neq)(?![a-zA-Z])"), r"\\ne "),
    (re.compile(r"\\lt(?![a-zA-Z])"), "<"),
    (re.compile(r"\\gt(?![a-zA-Z])"), ">"),
    (re.compile(r"<=|=<"), r"\\le "),
    (re.compile(r">=|=>"), r"\\ge "),
    (re.compile(r"!="), r"\\ne "),
    (re.compile(r"\\(?:varnothing|O)(?![a-zA-Z])"), r"\\emptyset "),
    (re.compile(r"\^\s*\{?\s*\\(?:top|intercal)\s*\}?"), "^T"),  # transpose marks
    (re.compile(r"\\(?:lvert|rvert|vert|mid)(?![a-zA-Z])"), "|"),
    (re.compile(r"\\(?:lbrace)(?![a-zA-Z])"), r"\\{"),
    (re.compile(r"\\(?:rbrace)(?![a-zA-Z])"), r"\\}"),
    (re.compile(r"\\(?:varepsilon)(?![a-zA-Z])"), r"\\epsilon"),
    (re.compile(r"\\(?:varphi)(?![a-zA-Z])"), r"\\phi"),
    (re.compile(r"\\(?:vartheta)(?![a-zA-Z])"), r"\\theta"),
    (re.compile(r"\\dots|\\ldots|\\cdots"), r"\\dots "),
    (re.compile(r"\\(?:num|SI|qty)\s*\{([^{}]*)\}(?:\s*\{[^{}]*\})?"), r"\1 "),  # siunitx: `\SI{5}{cm}`
    (re.compile(r"(\\mathbb\s*\{?R\}?)\s*-\s*(?=\\\{)"), r"\1\\setminus "),  # R - {0}
    # `\mathbb{R}^+`, `\mathbb{R}_{>0}`: the positive reals; `\mathbb{R}_{\ge 0}` the nonnegative ones.
    (re.compile(r"\\mathbb\s*\{?R\}?\s*(?:\^\s*\{?\s*\+\s*\}?|_\s*\{\s*(?:\+|>\s*0)\s*\})"), r"(0,\\infty)"),
    (re.compile(r"\\mathbb\s*\{?R\}?\s*(?:\^\s*\{?\s*-\s*\}?|_\s*\{\s*(?:-|<\s*0)\s*\})"), r"(-\\infty,0)"),
    (re.compile(r"\\mathbb\s*\{?R\}?\s*_\s*\{\s*\\ge\s*0\s*\}"), r"[0,\\infty)"),
    (re.compile(r"(?<=[)\]])\s*-\s*(?=\\\{)"), r" \\setminus "),  # (0, 2) - {1}: an interval minus points
    (re.compile(r"\\overline\s*\{\s*([A-Za-z]{1,3})\s*\}"), r"\1"),  # `\overline{AB}`: a segment's name
    (re.compile(r"\{\s*\\(?:rm|bf|it|sf|tt)(?![A-Za-z])\s*([^{}]*)\}"), r"\\text{\1}"),  # `5{\rm cm}` (old font switch)
]
_DEGREES = re.compile(
    r"(?<=\d)\^\s*\{?\s*o\s*\}?(?![A-Za-z])|"  # `90^o`: a letter o typed for the degree ring
    r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|(?<=\d)\s*\\deg(?![A-Za-z])|\^\s*\{\s*\}|"
    # `\text{ degrees}` loses its braces; in `\text{60 degrees}` only the word goes (the group stays whole).
    r"(\\text\s*\{\s*|\\mathrm\s*\{\s*)?(?<![A-Za-z\\])degrees?(?![A-Za-z])(?(1)\s*\})"
)
_OVER = re.compile(r"\{([^{}]*)\\over(?![a-zA-Z])([^{}]*)\}")
_BARE_OVER = re.compile(r"^([^{}]+)\\over(?![a-zA-Z])([^{}]+)$")
_MIXED_PLAIN = re.compile(r"(?<![\d./])(\d+)\s+(\d+)\s*/\s*(\d+)(?![\d.])")
_SPACED_BRACED_COMMA = re.compile(r"(?<=\d) ?\{ ?, ?\} ?(?=\d{3}(?!\d))")
_GROUPED_NUMBER = re.compile(r"(?<!\\)\{ ?([1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?) ?\}")
_CURRENCY = re.compile(
    r"\\\$|\\euro|\\pounds|\\yen|(?<![a-zA-Z])(?:Rs\.?|US(?=\\\$)|(?:USD|EUR|GBP|INR|CAD|AUD|JPY|CNY|RMB)(?![a-zA-Z]))"
)
_TEXT_CMD = TEXT_CMD
_TEXT_GROUP = re.compile(_TEXT_CMD + r"\s*\{([^{}]*)\}")
_TEXT_OPEN = re.compile(_TEXT_CMD + r"\s*\{")
_WRAPPERS = ("\\boxed", "\\fbox", "\\framebox")
MAX_WRAPPERS = 8
_THOUSANDS_COMMA = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_THOUSANDS_SPACE = re.compile(r"[+-]?[1-9]\d{0,2}(?: \d{3})+(?:\.\d+)?")
# Words that follow a number as its unit or counted noun ("5 cm", "12 \text{ cents}", "3 ways").
_TEXT_TAIL = re.compile(  # `(?<!\s)`: start only where a run of spaces starts (linear on long runs)
    r"(?<!\s)\s*" + _TEXT_CMD + r"\s*\{\s*[A-Za-z][A-Za-z .'/-]*\}(?:\s*\^\s*\{?[23]\}?)?(?:\s*/\s*[A-Za-z]+)?\s*$"
)
_WORD_TAIL = re.compile(
    r"(?:(?<=[\d}\)|.%])|(?<=\\pi))(\s*)(?<![\\A-Za-z])[A-Za-z]{2,}\.?(?:\s*/\s*[A-Za-z]+)?(?:\s+[A-Za-z]{2,}\.?)*"
    r"(?:\s*\^\s*\{?[23]\}?)?\s*$"
)
UNITS = set(
    "cm mm km m in ft yd mi inch inches feet foot yard yards mile miles meter meters metre metres centimeter "
    "centimeters kilometer kilometers millimeter millimeters unit units square sq cubic cu cents cent dollars dollar "
    "hours hour hr hrs minutes minute min mins seconds second sec secs days day weeks week months month years year "
    "grams gram kg mg lb lbs pound pounds ounce ounces oz liter liters litre litres ml gallon gallons mph kph "
    "radians radian rad".split()
)
_RATE_TAIL = re.compile(r"(?<=[\d}])\s*([A-Za-z]{1,5})\s*/\s*([A-Za-z]{1,5})(?:\s*\^\s*\{?2\}?)?\s*$")
_RATE_UNITS = UNITS | {"m", "s", "h", "g", "l", "km", "kg", "hr", "yr"}
_KEEP_WORDS = {"am", "pm", "pi", "or", "and", "inf", "infinity", "sqrt", "sin", "cos", "tan", "ln", "log", "exp", "i", "e",
               "cis"}
_FUNC_WORDS = re.compile(
    r"(?<![\\A-Za-z])(sqrt|sin|cos|tan|cot|sec|csc|ln|log|exp|pi|infty|arcsin|arccos|arctan|cis)(?![A-Za-z])"
)
_INFINITY_WORDS = re.compile(r"(?<![\\A-Za-z])(?:infinity|inf)(?![A-Za-z])", re.IGNORECASE)
_ALL_REALS = re.compile(r"^\s*(?:the\s+set\s+of\s+)?all\s+real(?:s|\s+numbers|\s+values)(?:\s+of\s+[a-z])?\s*$|^\s*\\mathbb\s*\{?R\}?\s*$",
                        re.IGNORECASE)
_TIME_SUFFIX = re.compile(
    r"(\d{1,2}:\d\d)\s*(?:\\(?:text|mathrm|mbox)\s*\{\s*([ap])(?:\.?\s*m\.?|\.+)\s*\}|"
    r"([ap])(?:\.?\s*m(?![A-Za-z])\.?|\.+))",
    re.IGNORECASE,
)
TIME = re.compile(r"(\d{1,2}):(\d\d)(?: ([ap]m))?")
_ORDINAL = re.compile(r"(\d)\s*(?:\^\s*\{\s*(?:st|nd|rd|th)\s*\}|\^\s*(?:st|nd|rd|th)|(?:st|nd|rd|th))(?![A-Za-z])")
_PY_POWER = re.compile(r"(?<=[\w)}])\s*\*\*\s*(?=[\w({\\-])")  # `x**2` (Python's power) is x^2
_INEQUALITY = re.compile(r"[<>]|\\(?:le|ge|ne)(?![A-Za-z])")
# `(11,7)or(7,11)`: a word glued to closing and opening brackets still separates two answers.
_CONNECTIVES = re.compile(r"(?:(?<=\s)|(?<=\})|(?<=\$)|(?<=[)\]])|^)(?:or|and)(?=\s|\\|\$|[(\[]|$)")


def unwrap_group(text: str, start: int) -> tuple[str, int] | None:
    """Content of the brace group opening at `text[start]` (nested braces allowed) and its end index."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for pos in range(start, len(text)):
        char = text[pos]
        if char == "\\":
            continue
        if char == "{" and (pos == 0 or text[pos - 1] != "\\"):
            depth += 1
        elif char == "}" and (pos == 0 or text[pos - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return text[start + 1 : pos], pos + 1
    return None


def strip_wrappers(text: str) -> str:
    """Remove whole-answer wrappers: `\\boxed{..}`, `$..$`, `\\(..\\)`, `\\[..\\]`, repeatedly."""
    previous = None
    text = text.strip()
    for _ in range(MAX_WRAPPERS):  # deeper wrapping is not a plausible answer; the parser will refuse it
        if text == previous:
            break
        previous = text
        for name in _WRAPPERS:
            if text.startswith(name):
                rest = text[len(name):].lstrip()
                group = unwrap_group(rest, 0)
                if group is not None and not rest[group[1]:].strip(" .$"):
                    text = group[0].strip()
                elif group is None and rest and "{" not in rest and "}" not in rest:
                    text = rest.strip()  # `\boxed 5`
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**"), ("`", "`")):
            if text.startswith(left) and text.endswith(right) and len(text) >= len(left) + len(right):
                text = text[len(left) : len(text) - len(right)].strip()
        text = strip_trailing_spacing(text).rstrip(" .")
    return text


# Spacing a renderer ignores at the end of an answer; all but `\quad` only when their backslash is not
# itself escaped (`\\,` is a line break, then a comma).
_TRAILING_SPACING = ("\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\!", "\\ ", "\\\\")
_TRAILING_LAST_CHARS = frozenset(token[-1] for token in _TRAILING_SPACING)


def strip_trailing_spacing(text: str) -> str:
    """Drop trailing whitespace, LaTeX spacing commands and line breaks (`\\`).

    A loop of `endswith` checks rather than a `(...)+$` regex: the regex backtracks at every run of
    spaces that is not at the end, which made `a` + 10,000 spaces + `b` cost seconds (quadratic).
    """
    while True:
        text = text.rstrip()
        if not text or text[-1] not in _TRAILING_LAST_CHARS:
            return text  # the common case: one look at the last character
        for token in _TRAILING_SPACING:
            start = len(text) - len(token)
            if text.endswith(token) and (token.endswith("quad") or start == 0 or text[start - 1] != "\\"):
                text = text[:start]
                break
        else:
            return text


def unwrap_inner_boxes(text: str) -> str:
    """`\\boxed{36}^\\circ`, `x = \\boxed{5}`: a box inside the answer only frames part of it."""
    for _ in range(MAX_WRAPPERS):
        match = re.search(r"\\(?:boxed|fbox|framebox)\s*(?=\{)", text)
        group = unwrap_group(text, match.end()) if match else None
        if group is None:
            break
        text = f"{text[: match.start()]}{{{group[0]}}}{text[group[1]:]}"
    return text


def braces_balanced(text: str) -> bool:
    """True when `{`/`}` (ignoring escaped `\\{`, `\\}`) nest properly."""
    depth = 0
    for pos, char in enumerate(text):
        escaped = pos > 0 and text[pos - 1] == "\\"
        if char == "{" and not escaped:
            depth += 1
        elif char == "}" and not escaped:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _replace_unicode(text: str) -> str:
    """Math symbols to LaTeX first (so `x²` stays a power), then NFKC for full-width forms (`（1,2）`).

    `10⁻⁵` is `10^{-5}` and `√13` is `\\sqrt{13}` (the whole number is under the root).
    """
    if not text.isascii():
        text = unicode_powers_and_roots(text)
    text = "".join(_UNICODE.get(char, char) for char in text if char not in _INVISIBLE)
    return unicodedata.normalize("NFKC", text) if not text.isascii() else text


_TEXT_RATE = re.compile(_TEXT_CMD + r"\s*\{\s*([A-Za-z]+)\s*\}\s*/\s*" + _TEXT_CMD + r"\s*\{\s*([A-Za-z]+)\s*\}")


def strip_units(text: str) -> str:
    """Drop a trailing unit or counted noun after a number: `5\\text{ cm}^2` -> `5`, `3 ways` -> `3`."""
    text = _TEXT_RATE.sub(r"\\text{\1/\2}", text)  # `\text{km}/\text{h}` is one unit
    rate = _RATE_TAIL.search(text)
    if rate and rate.group(1).lower() in _RATE_UNITS and rate.group(2).lower() in _RATE_UNITS:
        return text[: rate.start()].rstrip()  # `6 m/s`, `60 km/h`
    for pattern in (_TEXT_TAIL, _WORD_TAIL):
        match = pattern.search(text)
        if match is None:
            continue
        body = re.search(r"\{([^{}]*)\}", match.group(0)) if pattern is _TEXT_TAIL else None
        words = re.findall(r"[A-Za-z]+", body.group(1) if body else match.group(0))
        if not words or any(word.lower() in _KEEP_WORDS for word in words):
            continue
        head = text[: match.start()].rstrip()
        # A glued or post-\pi word is a unit only if we know it as one (`5cm`, but `2ab`, `2\pi r`
        # are products).
        spaced = pattern is _TEXT_TAIL or (match.group(1) and not head.endswith("\\pi"))
        if not spaced and not all(word.lower() in UNITS for word in words):
            continue
        if re.search(r"\d|\\pi", head):
            return strip_units(head)
    return text


def unwrap_text_commands(text: str) -> str:
    """`\\text{abc}` -> ` abc ` (innermost first), so words survive as words.

    A font wrapper around math (`\\mathbf{\\frac{3}{2}}`) is dropped with its braces as well.
    """
    previous = None
    while previous != text:
        previous = text
        text = _TEXT_GROUP.sub(lambda m: f" {m.group(1)} ", text)
    for _ in range(MAX_WRAPPERS):
        match = _TEXT_OPEN.search(text)
        group = unwrap_group(text, match.end() - 1) if match else None
        if group is None:
            break
        text = f"{text[: match.start()]} {group[0]} {text[group[1]:]}"
    return text


def clean(text: str) -> str:
    """Normalise an answer's rendering (not its value); the result is what the parser reads."""
    text = _replace_unicode(str(text))
    # Clock times first, before trailing dots and unit words are dropped: `4:30 p.m.`, `4:30p..` -> `4:30 pm`.
    text = _TIME_SUFFIX.sub(lambda m: f"{m.group(1)} {(m.group(2) or m.group(3)).lower()}m", text)
    text = unwrap_inner_boxes(strip_wrappers(repeating_ellipsis(text)))
    text = _DROP_MACROS.sub(" ", text)
    # `11,\! 111`: a negative thin space binds the digits. A match starts only where a run of spaces starts
    # (`(?<!\s)`), so a long run is scanned once rather than from each of its positions (that was quadratic).
    text = re.sub(r"(?<!\s)\s*(?<!\\)\\!\s*", "", text)
    text = _SPACING.sub(" ", text)
    # `2{,}000 + 3{,}000`: a braced comma before a group of three digits is a thousands separator anywhere.
    text = re.sub(r"(?<=\d)\{,\}(?=\d{3}(?!\d))", "", text)
    text = re.sub(r"(?<=\d)\{([,.])\}", r"\1", text)  # `10{,}080`, `3{.}5`
    # `14 {, }916`, `14{ ,}916`: a braced comma typed with stray spaces is still a thousands separator
    # (each piece is bounded by a literal brace or digit, so the pattern stays linear).
    text = _SPACED_BRACED_COMMA.sub("", text)
    # `\frac{70,000}{7}`: a group that is exactly a grouped number loses its separators (not `\{1,000\}`).
    text = _GROUPED_NUMBER.sub(lambda m: "{" + m.group(1).replace(",", "") + "}", text)
    text = re.sub(r"(?<=\d)(\s*)\{\s*(\\frac\s*\{\s*\d+\s*\}\s*\{\s*\d+\s*\})\s*\}", r"\1\2", text)  # `2{\frac12}`
    for pattern, repl in _RENAMES:
        text = pattern.sub(repl, text)
    text = _DEGREES.sub("\u00b0", text)  # one degree mark; the parser reads it (sin 30° = 1/2)
    text = re.sub("\u00b0 ?[CF](?![A-Za-z])", "\u00b0", text)  # `100°C`, `212^\\circ F`: a temperature's degrees
    text = arc_minutes(text)  # `22°30'` -> (22 + 30/60)°
    text = _OVER.sub(r"\\frac{\1}{\2}", text)
    text = _BARE_OVER.sub(r"\\frac{\1}{\2}", text)
    text = _MIXED_PLAIN.sub(r"\1\\frac{\2}{\3}", text)
    text = _CURRENCY.sub(" ", text)
    text = text.replace("\\%", "%")
    text = re.sub(r"(?<![A-Za-z\\])(?:percent(?:age)?|per cent|pct)(?![A-Za-z])", "%", text)  # `25 pct`, `25 percent`
    text = scale_words(text)
    text = strip_units(text)
    text = unwrap_text_commands(text)
    text = _ORDINAL.sub(r"\1", text)  # `12^{\text{th}}`, `\text{12th}` -> 12
    text = base_subscript(text)
    text = strip_units(text)
    word = number_word(text)
    text = str(word) if word is not None else text
    text = _PY_POWER.sub("^", text)
    text = _ALL_REALS.sub(r"(-\\infty,\\infty)", text)
    text = _INFINITY_WORDS.sub(r"\\infty ", text)
    text = _FUNC_WORDS.sub(r"\\\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r" ([%\u00b0])", r"\1", text)
    if "$" in text or text.startswith(_WRAPPERS):  # wrappers uncovered by the clean-up above
        text = strip_wrappers(text.replace("$", " ").strip())
    text = _drop_answer_prefix(text)
    if _THOUSANDS_COMMA.fullmatch(text):
        text = text.replace(",", "")
    elif _THOUSANDS_SPACE.fullmatch(text):
        text = text.replace(" ", "")
    return text.rstrip(" .")


_ANSWER_WORDS = re.compile(r"^(?:the\s+)?(?:final\s+)?answer\s*(?:is\s*:?|:)\s*(?=\S)", re.IGNORECASE)
_ANGLE_NAME = re.compile(r"^(?:m\s*)?\\(?:angle|measuredangle)\s*\{?\s*[A-Za-z]{1,3}\s*\}?\s*=\s*(?=\S)")
_SET_BUILDER = re.compile(
    r"^\\\{\s*([A-Za-z])\s*(?:\\in\s*\\mathbb\s*\{?R\}?\s*)?(?:\||:)\s*(.*\1.*?)\s*\\\}$"
)


_GLOSS = re.compile(r"(?<=[^\s(,])\s+\(\s*(?:(?:or|i\.e\.,?)\s+([-+]?\d*\.?\d+\s*%?)|"
                    r"([-+]?\d*\.\d+\s*%?|[-+]?\d+\s*%))\s*\)\s*$")


_REMARK = re.compile(
    r"(?<=[\w}%\u00b0)])\s*\(\s*(?!(?:approx|about|around|rounded|roughly|nearly|estimated)"
    r"|(?:or|and|plus|i\.e)\b)(?=[A-Za-z .,'-]*[A-Za-z]{4})[A-Za-z][A-Za-z .,'-]{2,60}\)$",
    re.IGNORECASE,
)


def _drop_answer_prefix(text: str) -> str:
    # "x \in [1,2]" and "\therefore 5": a leading membership or conclusion sign carries no value.
    # `\{x \mid -3 \le x \le 2\}`: a set-builder answer is its condition (read as an interval).
    text = _SET_BUILDER.sub(r"\2", text)
    # `\frac{1}{36} \approx 0.028`: the exact answer followed by its decimal value; the decimal goes.
    text = re.sub(r"(?<=\S)\s*\\approx\s*[-+]?(?:\d+\.?\d*|\.\d+)\s*$", "", text)
    # `\frac72\ (3.5)`, `\frac12 (or 50%)`: a decimal or percent in parentheses after the answer restates
    # it (checked as a list of both; `2 (3)` stays a product).
    text = _GLOSS.sub(r", \1\2", text)
    # `x = 3 (double root)`, `12 (in total)`: a parenthesised remark in words after the answer is a comment,
    # unless it says the value is approximate.
    text = _REMARK.sub("", text)
    text = re.sub(r"^(?:\\therefore|\\approx|\\sim|=)\s*", "", text)
    text = _ANGLE_NAME.sub("", text)  # `m\angle ABC = 75°` names the angle
    text = _ANSWER_WORDS.sub("", text)  # `\boxed{\text{The answer is } 5}`
    # `\lambda \in (3,4]`, `x_1 \in [0, 1]`: the named unknown's membership is the set it belongs to.
    return _MEMBERSHIP.sub("", text)


_MEMBERSHIP = re.compile(  # at the start, or after a separator: `x \\in (1,2) \\text{ or } x \\in (3,4)`
    r"(?:^|(?<=[,;] )|(?<=[,;])|(?<=\bor )|(?<=\band )|(?<=\\cup ))"
    r"(?:[A-Za-z]|\\[a-z]{2,10})(?:_\{?[A-Za-z0-9]{1,3}\}?)? ?\\in(?![A-Za-z]) ?"
)


def connectives_to_commas(text: str) -> str:
    """`1 or 2`, `1 and 2` -> `1 , 2`: several answers are a list (hedges then fail against one gold).

    Between inequalities "or" is a union (`x<3 or x>5`), so `x>3 or x<5` is not read as (3, 5).
    Between solutions of several labelled values (`x=1, y=2 or x=2, y=1`) it separates the solutions.
    """
    if _INEQUALITY.search(text):
        text = _CONNECTIVES.sub(lambda m: " \\cup " if m.group(0) == "or" else ",", text)
    elif text.count("=") >= 2 and "," in text:
        text = re.sub(r",\s*;", ";", _CONNECTIVES.sub(";", text))  # `x=1, y=2, or x=2, y=1`
    return re.sub(r",(?:\s*,)+", ",", _CONNECTIVES.sub(",", text))


_ARTICLES = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def text_key(text: str) -> str:
    """Comparison key of a text answer: case, wrappers, articles, punctuation and spacing ignored."""
    text = unwrap_text_commands(_replace_unicode(strip_wrappers(str(text))))
    text = text.replace("\\", " ").replace("{", " ").replace("}", " ").replace("$", " ")
    text = re.sub(r"\s+", " ", text).strip().strip(".!,;:").strip().lower()
    text = _ARTICLES.sub("", text)
    return re.sub(r"\s+", " ", text)
