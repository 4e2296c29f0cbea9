"""Who may write into a run folder: one process at a time, and only into a folder that holds our own run.

* `hold_folder(path)` takes an exclusive `flock` on the folder itself for as long as the command runs.
  The kernel drops the lock when the process ends however it ends (kill -9 included), so a crash never
  leaves a stale lock behind. A second writer does not wait: it exits with a message naming the holder
  (pid and command), because two copies of one command into one folder would generate every sample twice.
* `check_folder(path, kind)` refuses, before anything is written, a folder that is not empty and has no
  manifest (somebody else's files) and a folder that holds a run of another kind (an eval folder given to
  `score` would lose its samples).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from pathlib import Path
from typing import Iterator

_held: dict[Path, tuple[int, int]] = {}  # resolved folder -> (fd, depth): re-entrant within one process


class FolderRefused(RuntimeError):
    """The folder is in use by another process, or holds something that is not ours to change."""


def run_kind(manifest: dict) -> str:
    """eval | score | label: `score` marks its manifest; label manifests carry a `labeling` block."""
    if manifest.get("kind"):
        return str(manifest["kind"])
    return "label" if "labeling" in manifest else "eval"


def _is_temp(name: str) -> bool:
    return name.endswith(".tmp")


def check_folder(path: str | os.PathLike, kind: str, *, option: str = "--output-dir") -> None:
    """Raise FolderRefused unless `path` is missing, empty, or holds a `kind` run of ours. Reads only."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise FolderRefused(f"{option} {path}: exists and is not a folder")
    names = sorted(p.name for p in path.iterdir())
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        foreign = [n for n in names if not _is_temp(n)]
        if foreign:
            shown = ", ".join(foreign[:8]) + (f" and {len(foreign) - 8} more" if len(foreign) > 8 else "")
            raise FolderRefused(
                f"{option} {path}: is not empty and has no manifest.json, so it is not a stepkto run folder "
                f"(it holds: {shown}); nothing was changed. Give a new or empty folder, or move those files away.")
        return
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise FolderRefused(f"{manifest_path}: unreadable manifest ({exc}); nothing was changed. "
                            "Give a new --output-dir.") from None
    found = run_kind(manifest)
    if found != kind:
        raise FolderRefused(f"{option} {path}: holds a `{found}` run, and this command writes `{kind}` runs; "
                            "refusing to replace its files (nothing was changed). Give a new --output-dir.")


def _holder_pid(folder_fd: int) -> str:
    """The pid holding a flock on the folder, read from /proc/locks (Linux); "" where that is unavailable."""
    st = os.fstat(folder_fd)
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        parts = line.split()
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == ident:
            return parts[4]
    return ""


@contextlib.contextmanager
def hold_folder(path: str | os.PathLike, command: str | None = None) -> Iterator[None]:
    """Hold the folder's exclusive lock for the `with` body; creates the folder (and removes it again if it
    is still empty at the end, so a failed start leaves nothing behind). Raises FolderRefused at once (no
    waiting) when another process holds it.

    The lock is an flock on the folder itself, so no lock file is added to the folder's contents."""
    del command  # kept for callers' symmetry; the holder is found by pid
    path = Path(path)
    if path.exists() and not path.is_dir():  # mkdir would raise FileExistsError: a traceback, not a refusal
        raise FolderRefused(f"{path}: exists and is not a folder; nothing was changed. Give a folder.")
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    if key in _held:  # this process already holds it (e.g. `label` calling the eval pipeline)
        fd, depth = _held[key]
        _held[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            _held[key] = (fd, depth - 1)
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        pid = _holder_pid(fd)
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            holder = f"pid {pid}" if pid else "another process"
            raise FolderRefused(f"{path} is in use by another stepkto process ({holder}); one writer per run "
                                "folder: wait for it to finish, or use another --output-dir") from None
        raise
    _held[key] = (fd, 1)
    try:
        yield
    finally:
        _held.pop(key, None)
        os.close(fd)  # releases the flock
        if created:
            with contextlib.suppress(OSError):
                path.rmdir()  # only succeeds when the run wrote nothing


def is_held(path: str | os.PathLike) -> bool:
    return Path(path).resolve() in _held


# Errors of the disk rather than of the run: exit code 3 (README), so that scripts can tell "the folder could
# not be written" from "some samples failed" (1) and "bad input" (2).
DISK_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EIO})
EXIT_DISK = 3


def disk_error(exc: BaseException) -> str | None:
    """A one-line message when `exc` is a disk error (read-only folder, full disk, no permission), else None."""
    if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
        where = f": {exc.filename}" if exc.filename else ""
        return f"cannot write{where}: {exc.strerror or exc} (finished samples on disk are kept; free space or " \
               "fix permissions, then rerun the same command to continue)"
    return None
