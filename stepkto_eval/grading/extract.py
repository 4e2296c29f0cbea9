"""Final-answer extraction from a model completion (policy section 2).

Markers, in order of authority: the last complete `\\boxed{...}` / `\\fbox{...}` (nested braces, also
`\\boxed 5`); the last `<answer>...</answer>`; "The final answer is ... I hope it is correct."; a
"Final Answer:" / "Answer:" line; "#### 42"; the last "the answer is ...".  Several boxes: the last
one is the answer.  No marker (e.g. a truncated completion) gives None unless the caller asks for the
last number explicitly, so an unfinished solution is never credited through a stray number.
"""
from __future__ import annotations

import re

from .normalize import strip_wrappers, unwrap_group

_BOX = re.compile(r"\\(?:boxed|fbox|framebox)(?![A-Za-z])")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_HOPE = re.compile(r"final answer is\s*(.+?)\s*I hope it is correct", re.DOTALL | re.IGNORECASE)
# Zero-width (lookahead) patterns, so that every occurrence is found even inside an earlier one's line.
_ANSWER_LINE = re.compile(r"(?:^|(?<=\n))(?=[ \t*#]*(?:final\s+)?answer[ \t*]*[:：][ \t*]*(.+))", re.IGNORECASE)
_HASHES = re.compile(r"(?=####\s*(.+))")
_ANSWER_IS = re.compile(r"(?=answer\s+is\s*[:：]?\s*(.+))", re.IGNORECASE)
# `$...$` whose content may hold an escaped dollar (`$\\$18.90$`).
_MATH_SPAN = re.compile(
    r"\$\$(.+?)\$\$|(?<!\\)\$((?:\\.|[^$\\])+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n")
# A number, a `p/q` or `\\frac{p}{q}` fraction (`-3/4` is one answer, not the 4 after its slash).
_LAST_NUMBER = re.compile(
    r"-?\\[dt]?frac\s*\{\s*\d+\s*\}\s*\{\s*\d+\s*\}|-?\\[dt]?frac\s*\d\d"
    r"|-?(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+(?!\d|[.,]\d))?"
)


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every complete box, in order of appearance."""
    found = []
    for match in _BOX.finditer(text):
        rest = match.end()
        while rest < len(text) and text[rest] == " ":
            rest += 1
        if rest < len(text) and text[rest] == "{":
            group = unwrap_group(text, rest)
            if group is not None:  # an unclosed box (truncated output) is not an answer
                found.append((match.start(), group[1], group[0]))
        else:
            token = re.match(r"[^\s$\\]+|\\[A-Za-z]+", text[rest:])
            if token:
                found.append((match.start(), rest + token.end(), token.group(0)))
    return found


def last_boxed(text: str) -> str | None:
    """Content of the last outermost box (a box nested in another counts as part of it)."""
    boxes = _boxes(text)
    if not boxes:
        return None
    outer = [box for box in boxes if not any(o[0] < box[0] and box[1] <= o[1] for o in boxes)]
    return outer[-1][2]


def _first_math_span(text: str) -> str | None:
    match = _MATH_SPAN.search(text)
    if match is None:
        return None
    return next(group for group in match.groups() if group is not None)


def _tidy(answer: str) -> str | None:
    """Strip prose around a marker's answer: math delimiters, markdown bold, trailing periods."""
    answer = answer.strip().strip("*").strip()
    math = _first_math_span(answer)
    if math is not None:
        answer = math
    else:
        end = _SENTENCE_END.search(answer)
        answer = answer[: end.start()] if end else answer
    answer = strip_wrappers(answer.strip().rstrip(".").strip())
    return answer or None


def _last(pattern: re.Pattern, text: str) -> str | None:
    matches = pattern.findall(text)
    return matches[-1] if matches else None


def extract_answer(text: str, *, fallback_last_number: bool = False) -> str | None:
    """The final answer of a completion as a string, or None when it states none."""
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        answer = strip_wrappers(boxed)
        return answer or None
    tag = _last(_ANSWER_TAG, text)
    if tag is not None:
        inner = last_boxed(tag)
        return strip_wrappers(inner) if inner is not None else _tidy(tag)
    hope = _last(_HOPE, text)
    if hope is not None:
        tidy = strip_wrappers(_strip_math(hope.strip()).rstrip(". "))
        if tidy:
            return tidy
    # Otherwise the marker that occurs last wins ("The answer is 3. Checking again, the answer is 4.").
    found = [(m.start(), m.group(1)) for pattern in (_ANSWER_LINE, _HASHES, _ANSWER_IS) for m in pattern.finditer(text)]
    for _, answer in sorted(found, key=lambda item: item[0], reverse=True):
        tidy = _tidy(answer)
        if tidy:
            return tidy
    if fallback_last_number:
        numbers = _LAST_NUMBER.findall(text)
        return numbers[-1] if numbers else None
    return None


def _strip_math(answer: str) -> str:
    math = _first_math_span(answer)
    return math if math is not None and answer.strip().startswith(("$", "\\(", "\\[")) else answer
