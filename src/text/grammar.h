// A grammar (text/gbnf.h) compiled to match bytes, and the pushdown stacks that match it: the
// state of a partial match is a set of stacks of frames, each frame a position in an
// alternative of a rule (and, inside a multi-byte character, how much of it has been read).
// Tokens are matched on their bytes, so a token may end inside a rule, a literal or a UTF-8
// character; the next token continues from there.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/gbnf.h"

namespace dawn {

struct ByteGrammar {
  enum Kind : uint8_t {
    Byte,   // one byte of a class (arg: index into byte_classes): ASCII sets and literal bytes
    Chars,  // one UTF-8 character of a code point set (arg: index into char_sets)
    Ref,    // a rule (arg: rule)
    End,    // the end of an alternative of rule arg
  };
  struct Elem {
    Kind kind;
    uint32_t arg;
  };
  std::vector<Elem> elems;  // every alternative's elements, each followed by an End
  std::vector<std::array<uint64_t, 4>> byte_classes;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> char_sets;
  std::vector<std::vector<uint32_t>> alts;  // per rule: the position of each alternative's first element
  std::vector<std::string> rule_names;
  uint32_t root = 0;
};

ByteGrammar compile_grammar(const Grammar& g);

// A frame: the position (an index into elems) in its low 32 bits; above them the state of a
// UTF-8 character being read at a Chars position: the code point so far (21 bits), how many
// continuation bytes are still to come (2 bits) and the character's length (3 bits), or, once
// every way the character can go on is in the set, only the bytes to come and a flag (bit 58).
using Frame = uint64_t;
inline uint32_t frame_pos(Frame f) { return uint32_t(f); }
inline Frame frame_at(uint32_t pos) { return Frame(pos); }

// Stacks of frames (bottom first), stored back to back; adding one already present does nothing.
class StackSet {
 public:
  void clear() {
    frames_.clear();
    ends_.clear();
  }
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  const Frame* begin(size_t k) const { return frames_.data() + (k ? ends_[k - 1] : 0); }
  size_t depth(size_t k) const { return ends_[k] - (k ? ends_[k - 1] : 0); }
  // True when stack k is empty: the whole grammar matched (or, in a local walk, the frame it
  // started from ended).
  bool done(size_t k) const { return depth(k) == 0; }
  bool has_done() const;
  void add(const Frame* f, size_t n);
  // The set's bytes (frames and stack ends): equal sets have equal keys (stacks in the order added).
  std::string key() const;

 private:
  std::vector<Frame> frames_;
  std::vector<uint32_t> ends_;
};

// What a compiled grammar does to stacks. `st` is scratch the calls may grow.
class GrammarStepper {
 public:
  explicit GrammarStepper(const ByteGrammar& g) : g_(g) {}
  const ByteGrammar& grammar() const { return g_; }

  // The stacks where the match can be before any byte: root's alternatives expanded.
  void start(StackSet& out);
  // Expands st (its top frame at any position) until every stack's top is at a Byte or Chars
  // element, or the stack is empty; adds them to out.
  void expand(std::vector<Frame>& st, StackSet& out);
  // Every stack of in after one more byte, into out (cleared first).
  void advance(const StackSet& in, uint8_t byte, StackSet& out);
  // Advances one stack (n frames at f, top last) by a byte, adding the results to out.
  void advance_one(const Frame* f, size_t n, uint8_t byte, StackSet& out);
  // Whether bytes can be matched in full from the stacks (the empty string needs done()).
  bool accepts(const StackSet& from, std::string_view bytes);

 private:
  const ByteGrammar& g_;
  std::vector<Frame> st_;
  StackSet a_, b_;
};

}  // namespace dawn
