# Shared by bench/compare.sh and bench/serve.sh (sourced, not run): llama.cpp built from the
# source node-llama-cpp@3.22.1 ships, outside this tree, and the synthetic benchmark files.
# Needs: $root, $work, $dawn.

# build_llama TARGET...: $work/llama.cpp/build/bin/TARGET for each, CPU-only, native ISA flags.
build_llama() {
  local bundle=${LLAMA_BUNDLE:-${LLAMA_ORACLE_PREFIX:-$root/../shared/oracle}/node_modules/node-llama-cpp/llama/gitRelease.bundle}
  [ -f "$bundle" ] || { echo "no llama.cpp bundle at $bundle (install the oracle, or set LLAMA_BUNDLE)" >&2; exit 1; }
  echo "building $* from $bundle in $work/llama.cpp ..." >&2
  [ -d "$work/llama.cpp" ] || git clone -q "$bundle" "$work/llama.cpp"
  cmake -S "$work/llama.cpp" -B "$work/llama.cpp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >/dev/null
  ninja -C "$work/llama.cpp/build" "$@" >/dev/null
}

# make_file PRESET TYPE OUT [TOKENIZER_JSON]: dawn synth (F16) + dawn quantize, unless OUT exists.
# With a Hugging Face tokenizer.json the file has that real vocabulary (servers then stream text).
make_file() {
  local f16=$work/$1-f16.gguf
  [ -f "$3" ] && return
  echo "making $3 ..." >&2
  local tok=()
  [ -n "${4:-}" ] && tok=(--hf-tokenizer "$4")
  [ -f "$f16" ] || "$dawn" synth --preset "$1" --dtype f16 --seed 1 "${tok[@]}" -o "$f16" 2>/dev/null
  "$dawn" quantize "$f16" "$3" "$2" 2>/dev/null
}
