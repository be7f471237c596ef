// Token tries (token_trie.h).
#include "text/token_trie.h"

#include <algorithm>

#include "text/vocab.h"

namespace dawn {

void ByteTrie::build(const std::vector<std::pair<std::string, int32_t>>& sorted) {
  nodes.assign(1, Node{0, 0, 0, 0, 0, 0, 0, 0, 0});
  toks.clear();
  std::vector<uint32_t> path = {0};  // the nodes of the previous string's bytes, root first
  const std::string* prev = nullptr;
  for (const auto& [p, id] : sorted) {
    if (p.empty()) continue;
    size_t common = 0;
    if (prev) {
      while (common < p.size() && common < prev->size() && p[common] == (*prev)[common]) ++common;
    }
    while (path.size() > common + 1) {
      nodes[path.back()].end = uint32_t(nodes.size());
      path.pop_back();
    }
    for (size_t k = common; k < p.size(); ++k) {
      path.push_back(uint32_t(nodes.size()));
      const uint32_t t = uint32_t(toks.size());
      nodes.push_back({0, t, t, uint16_t(std::min<size_t>(k + 1, 0xFFFF)), uint8_t(p[k]), 0, 0, 0, 0});
    }
    Node& n = nodes[path.back()];
    if (n.tok_end != uint32_t(toks.size())) n.tok_begin = n.tok_end = uint32_t(toks.size());  // (never: equal strings are adjacent)
    toks.push_back(id);
    n.tok_end = uint32_t(toks.size());
    prev = &p;
  }
  while (!path.empty()) {
    nodes[path.back()].end = uint32_t(nodes.size());
    path.pop_back();
  }
  for (size_t i = nodes.size(); i-- > 0;) {  // children come after their parent
    Node& n = nodes[i];
    n.text_from = 0xFF;
    n.chars_below = 0;
    for (uint32_t j = uint32_t(i) + 1; j < n.end; j = nodes[j].end) {
      const Node& c = nodes[j];
      n.chars_below = uint8_t(std::max<int>(n.chars_below, std::min(255, c.chars_below + TextUtf8::starts(c.byte))));
      for (uint8_t q = 0; q < 8; ++q) {
        const uint8_t to = TextUtf8::next(q, c.byte);
        if (to == TextUtf8::kInvalid || !((c.text_from >> to) & 1)) n.text_from &= uint8_t(~(1u << q));
      }
    }
  }
  nodes[0].utf8_at = 0;
  nodes[0].chars_at = 0;
  tok_chars.assign(toks.size(), 0);
  for (size_t i = 0; i < nodes.size(); ++i) {  // parents come before their children
    const Node& n = nodes[i];
    for (uint32_t t = n.tok_begin; t < n.tok_end; ++t) tok_chars[t] = n.chars_at;
    for (uint32_t j = uint32_t(i) + 1; j < n.end; j = nodes[j].end) {
      nodes[j].utf8_at = n.utf8_at == TextUtf8::kInvalid ? TextUtf8::kInvalid : TextUtf8::next(n.utf8_at, nodes[j].byte);
      nodes[j].chars_at = uint8_t(std::min(255, n.chars_at + TextUtf8::starts(nodes[j].byte)));
    }
  }
}

TokenTrie::TokenTrie(const std::vector<std::string>& pieces, const std::vector<bool>& matchable)
    : pieces_(pieces), matchable_(matchable), n_vocab_(int32_t(pieces.size())) {
  std::vector<std::pair<std::string, int32_t>> sorted;
  for (int32_t id = 0; id < n_vocab_; ++id) {
    if (pieces_[size_t(id)].empty()) matchable_[size_t(id)] = false;
    if (matchable_[size_t(id)]) sorted.push_back({pieces_[size_t(id)], id});
  }
  std::sort(sorted.begin(), sorted.end());
  trie_.build(sorted);
}

std::shared_ptr<const TokenTrie> make_token_trie(const Vocab& v) {
  std::vector<std::string> pieces(size_t(v.size()));
  std::vector<bool> matchable(size_t(v.size()));
  for (int32_t id = 0; id < v.size(); ++id) {
    const int32_t t = v.type(id);
    matchable[size_t(id)] = t == kTokNormal || t == kTokUserDefined || t == kTokByte;
    if (matchable[size_t(id)]) pieces[size_t(id)] = v.piece(id, true);
  }
  return std::make_shared<TokenTrie>(pieces, matchable);
}

}  // namespace dawn
