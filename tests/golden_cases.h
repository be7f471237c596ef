// The oracle goldens' cases (tests/data/goldens, made by tools/make_goldens.sh) and what the
// golden tests share: rebuilding a case's pinned model, running dawn on its prompt, comparing
// logits by KL, and the bounds each kind of case is held to.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "models/model.h"

namespace dawn::golden {

struct Case {
  std::string name, preset, type;
  std::vector<int32_t> tokens;
  // llama.cpp against itself on this case (batch of 1 vs one batch): mean KL and
  // argmax agreement. Negative when the manifest does not say.
  double self_kl = -1, self_agree = -1;
  std::string sha256;  // of the model file llama.cpp was run on
  // The golden keeps the oracle's rows at positions stride-1, 2*stride-1, ... (long cases: 8).
  int stride = 1;
  std::string file;  // the golden's name in tests/data/goldens
};

struct Agreement {
  double mean_kl = 0;
  double median_kl = 0;
  double max_kl = 0;
  double argmax_agree = 0;
  double max_abs = 0;  // largest |logit difference| anywhere
};

enum class Family { Dense, Qwen3, Deepseek };
struct Bounds {
  double mean_kl, median_kl, max_abs, argmax;
};

// CTest names carry the parameter's printout: the case's name, not 168 bytes of hex.
void PrintTo(const Case& c, std::ostream* os);

// Token ids written 1,2,3.
std::vector<int32_t> parse_ids(const std::string& s);

std::vector<Case> load_manifest();       // manifest.txt: 300-token prompts, every position
std::vector<Case> load_long_manifest();  // long.txt (#24): 2400-token prompts, strided rows
Case v3_f32_case();                      // the case the sensitivity and cache tests run on
Case case_named(const std::string& name);

std::string tmp_dir();
// The model a case runs on, made once per (preset, type) the way the script made it.
std::string model_for(const std::string& preset, const std::string& type);
// The case's model rebuilt and checked against the manifest's sha256 (empty, with a failure, if not).
std::string pinned_model(const Case& c);

std::vector<float> read_golden(const Case& c, size_t n);
// Every stride-th row of [pos][vocab] logits, as the golden keeps them.
std::vector<float> strided_rows(const std::vector<float>& all, int n_vocab, int stride);
// KL(reference || ours) averaged over positions, and the share of equal argmaxes.
Agreement compare(const std::vector<float>& ref, const float* ours, int n_pos, int n_vocab);
// dawn's logits at every position of the case's prompt: one batch, or with `steps` in pieces of
// 1, 2, 3, 4, 1, 2, ... tokens through the KV cache.
std::vector<float> eval_case(const Case& c, const std::function<void(Model&)>& tweak = {},
                             WeightLoad load = WeightLoad::Map, const std::string& path = {}, bool steps = false);
Agreement run_case(const Case& c, const std::function<void(Model&)>& tweak = {}, WeightLoad load = WeightLoad::Map,
                   const std::string& path = {});

bool is_float_type(const std::string& t);
const char* tier_name();
Family family_of(const std::string& preset);
Bounds bounds_for(const Case& c);
// Every bound that `a` breaks, by name ("mean", "median", "max|d|", "argmax").
std::vector<std::string> broken(const Bounds& b, const Agreement& a);
// Prints the agreement and expects it within the case's bounds.
void expect_agreement(const Case& c, const Agreement& a, const char* how);

}  // namespace dawn::golden
