// Importance matrices (dawn imatrix, dawn quantize --imatrix): per weight tensor the mean square
// of every input column over a text, per expert (or per 3-D slice) separately, as llama.cpp's
// llama-imatrix collects them; read and written in its GGUF format (<name>.in_sum2 and
// <name>.counts, imatrix.* keys) and its legacy .dat format.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dawn {

struct Model;

struct ImatrixEntry {
  int64_t ne0 = 0;              // input columns
  int n_mat = 1;                // 2-D weight: 1; 3-D: one per expert / slice
  std::vector<double> sum2;     // [mat][column]: sum of x^2
  std::vector<double> counts;   // [mat]: rows (tokens) seen
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;
  std::vector<std::string> datasets;
  int chunk_count = 0, chunk_size = 0;

  // Values the quantizer weighs columns by: sum2 / count per matrix (1 where a matrix saw no
  // rows), ne0 * n_mat of them. None when the tensor has no entry.
  std::optional<std::vector<float>> values(const std::string& tensor) const;

  void write_gguf(const std::string& path) const;
  void write_dat(const std::string& path) const;
  // Either format (GGUF by its magic); throws Error naming the file and what is wrong.
  static Imatrix load(const std::string& path);
};

// Runs the model over `tokens` as llama-imatrix does (BOS before the text when bos >= 0, chunks
// of n_ctx each from an empty cache with its first token made BOS) and collects every blk.*
// product's inputs, the MTP layer's included. progress(chunk, n_chunks).
Imatrix collect_imatrix(const Model& m, const std::vector<int32_t>& tokens, int n_ctx, int bos, int max_chunks,
                        int threads, const std::function<void(int, int)>& progress = {});

}  // namespace dawn
