// Key/value cache for up to n_seq sequences of n_ctx positions each. Layers are
// stored separately so a process can later hold only the layers it runs. Each
// sequence's rows are reserved address space: memory is taken as positions are
// written and given back by release(), so n_seq x n_ctx may exceed what the
// machine holds as long as the positions in use at once fit.
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
  // with_mtp: rows for the model's MTP layers too, after the trunk's (view()[n_layer + j]); throws
  // Error naming the file when the model has none.
  KvCache(const Model& m, int n_ctx, int n_seq = 1, KvType type = KvType::F32, bool with_mtp = false);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;
  int n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  KvType type() const { return type_; }
  size_t bytes() const;  // reserved (not all of it in memory)
  // Bytes one position of one sequence takes over all layers.
  size_t bytes_per_token() const;
  // Per-layer rows of sequence `seq`, as the forward pass takes them (empty for the layers of a
  // split model that other stages hold).
  std::vector<LayerKv> view(int seq);
  // Its id on the later stages of a split model (SeqKv::cache), -1 otherwise.
  int stage_id() const { return stage_id_; }
  // Gives sequence `seq`'s memory back to the system; its rows read as zeros until written.
  void release(int seq);
  // Positions [0, n) of `seq` out to a buffer of n * bytes_per_token() bytes (per layer: each K
  // head's n rows, then each V head's), and the first n positions of such a buffer of `saved` positions back.
  // With a mirror id (>= 0) a split model's later stages do the same with their own rows, kept
  // under that id until drop_saved(id).
  void save(int seq, int n, uint8_t* out, int mirror_id = -1) const;
  void load(int seq, int n, const uint8_t* in, int saved, int mirror_id = -1);
  void drop_saved(int mirror_id);

 private:
  int n_ctx_, n_seq_;
  KvType type_;
  int64_t k_dim_, v_dim_;  // values per position, all heads
  int heads_;              // KV heads (LayerKv: head-major)
  // [layer][seq][head][pos][dim] elements of type_ in anonymous mappings, each sequence's part
  // starting on a page: left unwritten (and so without memory) until a position is stored, so a
  // long context costs only what it uses.
  struct Region {
    uint8_t* base = nullptr;
    size_t bytes = 0;
  };
  std::vector<Region> k_, v_;
  size_t k_row_ = 0, v_row_ = 0;        // bytes per position, all heads
  size_t k_head_row_ = 0, v_head_row_ = 0;  // bytes per position of one head
  size_t k_seq_ = 0, v_seq_ = 0;        // bytes per sequence, page-rounded
  size_t k_bytes_ = 0, v_bytes_ = 0;  // per layer
  std::shared_ptr<StageLink> link_;   // the split model's later stages mirror this cache
  int stage_id_ = -1;
  int n_layers_held() const;
  void unmap();
};

}  // namespace dawn
