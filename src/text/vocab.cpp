#include "text/vocab.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>

#include "util/error.h"

namespace dawn {

namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

const std::array<std::string, 256>& byte_table() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = utf8(printable ? uint32_t(b) : uint32_t(256 + n++));
    }
    return t;
  }();
  return table;
}

const std::unordered_map<std::string, uint8_t>& unicode_to_byte() {
  static const std::unordered_map<std::string, uint8_t> m = [] {
    std::unordered_map<std::string, uint8_t> r;
    for (int b = 0; b < 256; ++b) r[byte_table()[b]] = uint8_t(b);
    return r;
  }();
  return m;
}

// Splits text into pre-tokens. Until per-model pre-tokenizers land, every
// vocabulary uses the Llama-3 / Qwen2 pattern.
class PreTokenizer {
 public:
  PreTokenizer() {
    static const char* pattern =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
        "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    int err;
    PCRE2_SIZE off;
    re_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err, &off,
                        nullptr);
    if (!re_) throw Error("tokenizer: internal pre-tokenizer pattern failed to compile");
  }
  ~PreTokenizer() { pcre2_code_free(re_); }

  void split(std::string_view text, std::vector<std::string_view>& out) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re_, nullptr);
    size_t pos = 0;
    uint32_t opts = 0;  // the first match validates the UTF-8; later ones skip the check
    while (pos < text.size()) {
      const int rc = pcre2_match(re_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, opts, md, nullptr);
      opts = PCRE2_NO_UTF_CHECK;
      if (rc < 0) {  // no further match, or invalid UTF-8: keep the rest as one piece of bytes
        out.push_back(text.substr(pos));
        break;
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      if (ov[0] > pos) out.push_back(text.substr(pos, ov[0] - pos));
      if (ov[1] == ov[0]) {
        out.push_back(text.substr(ov[0], 1));
        pos = ov[0] + 1;
      } else {
        out.push_back(text.substr(ov[0], ov[1] - ov[0]));
        pos = ov[1];
      }
    }
    pcre2_match_data_free(md);
  }

 private:
  pcre2_code* re_ = nullptr;
};

const PreTokenizer& pre_tokenizer() {
  static const PreTokenizer p;
  return p;
}

// Bytes of a UTF-8 character starting with lead byte c (1 for invalid leads).
size_t utf8_len(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t b) { return byte_table()[b]; }

size_t utf8_complete_prefix(std::string_view s) {
  size_t i = s.size();
  // Look back at most 3 bytes for an unfinished lead byte.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const unsigned char c = s[s.size() - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    if (c >= 0xC0 && utf8_len(c) > back) i = s.size() - back;
    break;
  }
  return i;
}

Vocab::Vocab(const GgufFile& f) {
  const std::string model = f.get_str("tokenizer.ggml.model");
  if (model != "gpt2") {
    f.fail("key 'tokenizer.ggml.model'",
           "unsupported tokenizer model '" + model + "' (dawn reads gpt2 byte-level BPE)");
  }
  const auto& toks = f.get_str_array("tokenizer.ggml.tokens");
  if (toks.empty() || toks.size() > size_t(INT32_MAX))
    f.fail("key 'tokenizer.ggml.tokens'", "empty or oversized vocabulary");
  tokens_.reserve(toks.size());
  for (std::string_view t : toks) tokens_.emplace_back(t);
  types_.assign(tokens_.size(), kTokNormal);
  if (f.find("tokenizer.ggml.token_type")) {
    types_ = f.get_i32_array("tokenizer.ggml.token_type");
    if (types_.size() != tokens_.size()) {
      f.fail("key 'tokenizer.ggml.token_type'",
             "has " + std::to_string(types_.size()) + " entries for " + std::to_string(tokens_.size()) + " tokens");
    }
  }
  for (int32_t i = 0; i < size(); ++i) {
    if (!ids_.emplace(tokens_[i], i).second) {
      f.fail("key 'tokenizer.ggml.tokens'",
             "token " + std::to_string(i) + " duplicates token " + std::to_string(ids_[tokens_[i]]));
    }
    if (types_[i] == kTokControl || types_[i] == kTokUserDefined) specials_.push_back(i);
  }
  std::sort(specials_.begin(), specials_.end(),
            [&](int32_t a, int32_t b) { return tokens_[a].size() > tokens_[b].size(); });
  const auto& merges = f.get_str_array("tokenizer.ggml.merges");
  for (size_t r = 0; r < merges.size(); ++r) merge_rank_.emplace(std::string(merges[r]), int32_t(r));
  const auto id_key = [&](const char* key, int32_t fallback) {
    const int64_t v = f.find(key) ? int64_t(f.get_u32(key)) : fallback;
    if (v >= size()) f.fail(std::string("key '") + key + "'", "token id " + std::to_string(v) + " is out of range");
    return int32_t(v);
  };
  bos_ = id_key("tokenizer.ggml.bos_token_id", -1);
  eos_ = id_key("tokenizer.ggml.eos_token_id", -1);
  const int32_t eot = id_key("tokenizer.ggml.eot_token_id", -1);
  add_bos_ = f.get_bool("tokenizer.ggml.add_bos_token", false);
  if (eos_ >= 0) eog_.push_back(eos_);
  if (eot >= 0) eog_.push_back(eot);
  for (const char* name : {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"}) {
    auto it = ids_.find(name);
    if (it != ids_.end() && std::find(eog_.begin(), eog_.end(), it->second) == eog_.end()) eog_.push_back(it->second);
  }
}

bool Vocab::is_eog(int32_t id) const { return std::find(eog_.begin(), eog_.end(), id) != eog_.end(); }

void Vocab::bpe(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<std::string> parts;
  for (unsigned char c : word) parts.push_back(byte_to_unicode(c));
  while (parts.size() > 1) {
    int32_t best = INT32_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = merge_rank_.find(parts[i] + " " + parts[i + 1]);
      if (it != merge_rank_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == INT32_MAX) break;
    parts[at] += parts[at + 1];
    parts.erase(parts.begin() + std::ptrdiff_t(at) + 1);
  }
  for (const std::string& p : parts) {
    auto it = ids_.find(p);
    if (it != ids_.end()) {
      out.push_back(it->second);
      continue;
    }
    // A merge result missing from the vocabulary: fall back to its bytes.
    for (size_t i = 0; i < p.size();) {
      const size_t n = utf8_len(uint8_t(p[i]));
      auto b = ids_.find(p.substr(i, n));
      if (b != ids_.end()) out.push_back(b->second);
      i += n;
    }
  }
}

std::vector<int32_t> Vocab::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos <= text.size()) {
    // Next special token occurrence (longest match at the earliest position).
    size_t next = text.size();
    int32_t special = -1;
    if (parse_special) {
      for (int32_t id : specials_) {
        const size_t at = text.find(tokens_[id], pos);
        if (at != std::string_view::npos && at < next) {
          next = at;
          special = id;
        }
      }
    }
    words.clear();
    pre_tokenizer().split(text.substr(pos, next - pos), words);
    for (std::string_view w : words) bpe(w, out);
    if (special < 0) break;
    out.push_back(special);
    pos = next + tokens_[special].size();
  }
  return out;
}

std::string Vocab::piece(int32_t id, bool special) const {
  if (id < 0 || id >= size()) return {};
  if (types_[id] == kTokControl) return special ? tokens_[id] : std::string();
  if (types_[id] == kTokUserDefined) return tokens_[id];
  std::string out;
  const std::string& t = tokens_[id];
  const auto& map = unicode_to_byte();
  for (size_t i = 0; i < t.size();) {
    const size_t n = utf8_len(uint8_t(t[i]));
    auto it = map.find(t.substr(i, n));
    if (it != map.end()) {
      out += char(it->second);
    } else {
      out += t.substr(i, n);
    }
    i += n;
  }
  return out;
}

std::string Vocab::decode(const std::vector<int32_t>& ids, bool special) const {
  std::string s;
  for (int32_t id : ids) s += piece(id, special);
  return s;
}

}  // namespace dawn
