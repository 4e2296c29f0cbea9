"""Engine lifecycle: one accelerator budget across stages, an event log, and engines that die with their parent.

Stages own the GPU in turn (eval_run.py / labeling.py: generate everything, close the generation engine,
then start the judge). Every engine start and stop goes through `EngineHandle`, which

* checks, before anything loads, that the vLLM engines alive in this process plus the new one fit in the
  GPU's memory: vLLM preallocates `gpu_memory_utilization` of the whole device per engine (default 0.92,
  vllm/config/cache.py of vLLM 0.32), so two engines on one GPU only coexist when their fractions are split
  explicitly and sum to at most MEMORY_BUDGET;
* appends one JSON line per event to the file named by STEPKTO_ENGINE_LOG (when set): `start` before the
  model loads, `ready` once it has loaded (with the child processes it spawned), `stop` after its memory was
  returned and its processes have exited. Tests read the log to check that two engines never overlap;
* starts, once per process, a watchdog process (stepkto_eval/watchdog.py) that kills this process's
  descendants (vLLM's EngineCore, its workers) when this process dies without closing them (kill -9).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ENGINE_LOG_ENV = "STEPKTO_ENGINE_LOG"
# Sum of vLLM memory fractions allowed on one GPU: vLLM's own default for a single engine, i.e. two engines
# may together take what one engine takes by default (the rest is CUDA context, NCCL and fragmentation).
MEMORY_BUDGET = 0.92
VLLM_DEFAULT_FRACTION = 0.92
STOP_WAIT_S = 30.0  # how long a closed engine's processes may take to exit before they are killed

_lock = threading.Lock()
_live: dict[int, "EngineHandle"] = {}
_watchdog: subprocess.Popen | None = None


class EngineBudgetError(RuntimeError):
    """Starting this engine next to the ones already alive would not fit in GPU memory."""


def check_memory_budget(live: list[tuple[str, float | None]], new: tuple[str, float | None],
                        budget: float = MEMORY_BUDGET) -> None:
    """Raise EngineBudgetError when the engines `live` plus `new` ((name, fraction or None=default)) exceed
    `budget`. Pure function: called before any model loads."""
    if not live:
        return
    engines = [*live, new]
    unset = [name for name, fraction in engines if fraction is None]
    total = sum(VLLM_DEFAULT_FRACTION if f is None else f for _, f in engines)
    if unset or total > budget + 1e-9:
        parts = ", ".join(f"{name} {'default ' + str(VLLM_DEFAULT_FRACTION) if f is None else f}" for name, f in engines)
        hint = (f"set gpu_memory_utilization explicitly on each ({', '.join(unset)} left it at vLLM's default); "
                if unset else "")
        raise EngineBudgetError(
            f"{len(engines)} vLLM engines would share one GPU ({parts}; sum {total:.2f} > {budget}): {hint}"
            f"split the fractions so they sum to <= {budget} (e.g. -O gpu_memory_utilization=0.45 and "
            f"critic:vllm:MODEL?gpu_memory_utilization=0.45), or let the stages run one after the other")


def _log(event: dict) -> None:
    path = os.environ.get(ENGINE_LOG_ENV)
    if not path:
        return
    line = json.dumps({"time": time.time(), "pid": os.getpid(), **event}) + "\n"
    with open(path, "a", encoding="utf-8") as fh:  # one short append per event: lines of processes don't mix
        fh.write(line)
        fh.flush()


def read_engine_log(path: str | os.PathLike) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def overlapping_engines(events: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of engines whose lives (from `start` to `stop`; no stop = alive to the end) overlap."""
    spans: dict[str, list[float]] = {}
    names: dict[str, dict] = {}
    for e in events:
        if e["event"] == "start":
            spans[e["id"]] = [e["time"], float("inf")]
            names[e["id"]] = e
        elif e["event"] == "stop" and e["id"] in spans:
            spans[e["id"]][1] = e["time"]
    ids = sorted(spans, key=lambda i: spans[i][0])
    return [(names[a], names[b]) for i, a in enumerate(ids) for b in ids[i + 1:] if spans[b][0] < spans[a][1]]


def children_of(pid: int) -> list[int]:
    """Every live descendant of `pid` (read from /proc; empty where /proc is missing)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and ')'
        parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_multiprocessing_helper(pid: int) -> bool:
    """Python's resource tracker / forkserver: started on first use, they live as long as this process (and
    exit on their own when it dies), so they are not part of an engine."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return False
    return b"multiprocessing.resource_tracker" in cmdline or b"multiprocessing.forkserver" in cmdline


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until `pids` have exited; return those still alive after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if _alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if _alive(p)]
    return left


def ensure_watchdog() -> None:
    """Start this process's watchdog once (Linux only: it reads /proc)."""
    global _watchdog
    with _lock:
        if _watchdog is not None and _watchdog.poll() is None:
            return
        if not os.path.isdir("/proc"):
            return
        # its own session: a Ctrl-C or SIGTERM sent to our process group must not take it down with us
        _watchdog = subprocess.Popen([sys.executable, "-m", "stepkto_eval.watchdog", str(os.getpid())],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True,
                                     close_fds=True)
        # wait (bounded) for its first scan, so an engine started next is always in its list
        import select

        if select.select([_watchdog.stdout], [], [], 30.0)[0]:
            _watchdog.stdout.readline()
        _watchdog.stdout.close()


def watchdog_pid() -> int | None:
    return _watchdog.pid if _watchdog is not None and _watchdog.poll() is None else None


@dataclass
class EngineHandle:
    """The life of one engine (a vLLM `LLM`, an hf model, a PRM) in this process."""

    kind: str  # "vllm" | "hf" | "prm"
    model: str
    role: str = ""  # free text for the log, e.g. "generation" or "judge"
    gpu_fraction: float | None = None  # vLLM's gpu_memory_utilization (None = its default)
    on_gpu: bool = False
    id: str = ""
    pids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.id = f"{os.getpid()}-{id(self)}-{time.monotonic_ns()}"

    def start(self) -> "EngineHandle":
        """Check the memory budget, register and log `start`. Call before the model loads."""
        with _lock:
            if self.kind == "vllm" and self.on_gpu:
                live = [(f"{h.kind}:{h.model}", h.gpu_fraction) for h in _live.values()
                        if h.kind == "vllm" and h.on_gpu]
                check_memory_budget(live, (f"{self.kind}:{self.model}", self.gpu_fraction))
            _live[id(self)] = self
        self._before = set(children_of(os.getpid()))
        _log({"event": "start", "id": self.id, "kind": self.kind, "model": self.model, "role": self.role,
              "gpu_fraction": self.gpu_fraction})
        return self

    def ready(self) -> None:
        """Log `ready` with the processes the engine started (they must be gone at `stop`)."""
        watchdog = watchdog_pid()
        self.pids = [p for p in children_of(os.getpid())
                     if p not in self._before and p != watchdog and not _is_multiprocessing_helper(p)]
        _log({"event": "ready", "id": self.id, "kind": self.kind, "model": self.model, "pids": self.pids})

    def abort(self, *, wait: float = 10.0) -> None:
        """The engine failed or was interrupted while loading: end the processes it had started, log `stop`."""
        watchdog = watchdog_pid()
        self.pids = [p for p in children_of(os.getpid())
                     if p not in self._before and p != watchdog and not _is_multiprocessing_helper(p)]
        for pid in self.pids:
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        self.stop(wait=wait)

    def stop(self, *, wait: float = STOP_WAIT_S) -> None:
        """After the engine was closed: wait for its processes (kill stragglers), unregister, log `stop`."""
        left = wait_gone(self.pids, wait)
        for pid in left:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        wait_gone(left, 5.0)
        with _lock:
            _live.pop(id(self), None)
        _log({"event": "stop", "id": self.id, "kind": self.kind, "model": self.model, "killed": left})


def live_engines() -> list[EngineHandle]:
    with _lock:
        return list(_live.values())


def free_accelerator_memory() -> None:
    """Return cached allocator blocks to the device after a model was dropped (no-op without CUDA)."""
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
