// Byte-level BPE vocabulary from GGUF tokenizer metadata (tokenizer.ggml.*).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/gguf.h"

namespace dawn {

enum TokenType : int32_t {
  kTokNormal = 1,
  kTokUnknown = 2,
  kTokControl = 3,
  kTokUserDefined = 4,
  kTokUnused = 5,
  kTokByte = 6
};

class Vocab {
 public:
  // Throws Error naming the key at fault.
  explicit Vocab(const GgufFile& f);

  int32_t size() const { return int32_t(tokens_.size()); }
  int32_t bos() const { return bos_; }
  int32_t eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  bool is_eog(int32_t id) const;
  const std::string& token(int32_t id) const { return tokens_[id]; }
  int32_t type(int32_t id) const { return types_[id]; }

  // Token ids of `text`. Special tokens written in the text are matched as
  // single tokens when parse_special.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special = true) const;
  // Raw bytes of a token (control tokens only when `special`).
  std::string piece(int32_t id, bool special = false) const;
  std::string decode(const std::vector<int32_t>& ids, bool special = false) const;

 private:
  void bpe(std::string_view word, std::vector<int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::vector<int32_t> types_;
  std::unordered_map<std::string, int32_t> ids_;
  std::unordered_map<std::string, int32_t> merge_rank_;
  std::vector<int32_t> specials_;  // matched in text, longest first
  std::vector<int32_t> eog_;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false;
};

// GPT-2's reversible map between bytes and printable code points, as UTF-8.
const std::string& byte_to_unicode(uint8_t b);

// Length of the longest prefix of s that ends on a UTF-8 character boundary.
size_t utf8_complete_prefix(std::string_view s);

}  // namespace dawn
