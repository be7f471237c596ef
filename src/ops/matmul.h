// y[t][r] = sum_i W[r][i] * x[t][i] for every token t, with activations converted
// to the weight type's dot format first (as llama.cpp does).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/level_gemm.h"
#include "kernels/thread_pool.h"
#include "ops/weight.h"

namespace dawn {

// Reusable buffer for activations converted to a dot format.
struct ActBuffer {
  std::vector<uint8_t> bytes;
  std::vector<size_t> offsets;  // per task of matmul_batch
  LevelActs levels;             // the level GEMM's split of the activations
};

void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, ActBuffer& buf);

// Independent products y = W x (y: n_tok x W.rows). Decode-sized ones run as one parallel
// region, since one region per small matrix (MoE experts, gate/up) costs more in
// synchronisation than the rows themselves; prefill-sized ones run one matmul each.
struct MatmulTask {
  Weight w;
  const float* x;
  int64_t n_tok;
  float* y;
};
void matmul_batch(const MatmulTask* tasks, int n_tasks, ThreadPool& pool, ActBuffer& buf);

// One row vector times W, single-threaded (small per-head products).
void matvec(const Weight& w, const float* x, float* y, ActBuffer& buf);

// Dequantizes row r of w into out (w.cols floats).
void dequantize_row(const Weight& w, int64_t r, float* out);

}  // namespace dawn
