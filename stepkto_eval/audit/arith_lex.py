"""Tokenizer for the arithmetic checker: turns a reasoning step (prose mixed with LaTeX) into tokens.

Math segments (``\\( .. \\)``, ``\\[ .. \\]``, ``$ .. $``, ``$$ .. $$``, ``\\begin{align} ..``) are read in
*math mode*, where every letter is a variable; the prose around them in *text mode*, where letters form
words (possible units) and ``$`` is a currency sign. Anything the checker must not mistake for arithmetic
becomes a token that poisons the expression next to it: variables (``2x``), unknown commands
(``\\sqrt``, ``\\pi``), subscripts, times and ratios (``3:45``), ranges (``1-5``, ``1–5``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

# Token kinds
NUM, OP, LP, RP, PCT, FACT, FRAC, SQRT, REL, BREAK, WORD, VAR, DOTS = (
    "NUM", "OP", "LP", "RP", "PCT", "FACT", "FRAC", "SQRT", "REL", "BREAK", "WORD", "VAR", "DOTS")
MAX_STEP_CHARS = 20_000  # a longer step is read up to here (a claim cut there is simply not a claim)
ARITH_KINDS = frozenset({NUM, OP, LP, RP, PCT, FACT, FRAC, SQRT})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    space: bool  # whitespace (or a math-segment edge) right before this token
    value: Fraction | None = None  # NUM only
    decimals: int = 0  # NUM only: digits written after the decimal point
    unit: str | None = None  # NUM only: a unit word written right after it ("3 hours"), see attach_units


# A number: digits with optional thousands groups (",", "{,}", "\\,") and a decimal part.
_NUMBER = re.compile(r"\d+(?:(?:,|\{,\}|\\,)\d{3}(?!\d))*(?:\.\d+)?|\.\d+")
_MATH_SEGMENT = re.compile(
    r"\\\[(?P<a>.*?)\\\]|\\\((?P<b>.*?)\\\)|\$\$(?P<c>.*?)\$\$"
    r"|\\begin\{(?P<env>equation|align|aligned|gather|gathered|eqnarray|split)(?P<star>\*?)\}(?P<d>.*?)\\end\{(?P=env)(?P=star)\}"
    r"|(?<![\\$])\$(?=\S)(?P<e>[^$]*?\S)\$(?!\d)",
    re.DOTALL,
)
_DEGREE = re.compile(r"\^\s*(?:\\circ|\{\s*\\circ\s*\}|\\degree|°)|°")
_ROW_CONTINUES = re.compile(r"\\\\\s*&?\s*(?:=|\\approx)")
_SPACE_CHARS = frozenset(" \t\n\r&~")
_SPACES = re.compile(r"[\s&~]+")
_LETTERS = re.compile(r"[^\W\d_]+")
_COMMAND = re.compile(r"\\([a-zA-Z]+|[\s\S]?)")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mathrm|mbox|mathbf)\s*\{([^{}]*)\}")
_SPACE_CMDS = {",", ";", ":", "!", " ", "quad", "qquad", "left", "right", "big", "Big", "bigl", "bigr",
               "Bigl", "Bigr", "displaystyle", "boxed", "$", "limits", "tfrac_"}
_OP_CMDS = {"times": "*", "cdot": "*", "ast": "*", "div": "/"}
# Inequalities poison the number next to them ("P(x > 0) = 1/2" is not "0 = 1/2").
_POISON_CMDS = {"neq", "ne", "le", "leq", "ge", "geq", "lt", "gt", "equiv", "lfloor", "rfloor", "lceil", "rceil",
                "pm", "mp", "sim", "in", "subset", "cup", "cap", "wedge", "vee", "mid", "nmid"}
_BREAK_CMDS = {"Rightarrow", "implies", "to",
               "rightarrow", "Longrightarrow", "iff", "therefore", "because", "quad", "qquad",
               "\\"}
_APPROX_WORDS = {"about", "approximately", "around", "roughly", "nearly", "almost", "approx"}
_LIST_MARKER = re.compile(r"^[ \t]*(?:\d{1,3}[.)]|[-*•])[ \t]+", re.MULTILINE)


def tokenize_step(step: str) -> list[Token]:
    """Tokens of one step: math segments in math mode, the prose between them in text mode.

    A piece (segment or prose between segments) without a relation sign cannot hold a claim, and the
    pieces are separated by breaks anyway, so it is replaced by one break instead of being read.
    """
    step = _LIST_MARKER.sub(lambda m: " " * len(m.group(0)), step[:MAX_STEP_CHARS])
    tokens: list[Token] = []
    pos = 0
    for m in _MATH_SEGMENT.finditer(step):
        _lex_piece(step[pos:m.start()], False, tokens)
        tokens.append(Token(BREAK, "<math>", True))
        body = next(g for g in (m.group("a"), m.group("b"), m.group("c"), m.group("d"), m.group("e")) if g is not None)
        _lex_piece(body, True, tokens)
        tokens.append(Token(BREAK, "</math>", True))
        pos = m.end()
    _lex_piece(step[pos:], False, tokens)
    return tokens


def _lex_piece(piece: str, math: bool, out: list[Token]) -> None:
    if "=" in piece or "≈" in piece or "\\approx" in piece or "equals" in piece:
        _lex(piece, math=math, out=out)
    elif out and out[-1].kind != BREAK:
        out.append(Token(BREAK, "<skipped>", True))


def drop_annotations(tokens: list[Token]) -> list[Token]:
    """Remove a bracket of words right after a number: "100 (first day) + 150 (second day)" -> 100 + 150."""
    out: list[Token] = []
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        after_number = out and (out[-1].kind in (NUM, PCT) or (
            out[-1].kind == WORD and len(out) > 1 and out[-2].kind == NUM))  # "80 minutes (homework)"
        if tok.kind == LP and tok.text == "(" and after_number:
            m = k + 1
            while m < len(tokens) and m - k <= 6 and tokens[m].kind == WORD:
                m += 1
            if m > k + 1 and m < len(tokens) and tokens[m].kind == RP and tokens[m].text == ")":
                k = m + 1
                continue
        out.append(tok)
        k += 1
    return out


def attach_units(tokens: list[Token], keep: frozenset[str] | set[str]) -> list[Token]:
    """Move a unit word written after a number onto the number: "3 hours + 5 hours" -> 3 + 5 (unit hour).

    Only a space-separated word (not one of `keep`, e.g. "dozen") that an operator, a relation, a bracket
    or a break follows is moved; the caller decides whether the units of a claim are consistent.
    """
    out: list[Token] = []
    for k, tok in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if (tok.kind == WORD and tok.space and out and out[-1].kind == NUM and out[-1].unit is None
                and tok.text.isalpha() and tok.text.lower() not in keep
                and (nxt is None or nxt.kind in (REL, RP, BREAK) or (nxt.kind == OP and nxt.text != "^"))):
            out[-1] = replace(out[-1], unit=tok.text.lower().rstrip("s") or tok.text.lower())
            continue
        out.append(tok)
    return out


def _number_token(raw: str, space: bool) -> Token:
    clean = raw.replace("{,}", "").replace("\\,", "").replace(",", "")
    decimals = len(clean.split(".")[1]) if "." in clean else 0
    return Token(NUM, raw, space, Fraction(clean), decimals)


def _lex(s: str, *, math: bool, out: list[Token]) -> None:  # noqa: C901 - one flat scanner reads best
    i, n, space, depth = 0, len(s), True, 0
    while i < n:
        c = s[i]
        if c in _SPACE_CHARS or c.isspace():
            i, space = _SPACES.match(s, i).end(), True
            continue
        if math and s.startswith("{}", i):
            i, space = i + 2, True
            continue
        degree = _DEGREE.match(s, i) if c in "^°" else None
        if degree or c == "$":
            # A degree mark is a unit; "$" in prose is a currency sign: neither changes the value.
            i = degree.end() if degree else i + 1
            continue
        if _is_digit(c) or (c == "." and i + 1 < n and _is_digit(s[i + 1]) and (i == 0 or not s[i - 1].isalnum())):
            m = _NUMBER.match(s, i)
            out.append(_number_token(m.group(0), space))
            i, space = m.end(), False
            continue
        if c == "\\":
            i, space = _lex_command(s, i, math, space, out)
            continue
        if c.isalpha():
            j = max(_LETTERS.match(s, i).end(), i + 1)
            out.append(_word_token(s[i:j], s, i, j, math, space, out))
            i, space = j, False
            continue
        if c == "," and depth > 0:
            out.append(Token(VAR, ",", space))  # (3, 4), C(9, 2), gcd(8, 12): tuples and arguments
        else:
            out.append(_symbol_token(s, i, math, space, out))
        kind = out[-1].kind
        # Brackets opened and not closed since the last full stop decide what a comma means.
        depth = depth + 1 if kind == LP else max(depth - 1, 0) if kind == RP else 0 if kind == BREAK and c in ".;" else depth
        i, space = i + 1, False
    if out and out[-1].kind != BREAK:
        out.append(Token(BREAK, "<end>", True))


def _is_digit(ch: str) -> bool:
    return len(ch) == 1 and "0" <= ch <= "9"  # str.isdigit() is also true for "²", which is not a number here


def _word_token(word: str, s: str, i: int, j: int, math: bool, space: bool, out: list[Token]) -> Token:
    if math:
        return Token(VAR, word, space)
    lower = word.lower()
    prev = out[-1] if out else None
    nxt = s[j:j + 2].lstrip()
    between_numbers = prev is not None and prev.kind in (NUM, RP, PCT) and (_is_digit(nxt[:1]) or nxt[:1] == "$")
    if lower == "x" and between_numbers and space and s[j:j + 1] == " ":
        return Token(OP, "*", space)  # "3 x 4" written in prose
    if lower == "of" and prev is not None and prev.kind in (NUM, RP, PCT) and space and nxt[:1] in "0123456789$(":
        return Token(OP, "of", space)
    if lower in _APPROX_WORDS:
        return Token(WORD, "~approx", space)
    if lower == "equals":
        return Token(REL, "=", space)  # "5 plus 3 equals 8" is read like "5 + 3 = 8"
    return Token(WORD, word, space)


def _lex_command(s: str, i: int, math: bool, space: bool, out: list[Token]) -> tuple[int, bool]:
    tm = _TEXT_CMD.match(s, i)
    if tm:
        content = tm.group(1).strip()
        if not content or all(not ch.isalnum() for ch in content):
            return tm.end(), True
        word = content.lower()
        kind_text = "~approx" if word in _APPROX_WORDS else content
        out.append(Token(BREAK if word in ("and", "or") else WORD, kind_text, True))
        return tm.end(), True
    if _ROW_CONTINUES.match(s, i):
        return i + 2, True  # "a &= b \\ &= c": the next row continues the chain
    m = _COMMAND.match(s, i)
    name = m.group(1)
    end = m.end()
    if name in ("frac", "dfrac", "tfrac"):
        out.append(Token(FRAC, "\\frac", space))
        # \frac12 means 1/2: split bare digit arguments into single-digit groups.
        k = end
        while k < len(s) and s[k] == " ":
            k += 1
        if k + 1 < len(s) and _is_digit(s[k]) and _is_digit(s[k + 1]):
            out.append(Token(NUM, s[k], False, Fraction(int(s[k]))))
            out.append(Token(NUM, s[k + 1], False, Fraction(int(s[k + 1]))))
            return k + 2, False
        return end, False
    if name == "sqrt":
        out.append(Token(SQRT, "\\sqrt", space))
        return end, False
    if name in _OP_CMDS:
        out.append(Token(OP, _OP_CMDS[name], space))
        return end, False
    if name == "approx":
        out.append(Token(REL, "~", space))
        return end, False
    if name == "%":
        out.append(Token(PCT, "%", space))
        return end, False
    if name in ("ldots", "dots", "cdots"):
        out.append(Token(DOTS, "...", space))
        return end, False
    if name in _POISON_CMDS:
        out.append(Token(VAR, "\\" + name, space))
        return end, False
    if name in _BREAK_CMDS:
        out.append(Token(BREAK, name, True))
        return end, True
    if name in ("circ", "degree"):
        return end, space
    if name in _SPACE_CMDS:
        # \left( \right) \boxed{..}: the delimiter or group that follows is read normally.
        return end, True
    if name in ("{", "}"):
        out.append(Token(BREAK, name, True))
        return end, True
    out.append(Token(VAR, "\\" + name, space))  # \sqrt, \pi, \log, ...: not checkable here
    return end, False


def _symbol_token(s: str, i: int, math: bool, space: bool, out: list[Token]) -> Token:  # noqa: C901
    c = s[i]
    nxt = s[i + 1] if i + 1 < len(s) else ""
    prev = out[-1] if out else None
    if c == "√":
        return Token(SQRT, "√", space)
    if c in "+*×÷/" or c == "·":
        return Token(OP, {"×": "*", "÷": "/", "·": "*"}.get(c, c), space)
    if c in "-−":
        if (not math and c == "-" and not space and prev is not None and prev.kind == NUM
                and _is_digit(nxt) and _is_range(s, i, prev)):
            return Token(VAR, "range", space)
        return Token(OP, "-", space)
    if c == "^":
        return Token(OP, "^", space)
    if c == "(" or (c == "{" and math):
        return Token(LP, c, space)
    if c == ")" or (c == "}" and math):
        return Token(RP, c, space)
    if c == "=":
        return Token(REL, "=", space)
    if c == "≈":
        return Token(REL, "~", space)
    if c == "%":
        return Token(PCT, "%", space)
    if c == "!":
        if math or (prev is not None and prev.kind in (NUM, RP) and not space):
            return Token(FACT, "!", space)
        return Token(BREAK, "!", True)
    if c == ":" and (_is_digit(nxt) or (prev is not None and prev.kind == NUM and not space)):
        return Token(VAR, ":", space)  # 3:45, 2:1 — times and ratios are not arithmetic
    if c == "." and nxt == "\\" and prev is not None and prev.kind == NUM and not space:
        return Token(VAR, ".", space)  # 0.\overline{3}: a repeating decimal, not "0" then a full stop
    if c in ",;:?" or c == ".":
        return Token(BREAK, c, True)
    return Token(VAR, c, space)  # _, |, ', unknown symbols: poison the adjacent expression


def _is_range(s: str, i: int, prev: Token) -> bool:
    """`a-b` written without spaces with a < b is a range ("pages 1-5"), not a subtraction."""
    m = _NUMBER.match(s, i + 1)
    return bool(m) and prev.value is not None and prev.value < Fraction(m.group(0).replace(",", "") or "0")
