"""Reading JSONL files whose lines may be bad (user files, files written by a killed process), and writing
JSON files that a kill or a concurrent reader never sees half-written.

One reader, so that every command reports a bad line the same way ("FILE: line N: ...") and decides for
itself whether a bad line is skipped (replays, reports) or stops the command (inputs to be scored).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterator, Sequence

# A surrogate escape in JSON text; when one is unpaired, json.loads returns a str that cannot be encoded as UTF-8
# (writing it to a page or a file raises UnicodeEncodeError far from where it was read).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def without_lone_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with every unpaired surrogate in its strings replaced by U+FFFD; pairs json.loads
    already joined into one character are kept."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, list):
        return [without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    return value


def loads_text(text: str) -> Any:
    """json.loads, with lone surrogates replaced (cleaning only texts that hold a surrogate escape)."""
    value = json.loads(text)
    return without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def iter_jsonl(path: str | os.PathLike, required: Sequence[str] = ()) -> Iterator[tuple[int, dict | None, str | None]]:
    """(1-based line number, object, None) for each good line and (line number, None, problem) for a bad one.

    Blank lines are skipped. A line is bad when it is not UTF-8, not JSON, not a JSON object, or lacks a `required`
    field. Lone surrogates in strings become U+FFFD.
    """
    with open(path, "rb") as fh:  # binary: a line that is not UTF-8 is one bad line, not a crash of the reader
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"{path}: line {number}: not UTF-8 (byte {exc.start + 1} of the line: {exc.reason})"
                continue
            if not line.strip():
                continue
            try:
                row = loads_text(line)
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


class JsonlRowError(ValueError):
    """A line of a strict JSONL input that cannot be used; the message names the file, the line and why."""


def iter_object_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """(1-based line number, object) for each non-blank line of an input file that must be whole: the first bad
    byte, line or row raises JsonlRowError naming the file and the line (the reader is binary so that a bad
    byte costs a clear message, not a UnicodeDecodeError traceback)."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            where = f"{path}: line {number}"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise JsonlRowError(f"{where}: not UTF-8 (byte {exc.start + 1} of the line: {exc.reason})") from None
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                raise JsonlRowError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(row, dict):
                raise JsonlRowError(f"{where}: a row must be a JSON object, got {type(row).__name__}")
            yield number, row


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write `data` as JSON through a temp file and `os.replace`: a process killed mid-write leaves the previous
    file, and a reader (another rank, another job sharing the folder) sees the old or the new content, never
    half of it. The temp name carries the pid so that concurrent writers do not share one."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        discard_temp(tmp)  # a full disk or a failed dump leaves no temp file behind
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` through a temp file and `os.replace`: a viewer never sees half a page, and a failed write
    (a full disk) leaves neither half a file nor the temp file behind."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        discard_temp(tmp)
        raise


def discard_temp(tmp: Path) -> None:
    """Remove a temp file if it exists; a read-only folder (where it was never created) is fine too."""
    try:
        tmp.unlink()
    except OSError:
        pass
