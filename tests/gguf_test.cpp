// GGUF round trips and hostile files: each broken file must give exactly one
// clear error line naming the file and the field, and a non-zero exit from the CLI.
#include "formats/gguf.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "util/error.h"

namespace dawn {
namespace {

std::string tmp_prefix() { return "dawn-gguf-test-" + std::to_string(getpid()) + "-"; }
std::string tmp_path(const std::string& name) { return "/tmp/" + tmp_prefix() + name; }

// Removes this process's scratch files when the test program ends.
class RemoveTmpFiles : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/tmp", ec))
      if (e.path().filename().string().rfind(tmp_prefix(), 0) == 0) std::filesystem::remove(e.path(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kRemoveTmp = ::testing::AddGlobalTestEnvironment(new RemoveTmpFiles);

std::vector<uint8_t> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_all(const std::string& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// A small valid file: a few keys of every kind and two tensors.
std::string make_valid() {
  GgufWriter w;
  w.set_str("general.architecture", "llama");
  w.set_u32("llama.block_count", 1);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_bool("flag", true);
  w.set_str_array("names", {"a", "bb", "ccc"});
  w.set_i32_array("ints", {1, -2, 3});
  w.set_f32_array("floats", {0.5f, 1.5f});
  w.set_u64("big", 1ull << 40);
  w.add_tensor("a.weight", DType::F32, {32, 2}, [](uint8_t* d) {
    float* f = reinterpret_cast<float*>(d);
    for (int i = 0; i < 64; ++i) f[i] = float(i) * 0.25f;
  });
  w.add_tensor("b.weight", DType::Q8_0, {64, 3}, [](uint8_t* d) { std::memset(d, 1, 34 * 2 * 3); });
  const std::string p = tmp_path("valid.gguf");
  w.write(p);
  return p;
}

TEST(Gguf, RoundTripsEveryKind) {
  auto f = GgufFile::open(make_valid());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->get_str("general.architecture"), "llama");
  EXPECT_EQ(f->get_u32("llama.block_count"), 1u);
  EXPECT_FLOAT_EQ(f->get_f32("llama.rope.freq_base"), 10000.0f);
  EXPECT_TRUE(f->get_bool("flag"));
  EXPECT_EQ(f->get_str_array("names").size(), 3u);
  EXPECT_EQ(f->get_str_array("names")[2], "ccc");
  EXPECT_EQ(f->get_i32_array("ints"), (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(f->get_f32_array("floats"), (std::vector<float>{0.5f, 1.5f}));
  const GgufTensor& a = f->tensor("a.weight");
  EXPECT_EQ(a.ne[0], 32);
  EXPECT_EQ(a.ne[1], 2);
  EXPECT_EQ(reinterpret_cast<const float*>(a.data)[5], 1.25f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data) % 32, 0u);
  const GgufTensor& b = f->tensor("b.weight");
  EXPECT_EQ(b.type, DType::Q8_0);
  EXPECT_EQ(b.nbytes, 34u * 2 * 3);
}

// The copy into huge pages holds the same bytes at a huge-page-aligned base.
TEST(Gguf, CopyHoldsTheSameBytesAsTheMap) {
  const std::string p = make_valid();
  auto mapped = GgufFile::open(p);
  auto copied = GgufFile::open(p, GgufFile::Residency::Copy);
  EXPECT_EQ(mapped->residency(), GgufFile::Residency::Map);
  EXPECT_EQ(copied->residency(), GgufFile::Residency::Copy);
  ASSERT_EQ(copied->tensors().size(), mapped->tensors().size());
  for (size_t i = 0; i < mapped->tensors().size(); ++i) {
    const GgufTensor &a = mapped->tensors()[i], &b = copied->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_NE(a.data, b.data);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data) % 32, 0u);
  }
  EXPECT_EQ(copied->get_str_array("names")[1], "bb");
}

std::string error_of(const std::string& path, const std::function<void(const GgufFile&)>& use = {},
                     GgufFile::Residency r = GgufFile::Residency::Map) {
  try {
    auto f = GgufFile::open(path, r);
    if (use) use(*f);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Offsets inside the valid file, found by searching for the bytes that follow.
size_t find(const std::vector<uint8_t>& b, const std::string& s, size_t from = 0) {
  auto it = std::search(b.begin() + std::ptrdiff_t(from), b.end(), s.begin(), s.end());
  return size_t(it - b.begin());
}
template <typename T>
void poke(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

struct Hostile {
  const char* name;
  std::function<void(std::vector<uint8_t>&)> mutate;
  const char* expect;  // substring of the error
};

const std::vector<Hostile>& hostile_cases() {
  static const std::vector<Hostile> cases = {
      {"empty", [](auto& b) { b.clear(); }, "empty"},
      {"bad_magic", [](auto& b) { b[0] = 'X'; }, "header.magic"},
      {"version_1", [](auto& b) { poke<uint32_t>(b, 4, 1); }, "header.version"},
      {"version_99", [](auto& b) { poke<uint32_t>(b, 4, 99); }, "header.version"},
      {"truncated_header", [](auto& b) { b.resize(10); }, "truncated"},
      {"huge_n_tensors", [](auto& b) { poke<uint64_t>(b, 8, 1ull << 60); }, "header.n_tensors"},
      {"huge_n_kv", [](auto& b) { poke<uint64_t>(b, 16, 1ull << 60); }, "header.n_kv"},
      {"truncated_in_kv", [](auto& b) { b.resize(find(b, "llama.block_count") + 5); }, "truncated"},
      {"huge_key_length", [](auto& b) { poke<uint64_t>(b, 24, 1ull << 62); }, "truncated"},
      {"unknown_value_type", [](auto& b) { poke<uint32_t>(b, find(b, "llama.block_count") + 17, 77); },
       "unknown value type"},
      {"bad_bool", [](auto& b) { b[find(b, "flag") + 8] = 7; }, "bool"},
      {"nested_array", [](auto& b) { poke<uint32_t>(b, find(b, "names") + 9, 9); }, "nested"},
      {"unknown_array_type", [](auto& b) { poke<uint32_t>(b, find(b, "ints") + 8, 42); }, "unknown array element type"},
      {"huge_array_count", [](auto& b) { poke<uint64_t>(b, find(b, "ints") + 12, 1ull << 61); }, "past the end"},
      {"huge_string_array", [](auto& b) { poke<uint64_t>(b, find(b, "names") + 13, 1ull << 61); }, "cannot fit"},
      {"duplicate_key", [](auto& b) { std::memcpy(b.data() + find(b, "flag"), "ints", 4); }, "duplicate key"},
      {"too_many_dims", [](auto& b) { poke<uint32_t>(b, find(b, "a.weight") + 8, 5); }, "n_dims"},
      {"zero_dims", [](auto& b) { poke<uint32_t>(b, find(b, "a.weight") + 8, 0); }, "n_dims"},
      {"shape_overflow", [](auto& b) { poke<uint64_t>(b, find(b, "a.weight") + 12, 1ull << 62); }, "overflow"},
      {"unknown_tensor_type", [](auto& b) { poke<uint32_t>(b, find(b, "a.weight") + 28, 24); },  // I8: not a weight type
       "unknown or unsupported tensor type"},
      {"row_not_block_multiple", [](auto& b) { poke<uint64_t>(b, find(b, "b.weight") + 12, 40); }, "block size"},
      {"misaligned_offset", [](auto& b) { poke<uint64_t>(b, find(b, "b.weight") + 32, 3); }, "alignment"},
      {"offset_past_end", [](auto& b) { poke<uint64_t>(b, find(b, "b.weight") + 32, 1ull << 40); }, "past the end"},
      {"overlapping_tensors", [](auto& b) { poke<uint64_t>(b, find(b, "b.weight") + 32, 128); }, "overlaps"},
      {"duplicate_tensor", [](auto& b) { b[find(b, "b.weight")] = 'a'; }, "duplicate tensor name"},
      {"truncated_data", [](auto& b) { b.resize(b.size() - 40); }, "past the end"},
      {"empty_tensor_name", [](auto& b) { poke<uint64_t>(b, find(b, "a.weight") - 8, 0); }, "empty tensor name"},
  };
  return cases;
}

class HostileTest : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileTest, OneClearError) {
  const Hostile& h = GetParam();
  auto bytes = read_all(make_valid());
  h.mutate(bytes);
  const std::string p = tmp_path(std::string(h.name) + ".gguf");
  write_all(p, bytes);
  const std::string err = error_of(p);
  ASSERT_FALSE(err.empty()) << h.name << " was accepted";
  EXPECT_NE(err.find(p), std::string::npos) << err;
  EXPECT_NE(err.find(h.expect), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  EXPECT_EQ(error_of(p, {}, GgufFile::Residency::Copy), err);
  // The CLI: one line on stderr, non-zero exit, no crash.
  const std::string cmd = std::string(DAWN_BINARY) + " info " + p + " 2>&1 >/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) out += buf;
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << "crashed: " << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.rfind("dawn: error: ", 0), 0u) << out;
  std::remove(p.c_str());
}

INSTANTIATE_TEST_SUITE_P(Files, HostileTest, ::testing::ValuesIn(hostile_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Gguf, WrongKeyTypeAndMissingKeyAreNamed) {
  const std::string p = make_valid();
  EXPECT_NE(
      error_of(p, [](const GgufFile& f) { f.get_u32("llama.rope.freq_base"); }).find("has type f32, expected u32"),
      std::string::npos);
  EXPECT_NE(error_of(p, [](const GgufFile& f) { f.get_u32("nope"); }).find("key 'nope': required key is missing"),
            std::string::npos);
  EXPECT_NE(error_of(p, [](const GgufFile& f) { f.tensor("c.weight"); })
                .find("tensor 'c.weight': required tensor is missing"),
            std::string::npos);
}

// Random byte flips and truncations: never a crash, only Error or success.
TEST(Gguf, FuzzedFilesNeverCrash) {
  const auto good = read_all(make_valid());
  std::mt19937 rng(12345);
  const std::string p = tmp_path("fuzz.gguf");
  for (int iter = 0; iter < 3000; ++iter) {
    auto b = good;
    const int flips = 1 + int(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % b.size()] = uint8_t(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    write_all(p, b);
    try {
      auto f = GgufFile::open(p);
      for (const GgufTensor& t : f->tensors()) {
        volatile uint8_t sink = t.nbytes ? t.data[t.nbytes - 1] : 0;
        (void)sink;
      }
    } catch (const Error&) {
    }
  }
  std::remove(p.c_str());
}

}  // namespace
}  // namespace dawn
