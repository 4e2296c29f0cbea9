"""Reference log-prob cache: content addressing, a second run hits the cache, results identical."""
from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from stepkto_train.data import prepare
from stepkto_train.logps import sequence_logps, step_logps, token_logps
from stepkto_train.refcache import Precision, RefCache, attach_reference, expand_cache_dir, model_fingerprint

from .labeled_data import make_rows


@pytest.fixture(scope="module")
def prepared(tiny_model_dir):
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ds, _ = prepare(datasets.Dataset.from_list(make_rows(3, 2, seed=1)), tok)
    return tok, [dict(r) for r in ds]


def loader(path, calls):
    def load():
        calls.append(1)
        return AutoModelForCausalLM.from_pretrained(path).eval()
    return load


def test_second_run_hits_cache_and_never_loads_the_model(tiny_model_dir, prepared, tmp_path):
    tok, rows = prepared
    fp = model_fingerprint(tiny_model_dir, tmp_path)
    calls: list[int] = []
    first, s1 = attach_reference(rows, RefCache(tmp_path, fp), loader(tiny_model_dir, calls), pad_id=tok.pad_token_id,
                                 batch_size=4)
    assert s1.computed > 0 and s1.hits == 0 and calls == [1]
    second, s2 = attach_reference(rows, RefCache(tmp_path, fp), loader(tiny_model_dir, calls), pad_id=tok.pad_token_id)
    assert s2.computed == 0 and s2.hits == s1.computed and calls == [1]  # no reference forward at all
    for a, b in zip(first, second, strict=True):
        assert (a["ref_logp"], a["ref_step_logps"], a["ref_kl_logp"]) == (b["ref_logp"], b["ref_step_logps"],
                                                                        b["ref_kl_logp"])


def test_cached_values_equal_a_direct_forward(tiny_model_dir, prepared, tmp_path):
    tok, rows = prepared
    out, _ = attach_reference(rows, RefCache(tmp_path, model_fingerprint(tiny_model_dir, tmp_path)),
                              loader(tiny_model_dir, []), pad_id=tok.pad_token_id, batch_size=3)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    for r in out[:3]:
        ids = torch.tensor([r["prompt_ids"] + r["completion_ids"]])
        with torch.no_grad():
            per_token = token_logps(model, ids, torch.ones_like(ids))
        cmask = torch.tensor([[0] * len(r["prompt_ids"]) + [1] * len(r["completion_ids"])])
        steps = step_logps(per_token, torch.tensor([[-1] * len(r["prompt_ids"]) + r["token_step"]]),
                           len(r["step_targets"]))
        assert r["ref_logp"] == pytest.approx(sequence_logps(per_token, cmask).item(), abs=1e-4)
        assert np.allclose(r["ref_step_logps"], steps[0].tolist(), atol=1e-4)


def test_fingerprint_follows_content_not_path(tmp_path):
    from helpers.tiny_model import build_tiny_model

    a, b, c = (build_tiny_model(tmp_path / n, seed=s) for n, s in [("a", 0), ("b", 0), ("c", 1)])
    fa, fb, fc = (model_fingerprint(p, tmp_path / "memo") for p in (a, b, c))
    assert fa == fb != fc
    assert model_fingerprint(a, tmp_path / "memo") == fa  # memoised by (path, size, mtime)


def test_keys_differ_by_model_and_tokens(tmp_path):
    c1, c2 = RefCache(tmp_path, "m1"), RefCache(tmp_path, "m2")
    assert c1.key([1, 2], [3]) != c2.key([1, 2], [3])
    assert c1.key([1, 2], [3]) != c1.key([1], [2, 3])  # the prompt/completion boundary is part of the key
    c1.put_many({c1.key([1], [2]): np.array([-0.5, -1.25])})
    assert c1.get_many([c1.key([1], [2])])[c1.key([1], [2])].tolist() == [-0.5, -1.25]


def test_a_cache_filled_in_bf16_is_not_reused_in_fp32(tiny_model_dir, prepared, tmp_path):
    """Issue 12: the key names the precision, so an fp32 run recomputes instead of reading bf16 values."""
    tok, rows = prepared
    fp = model_fingerprint(tiny_model_dir, tmp_path)
    bf16 = Precision(autocast=torch.bfloat16)
    low, s1 = attach_reference(rows, RefCache(tmp_path, fp, bf16.tag), loader(tiny_model_dir, []),
                               pad_id=tok.pad_token_id, precision=bf16)
    full, s2 = attach_reference(rows, RefCache(tmp_path, fp, Precision().tag), loader(tiny_model_dir, []),
                                pad_id=tok.pad_token_id)
    assert s1.computed > 0 and s2.hits == 0 and s2.computed == s1.computed
    assert max(abs(a["ref_logp"] - b["ref_logp"]) for a, b in zip(low, full, strict=True)) > 1e-3  # really bf16
    _, s3 = attach_reference(rows, RefCache(tmp_path, fp, bf16.tag), loader(tiny_model_dir, []),
                             pad_id=tok.pad_token_id, precision=bf16)
    assert s3.computed == 0 and s3.hits == s1.computed


def test_cache_file_is_not_in_wal_mode(tmp_path):
    """WAL needs shared memory, which network filesystems lack; a folder left in WAL by an older version is
    switched back on open."""
    import sqlite3

    db = sqlite3.connect(tmp_path / "refcache.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    cache = RefCache(tmp_path, "m")
    assert cache._db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_cache_dir_expands_variables(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert str(expand_cache_dir("/scratch/refcache/rank$LOCAL_RANK")) == "/scratch/refcache/rank1"
    monkeypatch.delenv("LOCAL_RANK")
    with pytest.raises(ValueError, match="not set"):
        expand_cache_dir("/scratch/refcache/rank${LOCAL_RANK}")
