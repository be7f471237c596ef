#!/usr/bin/env bash
# Set up, build, and run dawn on the embedded default model: models/dawn-brown-v3.gguf,
# a 10.5M-parameter DeepSeek-V3-architecture model trained on the Brown corpus
# (tools/train/train.sh reproduces it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target dawn
"$build/dawn" run "$root/models/dawn-brown-v3.gguf" -p "${1:-The president said that}" -n "${2:-64}" --temp 0.7 --seed 42
