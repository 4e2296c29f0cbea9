"""End-to-end `stepkto-eval` on the tiny random model through the real hf backend."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from stepkto_eval.cli import main
from stepkto_eval.runs import RunFolder
from stepkto_eval.tasks import list_tasks

TASKS = ("math500", "aime24", "amc23")
LIMIT = 2


def eval_args(model: Path, out: Path, data: Path, *extra: str, tasks: str = ",".join(TASKS)) -> list[str]:
    return ["--model", str(model), "--tasks", tasks, "--backend", "hf", "--data-dir", str(data), "--limit",
            str(LIMIT), "--max-tokens", "12", "--output-dir", str(out), *extra]


@pytest.fixture(scope="module")
def greedy_run(tiny_model_dir, shared_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval") / "run"
    assert main(eval_args(tiny_model_dir, out, shared_data)) == 0
    return out


def read_samples(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]


def test_run_folder_has_every_file(greedy_run):
    assert sorted(p.name for p in greedy_run.iterdir()) == ["manifest.json", "metrics.json", "report.html",
                                                            "report.md", "samples.jsonl"]
    page = (greedy_run / "report.html").read_text()
    assert "math500" in page and "data:image/png;base64," in page


def test_manifest_records_provenance(greedy_run, tiny_model_dir):
    from stepkto_eval.grading import CHECKER_VERSION
    from stepkto_eval.runs import settings_hash

    m = json.loads((greedy_run / "manifest.json").read_text())
    assert m["settings_hash"] == settings_hash(m)
    assert m["model"]["name_or_path"] == str(tiny_model_dir) and m["model"]["hash"].startswith("sha256:")
    assert m["backend"]["model"] and m["backend_settings"]["name"] == "hf"
    assert set(m["tasks"]) == set(TASKS)
    for entry in m["tasks"].values():
        assert entry["n_problems"] == LIMIT and entry["limit"] == LIMIT and len(entry["file_sha256"]) == 64
        assert len(entry["prompt_hash"]) == 64 and entry["max_tokens"] == 12
    assert m["sampling"] == {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": 12, "seed": 0}
    assert m["checker_version"] == CHECKER_VERSION
    assert m["versions"]["torch"] and m["versions"]["transformers"] and m["hardware"]["cpu_count"] >= 1


def test_samples_are_complete_and_graded(greedy_run, shared_data):
    from stepkto_eval.grading import extract_answer

    samples = read_samples(greedy_run)
    keys = [(s["task"], s["id"], s["sample_index"]) for s in samples]
    assert len(keys) == len(set(keys)) == LIMIT * len(TASKS)
    for s in samples:
        assert s["finish_reason"] in ("stop", "length") and s["error"] is None
        assert isinstance(s["completion"], str)
        assert 1 <= s["tokens"]["completion"] <= 12 and s["tokens"]["prompt"] > 10
        assert s["extracted"] == extract_answer(s["completion"])
        assert s["verdict"]["rule"] and s["correct"] == s["verdict"]["equal"]
        (message,) = s["prompt"]  # chat request: one user turn, rendered by the model's template
        assert message["role"] == "user" and "\\boxed{}" in message["content"]
        assert s["prompt_text"].startswith("<|im_start|>user\n") and s["prompt_text"].endswith("assistant\n")
    aime_gold = {s["gold"] for s in samples if s["task"] == "aime24"}
    assert aime_gold == {"204", "113"}
    assert {s["meta"]["subject"] for s in samples if s["task"] == "math500"} <= {
        "Precalculus", "Algebra", "Intermediate Algebra", "Number Theory", "Geometry", "Counting & Probability",
        "Prealgebra"}


def test_metrics_agree_with_the_samples(greedy_run):
    metrics = json.loads((greedy_run / "metrics.json").read_text())
    samples = read_samples(greedy_run)
    manifest = json.loads((greedy_run / "manifest.json").read_text())
    assert metrics["settings_hash"] == manifest["settings_hash"]
    for task in TASKS:
        entry = metrics["tasks"][task]
        mine = [s for s in samples if s["task"] == task]
        assert entry["n_problems"] == LIMIT and entry["n_samples_per_problem"] == 1 and entry["greedy"] is True
        assert entry["metrics"]["pass@1"]["value"] == pytest.approx(sum(s["correct"] for s in mine) / LIMIT)
        assert entry["truncation_rate"] == pytest.approx(
            sum(s["finish_reason"] == "length" for s in mine) / LIMIT)
        low, high = entry["metrics"]["pass@1"]["ci_low"], entry["metrics"]["pass@1"]["ci_high"]
        assert low <= entry["metrics"]["pass@1"]["value"] <= high
    assert set(metrics["tasks"]["math500"]["breakdown"]) == {"subject", "level"}
    assert metrics["overall"]["n_problems"] == LIMIT * len(TASKS)
    report = (greedy_run / "report.md").read_text()
    assert all(task in report for task in TASKS) and "95%" in report


def test_rerun_of_a_finished_run_generates_nothing(greedy_run, tiny_model_dir, shared_data):
    before = (greedy_run / "samples.jsonl").read_text()
    assert main(eval_args(tiny_model_dir, greedy_run, shared_data)) == 0
    assert (greedy_run / "samples.jsonl").read_text() == before
    assert len(json.loads((greedy_run / "manifest.json").read_text())["resumed"]) >= 1


def test_sampled_run_has_pass_and_maj_at_n_and_per_sample_seeds(tiny_model_dir, shared_data, tmp_path):
    args = ["--n", "3", "--temperature", "1.0", "--top-p", "0.95", "--seed", "7"]
    assert main(eval_args(tiny_model_dir, tmp_path / "a", shared_data, *args, tasks="aime24")) == 0
    assert main(eval_args(tiny_model_dir, tmp_path / "b", shared_data, *args, "--batch-size", "2",
                          tasks="aime24")) == 0
    a, b = read_samples(tmp_path / "a"), read_samples(tmp_path / "b")
    assert len(a) == LIMIT * 3 and len({s["seed"] for s in a}) == len(a)
    # Same seed, different batching: every sample's text is the same (it depends only on its own seed).
    assert {(s["id"], s["sample_index"]): s["completion"] for s in a} == \
           {(s["id"], s["sample_index"]): s["completion"] for s in b}
    assert len({s["completion"] for s in a if s["id"] == a[0]["id"]}) > 1  # really sampled
    entry = json.loads((tmp_path / "a" / "metrics.json").read_text())["tasks"]["aime24"]
    assert list(entry["metrics"]) == ["pass@1", "avg@3", "pass@3", "maj@3"] and entry["greedy"] is False


def test_changed_settings_are_refused(greedy_run, tiny_model_dir, shared_data, capsys):
    before = (greedy_run / "samples.jsonl").read_text()
    assert main(eval_args(tiny_model_dir, greedy_run, shared_data, "--max-tokens", "13")) == 2
    err = capsys.readouterr().err
    assert "different settings" in err and "max_tokens" in err and "--output-dir" in err
    assert (greedy_run / "samples.jsonl").read_text() == before


def test_base_model_without_chat_template_gets_a_plain_prompt(tiny_model_dir, shared_data, tmp_path):
    base = tmp_path / "base-model"
    shutil.copytree(tiny_model_dir, base)
    (base / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((base / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(config))
    assert main(eval_args(base, tmp_path / "run", shared_data, tasks="amc23")) == 0
    for s in read_samples(tmp_path / "run"):
        assert isinstance(s["prompt"], str) and s["prompt"].startswith("Work through the problem")
        assert "<|im_start|>" not in s["prompt"] and s["prompt"].rstrip().endswith("Solution:")


def test_list_tasks_and_missing_arguments(capsys):
    assert main(["--list-tasks"]) == 0
    out = capsys.readouterr().out
    assert all(task in out for task in TASKS)
    assert main(["--tasks", "math500"]) == 2
    assert main(["--model", "x", "--tasks", "nope", "--data-dir", "."]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err
    if "processbench" in list_tasks():  # a benchmark of step judges: it needs --judge, not a generator
        assert main(["--model", "x", "--tasks", "processbench", "--data-dir", "."]) == 2
        assert "--tasks processbench --judge SPEC" in capsys.readouterr().err


class FlakyOnce:
    """Wraps the real hf backend and fails each chosen key on its first attempt only.

    A fault injection: the hf backend cannot be made to fail a single request on demand (the openai
    backend's real fault tests use a misbehaving HTTP server); this checks what the pipeline does with
    a failed sample."""

    def __init__(self, inner, fail_keys):
        self.inner, self.fail_keys = inner, set(fail_keys)
        self.name, self.uses_chat = inner.name, inner.uses_chat

    def generate(self, requests):
        from stepkto_eval.backends.base import Completion

        out = self.inner.generate([r for r in requests if r.key not in self.fail_keys])
        done = iter(out)
        result = [Completion(r.key, None, "error", error="injected: connection reset") if r.key in self.fail_keys
                  else next(done) for r in requests]
        self.fail_keys -= {r.key for r in requests}
        return result

    def describe(self):
        return self.inner.describe()

    def close(self):
        self.inner.close()


def test_failed_generation_is_recorded_then_retried(tiny_model_dir, shared_data, tmp_path):
    from stepkto_eval.backends import make_backend
    from stepkto_eval.eval_run import EvalConfig, run_evaluation

    config = EvalConfig(model=str(tiny_model_dir), tasks=["amc23"], backend="hf", limit=2, max_tokens=8,
                        data_dir=str(shared_data), output_dir=tmp_path / "run")
    backend = FlakyOnce(make_backend("hf", str(tiny_model_dir)), {"amc23|1|0"})
    first = run_evaluation(config, backend=backend)
    assert first.n_errors == 1 and first.metrics["tasks"]["amc23"]["error_rate"] == 0.5
    failed = RunFolder(tmp_path / "run").latest_samples()[("amc23", "1", 0)]
    assert failed["finish_reason"] == "error" and "connection reset" in failed["error"]
    assert failed["correct"] is False and failed["completion"] is None
    second = run_evaluation(config, backend=backend)
    assert (second.n_generated, second.n_skipped, second.n_errors) == (1, 1, 0)
    assert second.metrics["tasks"]["amc23"]["error_rate"] == 0.0
    backend.close()


def arith_judge():
    from conftest import require

    try:
        from stepkto_eval.audit.registry import make_judge
    except ImportError as exc:
        require(False, f"audit judges not available: {exc}")
    return make_judge("arith")


def test_audit_option_stores_steps_labels_and_spans(tiny_model_dir, shared_data, tmp_path, capsys):
    arith_judge()
    out = tmp_path / "run"
    assert main(eval_args(tiny_model_dir, out, shared_data, "--audit", "arith", "--max-tokens", "24",
                          tasks="amc23")) == 0
    assert "flawed-step rate" in capsys.readouterr().out  # the summary table shows it next to accuracy
    assert json.loads((out / "manifest.json").read_text())["audit"] == {"judge": "arith"}
    for s in read_samples(out):
        assert len(s["steps"]) == len(s["step_char_spans"]) == len(s["step_labels"])
        for text, (start, end) in zip(s["steps"], s["step_char_spans"], strict=True):
            assert s["completion"][start:end].strip() == text
        assert s["first_error"] is None or s["first_error"] >= -1
        assert s["judge"]["name"] == "arith" and s["judge"]["kind"] == "arith"
    entry = json.loads((out / "metrics.json").read_text())["tasks"]["amc23"]
    assert set(entry["flawed_step_rate"]) == {"value", "ci_low", "ci_high", "n_correct", "n_flawed",
                                              "n_no_verdict", "n_judge_truncated", "judge_truncation_rate"}
    assert entry["flawed_step_rate"]["n_judge_truncated"] == 0  # arith reads every step: never truncated


def test_flawed_step_rate_counts_correct_answers_resting_on_a_wrong_step():
    from stepkto_eval.eval_run import audit_records
    from stepkto_eval.metrics import task_metrics
    from stepkto_eval.scoring import grade_completion
    from stepkto_eval.tasks import Problem

    judge = arith_judge()
    texts = {
        "sound": "First, 12 + 30 = 42.\n\nThen 42 \\times 2 = 84.\n\nSo the answer is \\boxed{84}.",
        "lucky": "First, 12 + 30 = 43.\n\nThen 43 + 41 = 84.\n\nSo the answer is \\boxed{84}.",  # wrong step 0
        "wrong": "First, 12 + 30 = 42.\n\nThen 42 + 40 = 82.\n\nSo the answer is \\boxed{82}.",
    }
    problems, records = [], []
    for pid, text in texts.items():
        p = Problem(id=pid, problem="Compute (12 + 30) * 2.", answer="84", solution=None, meta={})
        problems.append(p)
        records.append({"task": "t", "id": pid, "sample_index": 0, "completion": text, "finish_reason": "stop",
                        **grade_completion(p.answer, text, p.problem)})
    audit_records(records, problems, judge)
    first = {r["id"]: r["first_error"] for r in records}
    assert first == {"sound": -1, "lucky": 0, "wrong": -1}
    assert [r["correct"] for r in records] == [True, True, False]
    entry, _ = task_metrics(records, list(texts), n=1, metric_names=["pass@1"], greedy=True)
    f = entry["flawed_step_rate"]
    assert (f["value"], f["n_correct"], f["n_flawed"], f["n_no_verdict"]) == (0.5, 2, 1, 0)
