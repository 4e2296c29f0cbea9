"""openai backend: several servers, a server dying mid-run, the whole-request timeout against a server that
drips bytes, the sampling fields sent, option validation up front and `--model` discovered from the server.

All servers here are loopback servers written for the test (the fault shapes cannot be produced on demand
with a real server); tests/backends/test_openai_vllm.py runs the same paths against a real `vllm serve`.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_openai_faults import FaultyServer

from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.openai import OPENAI_NEUTRAL, VLLM_NEUTRAL, OpenAIBackend
from stepkto_eval.cli import main


def ask(text: str) -> GenerationRequest:
    return GenerationRequest(key=text, messages=({"role": "user", "content": text},),
                             sampling=SamplingSettings(max_tokens=8))


class MortalServer:
    """Answers `echo <prompt>` after a short delay; after `die_after` answers it dies: the listening socket
    closes (new connections are refused) and every request still in flight loses its connection unanswered."""

    def __init__(self, die_after: int | None = None, owned_by: str = "fake", delay: float = 0.05, model: str = "m"):
        self.answered: Counter = Counter()
        self.received = 0
        self.dead = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send({"object": "list", "data": [{"id": model, "object": "model", "owned_by": owned_by}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                with server.lock:
                    server.received += 1
                time.sleep(delay)  # keeps several requests in flight at once
                with server.lock:
                    dying = die_after is not None and sum(server.answered.values()) >= die_after
                    if dying and not server.dead.is_set():
                        server.dead.set()
                        threading.Thread(target=server.close, daemon=True).start()
                    if not server.dead.is_set():
                        server.answered[prompt] += 1
                if server.dead.is_set():
                    self.connection.shutdown(socket.SHUT_RDWR)  # in flight when the server died: no answer
                    self.close_connection = True
                    return
                self._send({"choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": f"echo {prompt}"}}],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 2}})

            def _send(self, payload):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.close()


def test_a_server_dying_mid_run_loses_no_sample_and_answers_none_twice():
    with MortalServer() as steady, MortalServer(die_after=4) as mortal:
        backend = OpenAIBackend(base_url=f"{steady.url},{mortal.url}", concurrency=2, timeout=10,
                                connect_timeout=2, max_retries=3, backoff=0.05)
        prompts = [f"q{i}" for i in range(24)]
        out = backend.generate([ask(p) for p in prompts])
        backend.close()
    assert mortal.dead.is_set() and mortal.received > 4  # it died with requests in flight
    assert [c.key for c in out] == prompts
    assert all((c.finish_reason, c.text) == ("stop", f"echo {c.key}") for c in out), [c.error for c in out]
    # every prompt answered exactly once across the fleet, and each completion names the server that answered
    assert steady.answered + mortal.answered == Counter(prompts)
    by_server = Counter(c.server for c in out)
    assert by_server == {steady.url: sum(steady.answered.values()), mortal.url: 4}


def test_requests_are_spread_with_per_server_concurrency():
    with MortalServer(delay=0.2) as a, MortalServer(delay=0.2) as b:
        backend = OpenAIBackend(base_url=[a.url, b.url], concurrency=2, timeout=10)
        out = backend.generate([ask(f"q{i}") for i in range(8)])
        backend.close()
    assert all(c.finish_reason == "stop" for c in out)
    assert sum(a.answered.values()) >= 2 and sum(b.answered.values()) >= 2  # both servers worked
    assert {c.server for c in out} == {a.url, b.url}


# ---- whole-request timeout ---------------------------------------------------------------------------------

class DripServer:
    """Sends its answer one byte every `interval` seconds: each read succeeds well within any per-read
    timeout, so only a bound on the whole request ends it. `phase` = where the dripping starts."""

    def __init__(self, phase: str, interval: float = 0.3):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        self.stop = threading.Event()
        self.phase, self.interval = phase, interval
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.dripped_until_close = threading.Event()  # set when the client hung up on the drip

    def _serve(self):
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket):
        conn.recv(65536)  # the request (small; one read on loopback)
        body = json.dumps({"choices": [{"message": {"content": "x" * 2000}, "finish_reason": "stop"}]}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        data = head + body
        if self.phase == "body":  # headers at once, then the body drips
            conn.sendall(head)
            data = body
        try:
            for i in range(len(data)):  # ~10 minutes of dripping: far past any timeout in this test
                if self.stop.wait(self.interval):
                    break
                conn.sendall(data[i:i + 1])
        except OSError:
            self.dripped_until_close.set()
        finally:
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.listener.close()


@pytest.mark.parametrize("phase", ["head", "body"])
def test_timeout_bounds_the_whole_request_against_a_dripping_server(phase):
    with DripServer(phase) as drip:
        backend = OpenAIBackend("m", base_url=drip.url, timeout=1.5, connect_timeout=1.5, max_retries=0)
        start = time.monotonic()
        out = backend.generate([ask("question")])[0]
        elapsed = time.monotonic() - start
        backend.close()
        assert out.finish_reason == "error" and "within the request timeout (1.5s)" in out.error
        # without the whole-request bound it would run for minutes; the margin covers a loaded machine
        assert elapsed < 15, elapsed
        assert drip.dripped_until_close.wait(5)  # the connection was really closed, not left dripping


# ---- sampling fields ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("owned_by, option, extras", [
    ("vllm", "auto", VLLM_NEUTRAL),
    ("sglang", "auto", {}),
    ("sglang", "vllm", VLLM_NEUTRAL),
    ("vllm", "openai", {}),
])
def test_neutral_sampling_fields_are_sent_and_recorded(owned_by, option, extras):
    with FaultyServer() as server:
        server.models = []  # replaced below with an owned_by entry
        original = server._send

        def send(handler, status, payload, headers=None):  # /v1/models with the chosen owner
            if "data" in payload:
                payload = {"object": "list", "data": [{"id": "served-model", "owned_by": owned_by}]}
            return original(handler, status, payload, headers)

        server._send = send
        backend = OpenAIBackend(base_url=server.url, sampling_fields=option)
        backend.generate([ask("ok")])
        described = backend.describe()
        backend.close()
    (body,) = server.bodies
    expected = {**OPENAI_NEUTRAL, **extras}
    assert {k: body[k] for k in expected} == expected
    assert not (set(VLLM_NEUTRAL) - set(extras)) & set(body)  # nothing vLLM-only sent to a non-vLLM server
    assert described["sampling_fields"] == option
    assert described["servers"] == [{"url": server.url, "sampling_fields": "vllm" if extras else "openai",
                                     "sent": expected}]


# ---- validation and model discovery through the CLI --------------------------------------------------------

@pytest.mark.parametrize("option, message", [
    ("concurrency=0", "-O concurrency=0: must be an integer >= 1"),
    ("max_retries=-1", "-O max_retries=-1: must be an integer >= 0"),
    ("timeout=abc", "-O timeout='abc': must be a number > 0"),
    ("timeout=-5", "-O timeout=-5: must be a number > 0"),
    ("sampling_fields=some", "-O sampling_fields='some': must be one of auto, vllm, openai"),
])
def test_bad_options_are_refused_before_anything_is_written(option, message, shared_data, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--tasks", "math500",
                 "--data-dir", str(shared_data), "--limit", "1", "--output-dir", str(out), "-O", option])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_model_is_discovered_and_a_resume_may_use_another_fleet(shared_data, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--backend", "openai", "--tasks", "math500", "--data-dir", str(shared_data), "--limit", "3",
            "--max-tokens", "8", "--output-dir", str(out)]
    with MortalServer() as first:
        assert main([*args, "--base-url", first.url]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["name_or_path"] == "m" and manifest["servers"] == [first.url]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [s["server"] for s in samples] == [first.url] * 3
    # drop the last sample, as a killed run would have, and resume it on two other servers
    (out / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples[:2]))
    with MortalServer() as second, MortalServer() as third:
        assert main([*args, "--base-url", f"{second.url},{third.url}"]) == 0, capsys.readouterr().err
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 3 and samples[2]["server"] in (second.url, third.url)
    assert "resumed" in json.loads((out / "manifest.json").read_text())


def test_openai_critic_takes_a_fleet_and_checks_its_options():
    from stepkto_eval.audit.registry import JudgeSpecError, make_judge

    with MortalServer() as a, MortalServer() as b:
        judge = make_judge(f"critic:openai:m@{a.url},{b.url}?concurrency=3")
        assert [s.url for s in judge.backend.servers] == [a.url, b.url]
        assert judge.backend.options.concurrency == 3
        judge.backend.close()
    with pytest.raises(JudgeSpecError, match="-O timeout=-5"):  # refused while parsing: no server is asked
        make_judge("critic:openai:m@http://127.0.0.1:9/v1?timeout=-5")
