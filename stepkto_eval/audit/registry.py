"""Build a step judge from a one-line spec: `make_judge("arith+critic:hf:/models/qwen?votes=3&temperature=0.7")`.

Grammar::

    SPEC    := MEMBER ("+" MEMBER)*
    MEMBER  := "arith"
             | "critic:" BACKEND ":" MODEL ["@" BASE_URL] ["?" OPTIONS]
             | "prm:" MODEL ["?" OPTIONS]
    OPTIONS := KEY "=" VALUE ("&" KEY "=" VALUE)*

* `+` separates members only when it is directly followed by a judge kind (`arith`, `critic:`, `prm:`), so
  option values may contain a plain `+` (`good=+`, `good=++arith` = `good=+` then `arith`). Values are
  percent-decoded (`%2B` = `+`, `%26` = `&`): write `%2B` where a value's `+` would be read as a separator.
* BACKEND is one of the generation backends (`hf`, `vllm`, `openai`, `auto`); BASE_URL is the server of the
  openai backend. The API key never goes into a spec (specs are recorded in manifests): pass
  `make_judge(spec, api_key=...)` or let the backend read its environment variable.
* critic options: votes (int), temperature, top_p, min_p, repetition_penalty (float), top_k, max_tokens,
  seed (int), reference (0/1: show the reference solution or gold answer); sampling values and max_tokens
  left out come from the judge checkpoint's generation_config.json and context length (audit/critic.py). Any other key is passed to
  `make_backend` as a backend option (e.g. `device=cuda`, `dtype=bfloat16`, `max_model_len=4096`); values
  that look like numbers or booleans are converted.
* prm options: the fields of `PRMSpec` — preset (qwen2.5-math-prm | skywork-o1-prm | math-shepherd |
  rlhflow-prm), family (qwen-prm | value-head | step-tag; default: the preset's, else recognised from the
  checkpoint's config and weight names), threshold, separator, tag, good, bad, good_id, bad_id, label,
  template (chat | plain | turns), max_length, batch_size, device, device_map, dtype, trust_remote_code (0/1).
* An ensemble (`A+B`) flags a step when any member flags it; the earliest flag wins (ensemble.py).

Examples: `arith`, `critic:hf:HuggingFaceTB/SmolLM2-135M-Instruct`,
`critic:openai:Qwen2.5-72B-Instruct@http://127.0.0.1:8000/v1`,
`critic:vllm:/models/qwq?votes=5&temperature=0.7&reference=1`,
`prm:Qwen/Qwen2.5-Math-PRM-7B` (family recognised from its layout),
`prm:peiyi9979/math-shepherd-mistral-7b-prm?preset=math-shepherd` (a causal-LM PRM is named by preset).

Keyword options of `make_judge` are defaults for every member that accepts them (spec values win);
`backend=<Backend>` reuses an existing generation backend for critic members.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from stepkto_eval.audit.base import Judge

KINDS = ("arith", "critic", "prm")
BACKENDS = ("auto", "hf", "vllm", "openai")
_MEMBER_SPLIT = re.compile(r"\+(?=(?:arith(?:$|\+|\?)|critic:|prm:))")
_CRITIC_KEYS = {"votes": int, "temperature": float, "top_p": float, "top_k": int, "min_p": float,
                "repetition_penalty": float, "max_tokens": int, "seed": int, "reference": "bool"}
_INFRA = ("backend", "api_key")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class JudgeSpecError(ValueError):
    """A judge spec that does not follow the grammar in this module's docstring."""


def split_members(spec: str) -> list[str]:
    members = _MEMBER_SPLIT.split(spec.strip())
    if not spec.strip() or any(not m for m in members):
        raise JudgeSpecError(f"empty judge in spec {spec!r}")
    return members


def parse_options(text: str, member: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in text.split("&"):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise JudgeSpecError(f"option {pair!r} in {member!r} is not KEY=VALUE")
        if key in options:
            raise JudgeSpecError(f"option {key!r} given twice in {member!r}")
        options[unquote(key)] = unquote(value)
    return options


def _convert(value: Any, kind: Any, key: str, member: str) -> Any:
    if not isinstance(value, str):
        return value  # keyword options from Python arrive typed
    try:
        if kind == "bool":
            if value.lower() not in _TRUE | _FALSE:
                raise ValueError(value)
            return value.lower() in _TRUE
        return kind(value)
    except ValueError:
        expected = "0/1" if kind == "bool" else getattr(kind, "__name__", str(kind))
        raise JudgeSpecError(f"option {key}={value!r} in {member!r}: expected {expected}") from None


def _guess(value: Any) -> Any:
    """Backend options have no schema here: numbers and booleans are converted, the rest stays text."""
    if not isinstance(value, str):
        return value
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _prm_field_kinds() -> dict[str, Any]:
    from stepkto_eval.audit.prm import PRMSpec

    kinds = {"threshold": float, "good_id": int, "bad_id": int, "label": int, "max_length": int,
             "batch_size": int, "trust_remote_code": "bool"}
    return {f.name: kinds.get(f.name, str) for f in dataclasses.fields(PRMSpec) if f.name != "model"}


@dataclass(frozen=True)
class MemberPlan:
    """One parsed member of a spec: everything needed to build it, checked, without loading a model."""

    spec: str
    kind: str
    config: Any = None  # CriticConfig | PRMSpec | None (arith)
    backend_name: str | None = None
    model: str | None = None
    base_url: str | None = None
    backend_options: dict = field(default_factory=dict)


def _plan_critic(member: str, rest: str, options: dict, defaults: dict) -> MemberPlan:
    from stepkto_eval.audit.critic import CriticConfig

    backend_name, sep, target = rest.partition(":")
    if not sep or backend_name not in BACKENDS or not target:
        raise JudgeSpecError(f"critic spec {member!r} must be critic:BACKEND:MODEL with BACKEND in {BACKENDS}")
    model, _, base_url = target.partition("@")
    if not model:
        raise JudgeSpecError(f"critic spec {member!r} has no model")
    merged = {**{k: v for k, v in defaults.items() if k not in _INFRA}, **options}
    config_kwargs = {k: _convert(v, _CRITIC_KEYS[k], k, member) for k, v in merged.items() if k in _CRITIC_KEYS}
    try:
        config = CriticConfig(**config_kwargs)
    except ValueError as exc:
        raise JudgeSpecError(f"{member!r}: {exc}") from None
    backend_options = {k: _guess(v) for k, v in merged.items() if k not in _CRITIC_KEYS}
    from stepkto_eval.backends import check_backend_options

    try:  # option names, types and ranges (e.g. device_map, timeout), before any model loads
        check_backend_options(backend_name, backend_options, model=model, base_url=base_url or None)
    except (TypeError, ValueError) as exc:
        raise JudgeSpecError(f"{member!r}: backend {backend_name} refused it: {exc}") from None
    return MemberPlan(member, "critic", config, backend_name, model, base_url or None, backend_options)


def _plan_prm(member: str, rest: str, options: dict, defaults: dict) -> MemberPlan:
    from stepkto_eval.audit.prm import PRMSpec

    if not rest:
        raise JudgeSpecError(f"prm spec {member!r} has no model")
    kinds = _prm_field_kinds()
    unknown = sorted(set(options) - set(kinds))
    if unknown:
        raise JudgeSpecError(f"unknown prm option(s) {unknown} in {member!r}; known: {sorted(kinds)}")
    merged = {**{k: v for k, v in defaults.items() if k in kinds}, **options}
    try:
        spec = PRMSpec(model=rest, **{k: _convert(v, kinds[k], k, member) for k, v in merged.items()})
    except ValueError as exc:
        raise JudgeSpecError(f"{member!r}: {exc}") from None
    return MemberPlan(member, "prm", spec, model=rest)


def _plan_member(member: str, defaults: dict) -> MemberPlan:
    head, _, query = member.partition("?")
    options = parse_options(query, member) if query else {}
    kind, _, rest = head.partition(":")
    if kind == "arith" and not rest:
        if options:
            raise JudgeSpecError(f"arith takes no options, got {sorted(options)} in {member!r}")
        return MemberPlan(member, "arith")
    if kind == "critic":
        return _plan_critic(member, rest, options, defaults)
    if kind == "prm":
        return _plan_prm(member, rest, options, defaults)
    raise JudgeSpecError(f"unknown judge {head!r} in {member!r}; a judge starts with one of {KINDS}")


def parse_spec(spec: str, **opts: Any) -> list[MemberPlan]:
    """Check a spec completely (grammar, option names and types, value ranges) without loading any model."""
    members = split_members(spec)
    accepted = set(_INFRA)  # infrastructure, ignored when no critic needs it
    if any(m.startswith("prm:") for m in members):
        accepted |= set(_prm_field_kinds())
    if any(m.startswith("critic:") for m in members):
        accepted |= set(opts)  # critic members pass unknown keys on to their backend
    stray = sorted(set(opts) - accepted)
    if stray:
        raise JudgeSpecError(f"option(s) {stray} apply to no judge in {spec!r}")
    return [_plan_member(m, opts) for m in members]


def _build(plan: MemberPlan, opts: dict) -> Judge:
    if plan.kind == "arith":
        from stepkto_eval.audit.arith import ArithJudge

        return ArithJudge()
    if plan.kind == "prm":
        from stepkto_eval.audit.prm import PRMJudge

        return PRMJudge(plan.config, name=plan.spec)
    from stepkto_eval.audit.critic import CriticJudge

    backend = opts.get("backend")
    owns = backend is None
    if backend is None:
        from stepkto_eval.backends import make_backend

        try:
            backend = make_backend(plan.backend_name, plan.model, base_url=plan.base_url,
                                   api_key=opts.get("api_key"), **plan.backend_options)
        except (TypeError, ValueError) as exc:  # e.g. an option the backend does not take
            raise JudgeSpecError(f"{plan.spec!r}: backend {plan.backend_name} refused it: {exc}") from None
    try:
        return CriticJudge(backend, plan.config, name=plan.spec, model=plan.model, owns_backend=owns)
    except ValueError as exc:  # e.g. votes > 1 while the checkpoint asks for greedy decoding
        if owns:
            backend.close()
        raise JudgeSpecError(f"{plan.spec!r}: {exc}") from None


def make_judge(spec: str, **opts: Any) -> Judge:
    """A Judge (see audit/base.py) for `spec`; raises JudgeSpecError with the offending part on bad specs."""
    judges = [_build(plan, opts) for plan in parse_spec(spec, **opts)]
    if len(judges) == 1:
        return judges[0]
    from stepkto_eval.audit.ensemble import EnsembleJudge

    return EnsembleJudge(judges, name=spec)
