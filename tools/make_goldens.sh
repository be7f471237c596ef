#!/usr/bin/env bash
# Regenerates tests/data/goldens from the real llama.cpp (../shared/oracle).
# Each case: a model made by `dawn synth` (+ `dawn quantize`), a random prompt,
# and the oracle's logits at every position (raw little-endian f32, [pos][vocab]).
# Usage: tools/make_goldens.sh [build-dir]   (needs node, python3 and the oracle installed)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
dawn=$build/dawn
oracle=${LLAMA_ORACLE:-$root/../shared/oracle/llama-oracle.mjs}
out=$root/tests/data/goldens
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
n_tokens=300

cases=""
for preset in ${PRESETS:-tiny-deepseek-v3 tiny-deepseek-v2-lite tiny-deepseek-legacy tiny-qwen2 tiny-llama3 tiny-qwen3}; do
  for type in f32 f16 bf16 q8_0 q4_k_m q6_k q2_k; do
    cases+="$preset:$type "
  done
done

[ -n "${PRESETS:-}" ] || : > "$out/manifest.txt"
for c in $cases; do
  preset=${c%%:*}
  type=${c##*:}
  name=$preset.$type
  "$dawn" synth --preset "$preset" --seed 1 -o "$tmp/$preset.gguf"
  model=$tmp/$preset.gguf
  if [ "$type" != f32 ]; then
    "$dawn" quantize "$model" "$tmp/$name.gguf" "$type"
    model=$tmp/$name.gguf
  fi
  tokens=$(python3 -c "import random; random.seed('$preset'); print(','.join(str(random.randrange(6, 512)) for _ in range($n_tokens)))")
  node "$oracle" logits "$model" --tokens "$tokens" --all-positions --encoding f32-base64 > "$tmp/o.json"
  python3 - "$tmp/o.json" "$out/$name.bin" <<'PY'
import base64, json, sys
o = json.load(open(sys.argv[1]))
blob = o["logits_f32_base64"]
assert blob["shape"][0] == len(o["tokens"]), blob["shape"]
open(sys.argv[2], "wb").write(base64.b64decode(blob["data"]))
PY
  grep -v "^$name " "$out/manifest.txt" > "$tmp/m" || true
  { cat "$tmp/m"; echo "$name $preset $type $tokens"; } > "$out/manifest.txt"
  echo "golden $name" >&2
done
