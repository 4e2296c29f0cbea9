"""Backend `openai`: one or several OpenAI-compatible HTTP servers (vLLM, SGLang, llama.cpp, hosted APIs) via httpx.

- Endpoint `chat` (`/v1/chat/completions`, the server renders the chat template) or `completions`
  (`/v1/completions`, plain prompts; callers see `uses_chat=False` and send `prompt`).
- The model name is the one given, or the only model the servers' `/v1/models` list.
- Several servers (`base_url="URL1,URL2"`, e.g. one `vllm serve` per node): each has its own `concurrency`
  requests in flight; a request goes to the healthy server with the fewest requests in flight, and a retry
  waits for a server whose last attempt succeeded when there is one (a server that failed is avoided for a
  cooling-off period that doubles with each consecutive failure; after it, new requests probe it again).
  Each completion records the server that answered it.
- Retries (bounded, `max_retries` per request across all servers) on timeouts, connection errors, 429 and
  5xx, with exponential backoff and full jitter: wait = uniform(0, min(max_backoff, backoff * 2**attempt)),
  or the server's Retry-After when it sends one (capped the same way); no backoff when another server is
  sound (the retry waits for a slot there instead). Other 4xx answers are not retried.
- `timeout` bounds the whole request, not each read: httpx's timeouts apply per network operation, so a server
  that drips a byte every few seconds would keep a request alive for ever. A timer shuts the connection's
  socket down when the request's time is up (connections are not kept alive between requests, so every
  request's socket is known; a new TCP connection per request is cheap next to a generation).
- Sampling fields (`sampling_fields`): the request always carries temperature, top_p, max_tokens and the
  OpenAI penalties (presence/frequency 0). vLLM's server fills every field a request leaves out from the
  checkpoint's generation_config.json ("user -> server default -> OpenAI default",
  `to_sampling_params` in vllm/entrypoints/openai/chat_completion/protocol.py, vLLM 0.32), which includes
  top_k, min_p and repetition_penalty. So `vllm` also sends their neutral values (top_k=-1, min_p=0,
  repetition_penalty=1; vLLM accepts them as extra request fields; -1 disables top_k in old and new vLLM),
  making `--backend openai` sample as `--backend vllm` does. `openai` sends only the OpenAI fields (for servers
  that reject unknown fields). `auto` (default) decides per server: `vllm` when its `/v1/models` entries are
  `owned_by: "vllm"` (vLLM's ModelCard default), else `openai`. What was sent is in `describe()`.
- A request that still fails becomes Completion(finish_reason="error", error=...); nothing is invented.
  The caller records it on its sample, and a rerun sends it again.
- `seed` is passed through; servers that honour it (vLLM does) then reproduce sampled completions.
"""
from __future__ import annotations

import logging
import math
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Sequence

import httpx

from .base import Completion, GenerationRequest

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 429}  # plus every 5xx
SAMPLING_FIELDS = ("auto", "vllm", "openai")
OPENAI_NEUTRAL = {"presence_penalty": 0.0, "frequency_penalty": 0.0}  # OpenAI's own defaults, sent explicitly
VLLM_NEUTRAL = {"top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0}  # vLLM extra fields, "off" values


def _number(name: str, value: Any, *, minimum: float, inclusive: bool, integer: bool = False) -> None:
    """Refuse a backend option of the wrong type or range, naming it as the user typed it (-O NAME=VALUE)."""
    kind = int if integer else (int, float)
    ok = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= minimum if inclusive else value > minimum)
    if not ok:
        what = "an integer" if integer else "a number"
        bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
        raise ValueError(f"backend option -O {name}={value!r}: must be {what} {bound}")


def split_urls(base_url: str | Sequence[str]) -> list[str]:
    """"URL1,URL2" or a list -> normalised base URLs (each ending in /v1), duplicates refused."""
    parts = base_url.split(",") if isinstance(base_url, str) else list(base_url)
    urls = [_normalise_base_url(str(p).strip()) for p in parts if str(p).strip()]
    if not urls:
        raise ValueError("--base-url: no server URL given")
    if len(set(urls)) != len(urls):
        raise ValueError(f"--base-url lists a server twice: {', '.join(urls)}")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--base-url {url!r}: must start with http:// or https://")
    return urls


@dataclass
class OpenAIOptions:
    base_url: str | list = "http://127.0.0.1:8000/v1"  # one URL, or several separated by commas
    api_key: str | None = None
    endpoint: str = "chat"  # "chat" | "completions"
    concurrency: int = 8  # requests in flight per server
    timeout: float = 600.0  # seconds per request, whole: long chains of thought take minutes on busy servers
    connect_timeout: float = 10.0
    max_retries: int = 4  # retries after the first attempt, across all servers
    backoff: float = 1.0  # seconds, doubled per retry
    max_backoff: float = 30.0
    sampling_fields: str = "auto"  # auto | vllm | openai (see the module docstring)

    def __post_init__(self) -> None:
        if self.endpoint not in ("chat", "completions"):
            raise ValueError(f"backend option -O endpoint={self.endpoint!r}: must be 'chat' or 'completions'")
        if self.sampling_fields not in SAMPLING_FIELDS:
            raise ValueError(f"backend option -O sampling_fields={self.sampling_fields!r}: must be one of "
                             f"{', '.join(SAMPLING_FIELDS)}")
        _number("concurrency", self.concurrency, minimum=1, inclusive=True, integer=True)
        _number("max_retries", self.max_retries, minimum=0, inclusive=True, integer=True)
        _number("timeout", self.timeout, minimum=0, inclusive=False)
        _number("connect_timeout", self.connect_timeout, minimum=0, inclusive=False)
        _number("backoff", self.backoff, minimum=0, inclusive=True)
        _number("max_backoff", self.max_backoff, minimum=0, inclusive=True)
        self.base_url = split_urls(self.base_url)


class RetryableError(Exception):
    """A failure worth another attempt (timeout, dropped connection, 429, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _normalise_base_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


@dataclass
class Server:
    """One server of the fleet and what the client knows about it."""

    url: str
    client: httpx.Client
    timeout: float
    models: list[dict] = field(default_factory=list)
    mode: str = "openai"  # the sampling fields it is sent: vllm | openai
    in_flight: int = 0
    failures: int = 0  # consecutive failed attempts
    down_until: float = 0.0  # monotonic time before which it is avoided

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        """One attempt, bounded as a whole by `timeout` (see the module docstring)."""
        fired = threading.Event()
        streams: list = []
        lock = threading.Lock()

        def shut(stream) -> None:
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read; close() alone would not
                except OSError:
                    pass

        def trace(name: str, info: dict) -> None:
            # httpcore reports the network stream of each new connection (and again once TLS is on)
            if name.endswith((".connect_tcp.complete", ".connect_unix_socket.complete", ".start_tls.complete")):
                with lock:
                    streams.append(info.get("return_value"))
                    if fired.is_set():
                        shut(streams[-1])

        def expire() -> None:
            with lock:
                fired.set()
                for stream in streams:
                    shut(stream)

        timer = threading.Timer(self.timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            response = self.client.request(method, path, json=body, extensions={"trace": trace})
        except (httpx.TimeoutException, httpx.TransportError) as exc:  # timeouts, refused or dropped connections
            if fired.is_set():
                raise RetryableError(f"no complete answer within the request timeout ({self.timeout:g}s)") from exc
            raise RetryableError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            timer.cancel()
        return _check(response)


def _check(response: httpx.Response) -> dict:
    if response.status_code >= 500 or response.status_code in RETRY_STATUS:
        retry_after = response.headers.get("retry-after")
        raise RetryableError(
            f"HTTP {response.status_code}: {response.text[:300]}",
            float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None,
        )
    if response.status_code >= 400:
        raise ValueError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        return response.json()
    except ValueError as exc:  # a proxy's HTML page, a truncated body
        raise RetryableError(f"answer is not JSON: {response.text[:200]!r}") from exc


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str | None = None, **options):
        self.options = OpenAIOptions(**options)
        headers = {"Authorization": f"Bearer {self.options.api_key}"} if self.options.api_key else {}
        timeout = httpx.Timeout(self.options.timeout, connect=min(self.options.connect_timeout, self.options.timeout))
        # no keep-alive: each request's own socket is then known to the whole-request timer (Server.request)
        limits = httpx.Limits(max_connections=self.options.concurrency, max_keepalive_connections=0)
        self.servers = [Server(url, httpx.Client(base_url=url, headers=headers, timeout=timeout, limits=limits),
                               self.options.timeout) for url in self.options.base_url]
        self.base_url = self.servers[0].url  # the first server (kept for callers that name one)
        self._slots = threading.Condition()
        self.uses_chat = self.options.endpoint == "chat"
        try:
            for server in self.servers:
                server.models = self._list_models(server)
                server.mode = self._sampling_mode(server)
            self.server_models = [m for s in self.servers for m in s.models]
            self.model = model or self._only_model()
            self._check_model_served()
        except BaseException:
            self.close()  # no connection pools left behind by a refused start
            raise

    # ---- fleet discovery -----------------------------------------------------------------------
    def _list_models(self, server: Server) -> list[dict]:
        """`/v1/models`, tried with the retry policy; an empty list when the server has no such route or is down."""
        try:
            body = self._with_retries(lambda _s: server.request("GET", "/models"), servers=[server])[0]
        except Exception as exc:
            log.warning("could not list models at %s/models: %s", server.url, exc)
            return []
        return list(body.get("data") or [])

    def _sampling_mode(self, server: Server) -> str:
        if self.options.sampling_fields != "auto":
            return self.options.sampling_fields
        # vLLM's ModelCard says owned_by="vllm" (vllm/entrypoints/serve/engine/protocol.py, vLLM 0.32)
        return "vllm" if any(m.get("owned_by") == "vllm" for m in server.models) else "openai"

    def _only_model(self) -> str:
        names = sorted({m.get("id") for m in self.server_models if m.get("id")})
        if len(names) != 1:
            found = ", ".join(names) if names else "none"
            urls = ", ".join(s.url for s in self.servers)
            raise ValueError(f"{urls}: pass the model name (--model); the server lists: {found}")
        return names[0]

    def _check_model_served(self) -> None:
        """A server that lists its models but not ours would fail every request it gets: refuse it now."""
        for server in self.servers:
            ids = [m.get("id") for m in server.models]
            if ids and self.model not in ids:
                raise ValueError(f"{server.url} does not serve model {self.model!r} (it lists: {', '.join(map(str, ids))})")

    # ---- scheduling ----------------------------------------------------------------------------
    def _acquire(self, avoid: Server | None, servers: list[Server]) -> Server:
        """A slot on the best server: fewest in flight among those that may take the request, waiting while
        they are all full. A first attempt may go to any server past its cooling-off time (so a recovered
        server is found again); a retry (`avoid` set) waits for a server whose last attempt succeeded, when
        there is one, rather than spending its attempts on a server that keeps failing."""
        limit = self.options.concurrency
        with self._slots:
            while True:
                now = time.monotonic()
                healthy = [s for s in servers if s.down_until <= now]
                sound = [s for s in servers if s.failures == 0] if avoid is not None else []
                pool = sound or healthy or servers
                free = [s for s in pool if s.in_flight < limit]
                if free:
                    best = min(free, key=lambda s: (s is avoid and len(free) > 1, s.in_flight, s.failures))
                    best.in_flight += 1
                    return best
                wake = [s.down_until - now for s in servers if s.down_until > now]
                self._slots.wait(timeout=min(wake) if wake else None)

    def _release(self, server: Server, ok: bool) -> None:
        with self._slots:
            server.in_flight -= 1
            if ok:
                server.failures, server.down_until = 0, 0.0
            else:
                server.failures += 1
                opts = self.options
                server.down_until = time.monotonic() + min(opts.max_backoff, opts.backoff * 2 ** server.failures)
            self._slots.notify_all()

    def _with_retries(self, call, servers: list[Server] | None = None) -> tuple[Any, Server]:
        """(call(server)'s result, the server that gave it); RuntimeError after max_retries + 1 failed attempts."""
        opts, servers = self.options, servers or self.servers
        last: Server | None = None
        for attempt in range(opts.max_retries + 1):
            server = self._acquire(last, servers)
            try:
                result = call(server)
            except RetryableError as exc:
                self._release(server, ok=False)
                if attempt == opts.max_retries:
                    raise RuntimeError(f"gave up after {attempt + 1} attempts; last error ({server.url}): {exc}") \
                        from exc
                last = server
                if any(s is not server and s.failures == 0 for s in servers):
                    log.info("retrying on another server after %s: %s", server.url, exc)
                    continue  # another healthy server takes it now: no reason to wait
                cap = min(opts.max_backoff, opts.backoff * 2**attempt)
                wait = min(opts.max_backoff, exc.retry_after) if exc.retry_after is not None else random.uniform(0, cap)
                log.info("retrying in %.2fs after %s: %s", wait, server.url, exc)
                time.sleep(wait)
            except BaseException:
                self._release(server, ok=True)  # a refused request (4xx) says nothing about the server's health
                raise
            else:
                self._release(server, ok=True)
                return result, server
        raise AssertionError("unreachable")

    # ---- generation ----------------------------------------------------------------------------
    def sampling_fields(self, server: Server) -> dict:
        """The neutral sampling values sent to `server` besides temperature/top_p/max_tokens."""
        return {**OPENAI_NEUTRAL, **(VLLM_NEUTRAL if server.mode == "vllm" else {})}

    def _with_sampling_fields(self, body: dict, server: Server) -> dict:
        """The request for `server`: its neutral fields, overridden by the request's own filters. A server in
        `openai` mode has no field for top_k / min_p / repetition_penalty; sending such a request there would
        sample from another distribution than asked, so it is refused."""
        extras = {k: body[k] for k in VLLM_NEUTRAL if k in body}
        if extras and server.mode != "vllm":
            raise ValueError(f"{server.url} takes only OpenAI sampling fields (sampling_fields={server.mode}), and "
                             f"this request needs {extras}; serve the model with vLLM (sampling_fields=vllm) or set "
                             "the judge's top_k=0, min_p=0, repetition_penalty=1 explicitly")
        return {**self.sampling_fields(server), **body}

    def _body(self, request: GenerationRequest) -> tuple[str, dict]:
        s = request.sampling
        body: dict = {"model": self.model, "max_tokens": s.max_tokens, "temperature": s.temperature,
                      "top_p": s.top_p}
        if s.has_extras:  # a judge's generation-config filters: only a vLLM server takes them (checked per server)
            body.update(top_k=s.top_k if s.top_k > 0 else -1, min_p=s.min_p, repetition_penalty=s.repetition_penalty)
        if s.stop:
            body["stop"] = list(s.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        if self.uses_chat:
            if request.messages is None:
                raise ValueError("the chat endpoint needs `messages`")
            return "/chat/completions", {**body, "messages": list(request.messages)}
        if request.prompt is None:
            raise ValueError("the completions endpoint needs a plain `prompt` (use endpoint='chat' for messages)")
        return "/completions", {**body, "prompt": request.prompt}

    def _one(self, request: GenerationRequest) -> Completion:
        try:
            path, body = self._body(request)
            answer, server = self._with_retries(
                lambda srv: srv.request("POST", path, self._with_sampling_fields(body, srv)))
            return self._to_completion(request, answer, server.url)
        except Exception as exc:  # recorded on the sample; the run goes on
            return Completion(request.key, None, "error", prompt_text=request.prompt,
                              error=f"{type(exc).__name__}: {exc}")

    def _to_completion(self, request: GenerationRequest, answer: dict, server: str) -> Completion:
        choices = answer.get("choices") or []
        if not choices:
            raise ValueError(f"server answer has no choices: {str(answer)[:300]}")
        choice = choices[0]
        text = (choice.get("message") or {}).get("content") if self.uses_chat else choice.get("text")
        if text is None:
            raise ValueError(f"server answer has no text: {str(choice)[:300]}")
        # OpenAI reasons: stop | length | content_filter | tool_calls; only "length" means truncated
        reason = "length" if choice.get("finish_reason") == "length" else "stop"
        usage = answer.get("usage") or {}
        return Completion(request.key, text, reason, prompt_text=request.prompt, server=server,
                          prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        with ThreadPoolExecutor(max_workers=self.options.concurrency * len(self.servers)) as pool:
            return list(pool.map(self._one, requests))  # map keeps the input order

    def describe(self) -> dict:
        served = next((m for m in self.server_models if m.get("id") == self.model), {})
        return {
            "backend": self.name, "model": self.model, "base_url": self.base_url,
            "endpoint": self.options.endpoint, "server_model": served,  # e.g. vLLM's root path, max_model_len
            "sampling_fields": self.options.sampling_fields,
            "servers": [{"url": s.url, "sampling_fields": s.mode, "sent": self.sampling_fields(s)}
                        for s in self.servers],
            "httpx": httpx.__version__,  # never the API key
        }

    def close(self) -> None:
        for server in self.servers:
            server.client.close()


def served_model(base_url: str | Sequence[str], api_key: str | None = None, **options) -> str:
    """The one model the server(s) serve (for `--model` left out); ValueError when there is not exactly one."""
    backend = OpenAIBackend(None, base_url=base_url, api_key=api_key, **options)
    try:
        return backend.model
    finally:
        backend.close()
