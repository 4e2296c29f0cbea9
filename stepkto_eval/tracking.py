"""Experiment tracking: send a run's metrics (with their CIs), settings and report to TensorBoard, Weights &
Biases or MLflow (`--report-to tensorboard,wandb,mlflow`, like the trainer's `report_to`; off by default).

The run folder stays the product; a tracker gets a copy. Every backend runs offline by default, inside the
run folder's `tracking/` subfolder:

* TensorBoard: event files under `tracking/tensorboard/` (written with tensorboard's own event writer, so no
  torch import); the report's markdown goes in as a text summary.
* W&B: `wandb.init(dir=...)` under `tracking/` unless WANDB_DIR is set; WANDB_MODE (e.g. `offline`, which
  needs no account), WANDB_PROJECT (default `stepkto`) and WANDB_ENTITY are wandb's own. Files: `run.save`.
* MLflow: MLFLOW_TRACKING_URI when set (a server, `sqlite:///...` with full mlflow installed), else a file
  store `tracking/mlruns`. mlflow-skinny has no SQLAlchemy, so no sqlite store; MLflow 3 keeps the file store
  in "maintenance mode" behind MLFLOW_ALLOW_FILE_STORE=true, which we set for our own default store only.
  MLflow metric names may not contain `@`: `pass@1` is logged as `pass_at_1` (`mlflow_key`).

Steps and reruns: one tracker run per run folder (or per iterate loop), whose ids are kept in
`tracking/state.json`, so a rerun resumes the same tracker run instead of starting another. An eval run logs
step 0; a rerun logs again only when metrics.json changed (e.g. failed samples were retried), at the next step,
so no step is ever written twice. `stepkto-train iterate` logs round k's evaluation at step k (M0 = step 0).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Protocol, Sequence

if TYPE_CHECKING:
    from .runs import RunFolder

BACKENDS = ("tensorboard", "wandb", "mlflow")
_PACKAGE = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}
STATE_FILE = "state.json"
ARTIFACTS = ("metrics.json", "report.md", "report.html")


class TrackingUnavailable(ValueError):
    """--report-to names an unknown tracker or one whose library is not installed (exit 2, before any work)."""


def parse_report_to(text: str | Sequence[str] | None) -> list[str]:
    """"tensorboard,wandb" -> ["tensorboard", "wandb"]; "none"/None -> []; "all" -> every installed tracker.

    Raises TrackingUnavailable for an unknown name or a missing library, so a run fails before it starts
    rather than after hours of generation."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else (text or [])) if n.strip()]
    if not names or names == ["none"]:
        return []
    if names == ["all"]:
        found = [b for b in BACKENDS if _installed(b)]
        if not found:
            raise TrackingUnavailable("--report-to all: none of tensorboard, wandb, mlflow is installed "
                                      "(pip install 'stepkto[track]')")
        return found
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise TrackingUnavailable(f"--report-to: unknown tracker(s) {unknown}; choose from {', '.join(BACKENDS)}, "
                                  "all or none")
    missing = [n for n in names if not _installed(n)]
    if missing:
        raise TrackingUnavailable(f"--report-to {','.join(names)}: the {', '.join(missing)} package is not "
                                  "installed (pip install 'stepkto[track]')")
    return list(dict.fromkeys(names))


def _installed(name: str) -> bool:
    return importlib.util.find_spec(_PACKAGE[name]) is not None


def flat_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """metrics.json -> {"math500/pass@1": v, "math500/pass@1_ci_low": lo, "math500/pass@1_ci_high": hi,
    "math500/truncation_rate": .., "math500/error_rate": .., "math500/flawed_step_rate": .. (audited)}, plus
    `overall/...` for a multi-task run. Undefined values (None, e.g. a flawed-step rate with no correct
    completion, or a score run's unknown truncation) are left out rather than logged as 0."""
    out: dict[str, float] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)

    def put_estimate(prefix: str, estimate: Any) -> None:
        if isinstance(estimate, Mapping):
            put(prefix, estimate.get("value"))
            put(f"{prefix}_ci_low", estimate.get("ci_low"))
            put(f"{prefix}_ci_high", estimate.get("ci_high"))
        else:
            put(prefix, estimate)

    tasks = metrics.get("tasks") or {}
    for task, entry in tasks.items():
        for name, estimate in (entry.get("metrics") or {}).items():
            put_estimate(f"{task}/{name}", estimate)
        for rate in ("truncation_rate", "error_rate"):
            put(f"{task}/{rate}", entry.get(rate))
        if "flawed_step_rate" in entry:
            put_estimate(f"{task}/flawed_step_rate", entry["flawed_step_rate"])
    if len(tasks) > 1:
        for name, estimate in ((metrics.get("overall") or {}).get("metrics") or {}).items():
            put_estimate(f"overall/{name}", estimate)
    return out


def run_config(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's settings worth filtering runs by (model, tasks, sampling, audit, ...), not its provenance
    noise (hardware, package versions)."""
    keys = ("model", "backend_settings", "tasks", "sampling", "checker_version", "audit", "round",
            "settings_hash", "stepkto_version", "kind", "source", "command")
    return {k: manifest[k] for k in keys if manifest.get(k) is not None}


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{"sampling": {"n": 8}} -> {"sampling.n": "8"}: MLflow params are flat strings."""
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flat_params(value, f"{name}."))
        else:
            out[name] = value if isinstance(value, str) else json.dumps(value, default=str)
    return out


def mlflow_key(name: str) -> str:
    """MLflow accepts alphanumerics and `_ - . space : /` in names: `pass@1` -> `pass_at_1`, others -> `_`."""
    name = name.replace("@", "_at_")
    return "".join(c if c.isalnum() or c in "_-. :/" else "_" for c in name)


# ---------------------------------------------------------------- one class per backend
class Tracker(Protocol):
    """One open tracker run. `start` returns the id a later process resumes with (state.json keeps it)."""

    name: str

    def start(self, run_name: str, config: Mapping[str, Any], resume_id: str | None) -> str: ...

    def log_metrics(self, values: Mapping[str, float], step: int) -> None: ...

    def log_files(self, folder: Path, names: Sequence[str], step: int) -> None: ...

    def finish(self) -> None: ...


@dataclass
class TensorBoardTracker:
    log_dir: Path
    name: str = "tensorboard"
    _writer: Any = None

    def start(self, run_name: str, config: Mapping[str, Any], resume_id: str | None) -> str:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        # a rerun adds a new event file to the same folder: TensorBoard shows one run
        self._writer = EventFileWriter(str(self.log_dir))
        if resume_id is None:
            self._text("config", "```\n" + json.dumps(dict(config), indent=1, default=str) + "\n```", 0)
        return str(self.log_dir)

    def _event(self, summary: Any, step: int) -> None:
        from tensorboard.compat.proto import event_pb2

        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def _text(self, tag: str, text: str, step: int) -> None:
        from tensorboard.plugins.text.summary_v2 import text_pb

        self._event(text_pb(tag, text), step)

    def log_metrics(self, values: Mapping[str, float], step: int) -> None:
        from tensorboard.compat.proto import summary_pb2

        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=k, simple_value=v)
                                             for k, v in values.items()])
        self._event(summary, step)

    def log_files(self, folder: Path, names: Sequence[str], step: int) -> None:
        if "report.md" in names and (folder / "report.md").is_file():
            self._text("report", (folder / "report.md").read_text(encoding="utf-8"), step)

    def finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass
class WandbTracker:
    root: Path  # used as wandb's dir unless WANDB_DIR is set
    name: str = "wandb"
    _run: Any = None

    def start(self, run_name: str, config: Mapping[str, Any], resume_id: str | None) -> str:
        import wandb

        directory = None if os.environ.get("WANDB_DIR") else str(self.root)
        if directory:
            self.root.mkdir(parents=True, exist_ok=True)
        self._run = wandb.init(project=os.environ.get("WANDB_PROJECT") or "stepkto", name=run_name,
                               dir=directory, config=dict(config), id=resume_id,
                               resume="allow" if resume_id else None, reinit="finish_previous")
        return str(self._run.id)

    def log_metrics(self, values: Mapping[str, float], step: int) -> None:
        self._run.log(dict(values), step=step)

    def log_files(self, folder: Path, names: Sequence[str], step: int) -> None:
        for name in names:
            if (folder / name).is_file():
                self._run.save(str(folder / name), base_path=str(folder), policy="now")

    def finish(self) -> None:
        if self._run is not None:
            self._run.finish()
            self._run = None


@dataclass
class MlflowTracker:
    root: Path  # our default file store lives here unless MLFLOW_TRACKING_URI is set
    name: str = "mlflow"
    _client: Any = None
    _run_id: str | None = None
    _resumed: bool = False

    def tracking_uri(self) -> str:
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if uri:
            return uri
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # see the module docstring
        return (self.root / "mlruns").resolve().as_uri()

    def start(self, run_name: str, config: Mapping[str, Any], resume_id: str | None) -> str:
        from mlflow import MlflowClient

        self._client = MlflowClient(self.tracking_uri())
        if resume_id is not None:
            self._run_id, self._resumed = resume_id, True
            self._client.update_run(resume_id, status="RUNNING")
            return resume_id
        experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "stepkto"
        found = self._client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else self._client.create_experiment(experiment)
        self._run_id = self._client.create_run(experiment_id, run_name=run_name).info.run_id
        from mlflow.entities import Param

        # MLflow caps a param value's length; a long command line is cut rather than failing the log
        params = [Param(mlflow_key(k)[:250], v[:6000]) for k, v in flat_params(config).items()]
        self._client.log_batch(self._run_id, params=params)
        return self._run_id

    def log_metrics(self, values: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        keys = {k: mlflow_key(k) for k in values}
        if self._resumed:  # a step a killed process logged but could not record: MLflow would keep it twice
            keys = {k: key for k, key in keys.items()
                    if all(m.step != step for m in self._client.get_metric_history(self._run_id, key))}
        self._client.log_batch(self._run_id, metrics=[Metric(key, values[k], stamp, step) for k, key in keys.items()])

    def log_files(self, folder: Path, names: Sequence[str], step: int) -> None:
        for name in names:
            if (folder / name).is_file():
                self._client.log_artifact(self._run_id, str(folder / name))

    def finish(self) -> None:
        if self._client is not None and self._run_id is not None:
            self._client.set_terminated(self._run_id)


def make_tracker(name: str, root: Path) -> Tracker:
    if name == "tensorboard":
        return TensorBoardTracker(root / "tensorboard")
    if name == "wandb":
        return WandbTracker(root)
    if name == "mlflow":
        return MlflowTracker(root)
    raise TrackingUnavailable(f"unknown tracker {name!r}")


# ---------------------------------------------------------------- runs that span processes
@dataclass
class TrackedRun:
    """The tracker runs of one run folder (or one iterate loop), resumable across processes.

    `root/state.json`: {backend: {"id": tracker run id, "steps": {step: sha256 of what was logged}}}."""

    root: Path
    names: Sequence[str]
    run_name: str
    errors: list[str] = field(default_factory=list)

    def _state(self) -> dict:
        """The state file, checked: a damaged one raises ValueError naming it (logging on top of a history we
        cannot read would write a step twice)."""
        path = self.root / STATE_FILE
        if not path.is_file():
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a tracking state file ({exc}); move it aside to start new tracker runs") from None
        entries = state.values() if isinstance(state, dict) else [None]
        if not all(isinstance(e, dict) and isinstance(e.get("steps", {}), dict)
                   and all(isinstance(k, str) and k.isdecimal() for k in e.get("steps", {})) for e in entries):
            raise ValueError(f"{path}: not a tracking state file (expected {{backend: {{\"id\": ..., \"steps\": "
                             "{step number: digest}}}}); move it aside to start new tracker runs")
        return state

    def _save(self, state: dict) -> None:
        from .jsonl import write_json_atomic

        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.root / STATE_FILE, state)

    def next_step(self, backend: str) -> int:
        steps = self._state().get(backend, {}).get("steps", {})
        return 1 + max((int(s) for s in steps), default=-1)

    def logged(self, backend: str, step: int) -> str | None:
        return self._state().get(backend, {}).get("steps", {}).get(str(step))

    def log(self, metrics: Mapping[str, Any], config: Mapping[str, Any], *, step: int | None = None,
            files_from: Path | None = None) -> list[dict]:
        """Log `metrics` (a metrics.json dict) to every backend; returns one note per backend.

        step None (an eval run): the next step, unless the latest logged step holds these very metrics.
        A given step (an iterate round) is logged once."""
        return self.log_steps([Step(step, metrics, files_from)], config)

    def log_steps(self, steps: Sequence["Step"], config: Mapping[str, Any]) -> list[dict]:
        """Log several steps, each backend in one session: W&B names an offline run's folder by the second it
        started, so two sessions of one run within a second would share (and overwrite) one folder.
        A backend that fails gets error notes and the others still log: a tracker must never cost a
        finished evaluation. Returns one note per backend and step."""
        notes = []
        for name in self.names:
            try:
                todo = self._pending(name, steps, notes)
            except ValueError as exc:  # a damaged state file: reported like any tracker failure, never raised
                message = f"{name}: {exc}"
                self.errors.append(message)
                notes += [{"backend": name, "step": item.step, "status": "error", "error": message} for item in steps]
                continue
            if todo:
                notes += self._log_backend(name, config, todo)
        return notes

    def _pending(self, name: str, steps: Sequence["Step"], notes: list[dict]) -> list[tuple[int, "Step", str]]:
        """The steps `name` has not logged yet (step, item, digest); an "already logged" note for the others."""
        todo = []
        for item in steps:
            digest = hashlib.sha256(json.dumps(item.metrics, sort_keys=True, default=str).encode()).hexdigest()
            at = item.step
            if at is None:
                last = self.next_step(name) - 1
                at = last if last >= 0 and self.logged(name, last) == digest else last + 1
            if self.logged(name, at) is not None:
                notes.append({"backend": name, "step": at, "status": "already logged"})
            else:
                todo.append((at, item, digest))
        return todo

    def _log_backend(self, name: str, config: Mapping[str, Any], todo: list[tuple[int, "Step", str]]) -> list[dict]:
        tracker = make_tracker(name, self.root)
        notes: list[dict] = []
        try:
            try:
                run_id = tracker.start(self.run_name, config, self._state().get(name, {}).get("id"))
                # kept at once: a kill before the first step is recorded must not cost a second tracker run
                state = self._state()
                state.setdefault(name, {})["id"] = run_id
                self._save(state)
                for at, item, digest in todo:
                    tracker.log_metrics(flat_metrics(item.metrics), at)
                    if item.files_from is not None:
                        tracker.log_files(item.files_from, ARTIFACTS, at)
                    state = self._state()  # recorded step by step: a later failure keeps what was logged
                    entry = state.setdefault(name, {})
                    entry["id"] = run_id
                    entry.setdefault("steps", {})[str(at)] = digest
                    self._save(state)
                    notes.append({"backend": name, "step": at, "status": "logged", "id": run_id})
            finally:
                tracker.finish()
        except Exception as exc:  # noqa: BLE001 — any tracker failure is reported, never raised
            message = f"{name}: {type(exc).__name__}: {exc}"
            self.errors.append(message)
            logged = {n["step"] for n in notes}
            notes += [{"backend": name, "step": at, "status": "error", "error": message}
                      for at, _, _ in todo if at not in logged]
        return notes


@dataclass(frozen=True)
class Step:
    """One step to log: its number (None: the next one), a metrics.json dict, and the folder whose
    metrics.json / report files go with it (or None)."""

    step: int | None
    metrics: Mapping[str, Any]
    files_from: Path | None = None

def log_to_trackers(folder: "RunFolder", names: Sequence[str], metrics: Mapping[str, Any],
                    manifest: Mapping[str, Any]) -> list[dict]:
    """Log a finished run folder (eval or score) to its --report-to trackers, at `<folder>/tracking`; the
    notes also go into the manifest (`tracking`), so the folder says what was logged and what failed."""
    if not names:
        return []
    notes = TrackedRun(folder.path / "tracking", names, folder.path.name).log(metrics, run_config(manifest),
                                                                             files_from=folder.path)
    folder.update_manifest(tracking=notes)
    return notes
