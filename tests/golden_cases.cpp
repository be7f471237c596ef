// The golden cases' shared machinery (golden_cases.h).
#include "golden_cases.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/session.h"
#include "kernels/dispatch.h"
#include "models/quantize.h"
#include "models/synth.h"
#include "util/sha256.h"

namespace dawn::golden {
namespace {

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

// The cases of one manifest: manifest.txt (300 tokens, every position) or long.txt (#24: 2400
// tokens, a stride after the type).
std::vector<Case> load_cases(const std::string& manifest, bool with_stride) {
  std::vector<Case> cases;
  std::ifstream in(std::string(DAWN_TEST_DATA) + "/goldens/" + manifest);
  EXPECT_TRUE(in.good()) << "no golden manifest " << manifest;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    Case c;
    std::string toks;
    ss >> c.name >> c.preset >> c.type;
    if (with_stride) ss >> c.stride;
    ss >> toks;
    if (!(ss >> c.self_kl >> c.self_agree >> c.sha256) || c.stride < 1)
      ADD_FAILURE() << manifest << ": the line of " << c.name << " is short or has no stride";
    c.tokens = parse_ids(toks);
    c.file = c.name + (with_stride ? ".long.bin" : ".bin");
    cases.push_back(c);
  }
  return cases;
}

}  // namespace

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> out;
  std::istringstream ts(s);
  std::string t;
  while (std::getline(ts, t, ',')) out.push_back(std::stoi(t));
  return out;
}

std::vector<Case> load_manifest() { return load_cases("manifest.txt", false); }
std::vector<Case> load_long_manifest() { return load_cases("long.txt", true); }

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
    QuantizeOptions q;
    if (type.rfind("iq", 0) == 0 && type != "iq4_nl" && type != "iq4_xs") {
      // dawn's low-bit i-quant mixes take dawn's importance matrix, kept as tools/make_goldens.sh made it.
      q.imatrix = std::string(DAWN_TEST_DATA) + "/iquants/" + preset + ".dawn-imatrix.gguf";
    }
    quantize_model(base, path, type, {}, q);
  }
  return made[key] = path;
}

// The file a case compares against: rebuilt with today's synth/quantize, and required to be
// byte for byte the file llama.cpp was run on (its sha256 in the manifest). Empty (and a
// failure saying which generator changed) when it is not.
std::string pinned_model(const Case& c) {
  if (c.type.rfind("llama-", 0) == 0) {  // quantized by llama.cpp: the file itself is kept
    const std::string path = std::string(DAWN_TEST_DATA) + "/iquants/" + c.name + ".gguf";
    if (sha256_file(path) == c.sha256) return path;
    ADD_FAILURE() << path << " is not the file llama.cpp was run on (sha256 " << c.sha256 << ")";
    return "";
  }
  const std::string path = model_for(c.preset, c.type);
  const std::string got = sha256_file(path);
  if (got == c.sha256) return path;
  std::string culprit = "dawn synth";
  if (c.type != "f32") {
    std::vector<Case> all = load_manifest();
    for (const Case& l : load_long_manifest()) all.push_back(l);
    for (const Case& base : all) {
      if (base.preset == c.preset && base.type == "f32" && sha256_file(model_for(c.preset, "f32")) == base.sha256)
        culprit = "dawn quantize " + c.type;
    }
  }
  ADD_FAILURE() << c.name << ": the model file rebuilt today (sha256 " << got << ") is not the one llama.cpp saw ("
                << c.sha256 << "): " << culprit
                << " writes different bytes now; regenerate the goldens (tools/make_goldens.sh) if that is intended";
  return "";
}



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
    a.max_kl = std::max(a.max_kl, kl);
    kls.push_back(kl);
    for (int i = 0; i < n_vocab; ++i) a.max_abs = std::max(a.max_abs, std::fabs(double(r[i]) - double(o[i])));
    same += std::max_element(r, r + n_vocab) - r == std::max_element(o, o + n_vocab) - o;
  }
  a.argmax_agree = double(same) / n_pos;  // one division: 297 / 300 is exactly the 0.99 it is compared with
  std::nth_element(kls.begin(), kls.begin() + n_pos / 2, kls.end());
  a.median_kl = kls[n_pos / 2];
  return a;
}

std::vector<float> read_golden(const Case& c, size_t n) {
  std::ifstream in(std::string(DAWN_TEST_DATA) + "/goldens/" + c.file, std::ios::binary);
  std::vector<float> v(n);
  in.read(reinterpret_cast<char*>(v.data()), std::streamsize(n * sizeof(float)));
  EXPECT_TRUE(in.good()) << "golden " << c.file << " is missing or short";
  return v;
}

std::vector<float> strided_rows(const std::vector<float>& all, int n_vocab, int stride) {
  if (stride == 1) return all;
  std::vector<float> out;
  const size_t n_pos = all.size() / size_t(n_vocab);
  for (size_t p = size_t(stride) - 1; p < n_pos; p += size_t(stride))
    out.insert(out.end(), all.begin() + p * n_vocab, all.begin() + (p + 1) * n_vocab);
  return out;
}

// dawn's logits at every position of the case's prompt, on its pinned file (or `path`): the
// whole prompt as one batch (prefill), or with `steps` in pieces of 1, 2, 3, 4, 1, 2, ... tokens
// through the KV cache (the decode kernels run there: 1-4 token products).
std::vector<float> eval_case(const Case& c, const std::function<void(Model&)>& tweak, WeightLoad load,
                             const std::string& path, bool steps) {
  const std::string file = path.empty() ? pinned_model(c) : path;
  if (file.empty()) return {};
  LoadOptions opts;
  opts.load = load;
  auto m = load_model(file, opts);
  if (tweak) tweak(*m);
  const int n = int(c.tokens.size());
  const size_t n_vocab = size_t(m->hp.n_vocab);
  Session s(*m, n, 2);
  if (!steps) {
    const float* logits = s.eval(c.tokens.data(), n, true);
    return std::vector<float>(logits, logits + size_t(n) * n_vocab);
  }
  std::vector<float> out;
  for (int p = 0, k = 0; p < n; ++k) {
    const int len = std::min(1 + k % 4, n - p);
    const float* logits = s.eval(c.tokens.data() + p, len, true);
    out.insert(out.end(), logits, logits + size_t(len) * n_vocab);
    p += len;
  }
  return out;
}

Agreement run_case(const Case& c, const std::function<void(Model&)>& tweak, WeightLoad load, const std::string& path) {
  const std::vector<float> ours = eval_case(c, tweak, load, path);
  if (ours.empty()) return {1e9, 1e9, 1e9, 0, 1e9};
  const int n_vocab = int(ours.size() / c.tokens.size());
  const std::vector<float> kept = strided_rows(ours, n_vocab, c.stride);
  return compare(read_golden(c, kept.size()), kept.data(), int(kept.size() / size_t(n_vocab)), n_vocab);
}

// The case the sensitivity and cache tests run on (its prompt, and its F32 golden).
Case v3_f32_case() {
  for (const Case& c : load_manifest()) {
    if (c.name == "tiny-deepseek-v3.f32") return c;
  }
  ADD_FAILURE() << "the manifest has no tiny-deepseek-v3.f32";
  return {};
}

// A case by name (failing when the manifest has none).
Case case_named(const std::string& name) {
  for (const Case& c : load_manifest()) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "the manifest has no " << name;
  return {};
}

bool is_float_type(const std::string& t) { return t == "f32" || t == "f16" || t == "bf16"; }

const char* tier_name() {
  switch (cpu_isa()) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

// What each kind of case is held to, by weight type and model family. The bounds sit 2-4x above
// the worst value measured over the AVX-512, AVX2 and scalar tiers, prefill and stepwise, mapped
// and copied (the table per case is in issue #17's note). Families differ in how chaotic they
// are: in qwen2/llama3 most positions match llama.cpp to the last bit even when quantized;
// qwen3's q/k norms and deepseek's routing and MLA let one last-bit difference flip an 8-bit
// activation rounding or an expert choice, which the KV cache carries to every later position,
// so their quantized medians sit at that floor (~4-7e-5) whatever the code does. F32 has no
// such floor: its bounds catch a norm epsilon 10x off (GoldenSensitivity).
Family family_of(const std::string& preset) {
  if (preset.find("deepseek") != std::string::npos) return Family::Deepseek;
  return preset == "tiny-qwen3" ? Family::Qwen3 : Family::Dense;
}
Bounds bounds_for(const Case& c) {
  const double any = 1e30;
  const Family f = family_of(c.preset);
  if (c.type == "f32") return {2e-12, 2e-12, 1e-5, 0.99};
  if (c.type == "f16") {
    if (f == Family::Dense) return {5e-8, 5e-8, any, 0.99};
    if (f == Family::Qwen3) return {2.5e-7, 2e-7, any, 0.99};
    return {3e-6, 2e-7, any, 0.99};
  }
  if (c.type == "bf16") {
    if (f == Family::Dense) return {5e-7, 1e-8, any, 0.99};
    if (f == Family::Qwen3) return {6e-6, 6e-6, any, 0.99};
    return {1e-5, 6e-6, any, 0.985};
  }
  // tiny-qwen2-256 (the i-quant files made by llama.cpp, #22): with rows of 256 the stepped runs
  // show the flip carried by the cache too (worst over the tiers: mean 2.4e-5, median 2.6e-5,
  // argmax 98.0 %); the prefill runs stay at ~1e-7.
  if (c.preset == "tiny-qwen2-256") return {1e-4, 1e-4, any, 0.96};
  if (f == Family::Dense) return {2.5e-5, 5e-6, any, 0.98};
  if (f == Family::Qwen3) return {1e-4, 1e-4, any, 0.97};
  return {4e-4, 1.5e-4, any, 0.95};
}

std::vector<std::string> broken(const Bounds& b, const Agreement& a) {
  std::vector<std::string> out;
  if (!(a.mean_kl <= b.mean_kl)) out.push_back("mean");
  if (!(a.median_kl <= b.median_kl)) out.push_back("median");
  if (!(a.max_abs <= b.max_abs)) out.push_back("max|d|");
  if (!(a.argmax_agree >= b.argmax)) out.push_back("argmax");
  return out;
}
void expect_agreement(const Case& c, const Agreement& a, const char* how) {
  const Bounds b = bounds_for(c);
  std::printf("[golden] %-28s %-6s %-10s mean %.3e median %.3e max %.3e argmax %5.1f%% max|d| %.3e\n", c.name.c_str(),
              tier_name(), how, a.mean_kl, a.median_kl, a.max_kl, 100 * a.argmax_agree, a.max_abs);
  EXPECT_LE(a.mean_kl, b.mean_kl) << how;
  EXPECT_LE(a.median_kl, b.median_kl) << how;
  EXPECT_LE(a.max_abs, b.max_abs) << how;
  EXPECT_GE(a.argmax_agree, b.argmax) << how;
}
}  // namespace dawn::golden
