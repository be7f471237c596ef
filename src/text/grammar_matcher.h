// Token masks from a grammar: which tokens of a vocabulary can continue the text matched so far.
//
// The vocabulary's token bytes are a trie (TokenTrie, text/token_trie.h). A CompiledGrammar caches,
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
#include "text/token_trie.h"

namespace dawn {

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
  // The interned stack sets of the cache walks and their transitions (under mu_).
  static constexpr int32_t kUnknown = -2, kDead = -1;
  static constexpr size_t kMaxStates = 1 << 14;  // (about 1.1 KB each) past this the next walk starts afresh
  int32_t intern(const StackSet& s);
  int32_t step(int32_t from, uint8_t byte);
  // The most characters of text (TextUtf8) that state s survives whatever they are, read from
  // UTF-8 state q: 255 for any number, -1 when not even the continuation bytes q waits for
  // are sure to pass.
  int32_t reach(int32_t s, uint8_t q);
  // And the most characters of text that any string survives from (s, q) (255: no bound).
  int32_t most(int32_t s, uint8_t q);
  // Bounds on reach(s, q) from below and on most(s, q) from above, from the stacks' top frames.
  std::pair<int32_t, int32_t> text_bounds(int32_t s, uint8_t q);

  std::mutex mu_;
  std::unordered_map<Frame, std::unique_ptr<FrameCache>> cache_;
  GrammarStepper step_;
  StackSet after_;
  std::unordered_map<std::string, int32_t> state_ids_;
  std::vector<StackSet> states_;
  std::vector<char> state_done_;
  std::vector<int32_t> state_next_;  // per state, per byte: the next state, kDead or kUnknown
  // Per state and UTF-8 state, or kUnknown: reach(), most(), text_bounds().
  std::vector<std::array<int16_t, 8>> reach_, most_, low_, high_;
  std::vector<char> text_follows_;  // per rule: a byte that can start text may follow it
  std::vector<int32_t> level_;       // the walk's state per trie depth
  TokenMask bits_;                   // the walk's accepted tokens
  std::vector<std::pair<std::string, int32_t>> tails_;
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
// A vocabulary's end-of-generation ids.
std::vector<int32_t> eog_tokens(const Vocab& v);

// The plain reference for tests: every matchable token's bytes tried against the state.
void reference_mask(const CompiledGrammar& g, const StackSet& state, TokenMask& mask);

}  // namespace dawn
