#include "engine/kv_cache.h"

#include <algorithm>

#include "formats/gguf.h"
#include "util/error.h"

namespace dawn {

KvType parse_kv_type(const std::string& s, const std::string& what) {
  if (s == "f32") return KvType::F32;
  if (s == "f16") return KvType::F16;
  if (s == "q8_0") return KvType::Q8_0;
  throw Error(what + ": unknown KV cache type '" + s + "' (f32, f16 or q8_0)");
}

KvCache::KvCache(const Model& m, int n_ctx, int n_seq, KvType type)
    : n_ctx_(n_ctx), n_seq_(n_seq), type_(type), k_dim_(m.kv_k_dim()), v_dim_(m.kv_v_dim()) {
  // Every slice the forward pass takes (a head, MLA's rope part) starts at a multiple of these.
  if (type == KvType::Q8_0 && (k_dim_ % 32 != 0 || v_dim_ % 32 != 0 || m.kv_slice_align() % 32 != 0)) {
    const std::string where = m.file ? m.file->path() + ": " : std::string();
    throw Error(where + "--kv-type q8_0 needs cache rows in blocks of 32 values; this model's rows are " +
                std::to_string(k_dim_ + v_dim_) + " values read in slices of " + std::to_string(m.kv_slice_align()) +
                " (use f16 or f32)");
  }
  const size_t per = size_t(n_seq) * size_t(n_ctx);
  k_bytes_ = per * kv_bytes(type, k_dim_);
  v_bytes_ = per * kv_bytes(type, v_dim_);
  for (int l = 0; l < m.hp.n_layer; ++l) {
    k_.emplace_back(new uint8_t[k_bytes_]);
    v_.emplace_back(new uint8_t[std::max<size_t>(v_bytes_, 1)]);
  }
}

size_t KvCache::bytes() const { return k_.size() * (k_bytes_ + v_bytes_); }

size_t KvCache::bytes_per_token() const { return k_.size() * (kv_bytes(type_, k_dim_) + kv_bytes(type_, v_dim_)); }

std::vector<LayerKv> KvCache::view(int seq) {
  std::vector<LayerKv> out;
  const size_t base = size_t(seq) * size_t(n_ctx_);
  for (size_t l = 0; l < k_.size(); ++l) {
    out.push_back({{k_[l].get() + base * kv_bytes(type_, k_dim_), k_dim_, type_},
                   {v_[l].get() + base * kv_bytes(type_, v_dim_), v_dim_, type_}});
  }
  return out;
}

}  // namespace dawn
