"""Static checks over the package AND the tests: undefined names, unused imports, syntax errors.

A module that cannot import (an undefined name on a rarely-run path) is a defect a unit test may miss.
"""
import shutil
import subprocess
import sys

from conftest import REPO, require


def test_ruff_pyflakes_rules_pass():
    ruff = shutil.which("ruff") or str(REPO / ".venv" / "bin" / "ruff")
    require(shutil.which(ruff) is not None, "ruff not installed (pip install -e '.[dev]')")
    targets = [p for p in ("stepkto_eval", "stepkto_train", "tests", "benchmarks") if (REPO / p).exists()]
    result = subprocess.run(
        [ruff, "check", "--select", "F", "--no-cache", *targets], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sys.version_info >= (3, 10)
