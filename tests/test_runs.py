"""Run folder: manifest first, append-only durable samples, newest-record-wins, settings check."""
from __future__ import annotations

import json

import pytest

from stepkto_eval.runs import RunFolder, RunSettingsChanged, settings_hash


def manifest(**changes):
    base = {
        "created": "2026-11-22T03:00:00Z", "command": ["stepkto-eval"],
        "model": {"name_or_path": "/models/m", "revision": None, "hash": "sha256:abc", "base_url": None},
        "backend_settings": {"name": "hf", "options": {}},
        "tasks": {"math500": {"version": 1, "file": "/repo/tasks/math500.yaml", "source": "/data/math500.jsonl",
                              "file_sha256": "f" * 64, "prompt_hash": "p", "n_problems": 3, "limit": 3}},
        "sampling": {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_tokens": None, "seed": 0},
        "checker_version": "1", "audit": None, "round": None, "hardware": {"cpu_count": 2},
    }
    for key, value in changes.items():
        base[key] = value
    return base


def record(pid, i, reason="stop", text="x"):
    return {"task": "math500", "id": pid, "sample_index": i, "completion": text, "finish_reason": reason}


def test_new_folder_gets_the_manifest_then_resumes(tmp_path):
    folder = RunFolder(tmp_path / "run")
    assert folder.open(manifest()) is False
    written = folder.read_manifest()
    assert written["settings_hash"] == settings_hash(manifest())
    assert folder.open(manifest(created="later", hardware={"cpu_count": 64})) is True  # provenance only
    assert len(folder.read_manifest()["resumed"]) == 1


@pytest.mark.parametrize("change,mentions", [
    ({"sampling": {"n": 1, "temperature": 0.7, "top_p": 1.0, "max_tokens": None, "seed": 0}}, "temperature"),
    ({"checker_version": "2"}, "checker_version"),
    ({"model": {"name_or_path": "/models/m", "revision": None, "hash": "sha256:def", "base_url": None}}, "hash"),
    ({"audit": {"judge": "arith"}}, "audit"),
    ({"backend_settings": {"name": "vllm", "options": {}}}, "backend_settings.name"),
])
def test_changed_settings_are_refused_with_the_difference(tmp_path, change, mentions):
    folder = RunFolder(tmp_path / "run")
    folder.open(manifest())
    folder.append_samples([record("1", 0)])  # a folder with results: they must never be mixed
    with pytest.raises(RunSettingsChanged) as err:
        folder.open(manifest(**change))
    assert mentions in str(err.value) and "--output-dir" in str(err.value)


def test_manifest_without_samples_is_taken_over_by_other_settings(tmp_path):
    """A start that wrote a manifest and then failed holds no results: the corrected command may use the folder."""
    folder = RunFolder(tmp_path / "run")
    folder.open(manifest())
    changed = manifest(checker_version="2")
    assert folder.open(changed) is False
    assert folder.read_manifest()["settings_hash"] == settings_hash(changed)


def test_prompt_change_is_refused(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.open(manifest())
    folder.append_samples([record("1", 0)])
    tasks = manifest()["tasks"]
    tasks["math500"]["prompt_hash"] = "other"
    with pytest.raises(RunSettingsChanged, match="prompt_hash"):
        folder.open(manifest(tasks=tasks))


def test_paths_of_hashed_content_do_not_block_resume(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.open(manifest())
    moved = manifest(model={"name_or_path": "./m", "revision": None, "hash": "sha256:abc", "base_url": None})
    moved["tasks"]["math500"].update(file="tasks/math500.yaml", source="../shared/data/math500.jsonl")
    assert folder.open(moved) is True


def test_newest_record_wins_and_errors_are_unfinished(tmp_path):
    folder = RunFolder(tmp_path)
    folder.append_samples([record("a", 0), record("a", 1, reason="error", text=None), record("b", 0)])
    assert folder.finished_keys() == {("math500", "a", 0), ("math500", "b", 0)}
    folder.append_samples([record("a", 1, text="retried")])
    assert folder.finished_keys() == {("math500", "a", 0), ("math500", "a", 1), ("math500", "b", 0)}
    assert folder.latest_samples()[("math500", "a", 1)]["completion"] == "retried"
    assert len(list(folder.iter_samples())) == 4  # append-only: the error line stays on disk


def test_torn_last_line_is_ignored_then_cut_before_appending(tmp_path):
    folder = RunFolder(tmp_path)
    folder.append_samples([record("a", 0)])
    with open(folder.samples_path, "a") as fh:
        fh.write('{"task": "math500", "id": "b", "sam')  # a process killed mid-write
    assert [r["id"] for r in folder.iter_samples()] == ["a"]
    folder.append_samples([record("b", 0)])
    lines = folder.samples_path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]


def test_metrics_and_text_are_replaced_atomically(tmp_path):
    folder = RunFolder(tmp_path)
    folder.write_metrics({"tasks": {}})
    folder.write_metrics({"tasks": {"x": 1}})
    folder.write_text("report.md", "# hi\n")
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"tasks": {"x": 1}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "report.md"]
