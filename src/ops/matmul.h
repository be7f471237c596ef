// y[t][r] = sum_i W[r][i] * x[t][i] for every token t, with activations converted
// to the weight type's dot format first (as llama.cpp does).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/level_gemm.h"
#include "kernels/thread_pool.h"
#include "ops/weight.h"

namespace dawn {

// One product y = W x over n_tok rows of x (y: n_tok x W.rows).
struct MatmulTask {
  Weight w;
  const float* x;
  int64_t n_tok;
  float* y;
};

// The same over picked rows of an input: y[r] = W . x[rows[r]] for r < n (see matmul_gather).
struct GatherTask {
  Weight w;
  const int32_t* rows;
  int64_t n;
  float* y;
};

// Gathered products over one input x (n_x rows of the tasks' width); all tasks share one weight
// type and width.
struct GatherGroup {
  const GatherTask* tasks;
  int n_tasks;
  const float* x;
  int64_t n_x;
};

// Reusable buffer for activations converted to a dot format.
struct ActBuffer {
  std::vector<uint8_t> bytes;
  std::vector<size_t> offsets;              // per task of matmul_batch
  LevelActs levels;                         // the level GEMM's split of the activations
  std::vector<LevelActs> group_levels;      // the same per group of matmul_gather_groups
  std::vector<const LevelActs*> task_acts;  // each level task's activations
  std::vector<int32_t> iota;                // 0, 1, 2, ...: the rows of a plain product
  std::vector<int64_t> tiles;               // first tile of each task of a level product
  std::vector<float> gathered;              // matmul_gather's input rows where the level GEMM is not used
  std::vector<MatmulTask> tasks;
  std::vector<GatherTask> gather;
};

void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, ActBuffer& buf);

// Independent products y = W x (y: n_tok x W.rows). Decode-sized ones run as one parallel
// region, since one region per small matrix (MoE experts, gate/up) costs more in
// synchronisation than the rows themselves; prefill-sized ones run one matmul each.
void matmul_batch(const MatmulTask* tasks, int n_tasks, ThreadPool& pool, ActBuffer& buf);

// Products over picked rows of one input x (n_x rows of the weights' width). All tasks' weights share one type and
// width. These are MoE experts over the tokens routed to them: the input is converted once for all of them, and all
// their rows are shared out as one parallel region.
void matmul_gather(const GatherTask* tasks, int n_tasks, const float* x, int64_t n_x, ThreadPool& pool, ActBuffer& buf);

// Several gathers over different inputs (MoE routed and shared experts: the routed down products
// read the routed hidden rows, the shared expert's its own) as one parallel region where the level
// GEMM serves them all; otherwise one matmul_gather per group.
void matmul_gather_groups(const GatherGroup* groups, int n_groups, ThreadPool& pool, ActBuffer& buf);

// Sees every product's weight and input rows before it runs (dawn imatrix: importance matrices
// are the inputs' per-column mean squares); rows null means rows 0..n-1 of x. Off (null) by
// default, and then costs one branch per product.
struct MatmulObserver {
  void (*fn)(void* ctx, const Weight& w, const float* x, const int32_t* rows, int64_t n);
  void* ctx;
};
void set_matmul_observer(const MatmulObserver* o);

// Dequantizes row r of w into out (w.cols floats).
void dequantize_row(const Weight& w, int64_t r, float* out);

}  // namespace dawn
