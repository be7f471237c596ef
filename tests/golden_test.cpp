// dawn against llama.cpp: logits at every position of a 300-token prompt (past
// YaRN's original context) for every variant and weight type, compared with the
// goldens that tools/make_goldens.sh recorded from ../shared/oracle.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/sampler.h"
#include "engine/session.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/x16.h"
#include "models/quantize.h"
#include "models/synth.h"
#include "util/error.h"
#include "util/sha256.h"

#include "golden_cases.h"

namespace dawn {
namespace {

using namespace golden;

// What a KV cache needs of V2-Lite: 27 layers of a 512-value latent and a 64-value rope key.
Model v2_lite_cache_shape() {
  Model m;
  m.hp.arch = Arch::Deepseek2;
  m.hp.n_layer = 27;
  m.hp.kv_lora_rank = 512;
  m.hp.qk_rope = 64;
  return m;
}


class GoldenTest : public ::testing::TestWithParam<Case> {};


TEST_P(GoldenTest, MatchesLlamaCpp) {
  const Case& c = GetParam();
  ASSERT_GE(c.tokens.size(), 300u);
  ASSERT_EQ(c.sha256.size(), 64u) << "the manifest pins no model file for " << c.name;
  const std::vector<float> mapped = eval_case(c);
  ASSERT_FALSE(mapped.empty());
  const int n = int(c.tokens.size()), n_vocab = int(mapped.size() / c.tokens.size());
  const std::vector<float> ref = read_golden(c, mapped.size());
  const Agreement a = compare(ref, mapped.data(), n, n_vocab);
  RecordProperty("mean_kl", std::to_string(a.mean_kl));
  RecordProperty("argmax_agree", std::to_string(a.argmax_agree));
  std::printf("[golden] %-28s llama.cpp vs itself: mean %.3e argmax %.1f%%\n", c.name.c_str(), c.self_kl,
              100 * c.self_agree);
  expect_agreement(c, a, "map");
  // The same prompt a few tokens at a time: the decode kernels and the cache appends.
  const std::vector<float> stepped = eval_case(c, {}, WeightLoad::Map, {}, true);
  expect_agreement(c, compare(ref, stepped.data(), n, n_vocab), "map steps");
  if (is_float_type(c.type)) return;
  // Copied weights (repacked x16 where this CPU has the level GEMM), against the golden and
  // against the mapped run: two kernel families over the same bytes, prefill and decode.
  const std::vector<float> copied = eval_case(c, {}, WeightLoad::Copy);
  expect_agreement(c, compare(ref, copied.data(), n, n_vocab), "copy");
  expect_agreement(c, compare(mapped, copied.data(), n, n_vocab), "copy~map");
  const std::vector<float> copied_steps = eval_case(c, {}, WeightLoad::Copy, {}, true);
  expect_agreement(c, compare(ref, copied_steps.data(), n, n_vocab), "copy steps");
  expect_agreement(c, compare(stepped, copied_steps.data(), n, n_vocab), "copy~map s");
}

INSTANTIATE_TEST_SUITE_P(Oracle, GoldenTest, ::testing::ValuesIn(load_manifest()), [](const auto& info) {
  std::string n = info.param.name;
  for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
});

// The goldens must be able to catch the classic DeepSeek mistakes: each of these must break
// the F32 mean-KL bound a thousandfold (they are not near misses).
TEST(GoldenSensitivity, CatchesDeepSeekMistakes) {
  const Case v3 = v3_f32_case();
  ASSERT_FALSE(v3.name.empty());
  const double tol = bounds_for(v3).mean_kl;
  const std::map<std::string, std::function<void(Model&)>> mistakes = {
      {"yarn mscale ignored", [](Model& m) { m.hp.kq_scale = 1.0f / std::sqrt(float(m.hp.head_dim_k)); }},
      {"rope base wrong", [](Model& m) { m.hp.rope.base = 1e6f; }},
      {"exp_probs_b missing",
       [](Model& m) {
         for (Layer& l : m.layers) l.exp_probs_b = {};
       }},
      {"top-k weights not renormalised", [](Model& m) { m.hp.router.norm_weights = false; }},
  };
  const auto check = [&](const std::string& what, const Agreement& a) {
    std::printf("[sensitivity] %-32s mean KL %.3e  median %.3e  (%.1ex the bound)\n", what.c_str(), a.mean_kl,
                a.median_kl, a.mean_kl / tol);
    EXPECT_GE(a.mean_kl, 1000 * tol) << what;
  };
  for (const auto& [what, tweak] : mistakes) check(what, run_case(v3, tweak));
  // A wrong factor reaches everything derived from it (frequencies, ramp, both mscales), as a
  // misread key would: the same weights with the factor doubled in the file.
  SynthConfig wrong;
  ASSERT_TRUE(synth_preset(v3.preset, &wrong));
  wrong.seed = 1;
  wrong.yarn_factor *= 2;
  const std::string wrong_path = tmp_dir() + "/yarn-factor-doubled.gguf";
  synth_model(wrong, wrong_path);
  check("yarn factor wrong", run_case(v3, {}, WeightLoad::Map, wrong_path));
}

// An F32 weight of the model replaced by a copy with each value passed through `f`.
void replace_values(Weight& w, const std::function<float(float)>& f) {
  static std::vector<std::vector<float>> keep;  // outlives the models of this test binary
  ASSERT_EQ(w.type, DType::F32);
  std::vector<float>& v = keep.emplace_back(size_t(w.rows * w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    const float* p = reinterpret_cast<const float*>(w.row(r));
    for (int64_t c = 0; c < w.cols; ++c) v[size_t(r * w.cols + c)] = f(p[c]);
  }
  w.data = reinterpret_cast<const uint8_t*>(v.data());
  w.row_stride = size_t(w.cols) * 4;
}

// ... with its mantissas rounded to `bits` bits (10 is F16's precision, 7 BF16's), as if one
// product had been done in a narrower type.
void round_mantissa(Weight& w, int bits) {
  const uint32_t drop = 23 - bits;
  replace_values(w, [drop](float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    u = (u + (1u << (drop - 1))) & ~((1u << drop) - 1);  // round half up in magnitude
    std::memcpy(&x, &u, 4);
    return x;
  });
}

// Every tightened bound turns red on a small deliberate error: a norm epsilon 10x off, or one
// norm's weights (or, in F32 files, one projection's) rounded to a narrower float. Each line says
// which bounds of its case the error must break.
TEST(GoldenSensitivity, TightBoundsCatchSmallErrors) {
  const auto eps10 = [](Model& m) { m.hp.rms_eps *= 10; };
  const auto norm_bits = [](int bits) { return [bits](Model& m) { round_mantissa(m.layers[0].attn_norm, bits); }; };
  const auto wo_f16 = [](Model& m) {
    Weight& w = m.layers[0].wo;
    replace_values(w, [](float x) { return fp16_to_f32(f32_to_fp16(x)); });
  };
  struct Mistake {
    const char* case_name;
    const char* what;
    std::function<void(Model&)> tweak;
    std::vector<std::string> must_break;
  };
  const std::vector<Mistake> mistakes = {
      {"tiny-deepseek-v3.f32", "rms epsilon 10x", eps10, {"mean", "median", "max|d|"}},
      {"tiny-qwen2.f32", "rms epsilon 10x", eps10, {"mean", "median", "max|d|"}},
      {"tiny-deepseek-v3.f32", "layer 0 attn_output in F16", wo_f16, {"mean", "median", "max|d|"}},
      {"tiny-qwen2.f32", "layer 0 attn_output in F16", wo_f16, {"mean", "median", "max|d|"}},
      {"tiny-qwen2.f16", "layer 0 attn_norm in BF16", norm_bits(7), {"mean", "median"}},
      {"tiny-qwen3.f16", "rms epsilon 10x", eps10, {"mean", "median"}},
      {"tiny-deepseek-v3.f16", "layer 0 attn_norm to 5 bits", norm_bits(5), {"mean", "median"}},
      {"tiny-qwen2.bf16", "rms epsilon 10x", eps10, {"mean", "median"}},
      {"tiny-qwen3.bf16", "rms epsilon 10x", eps10, {"mean", "median"}},
      {"tiny-deepseek-v3.bf16", "layer 0 attn_norm to 4 bits", norm_bits(4), {"mean", "median"}},
      {"tiny-qwen2.q4_k_m", "layer 0 attn_norm in F16", norm_bits(10), {"mean", "median"}},
      {"tiny-llama3.q6_k", "layer 0 attn_norm in BF16", norm_bits(7), {"mean", "median"}},
      {"tiny-qwen3.q6_k", "rms epsilon 10x", eps10, {"mean", "median"}},
      {"tiny-deepseek-v3.q4_k_m", "layer 0 attn_norm to 2 bits", norm_bits(2), {"mean", "median"}},
  };
  std::map<std::string, Case> cases;
  for (const Case& c : load_manifest()) cases[c.name] = c;
  for (const Mistake& m : mistakes) {
    ASSERT_TRUE(cases.count(m.case_name)) << m.case_name;
    const Case& c = cases[m.case_name];
    const Agreement base = run_case(c), bad = run_case(c, m.tweak);
    std::printf("[sensitivity] %-24s %-28s mean %.3e (was %.3e) median %.3e (was %.3e) max|d| %.3e (was %.3e)\n",
                m.case_name, m.what, bad.mean_kl, base.mean_kl, bad.median_kl, base.median_kl, bad.max_abs,
                base.max_abs);
    EXPECT_TRUE(broken(bounds_for(c), base).empty()) << m.case_name;
    const std::vector<std::string> got = broken(bounds_for(c), bad);
    for (const std::string& b : m.must_break)
      EXPECT_NE(std::find(got.begin(), got.end(), b), got.end()) << m.case_name << " with " << m.what << ": " << b
                                                                  << " bound not broken";
  }
}

// The tier runs (tests/CMakeLists.txt) really run on the tier they name: DAWN_SIMD caps it.
TEST(SimdTier, EnvironmentCapsTheTier) {
  const char* env = std::getenv("DAWN_SIMD");
  const std::string want = env ? env : "";
  std::printf("[tier] DAWN_SIMD=%s: running %s\n", want.c_str(), tier_name());
  if (want == "scalar" || want == "0") {
    EXPECT_EQ(cpu_isa(), Isa::Scalar);
  } else if (want == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    EXPECT_EQ(cpu_isa(), Isa::Avx2);
  }
}

// The pin holds: a manifest hash that the rebuilt file does not have is refused, naming the
// generator whose bytes changed (synth for the F32 file, quantize for a file made from it).
Case pinned_case;
TEST(GoldenPins, AFileOtherThanTheOneLlamaCppSawIsRefused) {
  pinned_case = v3_f32_case();
  ASSERT_EQ(pinned_model(pinned_case), model_for(pinned_case.preset, "f32"));
  pinned_case.sha256[0] = pinned_case.sha256[0] == '0' ? '1' : '0';
  EXPECT_NONFATAL_FAILURE(pinned_model(pinned_case), "dawn synth writes different bytes now");
  pinned_case = case_named("tiny-deepseek-v3.q4_k_m");
  pinned_case.sha256[0] = pinned_case.sha256[0] == '0' ? '1' : '0';
  EXPECT_NONFATAL_FAILURE(pinned_model(pinned_case), "dawn quantize q4_k_m writes different bytes now");
}

// Greedy decoding one token at a time through the KV cache, against the oracle's
// `generate` on the same F32 model and prompt (tools/make_goldens.sh).
TEST(GoldenGenerate, GreedyContinuationsMatchLlamaCpp) {
  std::ifstream in(std::string(DAWN_TEST_DATA) + "/goldens/generate.txt");
  std::string line;
  int n_cases = 0;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string preset, prompt_s, gen_s;
    ss >> preset >> prompt_s >> gen_s;
    const std::vector<int32_t> prompt = parse_ids(prompt_s), want = parse_ids(gen_s);
    ASSERT_EQ(want.size(), 64u) << preset;
    auto m = load_model(model_for(preset, "f32"));
    Session s(*m, int(prompt.size() + want.size()), 2);
    SamplerParams sp;
    sp.temp = 0;
    Sampler sampler(sp);
    std::vector<int32_t> history = prompt, got;
    const float* logits = s.eval(prompt.data(), int(prompt.size()));
    for (size_t i = 0; i < want.size(); ++i) {
      const int32_t t = sampler.sample(logits, m->hp.n_vocab, history);
      got.push_back(t);
      history.push_back(t);
      logits = s.eval(&t, 1);
    }
    EXPECT_EQ(got, want) << preset;
    ++n_cases;
  }
  EXPECT_EQ(n_cases, 6);
}

// The f16 KV cache (the CLI default) stays within F16 rounding of the exact one,
// and takes half the bytes: for DeepSeek MLA only the latent and the rope key.
// The repacked cases above really ran on x16 weights: a copied file has its Q4_K, Q5_0 and Q8_0
// matrices repacked (where the level GEMM runs), a mapped one is read as it is.
TEST(Repack, CopiedMatricesAreRepackedMappedOnesAreNot) {
  if (!level_gemm_available(DType::Q4_K)) GTEST_SKIP() << "repacking needs the level GEMM";
  LoadOptions copy;
  copy.load = WeightLoad::Copy;
  const std::string path = model_for("tiny-deepseek-v2-lite", "q4_k_m");
  auto copied = load_model(path, copy), mapped = load_model(path);
  int repacked = 0, eligible = 0;
  for (size_t l = 0; l < copied->layers.size(); ++l) {
    for (auto member : {&Layer::wq, &Layer::wkv_a, &Layer::wk_b, &Layer::wv_b, &Layer::wo, &Layer::gate_exps,
                        &Layer::up_exps, &Layer::down_exps, &Layer::gate_shexp, &Layer::gate}) {
      const Weight& w = copied->layers[l].*member;
      eligible += x16_supported(w.type);
      repacked += w.x16;
      EXPECT_EQ(w.x16, x16_supported(w.type)) << "layer " << l << " " << type_name(w.type);
      EXPECT_FALSE((mapped->layers[l].*member).x16);
    }
  }
  EXPECT_GT(eligible, 10);
  EXPECT_EQ(repacked, eligible);
  EXPECT_FALSE(copied->tok_embd.x16);
}

TEST(KvCacheF16, CloseToF32AndHalfTheBytes) {
  const Case v3 = v3_f32_case();
  for (const std::string preset : {"tiny-deepseek-v3", "tiny-qwen3"}) {
    Case c = v3;
    auto m = load_model(model_for(preset, "f32"));
    const int n = int(c.tokens.size());
    Session exact(*m, n, 2, KvType::F32), half(*m, n, 2, KvType::F16);
    const float* a = exact.eval(c.tokens.data(), n, true);
    const std::vector<float> ref(a, a + size_t(n) * m->hp.n_vocab);
    const Agreement g = compare(ref, half.eval(c.tokens.data(), n, true), n, m->hp.n_vocab);
    std::printf("[kv f16] %-20s mean KL %.3e  median %.3e  argmax %.1f%%\n", preset.c_str(), g.mean_kl, g.median_kl,
                100 * g.argmax_agree);
    // 4x the worst measured (deepseek 4.5e-9 / 3.8e-9, qwen3 4.6e-8 / 4.2e-8, on every tier).
    EXPECT_LE(g.mean_kl, 2e-7) << preset;
    EXPECT_LE(g.median_kl, 2e-7) << preset;
    EXPECT_GT(g.median_kl, 0) << preset << ": an f16 cache that changes nothing is not f16";
    // The bounds reject a cache one step coarser: q8_0 in f16's place.
    if (preset == "tiny-qwen3") {  // (the deepseek preset's 80-value latent rows have no q8_0 form)
      Session coarse(*m, n, 2, KvType::Q8_0);
      const Agreement q = compare(ref, coarse.eval(c.tokens.data(), n, true), n, m->hp.n_vocab);
      EXPECT_GT(q.mean_kl, 2e-7) << preset;
      EXPECT_GT(q.median_kl, 2e-7) << preset;
    }
    EXPECT_EQ(half.cache().bytes_per_token() * 2, exact.cache().bytes_per_token());
  }
  // V2-Lite: 27 layers x (512 latent + 64 rope) x 2 bytes per token.
  const Model lite = v2_lite_cache_shape();
  EXPECT_EQ(KvCache(lite, 16, 1, KvType::F16).bytes_per_token(), size_t(27 * 576 * 2));
}

// A q8_0 cache (34 bytes per 32 values): close to f32 over a whole prompt, and refused with an
// error naming the option for rows that are not in blocks of 32.
TEST(KvCacheQ8_0, CloseToF32AndBlocksOf32) {
  const Case v3 = v3_f32_case();
  // The tiny deepseek presets' latent rows are 64 + 16 values; this one's are 64 + 32, as V2/V3's
  // 512 + 64 are in blocks of 32.
  SynthConfig mla;
  ASSERT_TRUE(synth_preset("tiny-deepseek-v3", &mla));
  mla.seed = 1;
  mla.qk_rope = 32;
  const std::string mla_path = tmp_dir() + "/deepseek-v3-rope32.gguf";
  synth_model(mla, mla_path);
  for (const std::string& path : {mla_path, model_for("tiny-qwen3", "f32")}) {
    auto m = load_model(path);
    const std::string preset = std::filesystem::path(path).stem().string();
    const int n = int(v3.tokens.size());
    Session exact(*m, n, 2, KvType::F32), q8(*m, n, 2, KvType::Q8_0);
    const float* a = exact.eval(v3.tokens.data(), n, true);
    const std::vector<float> ref(a, a + size_t(n) * m->hp.n_vocab);
    const Agreement g = compare(ref, q8.eval(v3.tokens.data(), n, true), n, m->hp.n_vocab);
    std::printf("[kv q8_0] %-20s mean KL %.3e  median %.3e  argmax %.1f%%\n", preset.c_str(), g.mean_kl, g.median_kl,
                100 * g.argmax_agree);
    // 3-5x the worst measured (MLA 2.1e-5 / 2.6e-6, qwen3 2.9e-5 / 2.5e-5, on every tier).
    const double median_bound = preset == "tiny-qwen3" ? 1e-4 : 1e-5;
    EXPECT_LE(g.mean_kl, 1e-4) << preset;
    EXPECT_LE(g.median_kl, median_bound) << preset;
    EXPECT_GT(g.median_kl, 0) << preset << ": a q8_0 cache that changes nothing is not q8_0";
    // ... and turn red when one more small error joins the cache's own: layer 0's attn_norm to 3 bits.
    auto bad = load_model(path);
    round_mantissa(bad->layers[0].attn_norm, 3);
    Session q8_bad(*bad, n, 2, KvType::Q8_0);
    const Agreement e = compare(ref, q8_bad.eval(v3.tokens.data(), n, true), n, m->hp.n_vocab);
    std::printf("[kv q8_0] %-20s + attn_norm to 3 bits: mean KL %.3e  median %.3e\n", preset.c_str(), e.mean_kl,
                e.median_kl);
    EXPECT_GT(e.mean_kl, 1e-4) << preset;
    EXPECT_GT(e.median_kl, median_bound) << preset;
    EXPECT_EQ(q8.cache().bytes_per_token() * 32, exact.cache().bytes_per_token() / 4 * 34);
  }
  const Model lite = v2_lite_cache_shape();
  EXPECT_EQ(KvCache(lite, 16, 1, KvType::Q8_0).bytes_per_token(), size_t(27 * 18 * 34));
  Model odd;
  odd.hp.arch = Arch::Llama;
  odd.hp.n_layer = 1;
  odd.hp.n_head_kv = 2;
  odd.hp.head_dim_k = odd.hp.head_dim_v = 40;
  try {
    KvCache c(odd, 16, 1, KvType::Q8_0);
    ADD_FAILURE() << "a q8_0 cache over 40-value heads was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q8_0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dawn
