#!/usr/bin/env bash
# Set up, build and run every test. Usage: scripts/test.sh [build-dir] [extra cmake args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
"$root/scripts/setup.sh"
# Test-only reference tools, pinned by the lockfile.
npm ci --prefix "$root/tests/tokenizer" --no-audit --no-fund --loglevel=error
npm ci --prefix "$root/tests/server" --no-audit --no-fund --loglevel=error
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
