"""Discriminative process reward models (PRMs) through transformers, and ProcessBench threshold tuning.

Two model families, configured by `PRMSpec`:

* "qwen-prm" (Qwen2.5-Math-PRM style): a separator token (default `<extra_0>`) is written after every step
  of the assistant turn; a 2-class head gives logits at every position and the step score is
  softmax(logits)[label] (label 1 = "correct") at the step's separator. Loaded with
  AutoModelForTokenClassification, or with AutoModel + `trust_remote_code=1` for checkpoints that ship their
  own head class (Qwen2.5-Math-PRM-7B does; its logits are the first output).
* "step-tag" (Math-Shepherd / RLHFlow style): a causal LM predicts a good/bad token after each step; the
  step score is P(good) / (P(good) + P(bad)) over the configured tokens (default `+` / `-`). Templates:
  "plain" (default, Math-Shepherd): "problem\nstep_1 TAG\nstep_2 TAG..." with the tag (default `ки`) read
  at its position; "turns" (RLHFlow): a chat where each step is a user turn (the first one prefixed by
  the problem) and every assistant reply is the good token — the score is read at the token just before
  each reply, i.e. the model's prediction of the reply.

A step with score < threshold is wrong; first_error is the first wrong step (-1 when none). Positions are
found from the tokenizer's character offsets (the token that holds the last character of each inserted
separator), never by searching token ids, so a step or problem that happens to contain the separator text
cannot shift the scores.

Truncation: an input longer than `max_length` tokens is cut on the right. The steps whose separator still
fits are scored; the rest get score None and label None. If no scored step is wrong, the item has
first_error None (no verdict: the unseen steps may hold the error) while the scored steps keep label 1 —
the one case where labels are not exactly `labels_from_first_error(first_error)`; evidence["truncated"] is
then True.

Threshold tuning as ProcessBench does for PRMs: pick the threshold that maximises F1 (harmonic mean of the
accuracy on erroneous and on correct items) on one split (gsm8k), then apply it to the others:
`tune_threshold` and `first_error_from_scores` are pure functions over per-item step scores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from stepkto_eval.audit.base import JudgeInput, StepJudgement

FAMILIES = ("qwen-prm", "step-tag")
# The input format Qwen2.5-Math-PRM was trained with (its model card): this system turn, problem as user.
QWEN_PRM_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."


@dataclass(frozen=True)
class PRMSpec:
    model: str
    family: str = "qwen-prm"
    threshold: float = 0.5
    separator: str | None = None  # qwen-prm separator token; default "<extra_0>"
    tag: str | None = None  # step-tag tag text; default "ки"
    good: str = "+"
    bad: str = "-"
    good_id: int | None = None  # explicit token ids win over the good/bad strings
    bad_id: int | None = None
    label: int = 1  # qwen-prm: class index meaning "step is correct"
    template: str | None = None  # "chat" | "plain" | "turns" (step-tag only); default chat / plain (docstring)
    max_length: int | None = None  # default: the model's max_position_embeddings
    batch_size: int = 8
    device: str = "cpu"
    dtype: str | None = None  # e.g. "bfloat16"; default: the checkpoint's
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown PRM family {self.family!r}; expected one of {', '.join(FAMILIES)}")
        if self.template not in (None, "chat", "plain", "turns"):
            raise ValueError(f"PRM template must be 'chat', 'plain' or 'turns', got {self.template!r}")
        if self.template == "turns" and self.family != "step-tag":
            raise ValueError("PRM template 'turns' belongs to the step-tag family")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"PRM threshold must be in [0, 1], got {self.threshold}")
        if self.batch_size < 1:
            raise ValueError(f"PRM batch_size must be >= 1, got {self.batch_size}")

    @property
    def marker(self) -> str:
        if self.family == "qwen-prm":
            return self.separator or "<extra_0>"
        return self.tag or "ки"

    @property
    def uses_chat(self) -> bool:
        return (self.template or ("chat" if self.family == "qwen-prm" else "plain")) == "chat"


# ---------------------------------------------------------------- pure scoring helpers
def first_error_from_scores(scores: Sequence[float | None], threshold: float) -> int | None:
    """Earliest step with score < threshold; -1 when every step is scored and none is below; None when the
    scored prefix is clean but some step was not scored (truncated)."""
    for i, score in enumerate(scores):
        if score is None:
            return None
        if score < threshold:
            return i
    return -1


def labels_from_scores(scores: Sequence[float | None], first_error: int | None) -> list[int | None]:
    """1 before the earliest error, 0 at it, None after it and for unscored steps (module docstring)."""
    labels: list[int | None] = []
    for i, score in enumerate(scores):
        if score is None or (first_error is not None and 0 <= first_error < i):
            labels.append(None)
        else:
            labels.append(0 if i == first_error else 1)
    return labels


@dataclass(frozen=True)
class ThresholdFit:
    threshold: float
    f1: float
    acc_error: float
    acc_correct: float


def _processbench_f1(preds: Sequence[int | None], labels: Sequence[int]) -> tuple[float, float, float]:
    err = [p == y for p, y in zip(preds, labels, strict=True) if y != -1]
    ok = [p == -1 for p, y in zip(preds, labels, strict=True) if y == -1]
    a = sum(err) / len(err) if err else 0.0
    b = sum(ok) / len(ok) if ok else 0.0
    return (2 * a * b / (a + b) if a + b else 0.0), a, b


def tune_threshold(scores: Sequence[Sequence[float | None]], labels: Sequence[int]) -> ThresholdFit:
    """Threshold maximising ProcessBench F1 = 2ab/(a+b), a = accuracy on erroneous items (predicted earliest
    error == label), b = accuracy on all-correct items (label -1, predicted -1).

    Predictions change only when the threshold crosses a step score, so the candidates are the midpoints
    between consecutive distinct scores plus one value below and one above all of them (clamped to [0, 1]).
    Ties go to the smallest threshold (fewest flags), which keeps the choice deterministic.
    """
    if len(scores) != len(labels):
        raise ValueError(f"{len(scores)} score lists for {len(labels)} labels")
    values = sorted({s for item in scores for s in item if s is not None})
    if not values:
        raise ValueError("no step scores to tune a threshold on")
    candidates = [max(0.0, values[0] - 1e-6)]
    candidates += [(lo + hi) / 2 for lo, hi in zip(values, values[1:], strict=False)]
    candidates.append(min(1.0, values[-1] + 1e-6))
    best: ThresholdFit | None = None
    for t in candidates:
        f1, a, b = _processbench_f1([first_error_from_scores(item, t) for item in scores], labels)
        if best is None or f1 > best.f1:
            best = ThresholdFit(t, f1, a, b)
    return best


# ---------------------------------------------------------------- the judge
class PRMJudge:
    kind = "prm"

    def __init__(self, spec: PRMSpec, *, name: str | None = None) -> None:
        import torch
        from transformers import (
            AutoModel,
            AutoModelForCausalLM,
            AutoModelForTokenClassification,
            AutoTokenizer,
        )

        self.spec = spec
        self.name = name or f"prm:{spec.model}"
        self.tokenizer = AutoTokenizer.from_pretrained(spec.model, trust_remote_code=spec.trust_remote_code)
        kwargs = {"trust_remote_code": spec.trust_remote_code}
        if spec.dtype:
            kwargs["dtype"] = getattr(torch, spec.dtype)
        if spec.family == "step-tag":
            loader = AutoModelForCausalLM
        else:
            loader = AutoModel if spec.trust_remote_code else AutoModelForTokenClassification
        self.model = loader.from_pretrained(spec.model, **kwargs).to(spec.device).eval()
        self.max_length = spec.max_length or getattr(self.model.config, "max_position_embeddings", None) or 4096
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0
        self.candidate_ids = self._candidate_ids() if spec.family == "step-tag" else None
        self.last_errors: dict[int, str] = {}
        if spec.family == "qwen-prm" and spec.marker not in self.tokenizer.get_vocab():
            raise ValueError(f"separator {spec.marker!r} is not a token of {spec.model}'s tokenizer")

    def _candidate_ids(self) -> tuple[int, int]:
        def one_token(text: str, explicit: int | None, what: str) -> int:
            if explicit is not None:
                return explicit
            ids = self.tokenizer.encode(text, add_special_tokens=False)
            if len(ids) != 1:
                raise ValueError(f"{what} token {text!r} encodes to {len(ids)} tokens; pass {what}_id=")
            return ids[0]

        return one_token(self.spec.good, self.spec.good_id, "good"), one_token(self.spec.bad, self.spec.bad_id, "bad")

    def build_text(self, item: JudgeInput) -> tuple[str, list[int]]:
        """The model input and, per step, the character offset just past the character whose token's
        next-token distribution / class logits score the step (for "turns": the reply's first character)."""
        if self.spec.template == "turns":
            return self._build_turns(item)
        marker = self.spec.marker
        qwen = self.spec.family == "qwen-prm"
        body, ends = "", []
        for step in item.steps:
            body += step.strip() + ("" if qwen else " ") + marker
            ends.append(len(body))
            body += "" if qwen else "\n"
        if self.spec.uses_chat and self.tokenizer.chat_template:
            messages = [{"role": "user", "content": item.problem}, {"role": "assistant", "content": body}]
            if qwen:
                messages.insert(0, {"role": "system", "content": QWEN_PRM_SYSTEM})
            text = self.tokenizer.apply_chat_template(messages, tokenize=False)
            start = text.rfind(body)
            if start < 0:
                raise ValueError("chat template altered the step text; use template=plain")
            return text, [start + e for e in ends]
        prefix = item.problem.strip() + "\n"
        return prefix + body, [len(prefix) + e for e in ends]

    def _build_turns(self, item: JudgeInput) -> tuple[str, list[int]]:
        if not self.tokenizer.chat_template:
            raise ValueError("template=turns needs a tokenizer with a chat template")
        steps = [s.strip() for s in item.steps]
        messages = []
        for k, step in enumerate(steps):
            messages.append({"role": "user", "content": f"{item.problem.strip()} {step}" if k == 0 else step})
            messages.append({"role": "assistant", "content": self.spec.good})
        text = self.tokenizer.apply_chat_template(messages, tokenize=False)
        ends, cursor = [], 0
        for step in steps:
            at = text.find(step, cursor)
            reply = text.find(self.spec.good, at + len(step)) if at >= 0 else -1
            if reply < 0:
                raise ValueError("chat template altered the step text; cannot locate the step replies")
            ends.append(reply + 1)
            cursor = reply + len(self.spec.good)
        return text, ends

    def _positions(self, text: str, ends: list[int]) -> tuple[list[int], list[int | None]]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=False)
        ids = enc["input_ids"]
        positions = [enc.char_to_token(e - 1) for e in ends]  # the token holding the marker's last char
        if any(p is None for p in positions):
            raise ValueError("could not map a step marker to a token")
        if self.spec.template == "turns":
            if any(ids[p] != self.candidate_ids[0] for p in positions):
                raise ValueError(f"the reply {self.spec.good!r} is not a token of its own in the rendered chat")
            positions = [p - 1 for p in positions]  # the distribution that predicts the reply
        ids = ids[: self.max_length]
        return ids, [p if p < len(ids) else None for p in positions]

    def score(self, items: Sequence[JudgeInput]) -> list[list[float | None]]:
        """Per item, per step: the probability that the step is correct (None when truncated away)."""
        import torch

        results, self.last_errors = self._encode_all(items)
        encoded = results  # (ids, positions) per item until scored, or None when the item could not be encoded
        todo = [i for i, enc in enumerate(encoded) if enc is not None]
        order = sorted(todo, key=lambda i: len(encoded[i][0]))  # similar lengths batch together
        for b in range(0, len(order), self.spec.batch_size):
            batch = order[b:b + self.spec.batch_size]
            width = max(len(encoded[i][0]) for i in batch)
            # Right padding: the markers sit before the padding and causal attention never sees it.
            ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                seq = encoded[i][0]
                ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[row, : len(seq)] = 1
            with torch.inference_mode():
                out = self.model(input_ids=ids.to(self.spec.device), attention_mask=mask.to(self.spec.device))
            logits = (out.logits if hasattr(out, "logits") else out[0]).float().cpu()  # (batch, width, classes|vocab)
            probs = self._step_probs(logits)  # (batch, width)
            for row, i in enumerate(batch):
                results[i] = [None if p is None else float(probs[row, p]) for p in encoded[i][1]]
        return [r if r is not None else [None] * len(item.steps) for r, item in zip(results, items, strict=True)]

    def _encode_all(self, items: Sequence[JudgeInput]) -> tuple[list, dict[int, str]]:
        encoded, errors = [], {}
        for i, item in enumerate(items):
            try:
                encoded.append(self._positions(*self.build_text(item)))
            except (ValueError, TypeError) as exc:  # one odd item is a no-verdict, not a failed run
                encoded.append(None)
                errors[i] = f"{type(exc).__name__}: {exc}"
        return encoded, errors

    def _step_probs(self, logits):
        if self.spec.family == "qwen-prm":
            return logits.softmax(dim=-1)[..., self.spec.label]
        good, bad = self.candidate_ids
        return logits[..., [good, bad]].softmax(dim=-1)[..., 0]  # P(good) / (P(good) + P(bad))

    def judge(self, items: Sequence[JudgeInput]) -> list[StepJudgement]:
        out = []
        for i, scores in enumerate(self.score(items)):
            first_error = first_error_from_scores(scores, self.spec.threshold) if scores else None
            evidence = {"step_scores": scores, "threshold": self.spec.threshold,
                        "truncated": i not in self.last_errors and any(s is None for s in scores)}
            if i in self.last_errors:
                evidence["error"] = self.last_errors[i]
            out.append(StepJudgement(labels_from_scores(scores, first_error), first_error, self.name, evidence))
        return out
