"""Untrusted text (model output, problem ids, gold answers, model and file names) inside the Markdown we write
(report.md, the leaderboard's README.md), so that it stays text in any viewer, also one that renders HTML.

Three shapes, by where the text goes (CommonMark rules; block structure is parsed before inline code spans,
so a newline inside a span could still start a heading: every inline form is made one line):
* `code(s)`  an inline code span whose backtick fence is longer than any backtick run in `s`, so the content
             cannot close it; HTML inside a code span is shown literally.
* `text(s)`  plain text with HTML-escaped `& < >` and a backslash before every Markdown punctuation mark, for
             headings and prose.
* `fence(s)` a fenced block whose fence is longer than any backtick or tilde run in `s`.
`cell()` is `code()` for a table cell: `|` ends a cell even inside a code span (GFM), so it is escaped too.
"""
from __future__ import annotations

import html
import re
from typing import Any

# What can start markup in the middle of a line (text() never starts a line): emphasis, code, links/images
# (`[`), autolinks/HTML (`<`, `&`), table cells (`|`), strikethrough (`~`), a heading's closing `#`, and `$`
# (GitHub renders $...$ as math).
_PUNCT = re.compile(r"([\\`*_\[\]#|~<>&$])")
_NEWLINES = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def one_line(value: Any) -> str:
    return _NEWLINES.sub(" ⏎ ", "" if value is None else str(value))


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(r) for r in runs), default=0)


def code(value: Any) -> str:
    """An inline code span that the content cannot close or break out of."""
    s = one_line(value)
    if not s:
        return "–"
    ticks = "`" * (_longest_run(s, "`") + 1)
    return f"{ticks} {s} {ticks}"  # CommonMark strips one space on each side


def cell(value: Any) -> str:
    """`code()` for a GFM table cell (a `|` would end the cell even inside a code span)."""
    return code(value).replace("|", "\\|")


def text(value: Any) -> str:
    """Plain text: no Markdown or HTML in it takes effect."""
    s = one_line(value)
    escaped = _PUNCT.sub(lambda m: html.escape(m.group(1)) if m.group(1) in "<>&" else "\\" + m.group(1), s)
    return escaped


def fence(value: Any) -> str:
    """A fenced code block that the content cannot close."""
    s = "" if value is None else str(value)
    ticks = "`" * max(3, _longest_run(s, "`") + 1)
    return f"{ticks}text\n{s}\n{ticks}"
