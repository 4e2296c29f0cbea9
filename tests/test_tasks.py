"""Task YAMLs -> problem records, data loading through `datasets`, malformed rows, prompts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stepkto_eval.prompts import build_messages, build_plain_prompt, prompt_hash
from stepkto_eval.tasks import (
    TaskError,
    list_tasks,
    load_task,
    load_task_spec,
    parse_task_spec,
    tasks_dir,
)

BUILT_IN = {"math500": 500, "aime24": 30, "amc23": 40}


def test_every_task_yaml_parses_and_the_built_ins_are_there():
    found = list_tasks()
    assert set(BUILT_IN) <= set(found)
    assert len(found) == len(list(tasks_dir().glob("*.yaml")))
    for name, path in found.items():
        spec = load_task_spec(name)
        assert spec.name == name == path.stem, "a task's name must match its file name"
        assert spec.version >= 1 and spec.prompt.instruction and "\\boxed" in spec.prompt.instruction


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_task_loads_from_the_data_dir(name, shared_data):
    task = load_task(load_task_spec(name), data_dir=shared_data)
    assert len(task.problems) == task.n_available == BUILT_IN[name]
    assert len({p.id for p in task.problems}) == BUILT_IN[name]
    assert all(isinstance(p.answer, str) and p.answer and p.problem for p in task.problems)
    assert task.file_sha256 and len(task.file_sha256) == 64
    assert task.source.endswith(f"{name}.jsonl")


def test_field_maps_keep_the_datasets_own_spellings(shared_data):
    math = load_task(load_task_spec("math500"), data_dir=shared_data, limit=3)
    first = math.problems[0]
    assert first.id == "test/precalculus/807.json"
    assert first.answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert first.meta == {"subject": "Precalculus", "level": 2}
    assert first.solution and "\\boxed" in first.solution
    aime = load_task(load_task_spec("aime24"), data_dir=shared_data, limit=1).problems[0]
    assert (aime.id, aime.answer) == ("60", "204")
    amc = load_task(load_task_spec("amc23"), data_dir=shared_data, limit=1).problems[0]
    assert (amc.id, amc.answer, amc.solution) == ("0", "27.0", None)  # float gold kept as the dataset wrote it


def test_limit_takes_the_first_rows(shared_data):
    task = load_task(load_task_spec("aime24"), data_dir=shared_data, limit=4)
    assert [p.id for p in task.problems] == ["60", "61", "62", "63"]
    assert task.n_available == 30


def test_data_dir_from_environment(shared_data, monkeypatch):
    monkeypatch.setenv("STEPKTO_DATA_DIR", str(shared_data))
    assert len(load_task(load_task_spec("amc23"), limit=2).problems) == 2


def test_missing_local_file_names_the_task_and_path(tmp_path):
    with pytest.raises(TaskError, match=r"amc23.*amc23\.jsonl not found"):
        load_task(load_task_spec("amc23"), data_dir=tmp_path)


def write_task(folder: Path, rows: list[dict], **overrides) -> Path:
    data = folder / "mine.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = {"name": "mine", "version": 2, "source": {"path": "mine.jsonl", "split": "train"},
            "fields": {"id": "qid", "problem": "q", "answer": "a", "meta": ["topic"]},
            "prompt": {"instruction": "Think, then put the result in \\boxed{}.", "placement": "system"}}
    spec.update(overrides)
    path = folder / "mine.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_user_yaml_by_path_with_data_next_to_it(tmp_path):
    path = write_task(tmp_path, [{"qid": "a1", "q": "1+1?", "a": 2, "topic": "arith"}])
    task = load_task(load_task_spec(str(path)))
    (p,) = task.problems
    assert (p.id, p.problem, p.answer, p.meta) == ("a1", "1+1?", "2", {"topic": "arith"})
    assert task.spec.prompt.placement == "system" and task.spec.version == 2


@pytest.mark.parametrize("rows,row,field", [  # row = the 1-based line of the bad row in the JSONL file
    ([{"qid": "a", "q": "x", "a": "1"}, {"qid": "b", "q": "y"}], 2, "a"),              # answer missing
    ([{"qid": "a", "q": "x", "a": "1"}, {"qid": "b", "q": "", "a": "2"}], 2, "q"),     # empty problem
    ([{"qid": "a", "q": "x", "a": "1"}, {"qid": None, "q": "y", "a": "2"}], 2, "qid"),  # id missing
    ([{"qid": "a", "q": "x", "a": "1"}, {"qid": "a", "q": "y", "a": "2"}], 2, "qid"),   # id repeated
])
def test_malformed_row_names_file_row_and_field(tmp_path, rows, row, field):
    path = write_task(tmp_path, rows)
    with pytest.raises(TaskError) as err:
        load_task(load_task_spec(str(path)))
    message = str(err.value)
    assert "mine.jsonl" in message and f"line {row}:" in message and f"'{field}'" in message


def test_unparseable_data_file_is_a_task_error(tmp_path):
    path = write_task(tmp_path, [])
    (tmp_path / "mine.jsonl").write_text('{"qid": "a", "q": "x", "a": 1}\n{not json\n')
    with pytest.raises(TaskError, match="mine.jsonl"):
        load_task(load_task_spec(str(path)))


@pytest.mark.parametrize("broken,match", [
    ({"name": None}, "name"),
    ({"prompt": {"instruction": "x", "placement": "assistant"}}, "placement"),
    ({"fields": {"problem": "q"}}, "fields.answer"),
    ({"source": {"split": "test"}}, "source"),
])
def test_broken_task_file_names_the_key(tmp_path, broken, match):
    raw = yaml.safe_load(write_task(tmp_path, []).read_text())
    raw.update(broken)
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(TaskError, match=match):
        parse_task_spec(raw, file="broken.yaml")


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(TaskError, match="math500"):
        load_task_spec("math5000")


# --- prompts -------------------------------------------------------------------------------------------

def test_prompt_placement_and_plain_text(shared_data):
    task = load_task(load_task_spec("amc23"), data_dir=shared_data, limit=1)
    spec, problem = task.spec.prompt, task.problems[0]
    (user,) = build_messages(spec, problem)
    assert user["role"] == "user" and user["content"].startswith(spec.instruction)
    assert user["content"].endswith(problem.problem)
    system_spec = type(spec)(instruction=spec.instruction, placement="system")
    system, user = build_messages(system_spec, problem)
    assert (system["role"], system["content"], user["content"]) == ("system", spec.instruction, problem.problem)
    plain = build_plain_prompt(spec, problem)
    assert spec.instruction in plain and problem.problem in plain and "<|im_start|>" not in plain
    assert prompt_hash(spec) != prompt_hash(system_spec)
    assert prompt_hash(spec) == prompt_hash(type(spec)(instruction=spec.instruction))
