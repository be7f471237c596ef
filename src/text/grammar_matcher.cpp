// Token tries, per-frame caches and masks (grammar_matcher.h).
#include "text/grammar_matcher.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <numeric>
#include <unordered_set>

#include "text/vocab.h"

namespace dawn {

namespace {

using ByteSet = std::array<uint64_t, 4>;

void add_byte(ByteSet& s, uint32_t b) { s[b / 64] |= uint64_t(1) << (b % 64); }
bool or_into(ByteSet& dst, const ByteSet& src) {
  bool changed = false;
  for (int k = 0; k < 4; ++k) {
    const uint64_t v = dst[size_t(k)] | src[size_t(k)];
    changed = changed || v != dst[size_t(k)];
    dst[size_t(k)] = v;
  }
  return changed;
}

// The first bytes of the UTF-8 forms of a code point set (lead bytes of its ranges).
ByteSet first_bytes(const std::vector<std::pair<uint32_t, uint32_t>>& set) {
  ByteSet s{};
  for (auto [a, b] : set) {
    for (uint32_t c = a; c <= std::min(b, 0x7Fu); ++c) add_byte(s, c);
    struct Band {
      uint32_t lo, hi, lead, shift;
    };
    for (const Band& band : {Band{0x80, 0x7FF, 0xC0, 6}, Band{0x800, 0xFFFF, 0xE0, 12}, Band{0x10000, 0x10FFFF, 0xF0, 18}}) {
      const uint32_t lo = std::max(a, band.lo), hi = std::min(b, band.hi);
      for (uint32_t l = lo >> band.shift; lo <= hi && l <= hi >> band.shift; ++l) add_byte(s, band.lead | l);
    }
  }
  return s;
}

}  // namespace

int32_t TokenMask::count() const {
  int32_t n = 0;
  for (uint64_t w : bits) n += std::popcount(w);
  return n;
}

CompiledGrammar::CompiledGrammar(const Grammar& g, std::shared_ptr<const TokenTrie> trie, std::vector<int32_t> eog)
    : g_(compile_grammar(g)), trie_(std::move(trie)), eog_(std::move(eog)), step_(g_) {
  rule_of_.resize(g_.elems.size());
  for (size_t r = 0; r < g_.alts.size(); ++r) {
    for (uint32_t a : g_.alts[r]) {
      for (uint32_t p = a;; ++p) {
        rule_of_[p] = uint32_t(r);
        if (g_.elems[p].kind == ByteGrammar::End) break;
      }
    }
  }
  compute_follow();
  text_follows_.resize(g_.alts.size());
  for (size_t r = 0; r < g_.alts.size(); ++r)
    for (int b = 0; b < 256; ++b)
      if (TextUtf8::next(0, uint8_t(b)) != TextUtf8::kInvalid && may_follow(uint32_t(r), uint8_t(b))) text_follows_[r] = 1;
  // Fewest bytes per rule, to a fixed point; then per position the sum to its alternative's end.
  constexpr int64_t kInf = int64_t(1) << 40;
  std::vector<int64_t> rule_min(g_.alts.size(), kInf);
  const auto elem_min = [&](const ByteGrammar::Elem& e) -> int64_t {
    if (e.kind == ByteGrammar::Byte) return 1;
    if (e.kind == ByteGrammar::Chars) {
      const uint32_t c = g_.char_sets[e.arg][0].first;  // the smallest code point is the shortest
      return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    if (e.kind == ByteGrammar::Ref) return rule_min[e.arg];
    return 0;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < g_.alts.size(); ++r) {
      for (uint32_t a : g_.alts[r]) {
        int64_t sum = 0;
        for (uint32_t p = a; g_.elems[p].kind != ByteGrammar::End; ++p) sum = std::min(kInf, sum + elem_min(g_.elems[p]));
        if (sum < rule_min[r]) rule_min[r] = sum, changed = true;
      }
    }
  }
  rest_.assign(g_.elems.size(), 0);
  for (size_t p = g_.elems.size(); p-- > 0;) {
    if (g_.elems[p].kind != ByteGrammar::End) rest_[p] = std::min(kInf, rest_[p + 1] + elem_min(g_.elems[p]));
  }
}

int64_t CompiledGrammar::distance(const Frame* f, size_t n) const {
  int64_t d = 0;
  for (size_t k = 0; k < n; ++k) {
    const uint32_t pos = frame_pos(f[k]);
    const int rem = int(f[k] >> 53) & 3;  // inside a character: its bytes still to come, then the rest
    d += rem ? rem + rest_[pos + 1] : rest_[pos];
  }
  return d;
}

// FIRST and FOLLOW over bytes, to a fixed point. Conservative (a superset) is enough: FOLLOW
// only decides which continuations past a rule's end are worth walking at run time.
void CompiledGrammar::compute_follow() {
  const size_t n = g_.alts.size();
  std::vector<char> nullable(n, 0);
  std::vector<ByteSet> first(n, ByteSet{});
  const auto elem_first = [&](const ByteGrammar::Elem& e) -> ByteSet {
    if (e.kind == ByteGrammar::Byte) return g_.byte_classes[e.arg];
    if (e.kind == ByteGrammar::Chars) return first_bytes(g_.char_sets[e.arg]);
    return first[e.arg];
  };
  const auto elem_nullable = [&](const ByteGrammar::Elem& e) { return e.kind == ByteGrammar::Ref && nullable[e.arg]; };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n; ++r) {
      for (uint32_t a : g_.alts[r]) {
        uint32_t p = a;
        for (; g_.elems[p].kind != ByteGrammar::End; ++p) {
          changed = or_into(first[r], elem_first(g_.elems[p])) || changed;
          if (!elem_nullable(g_.elems[p])) break;
        }
        if (g_.elems[p].kind == ByteGrammar::End && !nullable[r]) nullable[r] = 1, changed = true;
      }
    }
  }
  follow_.assign(n, ByteSet{});
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t q = 0; q < n; ++q) {
      for (uint32_t a : g_.alts[q]) {
        for (uint32_t p = a; g_.elems[p].kind != ByteGrammar::End; ++p) {
          if (g_.elems[p].kind != ByteGrammar::Ref) continue;
          const uint32_t r = g_.elems[p].arg;
          uint32_t k = p + 1;
          for (; g_.elems[k].kind != ByteGrammar::End; ++k) {
            changed = or_into(follow_[r], elem_first(g_.elems[k])) || changed;
            if (!elem_nullable(g_.elems[k])) break;
          }
          if (g_.elems[k].kind == ByteGrammar::End) changed = or_into(follow_[r], follow_[q]) || changed;
        }
      }
    }
  }
}

int32_t CompiledGrammar::intern(const StackSet& s) {
  const auto [it, fresh] = state_ids_.emplace(s.key(), int32_t(states_.size()));
  if (fresh) {
    states_.push_back(s);
    state_done_.push_back(s.has_done());
    for (auto* v : {&reach_, &most_, &low_, &high_}) v->emplace_back().fill(kUnknown);
    state_next_.resize(state_next_.size() + 256, kUnknown);
  }
  return it->second;
}

int32_t CompiledGrammar::reach(int32_t s, uint8_t q) {
  if (reach_[size_t(s)][q] != kUnknown) return reach_[size_t(s)][q];
  // The (state, UTF-8 state) pairs that text leads to from (s, q) (those not yet known), each
  // with its distinct successors (most bytes share one), then the solutions of
  //   reach(t, p) = min over bytes b text may take from p of
  //                 (dead after b ? (b starts a character ? 0 : -1) : starts(b) + reach(t', p')),
  //   most(t, p)  = max over those b not dead after them of starts(b) + most(t', p'),
  // the greatest for reach from the top down, the least for most from the bottom up (255
  // standing for "any number").
  struct Edge {
    int32_t to;             // an index into pairs, or -1: a pair already known
    int16_t reach, most;    // the known pair's values
    int16_t start;          // whether the byte starts a character
  };
  struct Pair {
    int32_t state;
    uint8_t q;
    int16_t dead = 256;     // the least of (starts(b) - 1) over bytes that kill it (256: none)
    std::vector<Edge> edges;
  };
  const auto key = [](int32_t t, uint8_t p) { return uint64_t(uint32_t(t)) << 3 | p; };
  std::vector<Pair> pairs(1);
  pairs[0].state = s, pairs[0].q = q;
  std::unordered_map<uint64_t, int32_t> at = {{key(s, q), 0}};
  std::unordered_set<uint64_t> seen;  // per pair: the successors already among its edges
  for (size_t k = 0; k < pairs.size(); ++k) {
    seen.clear();
    for (int b = 0; b < 256; ++b) {
      const uint8_t p2 = TextUtf8::next(pairs[k].q, uint8_t(b));
      if (p2 == TextUtf8::kInvalid) continue;
      const int16_t start = TextUtf8::starts(uint8_t(b));
      const int32_t u = step(pairs[k].state, uint8_t(b));
      if (u < 0) {
        pairs[k].dead = std::min<int16_t>(pairs[k].dead, int16_t(start - 1));
        continue;
      }
      if (!seen.insert(key(u, p2) << 1 | uint64_t(start)).second) continue;
      if (reach_[size_t(u)][p2] != kUnknown) {
        pairs[k].edges.push_back({-1, reach_[size_t(u)][p2], most_[size_t(u)][p2], start});
        continue;
      }
      auto [it, fresh] = at.emplace(key(u, p2), int32_t(pairs.size()));
      if (fresh) {
        if (pairs.size() >= 4096) {  // too many to follow: claim nothing
          most_[size_t(s)][q] = 255;
          return reach_[size_t(s)][q] = -1;
        }
        pairs.push_back({u, p2, 256, {}});
      }
      pairs[k].edges.push_back({it->second, 0, 0, start});
    }
  }
  std::vector<int16_t> r(pairs.size(), 255), m(pairs.size(), 0);
  for (bool changed = true; changed;) {  // successors come after: last first converges soonest
    changed = false;
    for (size_t k = pairs.size(); k-- > 0;) {
      int v = std::min<int>(255, pairs[k].dead), w = 0;
      for (const Edge& e : pairs[k].edges) {
        v = std::min(v, std::min(255, e.start + (e.to < 0 ? e.reach : r[size_t(e.to)])));
        w = std::max(w, std::min(255, e.start + (e.to < 0 ? e.most : m[size_t(e.to)])));
      }
      if (v < r[k]) r[k] = int16_t(v), changed = true;
      if (w > m[k]) m[k] = int16_t(w), changed = true;
    }
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    reach_[size_t(pairs[k].state)][pairs[k].q] = r[k];
    most_[size_t(pairs[k].state)][pairs[k].q] = m[k];
  }
  return r[0];
}

int32_t CompiledGrammar::most(int32_t s, uint8_t q) {
  if (most_[size_t(s)][q] == kUnknown) reach(s, q);
  return most_[size_t(s)][q];
}

std::pair<int32_t, int32_t> CompiledGrammar::text_bounds(int32_t s, uint8_t q) {
  if (low_[size_t(s)][q] != kUnknown) return {low_[size_t(s)][q], high_[size_t(s)][q]};
  // Text survives a set when it survives one of its stacks, and a stack whose top frame's rule
  // no text may follow as far as that frame's own state {top} takes it. So the best of those
  // bounds reach from below, and the best of all stacks bounds most from above when every
  // stack is such a one. A state {top} is shared by every position of the grammar that calls
  // the same rule: the search behind reach() and most() is made once for all of them.
  const StackSet set = states_[size_t(s)];  // (a copy: interning moves states_)
  int32_t low = -1, high = 0;
  for (size_t k = 0; k < set.size(); ++k) {
    if (set.done(k)) continue;  // takes nothing more
    const Frame top = set.begin(k)[set.depth(k) - 1];
    if (text_follows_[rule_of_[frame_pos(top)]]) {
      high = 255;
      continue;
    }
    int32_t one = s;
    if (set.size() != 1 || set.depth(0) != 1) {
      StackSet just_top;
      just_top.add(&top, 1);
      one = intern(just_top);
    }
    low = std::max(low, reach(one, q));
    high = std::max(high, most(one, q));
  }
  low_[size_t(s)][q] = int16_t(low);
  high_[size_t(s)][q] = int16_t(high);
  return {low, high};
}

int32_t CompiledGrammar::step(int32_t from, uint8_t byte) {
  int32_t& to = state_next_[size_t(from) * 256 + byte];
  if (to != kUnknown) return to;
  step_.advance(states_[size_t(from)], byte, after_);
  const int32_t id = after_.empty() ? kDead : intern(after_);
  state_next_[size_t(from) * 256 + byte] = id;  // (intern may have moved the table)
  return id;
}

const CompiledGrammar::FrameCache& CompiledGrammar::cache(Frame f) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = cache_[f];
  if (slot) return *slot;
  slot = std::make_unique<FrameCache>();
  FrameCache& c = *slot;
  // The trie walked from this frame alone: an empty stack in a node's set means the frame's
  // rule ended exactly there (its tokens are accepted: the caller's state is valid as it is).
  const auto& nodes = trie_->nodes();
  const auto& toks = trie_->toks();
  const uint32_t rule = rule_of_[frame_pos(f)];
  // A walk meets the same few stack sets over and over (inside a string: one per UTF-8 state),
  // and the walks of other frames meet them again (a string's count positions reach each
  // other's sets), so the sets are interned grammar-wide with their transitions remembered:
  // most of the trie's nodes then cost a table lookup, not a stack step. The memo is only a
  // memo: past a bound it starts again, so that a grammar of many states cannot grow it for ever.
  if (states_.size() > kMaxStates) {
    state_ids_.clear();
    states_.clear();
    state_done_.clear();
    state_next_.clear();
    for (auto* v : {&reach_, &most_, &low_, &high_}) v->clear();
  }
  StackSet start;
  start.add(&f, 1);
  level_.assign(1, intern(start));
  bits_.bits.assign((size_t(trie_->n_vocab()) + 63) / 64, 0);
  tails_.clear();
  std::string tail;
  // Below a node whose byte strings are all text, as far as the state survives any text, every
  // token is accepted: the subtree is taken whole (its tokens are a run in the nodes' order).
  // Not when a text byte may follow the rule: its end inside the subtree would leave tails there.
  const bool text_follows = text_follows_[rule];
  for (uint32_t i = 1; i < nodes.size();) {
    const TokenTrie::Node& n = nodes[i];
    if (level_.size() <= n.depth) level_.resize(size_t(n.depth) + 1);
    const int32_t to = step(level_[n.depth - 1u], n.byte);
    if (to < 0) {
      i = n.end;
      continue;
    }
    level_[n.depth] = to;
    for (uint32_t t = n.tok_begin; t < n.tok_end; ++t) bits_.set(toks[t]);
    if (state_done_[size_t(to)]) {  // the rule ended here: the tails below go to the caller
      for (uint32_t j = i + 1; j < n.end; j = nodes[j].end) {
        if (!may_follow(rule, nodes[j].byte)) continue;
        for (uint32_t k = j; k < nodes[j].end; ++k) {
          tail.resize(size_t(nodes[k].depth - n.depth));
          tail.back() = char(nodes[k].byte);
          for (uint32_t t = nodes[k].tok_begin; t < nodes[k].tok_end; ++t) tails_.push_back({tail, toks[t]});
        }
      }
    }
    if (!text_follows && n.end > i + 1 && n.chars_below < 255 && n.text_from) {
      // What a subtree of text gives from this state: every token (the state survives any text
      // that long), or those of at most `low` characters more (no text longer than that
      // survives); else the walk goes on down.
      int take = -2;  // every token: -1; those of up to take characters more: take
      for (const uint8_t q : {uint8_t(0), n.utf8_at}) {
        if (q == TextUtf8::kInvalid || !((n.text_from >> q) & 1)) continue;
        const auto [low, high] = text_bounds(to, q);
        if (low >= n.chars_below) take = -1;
        else if (low >= 0 && high <= low && n.chars_at + n.chars_below < 255) take = low;
        if (take != -2 || n.utf8_at == 0) break;
      }
      if (take != -2) {
        const auto& tc = trie_->trie().tok_chars;
        for (uint32_t t = nodes[i + 1].tok_begin; t < nodes[n.end - 1].tok_end; ++t)
          if (take < 0 || tc[t] - n.chars_at <= take) bits_.set(toks[t]);
        i = n.end;
        continue;
      }
    }
    ++i;
  }
  std::sort(tails_.begin(), tails_.end());
  tails_.erase(std::unique(tails_.begin(), tails_.end()), tails_.end());
  c.tails.build(tails_);
  const int32_t count = bits_.count();
  if (size_t(count) * 16 > size_t(trie_->n_vocab())) {
    c.dense = bits_.bits;
  } else {
    c.accepted.reserve(size_t(count));
    for (size_t w = 0; w < bits_.bits.size(); ++w)
      for (uint64_t b = bits_.bits[w]; b; b &= b - 1) c.accepted.push_back(int32_t(w * 64 + size_t(std::countr_zero(b))));
  }
  return c;
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<CompiledGrammar> g) : g_(std::move(g)), step_(g_->bytes()) {
  step_.start(stacks_);
}

void GrammarMatcher::walk(const ByteTrie& t, uint32_t at, const StackSet& from, TokenMask& mask) {
  const auto& nodes = t.nodes;
  const uint32_t d0 = nodes[at].depth;
  if (levels_.size() <= d0) levels_.resize(size_t(d0) + 1);
  levels_[d0] = from;
  for (uint32_t i = at + 1; i < nodes[at].end;) {
    const ByteTrie::Node& n = nodes[i];
    if (levels_.size() <= n.depth) levels_.resize(size_t(n.depth) + 1);
    step_.advance(levels_[n.depth - 1u], n.byte, levels_[n.depth]);
    if (levels_[n.depth].empty()) {
      i = n.end;
      continue;
    }
    for (uint32_t k = n.tok_begin; k < n.tok_end; ++k) mask.set(t.toks[k]);
    ++i;
  }
}

void GrammarMatcher::fill_mask(TokenMask& mask) {
  const TokenTrie& trie = g_->trie();
  mask.bits.assign((size_t(trie.n_vocab()) + 63) / 64, 0);
  for (size_t k = 0; k < stacks_.size(); ++k) {
    const size_t depth = stacks_.depth(k);
    if (depth == 0) {
      for (int32_t id : g_->eog()) mask.set(id);
      continue;
    }
    const Frame* f = stacks_.begin(k);
    const CompiledGrammar::FrameCache& c = g_->cache(f[depth - 1]);
    if (!c.dense.empty()) {
      for (size_t w = 0; w < c.dense.size(); ++w) mask.bits[w] |= c.dense[w];
    } else {
      for (int32_t id : c.accepted) mask.set(id);
    }
    if (c.tails.nodes.size() <= 1 || depth == 1) continue;  // past the root's end no byte can come
    // The caller's stacks, where the top frame's rule returns to, take the tails.
    st_.assign(f, f + depth - 1);
    caller_.clear();
    step_.expand(st_, caller_);
    walk(c.tails, 0, caller_, mask);
  }
}

int64_t GrammarMatcher::distance() const {
  int64_t best = INT64_MAX;
  for (size_t k = 0; k < stacks_.size(); ++k) best = std::min(best, g_->distance(stacks_.begin(k), stacks_.depth(k)));
  return best;
}

int64_t GrammarMatcher::distance_after(int32_t token) {
  const auto& eog = g_->eog();
  if (std::find(eog.begin(), eog.end(), token) != eog.end()) return complete() ? 0 : INT64_MAX;
  const TokenTrie& trie = g_->trie();
  if (token < 0 || token >= trie.n_vocab() || !trie.matchable(token)) return INT64_MAX;
  StackSet a = stacks_, b;
  for (char c : trie.piece(token)) {
    step_.advance(a, uint8_t(c), b);
    if (b.empty()) return INT64_MAX;
    std::swap(a, b);
  }
  int64_t d = INT64_MAX;
  for (size_t k = 0; k < a.size(); ++k) d = std::min(d, g_->distance(a.begin(k), a.depth(k)));
  return d;
}

void GrammarMatcher::fill_mask_within(int64_t tokens, TokenMask& mask) {
  fill_mask(mask);
  const TokenTrie& trie = g_->trie();
  StackSet a, b;
  const std::vector<uint64_t> all = mask.bits;
  std::vector<int64_t> dist;  // per allowed token, in mask order
  int64_t best = INT64_MAX;
  for (size_t w = 0; w < mask.bits.size(); ++w) {
    for (uint64_t bits = all[w]; bits; bits &= bits - 1) {
      const int32_t id = int32_t(w * 64 + size_t(std::countr_zero(bits)));
      int64_t d = 0;  // end of generation: allowed when complete, as it is
      if (trie.matchable(id)) {
        a = stacks_;
        for (char c : trie.piece(id)) {
          step_.advance(a, uint8_t(c), b);
          std::swap(a, b);
        }
        d = INT64_MAX;
        for (size_t k = 0; k < a.size(); ++k) d = std::min(d, g_->distance(a.begin(k), a.depth(k)));
      }
      dist.push_back(d);
      best = std::min(best, d);
    }
  }
  // Out of reach whatever comes (the shortest answer is longer than the tokens left): the tokens
  // that get closest, so that the text is as near a whole answer as it can be.
  const int64_t limit = std::max(tokens - 1, best);
  size_t i = 0;
  for (size_t w = 0; w < mask.bits.size(); ++w) {
    for (uint64_t bits = all[w]; bits; bits &= bits - 1, ++i) {
      if (dist[i] > limit) mask.bits[w] &= ~(uint64_t(1) << std::countr_zero(bits));
    }
  }
}

bool GrammarMatcher::accepts_bytes(std::string_view bytes) {
  StackSet a = stacks_, b;
  for (char c : bytes) {
    step_.advance(a, uint8_t(c), b);
    if (b.empty()) return false;
    std::swap(a, b);
  }
  return true;
}

bool GrammarMatcher::accept(int32_t token) {
  const auto& eog = g_->eog();
  if (std::find(eog.begin(), eog.end(), token) != eog.end()) {
    if (!complete()) return false;
    stacks_.clear();
    stacks_.add(nullptr, 0);
    return true;
  }
  const TokenTrie& trie = g_->trie();
  if (token < 0 || token >= trie.n_vocab() || !trie.matchable(token)) return false;
  StackSet a = stacks_;
  for (char c : trie.piece(token)) {
    step_.advance(a, uint8_t(c), next_);
    if (next_.empty()) return false;
    std::swap(a, next_);
  }
  stacks_ = std::move(a);
  return true;
}

std::vector<int32_t> eog_tokens(const Vocab& v) {
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < v.size(); ++id)
    if (v.is_eog(id)) ids.push_back(id);
  return ids;
}

void reference_mask(const CompiledGrammar& g, const StackSet& state, TokenMask& mask) {
  const TokenTrie& trie = g.trie();
  mask.bits.assign((size_t(trie.n_vocab()) + 63) / 64, 0);
  GrammarStepper step(g.bytes());
  StackSet a, b;
  for (int32_t id = 0; id < trie.n_vocab(); ++id) {
    if (!trie.matchable(id)) continue;
    a = state;
    bool ok = true;
    for (char c : trie.piece(id)) {
      step.advance(a, uint8_t(c), b);
      std::swap(a, b);
      if (a.empty()) {
        ok = false;
        break;
      }
    }
    if (ok) mask.set(id);
  }
  if (state.has_done())
    for (int32_t id : g.eog()) mask.set(id);
}

}  // namespace dawn
