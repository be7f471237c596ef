#!/usr/bin/env bash
# What a speculative check costs on the big MoE shapes: one pass over K + 1 tokens against one
# token's, in time and in the weight bytes each reads (every routed expert its tokens chose read
# once), from `dawn bench --draft ... --json` (verify_cost_ratio, verify_bytes_ratio). Files:
#   - the DeepSeek-V2-Lite shape, Q4_K with Q6_K expert down projections, attn_output,
#     attn_kv_a_mqa and output (Q4_K_M-like; V2-Lite has no MTP layer, so the check is timed with
#     prompt-lookup drafts of K tokens: the check is the same pass whoever drafted);
#   - DeepSeek-V3's layers at their real widths (synth preset deepseek-v3-slice: 1 dense and 2 MoE
#     trunk layers and the MTP layer) in an UD-IQ1_S-like mix (experts IQ1_S, the rest Q4_K/Q6_K),
#     checked with MTP drafts.
# Random weights: the drafts are missed, which does not change what a check costs.
#
# Usage: bench/draft_verify.sh [-t THREADS] [-r REPS] [-k K]
# Env: WORK (default /tmp/dawn-bench), DAWN.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=2 reps=3 k=1
while [ $# -gt 0 ]; do
  case $1 in
    -t) threads=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -k) k=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work=${WORK:-/tmp/dawn-bench}
dawn=${DAWN:-$root/build/dawn}
mkdir -p "$work"
[ -x "$dawn" ] || { echo "build dawn first (scripts/test.sh or cmake + ninja): $dawn" >&2; exit 1; }

v2=$work/v2lite-q4km.gguf v3=$work/v3slice-ud-iq1_s.gguf
hi=(--tensor-type attn_output=q6_k --tensor-type attn_kv_a_mqa=q6_k --tensor-type '^output\.=q6_k')
if [ ! -f "$v2" ]; then
  echo "making $v2 ..." >&2
  "$dawn" synth --preset deepseek-v2-lite --dtype q4_k --seed 1 --tensor-type ffn_down_exps=q6_k "${hi[@]}" -o "$v2" 2>/dev/null
fi
if [ ! -f "$v3" ]; then
  echo "making $v3 ..." >&2
  "$dawn" synth --preset deepseek-v3-slice --dtype q4_k --seed 1 --tensor-type 'ffn_(gate|up|down)_exps=iq1_s' "${hi[@]}" \
    -o "$v3" 2>/dev/null
fi

printf '| file | K | check / one token (time) | check / one token (weight bytes) | time / bytes | experts per MoE layer (check, one) |\n'
printf '|---|---|---|---|---|---|\n'
for spec in "$v2:ngram" "$v3:mtp"; do
  f=${spec%:*} drafter=${spec##*:}
  echo "measuring $(basename "$f") ..." >&2
  line=$("$dawn" bench "$f" -p 0 -n 16 -r "$reps" -t "$threads" --draft "$drafter" --draft-n "$k" --json 2>/dev/null | tail -1)
  python3 - "$(basename "$f" .gguf)" "$line" <<'EOF'
import json, sys
name, j = sys.argv[1], json.loads(sys.argv[2])
t, b = j["verify_cost_ratio"], j["verify_bytes_ratio"]
print(f"| {name} | {j['draft_n']} | {t:.2f}x | {b:.2f}x | {t / b:.2f} | "
      f"{j['verify_experts_per_moe_layer']:.2f}, {j['one_token_experts_per_moe_layer']:.2f} |")
EOF
done
