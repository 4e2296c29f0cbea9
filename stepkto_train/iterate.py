"""The iterative loop M0 → M1 → … → Mk: sample + label, train, evaluate — resumable stage by stage.

    stepkto-train iterate --config stepkto_train/configs/cpu_demo.yaml [--limit N]

Round k (1..k) starts from M_{k-1} (M_0 = the recipe's `model`):
  1. label  `stepkto-eval label --model M_{k-1} --round k ...`  → round_k/label/labeled.jsonl
  2. train  `stepkto-train train --data that --model M_{k-1}` (reference = M_{k-1}) → round_k/model = M_k
  3. eval   `stepkto-eval eval --model M_k ...` (accuracy; flawed-step rate with `audit`) → round_k/eval
round_0/eval evaluates M_0 as the baseline. Each stage runs as a subprocess of the installed CLIs (a
vLLM engine or a multi-GPU training launch never shares a process with the next stage); the training stage
is prefixed by the recipe's `launcher` (e.g. torchrun on 8 GPUs). `run_dir/state.json` lists the finished
stages; rerunning the command skips them and continues at the first unfinished one (a killed training stage
resumes from its last checkpoint; label and eval resume from their run folders); a changed recipe or another
--limit is refused. The rounds table is
rewritten after every stage: run_dir/rounds.json and run_dir/rounds.md.
`--report-to tensorboard,wandb,mlflow` logs each round's evaluation to one tracker run of the whole loop at step
k (M0 = step 0; stepkto_eval/tracking.py, under run_dir/tracking), and hands the same trackers to each round's
trainer (its `report_to`, unless the recipe's `train` section names its own), whose curves land beside them.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stepkto_eval.jsonl import write_json_atomic
from stepkto_eval.signals import die_with_parent

STATE_FILE = "state.json"


class RecipeChanged(RuntimeError):
    """The run folder was started with a different recipe (only `rounds` may grow between reruns)."""


@dataclass
class Recipe:
    run_dir: Path
    model: str
    rounds: int
    label: dict[str, Any]
    train: dict[str, Any]
    eval: dict[str, Any] | None = None
    launcher: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> "Recipe":
        raw = yaml.safe_load(Path(path).read_text()) or {}
        missing = [k for k in ("run_dir", "model", "rounds", "label", "train") if k not in raw]
        if missing:
            raise ValueError(f"{path}: recipe lacks {missing}")
        unknown = sorted(set(raw) - {"run_dir", "model", "rounds", "label", "train", "eval", "launcher"})
        if unknown:
            raise ValueError(f"{path}: unknown recipe keys {unknown}")
        return cls(**{**raw, "run_dir": Path(raw["run_dir"])})

    def identity(self) -> dict:
        """What must not change between reruns of one run folder."""
        return {"model": self.model, "label": self.label, "train": self.train, "eval": self.eval}


def cli_options(options: dict[str, Any]) -> list[str]:
    """{"max_tokens": 64, "use_cpu": True} → ["--max-tokens", "64", "--use-cpu"]."""
    out: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, list):
            for v in value:
                out += [flag, str(v)]
        else:
            out += [flag, str(value)]
    return out


@dataclass
class Loop:
    recipe: Recipe
    limit: int | None = None
    report_to: list[str] = field(default_factory=list)  # trackers (parsed by stepkto_eval.tracking); not identity
    tracking_errors: list[str] = field(default_factory=list)

    @property
    def state_path(self) -> Path:
        return self.recipe.run_dir / STATE_FILE

    def load_state(self) -> dict:
        # --limit is part of the run's identity: stages finished on 4 problems are not the stages of a full run
        if not self.state_path.is_file():
            return {"recipe": self.recipe.identity(), "limit": self.limit, "done": []}
        state = json.loads(self.state_path.read_text())
        if state["recipe"] != json.loads(json.dumps(self.recipe.identity())):
            raise RecipeChanged(f"{self.recipe.run_dir} was started with another recipe; use a new run_dir")
        if state.get("limit") != self.limit:
            def shown(limit):
                return "no --limit" if limit is None else f"--limit {limit}"
            raise RecipeChanged(f"{self.recipe.run_dir} was started with {shown(state.get('limit'))}, not "
                                f"{shown(self.limit)}; rerun with the same limit or use a new run_dir")
        return state

    def model_of(self, k: int) -> str:
        return self.recipe.model if k == 0 else str(self.recipe.run_dir / f"round_{k}" / "model")

    def stages(self) -> list[tuple[str, list[str]]]:
        r, py = self.recipe, sys.executable
        limit = ["--limit", str(self.limit)] if self.limit else []
        plan: list[tuple[str, list[str]]] = []
        if r.eval is not None:
            plan.append(("round_0/eval", self.eval_cmd(0, limit)))
        for k in range(1, r.rounds + 1):
            folder = r.run_dir / f"round_{k}"
            label = [py, "-m", "stepkto_eval.cli", "label", "--model", self.model_of(k - 1), "--round", str(k),
                     "--output-dir", str(folder / "label"), *cli_options(self.options(r.label)), *limit]
            train = [*(r.launcher or [py]), "-m", "stepkto_train.cli", "train", "--config",
                     str(folder / "train.yaml"), "--data", str(folder / "label" / "labeled.jsonl"),
                     "--model", self.model_of(k - 1), "--output-dir", str(folder / "model"),
                     "--resume-from-checkpoint", "auto"]
            plan += [(f"round_{k}/label", label), (f"round_{k}/train", train)]
            if r.eval is not None:
                plan.append((f"round_{k}/eval", self.eval_cmd(k, limit)))
        return plan

    def eval_cmd(self, k: int, limit: list[str]) -> list[str]:
        out = self.recipe.run_dir / f"round_{k}" / "eval"
        return [sys.executable, "-m", "stepkto_eval.cli", "eval", "--model", self.model_of(k), "--output-dir",
                str(out), *cli_options(self.options(self.recipe.eval or {})), *limit]

    def options(self, section: dict[str, Any]) -> dict[str, Any]:
        """A section's options; the command line's --limit replaces the recipe's."""
        return {k: v for k, v in section.items() if not (self.limit and k == "limit")}

    def check(self) -> None:
        """Parse every stage's command as its CLI will, before anything runs: a misspelt training key must not
        stop the loop hours later, after labeling (ValueError naming the stage and the problem)."""
        from stepkto_eval.cli import _load

        for name, cmd in self.stages():
            try:
                if name.endswith("/train"):
                    _check_train_options(self.recipe.train)
                else:
                    command = cmd[3]  # [python, -m, stepkto_eval.cli, COMMAND, ...]
                    parser = argparse.ArgumentParser(prog=f"stepkto-eval {command}", exit_on_error=False)
                    _load(command).add_arguments(parser)
                    args, extra = parser.parse_known_args(cmd[4:])
                    if extra:
                        raise ValueError(f"`stepkto-eval {command}` has no option(s) {extra}")
                    spec = getattr(args, "judge", None) or getattr(args, "audit", None)
                    if spec:
                        from stepkto_eval.audit.registry import parse_spec

                        parse_spec(spec)
            except SystemExit as exc:
                raise ValueError(f"recipe section for stage {name}: {exc}") from None
            except (argparse.ArgumentError, ValueError) as exc:
                raise ValueError(f"recipe section for stage {name}: {exc}") from None

    def save_state(self, state: dict[str, Any]) -> None:
        # atomic: a loop killed while saving (the crash resume exists for) keeps the previous complete state.json
        write_json_atomic(self.state_path, state)

    def run(self) -> int:
        """Check every stage's options, then run the stages not yet done, holding the run folder's lock (one
        loop per folder: two copies of the loop would run every stage twice into the same rounds)."""
        from stepkto_eval.folder_guard import FolderRefused, hold_folder

        self.check()
        try:
            with hold_folder(self.recipe.run_dir, "stepkto-train iterate"):
                return self._run_stages()
        except FolderRefused as exc:
            print(f"[iterate] {exc}", file=sys.stderr)
            return 2

    def _run_stages(self) -> int:
        self.recipe.run_dir.mkdir(parents=True, exist_ok=True)
        state = self.load_state()
        self.save_state(state)
        for name, cmd in self.stages():
            if name in state["done"]:
                print(f"[iterate] {name}: done, skipped", file=sys.stderr)
                continue
            env = None
            if name.endswith("/train"):
                folder = self.recipe.run_dir / name.split("/")[0]
                options, env = self.train_tracking(name.split("/")[0])
                (folder / "train.yaml").write_text(yaml.safe_dump(options, sort_keys=True))
            print(f"[iterate] {name}: {' '.join(cmd)}", file=sys.stderr, flush=True)
            code = run_stage(cmd, env=env)
            if code != 0:
                print(f"[iterate] {name} failed (exit {code}); rerun the same command to continue", file=sys.stderr)
                return code
            state["done"].append(name)
            self.save_state(state)
            write_rounds_table(self.recipe, state["done"])
            self.track_rounds(state["done"])
        self.tracking_errors.clear()  # what counts is whether every round is logged by now
        self.track_rounds(state["done"])  # a rerun retries rounds whose logging failed before
        print(f"[iterate] all stages done; table: {self.recipe.run_dir / 'rounds.md'}", file=sys.stderr)
        if self.tracking_errors:
            # the loop is complete on disk; exit 1 says the tracker lacks rounds (a rerun only logs them)
            print("[iterate] some rounds were not logged to the trackers; rerun the same command to retry",
                  file=sys.stderr)
            return 1
        return 0

    def track_rounds(self, done: list[str]) -> None:
        """Log every finished round's evaluation not yet logged, round k at step k, to one tracker run of the
        loop. A tracker failure is reported and retried later; it never stops the loop."""
        if not self.report_to:
            return
        from stepkto_eval.tracking import Step, TrackedRun

        tracked = TrackedRun(self.recipe.run_dir / "tracking", self.report_to, self.recipe.run_dir.name)
        config = {**self.recipe.identity(), "rounds": self.recipe.rounds, "limit": self.limit}
        steps = []
        for k in range(self.recipe.rounds + 1):
            folder = self.recipe.run_dir / f"round_{k}" / "eval"
            if f"round_{k}/eval" in done and (folder / "metrics.json").is_file():
                steps.append(Step(k, json.loads((folder / "metrics.json").read_text()), folder))
        for note in tracked.log_steps(steps, config):
            if note["status"] == "error":
                print(f"[iterate] round {note['step']}: logging to {note['error']}", file=sys.stderr)
                self.tracking_errors.append(note["error"])
            elif note["status"] == "logged":
                print(f"[iterate] round {note['step']}: logged to {note['backend']} at step {note['step']}",
                      file=sys.stderr)

    def train_tracking(self, round_name: str) -> tuple[dict[str, Any], dict[str, str] | None]:
        """The round's training options and environment: with --report-to, the trainer reports to the same
        trackers (HF `report_to`), its runs beside the loop's (TensorBoard: run_dir/tracking/tensorboard/
        round_k-train; W&B and MLflow: the loop's dir / store unless WANDB_DIR / MLFLOW_TRACKING_URI are set).
        A recipe whose `train` names its own `report_to` (other than none) keeps it."""
        import os

        options = dict(self.recipe.train)
        if not self.report_to or options.get("report_to") not in (None, "none", [], ["none"]):
            return options, None
        from stepkto_eval.tracking import MlflowTracker

        root = (self.recipe.run_dir / "tracking").resolve()
        options["report_to"] = list(self.report_to)
        options.setdefault("run_name", f"{self.recipe.run_dir.name}-{round_name}-train")
        env = dict(os.environ)
        env.setdefault("TENSORBOARD_LOGGING_DIR", str(root / "tensorboard" / f"{round_name}-train"))
        env.setdefault("WANDB_DIR", str(root))
        env.setdefault("WANDB_PROJECT", "stepkto")
        env.setdefault("MLFLOW_EXPERIMENT_NAME", "stepkto")
        if "MLFLOW_TRACKING_URI" not in env:
            env.update(MLFLOW_TRACKING_URI=MlflowTracker(root).tracking_uri(), MLFLOW_ALLOW_FILE_STORE="true")
        root.mkdir(parents=True, exist_ok=True)
        return options, env


def _check_train_options(options: dict[str, Any]) -> None:
    """The `train` section's names and value types as `stepkto-train train --config` reads them (names must
    be fields; values must convert). The launch itself (GPUs, DeepSpeed) is checked by the stage."""
    from dataclasses import fields

    from transformers import HfArgumentParser

    from .cli import TrainInputs
    from .trainer import StepKTOConfig

    names = {f.name for dc in (TrainInputs, StepKTOConfig) for f in fields(dc)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ValueError(f"`train` has unknown option(s) {unknown} (not a StepKTOConfig / TrainingArguments field)")
    parser = HfArgumentParser((TrainInputs, StepKTOConfig))
    parser.exit_on_error = False
    args = cli_options({k: v for k, v in options.items() if not isinstance(v, bool)})
    try:
        parser.parse_known_args(args + ["--output-dir", "x"])
    except argparse.ArgumentError as exc:
        raise ValueError(f"`train`: {exc}") from None


STAGE_STOP_S = 60.0  # how long a stopped stage may take to shut its engines down before it is killed


def run_stage(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Run one stage as a child that dies with this process (PR_SET_PDEATHSIG: a killed loop leaves no stage,
    and the stage's own watchdog ends its engine). On Ctrl-C / SIGTERM of the loop the stage gets the time
    to shut its engines down (SIGINT: it usually got the same Ctrl-C; SIGTERM: forwarded), then the
    interruption continues upwards."""
    proc = subprocess.Popen(cmd, preexec_fn=die_with_parent(), env=env)
    try:
        return proc.wait()
    except BaseException as exc:
        first_wait = 10.0 if isinstance(exc, KeyboardInterrupt) else 0.0
        for sig, wait in ((None, first_wait), (signal.SIGTERM, STAGE_STOP_S), (signal.SIGKILL, 10.0)):
            if proc.poll() is not None:
                break
            if sig is not None:
                proc.send_signal(sig)
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        raise


def eval_summary(metrics_path: Path) -> dict[str, dict[str, float | None]]:
    """{task: {metric: value, "flawed_step_rate": value}} from a stepkto-eval metrics.json."""
    raw = json.loads(metrics_path.read_text())
    tasks = raw.get("tasks", raw)
    out: dict[str, dict[str, float | None]] = {}
    for task, entry in tasks.items():
        if not isinstance(entry, dict) or "metrics" not in entry:
            continue
        row = {m: (v.get("value") if isinstance(v, dict) else v) for m, v in entry["metrics"].items()}
        if "flawed_step_rate" in entry:
            row["flawed_step_rate"] = entry["flawed_step_rate"].get("value")
        out[task] = row
    return out


def _metric_cell(metric: str, value: float | None) -> str:
    """`pass@1 12.5%`; a rate with no denominator (flawed-step rate without correct answers) is `–`."""
    if value is None:
        return f"{metric.replace('_', ' ')} –"
    return f"{metric.replace('_', ' ')} {100 * value:.1f}%" if isinstance(value, float) else f"{metric} {value}"


def write_rounds_table(recipe: Recipe, done: list[str]) -> list[dict]:
    """One row per round: model, labeled-data counts, final training loss, evaluation metrics."""
    rows = []
    for k in range(recipe.rounds + 1):
        folder = recipe.run_dir / f"round_{k}"
        row: dict[str, Any] = {"round": k, "model": str(folder / "model") if k else recipe.model}
        label_summary = folder / "label" / "summary.json"
        if f"round_{k}/label" in done and label_summary.is_file():
            s = json.loads(label_summary.read_text())
            row["labeled_rows"] = s.get("n_rows")
            row["desirable"] = (s.get("outcomes") or {}).get("desirable")
        train_summary = folder / "model" / "stepkto_train.json"
        if f"round_{k}/train" in done and train_summary.is_file():
            row["train_loss"] = json.loads(train_summary.read_text())["metrics"].get("train_loss")
        metrics = folder / "eval" / "metrics.json"
        if f"round_{k}/eval" in done and metrics.is_file():
            row["eval"] = eval_summary(metrics)
        rows.append(row)
    (recipe.run_dir / "rounds.json").write_text(json.dumps(rows, indent=1))
    lines = ["| round | labeled rows | desirable | train loss | evaluation |", "|---|---|---|---|---|"]
    for row in rows:
        ev = "; ".join(f"{t}: " + ", ".join(_metric_cell(m, v) for m, v in ms.items())
                       for t, ms in (row.get("eval") or {}).items())
        loss = row.get("train_loss")
        lines.append(f"| {row['round']} | {row.get('labeled_rows', '')} | {row.get('desirable', '')} | "
                     f"{'' if loss is None else f'{loss:.4f}'} | {ev} |")
    (recipe.run_dir / "rounds.md").write_text("\n".join(lines) + "\n")
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stepkto-train iterate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="recipe YAML (see stepkto_train/configs/)")
    parser.add_argument("--limit", type=int, default=None, help="smoke mode: first N problems in label and eval")
    parser.add_argument("--report-to", default="none", metavar="TRACKERS",
                        help="log each round's evaluation (step = round) and training to experiment trackers: "
                             "comma-separated tensorboard, wandb, mlflow, or all / none (default none)")
    args = parser.parse_args(argv)
    try:
        from stepkto_eval.tracking import parse_report_to

        return Loop(Recipe.load(args.config), limit=args.limit, report_to=parse_report_to(args.report_to)).run()
    except (RecipeChanged, ValueError) as exc:
        print(f"stepkto-train iterate: {exc}", file=sys.stderr)
        return 2
