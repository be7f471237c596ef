#!/usr/bin/env bash
# Records llama.cpp's perplexity (from ../shared/oracle's logits, scored as llama-perplexity
# does) on tests/data/heldout-excerpt.txt for the shipped model and dawn's quantizations of it.
# Usage: tools/make_perplexity_goldens.sh [build-dir]   (needs node, python3 and the oracle)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
model=$root/models/dawn-brown-v3.gguf
text=$root/tests/data/heldout-excerpt.txt
out=$root/tests/data/perplexity.txt
ctx=256
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# type ctx llama.cpp-ppl sha256-of-the-file   (tools/make_perplexity_goldens.sh)" > "$out"
for type in f16 q8_0 q4_k_m q2_k; do
  m=$model
  if [ "$type" != f16 ]; then
    "$build/dawn" quantize "$model" "$tmp/$type.gguf" "$type" 2>/dev/null
    m=$tmp/$type.gguf
  fi
  ppl=$(python3 "$root/tools/oracle_perplexity.py" "$m" "$text" $ctx | sed -E 's/^PPL = ([0-9.]+).*/\1/')
  echo "$type $ctx $ppl $(sha256sum "$m" | cut -d' ' -f1)" >> "$out"
  echo "$type: llama.cpp PPL $ppl" >&2
done
