// The CLI end to end: dawn bench's JSON and dawn perplexity against the engine.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/generate.h"
#include "engine/perplexity.h"
#include "models/synth.h"
#include "text/unicode.h"
#include "text/vocab.h"

namespace dawn {
namespace {

// stdout of `dawn args` (and stderr after it with `with_stderr`); *rc is the exit status.
std::string run(const std::string& args, int* rc, bool with_stderr = false) {
  const std::string cmd = std::string(DAWN_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  *rc = pclose(pipe);
  return out;
}

// `dawn args` refused with a clear error: the process exited by itself (not a signal) with
// `code`, no sanitizer report, and stderr says `needle`. dawn's own errors (code 1) are one
// line starting "dawn: error: ", the last one (progress lines may come before it); option
// errors (CLI11, code 105) name the option.
void expect_refused(const std::string& args, const std::string& needle, int code = 1) {
  char tmpl[] = "/tmp/dawn-cli-err-XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string cmd = std::string(DAWN_BINARY) + " " + args + " >/dev/null 2>" + tmpl + " </dev/null";
  const int status = std::system(cmd.c_str());
  std::ifstream in(tmpl);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(tmpl);
  ASSERT_TRUE(WIFEXITED(status)) << args << ": killed by a signal: " << err;
  EXPECT_EQ(WEXITSTATUS(status), code) << args << ": " << err;
  for (const char* report : {"Sanitizer", "runtime error:", "terminate called", "Aborted"})
    EXPECT_EQ(err.find(report), std::string::npos) << args << ": " << err;
  EXPECT_NE(err.find(needle), std::string::npos) << args << ": " << err;
  if (code == 1) {
    const size_t at = err.find("dawn: error: ");
    EXPECT_TRUE(at == 0 || (at != std::string::npos && err[at - 1] == '\n')) << err;
    EXPECT_EQ(err.find("dawn: error: ", at + 1), std::string::npos) << err;
    EXPECT_TRUE(at != std::string::npos && err.find('\n', at) == err.size() - 1) << err;
  }
}

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/dawn-cli-XXXXXX";
    dir_ = mkdtemp(tmpl);
    SynthConfig c;
    c.seed = 3;
    ASSERT_TRUE(synth_preset("tiny-deepseek-v3", &c));
    synth_model(c, dir_ + "/m.gguf");
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string dir_;
};
std::string Cli::dir_;

TEST_F(Cli, BenchJsonHasTheIssueFields) {
  int rc;
  const std::string out = run("bench " + dir_ + "/m.gguf -p 16 -n 4 -r 1 -t 1 --json", &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out);
  for (const char* k : {"prefill_tok_s", "decode_tok_s", "weight_bytes_per_token", "peak_rss_bytes"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_GT(j[k].get<double>(), 0) << k;
  }
  // Decode reads at most the file (MoE: far less, only the chosen experts).
  EXPECT_LT(j["weight_bytes_per_token"].get<double>(), j["file_bytes"].get<double>());
}

// --membw: each decode run is set against the bandwidth sampled around it, and the samples' buffers
// (512 MiB) stay out of the model's peak RSS.
TEST_F(Cli, BenchRooflineFromBandwidthAroundEachRun) {
  int rc;
  const std::string out = run("bench " + dir_ + "/m.gguf -p 4 -n 4 -r 2 -t 1 --membw --json", &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_GT(j["membw_bytes_s"].get<double>(), 1e8);
  EXPECT_GT(j["decode_roofline_frac"].get<double>(), 0);
  EXPECT_LT(j["peak_rss_bytes"].get<double>(), double(256 << 20));
}

// Runs that start from a filled cache (llama-bench's -d): the depth is reported; several depths
// give a JSON line each, with the speed of the fill; a negative one is refused.
TEST_F(Cli, BenchAtDepth) {
  int rc;
  const std::string out = run("bench " + dir_ + "/m.gguf -p 8 -n 4 -d 24 -r 1 -t 1 --json", &rc);
  ASSERT_EQ(rc, 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["depth"].get<int>(), 24);
  EXPECT_GT(j["decode_tok_s"].get<double>(), 0);
  EXPECT_GT(j["fill_tok_s"].get<double>(), 0);
  const std::string rows = run("bench " + dir_ + "/m.gguf -p 8 -n 4 -d 0,40,16 -r 1 -t 1 --json", &rc);
  ASSERT_EQ(rc, 0) << rows;
  std::istringstream lines(rows);
  std::vector<int> depths;
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line);
    depths.push_back(row["depth"].get<int>());
    EXPECT_GT(row["prefill_tok_s"].get<double>(), 0);
    EXPECT_EQ(row["fill_tok_s"].get<double>() > 0, depths.back() > 0);
  }
  EXPECT_EQ(depths, (std::vector<int>{0, 40, 16}));
  expect_refused("bench " + dir_ + "/m.gguf -d -1", "-p, -n and -d must not be negative");
  expect_refused("bench " + dir_ + "/m.gguf -d 8,-1", "-p, -n and -d must not be negative");
}

// Weights copied into huge pages compute exactly what the mapped file does.
TEST_F(Cli, RunIsTheSameWithCopiedAndMappedWeights) {
  int rc_map, rc_copy;
  const std::string args = "run " + dir_ + "/m.gguf -p 'hello world' -n 12 --temp 0 -t 1 --load ";
  const std::string mapped = run(args + "map", &rc_map);
  const std::string copied = run(args + "copy", &rc_copy);
  ASSERT_EQ(rc_map, 0) << mapped;
  ASSERT_EQ(rc_copy, 0) << copied;
  EXPECT_GT(mapped.size(), std::string("hello world").size());
  EXPECT_EQ(copied, mapped);
  expect_refused(args + "mmap", "--load: mmap not in {auto,map,copy}", 105);
  expect_refused("run " + dir_ + "/missing.gguf -p hi", "File does not exist: " + dir_ + "/missing.gguf", 105);
}

// --draft MODEL.gguf: the model drafting for itself through run and bench gives the plain reply
// and keeps nearly every draft; a file with another vocabulary, a drafter that is neither a name
// nor a file, and a draft model for serve are one clear line each.
TEST_F(Cli, DraftModelOnRunAndBench) {
  const std::string r1 = std::string(DAWN_MODELS) + "/dawn-r1-tiny.gguf";
  const std::string args = "run " + r1 + " -p 'What is 12 + 30?' -n 40 --temp 0 -t 1";
  int rc_plain, rc_draft;
  const std::string plain = run(args, &rc_plain);
  const std::string drafted = run(args + " --draft " + r1 + " --draft-n 3", &rc_draft);
  ASSERT_EQ(rc_plain, 0) << plain;
  ASSERT_EQ(rc_draft, 0) << drafted;
  EXPECT_EQ(drafted, plain);
  int rc;
  const std::string out = run("bench " + r1 + " -p 0 -n 40 -r 1 -t 1 --json --draft " + r1, &rc);
  ASSERT_EQ(rc, 0) << out;
  std::istringstream lines(out);
  std::string line, last;
  while (std::getline(lines, line)) last = line.empty() ? last : line;
  const auto j = nlohmann::json::parse(last);
  EXPECT_EQ(j["draft"], "model");
  EXPECT_EQ(j["draft_n"], 4);
  EXPECT_GE(j["acceptance_rate"].get<double>(), 0.8) << last;
  EXPECT_GT(j["verify_bytes_ratio"].get<double>(), 1.0) << last;  // 5 tokens choose more experts than 1
  expect_refused(args + " --draft " + std::string(DAWN_MODELS) + "/dawn-brown-v3.gguf",
                 "dawn-brown-v3.gguf: token 2 is");
  expect_refused(args + " --draft nonsense", "--draft: 'nonsense' is neither none, mtp, ngram nor an existing GGUF file",
                 105);
  expect_refused("serve " + r1 + " --port 0 --draft " + r1, "dawn serve drafts with mtp or ngram, not yet with a draft model");
}

TEST_F(Cli, RunWithAGrammarOrASchema) {
  {
    std::ofstream(dir_ + "/digits.gbnf") << "root ::= \"<\" [0-9]{2,4} \">\"\n";
    std::ofstream(dir_ + "/person.json")
        << R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false})";
    std::ofstream(dir_ + "/bad.gbnf") << "root ::= \"a\" missing\n";
    std::ofstream(dir_ + "/bad.json") << R"({"type":"integer","multipleOf":2})";
  }
  int rc;
  const std::string digits = run("run " + dir_ + "/m.gguf -p P -n 16 --temp 1 --seed 4 --grammar " + dir_ + "/digits.gbnf", &rc);
  ASSERT_EQ(rc, 0) << digits;
  EXPECT_TRUE(std::regex_match(digits, std::regex("P<[0-9]{2,4}>\n"))) << digits;
  const std::string person = run("run " + dir_ + "/m.gguf -p P -n 40 --temp 1 --seed 4 --json-schema " + dir_ + "/person.json", &rc);
  ASSERT_EQ(rc, 0) << person;
  const auto j = nlohmann::json::parse(person.substr(1));
  EXPECT_TRUE(j.is_object() && j.size() == 2 && j["name"].is_string() && j["age"].is_number_integer()) << person;
  EXPECT_LE(j["age"].get<int>(), 120);
  expect_refused("run " + dir_ + "/m.gguf -p P --grammar " + dir_ + "/bad.gbnf",
                 dir_ + "/bad.gbnf: grammar: line 1 col 14: undefined rule 'missing'");
  expect_refused("run " + dir_ + "/m.gguf -p P --json-schema " + dir_ + "/bad.json",
                 dir_ + "/bad.json: #: unsupported keyword 'multipleOf'");
}

// dawn chat --tools with a call enforced: the call is shown with arguments that fit the schema,
// the typed result goes back to the model, which answers.
TEST_F(Cli, ChatShowsToolCallsAndTakesResults) {
  std::ofstream(dir_ + "/tools.json") << R"([{"type":"function","function":{"name":"get_weather","parameters":)"
                                         R"({"type":"object","properties":{"city":{"type":"string","maxLength":8},)"
                                         R"("unit":{"enum":["C","F"]}},"required":["city","unit"],"additionalProperties":false}}}])";
  std::ofstream(dir_ + "/turns.txt") << "Weather in Oslo?\n{\"temp\": 3}\n";
  int rc;
  const std::string out = run("chat " + dir_ + "/m.gguf --tools " + dir_ + "/tools.json --tool-choice required " +
                                  "--reasoning-budget 4 -n 260 --seed 2 -t 1 < " + dir_ + "/turns.txt",
                              &rc, true);
  ASSERT_EQ(rc, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(\[tool call call_[A-Za-z0-9]{24}: get_weather\((\{.*\})\)\])")))
      << out;
  const auto args = nlohmann::json::parse(m[1].str());
  EXPECT_TRUE(args["city"].is_string() && args["city"].get<std::string>().size() <= 8 * 4) << m[1];
  EXPECT_TRUE(args["unit"] == "C" || args["unit"] == "F") << m[1];
  expect_refused("chat " + dir_ + "/m.gguf --tools " + dir_ + "/turns.txt", dir_ + "/turns.txt: ");
}

TEST_F(Cli, BenchWithoutModelOrMembwIsAnError) {
  expect_refused("bench", "bench: give a MODEL, --membw, or both");
}

// The command's number is the engine's: the same chunks, BOS and scored half.
TEST_F(Cli, PerplexityCommandMatchesEngine) {
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "The quick brown fox jumps over the lazy dog, number " + std::to_string(i) + ". ";
  std::ofstream(dir_ + "/t.txt") << text;
  int rc;
  const std::string out = run("perplexity " + dir_ + "/m.gguf " + dir_ + "/t.txt -c 64 -t 1", &rc);
  ASSERT_EQ(rc, 0) << out;
  double ppl = 0;
  ASSERT_EQ(std::sscanf(out.c_str(), "PPL = %lf", &ppl), 1) << out;
  auto m = load_model(dir_ + "/m.gguf");
  Vocab v(*m->file);
  Session s(*m, 64, 1);
  const PerplexityResult r = perplexity(s, v.encode(text, true), 64, v.bos(), 0);
  EXPECT_NEAR(ppl, r.ppl, 1e-3 * r.ppl);
  EXPECT_GT(r.n_chunks, 1);
  EXPECT_EQ(r.n_scored, int64_t(r.n_chunks) * 31);  // positions 32..62 of each chunk
}

// The tiny deepseek preset's latent rows are 64 + 16 values: no q8_0 cache, and one line that says why.
TEST_F(Cli, Q8_0CacheOverRowsNotInBlocksOf32IsOneClearLine) {
  expect_refused("run " + dir_ + "/m.gguf -p hi -n 2 --kv-type q8_0", dir_ + "/m.gguf: --kv-type q8_0");
  int rc;
  const std::string out = run("run " + dir_ + "/m.gguf -p hi -n 2 --kv-type q8_0", &rc, true);
  EXPECT_NE(out.find("80 values"), std::string::npos) << out;
}

TEST_F(Cli, PerplexityOfTooShortTextIsAClearError) {
  std::ofstream(dir_ + "/short.txt") << "too short";
  expect_refused("perplexity " + dir_ + "/m.gguf " + dir_ + "/short.txt -c 64",
                 "perplexity: the text is 7 tokens; a context of 64 needs at least 128 (lower -c)");
}

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST_F(Cli, TokenizeBatchModesRoundTrip) {
  write_file(dir_ + "/in.jsonl",
             "{\"id\":7,\"text\":\"Hello <think>world</think> 123\"}\n{\"id\":\"b\",\"text\":\"\"}\n");
  int rc;
  const std::string enc = run("tokenize " + dir_ + "/m.gguf --jsonl " + dir_ + "/in.jsonl", &rc);
  ASSERT_EQ(rc, 0) << enc;
  write_file(dir_ + "/ids.jsonl", enc);
  const std::string dec = run("detokenize " + dir_ + "/m.gguf --jsonl " + dir_ + "/ids.jsonl", &rc);
  ASSERT_EQ(rc, 0) << dec;
  std::istringstream lines(dec);
  std::string l1, l2;
  std::getline(lines, l1);
  std::getline(lines, l2);
  EXPECT_EQ(nlohmann::json::parse(l1), nlohmann::json::parse(R"({"id":7,"text":"Hello <think>world</think> 123"})"));
  EXPECT_EQ(nlohmann::json::parse(l2), nlohmann::json::parse(R"({"id":"b","text":""})"));
  // --json prints one array; <think> is one token.
  const auto ids = nlohmann::json::parse(run("tokenize " + dir_ + "/m.gguf --json --text '<think>'", &rc));
  EXPECT_EQ(ids.size(), 1u);
  expect_refused("tokenize " + dir_ + "/m.gguf --jsonl " + dir_ + "/ids.jsonl",  // no "text" field
                 dir_ + "/ids.jsonl:1: expected an object with 'text'");
}

TEST_F(Cli, TemplateUsesBuiltinDeepseekFormat) {
  write_file(dir_ + "/msgs.json", R"([{"role":"system","content":"S"},{"role":"user","content":"hi"}])");
  int rc;
  const std::string out =
      run("template " + dir_ + "/m.gguf --messages " + dir_ + "/msgs.json --add-generation-prompt", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(out, "<｜begin▁of▁sentence｜>S<｜User｜>hi<｜Assistant｜><think>\n");
  write_file(dir_ + "/bad.json", "{not json");
  expect_refused("template " + dir_ + "/m.gguf --messages " + dir_ + "/bad.json",
                 dir_ + "/bad.json: --messages is not valid JSON");
}

TEST_F(Cli, ChatAnswersEachTurnAndResets) {
  int rc;
  const std::string out = run("chat " + dir_ + "/m.gguf -n 6 --temp 0 -t 1 < /dev/null", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "");  // no input: no turns
  write_file(dir_ + "/one.txt", "Hello\n");
  const std::string first = run("chat " + dir_ + "/m.gguf -n 6 --temp 0 -t 1 < " + dir_ + "/one.txt", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_GT(first.size(), 1u);
  write_file(dir_ + "/turns.txt", "Hello\nAgain\n/reset\nHello\n/exit\nnever read\n");
  const std::string chat = run("chat " + dir_ + "/m.gguf -n 6 --temp 0 -t 1 < " + dir_ + "/turns.txt", &rc);
  ASSERT_EQ(rc, 0);
  // Greedy: the first reply, a second one, and after /reset the first again.
  ASSERT_GT(chat.size(), 2 * first.size());
  EXPECT_EQ(chat.substr(0, first.size()), first);
  EXPECT_EQ(chat.substr(chat.size() - first.size()), first);
}

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

TEST(Utf8, CompletePrefixHoldsBackUnfinishedCharacters) {
  EXPECT_EQ(utf8_complete_prefix("abc"), 3u);
  EXPECT_EQ(utf8_complete_prefix("a\xe4\xbd"), 1u);               // 你 cut after two of three bytes
  EXPECT_EQ(utf8_complete_prefix("a\xe4\xbd\xa0"), 4u);           // whole
  EXPECT_EQ(utf8_complete_prefix("\xf0\x9f\x98"), 0u);            // 😀 cut
  EXPECT_EQ(utf8_complete_prefix("x\xf0\x9f\x98\x80y\xc3"), 6u);  // é cut at the end
}

// Streamed text is handed out in whole characters: no chunk boundary falls inside a valid
// multi-byte UTF-8 character. (A random model also emits invalid byte runs; those go out as they
// come.) Sampling a random model at a high temperature produces plenty of byte tokens.
TEST_F(Cli, GenerationStreamsWholeCharacters) {
  auto m = load_model(dir_ + "/m.gguf");
  Vocab v(*m->file);
  Session s(*m, 256, 1, KvType::F16);
  GenerateParams p;
  p.n_predict = 200;
  p.sampling.temp = 2.0f;
  p.sampling.top_k = 0;
  p.sampling.top_p = 1.0f;
  p.sampling.min_p = 0.0f;
  p.sampling.seed = 5;
  std::string all;
  std::vector<size_t> cuts;
  const auto r = generate(s, v, v.encode("Hello", true), p, [&](const std::string& t) {
    all += t;
    cuts.push_back(all.size());
  });
  ASSERT_GT(r.tokens.size(), 50u);
  std::vector<bool> inside(all.size() + 1, false);  // position splits a valid character
  size_t valid_multibyte = 0;
  for (size_t i = 0; i < all.size();) {
    const unsigned char c = all[i];
    const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    bool ok = n > 1 && i + n <= all.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (uint8_t(all[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      ++i;
      continue;
    }
    ++valid_multibyte;
    for (size_t k = 1; k < n; ++k) inside[i + k] = true;
    i += n;
  }
  EXPECT_GT(valid_multibyte, 0u) << "the stream had no multi-byte characters to split";
  for (size_t cut : cuts) EXPECT_FALSE(inside[cut]) << "chunk boundary at byte " << cut << " splits a character";
}

}  // namespace
}  // namespace dawn
