"""Prompt building: chat messages rendered by the model's own chat template, or plain text for base models.

We never write chat markup ourselves: for a chat backend the request carries `messages` and the backend
applies the tokenizer's template (or the server's chat endpoint does). A base model without a template
gets a plain-text prompt: the instruction, the problem, and an opening for the solution.
"""
from __future__ import annotations

import hashlib
import json

from .tasks import Problem, PromptSpec

PLAIN_TEMPLATE = "{instruction}\n\nProblem:\n{problem}\n\nSolution:\n"


def build_messages(spec: PromptSpec, problem: Problem) -> tuple[dict, ...]:
    """Chat turns for one problem; `placement` puts the instruction in a system turn or before the problem."""
    if spec.placement == "system":
        return ({"role": "system", "content": spec.instruction}, {"role": "user", "content": problem.problem})
    return ({"role": "user", "content": f"{spec.instruction}\n\n{problem.problem}"},)


def build_plain_prompt(spec: PromptSpec, problem: Problem) -> str:
    return PLAIN_TEMPLATE.format(instruction=spec.instruction, problem=problem.problem)


def prompt_hash(spec: PromptSpec) -> str:
    """sha256 over everything that shapes the prompt text (instruction, placement, plain-text template)."""
    payload = json.dumps({"instruction": spec.instruction, "placement": spec.placement, "plain": PLAIN_TEMPLATE},
                         sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
