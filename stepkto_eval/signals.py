"""How the command-line tools end on signals: engines shut down, one line, the conventional exit code.

* SIGINT (Ctrl-C): Python's KeyboardInterrupt unwinds the stack (every `with`/`finally` closes its engine);
  the tool prints one line instead of a traceback and exits 130 (128 + SIGINT).
* SIGTERM (a scheduler's stop, `kill`): by default Python dies at once and leaves vLLM's engine process
  behind; here it raises `Terminated` (a BaseException, so no `except Exception` on the way swallows it),
  which unwinds the same way, and the tool exits 143 (128 + SIGTERM).
Run folders are durable per batch, so the message says how to continue.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Callable, Iterator

EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class Terminated(BaseException):
    """SIGTERM arrived: unwind like KeyboardInterrupt so engines are closed on the way out."""


def _raise_terminated(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the clean shutdown
    raise Terminated()


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated (main thread only; the old handler comes back after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_cli(prog: str, body: Callable[[], int], hint: str = "rerun the same command to resume") -> int:
    """body() with SIGTERM/SIGINT turned into one line on stderr and exit 143/130."""
    try:
        with sigterm_unwinds():
            return body()
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted (SIGINT); {hint}", file=sys.stderr, flush=True)
        return EXIT_SIGINT
    except Terminated:
        print(f"\n{prog}: terminated (SIGTERM); engines were shut down; {hint}", file=sys.stderr, flush=True)
        return EXIT_SIGTERM


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A subprocess `preexec_fn` that makes the child receive `sig` when this process dies (Linux
    PR_SET_PDEATHSIG; it survives exec). None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG (linux/prctl.h)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec
