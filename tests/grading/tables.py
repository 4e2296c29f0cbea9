"""Shared helpers for the gold/candidate tables: readable ids, pytest params, and the one check that every
row goes through (the verdict is explained, and it is the policy's answer)."""
from __future__ import annotations

import pytest

from stepkto_eval.grading import grade


def row_id(gold: str, candidate: str, expected: bool, category: str | None = None) -> str:
    text = f"{gold} {'==' if expected else '!='} {candidate}"
    text = f"{category}: {text}" if category else text
    return text if len(text) <= 100 else text[:97] + "..."


def table(rows: list[tuple]) -> list:
    """(gold, candidate, expected[, problem]) rows -> readable pytest params."""
    return [pytest.param(*row, id=row_id(*row[:3])) for row in rows]


def category_params(tables: dict[str, list[tuple]]) -> list:
    """Every table's rows as (gold, candidate, expected, problem) params, ids prefixed with the category."""
    return [
        pytest.param(gold, candidate, expected, rest[0] if rest else None,
                     id=row_id(gold, candidate, expected, category))
        for category, rows in tables.items()
        for gold, candidate, expected, *rest in rows
    ]


def check(gold: str, candidate: str | None, expected: bool, problem: str | None = None) -> None:
    verdict = grade(gold, candidate, problem=problem)
    assert isinstance(verdict.rule, str) and verdict.rule.strip(), verdict  # every verdict is explained
    assert isinstance(verdict.reason, str) and verdict.reason.strip(), verdict
    assert verdict.equal is expected, (
        f"grade({gold!r}, {candidate!r}) -> {verdict.equal} by rule {verdict.rule!r}: {verdict.reason} "
        f"[gold_norm={verdict.gold_norm!r}, candidate_norm={verdict.candidate_norm!r}]; policy says {expected}"
    )


def assert_both_labels(tables: dict[str, list[tuple]]) -> None:
    for category, rows in tables.items():
        assert {row[2] for row in rows} == {True, False}, f"{category} needs both true and false rows"
