"""Discriminative process reward models (PRMs) through transformers, and ProcessBench threshold tuning.

Three model families, configured by `PRMSpec` (or recognised from the checkpoint, see `recognise`):

* "qwen-prm" (Qwen2.5-Math-PRM layout): a decoder body plus a token-classification head on every position;
  the step score is softmax(head(hidden))[label] (label 1 = "correct") at the separator `<extra_0>` written
  after every step of the assistant turn (system + user + assistant chat, as its model card shows). The
  head is built by us from the checkpoint's `score.*` tensors — `score.0` Linear(h, h) → ReLU → `score.2`
  Linear(h, 2) as Qwen2.5-Math-PRM ships it, or a single `score` Linear as AutoModelForTokenClassification
  saves it — so no remote code is needed (`trust_remote_code=1` remains an option).
* "value-head" (Skywork-o1-Open-PRM layout): a decoder body plus a scalar value head `v_head.summary`
  Linear(h, 1); the step score is sigmoid(value) at the last token of each step. Input as Skywork's
  inference code builds it: BOS + problem + "\n", then every step's tokens followed by the "\n" token.
* "step-tag" (Math-Shepherd / RLHFlow): a causal LM predicts a good/bad token after each step; the step score
  is P(good) / (P(good) + P(bad)). Templates: "plain" (Math-Shepherd's card): f"{problem} {output}" with
  output = "Step 1: s1 ки\\nStep 2: s2 ки..." encoded with BOS, read at every tag; "turns" (RLHFlow): a chat
  where each step is a user turn (the first one prefixed by the problem) and every assistant reply is the
  good token — the score is read at the token just before each reply, i.e. the model's prediction of it.

Weight provenance: a judge never scores with weights its checkpoint did not provide. Every load goes
through transformers' loading report (missing / unexpected / mismatched keys); any body weight missing or
resized, any head tensor absent, or any checkpoint tensor left unused is a `PRMLoadError` naming the
tensors. The one documented exception: an `lm_head.*` tensor beside a value/score head (Skywork ships its
causal LM head with the value head; vLLM's Qwen2 reward-model loader skips `lm_head.` the same way) — the
PRM score never reads it.

A step with score < threshold is wrong; first_error is the first wrong step (-1 when none). Positions are
found from the tokenizer's character offsets (the token that holds the last character of each inserted
marker) or from the token ids we assemble ourselves, never by searching token ids in the text, so a step or
problem that happens to contain the marker text cannot shift the scores.

Truncation: an input longer than `max_length` tokens is cut on the right. The steps whose marker still fits
are scored; the rest get score None and label None. If no scored step is wrong, the item has first_error
None (no verdict: the unseen steps may hold the error) while the scored steps keep label 1 — the one case
where labels are not exactly `labels_from_first_error(first_error)`; evidence["truncated"] is then True.

Sources (read through code search; no hub access here): the Qwen PRM head as `nn.Sequential(Linear(h, h),
ReLU, Linear(h, 2))` named `score` (hence `score.0.*` / `score.2.*`) and the `<extra_0>` id 151651 from
vLLM's and SGLang's `qwen2_rm.py` (adapted from Qwen's modeling_qwen2_rm.py), whose loaders also skip
`lm_head.`; Skywork's `PRM_MODEL` (an AutoModelForCausalLM plus `v_head` = ValueHead with `summary`
Linear(h, 1), sigmoid when return_probs) and `prepare_input` from skywork-o1-prm-inference (as copied in
openreasoner/openr), called with step_token="\n" in the card's example; Math-Shepherd's and RLHFlow's
recipes as their cards' snippets are reproduced in public evaluation code (candidates `encode("+ -")[1:]`
= [648, 387], tag id 12902; RLHFlow reads logits[:, -3] over `+`/`-`). Unverified: Skywork's config
`architectures` (recognition uses its `v_head.*` tensors instead) and its tokenizer's BOS string (its code
needs one: we refuse a tokenizer without it); whether a Qwen PRM checkpoint ships `lm_head.weight`.

Threshold tuning as ProcessBench does for PRMs: pick the threshold that maximises F1 (harmonic mean of the
accuracy on erroneous and on correct items) on one split (gsm8k), then apply it to the others:
`tune_threshold` and `first_error_from_scores` are pure functions over per-item step scores.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Sequence

from stepkto_eval.audit.base import JudgeInput, StepJudgement
from stepkto_eval.weight_provenance import check_loading_report

FAMILIES = ("qwen-prm", "value-head", "step-tag")
# The input format Qwen2.5-Math-PRM was trained with (its model card): this system turn, problem as user.
QWEN_PRM_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."

# Named presets for the checkpoints people use. Each fills the spec fields left unset; the sources are the
# model cards / inference code cited per family in the module docstring and README.
PRESETS: dict[str, dict[str, Any]] = {
    # Qwen/Qwen2.5-Math-PRM-7B, -72B (card: `<extra_0>` after every step, softmax(...)[1] at each one)
    "qwen2.5-math-prm": {"family": "qwen-prm", "separator": "<extra_0>", "template": "chat", "label": 1},
    # Skywork/Skywork-o1-Open-PRM-Qwen-2.5-1.5B, -7B (skywork-o1-prm-inference: step_token "\n")
    "skywork-o1-prm": {"family": "value-head", "separator": "\n"},
    # peiyi9979/math-shepherd-mistral-7b-prm (card: tag "ки", candidates "+"/"-")
    "math-shepherd": {"family": "step-tag", "template": "plain", "tag": "ки", "good": "+", "bad": "-"},
    # RLHFlow/Llama3.1-8B-PRM-Deepseek-Data, -Mistral-Data (card: "+" / "-" replies in a chat of step turns)
    "rlhflow-prm": {"family": "step-tag", "template": "turns", "good": "+", "bad": "-"},
}
# Tensors a checkpoint may carry that a PRM score never reads (module docstring: the documented exception).
_UNUSED_OK = ("lm_head.",)


class PRMLoadError(ValueError):
    """A PRM checkpoint that cannot be scored with its own weights (missing, unused or resized tensors)."""


@dataclass(frozen=True)
class PRMSpec:
    model: str
    preset: str | None = None  # a key of PRESETS; fills the fields below that are left unset
    family: str | None = None  # default: the preset's, else recognised from the checkpoint (`recognise`)
    threshold: float = 0.5
    separator: str | None = None  # qwen-prm: default "<extra_0>"; value-head: default "\n"
    tag: str | None = None  # step-tag tag text; default "ки"
    good: str = "+"
    bad: str = "-"
    good_id: int | None = None  # explicit token ids win over the good/bad strings
    bad_id: int | None = None
    label: int = 1  # qwen-prm: class index meaning "step is correct"
    template: str | None = None  # "chat" | "plain" | "turns" (step-tag only); default chat / plain (docstring)
    max_length: int | None = None  # default: the model's max_position_embeddings
    batch_size: int = 8
    device: str | None = None  # default: cuda when available (weights spread with device_map=auto), else cpu
    device_map: str | None = None  # e.g. "auto" (a 72B PRM over several GPUs); default auto on GPU
    dtype: str | None = None  # e.g. "bfloat16"; default bfloat16 on GPU, the checkpoint's on CPU
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if self.preset is not None:
            if self.preset not in PRESETS:
                raise ValueError(f"unknown PRM preset {self.preset!r}; expected one of {', '.join(PRESETS)}")
            for key, value in PRESETS[self.preset].items():
                if getattr(self, key) is None:
                    object.__setattr__(self, key, value)
            if self.family != PRESETS[self.preset]["family"]:
                raise ValueError(f"preset {self.preset!r} is family {PRESETS[self.preset]['family']}, "
                                 f"not {self.family!r}")
        if self.family == "step-tag" and self.template is None:
            object.__setattr__(self, "template", "plain")
        if self.family is not None and self.family not in FAMILIES:
            raise ValueError(f"unknown PRM family {self.family!r}; expected one of {', '.join(FAMILIES)}")
        if self.template not in (None, "chat", "plain", "turns"):
            raise ValueError(f"PRM template must be 'chat', 'plain' or 'turns', got {self.template!r}")
        if self.template == "turns" and self.family not in (None, "step-tag"):
            raise ValueError("PRM template 'turns' belongs to the step-tag family")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"PRM threshold must be in [0, 1], got {self.threshold}")
        if self.batch_size < 1:
            raise ValueError(f"PRM batch_size must be >= 1, got {self.batch_size}")

    @property
    def marker(self) -> str:
        if self.family == "qwen-prm":
            return self.separator or "<extra_0>"
        if self.family == "value-head":
            return self.separator or "\n"
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


# ---------------------------------------------------------------- checkpoint files and recognition
def _weight_files(model: str) -> list[str]:
    """The checkpoint's weight files (safetensors preferred, sharded or not; a local folder or a hub id)."""
    from transformers.utils.hub import cached_file

    def get(name: str) -> str | None:
        return cached_file(model, name, _raise_exceptions_for_missing_entries=False,
                           _raise_exceptions_for_connection_errors=False)

    for index_name, single in (("model.safetensors.index.json", "model.safetensors"),
                               ("pytorch_model.bin.index.json", "pytorch_model.bin")):
        index = get(index_name)
        if index:
            with open(index, encoding="utf-8") as fh:
                shards = sorted(set(json.load(fh)["weight_map"].values()))
            return [get(s) for s in shards]
        path = get(single)
        if path:
            return [path]
    raise PRMLoadError(f"{model}: no weight files (model.safetensors, pytorch_model.bin or an index) found")


def _read_tensors(files: Sequence[str], wanted: set[str] | None = None) -> dict[str, Any]:
    """Tensors by checkpoint name (all of them, or only `wanted`); values are None when only names are asked
    for with wanted=set() — used to list names without reading a 145 GB checkpoint."""
    import torch

    out: dict[str, Any] = {}
    for path in files:
        if path.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(path, framework="pt") as fh:
                for key in fh.keys():
                    out[key] = fh.get_tensor(key) if wanted is None or key in wanted else None
        else:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            out.update({k: (v if wanted is None or k in wanted else None) for k, v in state.items()})
    return out


def recognise(model: str, tensor_names: set[str] | None = None) -> tuple[str, str]:
    """(family, why) for a checkpoint, from its config's architectures and its weight names — never from the
    model's name. Causal LMs (Math-Shepherd, RLHFlow) have no layout of their own: they need a preset."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model)
    archs = list(getattr(config, "architectures", None) or [])
    names = tensor_names if tensor_names is not None else set(_read_tensors(_weight_files(model), set()))
    if "v_head.summary.weight" in names:
        return "value-head", "weights hold a value head (v_head.summary.*), as Skywork-o1-Open-PRM ships"
    score = {n for n in names if n.startswith("score.")}
    if score and any(a.endswith(("ProcessRewardModel", "ForTokenClassification")) for a in archs):
        return "qwen-prm", f"config architectures {archs} with a token-level score head ({sorted(score)})"
    raise PRMLoadError(
        f"{model}: cannot tell the PRM family from its layout (architectures {archs}, no score/v_head "
        f"tensors); a causal-LM PRM needs preset=math-shepherd or preset=rlhflow-prm (or family=step-tag)")


def check_provenance(model: str, info: dict, allowed_unused: set[str] = frozenset()) -> None:
    """Refuse a load whose weights did not all come from the checkpoint, or that left checkpoint tensors
    unused (transformers' loading report; `allowed_unused`: tensors we read ourselves, e.g. a head)."""
    check_loading_report(model, info, purpose="score", error=PRMLoadError, allowed_unused=allowed_unused,
                         allowed_unused_prefixes=_UNUSED_OK)


def build_head(tensors: dict[str, Any], family: str, hidden: int):
    """The checkpoint's score head as a torch module, weights copied from `tensors` (strict: every parameter
    must come from the checkpoint)."""
    import torch

    def linear(prefix: str):
        weight = tensors.get(f"{prefix}.weight")
        if weight is None:
            return None
        bias = tensors.get(f"{prefix}.bias")
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, dtype=weight.dtype)
        layer.load_state_dict({"weight": weight, **({"bias": bias} if bias is not None else {})}, strict=True)
        return layer

    if family == "value-head":
        layers = [linear("v_head.summary")]
    elif "score.0.weight" in tensors:  # Qwen2.5-Math-PRM: Linear(h, h) -> ReLU -> Linear(h, 2)
        first, second = linear("score.0"), linear("score.2")
        layers = [first, torch.nn.ReLU(), second] if second is not None else [None]
    else:  # AutoModelForTokenClassification layout: one Linear(h, labels)
        layers = [linear("score")]
    if any(layer is None for layer in layers):
        raise PRMLoadError(f"{family} head tensors incomplete in the checkpoint (have {sorted(tensors)})")
    if layers[0].in_features != hidden:
        raise PRMLoadError(f"head input size {layers[0].in_features} != the body's hidden size {hidden}")
    return torch.nn.Sequential(*layers).eval()


def _head_names(names: set[str], family: str) -> set[str]:
    prefix = "v_head." if family == "value-head" else "score."
    return {n for n in names if n.startswith(prefix)}


# ---------------------------------------------------------------- the judge
class PRMJudge:
    kind = "prm"

    def __init__(self, spec: PRMSpec, *, name: str | None = None) -> None:
        import torch
        from transformers import AutoTokenizer

        self.name = name or f"prm:{spec.model}"
        self.recognised = None
        if spec.family is None:
            family, why = recognise(spec.model)
            spec = replace(spec, family=family)
            self.recognised = why
        self.spec = spec
        self.tokenizer = AutoTokenizer.from_pretrained(spec.model, trust_remote_code=spec.trust_remote_code)
        # The GPU when there is one (a 7B/72B PRM on CPU is hours per split); spread with device_map=auto.
        self.device = spec.device or ("cuda" if torch.cuda.is_available() else "cpu")
        on_gpu = self.device.startswith("cuda")
        # ignore_mismatched_sizes: let transformers report resized tensors (instead of raising its own
        # error) so that check_provenance names them along with any missing or unused ones.
        kwargs: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code, "output_loading_info": True,
                                  "ignore_mismatched_sizes": True}
        dtype = spec.dtype or ("bfloat16" if on_gpu else None)
        if dtype:
            kwargs["dtype"] = getattr(torch, dtype)
        device_map = spec.device_map or ("auto" if self.device == "cuda" else None)
        if device_map:
            kwargs["device_map"] = device_map
        self.head = None
        from stepkto_eval.engines import EngineHandle

        self._handle = EngineHandle("prm", spec.model, role="judge", on_gpu=on_gpu).start()
        try:
            self._load(kwargs, place=device_map is None)
        except BaseException:
            self._handle.stop(wait=0)
            raise
        self._handle.ready()
        self.max_length = spec.max_length or getattr(self.model.config, "max_position_embeddings", None) or 4096
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id or 0
        self.candidate_ids = self._candidate_ids() if spec.family == "step-tag" else None
        self.last_errors: dict[int, str] = {}
        if spec.family == "qwen-prm" and spec.marker not in self.tokenizer.get_vocab():
            raise ValueError(f"separator {spec.marker!r} is not a token of {spec.model}'s tokenizer")
        if spec.family == "value-head" and self.tokenizer.bos_token is None:
            # Skywork's prepare_input starts with tokenizer.bos_token + problem: a tokenizer without one
            # cannot give the input it was trained on.
            raise ValueError(f"{spec.model}'s tokenizer has no BOS token; the value-head input starts with it")

    def _load(self, kwargs: dict, *, place: bool) -> None:
        from transformers import AutoModel, AutoModelForCausalLM

        spec = self.spec
        if spec.family == "step-tag" or spec.trust_remote_code:
            # The whole model is one transformers class (a causal LM, or the checkpoint's own remote class):
            # every checkpoint tensor must land in it and every parameter must come from the checkpoint.
            loader = AutoModelForCausalLM if spec.family == "step-tag" else AutoModel
            self.model, info = loader.from_pretrained(spec.model, **kwargs)
            check_provenance(spec.model, info)
        else:
            # Body without remote code (the plain decoder class of the config's model_type); the head is ours,
            # built from the checkpoint's own head tensors, which the body loader reports as unexpected.
            files = _weight_files(spec.model)
            names = set(_read_tensors(files, set()))
            head_names = _head_names(names, spec.family)
            self.model, info = AutoModel.from_pretrained(spec.model, **kwargs)
            check_provenance(spec.model, info, allowed_unused=head_names)
            tensors = {k: v for k, v in _read_tensors(files, head_names).items() if k in head_names}
            self.head = build_head(tensors, spec.family, self.model.config.hidden_size)
        if place:
            self.model.to(self.device)
        self.model.eval()
        if self.head is not None:
            # the head runs where the body's last hidden state comes out, in the body's dtype
            last = next(reversed(list(self.model.parameters())))
            self.head.to(device=last.device, dtype=last.dtype)

    def close(self) -> None:
        """Drop the model and return its accelerator memory (the next stage may need the GPU)."""
        from stepkto_eval.engines import free_accelerator_memory

        self.model = self.head = None
        free_accelerator_memory()
        if getattr(self, "_handle", None) is not None:
            self._handle.stop(wait=0)
            self._handle = None

    def _candidate_ids(self) -> tuple[int, int]:
        spec = self.spec
        if spec.good_id is not None and spec.bad_id is not None:
            return spec.good_id, spec.bad_id
        if spec.template == "plain":
            # Math-Shepherd's card: candidate_tokens = tokenizer.encode(f"{good} {bad}")[1:] (BOS dropped),
            # i.e. the ids of good and bad as they follow a space.
            ids = self.tokenizer.encode(f"{spec.good} {spec.bad}", add_special_tokens=False)
            if len(ids) != 2:
                raise ValueError(f"'{spec.good} {spec.bad}' encodes to {len(ids)} tokens, not 2; pass good_id=/bad_id=")
            return spec.good_id if spec.good_id is not None else ids[0], spec.bad_id if spec.bad_id is not None else ids[1]

        def one_token(text: str, explicit: int | None, what: str) -> int:
            if explicit is not None:
                return explicit
            ids = self.tokenizer.encode(text, add_special_tokens=False)
            if len(ids) != 1:
                raise ValueError(f"{what} token {text!r} encodes to {len(ids)} tokens; pass {what}_id=")
            return ids[0]

        return one_token(spec.good, spec.good_id, "good"), one_token(spec.bad, spec.bad_id, "bad")

    # -------------------------------------------------------------- inputs
    def build_text(self, item: JudgeInput) -> tuple[str, list[int]]:
        """The model input text and, per step, the character offset just past the character whose token's
        class logits / next-token distribution score the step (for "turns": the reply's first character)."""
        if self.spec.template == "turns":
            return self._build_turns(item)
        if self.spec.family == "step-tag":
            return self._build_shepherd(item)
        marker = self.spec.marker
        body, ends = "", []
        for step in item.steps:  # the card: "<extra_0>".join(steps) + "<extra_0>"
            body += step.strip() + marker
            ends.append(len(body))
        if self.spec.uses_chat and self.tokenizer.chat_template:
            messages = [{"role": "system", "content": QWEN_PRM_SYSTEM},
                        {"role": "user", "content": item.problem}, {"role": "assistant", "content": body}]
            text = self.tokenizer.apply_chat_template(messages, tokenize=False)
            start = text.rfind(body)
            if start < 0:
                raise ValueError("chat template altered the step text; use template=plain")
            return text, [start + e for e in ends]
        prefix = item.problem.strip() + "\n"
        return prefix + body, [len(prefix) + e for e in ends]

    def _build_shepherd(self, item: JudgeInput) -> tuple[str, list[int]]:
        # Math-Shepherd's card: input_for_prm = f"{question} {output}", output = "Step 1: ... ки\nStep 2: ... ки"
        tag = self.spec.marker
        text, ends = f"{item.problem.strip()} ", []
        for k, step in enumerate(item.steps, start=1):
            if k > 1:
                text += "\n"
            text += f"Step {k}: {step.strip()} {tag}"
            ends.append(len(text))
        return text, ends

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

    def encode(self, item: JudgeInput) -> tuple[list[int], list[int | None]]:
        """Token ids (cut to max_length) and, per step, the position whose output scores it (None: cut off)."""
        if self.spec.family == "value-head":
            ids, positions = self._encode_value_head(item)
        else:
            ids, positions = self._encode_text(*self.build_text(item))
        ids = ids[: self.max_length]
        return ids, [p if p < len(ids) else None for p in positions]

    def _encode_value_head(self, item: JudgeInput) -> tuple[list[int], list[int]]:
        # skywork-o1-prm-inference prepare_input: encode(bos + problem + "\n"), then per step
        # encode(step) + [step_token_id] with step_token_id = encode(step_token)[-1]; the reward is read at
        # each step_token. Steps are our split, kept whole (an inner "\n" is not read as a step end).
        tok = self.tokenizer
        ids = tok.encode(tok.bos_token + item.problem + "\n", add_special_tokens=False)
        step_id = tok.encode(self.spec.marker, add_special_tokens=False)[-1]
        positions = []
        for step in item.steps:
            ids += tok.encode(step.strip(), add_special_tokens=False) + [step_id]
            positions.append(len(ids) - 1)
        return ids, positions

    def _encode_text(self, text: str, ends: list[int]) -> tuple[list[int], list[int]]:
        enc = self.tokenizer(text, add_special_tokens=False)
        ids = list(enc["input_ids"])
        positions = [enc.char_to_token(e - 1) for e in ends]  # the token holding the marker's last char
        if any(p is None for p in positions):
            raise ValueError("could not map a step marker to a token")
        if self.spec.template == "turns":
            if any(ids[p] != self.candidate_ids[0] for p in positions):
                raise ValueError(f"the reply {self.spec.good!r} is not a token of its own in the rendered chat")
            positions = [p - 1 for p in positions]  # the distribution that predicts the reply
        elif self.spec.family == "step-tag" and self.tokenizer.bos_token_id is not None:
            # Math-Shepherd's card encodes with tokenizer.encode(...), which puts the BOS first
            ids = [self.tokenizer.bos_token_id] + ids
            positions = [p + 1 for p in positions]
        return ids, positions

    # -------------------------------------------------------------- scoring
    def score(self, items: Sequence[JudgeInput]) -> list[list[float | None]]:
        """Per item, per step: the probability that the step is correct (None when truncated away)."""
        import torch

        results, self.last_errors = self._encode_all(items)
        encoded = results  # (ids, positions) per item until scored, or None when the item could not be encoded
        todo = [i for i, enc in enumerate(encoded) if enc is not None]
        order = sorted(todo, key=lambda i: len(encoded[i][0]))  # similar lengths batch together
        first_device = self.model.get_input_embeddings().weight.device
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
                out = self.model(input_ids=ids.to(first_device), attention_mask=mask.to(first_device))
                probs = self._step_probs(out).float().cpu()  # (batch, width)
            for row, i in enumerate(batch):
                results[i] = [None if p is None else float(probs[row, p]) for p in encoded[i][1]]
        return [r if r is not None else [None] * len(item.steps) for r, item in zip(results, items, strict=True)]

    def _encode_all(self, items: Sequence[JudgeInput]) -> tuple[list, dict[int, str]]:
        encoded, errors = [], {}
        for i, item in enumerate(items):
            try:
                encoded.append(self.encode(item))
            except (ValueError, TypeError) as exc:  # one odd item is a no-verdict, not a failed run
                encoded.append(None)
                errors[i] = f"{type(exc).__name__}: {exc}"
        return encoded, errors

    def _step_probs(self, out):
        if self.head is not None:
            hidden = out.last_hidden_state
            logits = self.head(hidden.to(next(self.head.parameters()).device)).float()
            if self.spec.family == "value-head":
                return logits[..., 0].sigmoid()  # Skywork: sigmoid of the scalar value
            return logits.softmax(dim=-1)[..., self.spec.label]
        logits = (out.logits if hasattr(out, "logits") else out[0]).float()  # (batch, width, classes|vocab)
        if self.spec.family == "step-tag":
            good, bad = self.candidate_ids
            return logits[..., [good, bad]].softmax(dim=-1)[..., 0]  # P(good) / (P(good) + P(bad))
        if self.spec.family == "value-head":
            return logits[..., 0].sigmoid()
        return logits.softmax(dim=-1)[..., self.spec.label]

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
