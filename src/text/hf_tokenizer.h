// Reads a Hugging Face tokenizer.json (+ tokenizer_config.json beside it) into
// the GGUF tokenizer metadata llama.cpp's converter would write for it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/gguf.h"

namespace dawn {

struct HfVocab {
  std::vector<std::string> tokens;  // by id; holes filled with [PAD<id>]
  std::vector<int32_t> types;       // TokenType
  std::vector<std::string> merges;  // "left right", by rank
  std::string pre;                  // tokenizer.ggml.pre
  int32_t bos = -1, eos = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  std::string chat_template;  // empty if none
};

// Throws Error naming the file and field for anything dawn cannot reproduce exactly.
HfVocab load_hf_tokenizer(const std::string& tokenizer_json);

void write_vocab_metadata(const HfVocab& v, GgufWriter& w);

}  // namespace dawn
