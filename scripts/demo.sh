#!/usr/bin/env bash
# Set up, build, and run dawn on the embedded default model.
# Until a trained model ships (issue 5), the default is a random-weight DeepSeek-V3-style
# model made by `dawn synth`: it exercises the whole engine but its text is noise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target dawn
model=$build/default.gguf
[ -f "$model" ] || "$build/dawn" synth --preset tiny-deepseek-v3 --seed 1 -o "$model"
"$build/dawn" run "$model" -p "${1:-The dawn came slowly over the hills,}" -n "${2:-48}" --seed 42
