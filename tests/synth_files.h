// Synthetic model files for the tests: each (preset, seed, layers, MTP layers) written once per test
// process into one temporary folder, removed at exit.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "models/synth.h"

namespace dawn {

// n_layer 0: the preset's.
inline std::string synth_test_file(const std::string& preset, uint64_t seed, int n_nextn = 0, int n_layer = 0) {
  static std::map<std::string, std::string> made;
  const std::string key = preset + "-s" + std::to_string(seed) + "-l" + std::to_string(n_layer) + "-n" + std::to_string(n_nextn);
  if (made.count(key)) return made[key];
  static const std::string dir = [] {
    char tmpl[] = "/tmp/dawn-test-models-XXXXXX";
    static std::string d = mkdtemp(tmpl);
    std::atexit([] { std::filesystem::remove_all(d); });
    return d;
  }();
  SynthConfig c;
  c.seed = seed;
  EXPECT_TRUE(synth_preset(preset, &c)) << preset;
  if (n_layer > 0) c.n_layer = n_layer;
  c.n_nextn = n_nextn;
  const std::string path = dir + "/" + key + ".gguf";
  synth_model(c, path);
  return made[key] = path;
}

}  // namespace dawn
