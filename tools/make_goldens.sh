#!/usr/bin/env bash
# Regenerates tests/data/goldens from the real llama.cpp (../shared/oracle).
# Each case: a model made by `dawn synth` (+ `dawn quantize`), a random prompt,
# and the oracle's logits at every position (raw little-endian f32, [pos][vocab]).
# The manifest line ends with the sha256 of the model file the oracle ran on: the test
# rebuilds the file and refuses to compare when its bytes differ.
# Usage: tools/make_goldens.sh [build-dir]   (needs node, python3 and the oracle installed)
# PRESETS=... and TYPES=... regenerate a subset in place.
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
  for type in ${TYPES:-f32 f16 bf16 q8_0 q4_k_m q6_k q2_k q5_k_m}; do
    cases+="$preset:$type "
  done
done

[ -n "${PRESETS:-}${TYPES:-}" ] || { : > "$out/manifest.txt"; : > "$out/generate.txt"; }
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
  # llama.cpp against itself (one token per batch instead of one batch): how far its
  # own code paths disagree on this case, which bounds what agreement can mean.
  node "$oracle" logits "$model" --tokens "$tokens" --all-positions --encoding f32-base64 --batch-size 1 > "$tmp/o1.json"
  self=$(python3 - "$tmp/o.json" "$tmp/o1.json" "$out/$name.bin" <<'PY'
import base64, json, math, struct, sys
def rows(p):
    o = json.load(open(p))
    blob = o["logits_f32_base64"]
    n, v = blob["shape"]
    assert n == len(o["tokens"]), blob["shape"]
    raw = base64.b64decode(blob["data"])
    return raw, [struct.unpack_from("<%df" % v, raw, 4 * v * i) for i in range(n)]
raw, a = rows(sys.argv[1])
_, b = rows(sys.argv[2])
open(sys.argv[3], "wb").write(raw)
def logsoftmax(r):
    m = max(r)
    s = m + math.log(sum(math.exp(x - m) for x in r))
    return [x - s for x in r]
kl = agree = 0.0
for ra, rb in zip(a, b):
    la, lb = logsoftmax(ra), logsoftmax(rb)
    kl += sum(math.exp(x) * (x - y) for x, y in zip(la, lb)) / len(a)
    agree += (max(range(len(ra)), key=ra.__getitem__) == max(range(len(rb)), key=rb.__getitem__)) / len(a)
print("%.3e %.4f" % (kl, agree))
PY
)
  grep -v "^$name " "$out/manifest.txt" > "$tmp/m" || true
  sha=$(sha256sum "$model" | cut -d' ' -f1)
  { cat "$tmp/m"; echo "$name $preset $type $tokens $self $sha"; } > "$out/manifest.txt"
  if [ "$type" = f32 ]; then
    # Greedy continuation of the first 32 prompt tokens, 64 tokens long.
    prompt=$(echo "$tokens" | cut -d, -f1-32)
    gen=$(node "$oracle" generate "$model" --tokens "$prompt" --n 64 | python3 -c "import json,sys; print(','.join(map(str, json.load(sys.stdin)['tokens'])))")
    grep -v "^$preset " "$out/generate.txt" > "$tmp/g" 2>/dev/null || true
    { cat "$tmp/g"; echo "$preset $prompt $gen"; } > "$out/generate.txt"
  fi
  echo "golden $name" >&2
done
