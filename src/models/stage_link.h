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
  // Runs the later stages' layers on the rows x (batch order, n_embd floats each: this stage's
  // output) and returns with the last stage's output in x. `cache` is what open_cache returned for
  // the cache whose rows the batch uses. Throws Error naming the stage that failed or went quiet.
  virtual void pass(int cache, const Batch& b, float* x) = 0;
  // Pipeline with pieces in flight: forward splits a batch of n_tok tokens into pieces(n_tok)
  // (1: it does not) and for each calls send_piece once this stage has run it, going on with the
  // next piece while the later stages run this one; wait_pieces returns when every piece sent since
  // the last wait is back, its rows written to the `back` given with it.
  virtual int pieces(int n_tok) const { return 1; }
  virtual void send_piece(int cache, const Batch& piece, const float* x, float* back) {}
  virtual void wait_pieces() {}
  // Called between layers: lets messages in flight move while this process computes (MPI moves a
  // large message only while its sender is inside the library).
  virtual void progress() {}
  // A KV cache of the same shape on every later stage (for its own layers); returns its id.
  virtual int open_cache(int n_ctx, int n_seq, KvType type) = 0;
  virtual void close_cache(int cache) noexcept = 0;
  // KvCache::release of sequence `seq` on every later stage.
  virtual void release(int cache, int seq) = 0;
  // Expert split (every process runs every layer, each holding some routed experts): `begin`
  // starts a forward pass of the batch on the other processes too, and exchange_experts fills in
  // a MoE layer's rows that their experts computed. A pipeline link does neither.
  virtual void begin(int cache, const Batch& b) {}
  virtual void exchange_experts(const ExpertRows& rows) {}
  // Every process's RankStats (rank order), each reset afterwards when `reset`.
  virtual std::vector<RankStats> rank_stats(bool reset) = 0;
};

}  // namespace dawn
