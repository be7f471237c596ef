#include "engine/kv_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "formats/gguf.h"
#include "util/error.h"

namespace dawn {

KvType parse_kv_type(const std::string& s, const std::string& what) {
  if (s == "f32") return KvType::F32;
  if (s == "f16") return KvType::F16;
  if (s == "q8_0") return KvType::Q8_0;
  throw Error(what + ": unknown KV cache type '" + s + "' (f32, f16 or q8_0)");
}

KvCache::KvCache(const Model& m, int n_ctx, int n_seq, KvType type, bool with_mtp)
    : n_ctx_(n_ctx),
      n_seq_(n_seq),
      type_(type),
      k_dim_(m.kv_k_dim()),
      v_dim_(m.kv_v_dim()),
      heads_(std::max(1, m.kv_heads())) {
  if (with_mtp && m.mtp_layers.empty()) {
    throw Error((m.file ? m.file->path() + ": " : std::string()) +
                "no MTP layer to draft with (nextn_predict_layers is " + std::to_string(m.hp.n_nextn) +
                (m.hp.n_nextn > 0 ? ", but the file was converted without the nextn tensors)" : ")"));
  }
  // Every slice the forward pass takes (a head, MLA's rope part) starts at a multiple of these.
  if (type == KvType::Q8_0 && (k_dim_ % 32 != 0 || v_dim_ % 32 != 0 || m.kv_slice_align() % 32 != 0)) {
    const std::string where = m.file ? m.file->path() + ": " : std::string();
    throw Error(where + "--kv-type q8_0 needs cache rows in blocks of 32 values; this model's rows are " +
                std::to_string(k_dim_ + v_dim_) + " values read in slices of " + std::to_string(m.kv_slice_align()) +
                " (use f16 or f32)");
  }
  k_row_ = kv_bytes(type, k_dim_);
  v_row_ = kv_bytes(type, v_dim_);
  k_head_row_ = kv_bytes(type, k_dim_ / heads_);
  v_head_row_ = kv_bytes(type, v_dim_ / heads_);
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const auto round_up = [page](size_t n) { return (n + page - 1) / page * page; };
  k_seq_ = round_up(size_t(heads_) * size_t(n_ctx) * k_head_row_);
  v_seq_ = round_up(size_t(heads_) * size_t(n_ctx) * v_head_row_);
  k_bytes_ = size_t(n_seq) * k_seq_;
  v_bytes_ = size_t(n_seq) * v_seq_;
  const auto reserve = [](size_t bytes) {
    Region r;
    r.bytes = std::max<size_t>(bytes, 1);
    void* p = mmap(nullptr, r.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      throw Error("KV cache: cannot reserve " + std::to_string(r.bytes >> 20) + " MiB of address space (" +
                  std::strerror(errno) + "; lower -c or -np)");
    }
    r.base = static_cast<uint8_t*>(p);
    return r;
  };
  try {
    // A pipeline stage holds only its own layers' rows; the others stay empty (no address space).
    const int n_layers = m.hp.n_layer + (with_mtp ? int(m.mtp_layers.size()) : 0);
    for (int l = 0; l < n_layers; ++l) {
      const bool own = l >= m.hp.n_layer || (l >= m.layer_begin && l < m.layers_end());
      k_.push_back(own ? reserve(k_bytes_) : Region{});
      v_.push_back(own ? reserve(v_bytes_) : Region{});
    }
    if (m.link) {
      link_ = m.link;
      stage_id_ = link_->open_cache(n_ctx, n_seq, type);
    }
  } catch (...) {
    unmap();
    throw;
  }
}

void KvCache::unmap() {
  for (Region& r : k_) {
    if (r.base) munmap(r.base, r.bytes);
  }
  for (Region& r : v_) {
    if (r.base) munmap(r.base, r.bytes);
  }
}

KvCache::~KvCache() {
  if (link_) link_->close_cache(stage_id_);
  unmap();
}

size_t KvCache::bytes() const { return size_t(n_layers_held()) * (k_bytes_ + v_bytes_); }

size_t KvCache::bytes_per_token() const { return size_t(n_layers_held()) * (k_row_ + v_row_); }

int KvCache::n_layers_held() const {
  int n = 0;
  for (const Region& r : k_) n += r.base != nullptr;
  return n;
}

std::vector<LayerKv> KvCache::view(int seq) {
  std::vector<LayerKv> out;
  for (size_t l = 0; l < k_.size(); ++l) {
    if (!k_[l].base) {
      out.push_back({});
      continue;
    }
    const size_t k_head = size_t(n_ctx_) * k_head_row_, v_head = size_t(n_ctx_) * v_head_row_;
    out.push_back({{k_[l].base + size_t(seq) * k_seq_, k_dim_ / heads_, type_},
                   {v_head > 0 ? v_[l].base + size_t(seq) * v_seq_ : nullptr, v_dim_ / heads_, type_},
                   heads_,
                   k_head,
                   v_head});
  }
  return out;
}

void KvCache::release(int seq) {
  if (link_) link_->release(stage_id_, seq);
  for (size_t l = 0; l < k_.size(); ++l) {
    if (!k_[l].base) continue;
    madvise(k_[l].base + size_t(seq) * k_seq_, k_seq_, MADV_DONTNEED);
    if (v_seq_ > 0) madvise(v_[l].base + size_t(seq) * v_seq_, v_seq_, MADV_DONTNEED);
  }
}

// The buffer holds, per layer, each K head's n rows and then each V head's.
void KvCache::save(int seq, int n, uint8_t* out, int mirror_id) const {
  if (link_ && mirror_id >= 0) link_->save_prefix(stage_id_, seq, n, mirror_id);
  const size_t k_head = size_t(n_ctx_) * k_head_row_, v_head = size_t(n_ctx_) * v_head_row_;
  for (size_t l = 0; l < k_.size(); ++l) {
    if (!k_[l].base) continue;
    for (int g = 0; g < heads_; ++g, out += size_t(n) * k_head_row_)
      std::memcpy(out, k_[l].base + size_t(seq) * k_seq_ + size_t(g) * k_head, size_t(n) * k_head_row_);
    if (v_head_row_ == 0) continue;
    for (int g = 0; g < heads_; ++g, out += size_t(n) * v_head_row_)
      std::memcpy(out, v_[l].base + size_t(seq) * v_seq_ + size_t(g) * v_head, size_t(n) * v_head_row_);
  }
}

void KvCache::drop_saved(int mirror_id) {
  if (link_ && mirror_id >= 0) link_->drop_prefix(mirror_id);
}

void KvCache::load(int seq, int n, const uint8_t* in, int saved, int mirror_id) {
  if (link_ && mirror_id >= 0) link_->load_prefix(stage_id_, seq, n, mirror_id);
  const size_t k_head = size_t(n_ctx_) * k_head_row_, v_head = size_t(n_ctx_) * v_head_row_;
  for (size_t l = 0; l < k_.size(); ++l) {
    if (!k_[l].base) continue;
    for (int g = 0; g < heads_; ++g, in += size_t(saved) * k_head_row_)
      std::memcpy(k_[l].base + size_t(seq) * k_seq_ + size_t(g) * k_head, in, size_t(n) * k_head_row_);
    if (v_head_row_ == 0) continue;
    for (int g = 0; g < heads_; ++g, in += size_t(saved) * v_head_row_)
      std::memcpy(v_[l].base + size_t(seq) * v_seq_ + size_t(g) * v_head, in, size_t(n) * v_head_row_);
  }
}

}  // namespace dawn
