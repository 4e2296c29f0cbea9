"""Identify the model a backend loaded, for the run manifest (shared by the hf and vllm backends).

A hub id is identified by the commit it resolved to. A local folder or `.gguf` file has no commit, so we
record a content fingerprint: sha256 over the small files in full (config, tokenizer, generation config)
and, for each weight file, its name, size and its first and last MiB. Hashing whole multi-GB checkpoints
would add minutes to every run start; a retrained or re-quantised checkpoint changes its config, its
size or its leading/trailing bytes in practice, which is what the manifest check needs to notice.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
_EDGE = 1 << 20  # bytes read from each end of a weight file
_SMALL_LIMIT = 8 << 20  # non-weight files up to this size are hashed in full


def _hash_file(digest: "hashlib._Hash", path: Path, relative: str) -> None:
    size = path.stat().st_size
    digest.update(f"{relative}\0{size}\0".encode())
    with open(path, "rb") as handle:
        if path.suffix in _WEIGHT_SUFFIXES or size > _SMALL_LIMIT:
            digest.update(handle.read(_EDGE))
            if size > 2 * _EDGE:
                handle.seek(size - _EDGE)
                digest.update(handle.read(_EDGE))
        else:
            digest.update(handle.read())


def local_fingerprint(path: str | Path) -> str | None:
    """`sha256:<hex>` for a local model folder or file, None when `path` is not local (a hub id)."""
    path = Path(path)
    if not path.exists():
        return None
    digest = hashlib.sha256()
    if path.is_file():
        _hash_file(digest, path, path.name)
    else:
        for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            _hash_file(digest, file, file.relative_to(path).as_posix())
    return "sha256:" + digest.hexdigest()


def describe_model(model: str, revision: str | None = None) -> dict:
    """The manifest's model entry: path or hub id, plus a local fingerprint or the requested revision."""
    fingerprint = local_fingerprint(model)
    entry: dict = {"model": str(Path(model).resolve()) if fingerprint else model}
    if fingerprint:
        entry["fingerprint"] = fingerprint
    else:
        entry["revision"] = revision or "main"
    return entry
