"""Precomputed reference log-probs, cached on disk and addressed by content.

Key = sha256(model fingerprint, precision, prompt token ids, completion token ids); value = the per-token
reference log-probs of the completion (float64: exact sums for any model dtype). Per-completion and per-step
sums are derived from them, so the same entry serves any step split, and the mismatched KL pairs (x_i, y_j)
are cached the same way. A second run — or the next round reusing the same starting model — finds every
entry and never loads the reference model. The precision (weights dtype + autocast of the policy's forward)
is part of the key: log-probs computed in bf16 differ from fp32 ones by far more than the rewards of a
policy that has not moved yet, so an entry is reused only by a run that computes in the same precision.

Several processes: the values travel between ranks through torch.distributed (`Collective`), never
through the disk. Each rank computes its share of the entries missing anywhere, all ranks exchange them,
and each writes what it lacked into its own cache folder — which is therefore only a local memo: one per
node (node-local disk), one per rank, or one shared folder all work and give the same values.

The model fingerprint hashes the content of the model folder's weight and config files; it is memoised by
(path, size, mtime) in the cache folder so a 16 GB checkpoint is hashed once. Storage is one SQLite file in
its default rollback-journal mode (WAL needs shared memory, which network filesystems do not provide).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

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
    """key -> float64 per-token log-probs, in `<root>/refcache.sqlite`.

    `precision` names how the values were computed (e.g. "float32", "float32+autocast:bfloat16"): entries of
    another precision are never returned."""

    def __init__(self, root: str | Path, fingerprint: str, precision: str = "float32"):
        self.root, self.fingerprint, self.precision = Path(root), fingerprint, precision
        self.root.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.root / "refcache.sqlite", timeout=300)
        # A folder written by an older version may be in WAL mode (persistent in the file): switch it back.
        self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.execute("CREATE TABLE IF NOT EXISTS logps (key TEXT PRIMARY KEY, value BLOB)")

    def key(self, prompt_ids: Sequence[int], completion_ids: Sequence[int]) -> str:
        h = hashlib.sha256(f"{self.fingerprint}|{self.precision}|".encode())
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
            self._db.executemany("INSERT OR IGNORE INTO logps VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float64).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


@dataclass
class RefStats:
    hits: int = 0
    computed: int = 0  # sequences this process ran through the reference model
    received: int = 0  # entries this process got from the other ranks
    precision: str = ""  # Precision.tag the values were computed in
    zero3_engine: bool = False  # this process computed through a ZeRO-3 sharded reference engine


@dataclass(frozen=True)
class Precision:
    """How the policy's forward computes: the dtype its weights have and the autocast dtype (None: none).
    The reference must be scored the same way, or with lr = 0 the rewards are not 0 (issue 12)."""

    weights: torch.dtype = torch.float32
    autocast: torch.dtype | None = None

    @property
    def tag(self) -> str:
        name = str(self.weights).removeprefix("torch.")
        return name if self.autocast is None else f"{name}+autocast:{str(self.autocast).removeprefix('torch.')}"

    def context(self, device: torch.device):
        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.autocast)


def _alone(obj: Any) -> list[Any]:
    return [obj]


@dataclass(frozen=True)
class Collective:
    """This process's place among the training processes and an all-gather of picklable objects.
    Default: a single process."""

    rank: int = 0
    world: int = 1
    all_gather: Callable[[Any], list[Any]] = _alone

    @classmethod
    def from_torch(cls) -> "Collective":
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return cls()

        def gather(obj: Any) -> list[Any]:
            out: list[Any] = [None] * dist.get_world_size()
            dist.all_gather_object(out, obj)
            return out

        return cls(dist.get_rank(), dist.get_world_size(), gather)


GATHER_CHUNK = 256  # entries per rank per all-gather round: bounds the pickled buffers, not the total


def expand_cache_dir(path: str | Path) -> Path:
    """`$VAR`/`${VAR}` and `~` expanded in this process (quote them for the shell), so one command line can
    give each rank or node its own folder, e.g. '/local/refcache/$LOCAL_RANK' under torchrun."""
    import os

    text = os.path.expanduser(os.path.expandvars(str(path)))
    if "$" in text:
        raise ValueError(f"--ref-cache-dir {path!r}: variable not set in this process ({text!r})")
    return Path(text)


def _pairs(rows: Sequence[dict]) -> Iterator[tuple[list[int], list[int]]]:
    for r in rows:
        yield r["prompt_ids"], r["completion_ids"]
        yield r["prompt_ids"], r["kl_completion_ids"]


@torch.no_grad()
def compute_completion_logps(model, pairs: Sequence[tuple[list[int], list[int]]], pad_id: int,
                             batch_size: int, precision: Precision = Precision(),
                             n_batches: int | None = None) -> list[np.ndarray]:
    """Per-token log-probs of each completion given its prompt, batched and right-padded, in `precision`.

    `n_batches` > the batches `pairs` needs runs extra forwards on a copy of the first pair (results
    dropped): under ZeRO-3 every rank must take part in every forward, whatever its own share."""
    device = next(model.parameters()).device
    out: list[np.ndarray] = []
    chunks = [list(pairs[i:i + batch_size]) for i in range(0, len(pairs), batch_size)]
    filler = list(pairs[:1]) or None
    for _ in range(len(chunks), n_batches or 0):
        chunks.append(filler or [([pad_id], [pad_id])])
    for index, chunk in enumerate(chunks):
        seqs = [p + c for p, c in chunk]
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
        wanted = torch.tensor([[0] * len(p) + [1] * len(c) + [0] * (width - len(p) - len(c)) for p, c in chunk],
                              device=device)
        with precision.context(device):
            per_token = token_logps(model, ids, mask, wanted).double().cpu()  # [b, T]
        if index * batch_size < len(pairs):
            out.extend(per_token[i, len(p):len(p) + len(c)].numpy().copy() for i, (p, c) in enumerate(chunk))
    return out


def attach_reference(rows: list[dict], cache: RefCache, load_model: Callable[[], torch.nn.Module], *,
                     pad_id: int, batch_size: int = 8, collective: Collective = Collective(),
                     precision: Precision = Precision(), lockstep: bool = False) -> tuple[list[dict], RefStats]:
    """Add `ref_logp`, `ref_step_logps`, `ref_kl_logp` to prepared rows; compute only the cache misses.

    Every rank must call this with the same rows. The entries missing from any rank's cache are split
    round-robin; each rank supplies its share (from its cache, else by computing it), all ranks exchange
    them with all-gathers and store what they lacked. `load_model` is called only on a rank that has
    something to compute — or, with `lockstep` (a ZeRO-3 sharded reference), on every rank as soon as any
    rank has, and then all ranks run the same number of forwards.
    """
    pairs = list(dict.fromkeys((tuple(p), tuple(c)) for p, c in _pairs(rows)))
    keys = [cache.key(p, c) for p, c in pairs]
    table = cache.get_many(keys)
    stats = RefStats(hits=len(table), precision=precision.tag)
    local_missing = [i for i, k in enumerate(keys) if k not in table]
    rank, world = collective.rank, collective.world
    missing = sorted(set().union(*collective.all_gather(local_missing))) if world > 1 else local_missing
    shares = [missing[r::world] for r in range(world)]
    mine = shares[rank]
    supplied = {keys[i]: table[keys[i]] for i in mine if keys[i] in table}
    todo = [i for i in mine if keys[i] not in table]
    counts = collective.all_gather(len(todo)) if lockstep and world > 1 else [len(todo)]
    if todo or (lockstep and max(counts) > 0):
        model = add_logp_head(load_model())
        n_batches = -(-max(counts) // batch_size) if lockstep else None
        values = compute_completion_logps(model, [(list(pairs[i][0]), list(pairs[i][1])) for i in todo], pad_id,
                                          batch_size, precision, n_batches=n_batches)
        supplied.update({keys[i]: v for i, v in zip(todo, values, strict=True)})
        stats.computed = len(todo)
        del model
    received: dict[str, np.ndarray] = {}
    if world > 1:
        ordered = [keys[i] for i in mine]  # every rank knows every share's length: rounds agree without talking
        for start in range(0, max(len(s) for s in shares), GATHER_CHUNK):
            part = {k: supplied[k] for k in ordered[start:start + GATHER_CHUNK]}
            for got in collective.all_gather(part):
                received.update(got)
    else:
        received = supplied
    new = {k: v for k, v in received.items() if k not in table}
    stats.received = len(set(new) - set(supplied))
    cache.put_many(new)
    table.update(new)
    absent = [k for k in keys if k not in table]
    if absent:
        raise RuntimeError(f"reference log-probs incomplete after precompute: {len(absent)} entries missing")
    out = []
    for r in rows:
        main = table[cache.key(r["prompt_ids"], r["completion_ids"])].copy()
        steps = step_logps(torch.from_numpy(main)[None], torch.tensor(r["token_step"])[None],
                           len(r["step_targets"]))[0]
        kl = table[cache.key(r["prompt_ids"], r["kl_completion_ids"])]
        out.append({**r, "ref_logp": float(main.sum()), "ref_step_logps": steps.tolist(),
                    "ref_kl_logp": float(kl.sum())})
    log.info("reference log-probs (%s): %d cached, %d computed by this process, %d received from other ranks",
             precision.tag, stats.hits, stats.computed, stats.received)
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
