#!/usr/bin/env bash
# Regenerates tests/data/goldens from the real llama.cpp (../shared/oracle).
# Each case: a model made by `dawn synth` (+ `dawn quantize`), a random prompt,
# and the oracle's logits at every position (raw little-endian f32, [pos][vocab]).
# The manifest line ends with the sha256 of the model file the oracle ran on: the test
# rebuilds the file and refuses to compare when its bytes differ.
# Usage: tools/make_goldens.sh [build-dir]   (needs node, python3 and the oracle installed)
# PRESETS=... and TYPES=... regenerate a subset in place.
# LONG=1 makes the long-context cases instead (#24): 2400-token prompts on the presets in
# LONG_PRESETS (YaRN with a 256-token original context, so ~2150 positions lie past it), the
# oracle's rows kept at every 8th position (the .long.bin files, manifest long.txt).
# A type written llama-TYPE (e.g. llama-iq1_s) is quantized BY llama.cpp instead: llama-imatrix
# over tests/data/heldout-excerpt.txt, then llama-quantize --imatrix, both from $LLAMA_BIN (a
# llama.cpp build outside this tree). dawn cannot rebuild such a file, so it is kept in
# tests/data/iquants/ (with the imatrix, which tests/imatrix_test.cpp compares dawn's with).
# dawn's own low-bit i-quant types use dawn's imatrix of the same text, kept there too: it
# depends on the SIMD tier that computed it by the last bit, and the test must rebuild the file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
dawn=$build/dawn
oracle=${LLAMA_ORACLE:-$root/../shared/oracle/llama-oracle.mjs}
out=$root/tests/data/goldens
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
if [ -n "${LONG:-}" ]; then
  n_tokens=2400 stride=8 manifest=$out/long.txt suffix=.long
  default_presets="tiny-deepseek-v2-lite tiny-qwen2-yarn" default_types="f32 q4_k_m"
else
  n_tokens=300 stride=1 manifest=$out/manifest.txt suffix=
  default_presets="tiny-deepseek-v3 tiny-deepseek-v2-lite tiny-deepseek-legacy tiny-qwen2 tiny-llama3 tiny-qwen3"
  default_types="f32 f16 bf16 q8_0 q4_k_m q6_k q2_k q5_k_m"
fi

cases=""
for preset in ${PRESETS:-$default_presets}; do
  for type in ${TYPES:-$default_types}; do
    cases+="$preset:$type "
  done
done

if [ -z "${PRESETS:-}${TYPES:-}" ]; then
  : > "$manifest"
  [ -n "${LONG:-}" ] || : > "$out/generate.txt"
fi
touch "$manifest"
for c in $cases; do
  preset=${c%%:*}
  type=${c##*:}
  name=$preset.$type
  "$dawn" synth --preset "$preset" --seed 1 -o "$tmp/$preset.gguf"
  model=$tmp/$preset.gguf
  if [ "${type#llama-}" != "$type" ]; then
    : "${LLAMA_BIN:?set LLAMA_BIN to a llama.cpp build/bin with llama-imatrix and llama-quantize}"
    if [ ! -f "$tmp/$preset.imatrix.gguf" ]; then
      "$LLAMA_BIN/llama-imatrix" -m "$model" -f "$root/tests/data/heldout-excerpt.txt" -o "$tmp/$preset.imatrix.gguf" \
        -c 128 --chunks 32 -t 2 > "$tmp/imatrix.log" 2>&1 || { cat "$tmp/imatrix.log" >&2; exit 1; }
      mkdir -p "$root/tests/data/iquants"
      cp "$tmp/$preset.imatrix.gguf" "$root/tests/data/iquants/$preset.llama-imatrix.gguf"
    fi
    mkdir -p "$root/tests/data/iquants"
    "$LLAMA_BIN/llama-quantize" --imatrix "$tmp/$preset.imatrix.gguf" "$model" "$root/tests/data/iquants/$name.gguf" \
      "${type#llama-}" 2 > "$tmp/quantize.log" 2>&1 || { cat "$tmp/quantize.log" >&2; exit 1; }
    model=$root/tests/data/iquants/$name.gguf
  elif [ "${type#iq}" != "$type" ] && [ "$type" != iq4_nl ] && [ "$type" != iq4_xs ]; then
    # dawn's own low-bit i-quant mixes, with dawn's own importance matrix (the test rebuilds both).
    im=$root/tests/data/iquants/$preset.dawn-imatrix.gguf
    [ -f "$im" ] || "$dawn" imatrix "$model" "$root/tests/data/heldout-excerpt.txt" -o "$im" -c 128 --chunks 32 -t 2 2>/dev/null
    "$dawn" quantize "$model" "$tmp/$name.gguf" "$type" --imatrix "$im"
    model=$tmp/$name.gguf
  elif [ "$type" != f32 ]; then
    "$dawn" quantize "$model" "$tmp/$name.gguf" "$type"
    model=$tmp/$name.gguf
  fi
  tokens=$(python3 -c "import random; random.seed('$preset'); print(','.join(str(random.randrange(6, 512)) for _ in range($n_tokens)))")
  node "$oracle" logits "$model" --tokens "$tokens" --all-positions --encoding f32-base64 > "$tmp/o.json"
  # llama.cpp against itself (one token per batch instead of one batch): how far its
  # own code paths disagree on this case, which bounds what agreement can mean.
  node "$oracle" logits "$model" --tokens "$tokens" --all-positions --encoding f32-base64 --batch-size 1 > "$tmp/o1.json"
  self=$(python3 - "$tmp/o.json" "$tmp/o1.json" "$out/$name$suffix.bin" "$stride" <<'PY'
import base64, json, math, struct, sys
stride = int(sys.argv[4])
def rows(p):
    o = json.load(open(p))
    blob = o["logits_f32_base64"]
    n, v = blob["shape"]
    assert n == len(o["tokens"]), blob["shape"]
    raw = base64.b64decode(blob["data"])
    # Rows at positions stride-1, 2*stride-1, ...: every position when stride is 1.
    keep = range(stride - 1, n, stride)
    return b"".join(raw[4 * v * i:4 * v * (i + 1)] for i in keep), [struct.unpack_from("<%df" % v, raw, 4 * v * i) for i in keep]
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
  grep -v "^$name " "$manifest" > "$tmp/m" || true
  sha=$(sha256sum "$model" | cut -d' ' -f1)
  # The long manifest says its stride after the type.
  { cat "$tmp/m"; echo "$name $preset $type ${LONG:+$stride }$tokens $self $sha"; } > "$manifest"
  if [ "$type" = f32 ] && [ -z "${LONG:-}" ]; then
    # Greedy continuation of the first 32 prompt tokens, 64 tokens long.
    prompt=$(echo "$tokens" | cut -d, -f1-32)
    gen=$(node "$oracle" generate "$model" --tokens "$prompt" --n 64 | python3 -c "import json,sys; print(','.join(map(str, json.load(sys.stdin)['tokens'])))")
    grep -v "^$preset " "$out/generate.txt" > "$tmp/g" 2>/dev/null || true
    { cat "$tmp/g"; echo "$preset $prompt $gen"; } > "$out/generate.txt"
  fi
  echo "golden $name" >&2
done
