"""Labeled data for Step-KTO: sample n completions per training problem, grade, audit, export.

`stepkto-eval label` is an evaluation run (same run folder, manifest, seeds, resume rules as runs.py /
eval_run.py: finished (source, id, sample_index) keys are skipped on a rerun, errored ones retried) whose
samples are always audited by a judge, followed by an export step that turns the run folder's samples into
the labeled-dataset contract of DESIGN.md:

    DIR/labeled.jsonl and/or DIR/labeled.parquet — one row per distinct completion, exactly the fields
        prompt, completion, steps, step_char_spans, step_labels, first_error, outcome_label, gold_answer,
        pred_answer, problem_id, round, generator, judge, finish_reason
    DIR/summary.json — counts (outcomes, steps, verdicts, correct-but-flawed share, duplicates, bad rows)

The export is recomputed from samples.jsonl on every run, so an interrupted and resumed run exports the
same rows as an uninterrupted one. Identical completion texts of one problem are exported once (the lowest
sample_index). Failed generations are not exported (a rerun retries them). `judge.evidence` is a JSON string:
its shape differs between judges, and a fixed column type keeps JSONL and Parquet loadable by `datasets`.

Problems come from a task (`math500`, a task YAML) or a problems file (JSONL/JSON rows with a problem and
an answer; `unique_id` or `id`, `solution`, `subject`, `level` are used when present). A bad row is reported
with file, row and field and skipped; the run continues with the others. Problems files are prompted with
the instruction of the `math500` task.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .eval_run import (
    EvalConfig,
    build_manifest,
    generate_then_judge,
    pending_work,
    resolved_backend,
)
from .folder_guard import check_folder, hold_folder
from .option_checks import check_backend_inputs
from .runs import RunFolder
from .tasks import (
    DataSource,
    FieldMap,
    LoadedTask,
    Problem,
    TaskError,
    TaskSpec,
    file_sha256,
    load_task,
    load_task_spec,
    to_problem,
)

LABELED_FIELDS = ("prompt", "completion", "steps", "step_char_spans", "step_labels", "first_error",
                  "outcome_label", "gold_answer", "pred_answer", "problem_id", "round", "generator", "judge",
                  "finish_reason")
FORMATS = ("jsonl", "parquet", "both")
PROMPT_TASK = "math500"  # whose instruction prompts a problems file


@dataclass
class LabelConfig:
    model: str
    problems: str  # task name, task YAML, or a problems file (.jsonl / .json)
    judge: str  # judge spec (audit/registry.py)
    output_dir: Path
    backend: str = "auto"
    base_url: str | None = None
    api_key: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    n: int = 4
    temperature: float = 0.8
    top_p: float = 1.0
    max_tokens: int | None = None
    limit: int | None = None
    seed: int = 0
    data_dir: str | None = None
    batch_size: int = 16
    round: int | None = None
    format: str = "jsonl"
    command: list[str] = field(default_factory=lambda: list(sys.argv))

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        self.output_dir = Path(self.output_dir)

    def eval_config(self, task_name: str) -> EvalConfig:
        """The same settings seen by the eval pipeline (its manifest, seeds and requests)."""
        return EvalConfig(model=self.model, tasks=[task_name], backend=self.backend, base_url=self.base_url,
                          api_key=self.api_key, backend_options=self.backend_options, n=self.n,
                          temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                          limit=self.limit, seed=self.seed, output_dir=self.output_dir, data_dir=self.data_dir,
                          batch_size=self.batch_size, audit=self.judge, round=self.round, command=self.command)


@dataclass
class LabelOutcome:
    folder: RunFolder
    summary: dict
    n_generated: int
    n_skipped: int
    bad_rows: list[str]
    files: list[Path]


# ---------------------------------------------------------------- problems
def _is_problems_file(source: str) -> bool:
    return Path(source).suffix in (".jsonl", ".json") and Path(source).is_file()


def _file_task_spec(path: Path, first_row: dict) -> TaskSpec:
    id_field = next((f for f in ("unique_id", "id") if f in first_row), None)
    return TaskSpec(
        name=path.stem, version=1, source=DataSource(path=str(path), split="train"),
        fields=FieldMap(id=id_field, problem=("problem", "question"), answer=("answer",),
                        solution=("solution",), meta=("subject", "level")),
        prompt=load_task_spec(PROMPT_TASK).prompt, file=None,
    )


def _read_json_rows(path: Path) -> list[tuple[int, str, dict | None, str | None]]:
    """(row index, position for messages, row, error) for every row of a JSONL file or a JSON list.

    Positions count from 1: `line N` of a JSONL file (blank lines counted, as an editor shows them), `row N`
    of a JSON list. A byte that is not UTF-8 costs its row only."""
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TaskError(f"{path}: not a readable JSON file ({exc})") from None
        if not isinstance(data, list):
            raise TaskError(f"{path}: a .json problems file must hold a list of rows")
        return [(i, f"row {i + 1}", r, None) if isinstance(r, dict) else (i, f"row {i + 1}", None, "is not an object")
                for i, r in enumerate(data)]
    rows: list[tuple[int, str, dict | None, str | None]] = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            where = f"line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                rows.append((len(rows), where, None, f"is not UTF-8 ({exc.reason} at byte {exc.start + 1})"))
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append((len(rows), where, row, None) if isinstance(row, dict)
                            else (len(rows), where, None, "is not a JSON object"))
            except json.JSONDecodeError as exc:
                rows.append((len(rows), where, None, f"is not valid JSON ({exc.msg})"))
    if not rows:
        raise TaskError(f"{path}: the file is empty (no rows)")
    return rows


def _line_of(where: str) -> int | None:
    kind, _, number = where.partition(" ")
    return int(number) if kind == "line" else None


def load_problems(source: str, *, data_dir: str | None = None, limit: int | None = None
                  ) -> tuple[LoadedTask, list[str]]:
    """The problems to label and the messages of the rows that were skipped (file, row, field)."""
    if not _is_problems_file(source):
        return load_task(load_task_spec(source), data_dir=data_dir, limit=limit), []
    path = Path(source).resolve()
    rows = _read_json_rows(path)
    if limit is not None:
        rows = rows[:limit]
    good = [r for _, _, r, _ in rows if r is not None]
    spec = _file_task_spec(path, good[0] if good else {})
    problems: list[Problem] = []
    errors: list[str] = []
    seen: set[str] = set()
    for i, where, row, error in rows:
        if error is not None:
            errors.append(f"{path}: {where}: {error}")
            continue
        try:
            problem = to_problem(row, i, spec, where=str(path), line=_line_of(where))
        except TaskError as exc:
            errors.append(str(exc))
            continue
        if problem.id in seen:
            errors.append(f"{path}: {where}: field '{spec.fields.id}' duplicates id {problem.id!r}")
            continue
        seen.add(problem.id)
        problems.append(problem)
    loaded = LoadedTask(spec=spec, problems=problems, source=str(path), file_sha256=file_sha256(path),
                        n_available=len(rows))
    return loaded, errors


# ---------------------------------------------------------------- generation + audit
def run_labeling(config: LabelConfig, *, backend=None, judge=None,
                 on_progress: Callable[[int, int], None] | None = None) -> LabelOutcome:
    """Run (or resume) a labeling run into config.output_dir and export the labeled dataset."""
    from .audit.registry import make_judge, parse_spec
    from .grading import CHECKER_VERSION

    if judge is None:
        parse_spec(config.judge)  # a bad spec fails here, before any folder or model exists
    task, bad_rows = load_problems(config.problems, data_dir=config.data_dir, limit=config.limit)
    eval_config = config.eval_config(task.spec.name)
    folder = RunFolder(config.output_dir)
    backend_name = backend.name if backend is not None else resolved_backend(eval_config)
    if backend is None:
        check_backend_inputs(backend_name, config.model, config.backend_options)  # before anything is written
    manifest = build_manifest(eval_config, [task], CHECKER_VERSION, backend_name)
    manifest["labeling"] = {"problems": config.problems, "format": config.format}
    check_folder(folder.path, "label")
    with hold_folder(folder.path, " ".join(config.command)):
        check_folder(folder.path, "label")
        folder.prepare(manifest)
        work, skipped = pending_work([task], config.n, folder.finished_keys())
        if work:
            # generate all, close the generator, then judge (evaluate.generate_then_judge): the two engines
            # own the accelerator in turn; a given `judge` is used as is and left open
            generate_then_judge(work, eval_config, backend, backend_name, folder, lambda: make_judge(config.judge),
                                on_progress, judge=judge)
        folder.commit()
        rows, stats = export_rows(folder, task, config)
        files = write_labeled(rows, config.output_dir, config.format)
        summary = summarize(rows, stats, bad_rows, config)
        folder.write_text("summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return LabelOutcome(folder, summary, len(work), skipped, bad_rows, files)


# ---------------------------------------------------------------- export
def labeled_row(record: dict, problem: Problem, generator: dict, round_: int | None) -> dict:
    """One row of the labeled-dataset contract from an audited sample record."""
    judge = record.get("judge") or {}
    return {
        "prompt": record["prompt"],
        "completion": record["completion"],
        "steps": record.get("steps") or [],
        "step_char_spans": record.get("step_char_spans") or [],
        "step_labels": record.get("step_labels") or [],
        "first_error": record.get("first_error"),
        "outcome_label": int(bool(record["correct"])),
        "gold_answer": problem.answer,
        "pred_answer": record.get("extracted"),
        "problem_id": problem.id,
        "round": round_,
        "generator": generator,
        "judge": {"name": judge.get("name"), "kind": judge.get("kind"),
                  "evidence": json.dumps(judge.get("evidence"), ensure_ascii=False, default=str)},
        # "length" = cut by max_tokens: the trainer must not append EOS (the model did not end there)
        "finish_reason": record.get("finish_reason"),
    }


def export_rows(folder: RunFolder, task: LoadedTask, config: LabelConfig) -> tuple[list[dict], dict]:
    """Labeled rows in problem order then sample order, duplicates per problem dropped."""
    latest = folder.latest_samples()
    recorded = (folder.read_manifest() or {}).get("backend_settings") or {}  # the engine used ("auto" resolved)
    generator = {"model": config.model, "backend": recorded.get("name", config.backend),
                 "sampling": {"n": config.n, "temperature": config.temperature, "top_p": config.top_p,
                              "max_tokens": config.max_tokens, "seed": config.seed}}
    rows, stats = [], {"duplicates": 0, "generation_errors": 0, "truncated": 0, "missing": 0}
    for problem in task.problems:
        seen: set[str] = set()
        for index in range(config.n):
            record = latest.get((task.spec.name, problem.id, index))
            if record is None:
                stats["missing"] += 1
                continue
            if record.get("finish_reason") == "error" or record.get("completion") is None:
                stats["generation_errors"] += 1
                continue
            if record["completion"] in seen:
                stats["duplicates"] += 1
                continue
            seen.add(record["completion"])
            stats["truncated"] += record.get("finish_reason") == "length"
            rows.append(labeled_row(record, problem, generator, config.round))
    return rows, stats


def write_labeled(rows: list[dict], out_dir: Path, fmt: str) -> list[Path]:
    files = []
    if fmt in ("jsonl", "both"):
        path = out_dir / "labeled.jsonl"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)
        files.append(path)
    if fmt in ("parquet", "both"):
        import datasets

        path = out_dir / "labeled.parquet"
        tmp = path.with_name(path.name + ".tmp")
        datasets.Dataset.from_list(rows).to_parquet(str(tmp))
        tmp.replace(path)
        files.append(path)
    return files


def _steps_counts(rows: Iterable[dict]) -> dict[str, int]:
    labels = [lab for r in rows for lab in r["step_labels"]]
    return {"right": labels.count(1), "wrong": labels.count(0), "unjudged": labels.count(None)}


def summarize(rows: list[dict], stats: dict, bad_rows: list[str], config: LabelConfig) -> dict:
    """Counts of the export. correct_but_flawed.share = flawed / judged among desirable rows, where judged
    means first_error is not None and flawed means first_error >= 0 (the flawed-step rate)."""
    desirable = [r for r in rows if r["outcome_label"] == 1]
    judged = [r for r in desirable if r["first_error"] is not None]
    flawed = sum(1 for r in judged if r["first_error"] >= 0)
    return {
        "judge": config.judge, "model": config.model, "problems": config.problems, "round": config.round,
        "n_rows": len(rows), "n_problems_with_rows": len({r["problem_id"] for r in rows}),
        "outcomes": {"desirable": len(desirable), "undesirable": len(rows) - len(desirable)},
        "steps": _steps_counts(rows),
        "verdicts": {"no_error": sum(r["first_error"] == -1 for r in rows),
                     "flagged": sum(r["first_error"] is not None and r["first_error"] >= 0 for r in rows),
                     "no_verdict": sum(r["first_error"] is None for r in rows)},
        "correct_but_flawed": {"count": flawed, "judged_correct": len(judged),
                               "share": flawed / len(judged) if judged else None,
                               "correct_no_verdict": len(desirable) - len(judged)},
        "dedup": {"duplicates_dropped": stats["duplicates"]},
        "generation_errors": stats["generation_errors"], "truncated": stats["truncated"],
        "missing_samples": stats["missing"],
        "bad_rows": {"count": len(bad_rows), "errors": bad_rows},
    }
