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


# Which top-level parts of stepkto_eval each layer may import (README "Development": grading ← tasks,
# metrics, audit, backends ← reports ← the run loop, labeling, ProcessBench, the gate ← commands and cli).
# A lower layer importing a higher one is the start of an import cycle and of a checker that needs a model.
_LOWER_LAYERS = ("grading", "tasks", "metrics", "audit", "backends")
_ABOVE_REPORTS = ("eval_run", "labeling", "processbench_scoring", "regression_gate", "commands", "cli")
_FORBIDDEN = {
    **{layer: ("reports", *_ABOVE_REPORTS) for layer in _LOWER_LAYERS},
    "reports": _ABOVE_REPORTS,
}


def _stepkto_imports(path) -> set[str]:
    """Top-level stepkto_eval parts a module imports, absolute or relative, at any depth of the file."""
    import ast

    package = path.relative_to(REPO).with_suffix("").parts[:-1]  # ("stepkto_eval", "grading")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            dotted = base + (node.module.split(".") if node.module else [])
            names = [dotted + [alias.name] for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for parts in names:
            if len(parts) >= 2 and parts[0] == "stepkto_eval":
                found.add(parts[1])
    return found


def test_dependencies_point_one_way():
    offences = []
    for layer, banned in _FORBIDDEN.items():
        root = REPO / "stepkto_eval" / layer
        modules = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
        assert modules and all(m.is_file() for m in modules), f"layer {layer} not found"
        for module in modules:
            bad = _stepkto_imports(module) & set(banned)
            offences += [f"{module.relative_to(REPO)} imports stepkto_eval.{b}" for b in sorted(bad)]
    assert not offences, "\n".join(offences)


def test_the_dependency_check_sees_relative_and_absolute_imports():
    # The checker must not pass by missing imports: both spellings of a forbidden import are found.
    module = REPO / "stepkto_eval" / "grading" / "structure_equality.py"
    assert "grading" in _stepkto_imports(module)  # `from .budget import ...` resolves to stepkto_eval.grading
    report = REPO / "stepkto_eval" / "reports" / "html_report.py"
    assert {"jsonl", "reports"} <= _stepkto_imports(report)
