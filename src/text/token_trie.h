// A vocabulary's token bytes as a trie (one per model, shared by every grammar compiled for it),
// with what the grammar engine's mask cache asks of its subtrees: whether they hold only text,
// and how many characters deep they go.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dawn {

// Text as a vocabulary's tokens hold it: UTF-8 of any code point but the C0 controls, '"' and
// '\\' (what a JSON string takes as it is), read byte by byte, a token may stop inside a
// character. States: 0 between characters; 1-3 continuation bytes to come; 4-7 the second
// byte of a character whose lead restricts it (E0, ED, F0, F4: no overlong form, surrogate or
// code point past U+10FFFF).
struct TextUtf8 {
  static constexpr uint8_t kInvalid = 0xFF;
  static uint8_t next(uint8_t q, uint8_t b) {
    if (q == 0) {
      if (b < 0x80) return b >= 0x20 && b != '"' && b != '\\' ? 0 : kInvalid;
      if (b < 0xC2) return kInvalid;
      if (b < 0xE0) return 1;
      if (b == 0xE0) return 4;
      if (b == 0xED) return 5;
      if (b < 0xF0) return 2;
      if (b == 0xF0) return 6;
      if (b < 0xF4) return 3;
      return b == 0xF4 ? 7 : kInvalid;
    }
    static constexpr uint8_t lo[8] = {0, 0x80, 0x80, 0x80, 0xA0, 0x80, 0x90, 0x80};
    static constexpr uint8_t hi[8] = {0, 0xBF, 0xBF, 0xBF, 0xBF, 0x9F, 0xBF, 0x8F};
    static constexpr uint8_t to[8] = {0, 0, 1, 2, 1, 1, 2, 2};
    return b >= lo[q] && b <= hi[q] ? to[q] : kInvalid;
  }
  // Whether b starts a character (a continuation byte does not).
  static bool starts(uint8_t b) { return (b & 0xC0) != 0x80; }
};

// Byte strings in a trie laid out in preorder (a subtree is a run of nodes), each node with the
// ids of the strings that end there.
struct ByteTrie {
  struct Node {
    uint32_t end;                 // one past the last node of this node's subtree
    uint32_t tok_begin, tok_end;  // the ids whose strings end here: toks[tok_begin, tok_end)
    uint16_t depth;
    uint8_t byte;
    // Whether every byte string below is the start of text read from UTF-8 state q (bit q,
    // see TextUtf8), how many characters the longest of them starts (at most 255), and the
    // UTF-8 state after this node's own string (TextUtf8::kInvalid when it is not text): a walk
    // that knows its state survives any text of that many characters takes the whole subtree.
    uint8_t text_from, chars_below, utf8_at;
    uint8_t chars_at;  // the characters this node's string starts (at most 255)
  };
  std::vector<Node> nodes;  // nodes[0]: the empty string
  // The ids, in the nodes' order: a subtree's tokens are one run of them.
  std::vector<int32_t> toks;
  std::vector<uint8_t> tok_chars;  // per entry of toks: its node's chars_at
  // From (string, id) pairs sorted by string; empty strings are left out.
  void build(const std::vector<std::pair<std::string, int32_t>>& sorted);
};

class TokenTrie {
 public:
  // pieces[id]: the bytes token id stands for; tokens with matchable[id] false (control tokens,
  // empty pieces) are never in a mask.
  TokenTrie(const std::vector<std::string>& pieces, const std::vector<bool>& matchable);

  using Node = ByteTrie::Node;
  const std::vector<Node>& nodes() const { return trie_.nodes; }
  const std::vector<int32_t>& toks() const { return trie_.toks; }
  const ByteTrie& trie() const { return trie_; }
  int32_t n_vocab() const { return n_vocab_; }
  const std::string& piece(int32_t id) const { return pieces_[size_t(id)]; }
  bool matchable(int32_t id) const { return matchable_[size_t(id)]; }

 private:
  ByteTrie trie_;
  std::vector<std::string> pieces_;
  std::vector<bool> matchable_;
  int32_t n_vocab_ = 0;
};

class Vocab;
// The trie of a vocabulary's token bytes (control tokens left out).
std::shared_ptr<const TokenTrie> make_token_trie(const Vocab& v);

}  // namespace dawn
