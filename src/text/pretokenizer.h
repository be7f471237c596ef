// Pre-tokenizers named by `tokenizer.ggml.pre`: a sequence of regex splits
// (Hugging Face's Split with behaviour Isolated: matches and the gaps between
// them both become pieces), plus the per-family normalizer and BPE flags.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dawn {

class PreTokenizer {
 public:
  // Throws Error for an unknown name.
  static const PreTokenizer& get(const std::string& name);
  static std::vector<std::string> names();
  // The name whose split patterns are exactly `patterns`, or "" if none.
  static std::string name_for_patterns(const std::vector<std::string>& patterns);
  // `pattern` as dawn compiles it with a PCRE2 whose tables are of Unicode version `pcre2_unicode`
  // (PCRE2_CONFIG_UNICODE_VERSION): \p{L}, \p{M}, \p{N}, \p{P} and \p{S} rewritten to mean the
  // Unicode 16.0 categories, which Hugging Face's regexes use. Throws Error for other \p or \P.
  static std::string unicode16_pattern(std::string_view pattern, std::string_view pcre2_unicode);

  const std::string& name() const { return name_; }
  bool nfc() const { return nfc_; }
  // Llama-3: a word that is itself a token is emitted whole, before any merge.
  bool ignore_merges() const { return ignore_merges_; }

  // Appends the pieces of text to out, in order; their concatenation is text.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

 private:
  struct Regex;
  PreTokenizer(std::string name, const std::vector<std::string>& patterns, bool nfc, bool ignore_merges);
  std::string name_;
  std::vector<std::unique_ptr<Regex>> regexes_;
  bool nfc_, ignore_merges_;
};

}  // namespace dawn
