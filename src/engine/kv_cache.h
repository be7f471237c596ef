// Key/value cache for up to n_seq sequences of n_ctx positions each. Layers are
// stored separately so a process can later hold only the layers it runs.
#pragma once
#include <vector>

#include "models/model.h"

namespace dawn {

class KvCache {
 public:
  KvCache(const Model& m, int n_ctx, int n_seq = 1);
  int n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  size_t bytes() const;
  // Per-layer rows of sequence `seq`, as the forward pass takes them.
  std::vector<LayerKv> view(int seq);

 private:
  int n_ctx_, n_seq_;
  int64_t k_dim_, v_dim_;
  std::vector<std::vector<float>> k_, v_;  // [layer][seq][pos][dim]
};

}  // namespace dawn
