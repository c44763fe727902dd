#!/usr/bin/env bash
# seqarch on a GPU, checked in one run (≤ 8 minutes): every model on the GPU equal to itself on
# the CPU and its step to its forward; minGRU's scan against its loop at T = 512 and 4096; the
# device tests; the zoology-mqar reproduction and the quick study with --device cuda. One JSON.
#
#   benchmarks/gpu_check.sh [OUT.json]      (default: $OUT/gpu_check.json, else ./gpu_check.json)
#
# Needs the project installed with a CUDA build of torch (the README's install pins the CPU
# build: on a GPU machine, install torch from PyTorch's CUDA index first, then `pip install -e .`).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-.}/gpu_check.json}"
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no GPU visible to torch ' + torch.__version__)"
timeout 480 python benchmarks/gpu_check.py --device cuda --json "$out" > /dev/null
echo "wrote $out"
