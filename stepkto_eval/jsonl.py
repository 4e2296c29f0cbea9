"""Reading JSONL files whose lines may be bad (user files, files written by a killed process).

One reader, so that every command reports a bad line the same way ("FILE: line N: ...") and decides for
itself whether a bad line is skipped (replays, reports) or stops the command (inputs to be scored).
"""
from __future__ import annotations

import json
import os
from typing import Iterator, Sequence


def iter_jsonl(path: str | os.PathLike, required: Sequence[str] = ()) -> Iterator[tuple[int, dict | None, str | None]]:
    """(1-based line number, object, None) for each good line and (line number, None, problem) for a bad one.

    Blank lines are skipped. A line is bad when it is not JSON, not a JSON object, or lacks a `required` field.
    """
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"{path}: line {number}: not valid JSON ({exc.msg})"
                continue
            if not isinstance(row, dict):
                yield number, None, f"{path}: line {number}: not a JSON object"
                continue
            missing = [field for field in required if field not in row]
            if missing:
                yield number, None, f"{path}: line {number}: missing field(s) {', '.join(missing)}"
                continue
            yield number, row, None
