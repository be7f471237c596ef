#!/usr/bin/env bash
# dawn vs llama.cpp vs ik_llama.cpp on the low-bit files people run DeepSeek with, side by side
# in one run: the DeepSeek-V2-Lite shape in an UD-IQ1_S-like mix (routed experts IQ1_S, attention
# Q4_K with attn_output / attn_kv_a_mqa Q6_K, shared experts and the dense layer Q4_K, output Q6_K)
# and the same with the experts in IQ2_XXS. V2-Lite's expert down projections are 1408 wide, not
# a multiple of 256, so they fall back to IQ4_NL, as llama-quantize makes them.
#
# The files are made by dawn synth --tensor-type (its large i-quant tensors are assembled from a
# pool of quantized blocks: minutes, not the hours a quantizer takes at this size; speed does not
# depend on the values). llama.cpp is built from the source node-llama-cpp@3.22.1 ships, outside
# this tree ($WORK/llama.cpp); ik_llama.cpp's llama-bench is used when IK_LLAMA_BENCH names one
# (built outside the tree from a public copy with -DLLAMA_BUILD_EXAMPLES=ON) and run with
# -rtr 1 -thp 1 (its run-time repacking and huge pages), otherwise its columns say "-".
#
# Usage: bench/iquant_speed.sh [-t THREADS] [-r REPS] [-p N_PROMPT] [-n N_GEN]
# Env: WORK (default /tmp/dawn-bench), DAWN, LLAMA_BENCH, IK_LLAMA_BENCH, LLAMA_BUNDLE.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=2 reps=3 n_prompt=512 n_gen=128
while [ $# -gt 0 ]; do
  case $1 in
    -t) threads=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -p) n_prompt=$2; shift 2 ;;
    -n) n_gen=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work=${WORK:-/tmp/dawn-bench}
dawn=${DAWN:-$root/build/dawn}
mkdir -p "$work"
[ -x "$dawn" ] || { echo "build dawn first (scripts/test.sh or cmake + ninja): $dawn" >&2; exit 1; }
. "$root/bench/common.sh"
llama_bench=${LLAMA_BENCH:-$work/llama.cpp/build/bin/llama-bench}
[ -x "$llama_bench" ] || build_llama llama-bench
ik_bench=${IK_LLAMA_BENCH:-}

files=()
for experts in iq1_s iq2_xxs; do
  f=$work/v2lite-ud-$experts.gguf
  if [ ! -f "$f" ]; then
    echo "making $f ..." >&2
    "$dawn" synth --preset deepseek-v2-lite --dtype q4_k --seed 1 --tensor-type "ffn_(gate|up|down)_exps=$experts" \
      --tensor-type attn_output=q6_k --tensor-type attn_kv_a_mqa=q6_k --tensor-type '^output\.=q6_k' -o "$f" 2>/dev/null
  fi
  files+=("$f")
done

for f in "${files[@]}"; do
  name=$(basename "$f" .gguf)
  echo "measuring $name ..." >&2
  "$llama_bench" -m "$f" -t "$threads" -p "$n_prompt" -n "$n_gen" -r "$reps" -o json >"$work/llama-$name.json" 2>/dev/null
  if [ -n "$ik_bench" ]; then
    "$ik_bench" -m "$f" -t "$threads" -p "$n_prompt" -n "$n_gen" -r "$reps" -rtr 1 -thp 1 -o json \
      >"$work/ik-$name.json" 2>/dev/null
  else
    rm -f "$work/ik-$name.json"
  fi
  "$dawn" bench "$f" -t "$threads" -p "$n_prompt" -n "$n_gen" -r "$reps" --membw --json >"$work/dawn-$name.json" 2>/dev/null
done

echo
echo "threads $threads, pp$n_prompt / tg$n_gen (each from an empty cache), $reps reps; ik_llama.cpp with -rtr 1 -thp 1"
echo "% roofline: weight bytes per token x dawn's decode rate / the bandwidth measured just before and after each decode run"
echo "| file | GiB | llama.cpp pp | ik pp | dawn pp | vs llama.cpp | vs ik | llama.cpp tg | ik tg | dawn tg | vs llama.cpp | vs ik | dawn tg % roofline |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in "${files[@]}"; do
  python3 - "$work" "$f" <<'PY'
import json, os, sys
work, f = sys.argv[1], sys.argv[2]
name = os.path.basename(f)[: -len(".gguf")]
def peer(prefix):
    p = f"{work}/{prefix}-{name}.json"
    if not os.path.exists(p):
        return None, None
    rows = json.load(open(p))
    return (next(r["avg_ts"] for r in rows if r["n_prompt"] > 0), next(r["avg_ts"] for r in rows if r["n_gen"] > 0))
lpp, ltg = peer("llama")
ipp, itg = peer("ik")
d = json.load(open(f"{work}/dawn-{name}.json"))
dpp, dtg = d["prefill_tok_s"], d["decode_tok_s"]
v = lambda x: "-" if x is None else f"{x:.1f}"
r = lambda a, b: "-" if b is None else f"{a / b:.2f}x"
print(f"| {name} | {os.path.getsize(f) / 2**30:.2f} | {v(lpp)} | {v(ipp)} | {dpp:.1f} | {r(dpp, lpp)} | {r(dpp, ipp)} | "
      f"{v(ltg)} | {v(itg)} | {dtg:.1f} | {r(dtg, ltg)} | {r(dtg, itg)} | {100 * d['decode_roofline_frac']:.0f}% |")
PY
done
