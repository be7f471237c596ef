// TEST-ONLY: a tiny GBNF recognizer for checking the JSON Schema converter's grammars without the
// real grammar engine. It reads exactly the dialect the converter promises (one `name ::= ...`
// rule per line; "..." literals and [...] classes with \\ \" \n \r \t \xHH \uHHHH; `.`; rule
// references; ( ); |; one postfix * + ? {n} {n,} {n,m} per element) and rejects anything else,
// then decides whether `root` matches a whole text: recursive descent over sets of end
// positions, memoized on (node, position). Not for production use: no streaming, no limits.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dawn::testonly {

class TestGbnfRecognizer {
 public:
  // Throws std::runtime_error naming the line for anything outside the dialect, an undefined or
  // unused rule, or a missing root.
  explicit TestGbnfRecognizer(const std::string& grammar);
  ~TestGbnfRecognizer();

  // Whether root matches all of text (UTF-8, matched by code point). Throws on left recursion.
  bool accepts(const std::string& text) const;

  const std::vector<std::string>& rule_names() const { return names_; }

 private:
  struct Node;
  struct Parser;
  int parse_rule_body(const std::string& body, size_t line);
  std::vector<size_t> ends(int node, size_t pos) const;

  std::vector<std::string> names_;
  std::vector<int> rule_root_;  // node of each rule's body
  std::vector<std::unique_ptr<Node>> nodes_;

  // Per accepts() call.
  mutable std::vector<uint32_t> text_;
  mutable std::map<std::pair<int, size_t>, std::vector<size_t>> memo_;
  mutable std::map<std::pair<int, size_t>, bool> active_;
};

}  // namespace dawn::testonly
