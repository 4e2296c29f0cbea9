"""Step splitting: spans cover the completion, no empty steps, each mode's boundaries, real model text."""
from __future__ import annotations

import json

import pytest

from stepkto_eval.audit.steps import MODES, Step, split_steps, steps_from_list


def texts(text: str, mode: str = "auto") -> list[str]:
    return [s.text for s in split_steps(text, mode=mode)]


def assert_covers(text: str, steps: list[Step]) -> None:
    assert "".join(text[s.start:s.end] for s in steps) == text
    assert all(a.end == b.start for a, b in zip(steps, steps[1:], strict=False))
    assert all(s.text and s.text == text[s.start:s.end].strip() for s in steps)


@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        # blank lines (the ProcessBench convention)
        ("First.\n\nSecond.\n\nThird.", "blank-lines", ["First.", "Second.", "Third."]),
        ("A\nstill A\n\n\n\nB", "blank-lines", ["A\nstill A", "B"]),
        ("A\n  \t\nB", "blank-lines", ["A", "B"]),  # a line of spaces is a blank line
        ("\n\n  A\n\nB\n\n", "blank-lines", ["A", "B"]),  # leading / trailing blanks join a real step
        # blocks that close later are not split; an unclosed opener protects nothing
        ("Code:\n```\nx = 1\n\ny = 2\n```\n\nDone.", "blank-lines", ["Code:\n```\nx = 1\n\ny = 2\n```", "Done."]),
        ("So\n\\[\na = 1\n\nb = 2\n\\]\n\nEnd.", "blank-lines", ["So\n\\[\na = 1\n\nb = 2\n\\]", "End."]),
        ("Open \\[ a\n\nB", "blank-lines", ["Open \\[ a", "B"]),
        ("\\begin{align}\na\n\nb\n\\end{align}\n\nC", "blank-lines", ["\\begin{align}\na\n\nb\n\\end{align}", "C"]),
        # step markers
        ("Intro\nStep 1: add.\nmore\nStep 2: done.", "step-markers", ["Intro", "Step 1: add.\nmore", "Step 2: done."]),
        ("## Step 1\nx\n## Step 2\ny", "step-markers", ["## Step 1\nx", "## Step 2\ny"]),
        ("**Step 1:** a\n**Step 2:** b", "step-markers", ["**Step 1:** a", "**Step 2:** b"]),
        # numbered lists
        ("Plan:\n1. add\n2. multiply\n3) done", "numbered", ["Plan:", "1. add", "2. multiply", "3) done"]),
        # lines
        ("a\nb\n\nc", "lines", ["a", "b", "c"]),
        # auto: paragraphs first, then markers, then numbers, then lines
        ("Step 1: a\n\nStep 2: b", "auto", ["Step 1: a", "Step 2: b"]),
        ("Step 1: a\nStep 2: b", "auto", ["Step 1: a", "Step 2: b"]),
        ("1. a\n2. b", "auto", ["1. a", "2. b"]),
        ("one line\nanother line", "auto", ["one line", "another line"]),
        ("single", "auto", ["single"]),
    ],
)
def test_modes(text, mode, expected):
    steps = split_steps(text, mode=mode)
    assert [s.text for s in steps] == expected
    assert_covers(text, steps)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n"])
def test_blank_text_has_no_steps(text):
    assert split_steps(text) == []


def test_unknown_mode_is_an_error_naming_the_modes():
    with pytest.raises(ValueError, match="blank-lines"):
        split_steps("a", mode="sentences")


def test_steps_from_list_gives_the_spans_of_the_given_steps():
    text, steps = steps_from_list(["a = 1", " b ", "c"])
    assert text == "a = 1\n\n b \n\nc"
    assert [s.text for s in steps] == ["a = 1", "b", "c"]
    assert_covers(text, steps)
    assert [s.text for s in split_steps(text)] == ["a = 1", "b", "c"]


@pytest.mark.parametrize("mode", MODES)
def test_real_completions_are_covered_in_every_mode(mode, shared_data):
    rows = [json.loads(line) for line in (shared_data / "qwen25math7b_math_cot_100.jsonl").open()]
    completions = [text for row in rows for text in row["response"]]
    assert len(completions) == 800
    counts = []
    for text in completions:
        steps = split_steps(text, mode=mode)
        assert_covers(text, steps)
        counts.append(len(steps))
    assert min(counts) >= 1
    if mode in ("auto", "blank-lines"):
        assert 4 <= sum(counts) / len(counts) <= 15  # paragraphs of a chain of thought, not lines or one blob




def _balanced(step: str) -> bool:
    return step.count("```") % 2 == 0 and step.count("\\[") == step.count("\\]") and step.count("$$") % 2 == 0


def test_processbench_step_lists_round_trip(shared_data):
    """Joined with blank lines, ProcessBench's own steps split back into the same steps.

    Excluded: items where ProcessBench itself cut inside a code fence or a display-math block (a step with
    an unclosed opener); keeping such blocks whole is the splitter's intended behaviour.
    """
    checked = excluded = 0
    for split in ("gsm8k", "math", "olympiadbench", "omnimath"):
        for item in json.loads((shared_data / "processbench" / f"{split}.json").read_text()):
            if not all(_balanced(s) for s in item["steps"]):
                excluded += 1
                continue
            text = "\n\n".join(item["steps"])
            assert texts(text) == [s.strip() for s in item["steps"]], item["id"]
            checked += 1
    assert checked >= 3390 and excluded <= 10
