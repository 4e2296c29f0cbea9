"""The evaluation run: tasks -> requests -> backend -> extract/grade (-> audit) -> samples -> metrics -> report.

Every sample has its own seed derived from (seed, task, id, sample_index), so a resumed sampled run
regenerates exactly the samples it lacks, with the same randomness as an uninterrupted run would have used.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .backends.base import Backend, Completion, GenerationRequest, SamplingSettings
from .backends.fingerprint import local_fingerprint
from .folder_guard import check_folder, hold_folder
from .metrics import overall_metrics, resolve_metric_names, task_metrics
from .option_checks import check_backend_inputs, check_sampling_values
from .prompts import build_messages, build_plain_prompt, prompt_hash
from .reports import markdown_report as report
from .runs import RunFolder, hardware, package_versions, utc_now
from .scoring import grade_completion
from .tasks import LoadedTask, Problem, TaskError, TaskSpec, load_task, load_task_spec

DEFAULT_MAX_TOKENS = 4096
# Requests handed to the backend at once (and written together). vLLM batches continuously inside one call,
# so it gets many; a server backend needs enough to keep its concurrent connections busy.
DEFAULT_BATCH_SIZE = {"hf": 16, "vllm": 512, "openai": 64}


@dataclass
class EvalConfig:
    model: str
    tasks: Sequence[str]
    backend: str = "auto"
    base_url: str | None = None
    api_key: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int | None = None  # None: each task's generation.max_tokens (default 4096)
    limit: int | None = None
    seed: int = 0
    output_dir: Path | None = None
    data_dir: str | None = None
    batch_size: int | None = None  # requests per backend call and per durable write; None: per backend
    audit: str | None = None
    round: int | None = None
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    report_to: Sequence[str] | str | None = ()  # trackers for the finished metrics (tracking.py); none by default

    def __post_init__(self) -> None:
        check_sampling_values(n=self.n, temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                              limit=self.limit, batch_size=self.batch_size)
        if self.n > 1 and self.temperature == 0:
            raise ValueError("--n > 1 with temperature 0 would repeat one greedy completion; set --temperature")
        from .tracking import parse_report_to

        self.report_to = parse_report_to(self.report_to)  # an unknown or uninstalled tracker fails here
        if self.output_dir is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            self.output_dir = Path("runs") / f"{Path(self.model.rstrip('/')).name}-{stamp}"


@dataclass
class EvalOutcome:
    folder: RunFolder
    metrics: dict
    n_generated: int  # samples produced by this invocation
    n_skipped: int  # samples already finished in the folder
    n_errors: int  # samples whose newest record is a generation error
    resumed: bool
    tracking: list[dict] = field(default_factory=list)  # one note per --report-to tracker (tracking.py)


def sample_seed(seed: int, task: str, pid: str, index: int) -> int:
    """A 31-bit seed that depends only on the sample's identity, not on batching or run order."""
    digest = hashlib.sha256(f"{seed}|{task}|{pid}|{index}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def task_max_tokens(config: EvalConfig, task: LoadedTask) -> int:
    return int(config.max_tokens or task.spec.generation.get("max_tokens") or DEFAULT_MAX_TOKENS)


def resolved_backend(config: EvalConfig) -> str:
    """The concrete engine: `auto` is resolved here, so the manifest never hides which engine ran."""
    if config.backend != "auto":
        return config.backend
    from .backends import resolve_auto

    return resolve_auto(config.model, config.base_url)[0]


def build_manifest(config: EvalConfig, tasks: Sequence[LoadedTask], checker_version: str,
                   backend_name: str) -> dict:
    """Everything the run folder records; HASHED_KEYS in runs.py decide resumability."""
    is_server = backend_name == "openai"
    return {
        "stepkto_version": package_versions().get("stepkto"), "created": utc_now(), "command": config.command,
        "versions": package_versions(),
        "model": {"name_or_path": config.model, "revision": None,
                  "hash": None if is_server else local_fingerprint(config.model)},
        # outside HASHED_KEYS: a resumed run may use another fleet of servers for the same model
        "servers": [u.strip() for u in (config.base_url or "").split(",") if u.strip()] if is_server else None,
        "backend_settings": {"name": backend_name, "options": config.backend_options},
        "tasks": {t.spec.name: {"version": t.spec.version, "file": t.spec.file, "source": t.source,
                                "split": t.spec.source.split, "revision": t.spec.source.revision,
                                "file_sha256": t.file_sha256, "prompt_hash": prompt_hash(t.spec.prompt),
                                "n_problems": len(t.problems), "limit": config.limit,
                                "max_tokens": task_max_tokens(config, t)} for t in tasks},
        "sampling": {"n": config.n, "temperature": config.temperature, "top_p": config.top_p,
                     "max_tokens": config.max_tokens, "seed": config.seed},
        "checker_version": checker_version,
        "audit": {"judge": config.audit} if config.audit else None,
        "round": config.round, "hardware": hardware(),
    }


@dataclass(frozen=True)
class WorkItem:
    task: LoadedTask
    problem: Problem
    index: int


def pending_work(tasks: Sequence[LoadedTask], n: int, finished: set) -> tuple[list[WorkItem], int]:
    items, skipped = [], 0
    for t in tasks:
        for p in t.problems:
            for i in range(n):
                if (t.spec.name, p.id, i) in finished:
                    skipped += 1
                else:
                    items.append(WorkItem(t, p, i))
    return items, skipped


def make_request(item: WorkItem, config: EvalConfig, uses_chat: bool) -> GenerationRequest:
    spec = item.task.spec
    sampling = SamplingSettings(temperature=config.temperature, top_p=config.top_p,
                                max_tokens=task_max_tokens(config, item.task))
    common = dict(key=f"{spec.name}|{item.problem.id}|{item.index}", sampling=sampling,
                  seed=sample_seed(config.seed, spec.name, item.problem.id, item.index))
    if uses_chat:
        return GenerationRequest(messages=build_messages(spec.prompt, item.problem), **common)
    return GenerationRequest(prompt=build_plain_prompt(spec.prompt, item.problem), **common)


def make_record(item: WorkItem, request: GenerationRequest, completion: Completion) -> dict:
    """The sample record of docs/run-folder.md for one finished (or failed) generation."""
    p = item.problem
    failed = completion.finish_reason == "error" or completion.text is None
    graded = grade_completion(p.answer, None if failed else completion.text, p.problem)
    return {
        "task": item.task.spec.name, "id": p.id, "sample_index": item.index,
        "prompt": list(request.messages) if request.messages is not None else request.prompt,
        "prompt_text": completion.prompt_text, "completion": completion.text,
        "finish_reason": "error" if failed else completion.finish_reason, **graded,
        "tokens": {"prompt": completion.prompt_tokens, "completion": completion.completion_tokens},
        "gold": p.answer, "meta": p.meta, "seed": request.seed,
        "error": (completion.error or "backend returned no text") if failed else None,
        **({"server": completion.server} if completion.server else {}),  # openai: which server answered
    }


def audit_records(records: list[dict], problems: Sequence[Problem], judge: Any) -> None:
    """Split each completion into steps and ask the judge for step labels, in one batch (in place)."""
    from .audit.base import JudgeInput
    from .audit.steps import split_steps

    todo = [(r, p) for r, p in zip(records, problems, strict=True) if r["completion"] is not None]
    items, failure = [], "judge returned no verdict"
    for r, p in todo:
        steps = split_steps(r["completion"])
        r["steps"] = [s.text for s in steps]
        r["step_char_spans"] = [[s.start, s.end] for s in steps]
        items.append(JudgeInput(problem=p.problem, steps=tuple(r["steps"]), reference_solution=p.solution,
                                gold_answer=p.answer))
    try:
        judgements = list(judge.judge(items))
        if len(judgements) != len(items):
            raise RuntimeError(f"judge returned {len(judgements)} verdicts for {len(items)} completions")
    except Exception as exc:  # a judge crash costs this batch its verdicts, not the run
        judgements = [None] * len(items)
        failure = f"{type(exc).__name__}: {exc}"
    for (r, _), j in zip(todo, judgements, strict=True):
        if j is None:
            r.update(step_labels=[None] * len(r["steps"]), first_error=None,
                     judge={"name": getattr(judge, "name", "?"), "kind": getattr(judge, "kind", "?"),
                            "evidence": {"error": failure}})
        else:
            r.update(step_labels=j.step_labels, first_error=j.first_error,
                     judge={"name": j.judge, "kind": getattr(judge, "kind", None), "evidence": j.evidence})


def compute_metrics(config: EvalConfig, tasks: Sequence[LoadedTask], folder: RunFolder, manifest: dict) -> dict:
    latest = list(folder.latest_samples().values())
    entries, tables = {}, []
    for t in tasks:
        samples = [s for s in latest if s["task"] == t.spec.name]
        entry, table = task_metrics(samples, [p.id for p in t.problems], n=config.n, metric_names=t.spec.metrics,
                                    greedy=config.temperature == 0, breakdown=t.spec.breakdown, task=t.spec.name)
        entries[t.spec.name] = entry
        tables.append(table)
    return {"settings_hash": manifest.get("settings_hash"), "model": config.model, "round": config.round,
            "tasks": entries, "overall": overall_metrics(tables)}


def open_backend(config: EvalConfig, name: str) -> Backend:
    from .backends import make_backend

    return make_backend(name, config.model, base_url=config.base_url, api_key=config.api_key,
                        **config.backend_options)


@contextlib.contextmanager
def backend_for(config: EvalConfig, backend: Backend | None, name: str, folder: RunFolder) -> Iterator[Backend]:
    """The backend to generate with: the caller's, or one opened here and closed afterwards.

    Its description goes into the manifest once, by the first run that generates into the folder.
    """
    own = backend is None
    active = open_backend(config, name) if own else backend
    try:
        if "backend" not in (folder.read_manifest() or {}):
            folder.update_manifest(backend=active.describe())
        yield active
    finally:
        if own:
            active.close()


def run_evaluation(config: EvalConfig, *, backend: Backend | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> EvalOutcome:
    """Run (or resume) an evaluation into config.output_dir and return its metrics.

    Raises RunSettingsChanged before loading any model when the folder holds other settings.
    `on_progress(done, total)` is called after each durable batch.
    """
    from .grading import CHECKER_VERSION

    specs = [load_task_spec(name) for name in config.tasks]
    for spec in specs:
        check_generation_task(spec, config.n)
    tasks = [load_task(spec, data_dir=config.data_dir, limit=config.limit) for spec in specs]
    folder = RunFolder(config.output_dir)
    backend_name = backend.name if backend is not None else resolved_backend(config)
    if backend is None:
        check_backend_inputs(backend_name, config.model, config.backend_options)  # before anything is written
        from .backends import check_backend_options

        # the values each options dataclass checks itself (openai's, hf device_map/attn_implementation)
        check_backend_options(backend_name, config.backend_options, model=config.model, base_url=config.base_url)
    if config.audit:
        from .audit.registry import parse_spec

        parse_spec(config.audit)  # a bad judge spec fails before any model loads
    check_folder(folder.path, "eval")
    with hold_folder(folder.path, " ".join(config.command)):
        check_folder(folder.path, "eval")  # again under the lock: the folder may have changed meanwhile
        resumed = folder.prepare(build_manifest(config, tasks, CHECKER_VERSION, backend_name))
        work, skipped = pending_work(tasks, config.n, folder.finished_keys())
        if work and config.audit:
            # generate all, close the generator, then judge: the engines own the accelerator in turn
            generate_then_judge(work, config, backend, backend_name, folder, lambda: _make_judge(config.audit),
                                on_progress)
        elif work:
            with backend_for(config, backend, backend_name, folder) as active:
                folder.commit()  # the manifest is written only once the backend is up
                _generate(work, config, active, folder, None, on_progress)
        folder.commit()
        manifest = folder.read_manifest() or {}
        metrics = compute_metrics(config, tasks, folder, manifest)
        folder.write_metrics(metrics)
        latest = folder.latest_samples()
        report.write_reports(folder, metrics, latest.values(), manifest)
        # only now, with metrics.json and the report on disk: a tracker failure cannot lose the evaluation
        from .tracking import log_to_trackers

        tracking = log_to_trackers(folder, config.report_to, metrics, manifest)
    n_errors = sum(1 for r in latest.values() if r.get("finish_reason") == "error")
    return EvalOutcome(folder, metrics, len(work), skipped, n_errors, resumed, tracking)



def check_generation_task(spec: TaskSpec, n: int) -> None:
    """Refuse, before any model loads, a task whose metrics are not generation metrics (e.g. ProcessBench)."""
    try:
        resolve_metric_names(spec.metrics, n)
    except ValueError as exc:
        raise TaskError(f"task {spec.name} ({spec.file}) is not a generation benchmark that `stepkto-eval` "
                        f"can score: {exc}; see the comments in its YAML") from exc


def _make_judge(spec: str | None):
    if not spec:
        return None
    from .audit.registry import make_judge

    return make_judge(spec)


def _generated_batches(work: Sequence[WorkItem], config: EvalConfig,
                       backend: Backend) -> Iterator[tuple[Sequence[WorkItem], list[dict]]]:
    """Generate `work` in batches of --batch-size: yields (the batch, one sample record per item)."""
    size = config.batch_size or DEFAULT_BATCH_SIZE.get(backend.name, 16)
    for start in range(0, len(work), size):
        batch = work[start:start + size]
        requests = [make_request(item, config, backend.uses_chat) for item in batch]
        completions = backend.generate(requests)
        if len(completions) != len(requests):
            raise RuntimeError(f"backend {backend.name} returned {len(completions)} completions "
                               f"for {len(requests)} requests")
        yield batch, [make_record(item, req, comp) for item, req, comp in zip(batch, requests, completions, strict=True)]


def _generate(work: list[WorkItem], config: EvalConfig, backend: Backend, folder: RunFolder, judge: Any,
              on_progress: Callable[[int, int], None] | None) -> None:
    done = 0
    if on_progress is not None:
        on_progress(0, len(work))
    for batch, records in _generated_batches(work, config, backend):
        if judge is not None:
            audit_records(records, [item.problem for item in batch], judge)
        folder.append_samples(records)
        done += len(batch)
        if on_progress is not None:
            on_progress(done, len(work))


# ---------------------------------------------------------------- staged generation, then judging
GENERATED = "generated.jsonl"  # staging file of the run folder: generations waiting for the judge


def _key(item: WorkItem) -> tuple[str, str, int]:
    return (item.task.spec.name, item.problem.id, item.index)


def generate_then_judge(work: Sequence[WorkItem], config: EvalConfig, backend: Backend | None, backend_name: str,
                        folder: RunFolder, make_judge: Callable[[], Any],
                        on_progress: Callable[[int, int], None] | None = None, *, judge: Any = None) -> None:
    """Two stages that own the accelerator in turn: (1) generate every pending sample into GENERATED, then close
    the generation engine (its memory returned); (2) start the judge, audit the staged generations batch by
    batch into samples.jsonl, close the judge. Two model engines are never alive at once, so a 32B judge and
    an 8B policy need not split one GPU's memory. GENERATED is durable (fsync'ed per batch): a run killed
    between the stages resumes at the judge without generating again. `judge` (given) is used and not closed.
    Progress counts generated plus judged samples (total 2 x len(work))."""
    staging_path = folder.path / GENERATED
    staged = _read_staged(staging_path)
    todo = [item for item in work if staged.get(_key(item), {}).get("finish_reason", "error") == "error"]
    total, done = 2 * len(work), len(work) - len(todo)
    if on_progress is not None:
        on_progress(done, total)
    if todo:
        with backend_for(config, backend, backend_name, folder) as active:
            folder.commit()  # the manifest is written only once the backend is up
            for batch, records in _generated_batches(todo, config, active):
                _append_durable(staging_path, records)
                staged.update({(r["task"], r["id"], r["sample_index"]): r for r in records})
                done += len(batch)
                if on_progress is not None:
                    on_progress(done, total)
        # leaving the `with` closed the engine we opened: the judge gets the whole device
    own_judge = judge is None
    active_judge = make_judge() if own_judge else judge
    try:
        size = config.batch_size or 64
        for start in range(0, len(work), size):
            batch = list(work[start:start + size])
            records = [dict(staged[_key(item)]) for item in batch]
            audit_records(records, [item.problem for item in batch], active_judge)  # durable only once judged
            folder.append_samples(records)
            done += len(batch)
            if on_progress is not None:
                on_progress(done, total)
    finally:
        if own_judge and callable(getattr(active_judge, "close", None)):
            active_judge.close()
    staging_path.unlink(missing_ok=True)  # every staged generation is in samples.jsonl now


def _read_staged(path: Path) -> dict[tuple[str, str, int], dict]:
    """The newest staged record per sample key; a torn last line (killed mid-write) is ignored."""
    out: dict[tuple[str, str, int], dict] = {}
    if not path.is_file():
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            if line.strip():
                record = json.loads(line)
                out[(str(record["task"]), str(record["id"]), int(record["sample_index"]))] = record
    return out


def _append_durable(path: Path, records: list[dict]) -> None:
    if path.is_file() and path.stat().st_size:
        with open(path, "rb+") as fh:  # cut a torn last line off before appending
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.seek(0)
                data = fh.read()
                fh.truncate(data.rfind(b"\n") + 1)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))
        fh.flush()
        os.fsync(fh.fileno())
