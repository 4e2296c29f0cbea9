"""Watchdog process: when PARENT dies, its leftover descendants (vLLM's EngineCore and workers) die too.

    python -m stepkto_eval.watchdog PARENT_PID

Started once per process by engines.ensure_watchdog(), in its own session. vLLM's engine-core process
does not watch its parent: after `kill -9` of `stepkto-eval` it stayed alive (orphaned, ~650 MB, a GPU's
memory on a cluster) for minutes. A parent-death signal cannot be set from outside on processes that vLLM
spawns, so this process keeps a list of PARENT's descendants (rescanned every POLL_S) and, once PARENT has
exited, sends them SIGTERM (vLLM's engine core shuts its workers down on it), then SIGKILL to whatever is
left after GRACE_S. Parent death is seen through a pidfd (Linux >= 5.3) or, failing that, by polling.
A (pid, start time) pair identifies a process, so a recycled pid is never killed.
"""
from __future__ import annotations

import os
import select
import signal
import sys
import time

POLL_S = 0.5
GRACE_S = 3.0


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _identity(pid: int) -> tuple[int, str] | None:
    fields = _stat(pid)
    return None if fields is None or fields[0] == "Z" else (pid, fields[19])  # field 22 of stat: start time


def _descendants(roots: set[int]) -> set[tuple[int, str]]:
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields is not None:
                parents.setdefault(int(fields[1]), []).append(int(name))
    out, todo = set(), list(roots)
    while todo:
        for child in parents.get(todo.pop(), []):
            if child != os.getpid() and (ident := _identity(child)) is not None:
                out.add(ident)
                todo.append(child)
    return out


def _signal_all(known: set[tuple[int, str]], sig: int) -> set[tuple[int, str]]:
    alive = {k for k in known if _identity(k[0]) == k}
    for pid, _ in alive:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    return alive


def watch(parent: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the parent's death ends this process
    try:
        pidfd = os.pidfd_open(parent)
    except (AttributeError, OSError):
        pidfd = None
    known: set[tuple[int, str]] = set()
    parent_id = _identity(parent)
    first = True
    while parent_id is not None and _identity(parent) == parent_id:
        known = {k for k in known if _identity(k[0]) == k} | _descendants({parent})
        if first:  # the parent waits for this line: what it starts from now on is seen within POLL_S
            print("ready", flush=True)
            sys.stdout.close()
            first = False
        if pidfd is not None:
            select.select([pidfd], [], [], POLL_S)
        else:
            time.sleep(POLL_S)
    # the parent is gone: its orphans (and anything they started since the last scan) are ours to end
    known |= _descendants({pid for pid, _ in known})
    alive = _signal_all(known, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {k for k in alive if _identity(k[0]) == k}
    _signal_all(alive, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(watch(int(sys.argv[1])))
