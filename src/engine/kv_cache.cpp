#include "engine/kv_cache.h"

namespace dawn {

KvCache::KvCache(const Model& m, int n_ctx, int n_seq)
    : n_ctx_(n_ctx), n_seq_(n_seq), k_dim_(m.kv_k_dim()), v_dim_(m.kv_v_dim()) {
  const size_t per = size_t(n_seq) * size_t(n_ctx);
  k_.resize(m.hp.n_layer);
  v_.resize(m.hp.n_layer);
  for (int l = 0; l < m.hp.n_layer; ++l) {
    k_[l].assign(per * size_t(k_dim_), 0.0f);
    v_[l].assign(per * size_t(v_dim_), 0.0f);
  }
}

size_t KvCache::bytes() const {
  size_t n = 0;
  for (size_t l = 0; l < k_.size(); ++l) n += (k_[l].size() + v_[l].size()) * sizeof(float);
  return n;
}

std::vector<LayerKv> KvCache::view(int seq) {
  std::vector<LayerKv> out;
  const size_t base = size_t(seq) * size_t(n_ctx_);
  for (size_t l = 0; l < k_.size(); ++l) {
    out.push_back({k_[l].data() + base * size_t(k_dim_), v_[l].data() + base * size_t(v_dim_), k_dim_, v_dim_});
  }
  return out;
}

}  // namespace dawn
