"""Precomputed reference log-probs, cached on disk and addressed by content.

Key = sha256(model fingerprint, prompt token ids, completion token ids); value = the per-token reference
log-probs of the completion (float64: exact sums for any model dtype). Per-completion and per-step sums are derived from them, so the same
entry serves any step split, and the mismatched KL pairs (x_i, y_j) are cached the same way. A second run —
or the next round reusing the same starting model — finds every entry and never loads the reference model.

The model fingerprint hashes the content of the model folder's weight and config files; it is memoised by
(path, size, mtime) in the cache folder so a 16 GB checkpoint is hashed once. Storage is one SQLite file
(WAL mode), safe for the concurrent writers of a multi-process run on a local filesystem.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from stepkto_eval.jsonl import write_json_atomic

from .logps import add_logp_head, step_logps, token_logps

log = logging.getLogger(__name__)
_HASHED_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja")


def model_fingerprint(folder: str | Path, memo_dir: str | Path) -> str:
    """sha256 over the names and bytes of the model folder's files (weights, config, tokenizer)."""
    folder = Path(folder).resolve()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _HASHED_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no model files to fingerprint in {folder}")
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    memo_path = Path(memo_dir) / "fingerprints.json"
    memo = json.loads(memo_path.read_text()) if memo_path.is_file() else {}
    memo_key = f"{folder}|{stamp}"
    if memo_key in memo:
        return memo[memo_key]
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.name.encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                digest.update(chunk)
    memo[memo_key] = digest.hexdigest()
    memo_path.parent.mkdir(parents=True, exist_ok=True)
    # Every rank of a distributed run (and every job sharing the default cache folder) reads and writes this
    # memo at start-up: a plain write_text let another process read it truncated (JSONDecodeError).
    write_json_atomic(memo_path, memo)
    return memo[memo_key]


class RefCache:
    """key -> float64 per-token log-probs, in `<root>/refcache.sqlite`."""

    def __init__(self, root: str | Path, fingerprint: str):
        self.root, self.fingerprint = Path(root), fingerprint
        self.root.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.root / "refcache.sqlite", timeout=300)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS logps (key TEXT PRIMARY KEY, value BLOB)")

    def key(self, prompt_ids: Sequence[int], completion_ids: Sequence[int]) -> str:
        h = hashlib.sha256(self.fingerprint.encode())
        h.update(np.asarray(prompt_ids, dtype=np.int64).tobytes() + b"|")
        h.update(np.asarray(completion_ids, dtype=np.int64).tobytes())
        return h.hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            for k, v in self._db.execute(f"SELECT key, value FROM logps WHERE key IN ({marks})", chunk):
                found[k] = np.frombuffer(v, dtype=np.float64)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO logps VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float64).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


@dataclass
class RefStats:
    hits: int = 0
    computed: int = 0  # sequences this process ran through the reference model


def _pairs(rows: Sequence[dict]) -> Iterator[tuple[list[int], list[int]]]:
    for r in rows:
        yield r["prompt_ids"], r["completion_ids"]
        yield r["prompt_ids"], r["kl_completion_ids"]


@torch.no_grad()
def compute_completion_logps(model, pairs: Sequence[tuple[list[int], list[int]]], pad_id: int,
                             batch_size: int) -> list[np.ndarray]:
    """Per-token log-probs of each completion given its prompt, batched and right-padded."""
    device = next(model.parameters()).device
    out: list[np.ndarray] = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        seqs = [p + c for p, c in chunk]
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
        wanted = torch.tensor([[0] * len(p) + [1] * len(c) + [0] * (width - len(p) - len(c)) for p, c in chunk],
                              device=device)
        per_token = token_logps(model, ids, mask, wanted).double().cpu()  # [b, T]
        out.extend(per_token[i, len(p):len(p) + len(c)].numpy().copy() for i, (p, c) in enumerate(chunk))
    return out


def attach_reference(rows: list[dict], cache: RefCache, load_model: Callable[[], torch.nn.Module], *,
                     pad_id: int, batch_size: int = 8, rank: int = 0, world: int = 1,
                     barrier: Callable[[], None] = lambda: None) -> tuple[list[dict], RefStats]:
    """Add `ref_logp`, `ref_step_logps`, `ref_kl_logp` to prepared rows; compute only the cache misses.

    With several processes each computes the misses with index % world == rank, then all wait at
    `barrier` and read the complete cache. `load_model` is called only when this process has misses.
    """
    pairs = list(dict.fromkeys((tuple(p), tuple(c)) for p, c in _pairs(rows)))
    keys = [cache.key(p, c) for p, c in pairs]
    cached = cache.get_many(keys)
    stats = RefStats(hits=len(cached))
    todo = [(list(p), list(c)) for i, ((p, c), k) in enumerate(zip(pairs, keys, strict=True))
            if k not in cached and i % world == rank]
    if todo:
        model = add_logp_head(load_model())
        values = compute_completion_logps(model, todo, pad_id, batch_size)
        cache.put_many({cache.key(p, c): v for (p, c), v in zip(todo, values, strict=True)})
        stats.computed = len(todo)
        del model
    barrier()
    table = cache.get_many(keys)
    missing = [k for k in keys if k not in table]
    if missing:
        raise RuntimeError(f"reference cache incomplete after precompute: {len(missing)} entries missing")
    out = []
    for r in rows:
        main = table[cache.key(r["prompt_ids"], r["completion_ids"])].copy()
        steps = step_logps(torch.from_numpy(main)[None], torch.tensor(r["token_step"])[None],
                           len(r["step_targets"]))[0]
        kl = table[cache.key(r["prompt_ids"], r["kl_completion_ids"])]
        out.append({**r, "ref_logp": float(main.sum()), "ref_step_logps": steps.tolist(),
                    "ref_kl_logp": float(kl.sum())})
    log.info("reference log-probs: %d cached, %d computed by this process", stats.hits, stats.computed)
    return out, stats


@contextlib.contextmanager
def without_zero3_init() -> Iterator[None]:
    """Load a model whole even when a ZeRO-3 config is active (transformers would partition it at load)."""
    from transformers.integrations import deepspeed as hf_ds

    saved = hf_ds._hf_deepspeed_config_weak_ref
    hf_ds.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_ds._hf_deepspeed_config_weak_ref = saved
