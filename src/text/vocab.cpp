#include "text/vocab.h"

#include "text/grammar_matcher.h"

#include <algorithm>
#include <climits>

#include "text/pretokenizer.h"
#include "text/unicode.h"
#include "util/error.h"

namespace dawn {

namespace {

const std::array<std::string, 256>& byte_table() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = utf8_encode(printable ? uint32_t(b) : uint32_t(256 + n++));
    }
    return t;
  }();
  return table;
}

// Inverse of byte_table, indexed by code point (all are below 0x144).
const std::array<int16_t, 0x200>& unicode_to_byte() {
  static const std::array<int16_t, 0x200> m = [] {
    std::array<int16_t, 0x200> r;
    r.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      r[printable ? b : 256 + n++] = int16_t(b);
    }
    return r;
  }();
  return m;
}

// Bytes a byte-level token stands for; characters outside the byte alphabet are kept as written.
std::string byte_decode(std::string_view t) {
  std::string out;
  const auto& map = unicode_to_byte();
  for (size_t i = 0; i < t.size();) {
    const size_t n = std::min(utf8_len(uint8_t(t[i])), t.size() - i);
    uint32_t cp = 0x200;
    if (n == 1) {
      cp = uint8_t(t[i]);
    } else if (n == 2) {
      cp = (uint32_t(uint8_t(t[i]) & 0x1F) << 6) | (uint8_t(t[i + 1]) & 0x3F);
    }
    if (cp < map.size() && map[cp] >= 0) {
      out += char(map[cp]);
    } else {
      out.append(t.substr(i, n));
    }
    i += n;
  }
  return out;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t b) { return byte_table()[b]; }

Vocab::Vocab(const GgufFile& f) {
  const std::string model = f.get_str("tokenizer.ggml.model");
  if (model != "gpt2") {
    f.fail("key 'tokenizer.ggml.model'",
           "unsupported tokenizer model '" + model + "' (dawn reads gpt2 byte-level BPE)");
  }
  // llama.cpp treats a missing pre-tokenizer as its default; GPT-2's split is the closest.
  const std::string pre = f.get_str("tokenizer.ggml.pre", "gpt2");
  try {
    pre_ = &PreTokenizer::get(pre == "default" ? "gpt2" : pre);
  } catch (const Error& e) {
    f.fail("key 'tokenizer.ggml.pre'", e.what());
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
  ids_.reserve(tokens_.size());
  pieces_.resize(tokens_.size());
  for (int32_t i = 0; i < size(); ++i) {
    if (!ids_.emplace(tokens_[i], i).second) {
      f.fail("key 'tokenizer.ggml.tokens'",
             "token " + std::to_string(i) + " duplicates token " + std::to_string(ids_[tokens_[i]]));
    }
    const bool added = types_[i] == kTokControl || types_[i] == kTokUserDefined;
    if (added && !tokens_[i].empty()) added_by_first_byte_[uint8_t(tokens_[i][0])].push_back(i);
    pieces_[i] = added ? tokens_[i] : byte_decode(tokens_[i]);
  }
  for (auto& list : added_by_first_byte_) {
    std::stable_sort(list.begin(), list.end(),
                     [&](int32_t a, int32_t b) { return tokens_[a].size() > tokens_[b].size(); });
  }
  for (int b = 0; b < 256; ++b) byte_ids_[b] = find(byte_to_unicode(uint8_t(b)));

  const auto& merges = f.get_str_array("tokenizer.ggml.merges");
  merges_.reserve(merges.size());
  std::string joined;
  for (size_t r = 0; r < merges.size(); ++r) {
    const std::string_view m = merges[r];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string_view::npos) {
      f.fail("key 'tokenizer.ggml.merges'",
             "entry " + std::to_string(r) + " '" + std::string(m) + "' is not 'left right'");
    }
    const int32_t a = find(m.substr(0, sp)), b = find(m.substr(sp + 1));
    joined.assign(m.substr(0, sp));
    joined.append(m.substr(sp + 1));
    const int32_t c = find(joined);
    // Hugging Face refuses merges whose parts or result are not tokens; such a merge can never apply.
    if (a < 0 || b < 0 || c < 0) continue;
    merges_.emplace(uint64_t(uint32_t(a)) << 32 | uint32_t(b), Merge{int32_t(r), c});
  }

  const auto id_key = [&](const char* key, int32_t fallback) {
    const int64_t v = f.find(key) ? int64_t(f.get_u32(key)) : fallback;
    if (v >= size()) f.fail(std::string("key '") + key + "'", "token id " + std::to_string(v) + " is out of range");
    return int32_t(v);
  };
  bos_ = id_key("tokenizer.ggml.bos_token_id", -1);
  eos_ = id_key("tokenizer.ggml.eos_token_id", -1);
  const int32_t eot = id_key("tokenizer.ggml.eot_token_id", -1);
  add_bos_ = f.get_bool("tokenizer.ggml.add_bos_token", false);
  add_eos_ = f.get_bool("tokenizer.ggml.add_eos_token", false);
  if (eos_ >= 0) eog_.push_back(eos_);
  if (eot >= 0) eog_.push_back(eot);
  for (const char* name : {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<｜end▁of▁sentence｜>"}) {
    const int32_t id = find(name);
    if (id >= 0 && std::find(eog_.begin(), eog_.end(), id) == eog_.end()) eog_.push_back(id);
  }
}

int32_t Vocab::find(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::shared_ptr<const TokenTrie> Vocab::token_trie() const {
  std::call_once(trie_once_, [this] { trie_ = make_token_trie(*this); });
  return trie_;
}

bool Vocab::is_eog(int32_t id) const { return std::find(eog_.begin(), eog_.end(), id) != eog_.end(); }

// Hugging Face's BPE word merge: repeatedly apply the lowest-ranked merge,
// leftmost first among equal ranks, re-checking each queued pair when popped.
void Vocab::bpe(std::string_view word, std::vector<int32_t>& out) const {
  if (pre_->ignore_merges()) {
    std::string mapped;
    for (unsigned char c : word) mapped += byte_to_unicode(c);
    const int32_t id = find(mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  struct Sym {
    int32_t id, prev, next;
  };
  struct Cand {
    int32_t rank, pos, id;
    bool operator<(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Sym> sym;
  thread_local std::vector<Cand> heap;
  sym.clear();
  heap.clear();
  for (unsigned char c : word) {
    if (byte_ids_[c] < 0) continue;  // a byte the vocabulary lacks: Hugging Face drops it too
    const int32_t n = int32_t(sym.size());
    sym.push_back({byte_ids_[c], n - 1, n + 1});
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  const auto push = [&](int32_t pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    auto it = merges_.find(uint64_t(uint32_t(sym[pos].id)) << 32 | uint32_t(sym[sym[pos].next].id));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, pos, it->second.id});
    std::push_heap(heap.begin(), heap.end());
  };
  for (int32_t i = 0; i + 1 < int32_t(sym.size()); ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Cand top = heap.back();
    heap.pop_back();
    Sym& s = sym[top.pos];
    if (s.id < 0 || s.next < 0) continue;  // merged away, or nothing to the right any more
    auto it = merges_.find(uint64_t(uint32_t(s.id)) << 32 | uint32_t(sym[s.next].id));
    if (it == merges_.end() || it->second.id != top.id) continue;
    Sym& r = sym[s.next];
    s.id = top.id;
    r.id = -1;
    s.next = r.next;
    if (s.next >= 0) sym[s.next].prev = top.pos;
    push(s.prev);
    push(top.pos);
  }
  for (const Sym& s : sym)
    if (s.id >= 0) out.push_back(s.id);
}

std::vector<int32_t> Vocab::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  std::vector<std::string_view> words;
  std::string normalized;
  const auto plain = [&](std::string_view seg) {
    if (seg.empty()) return;
    if (pre_->nfc()) {
      normalized = nfc(seg);
      seg = normalized;
    }
    words.clear();
    pre_->split(seg, words);
    for (std::string_view w : words) bpe(w, out);
  };
  size_t start = 0;  // first byte not yet tokenized
  for (size_t i = 0; i < text.size(); ++i) {
    const auto& cands = added_by_first_byte_[uint8_t(text[i])];
    int32_t hit = -1;
    for (int32_t id : cands) {  // longest first: the leftmost-longest added token wins
      if (!parse_special && types_[id] == kTokControl) continue;
      const std::string& t = tokens_[id];
      if (text.size() - i >= t.size() && text.compare(i, t.size(), t) == 0) {
        hit = id;
        break;
      }
    }
    if (hit < 0) continue;
    plain(text.substr(start, i - start));
    out.push_back(hit);
    start = i + tokens_[hit].size();
    i = start - 1;
  }
  plain(text.substr(start));
  if (add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
  return out;
}

const std::string& Vocab::piece(int32_t id, bool special) const {
  static const std::string empty;
  if (id < 0 || id >= size()) return empty;
  if ((types_[id] == kTokControl || types_[id] == kTokUnused) && !special) return empty;
  return pieces_[id];
}

std::string Vocab::decode(const std::vector<int32_t>& ids, bool special) const {
  std::string s;
  for (int32_t id : ids) s += piece(id, special);
  return s;
}

}  // namespace dawn
