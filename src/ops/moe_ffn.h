// The DeepSeekMoE block in four stages: route (each token's experts and weights), dispatch (the
// (token, slot) pairs grouped by expert), run (the experts this process holds, with the shared
// experts in the same parallel regions), combine (each token's expert outputs summed in its
// routing order, as llama.cpp sums them). An expert-parallel split fills in, between run and
// combine, the rows that other processes' experts computed (ExpertExchange).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/thread_pool.h"
#include "ops/matmul.h"
#include "ops/moe.h"
#include "ops/weight.h"

namespace dawn {

struct MoeWeights {
  Weight gate_inp, exp_probs_b;           // router and its selection bias (may be empty)
  Weight gate_exps, up_exps, down_exps;   // expert e: rows [e*n_ff_exp, ...) of gate/up, [e*D, ...) of down
  Weight gate_shexp, up_shexp, down_shexp;  // shared experts (may be empty)
  int64_t n_ff_exp = 0;
  int expert_begin = 0, expert_end = -1;  // the routed experts held here (-1: all)
};

// The pairs' expert rows after `run`: the pairs of expert e are rows [end[e-1], end[e]) (end[-1] =
// 0) of rows, dim floats each; a process holding experts [b, e) has filled those rows only.
struct ExpertRows {
  float* rows;
  const int32_t* end;
  int64_t n_expert, dim;
  int layer;
};
// Fills in the rows of the experts other processes hold (and sends them ours): start once per MoE
// layer per forward pass, once this process's experts have run; finish (when set) before the rows
// are read, the shared experts having run in between. Plain functions and a context.
struct ExpertExchange {
  void (*start)(void* ctx, const ExpertRows& rows) = nullptr;
  void (*finish)(void* ctx) = nullptr;
  void* ctx = nullptr;
};

struct MoeScratch {
  std::vector<float> router, w, x, y, g_shared, u_shared;
  std::vector<int32_t> ids, count, order, tok, iota;
  std::vector<GatherTask> gather;
  std::vector<GatherGroup> groups;
  // Routed experts held here that had at least one row, summed over calls: what a pass read of the
  // experts (benchmarks: the bytes of a speculative check against one token's).
  int64_t experts_run = 0;
};

// The MoE block for n_tok rows of h (D floats each): the routed experts' sum into routed, the
// shared experts' into shared (both n_tok x D; shared untouched without shared experts). With
// exchange, experts outside [expert_begin, expert_end) come from it (it must be set then).
void moe_ffn(const RouterConfig& rc, const MoeWeights& w, int layer, const float* h, int n_tok, int64_t D,
             float* routed, float* shared, ThreadPool& pool, MoeScratch& s, ActBuffer& act,
             const ExpertExchange& exchange);

}  // namespace dawn
