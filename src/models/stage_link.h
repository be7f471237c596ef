// How the first process of a split model reaches the others: pipeline stages (layer ranges held by
// other processes) or an expert split (each holding some routed experts of every MoE layer). The model layer only sees this interface;
// the transport (MPI) lives beside the engine.
#pragma once
#include <cstdint>

#include "models/batch.h"
#include "ops/attention.h"
#include "ops/moe_ffn.h"

namespace dawn {

class StageLink {
 public:
  virtual ~StageLink() = default;
  // Runs the later stages' layers on the rows x (batch order, n_embd floats each: this stage's
  // output) and returns with the last stage's output in x. `cache` is what open_cache returned for
  // the cache whose rows the batch uses. Throws Error naming the stage that failed or went quiet.
  virtual void pass(int cache, const Batch& b, float* x) = 0;
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
};

}  // namespace dawn
