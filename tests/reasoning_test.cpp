#include "text/reasoning.h"

#include <gtest/gtest.h>

#include <random>

namespace dawn {
namespace {

TEST(Reasoning, SplitsTaggedOutput) {
  auto r = split_reasoning("<think>\nLet me think.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(r.reasoning, "Let me think.");
  EXPECT_EQ(r.answer, "The answer is 4.");
}

TEST(Reasoning, TemplateAlreadyOpenedThink) {
  auto r = split_reasoning("Step 1.\nStep 2.\n</think>\n\nDone.", true);
  EXPECT_EQ(r.reasoning, "Step 1.\nStep 2.");
  EXPECT_EQ(r.answer, "Done.");
}

TEST(Reasoning, NoTagsIsAllAnswer) {
  auto r = split_reasoning("Just an answer with a </think> in it and <think> too.");
  EXPECT_EQ(r.reasoning, "");
  EXPECT_EQ(r.answer, "Just an answer with a </think> in it and <think> too.");
  EXPECT_EQ(split_reasoning("<thi").answer, "<thi");
}

TEST(Reasoning, UnfinishedReasoningStaysReasoning) {
  auto r = split_reasoning("<think>still going  ");
  EXPECT_EQ(r.reasoning, "still going");
  EXPECT_EQ(r.answer, "");
}

TEST(Reasoning, EmptyThinkBlock) {
  auto r = split_reasoning("<think>\n\n</think>\n\nHi");
  EXPECT_EQ(r.reasoning, "");
  EXPECT_EQ(r.answer, "Hi");
}

// Streaming in pieces of any size gives the same split as one piece.
TEST(Reasoning, StreamingMatchesWholeText) {
  const std::string texts[] = {"<think>\nA b c.\n\nD </think>\n\nAnswer <b>x</b> </think> end\n", "  <think>x</think>y",
                               "Answer only", "<think>\n\n\n", "r1\n</think>\n\nz"};
  std::mt19937 rng(7);
  for (const std::string& t : texts) {
    for (bool open : {false, true}) {
      const ReasoningSplit whole = split_reasoning(t, open);
      for (int trial = 0; trial < 50; ++trial) {
        ReasoningSplit got;
        ReasoningSplitter s(open);
        const auto sink = [&](ReasoningSplitter::Part p, std::string_view x) {
          (p == ReasoningSplitter::Reasoning ? got.reasoning : got.answer).append(x);
        };
        for (size_t i = 0; i < t.size();) {
          const size_t n = 1 + rng() % 4;
          s.feed(std::string_view(t).substr(i, n), sink);
          i += n;
        }
        s.finish(sink);
        ASSERT_EQ(got.reasoning, whole.reasoning) << t;
        ASSERT_EQ(got.answer, whole.answer) << t;
      }
    }
  }
}

}  // namespace
}  // namespace dawn
