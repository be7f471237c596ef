#include "engine/kv_cache.h"

#include <algorithm>

#include "util/error.h"

namespace dawn {

KvType parse_kv_type(const std::string& s, const std::string& what) {
  if (s == "f32") return KvType::F32;
  if (s == "f16") return KvType::F16;
  throw Error(what + ": unknown KV cache type '" + s + "' (f32 or f16)");
}

KvCache::KvCache(const Model& m, int n_ctx, int n_seq, KvType type)
    : n_ctx_(n_ctx), n_seq_(n_seq), type_(type), k_dim_(m.kv_k_dim()), v_dim_(m.kv_v_dim()) {
  const size_t per = size_t(n_seq) * size_t(n_ctx) * (type == KvType::F16 ? 2 : 4);
  k_bytes_ = per * size_t(k_dim_);
  v_bytes_ = per * size_t(v_dim_);
  for (int l = 0; l < m.hp.n_layer; ++l) {
    k_.emplace_back(new uint8_t[k_bytes_]);
    v_.emplace_back(new uint8_t[std::max<size_t>(v_bytes_, 1)]);
  }
}

size_t KvCache::bytes() const { return k_.size() * (k_bytes_ + v_bytes_); }

size_t KvCache::bytes_per_token() const { return k_.size() * size_t(k_dim_ + v_dim_) * (type_ == KvType::F16 ? 2 : 4); }

std::vector<LayerKv> KvCache::view(int seq) {
  std::vector<LayerKv> out;
  const bool f16 = type_ == KvType::F16;
  const size_t el = f16 ? 2 : 4;
  const size_t base = size_t(seq) * size_t(n_ctx_);
  for (size_t l = 0; l < k_.size(); ++l) {
    out.push_back({{k_[l].get() + base * size_t(k_dim_) * el, k_dim_, f16},
                   {v_[l].get() + base * size_t(v_dim_) * el, v_dim_, f16}});
  }
  return out;
}

}  // namespace dawn
