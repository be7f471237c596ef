// How the first process of a split model reaches the others: pipeline stages (layer ranges held by
// other processes) or an expert split (each holding some routed experts of every MoE layer). The model layer only sees this interface;
// the transport (MPI) lives beside the engine.
#pragma once
#include <cstdint>
#include <vector>

#include "models/batch.h"
#include "ops/attention.h"
#include "ops/moe_ffn.h"

namespace dawn {

// One process's account of a split run since the last reset (dawn bench prints them): its peak
// memory, the time it computed and the time it was blocked on the network inside forward passes
// (for rank 0, whose own compute is the caller's to time, -1), and the bytes it sent.
struct RankStats {
  int32_t rank = 0;
  char host[64] = {};
  double peak_rss_bytes = 0, compute_s = 0, wait_s = 0;
  uint64_t bytes_sent = 0, passes = 0;
};

class StageLink {
 public:
  virtual ~StageLink() = default;
  // The pipeline's stages, this process's included (1: no pipeline; an expert split runs every
  // layer here). With several, forward splits a batch of n_tok tokens into pieces(n_tok) and for
  // each calls send_piece once this stage has run it (`last`: the pass's final piece), going on
  // with the next piece while the later stages run this one. wait_pieces(keep) returns when every
  // pass sent but the `keep` newest is back, its rows (the last stage's output) written to the
  // `back` given with each piece: a caller may keep passes of other sequences in flight meanwhile
  // (Engine's lanes). `cache` is what open_cache returned for the cache the batch's rows use.
  // Throws Error naming the stage that failed or went quiet.
  virtual int stages() const { return 1; }
  virtual int pieces(int n_tok) const { return 1; }
  virtual void send_piece(int cache, const Batch& piece, const float* x, float* back, bool last) {}
  virtual void wait_pieces(int keep = 0) {}
  // Called between layers: lets messages in flight move while this process computes (MPI moves a
  // large message only while its sender is inside the library).
  virtual void progress() {}
  // A KV cache of the same shape on every later stage (for its own layers); returns its id.
  virtual int open_cache(int n_ctx, int n_seq, KvType type) = 0;
  virtual void close_cache(int cache) noexcept = 0;
  // KvCache::release of sequence `seq` on every later stage.
  virtual void release(int cache, int seq) = 0;
  // The prefix cache, mirrored: every later stage keeps its own rows of positions [0, n) of `seq`
  // under `id` (KvCache::save), restores the first n of them to `seq` (KvCache::load), or
  // forgets them.
  virtual void save_prefix(int cache, int seq, int n, int id) = 0;
  virtual void load_prefix(int cache, int seq, int n, int id) = 0;
  virtual void drop_prefix(int id) = 0;
  // Expert split (every process runs every layer, each holding some routed experts): `begin`
  // starts a forward pass of the batch on the other processes too; exchange_experts sends a MoE
  // layer's rows of this process's experts and posts the receives of those the others' computed,
  // finish_exchange waits until they are in (the shared experts run in between). A pipeline link
  // does none of these.
  virtual void begin(int cache, const Batch& b) {}
  virtual void exchange_experts(const ExpertRows& rows) {}
  virtual void finish_exchange() {}
  // Every process's RankStats (rank order), each reset afterwards when `reset`.
  virtual std::vector<RankStats> rank_stats(bool reset) = 0;
};

}  // namespace dawn
