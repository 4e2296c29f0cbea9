"""A plain (non-editable) `pip install` of the wheel carries everything a user needs outside a checkout:
every Python package, the built-in task YAMLs and the training configs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from conftest import REPO


def declared_packages() -> set[str]:
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])


def test_every_source_package_is_declared():
    found = {".".join(p.parent.relative_to(REPO).parts)
             for root in ("stepkto_eval", "stepkto_train") for p in (REPO / root).rglob("__init__.py")}
    data_only = {"stepkto_eval.builtin_tasks", "stepkto_train.configs"}
    assert declared_packages() == found | data_only


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory) -> Path:
    """The wheel built from this checkout (offline: the venv's own setuptools), installed into a bare folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    # build from a copy: an in-tree build would leave build/ behind, whose stale files a later build ships
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "runs", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), str(source)],
                           capture_output=True, text=True, timeout=300, cwd=tmp)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("stepkto-*.whl")
    install = subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(tmp / "site"), str(wheel)],
                             capture_output=True, text=True, timeout=300, cwd=tmp)
    assert install.returncode == 0, install.stderr[-3000:]
    return tmp / "site"


def run_installed(site: Path, code: str, cwd: Path) -> str:
    # PYTHONPATH puts the installed copy ahead of the editable checkout; cwd is outside the repo
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_wheel_install_finds_tasks_and_configs_outside_a_checkout(wheel_site, shared_data, tmp_path):
    out = run_installed(wheel_site, f"""
import stepkto_eval, stepkto_train.iterate
from pathlib import Path
from stepkto_eval.tasks import list_tasks, load_task, load_task_spec
from stepkto_eval.processbench_scoring import TASK_FILE
print(Path(stepkto_eval.__file__).resolve().is_relative_to(Path({str(wheel_site.resolve())!r})))
print(",".join(list_tasks()))
print(TASK_FILE.is_file())
print(len(load_task(load_task_spec("math500"), data_dir={str(shared_data)!r}, limit=3).problems))
print(sorted(p.name for p in (Path(stepkto_train.__file__).parent / "configs").iterdir()))
""", cwd=tmp_path)
    installed, names, processbench, n, configs = out.splitlines()
    assert installed == "True", "the test imported the checkout, not the installed wheel"
    assert names == "aime24,amc23,math500,processbench"
    assert processbench == "True"
    assert n == "3"
    assert "cpu_demo.yaml" in configs and "ds_zero3.json" in configs
