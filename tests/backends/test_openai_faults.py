"""openai backend against a loopback server written here, which misbehaves on purpose.

The server speaks just enough of the OpenAI API (`/v1/models`, `/v1/chat/completions`, `/v1/completions`)
and decides per request what to do from the prompt text: answer, answer 500 / 429, hang past the client's
timeout, or drop the connection. It counts attempts per prompt, so the tests see the retries server-side.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.openai import OpenAIBackend

FAULT = re.compile(r"^(500|429|400|hang|drop|slow|long):(\d+|always):")


class FaultyServer:
    """Behaviour per prompt: "<fault>:<times>:<name>" fails <times> times with <fault>, then answers.
    Faults: 500, 429, 400, hang, drop. times = "always" never recovers (until `heal()`)."""

    def __init__(self, models=("served-model",)):
        self.attempts: Counter = Counter()
        self.bodies: list[dict] = []
        self.models = list(models)
        self.healed = False
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.released = threading.Event()  # set on exit: frees handlers still "hanging"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    server._send(self, 200, {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]})
                else:
                    server._send(self, 404, {"error": "no such route"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server._answer(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def heal(self):
        self.healed = True

    @staticmethod
    def _send(handler, status: int, payload: dict, headers: dict | None = None):
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(self, handler, body: dict):
        prompt = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
        with self.lock:
            self.attempts[prompt] += 1
            attempt = self.attempts[prompt]
            self.bodies.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            match = FAULT.match(prompt)
            fault, times = match.groups() if match else ("ok", "0")
            failing = not self.healed and (times == "always" or attempt <= int(times))
            if fault == "slow":
                time.sleep(0.2)
            elif failing and fault == "500":
                return self._send(handler, 500, {"error": "boom"})
            elif failing and fault == "429":
                return self._send(handler, 429, {"error": "slow down"}, {"Retry-After": "0"})
            elif failing and fault == "400":
                return self._send(handler, 400, {"error": "bad request"})
            elif failing and fault == "hang":
                # hangs until the client has given up on it (its next attempt arrived) or the server
                # closes: past the client's timeout by construction, however slow the machine
                self._wait_for_attempt(prompt, attempt + 1)
            elif failing and fault == "drop":
                handler.connection.shutdown(socket.SHUT_RDWR)  # no status line at all
                handler.close_connection = True
                return
            text = f"echo {prompt}"
            finish = "length" if fault == "long" else "stop"
            choice = {"index": 0, "finish_reason": finish}
            choice.update({"message": {"role": "assistant", "content": text}} if "messages" in body else {"text": text})
            usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()), "total_tokens": 0}
            self._send(handler, 200, {"id": "x", "choices": [choice], "usage": usage})
        finally:
            with self.lock:
                self.in_flight -= 1

    def _wait_for_attempt(self, prompt: str, attempt: int) -> None:
        # bounded, so a client that never times out gets a (late) answer and fails the test instead of hanging it
        limit = time.monotonic() + 20 * TIMEOUT
        while self.attempts[prompt] < attempt and time.monotonic() < limit and not self.released.wait(0.01):
            pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FaultyServer() as s:
        yield s


# The client timeout only has to outlast a healthy loopback answer (milliseconds; 0.2 s for "slow") on a loaded
# machine: it is generous on purpose. A "hang" never answers before the client gives up, whatever this value.
TIMEOUT = 3.0


def backend(server, **options) -> OpenAIBackend:
    defaults = dict(base_url=server.url, timeout=TIMEOUT, connect_timeout=TIMEOUT, max_retries=2, backoff=0.01,
                    concurrency=4)
    return OpenAIBackend(**{**defaults, **options})


def ask(text: str, **kw) -> GenerationRequest:
    return GenerationRequest(key=text, messages=({"role": "user", "content": text},),
                             sampling=kw.pop("sampling", SamplingSettings(max_tokens=32)), **kw)


# ---- retries: each fault recovers after one failure, and costs exactly one retry ---------------------------

@pytest.mark.parametrize("fault", ["500", "429", "hang", "drop"])
def test_transient_fault_is_retried(server, fault):
    prompt = f"{fault}:1:question"
    out = backend(server).generate([ask(prompt)])[0]
    assert (out.finish_reason, out.text) == ("stop", f"echo {prompt}")
    assert server.attempts[prompt] == 2


def test_permanent_failure_is_recorded_and_others_succeed(server):
    client = backend(server)
    prompts = ["ok-1", "500:always:doomed", "500:1:flaky", "drop:always:gone", "ok-2"]
    out = client.generate([ask(p) for p in prompts])
    assert [c.key for c in out] == prompts
    by_key = {c.key: c for c in out}
    for good in ("ok-1", "500:1:flaky", "ok-2"):
        assert by_key[good].finish_reason == "stop" and by_key[good].text == f"echo {good}"
    for bad in ("500:always:doomed", "drop:always:gone"):
        assert by_key[bad].finish_reason == "error" and by_key[bad].text is None
        assert "gave up after 3 attempts" in by_key[bad].error
        assert server.attempts[bad] == 3  # first try + max_retries, never more
    assert "HTTP 500" in by_key["500:always:doomed"].error

    # a rerun of just the failed requests succeeds once the server is healthy again
    server.heal()
    failed = [ask(c.key) for c in out if c.finish_reason == "error"]
    again = client.generate(failed)
    assert [(c.key, c.finish_reason, c.text) for c in again] == [
        (r.key, "stop", f"echo {r.key}") for r in failed]


def test_client_errors_are_not_retried(server):
    out = backend(server).generate([ask("400:always:malformed")])[0]
    assert out.finish_reason == "error" and "HTTP 400" in out.error
    assert server.attempts["400:always:malformed"] == 1


def test_concurrency_is_bounded(server):
    client = backend(server, concurrency=2)
    out = client.generate([ask(f"slow:0:{i}") for i in range(6)])
    assert all(c.finish_reason == "stop" for c in out)
    assert server.max_in_flight == 2


# ---- request and answer mapping ----------------------------------------------------------------------------

def test_settings_and_seed_are_passed_through(server):
    sampling = SamplingSettings(temperature=0.7, top_p=0.9, max_tokens=77, stop=("###",))
    backend(server).generate([ask("ok-seeded", sampling=sampling, seed=1234)])
    (body,) = server.bodies
    assert body["model"] == "served-model"  # discovered through /v1/models
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"], body["seed"]) == (
        0.7, 0.9, 77, ["###"], 1234)


def test_length_and_usage_are_mapped(server):
    out = backend(server).generate([ask("long:0:essay")])[0]
    assert (out.finish_reason, out.prompt_tokens, out.completion_tokens) == ("length", 1, 2)


def test_completions_endpoint_sends_plain_prompts(server):
    client = backend(server, endpoint="completions")
    assert client.uses_chat is False
    plain, chat = client.generate([
        GenerationRequest(key="p", prompt="Question: 1+1?\nAnswer:", sampling=SamplingSettings(max_tokens=8)),
        ask("never-sent"),
    ])
    assert (plain.text, plain.prompt_text) == ("echo Question: 1+1?\nAnswer:", "Question: 1+1?\nAnswer:")
    assert chat.finish_reason == "error" and "plain `prompt`" in chat.error
    assert "never-sent" not in server.attempts


@pytest.mark.parametrize("models, expected", [
    (["a", "b"], "pass the model name"),
    ([], "the server lists: none"),
], ids=["ambiguous", "empty"])
def test_model_discovery_needs_exactly_one_model(models, expected):
    with FaultyServer(models=models) as s:
        with pytest.raises(ValueError, match=expected):
            backend(s)
        assert backend(s, model="b").model == "b"  # naming it always works


def test_describe_never_leaks_the_key(server):
    info = backend(server, api_key="sk-secret").describe()
    assert info["model"] == "served-model" and info["server_model"]["id"] == "served-model"
    assert "sk-secret" not in json.dumps(info)
