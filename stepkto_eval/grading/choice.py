"""Multiple-choice letters and text answers (policy rule 8).

A letter gold (`C`, `(C)`, `\\text{(C)}`) is answered by the same letter in any of those forms, or by
the letter followed by that option's own text (checked against the options parsed from the problem,
`(A) ...` or `\\textbf{(A) }...`), or - when the problem lists the options - by the option's text alone.
Another letter, several letters, or a letter with another option's text is wrong.
"""
from __future__ import annotations

import re

from .normalize import clean, text_key

LETTER = re.compile(r"\(?\s*([A-J])\s*\)?")
_LETTER_AND_TEXT = re.compile(r"\(?\s*([A-J])\s*[).:]\s*(.+)", re.DOTALL)
_OPTION = re.compile(r"\(\s*([A-J])\s*\)\s*(.*?)(?=\(\s*[A-J]\s*\)|\\qquad|\\quad|\n|$)", re.DOTALL)
_SEVERAL = re.compile(r"\(?\s*[A-J]\s*\)?(?:\s*(?:,|;|&|/|\band\b|\bor\b)?\s*\(?\s*[A-J]\s*\)?)+")
_PREFIX = re.compile(r"^(?:the\s+)?(?:correct\s+)?(?:answer|option|choice)(?:\s+is)?\s*[:.]?\s*", re.IGNORECASE)
_ANOTHER_OPTION = re.compile(r"(?<![A-Za-z0-9\\])\(\s*[A-J]\s*\)")
_LINE_OPTION = re.compile(r"^\s*([A-J])[.)]\s+(.+?)\s*$", re.MULTILINE)


def gold_letter(gold_clean: str) -> str | None:
    """The option letter if the (cleaned) gold is a bare choice letter."""
    match = LETTER.fullmatch(gold_clean.strip())
    return match.group(1) if match else None


def parse_options(problem: str | None) -> dict[str, str]:
    """Option letter -> option text, read from the problem statement."""
    if not problem:
        return {}
    # `\\textbf{(A) }`, `\\mathrm{(A) \\ }`, `\\text{(A)}`: the letter's wrapper (spacing inside it included) goes.
    text = re.sub(r"\\(?:textbf|mathrm|mathbf|text)\s*\{\s*\(\s*([A-J])\s*\)(?:\s|~|\\[ ,;:!])*\}", r"(\1) ", problem)
    options: dict[str, str] = {}
    for letter, body in _OPTION.findall(text):
        body = re.sub(r"^(?:\\[ ,;:!]|~|\s)+", "", body.strip().strip("$")).strip()
        if body and letter not in options:
            options[letter] = body
    if len(options) < 2:
        options = {letter: body.strip() for letter, body in _LINE_OPTION.findall(problem)}
    return options if len(options) >= 2 else {}


def split_choice(cand_clean: str) -> tuple[str | None, str | None]:
    """(letter, trailing text) of a candidate like `C`, `(C)`, `C) 12`, `(C) 12`; (None, None) otherwise.

    Several letters (`(C) and (D)`, `A, C`) give ("several", None).
    """
    text = _PREFIX.sub("", cand_clean.strip())
    if _SEVERAL.fullmatch(text):
        return "several", None
    match = LETTER.fullmatch(text)
    if match:
        return match.group(1), None
    match = _LETTER_AND_TEXT.fullmatch(text)
    if match and not re.match(r"[A-J]\s*[a-z]|[A-J]\s*:\s*[A-Za-z](?:_\{?\w+\}?)?\s*=", text):  # not `A:B = 2:3`
        if _ANOTHER_OPTION.search(match.group(2)):
            return "several", None  # `(C) 12, (D) 14`: a second option follows the first one's text
        return match.group(1), match.group(2).strip()
    return None, None


def same_text(a: str, b: str) -> bool:
    """Text answers agree up to case, wrappers, a leading article, punctuation and spacing."""
    return text_key(a) == text_key(b) or text_key(clean(a)) == text_key(clean(b))
