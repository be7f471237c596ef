#!/usr/bin/env bash
# dawn vs llama.cpp, side by side in one run, same files, same thread count, one table.
#
# llama.cpp is built from the source node-llama-cpp@3.22.1 ships (llama/gitRelease.bundle, the same
# llama.cpp as the oracle), CPU-only with native ISA flags, OUTSIDE this tree ($WORK/llama.cpp).
# The files are made by dawn synth + dawn quantize in the shapes of ../shared/docs/machine.md:
# Qwen-1.5B (R1-Distill-Qwen-1.5B) Q4_K_M and Q8_0, DeepSeek-V2-Lite Q4_K_M (9.6 GiB; needs ~40 GB
# free disk while it is made, and 10+ minutes).
#
# Usage: bench/compare.sh [-t THREADS] [-r REPS] [-p N_PROMPT] [-n N_GEN] [--no-v2lite]
# Env: WORK (default /tmp/dawn-bench), LLAMA_BUNDLE (default: the oracle's node-llama-cpp),
#      DAWN (default build/dawn), LLAMA_BENCH (skip the build and use this binary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=2 reps=3 n_prompt=512 n_gen=128 v2lite=1
while [ $# -gt 0 ]; do
  case $1 in
    -t) threads=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -p) n_prompt=$2; shift 2 ;;
    -n) n_gen=$2; shift 2 ;;
    --no-v2lite) v2lite=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
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

files=()
make_file qwen2.5-1.5b q4_k_m "$work/qwen-1.5b-q4_k_m.gguf"; files+=("$work/qwen-1.5b-q4_k_m.gguf")
make_file qwen2.5-1.5b q8_0 "$work/qwen-1.5b-q8_0.gguf"; files+=("$work/qwen-1.5b-q8_0.gguf")
rm -f "$work/qwen2.5-1.5b-f16.gguf"
if [ "$v2lite" = 1 ]; then
  make_file deepseek-v2-lite q4_k_m "$work/v2lite-q4_k_m.gguf"; files+=("$work/v2lite-q4_k_m.gguf")
  rm -f "$work/deepseek-v2-lite-f16.gguf"
fi

# Bandwidth samples between the files show how much the machine's bandwidth moves during the run. The
# % roofline column is dawn's own: each decode run against the bandwidth sampled just before and just
# after it (dawn bench --membw), since on a shared machine the bandwidth moves by 2x within minutes.
measure_membw() {
  "$dawn" bench --membw --json -t "$threads" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["membw_bytes_s"])'
}
samples=()
for f in "${files[@]}"; do
  echo "measuring $(basename "$f") ..." >&2
  samples+=("$(measure_membw)")
  name=$(basename "$f" .gguf)
  /usr/bin/time -f '%M' -o "$work/llama-$name.rss" "$llama_bench" -m "$f" -t "$threads" -p "$n_prompt" -n "$n_gen" \
    -r "$reps" -o json >"$work/llama-$name.json" 2>/dev/null
  "$dawn" bench "$f" -t "$threads" -p "$n_prompt" -n "$n_gen" -r "$reps" --membw --json >"$work/dawn-$name.json" 2>/dev/null
done
samples+=("$(measure_membw)")
rows=()
for f in "${files[@]}"; do
  rows+=("$(python3 - "$work" "$f" <<'PY'
import json, os, sys
work, f = sys.argv[1], sys.argv[2]
name = os.path.basename(f)[: -len(".gguf")]
ll = json.load(open(f"{work}/llama-{name}.json"))
pp = next(r["avg_ts"] for r in ll if r["n_prompt"] > 0)
tg = next(r["avg_ts"] for r in ll if r["n_gen"] > 0)
lrss = int(open(f"{work}/llama-{name}.rss").read().split()[-1]) * 1024
d = json.load(open(f"{work}/dawn-{name}.json"))
gib = lambda b: b / 2**30
print(f"| {os.path.basename(f)} | {gib(os.path.getsize(f)):.2f} | {pp:.1f} | {d['prefill_tok_s']:.1f} | "
      f"{d['prefill_tok_s'] / pp:.2f}x | {tg:.1f} | {d['decode_tok_s']:.1f} | {d['decode_tok_s'] / tg:.2f}x | "
      f"{100 * d['decode_roofline_frac']:.0f}% | {gib(d['peak_rss_bytes']):.2f} | {gib(lrss):.2f} |")
PY
)")
done
echo
gbs=$(printf '%s\n' "${samples[@]}" | python3 -c 'import sys; print(" ".join(f"{float(l)/1e9:.1f}" for l in sys.stdin))')
echo "threads $threads, pp$n_prompt / tg$n_gen (each from an empty cache, in both tools), $reps reps"
echo "% roofline: weight bytes per token x dawn's decode rate / the bandwidth measured just before and after each of its decode runs (mean over runs); bandwidth samples between files, GB/s: $gbs"
echo "| file | GiB | llama.cpp pp | dawn pp | ratio | llama.cpp tg | dawn tg | ratio | dawn tg % roofline | dawn RSS GiB | llama.cpp RSS GiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
