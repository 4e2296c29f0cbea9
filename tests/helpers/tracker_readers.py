"""Read back what a tracker stored, with each tracker's own reader where one exists, so tests compare the
logged values with metrics.json instead of trusting our writer.

W&B 0.31 ships no Python reader for an offline run's `.wandb` file (its store moved to the Go core), so
`wandb_history` decodes the container here: a 7-byte header (`:W&B`, a 2-byte magic, a version byte) then
LevelDB-log framing (32 KiB blocks; each chunk: crc32c u32, length u16, type u8 — full/first/middle/last),
each record a `wandb.proto.wandb_internal_pb2.Record` (format read from the file itself and LevelDB's
log_format.md; the CRC is not checked).
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

_BLOCK = 32768
# our defaults decide where runs go in the tests: nothing from the user's environment may redirect them
UNSET = ("WANDB_DIR", "WANDB_PROJECT", "WANDB_ENTITY", "WANDB_API_KEY", "WANDB_RUN_ID", "MLFLOW_TRACKING_URI",
         "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID", "TENSORBOARD_LOGGING_DIR")


def offline_env(home: Path) -> dict[str, str]:
    """Environment for trackers with no network and no file outside `home`: W&B offline and quiet."""
    return {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_CONSOLE": "off", "WANDB_DISABLE_GIT": "true",
            **{v: str(home) for v in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR")}}


def use_offline_trackers(monkeypatch, home: Path) -> None:
    for var in UNSET:
        monkeypatch.delenv(var, raising=False)
    for var, value in offline_env(home).items():
        monkeypatch.setenv(var, value)


def tensorboard_scalars(log_dir: Path, *, unique: bool = True) -> dict[str, dict[int, float]]:
    """{tag: {step: value}} from every event file directly in `log_dir` (TensorBoard's EventAccumulator).
    unique: assert no step was written twice (not for a trainer resumed from a checkpoint, which logs the
    steps after the checkpoint again)."""
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    mux = EventMultiplexer()
    mux.AddRun(str(log_dir), name="run")  # one run: all event files of the folder, as TensorBoard shows them
    mux.Reload()
    out: dict[str, dict[int, float]] = {}
    for tag in mux.GetAccumulator("run").Tags()["scalars"]:
        events = mux.Scalars("run", tag)
        out[tag] = {e.step: e.value for e in events}
        assert not unique or len({e.step for e in events}) == len(events), f"{tag}: a step was logged twice"
    return out


def tensorboard_texts(log_dir: Path) -> dict[str, str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        event = acc.Tensors(tag)[-1]
        out[tag] = event.tensor_proto.string_val[0].decode("utf-8")
    return out


def _chunks(data: bytes):
    assert data[:4] == b":W&B", "not a .wandb file"
    pos, pending = 7, b""
    while pos + 7 <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < 7:  # block trailer: padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            yield pending + chunk
            pending = b""


def wandb_history(wandb_dir: Path, run_id: str = "*") -> dict[str, dict[int, float]]:
    """{key: {step: value}} over the offline run folders of `run_id` under `wandb_dir` (a resumed run adds a
    folder with the same id)."""
    import wandb
    from wandb.proto import wandb_internal_pb2 as pb

    # run.finish() returns before wandb's service process has written the offline file (we saw a bare 7-byte
    # header right after it); teardown waits for the service, as the exit of a CLI process does
    wandb.teardown()
    out: dict[str, dict[int, float]] = {}
    # the folder is offline-run-<start time>-<id>, with a -1, -2 ... suffix when one second saw two sessions
    for path in sorted(wandb_dir.glob(f"offline-run-*/run-{run_id}.wandb")):
        for raw in _chunks(path.read_bytes()):
            record = pb.Record()
            record.ParseFromString(raw)
            if record.WhichOneof("record_type") != "history":
                continue
            row = {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
            step = int(row.pop("_step"))
            for key, value in row.items():
                if not key.startswith("_"):
                    assert step not in out.get(key, {}), f"{key}: step {step} logged twice"
                    out.setdefault(key, {})[step] = value
    return out


def wandb_run_ids(wandb_dir: Path) -> set[str]:
    """The run ids of the offline runs under `wandb_dir` (call after wandb_history, which flushes)."""
    return {p.stem.removeprefix("run-") for p in wandb_dir.glob("offline-run-*/run-*.wandb")}


def wandb_files(wandb_dir: Path) -> set[str]:
    """Names of the files saved with the runs under `wandb_dir` (call after wandb_history, which flushes)."""
    return {p.name for p in wandb_dir.glob("offline-run-*/files/*")}


def mlflow_history(tracking_uri: str, run_name: str) -> tuple[dict[str, dict[int, float]], dict[str, str], set[str]]:
    """({key: {step: value}}, params, artifact names) of the one run named `run_name` in experiment `stepkto`."""
    import os

    from mlflow import MlflowClient

    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 opens a file store only when told
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("stepkto")
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.mlflow.runName = '{run_name}'")
    assert len(runs) == 1, f"expected one MLflow run named {run_name}, found {len(runs)}"
    run = runs[0]
    history = {}
    for key in run.data.metrics:
        points = client.get_metric_history(run.info.run_id, key)
        history[key] = {m.step: m.value for m in points}
        assert len(points) == len(history[key]), f"{key}: a step was logged twice"
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id)}
    return history, dict(run.data.params), artifacts
