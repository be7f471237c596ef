// Compiling a grammar to bytes, and stepping its pushdown stacks (grammar.h).
#include "text/grammar.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "text/unicode.h"

namespace dawn {

namespace {

constexpr int kPartShift = 32, kRemShift = 53, kLenShift = 55, kFreeShift = 58;
// The code points each UTF-8 length encodes (shorter forms are overlong).
constexpr uint32_t kMinCp[5] = {0, 0, 0x80, 0x800, 0x10000}, kMaxCp[5] = {0, 0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

std::array<uint64_t, 4> byte_set(const std::vector<std::pair<uint32_t, uint32_t>>& r) {
  std::array<uint64_t, 4> s{};
  for (auto [a, b] : r)
    for (uint32_t c = a; c <= b && c < 0x80; ++c) s[c / 64] |= uint64_t(1) << (c % 64);
  return s;
}

bool has_byte(const std::array<uint64_t, 4>& s, uint8_t b) { return (s[b / 64] >> (b % 64)) & 1; }

// Whether some code point in [lo, hi] is in the sorted ranges r.
bool overlaps(const std::vector<std::pair<uint32_t, uint32_t>>& r, uint32_t lo, uint32_t hi) {
  auto it = std::lower_bound(r.begin(), r.end(), lo, [](const auto& p, uint32_t v) { return p.second < v; });
  return it != r.end() && it->first <= hi;
}

// Whether every code point in [lo, hi] is in the sorted ranges r (one range holds them all:
// ranges are disjoint and never adjacent).
bool covers(const std::vector<std::pair<uint32_t, uint32_t>>& r, uint32_t lo, uint32_t hi) {
  auto it = std::lower_bound(r.begin(), r.end(), lo, [](const auto& p, uint32_t v) { return p.second < v; });
  return it != r.end() && it->first <= lo && it->second >= hi;
}

// Rules that can reach themselves through references.
std::vector<char> recursive_rules(const Grammar& g) {
  const size_t n = g.rules.size();
  std::vector<std::vector<uint32_t>> refs(n);
  for (size_t r = 0; r < n; ++r)
    for (const auto& alt : g.rules[r].alts)
      for (const GrammarElem& e : alt)
        if (e.kind == GrammarElem::Ref) refs[r].push_back(e.rule);
  std::vector<char> rec(n, 0);
  std::vector<char> seen(n);
  std::vector<uint32_t> todo;
  for (size_t r = 0; r < n; ++r) {  // r is recursive when a walk from its references meets it
    std::fill(seen.begin(), seen.end(), 0);
    todo = refs[r];
    while (!todo.empty() && !rec[r]) {
      const uint32_t s = todo.back();
      todo.pop_back();
      if (s == r) rec[r] = 1;
      if (seen[s]) continue;
      seen[s] = 1;
      todo.insert(todo.end(), refs[s].begin(), refs[s].end());
    }
  }
  return rec;
}

// Small rules written into the alternatives that use them. A mask is cached per stack-top frame
// and its rule's end is where the caller's continuations must be walked: a one-character group
// inside a repetition, as in string ::= "\"" ( [^"\\] | "\\" esc )* "\"", would end after every
// character. Inlined, the repetition's own rule (a loop) is the frame's rule, and it ends only at
// the closing quote. Only what cannot grow the grammar much: a one-alternative rule anywhere, a
// few alternatives as the first element of a short alternative (the loops repetitions make).
Grammar inline_small_rules(const Grammar& in) {
  Grammar g = in;
  const std::vector<char> rec = recursive_rules(g);
  const auto inlinable = [&](uint32_t q, const std::vector<GrammarElem>& alt, size_t i) {
    if (alt[i].kind != GrammarElem::Ref) return false;
    const uint32_t r = alt[i].rule;
    if (rec[r] || r == q || r == g.root) return false;
    const auto& alts = g.rules[r].alts;
    if (alts.size() == 1) return alts[0].size() <= 16;
    if (i != 0 || alt.size() > 3 || alts.size() > 8) return false;
    for (const auto& a : alts)
      if (a.size() > 8) return false;
    return true;
  };
  for (int pass = 0; pass < 4; ++pass) {
    bool changed = false;
    for (size_t q = 0; q < g.rules.size(); ++q) {
      std::vector<std::vector<GrammarElem>> todo = g.rules[q].alts, done;
      while (!todo.empty()) {
        std::vector<GrammarElem> alt = std::move(todo.back());
        todo.pop_back();
        size_t i = 0;
        while (i < alt.size() && !inlinable(uint32_t(q), alt, i)) ++i;
        if (i == alt.size() || done.size() + todo.size() > 64) {
          done.push_back(std::move(alt));
          continue;
        }
        changed = true;
        for (const auto& r : g.rules[alt[i].rule].alts) {
          std::vector<GrammarElem> spliced(alt.begin(), alt.begin() + long(i));
          spliced.insert(spliced.end(), r.begin(), r.end());
          spliced.insert(spliced.end(), alt.begin() + long(i) + 1, alt.end());
          todo.push_back(std::move(spliced));
        }
      }
      std::reverse(done.begin(), done.end());
      g.rules[q].alts = std::move(done);
    }
    if (!changed) break;
  }
  return g;
}

// Rules that match alike merged into one: those whose alternatives are the same sequences of
// character sets and of references to rules that match alike (the coarsest such partition,
// refined from "all rules alike" until it holds). A JSON Schema's fields of one type, or the
// count positions of one maxLength, are then one rule where they were many, so the mask cache
// fills once for all of them.
Grammar merge_equal_rules(const Grammar& g) {
  const size_t n = g.rules.size();
  std::vector<uint32_t> cls(n, 0);
  size_t classes = 1;
  for (;;) {
    std::map<std::string, uint32_t> ids;
    std::vector<uint32_t> next(n);
    std::string sig;
    for (size_t r = 0; r < n; ++r) {
      sig.assign(reinterpret_cast<const char*>(&cls[r]), sizeof(uint32_t));
      for (const auto& alt : g.rules[r].alts) {
        sig += '|';
        for (const GrammarElem& e : alt) {
          if (e.kind == GrammarElem::Ref) {
            sig += 'R';
            sig.append(reinterpret_cast<const char*>(&cls[e.rule]), sizeof(uint32_t));
            continue;
          }
          sig += 'C';
          const uint32_t k = uint32_t(e.ranges.size());
          sig.append(reinterpret_cast<const char*>(&k), sizeof k);
          sig.append(reinterpret_cast<const char*>(e.ranges.data()), e.ranges.size() * sizeof(e.ranges[0]));
        }
      }
      next[r] = ids.emplace(sig, uint32_t(ids.size())).first->second;
    }
    cls = std::move(next);
    if (ids.size() == classes) break;  // refining only splits classes: no new one, no change
    classes = ids.size();
  }
  if (classes == n) return g;
  Grammar out;
  out.rules.resize(classes);
  std::vector<char> seen(classes, 0);
  for (size_t r = 0; r < n; ++r) {
    if (seen[cls[r]]) continue;
    seen[cls[r]] = 1;
    GrammarRule& rule = out.rules[cls[r]];
    rule = g.rules[r];
    for (auto& alt : rule.alts)
      for (GrammarElem& e : alt)
        if (e.kind == GrammarElem::Ref) e.rule = cls[e.rule];
  }
  out.root = cls[g.root];
  return out;
}

}  // namespace

ByteGrammar compile_grammar(const Grammar& grammar) {
  const Grammar g = merge_equal_rules(inline_small_rules(grammar));
  ByteGrammar out;
  out.root = g.root;
  std::map<std::array<uint64_t, 4>, uint32_t> classes;
  const auto byte_class = [&](const std::array<uint64_t, 4>& s) {
    const auto [it, fresh] = classes.emplace(s, uint32_t(out.byte_classes.size()));
    if (fresh) out.byte_classes.push_back(s);
    return it->second;
  };
  out.alts.resize(g.rules.size());
  for (size_t r = 0; r < g.rules.size(); ++r) {
    out.rule_names.push_back(g.rules[r].name);
    for (const auto& alt : g.rules[r].alts) {
      out.alts[r].push_back(uint32_t(out.elems.size()));
      for (const GrammarElem& e : alt) {
        if (e.kind == GrammarElem::Ref) {
          out.elems.push_back({ByteGrammar::Ref, e.rule});
          continue;
        }
        if (e.ranges.back().second < 0x80) {
          out.elems.push_back({ByteGrammar::Byte, byte_class(byte_set(e.ranges))});
        } else if (e.ranges.size() == 1 && e.ranges[0].first == e.ranges[0].second) {
          for (unsigned char b : utf8_encode(e.ranges[0].first)) {
            std::array<uint64_t, 4> s{};
            s[b / 64] |= uint64_t(1) << (b % 64);
            out.elems.push_back({ByteGrammar::Byte, byte_class(s)});
          }
        } else {
          out.elems.push_back({ByteGrammar::Chars, uint32_t(out.char_sets.size())});
          out.char_sets.push_back(e.ranges);
        }
      }
      out.elems.push_back({ByteGrammar::End, uint32_t(r)});
    }
  }
  return out;
}

bool StackSet::has_done() const {
  for (size_t k = 0; k < size(); ++k)
    if (done(k)) return true;
  return false;
}

std::string StackSet::key() const {
  std::string k(reinterpret_cast<const char*>(frames_.data()), frames_.size() * sizeof(Frame));
  k.append(reinterpret_cast<const char*>(ends_.data()), ends_.size() * sizeof(uint32_t));
  return k;
}

void StackSet::add(const Frame* f, size_t n) {
  for (size_t k = 0; k < size(); ++k) {
    if (depth(k) != n) continue;
    const Frame* g = begin(k);
    size_t i = 0;
    while (i < n && g[i] == f[i]) ++i;  // stacks are a few frames: no memcmp call
    if (i == n) return;
  }
  frames_.insert(frames_.end(), f, f + n);
  ends_.push_back(uint32_t(frames_.size()));
}

void GrammarStepper::start(StackSet& out) {
  out.clear();
  std::vector<Frame> st;
  for (uint32_t a : g_.alts[g_.root]) {
    st.assign(1, frame_at(a));
    expand(st, out);
  }
}

void GrammarStepper::expand(std::vector<Frame>& st, StackSet& out) {
  if (st.empty()) {
    out.add(st.data(), 0);
    return;
  }
  const Frame top = st.back();
  const ByteGrammar::Elem& e = g_.elems[frame_pos(top)];
  switch (e.kind) {
    case ByteGrammar::Byte:
    case ByteGrammar::Chars:
      out.add(st.data(), st.size());
      return;
    case ByteGrammar::End:  // the frame's alternative is complete: back in its caller
      st.pop_back();
      expand(st, out);
      st.push_back(top);
      return;
    case ByteGrammar::Ref: {
      const uint32_t next = frame_pos(top) + 1;
      // A reference that ends its alternative returns straight to the caller's caller: the
      // frame goes now (so x ::= a x | (nothing), what x* becomes, runs in constant depth).
      const bool tail = g_.elems[next].kind == ByteGrammar::End;
      if (tail) {
        st.pop_back();
      } else {
        st.back() = frame_at(next);
      }
      for (uint32_t a : g_.alts[e.arg]) {
        st.push_back(frame_at(a));
        expand(st, out);
        st.pop_back();
      }
      if (tail) {
        st.push_back(top);
      } else {
        st.back() = top;
      }
      return;
    }
  }
}

void GrammarStepper::advance_one(const Frame* f, size_t n, uint8_t byte, StackSet& out) {
  if (n == 0) return;  // a finished match takes no more bytes
  const Frame top = f[n - 1];
  const uint32_t pos = frame_pos(top);
  const ByteGrammar::Elem& e = g_.elems[pos];
  Frame next;
  bool in_char = false;  // still inside a character: the top stays at its Chars, nothing expands
  if (e.kind == ByteGrammar::Byte) {
    if (!has_byte(g_.byte_classes[e.arg], byte)) return;
    next = frame_at(pos + 1);
  } else if ((top >> kFreeShift) & 1) {  // whatever continues this character is in the set
    if ((byte >> 6) != 2) return;
    const int rem = (int(top >> kRemShift) & 3) - 1;
    in_char = rem != 0;
    next = in_char ? frame_at(pos) | Frame(rem) << kRemShift | Frame(1) << kFreeShift : frame_at(pos + 1);
  } else {
    const auto& set = g_.char_sets[e.arg];
    uint32_t part = uint32_t(top >> kPartShift) & 0x1FFFFF;
    int rem = int(top >> kRemShift) & 3, len = int(top >> kLenShift) & 7;
    if (rem == 0 && byte < 0x80) {  // a one-byte character
      if (!overlaps(set, byte, byte)) return;
      len = 1;
    } else if (rem == 0) {  // the first byte of a longer one
      if ((byte >> 5) == 6) {
        len = 2, part = byte & 0x1F;
      } else if ((byte >> 4) == 14) {
        len = 3, part = byte & 0x0F;
      } else if ((byte >> 3) == 30) {
        len = 4, part = byte & 0x07;
      } else {
        return;
      }
      rem = len - 1;
    } else {
      if ((byte >> 6) != 2) return;
      part = part << 6 | (byte & 0x3F);
      --rem;
    }
    if (len > 1) {
      // The code points this character can still become, within what its length may encode
      // (no overlong forms; surrogates are never in a set), must meet the set.
      const uint32_t lo = std::max(part << (6 * rem), kMinCp[len]);
      const uint32_t hi = std::min((part << (6 * rem)) | ((uint32_t(1) << (6 * rem)) - 1), kMaxCp[len]);
      if (lo > hi || !overlaps(set, lo, hi)) return;
    }
    in_char = rem != 0;
    if (!in_char) {
      next = frame_at(pos + 1);
    } else {
      // When every way this character can go on is a code point of the set (no overlong form,
      // one range of the set holds them all), what was read so far no longer matters: the frame
      // keeps only the bytes still to come. Inside a string that makes a few states, not one
      // per lead byte, for the mask cache's walks to meet.
      const uint32_t all_lo = part << (6 * rem), all_hi = all_lo | ((uint32_t(1) << (6 * rem)) - 1);
      if (all_lo >= kMinCp[len] && all_hi <= kMaxCp[len] && covers(set, all_lo, all_hi)) {
        next = frame_at(pos) | Frame(rem) << kRemShift | Frame(1) << kFreeShift;
      } else {
        next = frame_at(pos) | Frame(part) << kPartShift | Frame(rem) << kRemShift | Frame(len) << kLenShift;
      }
    }
  }
  st_.assign(f, f + n);
  st_.back() = next;
  if (in_char) {
    out.add(st_.data(), st_.size());
  } else {
    expand(st_, out);
  }
}

void GrammarStepper::advance(const StackSet& in, uint8_t byte, StackSet& out) {
  out.clear();
  for (size_t k = 0; k < in.size(); ++k) advance_one(in.begin(k), in.depth(k), byte, out);
}

bool GrammarStepper::accepts(const StackSet& from, std::string_view bytes) {
  a_ = from;
  for (char c : bytes) {
    advance(a_, uint8_t(c), b_);
    std::swap(a_, b_);
    if (a_.empty()) return false;
  }
  return a_.has_done();
}

}  // namespace dawn
