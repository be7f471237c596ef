// dawn eval's scorer: each kind of expectation passes the replies it should and fails, with a
// reason, the ones it should not; malformed expectations are errors naming the field.
#include "text/eval_tasks.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace dawn {
namespace {

using json = nlohmann::ordered_json;

ParsedToolCalls call(const std::string& name, const std::string& args) {
  ParsedToolCalls c;
  c.calls.push_back({"call_x", name, args});
  return c;
}

TEST(EvalTasks, LastNumber) {
  EXPECT_EQ(last_number("347 + 589 = 936."), "936");
  EXPECT_EQ(last_number("it is -12 degrees"), "-12");
  EXPECT_EQ(last_number("100 USD is 91.25 EUR."), "91.25");
  EXPECT_EQ(last_number("at 14:05"), "05");
  EXPECT_EQ(last_number("no digits"), "");
  EXPECT_EQ(last_number("1.2.3"), "2.3");
  EXPECT_EQ(last_number("7"), "7");
}

TEST(EvalTasks, ExactAnswer) {
  const json e = {{"answer", "936"}};
  EXPECT_TRUE(score_task(e, "347 + 589 = 936.", {}).pass);
  TaskScore s = score_task(e, "347 + 589 = 926.", {});
  EXPECT_FALSE(s.pass);
  EXPECT_EQ(s.why, "answer 926");
  EXPECT_FALSE(score_task(e, "9360", {}).pass);   // the whole number, not a prefix of one
  EXPECT_FALSE(score_task(e, "936", call("f", "{}")).pass);  // a call is no answer
  EXPECT_EQ(score_task(e, "I don't know", {}).why, "answer has no number");
}

TEST(EvalTasks, ToolCalls) {
  const json e = {{"tool", "get_weather"}, {"arguments", {{"city", "Paris"}}}};
  EXPECT_TRUE(score_task(e, "", call("get_weather", R"({"city":"Paris"})")).pass);
  EXPECT_EQ(score_task(e, "", call("get_time", R"({"city":"Paris"})")).why, "called get_time");
  EXPECT_EQ(score_task(e, "", call("get_weather", R"({"city":"Pari"})")).why, R"(arguments {"city":"Pari"})");
  EXPECT_EQ(score_task(e, "It is sunny.", {}).why, "no tool call");
  ParsedToolCalls two = call("get_weather", R"({"city":"Paris"})");
  two.calls.push_back(two.calls[0]);
  EXPECT_FALSE(score_task(e, "", two).pass);
  // No tool wanted: any call fails, an empty answer fails.
  const json none = {{"tool", nullptr}};
  EXPECT_TRUE(score_task(none, "Hello!", {}).pass);
  EXPECT_FALSE(score_task(none, "  \n", {}).pass);
  EXPECT_EQ(score_task(none, "", call("get_time", "{}")).why, "called get_time");
}

TEST(EvalTasks, JsonObjects) {
  const json e = {{"json", {{"name", "Alice"}, {"age", 30}}}};
  TaskScore s = score_task(e, R"( {"name": "Alice", "age": 30} )", {});
  EXPECT_TRUE(s.pass && s.exact);
  s = score_task(e, R"({"name": "Bob", "age": 30})", {});
  EXPECT_TRUE(s.pass);
  EXPECT_FALSE(s.exact);
  EXPECT_FALSE(score_task(e, R"({"name": "Alice", "age": 30)", {}).pass);
  EXPECT_FALSE(score_task(e, "[1, 2]", {}).pass);  // valid JSON, but no object
  EXPECT_FALSE(score_task(e, "Here: {\"a\": 1}", {}).pass);
}

TEST(EvalTasks, ContainsAndErrors) {
  EXPECT_TRUE(score_task({{"contains_all", {"18", "cloudy"}}}, "It is 18 degrees and cloudy.", {}).pass);
  EXPECT_EQ(score_task({{"contains_all", {"18", "cloudy"}}}, "It is 18 degrees.", {}).why,
            "no \"cloudy\" in the answer");
  EXPECT_TRUE(score_task({{"contains", "Hello"}}, "Hello! How can I help?", {}).pass);
  EXPECT_THROW(score_task({{"answer", 936}}, "936", {}), Error);
  EXPECT_THROW(score_task({{"tool", 3}}, "", {}), Error);
  EXPECT_THROW(score_task({{"contains_all", {1}}}, "", {}), Error);
  EXPECT_THROW(score_task({{"nothing", 1}}, "", {}), Error);
  EXPECT_THROW(score_task(json::array(), "", {}), Error);
}

TEST(EvalTasks, Tally) {
  EvalTally t;
  t.add("b", {true, true, ""}, true);
  t.add("a", {false, false, "x"}, false);
  t.add("b", {true, false, ""}, false);
  ASSERT_EQ(t.order, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(t.by_family["b"].n, 2);
  EXPECT_EQ(t.by_family["b"].pass, 2);
  EXPECT_EQ(t.by_family["b"].exact, 1);
  EXPECT_EQ(t.by_family["b"].thought, 1);
  EXPECT_EQ(t.by_family["a"].pass, 0);
}

}  // namespace
}  // namespace dawn
