// Byte-level BPE vocabulary from GGUF tokenizer metadata (tokenizer.ggml.*),
// encoding exactly as Hugging Face's tokenizers does for the same tokenizer.json.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/gguf.h"

namespace dawn {

class PreTokenizer;
class TokenTrie;

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
  int32_t find(std::string_view token) const;  // -1 if absent
  const std::string& token(int32_t id) const { return tokens_[id]; }
  int32_t type(int32_t id) const { return types_[id]; }
  const PreTokenizer& pre() const { return *pre_; }

  // Token ids of `text`. Added tokens written in the text are matched as single
  // tokens (HF's added vocabulary); control tokens only when parse_special.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special = true) const;
  // Raw bytes of a token (control tokens only when `special`).
  const std::string& piece(int32_t id, bool special = false) const;
  std::string decode(const std::vector<int32_t>& ids, bool special = false) const;
  // The trie of the token bytes grammars match (text/grammar_matcher.h), built on first use.
  std::shared_ptr<const TokenTrie> token_trie() const;
  // Every end-of-generation id.
  const std::vector<int32_t>& eog_ids() const { return eog_; }

 private:
  void bpe(std::string_view word, std::vector<int32_t>& out) const;

  const PreTokenizer* pre_ = nullptr;
  std::vector<std::string> tokens_;
  std::vector<std::string> pieces_;  // decoded bytes per token
  std::vector<int32_t> types_;
  std::unordered_map<std::string_view, int32_t> ids_;  // views into tokens_
  struct Merge {
    int32_t rank, id;
  };
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id)
  std::array<int32_t, 256> byte_ids_{};
  std::array<std::vector<int32_t>, 256> added_by_first_byte_;  // longest first
  std::vector<int32_t> eog_;
  mutable std::once_flag trie_once_;
  mutable std::shared_ptr<const TokenTrie> trie_;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false, add_eos_ = false;
};

// GPT-2's reversible map between bytes and printable code points, as UTF-8.
const std::string& byte_to_unicode(uint8_t b);

}  // namespace dawn
