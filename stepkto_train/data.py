"""Labeled data for Step-KTO: load and validate the contract, tokenize, map steps to tokens, pair for z.

The labeled-dataset contract (../shared/DESIGN.md): one row per completion with `prompt` (chat messages or
text), `completion`, `step_char_spans` ([start, end) offsets inside `completion`), `step_labels`
(1 right, 0 wrong, None not judged: before the first error 1, the first error 0, after it None),
`first_error` (-1 none, None no verdict), `outcome_label` (0/1), `problem_id`, `finish_reason` (optional:
"length" marks a completion cut by the length limit), and provenance fields.

Prompts: chat messages are rendered with the tokenizer's chat template (generation prompt appended); a
plain-text prompt was sent to the model verbatim by the eval backends, so by default it is used verbatim
(`text_prompt="chat"` wraps it as one user message instead). Prompt special tokens follow the eval backends'
rule (`stepkto_eval.backends.base.prompt_special_tokens`): none added to a chat-rendered prompt, the
tokenizer's usual ones (BOS) to a plain-text prompt — the sequence trained on is the one that was sampled. The completion is tokenized on its own (as the
model generated it) and ends with the EOS token — unless `finish_reason` is "length": a completion cut by the
length limit did not end there, and appending EOS would teach the model to stop mid-solution. (A row without
`finish_reason`, from an older labeled file, counts as finished.) Step character spans become token spans
through the tokenizer's offset mapping.
"""
from __future__ import annotations

import bisect
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import datasets

from stepkto_eval.backends.base import encode_prompt

log = logging.getLogger(__name__)

REQUIRED = ("prompt", "completion", "step_char_spans", "step_labels", "first_error", "outcome_label", "problem_id")


class LabeledDataError(ValueError):
    """A row that breaks the labeled-data contract: the message names file, row and field."""


def load_labeled(path: str | Path, limit: int | None = None) -> datasets.Dataset:
    """Load a JSONL or Parquet labeled file with `datasets` and validate every row (raises LabeledDataError)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labeled data file not found: {path}")
    kind = "parquet" if path.suffix == ".parquet" else "json"
    ds = datasets.load_dataset(kind, data_files=str(path), split="train")
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    errors = [e for i, row in enumerate(ds) for e in validate_row(row, i, path)]
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise LabeledDataError("; ".join(errors[:5]) + more)
    return ds


def validate_row(row: dict, index: int, path: str | Path = "<data>") -> list[str]:
    """Contract violations of one row as 'file: row N: field F: why' strings (empty list = valid)."""
    where = f"{path}: row {index}"
    errs = [f"{where}: field {name}: missing" for name in REQUIRED if row.get(name) is None and name != "first_error"]
    if errs:
        return errs
    if row["outcome_label"] not in (0, 1, True, False):
        errs.append(f"{where}: field outcome_label: must be 0 or 1, got {row['outcome_label']!r}")
    if not isinstance(row["completion"], str):
        errs.append(f"{where}: field completion: must be a string")
        return errs
    spans, labels = row["step_char_spans"], row["step_labels"]
    if len(spans) != len(labels):
        errs.append(f"{where}: field step_labels: {len(labels)} labels for {len(spans)} step_char_spans")
    last_end = 0
    for h, span in enumerate(spans):
        if len(span) != 2 or not (last_end <= span[0] <= span[1] <= len(row["completion"])):
            errs.append(f"{where}: field step_char_spans: span {h} {span} not ordered inside the completion")
            break
        last_end = span[1]
    if row.get("finish_reason") is not None and not isinstance(row["finish_reason"], str):
        errs.append(f"{where}: field finish_reason: must be a string or null, got {row['finish_reason']!r}")
    if any(label not in (0, 1, None) for label in labels):
        errs.append(f"{where}: field step_labels: values must be 1, 0 or null")
    fe = row["first_error"]
    if fe is not None and not (-1 <= fe < max(len(spans), 1)):
        errs.append(f"{where}: field first_error: {fe} out of range for {len(spans)} steps")
    return errs


def render_prompt(tokenizer, prompt: str | Sequence[dict], text_prompt: str = "raw") -> str:
    """The prompt text exactly as the model sees it before the completion."""
    if isinstance(prompt, str):
        if text_prompt == "raw" or tokenizer.chat_template is None:
            return prompt
        prompt = [{"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)


def prompt_ids(tokenizer, prompt: str | Sequence[dict], text_prompt: str = "raw") -> list[int]:
    """Prompt token ids as the eval backends fed them to the model (special tokens: see the module doc)."""
    chat_rendered = not isinstance(prompt, str) or (text_prompt != "raw" and tokenizer.chat_template is not None)
    return encode_prompt(tokenizer, render_prompt(tokenizer, prompt, text_prompt), chat_rendered)


def step_targets(labels: Sequence[int | None], first_error: int | None, after_error: str) -> list[int]:
    """Per-step training labels: 1, 0, or -1 (masked). after_error="mask" keeps unjudged steps masked;
    "negative" labels every step after the first error 0 (its prefix is already wrong)."""
    out = [-1 if label is None else int(label) for label in labels]
    if after_error == "negative" and first_error is not None and first_error >= 0:
        out = [0 if h > first_error and t == -1 else t for h, t in enumerate(out)]
    return out


def _touched_steps(a: int, b: int, spans: Sequence[Sequence[int]], starts: Sequence[int]) -> list[int]:
    """Indices of the steps whose span shares a character with [a, b) (spans are ordered and disjoint)."""
    h = max(bisect.bisect_right(starts, a) - 1, 0)
    out = []
    while h < len(spans) and spans[h][0] < b:
        if spans[h][1] > a and spans[h][1] > spans[h][0]:
            out.append(h)
        h += 1
    return out


def token_steps(offsets: Sequence[tuple[int, int]], spans: Sequence[Sequence[int]],
                text: str | None = None) -> list[int]:
    """Step index owning each token (-1 for none, e.g. a token wholly between steps or a special token).

    A token that shares characters with one step belongs to it (a newline merged into the token counts for
    nothing). A token that *straddles* a step boundary — it holds characters of two steps, e.g. the end of
    one step's line plus the next step's indentation, which the blank-line splitter puts into the next
    step — belongs to the first step whose part of the token holds non-whitespace text (the token is the
    model's choice of that text: a "3" closing step h stays with step h, a "The" opening step h+1 goes
    to h+1); a token that is whitespace in every step it touches goes to the earlier one. Without `text`
    every character counts as content (the first step touched)."""
    starts = [s for s, _ in spans]
    result = []
    for a, b in offsets:
        touched = _touched_steps(a, b, spans, starts) if b > a else []
        if len(touched) <= 1:
            result.append(touched[0] if touched else -1)
            continue
        content = [h for h in touched if text is None
                   or text[max(a, spans[h][0]):min(b, spans[h][1])].strip()]
        result.append(content[0] if content else touched[0])
    return result


def straddling_tokens(offsets: Sequence[tuple[int, int]], spans: Sequence[Sequence[int]]) -> int:
    """How many tokens hold characters of more than one step (assigned by `token_steps`' rule)."""
    starts = [s for s, _ in spans]
    return sum(len(_touched_steps(a, b, spans, starts)) > 1 for a, b in offsets if b > a)


@dataclass
class PrepStats:
    rows: int = 0
    kept: int = 0
    dropped_overlong: int = 0
    truncated: int = 0  # cut by the generation length limit: trained without a final EOS
    straddling_tokens: int = 0  # tokens holding characters of two steps (see token_steps for their owner)
    straddling_rows: int = 0
    restricted_overlong: int = 0
    desirable: int = 0
    undesirable: int = 0
    judged_steps: Counter = field(default_factory=Counter)  # label -> count

    def summary(self) -> str:
        return (f"{self.kept}/{self.rows} rows kept; over-long: {self.dropped_overlong} dropped, "
                f"{self.restricted_overlong} restricted to fitting steps; cut by the length limit (no EOS): "
                f"{self.truncated}; tokens straddling a step boundary: {self.straddling_tokens} in "
                f"{self.straddling_rows} rows; desirable {self.desirable}, "
                f"undesirable {self.undesirable}; judged steps {dict(self.judged_steps)}")


def tokenize_row(row: dict, tokenizer, *, max_length: int, text_prompt: str, after_error: str,
                 overlong: str) -> dict[str, Any] | None:
    """Token ids, token→step map and step targets of one row; None when it is dropped as over-long."""
    prompt = prompt_ids(tokenizer, row["prompt"], text_prompt)
    enc = tokenizer(row["completion"], add_special_tokens=False, return_offsets_mapping=True)
    ended = row.get("finish_reason") != "length"
    completion_ids = list(enc["input_ids"]) + ([tokenizer.eos_token_id] if ended else [])
    steps = token_steps(enc["offset_mapping"], row["step_char_spans"], row["completion"]) + ([-1] if ended else [])
    straddling = straddling_tokens(enc["offset_mapping"], row["step_char_spans"])
    targets = step_targets(row["step_labels"], row["first_error"], after_error)
    outcome_valid = 1
    full_ntok = [steps.count(h) for h in range(len(targets))]
    room = max_length - len(prompt)
    if len(completion_ids) > room:
        if overlong == "drop" or room <= 0:
            return None
        # keep the steps that end inside the window; the outcome label describes the whole completion,
        # so it is not trained on a cut sequence
        completion_ids, steps, outcome_valid = completion_ids[:room], steps[:room], 0
    ntok = [steps.count(h) for h in range(len(targets))]
    targets = [t if n == full else -1 for t, n, full in zip(targets, ntok, full_ntok, strict=True)]  # cut steps are masked
    targets = [t if n > 0 else -1 for t, n in zip(targets, ntok, strict=True)]  # a step with no token cannot be trained
    return {"prompt_ids": prompt, "completion_ids": completion_ids, "token_step": steps,
            "step_targets": targets, "step_tokens": ntok, "label": int(row["outcome_label"]),
            "outcome_valid": outcome_valid, "ended": int(ended), "straddling": straddling}


def prepare(ds: datasets.Dataset, tokenizer, *, max_length: int = 2048, text_prompt: str = "raw",
            after_error: str = "mask", overlong: str = "drop", kl_pairing: str = "other_problem",
            pair_block: int = 2, seed: int = 0) -> tuple[datasets.Dataset, PrepStats]:
    """Tokenized training rows with KL partners (`kl_completion_ids`, `kl_valid`) and the prep counts."""
    stats = PrepStats(rows=len(ds))
    rows: list[dict] = []
    for row in ds:
        out = tokenize_row(row, tokenizer, max_length=max_length, text_prompt=text_prompt,
                           after_error=after_error, overlong=overlong)
        if out is None:
            stats.dropped_overlong += 1
            continue
        stats.restricted_overlong += 1 - out["outcome_valid"]
        stats.truncated += 1 - out.pop("ended")
        straddling = out.pop("straddling")
        stats.straddling_tokens += straddling
        stats.straddling_rows += straddling > 0
        out["problem_id"] = str(row["problem_id"])
        rows.append(out)
    stats.kept = len(rows)
    stats.desirable = sum(r["label"] for r in rows)
    stats.undesirable = stats.kept - stats.desirable
    stats.judged_steps = Counter(t for r in rows for t in r["step_targets"] if t >= 0)
    partners = kl_partners([r["problem_id"] for r in rows], kl_pairing, pair_block, seed)
    for i, (r, j) in enumerate(zip(rows, partners, strict=True)):
        r["row"] = i
        room = max_length - len(r["prompt_ids"])
        r["kl_completion_ids"] = rows[j]["completion_ids"][:room] if j >= 0 else [tokenizer.eos_token_id]
        r["kl_valid"] = int(j >= 0)
    log.info("labeled data: %s", stats.summary())
    return datasets.Dataset.from_list(rows), stats


def kl_partners(problem_ids: Sequence[str], mode: str, block: int, seed: int) -> list[int]:
    """For each row i a partner j ≠ i whose completion forms the mismatched pair (x_i, y_j); -1 if none.

    "other_problem" (default): a seeded shuffle, each row paired with the next row of a *different*
    problem (samples of the same problem are valid answers to it, not mismatches); fixed per dataset, so it
    does not depend on batch size or process count and reference log-probs can be precomputed.
    "roll": TRL's scheme, completions rotated by one inside consecutive blocks of `block` rows; a block of
    one row borrows the previous row so no row is ever paired with itself.
    """
    n = len(problem_ids)
    if n < 2:
        return [-1] * n
    if mode == "roll":
        out = []
        for i in range(n):
            start = i - i % block
            size = min(block, n - start)
            out.append(start + (i - start - 1) % size if size > 1 else (i - 1 if i > 0 else 1))
        return out
    if mode != "other_problem":
        raise ValueError(f"kl_pairing must be 'other_problem' or 'roll', got {mode!r}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    single_problem = len(set(problem_ids)) == 1
    out = [-1] * n
    for p, i in enumerate(order):
        for step in range(1, n):
            j = order[(p + step) % n]
            if single_problem or problem_ids[j] != problem_ids[i]:
                out[i] = j
                break
    return out


def balance_weights(n_desirable: int, n_undesirable: int, ratio: float = 1.0) -> tuple[float, float]:
    """(λ_D, λ_U) with λ_D·n_D / (λ_U·n_U) = `ratio`; the default 1 is the low end of KTO's recommended
    [1, 4/3] (KTO §4.2). The smaller side is up-weighted, the other keeps weight 1. A ratio above 1 weighs
    desirable rows above the class balance (on self-generated samples that are mostly wrong, the few right
    ones are the signal)."""
    if ratio <= 0:
        raise ValueError(f"desirable ratio must be > 0, got {ratio}")
    if n_desirable == 0 or n_undesirable == 0:
        return 1.0, 1.0
    if n_desirable * 1.0 >= ratio * n_undesirable:
        return 1.0, n_desirable / (ratio * n_undesirable)
    return ratio * n_undesirable / n_desirable, 1.0
