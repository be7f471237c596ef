#include "text/eval_tasks.h"

#include <cctype>

#include "util/error.h"

namespace dawn {

using json = nlohmann::ordered_json;

std::string last_number(const std::string& text) {
  size_t end = text.size();
  while (end > 0 && !std::isdigit(static_cast<unsigned char>(text[end - 1]))) --end;
  if (end == 0) return "";
  size_t begin = end;
  while (begin > 0) {
    const char c = text[begin - 1];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      --begin;
    } else if (c == '.' && begin >= 2 && std::isdigit(static_cast<unsigned char>(text[begin - 2])) &&
               text.find('.', begin) > end) {  // one decimal point, with digits both sides
      --begin;
    } else {
      break;
    }
  }
  if (begin > 0 && text[begin - 1] == '-') --begin;
  return text.substr(begin, end - begin);
}

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

}  // namespace

TaskScore score_task(const json& expect, const std::string& answer, const ParsedToolCalls& calls) {
  TaskScore s;
  if (!expect.is_object()) throw Error("expect: must be an object");
  if (expect.contains("answer")) {
    if (!expect["answer"].is_string()) throw Error("expect.answer: must be a string");
    const std::string got = last_number(answer);
    s.pass = s.exact = calls.calls.empty() && got == expect["answer"].get<std::string>();
    if (!s.pass) s.why = calls.calls.empty() ? "answer " + (got.empty() ? "has no number" : got) : "called a tool";
    return s;
  }
  if (expect.contains("tool")) {
    const json& want = expect["tool"];
    if (want.is_null()) {
      s.pass = s.exact = calls.calls.empty() && !trim(answer).empty();
      if (!s.pass) s.why = calls.calls.empty() ? "empty answer" : "called " + calls.calls[0].name;
      return s;
    }
    if (!want.is_string()) throw Error("expect.tool: must be a function name or null");
    if (calls.calls.size() != 1) {
      s.why = calls.calls.empty() ? "no tool call" : std::to_string(calls.calls.size()) + " calls";
      return s;
    }
    const ToolCall& c = calls.calls[0];
    if (c.name != want.get<std::string>()) {
      s.why = "called " + c.name;
      return s;
    }
    const json args = json::parse(c.arguments, nullptr, false);  // the parser checked it is an object
    s.pass = s.exact = !args.is_discarded() && (!expect.contains("arguments") || args == expect["arguments"]);
    if (!s.pass) s.why = "arguments " + c.arguments;
    return s;
  }
  if (expect.contains("json")) {
    const json got = json::parse(trim(answer), nullptr, false);
    s.pass = calls.calls.empty() && !got.is_discarded() && got.is_object();
    s.exact = s.pass && got == expect["json"];
    if (!s.pass) s.why = calls.calls.empty() ? "not a JSON object" : "called a tool";
    else if (!s.exact) s.why = "valid, but not the object asked for";
    return s;
  }
  std::vector<std::string> needles;
  if (expect.contains("contains")) {
    if (!expect["contains"].is_string()) throw Error("expect.contains: must be a string");
    needles.push_back(expect["contains"].get<std::string>());
  } else if (expect.contains("contains_all")) {
    if (!expect["contains_all"].is_array()) throw Error("expect.contains_all: must be an array of strings");
    for (const json& n : expect["contains_all"]) {
      if (!n.is_string()) throw Error("expect.contains_all: must be an array of strings");
      needles.push_back(n.get<std::string>());
    }
  } else {
    throw Error("expect: needs one of answer, tool, json, contains, contains_all");
  }
  s.pass = calls.calls.empty();
  for (const std::string& n : needles) {
    if (answer.find(n) == std::string::npos) {
      s.pass = false;
      s.why = "no \"" + n + "\" in the answer";
      break;
    }
  }
  if (!calls.calls.empty()) s.why = "called a tool";
  s.exact = s.pass;
  return s;
}

void EvalTally::add(const std::string& family, const TaskScore& s, bool thought) {
  auto [it, fresh] = by_family.try_emplace(family);
  if (fresh) order.push_back(family);
  FamilyTally& t = it->second;
  ++t.n;
  t.pass += s.pass;
  t.exact += s.exact;
  t.thought += thought;
}

}  // namespace dawn
