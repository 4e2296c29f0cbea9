"""Up-front checks of command-line values and backend options, so a bad value is refused (exit 2, the value
named) before any folder is written or model loaded, instead of failing every sample or hanging.

Numbers: `--limit`, `--n`, `--max-tokens`, `--batch-size` are whole numbers >= 1; `--temperature` is a finite
number >= 0 (0 = greedy); `--top-p` is in (0, 1] (0 would keep no token at all).
Backend options (`-O KEY=VALUE`) of the hf and vllm backends are checked against the option's declared type
and the ranges in RANGES. (The openai backend checks its own options: stepkto_eval/backends/openai.py.)
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, Callable

DTYPES = ("auto", "float32", "float16", "bfloat16")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _at_least_1(v: Any) -> str | None:
    return None if v >= 1 else "must be >= 1"


def _fraction(v: Any) -> str | None:
    return None if 0 < v <= 1 else "must be in (0, 1]"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


# (backend, option) -> extra check on a value of the right type; returns why it is wrong, or None.
RANGES: dict[tuple[str, str], Callable[[Any], str | None]] = {
    ("hf", "batch_size"): _at_least_1,
    ("hf", "dtype"): _one_of(*DTYPES),
    ("hf", "device"): lambda v: None if _DEVICE.match(v) else "must be auto, cpu, mps, cuda or cuda:N",
    ("vllm", "tensor_parallel_size"): _at_least_1,
    ("vllm", "data_parallel_size"): _at_least_1,
    ("vllm", "gpu_memory_utilization"): _fraction,
    ("vllm", "max_model_len"): _at_least_1,
    ("vllm", "dtype"): _one_of(*DTYPES, "half", "float"),
}


def did_you_mean(name: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_whole(name: str, value: Any, *, minimum: int = 1) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")


def check_sampling_values(*, n: int, temperature: float, top_p: float, max_tokens: int | None,
                          limit: int | None, batch_size: int | None) -> None:
    """Raise ValueError naming the first bad command-line value."""
    check_whole("--n", n)
    check_whole("--max-tokens", max_tokens)
    check_whole("--limit", limit)
    check_whole("--batch-size", batch_size)
    if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"--temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}")
    if not isinstance(top_p, (int, float)) or not math.isfinite(top_p) or not 0 < top_p <= 1:
        raise ValueError(f"--top-p must be in (0, 1], got {top_p!r}")


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, hint) if isinstance(hint, type) else True


def _type_name(hint: Any) -> str:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args:
        return " or ".join(_type_name(a) for a in args) + (" (or null)" if type(None) in typing.get_args(hint) else "")
    names = {int: "a whole number", float: "a number", str: "a string", bool: "true or false", dict: "a mapping"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def check_backend_options(backend: str, options: dict[str, Any]) -> None:
    """Raise ValueError for an unknown `-O` key, a value of the wrong type, or one out of range (hf, vllm)."""
    if backend not in ("hf", "vllm"):
        return
    from .backends import _options_class

    cls = _options_class(backend)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key, value in options.items():
        if key not in known:
            raise ValueError(f"-O {key}: the {backend} backend has no such option{did_you_mean(key, known)}; "
                             f"it takes: {', '.join(sorted(known))}")
        if not _type_ok(value, hints[key]):
            raise ValueError(f"-O {key}={value!r}: must be {_type_name(hints[key])} ({backend} backend)")
        check = RANGES.get((backend, key))
        why = check(value) if check is not None and value is not None else None
        if why:
            raise ValueError(f"-O {key}={value!r}: {why} ({backend} backend)")


def looks_like_path(model: str) -> bool:
    """A model string that can only mean a local path (a hub id is `name` or `org/name`)."""
    return (model.startswith((".", "/", "~")) or model.count("/") > 1 or model.endswith((".gguf", "/"))
            or "\\" in model)


def check_model(backend: str, model: str | None) -> None:
    """A local model path that does not exist is refused before anything is written (hf, vllm)."""
    if backend not in ("hf", "vllm") or not model:
        return
    path = Path(model).expanduser()
    if not path.exists() and looks_like_path(model):
        raise ValueError(f"--model {model}: no such file or folder (a local checkpoint folder, a .gguf file, "
                         "or a hub id like org/name)")


def check_backend_inputs(backend: str, model: str | None, options: dict[str, Any]) -> None:
    check_backend_options(backend, options)
    check_model(backend, model)
