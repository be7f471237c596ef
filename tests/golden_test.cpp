// dawn against llama.cpp: logits at every position of a 300-token prompt (past
// YaRN's original context) for every variant and weight type, compared with the
// goldens that tools/make_goldens.sh recorded from ../shared/oracle.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/sampler.h"
#include "engine/session.h"
#include "kernels/x16.h"
#include "models/quantize.h"
#include "models/synth.h"
#include "util/error.h"

namespace dawn {
namespace {

struct Case {
  std::string name, preset, type;
  std::vector<int32_t> tokens;
  // llama.cpp against itself on this case (batch of 1 vs one batch): mean KL and
  // argmax agreement. Negative when the manifest does not say.
  double self_kl = -1, self_agree = -1;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> out;
  std::istringstream ts(s);
  std::string t;
  while (std::getline(ts, t, ',')) out.push_back(std::stoi(t));
  return out;
}

std::vector<Case> load_manifest() {
  std::vector<Case> cases;
  std::ifstream in(std::string(DAWN_TEST_DATA) + "/goldens/manifest.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    Case c;
    std::string toks;
    ss >> c.name >> c.preset >> c.type >> toks;
    if (!(ss >> c.self_kl >> c.self_agree)) c.self_kl = c.self_agree = -1;
    c.tokens = parse_ids(toks);
    cases.push_back(c);
  }
  return cases;
}

std::string tmp_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/dawn-golden-XXXXXX";
    static std::string d = mkdtemp(tmpl);
    std::atexit([] { std::filesystem::remove_all(d); });
    return d;
  }();
  return dir;
}

// The model a case runs on, made once per (preset, type) the way the script made it.
std::string model_for(const std::string& preset, const std::string& type) {
  static std::map<std::string, std::string> made;
  const std::string key = preset + "." + type;
  if (made.count(key)) return made[key];
  const std::string base = tmp_dir() + "/" + preset + ".gguf";
  if (!made.count(preset)) {
    SynthConfig c;
    c.seed = 1;
    EXPECT_TRUE(synth_preset(preset, &c));
    synth_model(c, base);
    made[preset] = base;
  }
  std::string path = base;
  if (type != "f32") {
    path = tmp_dir() + "/" + key + ".gguf";
    quantize_model(base, path, type);
  }
  return made[key] = path;
}

struct Agreement {
  double mean_kl = 0;
  double median_kl = 0;
  double argmax_agree = 0;
};

std::vector<double> log_softmax(const float* x, int n) {
  double max = x[0];
  for (int i = 1; i < n; ++i) max = std::max(max, double(x[i]));
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(double(x[i]) - max);
  const double lse = max + std::log(sum);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) out[i] = double(x[i]) - lse;
  return out;
}

// KL(reference || ours) averaged over positions, and the share of equal argmaxes.
Agreement compare(const std::vector<float>& ref, const float* ours, int n_pos, int n_vocab) {
  Agreement a;
  std::vector<double> kls;
  int same = 0;
  for (int p = 0; p < n_pos; ++p) {
    const float* r = ref.data() + size_t(p) * n_vocab;
    const float* o = ours + size_t(p) * n_vocab;
    const auto lr = log_softmax(r, n_vocab), lo = log_softmax(o, n_vocab);
    double kl = 0;
    for (int i = 0; i < n_vocab; ++i) kl += std::exp(lr[i]) * (lr[i] - lo[i]);
    a.mean_kl += kl / n_pos;
    kls.push_back(kl);
    same += std::max_element(r, r + n_vocab) - r == std::max_element(o, o + n_vocab) - o;
  }
  a.argmax_agree = double(same) / n_pos;  // one division: 297 / 300 is exactly the 0.99 it is compared with
  std::nth_element(kls.begin(), kls.begin() + n_pos / 2, kls.end());
  a.median_kl = kls[n_pos / 2];
  return a;
}

std::vector<float> read_golden(const std::string& name, size_t n) {
  std::ifstream in(std::string(DAWN_TEST_DATA) + "/goldens/" + name + ".bin", std::ios::binary);
  std::vector<float> v(n);
  in.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * sizeof(float)));
  EXPECT_TRUE(in.good()) << "golden " << name << " is missing or short";
  return v;
}

Agreement run_case(const Case& c, const std::function<void(Model&)>& tweak = {}, WeightLoad load = WeightLoad::Map,
                   const std::string& path = {}) {
  LoadOptions opts;
  opts.load = load;
  auto m = load_model(path.empty() ? model_for(c.preset, c.type) : path, opts);
  if (tweak) tweak(*m);
  Session s(*m, int(c.tokens.size()), 2);
  const float* logits = s.eval(c.tokens.data(), int(c.tokens.size()), true);
  const auto ref = read_golden(c.name, c.tokens.size() * size_t(m->hp.n_vocab));
  return compare(ref, logits, int(c.tokens.size()), m->hp.n_vocab);
}

// The case the sensitivity and cache tests run on (its prompt, and its F32 golden).
Case v3_f32_case() {
  for (const Case& c : load_manifest()) {
    if (c.name == "tiny-deepseek-v3.f32") return c;
  }
  ADD_FAILURE() << "the manifest has no tiny-deepseek-v3.f32";
  return {};
}

// What a KV cache needs of V2-Lite: 27 layers of a 512-value latent and a 64-value rope key.
Model v2_lite_cache_shape() {
  Model m;
  m.hp.arch = Arch::Deepseek2;
  m.hp.n_layer = 27;
  m.hp.kv_lora_rank = 512;
  m.hp.qk_rope = 64;
  return m;
}

bool is_float_type(const std::string& t) { return t == "f32" || t == "f16" || t == "bf16"; }

class GoldenTest : public ::testing::TestWithParam<Case> {};

void expect_agreement(const Case& c, const Agreement& a) {
  // Issue #2's tolerances: F32/F16/BF16 mean KL <= 1e-5 and argmax >= 99 %; quantized
  // KL <= 1e-3 and argmax >= 95 %.
  const double tol_kl = is_float_type(c.type) ? 1e-5 : 1e-3;
  const double tol_agree = is_float_type(c.type) ? 0.99 : 0.95;
  EXPECT_LE(a.median_kl, tol_kl);
  EXPECT_LE(a.mean_kl, tol_kl);
  EXPECT_GE(a.argmax_agree, tol_agree);
}

TEST_P(GoldenTest, MatchesLlamaCpp) {
  const Case& c = GetParam();
  ASSERT_GE(c.tokens.size(), 300u);
  const Agreement a = run_case(c);
  RecordProperty("mean_kl", std::to_string(a.mean_kl));
  RecordProperty("argmax_agree", std::to_string(a.argmax_agree));
  std::printf("[golden] %-32s mean KL %.3e  median %.3e  argmax %.1f%%  (llama.cpp vs itself: %.3e, %.1f%%)\n",
              c.name.c_str(), a.mean_kl, a.median_kl, 100 * a.argmax_agree, c.self_kl, 100 * c.self_agree);
  expect_agreement(c, a);
  if (c.type == "q4_k_m" || c.type == "q6_k" || c.type == "q8_0") {  // again with the weights repacked (x16)
    const Agreement r = run_case(c, {}, WeightLoad::Copy);
    std::printf("[golden] %-32s repacked: mean KL %.3e  argmax %.1f%%\n", c.name.c_str(), r.mean_kl,
                100 * r.argmax_agree);
    expect_agreement(c, r);
  }
}

INSTANTIATE_TEST_SUITE_P(Oracle, GoldenTest, ::testing::ValuesIn(load_manifest()), [](const auto& info) {
  std::string n = info.param.name;
  for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
});

// The goldens must be able to catch the classic DeepSeek mistakes: each of these
// must raise the mean KL at least 100x above the F32 tolerance.
TEST(GoldenSensitivity, CatchesDeepSeekMistakes) {
  const Case v3 = v3_f32_case();
  ASSERT_FALSE(v3.name.empty());
  const double tol = 1e-5;
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
    std::printf("[sensitivity] %-32s mean KL %.3e  median %.3e\n", what.c_str(), a.mean_kl, a.median_kl);
    EXPECT_GE(a.mean_kl, 100 * tol) << what;
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
    EXPECT_LE(g.median_kl, 1e-4) << preset;
    EXPECT_GT(g.median_kl, 0) << preset << ": an f16 cache that changes nothing is not f16";
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
    EXPECT_LE(g.median_kl, 1e-3) << preset;
    EXPECT_GT(g.median_kl, 0) << preset << ": a q8_0 cache that changes nothing is not q8_0";
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
