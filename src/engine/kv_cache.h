// Key/value cache for up to n_seq sequences of n_ctx positions each. Layers are
// stored separately so a process can later hold only the layers it runs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace dawn {

// "f32", "f16" or "q8_0"; throws Error naming `what` otherwise.
KvType parse_kv_type(const std::string& s, const std::string& what);

class KvCache {
 public:
  KvCache(const Model& m, int n_ctx, int n_seq = 1, KvType type = KvType::F32);
  int n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  KvType type() const { return type_; }
  size_t bytes() const;
  // Bytes one position of one sequence takes over all layers.
  size_t bytes_per_token() const;
  // Per-layer rows of sequence `seq`, as the forward pass takes them.
  std::vector<LayerKv> view(int seq);

 private:
  int n_ctx_, n_seq_;
  KvType type_;
  int64_t k_dim_, v_dim_;
  // [layer][seq][pos][dim] elements of type_ (kv_bytes per row); left unwritten (and so unmapped
  // by the OS) until a position is stored, so a long context costs only what it uses.
  std::vector<std::unique_ptr<uint8_t[]>> k_, v_;
  size_t k_bytes_ = 0, v_bytes_ = 0;  // per layer
};

}  // namespace dawn
