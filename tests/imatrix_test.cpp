// Importance matrices: dawn's collection against llama-imatrix's file for the same model, text
// and chunking; both file formats round trip; hostile files get a clear error; quantize uses
// them and refuses the low-bit types without one.
#include "models/imatrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "formats/gguf.h"
#include "models/model.h"
#include "models/quantize.h"
#include "models/synth.h"
#include "text/vocab.h"
#include "util/error.h"
#include "util/file.h"

namespace dawn {
namespace {

std::string tmp(const std::string& name) {
  static const std::string dir = [] {
    char t[] = "/tmp/dawn-imatrix-XXXXXX";
    static std::string d = mkdtemp(t);
    std::atexit([] { std::filesystem::remove_all(d); });
    return d;
  }();
  return dir + "/" + name;
}

const std::string& v3_model() {
  static const std::string path = [] {
    SynthConfig c;
    c.seed = 1;
    EXPECT_TRUE(synth_preset("tiny-deepseek-v3", &c));
    synth_model(c, tmp("v3.gguf"));
    return tmp("v3.gguf");
  }();
  return path;
}

// What tools/make_goldens.sh ran llama-imatrix with: heldout-excerpt.txt, -c 128, 32 chunks at most.
Imatrix dawn_imatrix() {
  LoadOptions lo;
  auto m = load_model(v3_model(), lo);
  Vocab vocab(*m->file);
  const auto toks = vocab.encode(read_file(std::string(DAWN_TEST_DATA) + "/heldout-excerpt.txt"), false);
  return collect_imatrix(*m, toks, 128, vocab.add_bos() ? vocab.bos() : -1, 32, 2);
}

TEST(Imatrix, MatchesLlamaImatrix) {
  const Imatrix ours = dawn_imatrix();
  const Imatrix ref = Imatrix::load(std::string(DAWN_TEST_DATA) + "/iquants/tiny-deepseek-v3.llama-imatrix.gguf");
  ASSERT_EQ(ours.chunk_count, ref.chunk_count);
  ASSERT_EQ(ours.entries.size(), ref.entries.size());
  for (const auto& [name, r] : ref.entries) {
    ASSERT_TRUE(ours.entries.count(name)) << name;
    const std::vector<float> a = *ours.values(name);
    const std::vector<float> b = *ref.values(name);
    ASSERT_EQ(a.size(), b.size()) << name;
    const ImatrixEntry& o = ours.entries.at(name);
    if (name.find("_exps.") == std::string::npos) {
      // Dense weights see every token: the same count, and sums within float rounding of two
      // engines' activations (measured worst 0.06 %).
      EXPECT_EQ(o.counts[0], r.counts[0]) << name;
      for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j], b[j], 0.01 * std::fabs(b[j]) + 1e-7) << name << " " << j;
      continue;
    }
    // Experts: the same routing but for near ties (measured: 6 of 49,152 choices moved).
    double total_o = 0, total_r = 0;
    for (int k = 0; k < r.n_mat; ++k) {
      total_o += o.counts[size_t(k)], total_r += r.counts[size_t(k)];
      EXPECT_NEAR(o.counts[size_t(k)], r.counts[size_t(k)], 2.0) << name << " expert " << k;
    }
    EXPECT_EQ(total_o, total_r) << name;
  }
}

TEST(Imatrix, BothFormatsRoundTrip) {
  const Imatrix im = dawn_imatrix();
  im.write_gguf(tmp("a.gguf"));
  im.write_dat(tmp("a.dat"));
  for (const std::string& f : {tmp("a.gguf"), tmp("a.dat")}) {
    const Imatrix back = Imatrix::load(f);
    ASSERT_EQ(back.entries.size(), im.entries.size()) << f;
    for (const auto& [name, e] : im.entries) {
      const std::vector<float> a = *im.values(name);
      const std::optional<std::vector<float>> b = back.values(name);
      ASSERT_TRUE(b.has_value()) << f << " " << name;
      ASSERT_EQ(a.size(), b->size()) << f << " " << name;
      for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR((*b)[j], a[j], 1e-5 * std::fabs(a[j]) + 1e-9) << f << " " << name;
    }
  }
}

void expect_error(const std::string& path, const std::string& part) {
  try {
    Imatrix::load(path);
    ADD_FAILURE() << path << " loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Imatrix, HostileFilesGetAClearError) {
  dawn_imatrix().write_dat(tmp("b.dat"));
  const std::string bytes = read_file(tmp("b.dat"));
  std::ofstream(tmp("short.dat"), std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  expect_error(tmp("short.dat"), "truncated");
  std::ofstream(tmp("huge.dat"), std::ios::binary) << std::string("\xff\xff\xff\x7f", 4);
  expect_error(tmp("huge.dat"), "entry count");
  expect_error(v3_model(), "not an importance matrix");  // a model, not an imatrix
  expect_error(tmp("missing.dat"), "cannot open");
}

TEST(Imatrix, QuantizeUsesItAndLowBitTypesNeedIt) {
  dawn_imatrix().write_gguf(tmp("q.gguf"));
  EXPECT_THROW(quantize_model(v3_model(), tmp("no.gguf"), "iq1_s"), Error);
  QuantizeOptions q;
  q.imatrix = tmp("q.gguf");
  q.tensor_types = {"ffn_down_shexp=q8_0"};
  quantize_model(v3_model(), tmp("iq1_s.gguf"), "iq1_s", {}, q);
  auto f = GgufFile::open(tmp("iq1_s.gguf"));
  EXPECT_EQ(f->find_tensor("blk.1.ffn_gate_exps.weight")->type, DType::IQ1_S);
  EXPECT_EQ(f->find_tensor("blk.1.ffn_down_shexp.weight")->type, DType::Q8_0);  // the override
  EXPECT_EQ(f->find_tensor("output.weight")->type, DType::Q5_K);                  // llama.cpp's rule
  EXPECT_EQ(f->get_u32("general.file_type"), 24u);
  q.tensor_types = {"attn_=nope"};
  EXPECT_THROW(quantize_model(v3_model(), tmp("bad.gguf"), "iq1_s", {}, q), Error);
}

}  // namespace
}  // namespace dawn
