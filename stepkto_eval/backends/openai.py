"""Backend `openai`: any OpenAI-compatible HTTP server (vLLM, SGLang, llama.cpp, hosted APIs) via httpx.

- Endpoint `chat` (`/v1/chat/completions`, the server renders the chat template) or `completions`
  (`/v1/completions`, plain prompts; callers see `uses_chat=False` and send `prompt`).
- The model name is the one given, or the only model `/v1/models` lists.
- Concurrency is bounded by a thread pool (`concurrency` requests in flight).
- Retries (bounded, `max_retries`) on timeouts, connection errors, 429 and 5xx, with exponential backoff
  and full jitter: wait = uniform(0, min(max_backoff, backoff * 2**attempt)), or the server's
  Retry-After when it sends one (capped the same way). Other 4xx answers are not retried.
- A request that still fails becomes Completion(finish_reason="error", error=...); nothing is invented.
  The caller records it on its sample, and a rerun sends it again.
- `seed` is passed through; servers that honour it (vLLM does) then reproduce sampled completions.
"""
from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import httpx

from .base import Completion, GenerationRequest

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 429}  # plus every 5xx


@dataclass
class OpenAIOptions:
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: str | None = None
    endpoint: str = "chat"  # "chat" | "completions"
    concurrency: int = 8
    timeout: float = 600.0  # seconds per request: long chains of thought take minutes on busy servers
    connect_timeout: float = 10.0
    max_retries: int = 4  # retries after the first attempt
    backoff: float = 1.0  # seconds, doubled per retry
    max_backoff: float = 30.0


class RetryableError(Exception):
    """A failure worth another attempt (timeout, dropped connection, 429, 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _normalise_base_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str | None = None, **options):
        self.options = OpenAIOptions(**options)
        if self.options.endpoint not in ("chat", "completions"):
            raise ValueError(f"endpoint must be 'chat' or 'completions', not {self.options.endpoint!r}")
        self.base_url = _normalise_base_url(self.options.base_url)
        headers = {"Authorization": f"Bearer {self.options.api_key}"} if self.options.api_key else {}
        timeout = httpx.Timeout(self.options.timeout, connect=self.options.connect_timeout)
        limits = httpx.Limits(max_connections=self.options.concurrency)
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, limits=limits)
        self.server_models = self._list_models()
        self.model = model or self._only_model()
        self.uses_chat = self.options.endpoint == "chat"

    # ---- model discovery -----------------------------------------------------------------------
    def _list_models(self) -> list[dict]:
        """`/v1/models`, tried with the same retry policy; an empty list when the server has no such route."""
        try:
            body = self._with_retries(lambda: self._get("/models"))
        except Exception as exc:
            log.warning("could not list models at %s/models: %s", self.base_url, exc)
            return []
        return list(body.get("data") or [])

    def _only_model(self) -> str:
        names = [m.get("id") for m in self.server_models if m.get("id")]
        if len(names) != 1:
            found = ", ".join(names) if names else "none"
            raise ValueError(f"{self.base_url}: pass the model name (--model); the server lists: {found}")
        return names[0]

    # ---- HTTP with retries ---------------------------------------------------------------------
    def _get(self, path: str) -> dict:
        return self._check(self._transport(lambda: self.client.get(path)))

    def _post(self, path: str, body: dict) -> dict:
        return self._check(self._transport(lambda: self.client.post(path, json=body)))

    @staticmethod
    def _transport(call) -> httpx.Response:
        try:
            return call()
        except (httpx.TimeoutException, httpx.TransportError) as exc:  # timeouts, refused or dropped connections
            raise RetryableError(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _check(response: httpx.Response) -> dict:
        if response.status_code >= 500 or response.status_code in RETRY_STATUS:
            retry_after = response.headers.get("retry-after")
            raise RetryableError(
                f"HTTP {response.status_code}: {response.text[:300]}",
                float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None,
            )
        if response.status_code >= 400:
            raise ValueError(f"HTTP {response.status_code}: {response.text[:500]}")
        return response.json()

    def _with_retries(self, call):
        opts = self.options
        for attempt in range(opts.max_retries + 1):
            try:
                return call()
            except RetryableError as exc:
                if attempt == opts.max_retries:
                    raise RuntimeError(f"gave up after {attempt + 1} attempts; last error: {exc}") from exc
                cap = min(opts.max_backoff, opts.backoff * 2**attempt)
                wait = min(opts.max_backoff, exc.retry_after) if exc.retry_after is not None else random.uniform(0, cap)
                log.info("retrying in %.2fs after %s", wait, exc)
                time.sleep(wait)

    # ---- generation ----------------------------------------------------------------------------
    def _body(self, request: GenerationRequest) -> tuple[str, dict]:
        s = request.sampling
        body: dict = {"model": self.model, "max_tokens": s.max_tokens, "temperature": s.temperature,
                      "top_p": s.top_p}
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
            answer = self._with_retries(lambda: self._post(path, body))
            return self._to_completion(request, answer)
        except Exception as exc:  # recorded on the sample; the run goes on
            return Completion(request.key, None, "error", prompt_text=request.prompt,
                              error=f"{type(exc).__name__}: {exc}")

    def _to_completion(self, request: GenerationRequest, answer: dict) -> Completion:
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
        return Completion(request.key, text, reason, prompt_text=request.prompt,
                          prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            return list(pool.map(self._one, requests))  # map keeps the input order

    def describe(self) -> dict:
        served = next((m for m in self.server_models if m.get("id") == self.model), {})
        return {
            "backend": self.name, "model": self.model, "base_url": self.base_url,
            "endpoint": self.options.endpoint, "server_model": served,  # e.g. vLLM's root path, max_model_len
            "httpx": httpx.__version__,  # never the API key
        }

    def close(self) -> None:
        self.client.close()
