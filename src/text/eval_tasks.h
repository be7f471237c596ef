// Scoring of held-out chat tasks (`dawn eval`): what a task's "expect" asks of a reply, checked
// against the reply's reasoning, answer and parsed tool calls.
//
// A task is one JSON line: {"family": F, "messages": [...], "expect": E}. E is one of
//   {"answer": "936"}               the answer's last number is exactly this
//   {"tool": NAME, "arguments": {}} one call, to NAME, whose arguments equal these (as JSON)
//   {"tool": null}                  no tool call, and a non-empty answer
//   {"json": {...}}                 the answer is a JSON object (valid); "exact" also when equal
//   {"contains": TEXT}              the answer holds TEXT
//   {"contains_all": [TEXT, ...]}   the answer holds each TEXT
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "text/tool_calls.h"

namespace dawn {

struct TaskScore {
  bool pass = false;   // the family's measure: exact answer, right call, no call, valid JSON, ...
  bool exact = false;  // stricter where there is one: JSON equal to the expected object
  std::string why;     // on failure, what was wrong (for --results)
};

// Throws Error naming the field when expect has none of the forms above.
TaskScore score_task(const nlohmann::ordered_json& expect, const std::string& answer,
                     const ParsedToolCalls& calls);

// The last number written in text ("-12", "3.5", "420"), or "" if none.
std::string last_number(const std::string& text);

struct FamilyTally {
  int n = 0, pass = 0, exact = 0, thought = 0;  // thought: a non-empty <think> block
};

// Families in first-seen order with their tallies.
struct EvalTally {
  std::vector<std::string> order;
  std::map<std::string, FamilyTally> by_family;
  void add(const std::string& family, const TaskScore& s, bool thought);
};

}  // namespace dawn
