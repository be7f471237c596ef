#!/usr/bin/env bash
# Set up, build, and ask the embedded default model a question: models/dawn-r1-tiny.gguf, a
# 10.5M-parameter DeepSeek-V3-architecture model trained in DeepSeek-R1's chat format
# (tools/train/train.sh r1 reproduces it). It reasons in a <think> block, shown dimmed, then
# answers. Usage: scripts/demo.sh [QUESTION]   (arithmetic, unit conversions, JSON, greetings)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target dawn
question=${1:-What is 788 + 904?}  # a held-out task: training never saw it
echo "> $question"
printf '%s\n' "$question" | "$build/dawn" chat "$root/models/dawn-r1-tiny.gguf" --temp 0 -n 384
