// dawn synth's per-tensor types (--tensor-type, shared with quantize) and its pooled i-quant
// tensors: the right type per name, the right scale of weights, rows that differ.
#include "models/synth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "formats/gguf.h"
#include "models/tensor_types.h"
#include "util/error.h"

namespace dawn {
namespace {

std::string tmp(const std::string& name) {
  static const std::string dir = [] {
    char t[] = "/tmp/dawn-synth-XXXXXX";
    static std::string d = mkdtemp(t);
    std::atexit([] { std::filesystem::remove_all(d); });
    return d;
  }();
  return dir + "/" + name;
}

TEST(TensorTypes, LastMatchWinsAndBadSpecsNameThemselves) {
  const TensorTypes t({"exps=iq1_s", "ffn_down_exps=Q4_K", "^blk\\.0\\.=q8_0"}, "synth");
  EXPECT_EQ(t.apply("blk.3.ffn_up_exps.weight", DType::F16), DType::IQ1_S);
  EXPECT_EQ(t.apply("blk.3.ffn_down_exps.weight", DType::F16), DType::Q4_K);
  EXPECT_EQ(t.apply("blk.0.ffn_down_exps.weight", DType::F16), DType::Q8_0);
  EXPECT_EQ(t.apply("output.weight", DType::F16), DType::F16);
  for (const char* bad : {"exps", "=q4_k", "exps=", "exps=q9_k", "exps=q8_k", "([=q4_k"}) {
    try {
      TensorTypes({bad}, "synth");
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("synth: ", 0), 0u) << e.what();
    }
  }
}

TEST(Synth, TensorTypesGiveEachMatrixItsType) {
  SynthConfig c;
  ASSERT_TRUE(synth_preset("tiny-deepseek-v3", &c));
  c.dtype = DType::Q4_K;
  c.tensor_types = {"ffn_.*_exps=iq2_xxs", "attn_kv_a_mqa=q6_k", "norm=q8_0"};
  synth_model(c, tmp("mix.gguf"));
  auto f = GgufFile::open(tmp("mix.gguf"));
  EXPECT_EQ(f->find_tensor("blk.1.ffn_gate_exps.weight")->type, DType::IQ2_XXS);
  EXPECT_EQ(f->find_tensor("blk.1.attn_kv_a_mqa.weight")->type, DType::Q6_K);
  EXPECT_EQ(f->find_tensor("blk.1.ffn_gate_shexp.weight")->type, DType::Q4_K);
  EXPECT_EQ(f->find_tensor("blk.1.attn_norm.weight")->type, DType::F32);  // vectors keep theirs
}

// Decoded weights of rows [r0, r1) of a tensor.
std::vector<float> rows_of(const GgufTensor& t, int64_t r0, int64_t r1) {
  const size_t rb = row_bytes(t.type, t.ne[0]);
  std::vector<float> out(static_cast<size_t>((r1 - r0) * t.ne[0]));
  for (int64_t r = r0; r < r1; ++r) {
    traits(t.type).to_float(t.data + size_t(r) * rb, out.data() + (r - r0) * t.ne[0], t.ne[0]);
  }
  return out;
}

TEST(Synth, LargeIQuantTensorsArePooledBlocksOfTheRightScale) {
  SynthConfig c;
  c.arch = Arch::Llama;
  c.n_layer = 1, c.n_embd = 1024, c.n_ff = 4608, c.n_head = 8, c.n_head_kv = 8, c.head_dim = 128;
  c.dtype = DType::Q8_0;
  c.tensor_types = {"ffn_up=iq2_xs"};  // 1024 x 4608 = 4.7 M weights: pooled
  synth_model(c, tmp("pool.gguf"));
  auto f = GgufFile::open(tmp("pool.gguf"));
  const GgufTensor& t = *f->find_tensor("blk.0.ffn_up.weight");
  ASSERT_EQ(t.type, DType::IQ2_XS);
  // Rows from the start (the pool's own rows are not copied whole) and from the end.
  for (const int64_t r0 : {int64_t(0), t.ne[1] - 64}) {
    const std::vector<float> w = rows_of(t, r0, r0 + 64);
    double s = 0, s2 = 0;
    for (float x : w) s += x, s2 += double(x) * x;
    const double mean = s / double(w.size()), sd = std::sqrt(s2 / double(w.size()) - mean * mean);
    EXPECT_NEAR(sd * std::sqrt(1024.0), 1.0, 0.1) << "rows from " << r0;
    EXPECT_NEAR(mean * std::sqrt(1024.0), 0.0, 0.02) << "rows from " << r0;
    std::set<std::vector<float>> distinct;
    for (int r = 0; r < 64; ++r) distinct.insert(std::vector<float>(w.begin() + r * 1024, w.begin() + (r + 1) * 1024));
    EXPECT_EQ(distinct.size(), 64u);
  }
}

}  // namespace
}  // namespace dawn
