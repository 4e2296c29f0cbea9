"""Tokenizer for cleaned LaTeX / plain-math answers.

Numbers become exact `fractions.Fraction` here: `0.1\\overline{6}` is 1/6 and `2.6e4` is 26000, so no
float ever enters the checker.  Base-n literals (`4210_5`, `A3_{16}`) are recognised here because only
the lexer still sees the digits and the subscript together.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .budget import MAX_LITERAL_DIGITS, TooLarge

_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)")
_REPEAT = re.compile(r"\s*\\(?:overline|bar|dot)\s*\{\s*(\d+)\s*\}|\s*\\(?:overline|bar|dot)\s*(\d)")
_SCI = re.compile(r"[eE]([+-]?\d+)(?![A-Za-z])")
_BASE = re.compile(r"([0-9A-Z]+)_(?:\{\s*(\d+)\s*\}|(\d))")
_CMD = re.compile(r"\\([A-Za-z]+)")
_ENV = re.compile(r"\\(begin|end)\s*\{\s*([A-Za-z*]+)\s*\}(?:\{[^{}]*\})?")
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class LexError(ValueError):
    """The text contains something no answer would."""


@dataclass(frozen=True)
class Token:
    """kind: NUM, BASE, CMD, SYM, OP, BEGIN, END, ROWSEP.  `value` depends on the kind."""

    kind: str
    value: object
    raw: str = ""


def _decimal(raw: str) -> Fraction:
    if len(raw.replace(".", "")) > MAX_LITERAL_DIGITS:
        raise TooLarge(f"a literal with {len(raw):,} digits")
    whole, _, frac = raw.partition(".")
    value = Fraction(int(whole or "0"))
    if frac:
        value += Fraction(int(frac), 10 ** len(frac))
    return value


def _repeating(raw: str, digits: str) -> Fraction:
    """`raw` followed by `digits` repeated forever: nonrepeating + r / ((10^k - 1) * 10^d)."""
    places = len(raw.partition(".")[2])
    return _decimal(raw) + Fraction(int(digits), (10 ** len(digits) - 1) * 10**places)


def _base_token(text: str, pos: int) -> tuple[Token, int] | None:
    match = _BASE.match(text, pos)
    if match is None:
        return None
    digits, base = match.group(1), int(match.group(2) or match.group(3))
    if not 2 <= base <= 36 or (base <= 10 and not digits.isdigit()):
        return None
    if any(_DIGITS.index(char) >= base for char in digits):
        return None  # not a base-n literal (e.g. the variable `X_{12}`); the parser decides
    return Token("BASE", (digits, base), match.group(0)), match.end()


def _number_token(text: str, pos: int) -> tuple[Token, int]:
    match = _NUMBER.match(text, pos)
    raw = match.group(1)
    end = match.end()
    repeat = _REPEAT.match(text, end) if "." in raw else None
    if repeat:
        digits = repeat.group(1) or repeat.group(2)
        return Token("NUM", _repeating(raw, digits), raw + "(" + digits + ")"), repeat.end()
    value = _decimal(raw)
    sci = _SCI.match(text, end)
    if sci and abs(int(sci.group(1))) <= MAX_LITERAL_DIGITS:
        value *= Fraction(10) ** int(sci.group(1))
        return Token("NUM", value, raw + "e" + sci.group(1)), sci.end()
    return Token("NUM", value, raw), end


def tokenize(text: str) -> list[Token]:
    """Split cleaned answer text into tokens (whitespace dropped)."""
    tokens: list[Token] = []
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char.isdigit() or (char.isupper() and char.isascii()):
            based = _base_token(text, pos)
            if based is not None:
                tokens.append(based[0])
                pos = based[1]
                continue
        if char.isdigit() or (char == "." and pos + 1 < size and text[pos + 1].isdigit()):
            token, pos = _number_token(text, pos)
            tokens.append(token)
        elif char == "\\":
            pos = _command_token(text, pos, tokens)
        elif char.isascii() and char.isalpha():
            tokens.append(Token("SYM", char, char))
            pos += 1
        elif char in "+-*/^_=<>!,;()[]{}|:&'%\u00b0":
            tokens.append(Token("OP", char, char))
            pos += 1
        else:
            raise LexError(f"unexpected character {char!r}")
    return tokens


def _command_token(text: str, pos: int, tokens: list[Token]) -> int:
    env = _ENV.match(text, pos)
    if env:
        tokens.append(Token(env.group(1).upper(), env.group(2).rstrip("*"), env.group(0)))
        return env.end()
    nxt = text[pos + 1] if pos + 1 < len(text) else ""
    if nxt == "\\":
        tokens.append(Token("ROWSEP", "\\\\", "\\\\"))
        return pos + 2
    if nxt in "{}|%":
        tokens.append(Token("CMD", nxt, "\\" + nxt))
        return pos + 2
    match = _CMD.match(text, pos)
    if match is None:
        raise LexError(f"stray backslash at {pos}")
    tokens.append(Token("CMD", match.group(1), match.group(0)))
    return match.end()
