"""Benchmark tasks: declarative YAML specs (`tasks/*.yaml`) turned into uniform problem records.

A task file names its data source (a hub dataset id + split + pinned revision, and a `local_file` used
instead when a data folder is given), maps the dataset's fields onto the problem record of DESIGN.md
(`id`, `problem`, `answer`, `solution`, `meta`), and carries the prompt, generation defaults and the
metrics to report. Adding a benchmark means adding a YAML file; no task brings its own grading.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .jsonl import JsonlRowError, iter_object_rows

DATA_DIR_ENV = "STEPKTO_DATA_DIR"


class TaskError(ValueError):
    """A task file or its data is unusable; the message names the file, row and field."""


@dataclass(frozen=True)
class DataSource:
    path: str  # hub dataset id, or a local file
    split: str = "test"
    revision: str | None = None  # hub commit to pin
    config: str | None = None  # hub dataset config name
    local_file: str | None = None  # file name inside --data-dir


@dataclass(frozen=True)
class FieldMap:
    """Dataset field names for each problem-record field; a list means "the first one present"."""

    id: str | None
    problem: tuple[str, ...]
    answer: tuple[str, ...]
    solution: tuple[str, ...] = ()
    meta: tuple[str, ...] = ()


@dataclass(frozen=True)
class PromptSpec:
    instruction: str
    placement: str = "user"  # "user" | "system"


@dataclass(frozen=True)
class TaskSpec:
    name: str
    version: int
    source: DataSource
    fields: FieldMap
    prompt: PromptSpec
    generation: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ("pass@1", "avg@n", "pass@n", "maj@n")
    breakdown: tuple[str, ...] = ()
    description: str = ""
    file: str | None = None  # the YAML it came from

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Problem:
    """The problem record of DESIGN.md."""

    id: str
    problem: str
    answer: str
    solution: str | None
    meta: dict[str, Any]


@dataclass(frozen=True)
class LoadedTask:
    spec: TaskSpec
    problems: list[Problem]
    source: str  # hub id or file path actually read
    file_sha256: str | None  # for local files
    n_available: int  # rows before --limit


def tasks_dir() -> Path:
    """The folder holding the built-in task YAMLs: a wheel install ships the repo's `tasks/` inside the
    package as `builtin_tasks/` (see pyproject.toml); a source checkout (editable install) reads `tasks/`
    beside the package, so edits to the YAMLs apply without reinstalling. The packaged copy is tried first
    because a site-packages folder may hold some other distribution's top-level `tasks/`."""
    package = Path(__file__).resolve().parent
    shipped = package / "builtin_tasks"
    return shipped if shipped.is_dir() else package.parent / "tasks"


def list_tasks() -> dict[str, Path]:
    """Built-in task names -> YAML paths, sorted by name."""
    return {p.stem: p for p in sorted(tasks_dir().glob("*.yaml"))}


def _names(value: Any, *, what: str, file: str, required: bool) -> tuple[str, ...]:
    if value is None:
        if required:
            raise TaskError(f"{file}: fields.{what} is required")
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TaskError(f"{file}: fields.{what} must be a field name or a list of names, got {value!r}")


# The keys a task file may use, per level. An unknown key is an error (with a "did you mean"), because a
# typo such as `generation.max_token` would otherwise silently fall back to a default.
TOP_KEYS = ("name", "version", "description", "source", "fields", "prompt", "generation", "metrics", "breakdown",
            "processbench")
SECTION_KEYS = {
    "source": ("path", "split", "revision", "config", "local_file"),
    "fields": ("id", "problem", "answer", "solution", "meta"),
    "prompt": ("instruction", "placement"),
    "generation": ("max_tokens",),
    "processbench": ("splits", "local_files", "step_fields"),  # read by stepkto_eval/processbench_scoring.py
}
DEFAULT_METRICS = ("pass@1", "avg@n", "pass@n", "maj@n")


def _check_keys(mapping: dict, allowed: tuple[str, ...], *, file: str, prefix: str) -> None:
    from .option_checks import did_you_mean

    for key in mapping:
        if key not in allowed:
            name = f"{prefix}{key}"
            raise TaskError(f"{file}: unknown key '{name}'{did_you_mean(str(key), allowed)}; "
                            f"{'allowed' if not prefix else prefix.rstrip('.') + ' takes'}: {', '.join(allowed)}")


def _mapping(raw: dict, key: str, *, file: str, required: bool) -> dict:
    value = raw.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise TaskError(f"{file}: '{key}' must be a mapping of keys, got {type(value).__name__} {value!r}")
    _check_keys(value, SECTION_KEYS[key], file=file, prefix=f"{key}.")
    return value


def _str_list(raw: dict, key: str, default: tuple[str, ...], *, file: str) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"{file}: '{key}' must be a list of names, got {value!r}")
    return tuple(value)


def _optional_str(section: dict, key: str, *, file: str, where: str) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, (str, int)) or isinstance(value, bool):
        raise TaskError(f"{file}: '{where}.{key}' must be a string, got {value!r}")
    return None if value is None else str(value)


def parse_task_spec(raw: dict, *, file: str) -> TaskSpec:
    """Validate a parsed task YAML; every error names the file and the key."""
    if not isinstance(raw, dict):
        raise TaskError(f"{file}: a task file must be a mapping")
    _check_keys(raw, TOP_KEYS, file=file, prefix="")
    for key in ("name", "version", "source", "fields", "prompt"):
        if key not in raw:
            raise TaskError(f"{file}: missing required key '{key}'")
    version = raw["version"]
    if isinstance(version, bool) or not isinstance(version, int):  # 1.7 or "abc" must not become 1
        raise TaskError(f"{file}: 'version' must be a whole number, got {version!r}")
    if not isinstance(raw["name"], str) or not raw["name"].strip():
        raise TaskError(f"{file}: 'name' must be a non-empty string, got {raw['name']!r}")
    src = _mapping(raw, "source", file=file, required=True)
    flds = _mapping(raw, "fields", file=file, required=True)
    prm = _mapping(raw, "prompt", file=file, required=True)
    generation = _mapping(raw, "generation", file=file, required=False)
    if "processbench" in raw:
        _mapping(raw, "processbench", file=file, required=False)
    max_tokens = generation.get("max_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        raise TaskError(f"{file}: 'generation.max_tokens' must be a whole number >= 1, got {max_tokens!r}")
    if not src.get("path") and not src.get("local_file"):
        raise TaskError(f"{file}: source needs 'path' (hub id or file) or 'local_file'")
    for key in ("path", "split", "revision", "config", "local_file"):
        _optional_str(src, key, file=file, where="source")
    if not isinstance(prm.get("instruction"), str):
        raise TaskError(f"{file}: prompt.instruction must be a string")
    placement = prm.get("placement", "user")
    if placement not in ("user", "system"):
        raise TaskError(f"{file}: prompt.placement must be 'user' or 'system', got {placement!r}")
    id_field = flds.get("id")
    if id_field is not None and not isinstance(id_field, str):
        raise TaskError(f"{file}: fields.id must be a field name or null (row number)")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise TaskError(f"{file}: 'description' must be a string, got {description!r}")
    return TaskSpec(
        name=raw["name"],
        version=version,
        source=DataSource(
            path=str(src.get("path") or src["local_file"]), split=str(src.get("split", "test")),
            revision=_optional_str(src, "revision", file=file, where="source"),
            config=_optional_str(src, "config", file=file, where="source"),
            local_file=_optional_str(src, "local_file", file=file, where="source"),
        ),
        fields=FieldMap(
            id=id_field,
            problem=_names(flds.get("problem"), what="problem", file=file, required=True),
            answer=_names(flds.get("answer"), what="answer", file=file, required=True),
            solution=_names(flds.get("solution"), what="solution", file=file, required=False),
            meta=_names(flds.get("meta"), what="meta", file=file, required=False),
        ),
        prompt=PromptSpec(instruction=prm["instruction"].strip(), placement=placement),
        generation=dict(generation),
        metrics=_str_list(raw, "metrics", DEFAULT_METRICS, file=file) or DEFAULT_METRICS,
        breakdown=_str_list(raw, "breakdown", (), file=file),
        description=description,
        file=file,
    )


def load_task_spec(name_or_path: str) -> TaskSpec:
    """A built-in task by name (`math500`) or a user's YAML file by path."""
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        known = list_tasks()
        if name_or_path not in known:
            raise TaskError(f"unknown task {name_or_path!r}: built-in tasks are {', '.join(known)}; "
                            "or pass the path of a task YAML file")
        path = known[name_or_path]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaskError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise TaskError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    return parse_task_spec(raw, file=str(path))


def _first(row: dict, names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        if name in row and row[name] is not None:
            return name, row[name]
    return None, None


def _as_text(value: Any) -> str:
    # AMC23 stores gold answers as floats (27.0): keep the dataset's own spelling, the checker reads it.
    return value if isinstance(value, str) else str(value)


def to_problem(row: dict, index: int, spec: TaskSpec, *, where: str, line: int | None = None) -> Problem:
    """Map one dataset row to a Problem; a missing or empty field is an error naming file, row and field.

    `index` is the 0-based row (the id of a task without an id field); messages count from 1, as line
    numbers do (`line` is the row's line in a JSONL file when known)."""
    position = f"line {line}" if line is not None else f"row {index + 1}"

    def fail(fld: str, why: str) -> TaskError:
        return TaskError(f"{where}: {position}: field '{fld}' {why} (task {spec.name})")

    fm = spec.fields
    if fm.id is None:
        pid = str(index)
    elif row.get(fm.id) in (None, ""):
        raise fail(fm.id, "is missing or empty")
    else:
        pid = _as_text(row[fm.id])
    values = {}
    for what, names in (("problem", fm.problem), ("answer", fm.answer)):
        found, value = _first(row, names)
        if found is None:
            raise fail("|".join(names), "is missing")
        if isinstance(value, (dict, list)) or _as_text(value).strip() == "":
            raise fail(found, f"must be a non-empty string or number, got {value!r}")
        values[what] = _as_text(value)
    _, solution = _first(row, fm.solution)
    meta = {name: row[name] for name in fm.meta if name in row}
    return Problem(id=pid, problem=values["problem"], answer=values["answer"],
                   solution=None if solution is None else _as_text(solution), meta=meta)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """--data-dir wins over $STEPKTO_DATA_DIR; None means "load from the hub"."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    return None if chosen is None else Path(chosen)


def _local_path(spec: TaskSpec, data_dir: Path | None) -> Path | None:
    if data_dir is not None:
        if data_dir.is_file():
            return data_dir
        name = spec.source.local_file or Path(spec.source.path).name
        path = data_dir / name
        if not path.is_file():
            raise TaskError(f"task {spec.name}: data file {path} not found (source.local_file in {spec.file})")
        return path
    candidate = Path(spec.source.path)
    if candidate.suffix in (".json", ".jsonl", ".parquet", ".csv") or candidate.is_file():
        if spec.file and not candidate.is_absolute():  # relative to the task YAML
            candidate = Path(spec.file).parent / candidate
        if not candidate.is_file():
            raise TaskError(f"task {spec.name}: data file {candidate} not found (source.path in {spec.file})")
        return candidate
    return None


def read_jsonl_rows(path: Path) -> tuple[list[dict], list[int]]:
    """The rows of a JSONL file and their 1-based line numbers; a bad byte, line or row is a TaskError naming
    the file, the line and the reason. Read here rather than by `datasets` so that messages can say where."""
    rows, lines = [], []
    try:
        for number, row in iter_object_rows(path):
            rows.append(row)
            lines.append(number)
    except JsonlRowError as exc:
        raise TaskError(str(exc)) from None
    if not rows:
        raise TaskError(f"{path}: the file is empty (no rows)")
    return rows, lines


def _read_rows(spec: TaskSpec, local: Path | None):
    import datasets

    if local is not None and local.stat().st_size == 0:
        raise TaskError(f"{local}: the file is empty (no rows)")
    if local is not None:
        kind = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}.get(local.suffix, "json")
        try:
            return datasets.load_dataset(kind, data_files=str(local), split="train")
        except Exception as exc:  # datasets wraps JSON errors in several types
            raise TaskError(f"{local}: could not be read as {kind}: {exc}") from exc
    return datasets.load_dataset(spec.source.path, spec.source.config, split=spec.source.split,
                                 revision=spec.source.revision)


def load_task(spec: TaskSpec, *, data_dir: str | os.PathLike | None = None, limit: int | None = None) -> LoadedTask:
    """Load a task's problems (the first `limit` rows when given), validating every row used."""
    local = _local_path(spec, resolve_data_dir(data_dir))
    line_numbers: list[int] | None = None
    if local is not None and local.suffix == ".jsonl":
        rows, line_numbers = read_jsonl_rows(local)
    else:
        rows = _read_rows(spec, local)
    where = str(local) if local is not None else f"{spec.source.path}[{spec.source.split}]"
    n_available = len(rows)
    count = n_available if limit is None else min(limit, n_available)
    problems = [to_problem(rows[i], i, spec, where=where, line=line_numbers[i] if line_numbers else None)
                for i in range(count)]
    seen: dict[str, int] = {}
    for i, p in enumerate(problems):
        position = f"line {line_numbers[i]}" if line_numbers else f"row {i + 1}"
        if p.id in seen:
            first = f"line {line_numbers[seen[p.id]]}" if line_numbers else f"row {seen[p.id] + 1}"
            raise TaskError(f"{where}: {position}: field '{spec.fields.id}' duplicates {first} (id {p.id!r})")
        seen[p.id] = i
    return LoadedTask(spec=spec, problems=problems, source=where,
                      file_sha256=file_sha256(local) if local is not None else None, n_available=n_available)
