"""Split a completion into reasoning steps with character spans.

A step is a span ``[start, end)`` of the completion. The spans of one completion are contiguous and
cover it exactly (``"".join(text[s.start:s.end] for s in steps) == text``): whitespace between steps
belongs to the step before it (leading whitespace of the completion to the first step), so no step is
ever empty. ``Step.text`` is the span with surrounding whitespace stripped. These spans are the
``step_char_spans`` of the labeled-data contract (DESIGN.md); the trainer maps them to tokens.

Modes
-----
``blank-lines``  a new step starts after every blank line (the convention of ProcessBench, whose step
                 lists are paragraphs), except inside a ```` ``` ```` code fence or an open display-math
                 block (``\\[ .. \\]``, ``$$ .. $$``, ``\\begin{..} .. \\end{..}``) that closes later.
``step-markers`` a new step starts at a line beginning with "Step k" (also ``## Step k``, ``**Step k``).
``numbered``     a new step starts at a line beginning with a list number ("1.", "2)").
``lines``        every non-blank line is a step.
``auto``         blank-lines when the text has at least two paragraphs, else step-markers, else
                 numbered (each when it finds at least two boundaries), else lines.
Text before the first marker (step-markers / numbered) is a step of its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MODES = ("auto", "blank-lines", "step-markers", "numbered", "lines")

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_STEP_MARKER = re.compile(r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*step[ \t]+\d+\b", re.IGNORECASE | re.MULTILINE)
_NUMBERED = re.compile(r"^[ \t]*\d{1,3}[.)][ \t]+\S", re.MULTILINE)
_LINE_START = re.compile(r"\n(?=[^\n]*\S)")
# Openers of blocks inside which a blank line does not end a step.
_BLOCK_OPEN = re.compile(r"```|\\\[|\$\$|\\begin\{([a-zA-Z*]+)\}")


@dataclass(frozen=True)
class Step:
    text: str  # the span, stripped
    start: int
    end: int


def split_steps(text: str, *, mode: str = "auto") -> list[Step]:
    """Split `text` into steps (see the module docstring); an all-blank text gives no steps."""
    if mode not in MODES:
        raise ValueError(f"unknown step-splitting mode {mode!r}; choose one of {', '.join(MODES)}")
    if not text.strip():
        return []
    if mode == "auto":
        mode = _auto_mode(text)
    cuts = _CUTTERS[mode](text)
    return _spans(text, cuts)


def steps_from_list(steps: list[str], sep: str = "\n\n") -> tuple[str, list[Step]]:
    """Join a given step list into one completion and return it with the spans of the given steps."""
    pieces, out, pos = [], [], 0
    for i, step in enumerate(steps):
        piece = step + (sep if i < len(steps) - 1 else "")
        pieces.append(piece)
        out.append(Step(step.strip(), pos, pos + len(piece)))
        pos += len(piece)
    return "".join(pieces), out


def _auto_mode(text: str) -> str:
    if len(_blank_line_cuts(text)) >= 1:
        return "blank-lines"
    if len(_marker_cuts(text, _STEP_MARKER)) >= 2:
        return "step-markers"
    if len(_marker_cuts(text, _NUMBERED)) >= 2:
        return "numbered"
    return "lines"


def _blank_line_cuts(text: str) -> list[int]:
    protected = _protected_ranges(text)
    cuts = []
    for m in _BLANK_LINE.finditer(text):
        if m.end() < len(text) and not any(a < m.start() < b for a, b in protected):
            cuts.append(m.end())
    return cuts


def _protected_ranges(text: str) -> list[tuple[int, int]]:
    """Ranges of code fences / display-math blocks that close; an unclosed opener protects nothing."""
    ranges, pos = [], 0
    while True:
        m = _BLOCK_OPEN.search(text, pos)
        if not m:
            return ranges
        token = m.group(0)
        if token == "```":
            closer = "```"
        elif token == "\\[":
            closer = "\\]"
        elif token == "$$":
            closer = "$$"
        else:
            closer = f"\\end{{{m.group(1)}}}"
        end = text.find(closer, m.end())
        if end < 0:
            pos = m.end()
            continue
        ranges.append((m.start(), end + len(closer)))
        pos = end + len(closer)


def _marker_cuts(text: str, pattern: re.Pattern) -> list[int]:
    return [m.start() for m in pattern.finditer(text) if m.start() > 0]


def _line_cuts(text: str) -> list[int]:
    return [m.end() for m in _LINE_START.finditer(text)]


_CUTTERS = {
    "blank-lines": _blank_line_cuts,
    "step-markers": lambda t: _marker_cuts(t, _STEP_MARKER),
    "numbered": lambda t: _marker_cuts(t, _NUMBERED),
    "lines": _line_cuts,
}


def _spans(text: str, cuts: list[int]) -> list[Step]:
    """Spans between cut points; a whitespace-only span is merged into the step before it."""
    bounds = [0] + sorted(set(c for c in cuts if 0 < c < len(text))) + [len(text)]
    merged: list[list[int]] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        if merged and not text[start:end].strip():
            merged[-1][1] = end
        elif merged and not text[merged[-1][0]:merged[-1][1]].strip():
            merged[-1][1] = end  # a leading blank span joins the first real step
        else:
            merged.append([start, end])
    return [Step(text[a:b].strip(), a, b) for a, b in merged]
