"""Kill a run with SIGKILL mid-way, rerun it: every sample exactly once, metrics equal an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stepkto_eval.cli import main

REPO = Path(__file__).resolve().parents[1]
LIMIT = 3


def args_for(model: Path, out: Path, data: Path, extra: list[str]) -> list[str]:
    return ["--model", str(model), "--tasks", "math500,amc23", "--backend", "hf", "--data-dir", str(data),
            "--limit", str(LIMIT), "--max-tokens", "16", "--batch-size", "2", "--output-dir", str(out), *extra]


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.is_file() else 0


# The CLI as a subprocess that stops itself (SIGSTOP) right after its first durable batch. The tiny model writes
# all its batches within ~50 ms, so killing "as soon as a line shows up" raced the end of the run: a poller
# delayed by load saw the run already finished. Stopping at a known point makes the kill land mid-run every
# time; the fault (a crash between two batches) cannot be produced on cue otherwise.
STOP_AFTER_FIRST_BATCH = """
import os, signal, sys
from stepkto_eval import runs
from stepkto_eval.cli import main

append = runs.RunFolder.append_samples

def append_then_stop(self, records):
    append(self, records)  # durable (fsync'ed) before returning
    os.kill(os.getpid(), signal.SIGSTOP)

runs.RunFolder.append_samples = append_then_stop
sys.exit(main(sys.argv[1:]))
"""


def start_and_kill(cli_args: list[str], samples: Path, expected: int, log: Path) -> int:
    """Start the CLI in a subprocess, SIGKILL it once its first batch is durable; return lines seen."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", STOP_AFTER_FIRST_BATCH, *cli_args], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        # waits for a state change (stopped or exited), not for a moment; pytest-timeout bounds a hang
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            pytest.fail(f"run ended (status {status}) before it could be killed: {log.read_text()[-2000:]}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    seen = count_lines(samples)
    assert seen < expected, "the run finished before the kill: the test did not interrupt anything"
    return seen


def by_key(run: Path) -> dict:
    out = {}
    for line in (run / "samples.jsonl").read_text().splitlines():
        r = json.loads(line)
        out.setdefault((r["task"], r["id"], r["sample_index"]), []).append(r)
    return out


@pytest.mark.parametrize("extra,n", [
    ([], 1),                                                     # greedy
    (["--n", "2", "--temperature", "0.9", "--seed", "3"], 2),    # sampled: per-sample seeds
], ids=["greedy", "sampled"])
def test_killed_run_resumes_to_the_uninterrupted_result(tiny_model_dir, shared_data, tmp_path, extra, n):
    expected = 2 * LIMIT * n
    killed = tmp_path / "killed"
    seen = start_and_kill(args_for(tiny_model_dir, killed, shared_data, extra), killed / "samples.jsonl", expected,
                          tmp_path / "killed.log")
    assert json.loads((killed / "manifest.json").read_text())["settings_hash"]  # written before any sample

    assert main(args_for(tiny_model_dir, killed, shared_data, extra)) == 0
    clean = tmp_path / "clean"
    assert main(args_for(tiny_model_dir, clean, shared_data, extra)) == 0

    resumed, reference = by_key(killed), by_key(clean)
    assert len(resumed) == expected and all(len(v) == 1 for v in resumed.values()), "a sample was duplicated"
    assert seen == 2 and count_lines(killed / "samples.jsonl") == expected  # one durable batch of 2
    strip = ("seed", "verdict", "correct", "extracted", "completion", "tokens", "finish_reason")
    for key, (rec,) in reference.items():
        assert {k: resumed[key][0][k] for k in strip} == {k: rec[k] for k in strip}, key
    m_killed = json.loads((killed / "metrics.json").read_text())
    m_clean = json.loads((clean / "metrics.json").read_text())
    assert m_killed["tasks"] == m_clean["tasks"] and m_killed["overall"] == m_clean["overall"]
