// Token masks from a grammar: which tokens of a vocabulary can continue the text matched so far.
//
// The vocabulary's token bytes are a trie (TokenTrie, one per model). A CompiledGrammar caches,
// per stack-top frame, what the trie walk from that frame alone gives: the tokens it accepts
// whatever lies below it on the stack (most of them: inside a string, a number, a literal), and
// the few trie nodes where the frame's rule ends inside a token, whose continuations depend on
// the caller. A mask is then the cached sets of the state's stack tops plus a walk of those few
// continuations against the real stacks: never a scan of the whole vocabulary per token.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/grammar.h"

namespace dawn {

// Byte strings in a trie laid out in preorder (a subtree is a run of nodes), each node with the
// ids of the strings that end there.
struct ByteTrie {
  struct Node {
    uint32_t end;                 // one past the last node of this node's subtree
    uint32_t tok_begin, tok_end;  // the ids whose strings end here: toks[tok_begin, tok_end)
    uint16_t depth;
    uint8_t byte;
  };
  std::vector<Node> nodes;  // nodes[0]: the empty string
  std::vector<int32_t> toks;
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

// A vocabulary mask: bit id set when token id may come next.
struct TokenMask {
  std::vector<uint64_t> bits;
  bool allowed(int32_t id) const { return (bits[size_t(id) / 64] >> (id % 64)) & 1; }
  void set(int32_t id) { bits[size_t(id) / 64] |= uint64_t(1) << (id % 64); }
  int32_t count() const;
};

// A grammar with its per-frame cache for one vocabulary; shared by every matcher of it (the
// cache fills as states are met, under a lock).
class CompiledGrammar {
 public:
  CompiledGrammar(const Grammar& g, std::shared_ptr<const TokenTrie> trie, std::vector<int32_t> eog);
  const ByteGrammar& bytes() const { return g_; }
  const TokenTrie& trie() const { return *trie_; }
  const std::vector<int32_t>& eog() const { return eog_; }

  struct FrameCache {
    std::vector<int32_t> accepted;  // sorted ids, when few
    std::vector<uint64_t> dense;    // or a bitset, when many
    // The rest of each token past a point where the frame's rule has ended inside it (and a
    // byte that can follow the rule comes next), all in one trie: walked against the caller's
    // stacks at run time. Tokens share these tails (`",`, `"}` after any string content), so
    // the walk is over a few hundred nodes, not over every token that ends the rule.
    ByteTrie tails;
  };
  const FrameCache& cache(Frame f);
  // The bytes that can follow rule r anywhere in the grammar (the first byte after its end).
  bool may_follow(uint32_t rule, uint8_t b) const { return (follow_[rule][b / 64] >> (b % 64)) & 1; }
  // The rule whose alternative holds position pos.
  uint32_t rule_of(uint32_t pos) const { return rule_of_[pos]; }
  // The fewest bytes that complete a stack (every frame's alternative to its end).
  int64_t distance(const Frame* f, size_t n) const;

 private:
  void compute_follow();

  ByteGrammar g_;
  std::shared_ptr<const TokenTrie> trie_;
  std::vector<int32_t> eog_;
  std::vector<uint32_t> rule_of_;
  std::vector<int64_t> rest_;  // per position: the fewest bytes from it to its alternative's end
  std::vector<std::array<uint64_t, 4>> follow_;
  std::mutex mu_;
  std::unordered_map<Frame, std::unique_ptr<FrameCache>> cache_;
};

// One generation's match state.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<CompiledGrammar> g);

  // The tokens that may come next (end-of-generation tokens once the text is complete).
  void fill_mask(TokenMask& mask);
  // Takes a token: false, with the state unchanged, when the grammar does not allow it.
  bool accept(int32_t token);
  // Whether the bytes could be matched from here (without taking them).
  bool accepts_bytes(std::string_view bytes);
  // The fewest bytes that complete the match from here, and after a token (INT64_MAX when the
  // grammar refuses it; 0 for an end-of-generation token).
  int64_t distance() const;
  int64_t distance_after(int32_t token);
  // The mask of the tokens after which the match can still be completed in `tokens` more
  // tokens or fewer (each byte of a shortest completion is a token of its own at worst): the
  // constraint near max_tokens, so that an answer cut by the length limit still parses.
  void fill_mask_within(int64_t tokens, TokenMask& mask);
  // The text so far is a complete match (an end-of-generation token may come).
  bool complete() const { return stacks_.has_done(); }
  // Nothing but the end may come.
  bool finished() const { return stacks_.size() == 1 && stacks_.done(0); }
  const CompiledGrammar& grammar() const { return *g_; }
  const StackSet& state() const { return stacks_; }

 private:
  void walk(const ByteTrie& t, uint32_t at, const StackSet& from, TokenMask& mask);

  std::shared_ptr<CompiledGrammar> g_;
  GrammarStepper step_;
  StackSet stacks_, next_, caller_;
  std::vector<StackSet> levels_;
  std::vector<Frame> st_;
};

class Vocab;
// The trie of a vocabulary's token bytes (control tokens left out) and its end-of-generation ids.
std::shared_ptr<const TokenTrie> make_token_trie(const Vocab& v);
std::vector<int32_t> eog_tokens(const Vocab& v);

// The plain reference for tests: every matchable token's bytes tried against the state.
void reference_mask(const CompiledGrammar& g, const StackSet& state, TokenMask& mask);

}  // namespace dawn
