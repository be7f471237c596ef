#include "ops/matmul.h"

#include <algorithm>

#include "kernels/dispatch.h"

namespace dawn {

namespace {

const uint8_t* convert(const Weight& w, const float* x, int64_t n_tok, ActBuffer& buf, size_t* stride) {
  const TypeTraits& tt = traits(w.type);
  const TypeTraits& at = traits(tt.dot_type);
  *stride = row_bytes(tt.dot_type, w.cols);
  if (buf.bytes.size() < *stride * size_t(n_tok)) buf.bytes.resize(*stride * size_t(n_tok));
  for (int64_t t = 0; t < n_tok; ++t) at.from_float(x + t * w.cols, buf.bytes.data() + *stride * size_t(t), w.cols);
  return buf.bytes.data();
}

DType at_type(const MatmulTask& t) { return traits(t.w.type).dot_type; }

}  // namespace

void matmul_batch(const MatmulTask* tasks, int n_tasks, ThreadPool& pool, ActBuffer& buf) {
  if (n_tasks <= 0) return;
  for (int i = 0; i < n_tasks; ++i) {
    if (tasks[i].n_tok >= 4 && vec_dot_x4(tasks[i].w.type)) {  // prefill: one blocked product each
      for (int k = 0; k < n_tasks; ++k) matmul(tasks[k].w, tasks[k].x, tasks[k].n_tok, tasks[k].y, pool, buf);
      return;
    }
  }
  // Activations in each task's dot format, back to back; a task with the same input and format
  // as the one before it shares its conversion (gate and up, all experts' gate/up of a token).
  buf.offsets.resize(size_t(n_tasks));
  size_t total = 0;
  int64_t rows = 0, max_tok = 1;
  for (int i = 0; i < n_tasks; ++i) {
    const MatmulTask& t = tasks[i];
    const DType dt = traits(t.w.type).dot_type;
    const bool shared = i > 0 && t.x == tasks[i - 1].x && t.n_tok == tasks[i - 1].n_tok &&
                        dt == traits(tasks[i - 1].w.type).dot_type && t.w.cols == tasks[i - 1].w.cols;
    buf.offsets[size_t(i)] = shared ? buf.offsets[size_t(i - 1)] : total;
    if (!shared) total += row_bytes(dt, t.w.cols) * size_t(t.n_tok);
    rows += t.w.rows;
    max_tok = std::max(max_tok, t.n_tok);
  }
  if (buf.bytes.size() < total) buf.bytes.resize(total);
  for (int i = 0; i < n_tasks; ++i) {
    const MatmulTask& t = tasks[i];
    if (i > 0 && buf.offsets[size_t(i)] == buf.offsets[size_t(i - 1)]) continue;
    const TypeTraits& at = traits(traits(t.w.type).dot_type);
    const size_t stride = row_bytes(at_type(t), t.w.cols);
    for (int64_t k = 0; k < t.n_tok; ++k) {
      at.from_float(t.x + k * t.w.cols, buf.bytes.data() + buf.offsets[size_t(i)] + stride * size_t(k), t.w.cols);
    }
  }
  // The pool gives each thread one contiguous share of the rows (a sequential stream the
  // hardware prefetchers turn into full bandwidth) and balances with pieces of `grain` rows.
  const int64_t grain = std::max<int64_t>(16, 64 / max_tok);
  pool.parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    int i = 0;
    int64_t base = 0;  // first global row of task i
    while (base + tasks[i].w.rows <= r0) base += tasks[i++].w.rows;
    for (; r0 < r1; base += tasks[i++].w.rows) {
      const MatmulTask& t = tasks[i];
      const Weight& w = t.w;
      const int64_t end = std::min(r1 - base, w.rows);
      const auto dot = traits(w.type).vec_dot;
      const size_t stride = row_bytes(at_type(t), w.cols);
      for (int64_t k = 0; k < t.n_tok; ++k) {
        const uint8_t* a = buf.bytes.data() + buf.offsets[size_t(i)] + stride * size_t(k);
        float* yk = t.y + k * w.rows;
        for (int64_t r = r0 - base; r < end; ++r) yk[r] = dot(w.cols, w.row(r), a);
      }
      r0 = base + end;
    }
  });
}

namespace {

// Below this many tokens unpacking a tile costs more than the 4-token kernels lose.
constexpr int64_t kLevelMinTokens = 8;

void level_matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, ActBuffer& buf) {
  size_t stride;
  const uint8_t* act = convert(w, x, n_tok, buf, &stride);
  split_acts(w.type, act, stride, n_tok, w.cols, buf.levels);
  const int64_t n_tiles = (w.rows + kTileRows - 1) / kTileRows;
  pool.parallel_for(n_tiles, 1, [&](int64_t b0, int64_t b1) {
    thread_local LevelTile tile;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * kTileRows;
      const int n_rows = int(std::min<int64_t>(kTileRows, w.rows - r0));
      pack_tile(w.type, w.row(r0), w.row_stride, n_rows, w.cols, tile);
      for (int64_t t = 0; t < n_tok; t += kTileTokens) {
        const int nt = int(std::min<int64_t>(kTileTokens, n_tok - t));
        level_gemm(tile, buf.levels, t, nt, y + t * w.rows + r0, w.rows, n_rows);
      }
    }
  });
}

}  // namespace

void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, ActBuffer& buf) {
  if (n_tok >= kLevelMinTokens && level_gemm_available(w.type)) {
    level_matmul(w, x, n_tok, y, pool, buf);
    return;
  }
  const VecDotX4Fn dot4 = n_tok >= 4 ? vec_dot_x4(w.type) : nullptr;
  if (!dot4) {  // decode-sized: the row-range path
    const MatmulTask task{w, x, n_tok, y};
    matmul_batch(&task, 1, pool, buf);
    return;
  }
  size_t stride;
  const uint8_t* act = convert(w, x, n_tok, buf, &stride);
  const auto dot = traits(w.type).vec_dot;
  // Prefill: each thread takes 16 rows at a time (they stay in L2) and runs every group of four
  // tokens over them, so the group's activations stay in L1 and each weight row is unpacked
  // once per four tokens.
  pool.parallel_for(w.rows, 16, [&](int64_t r0, int64_t r1) {
    float out[4];
    int64_t t = 0;
    for (; t + 4 <= n_tok; t += 4) {
      const uint8_t* a = act + stride * size_t(t);
      for (int64_t r = r0; r < r1; ++r) {
        dot4(w.cols, w.row(r), a, stride, out);
        for (int k = 0; k < 4; ++k) y[(t + k) * w.rows + r] = out[k];
      }
    }
    for (; t < n_tok; ++t) {
      for (int64_t r = r0; r < r1; ++r) y[t * w.rows + r] = dot(w.cols, w.row(r), act + stride * size_t(t));
    }
  });
}

void matvec(const Weight& w, const float* x, float* y, ActBuffer& buf) {
  size_t stride;
  const uint8_t* act = convert(w, x, 1, buf, &stride);
  const auto dot = traits(w.type).vec_dot;
  for (int64_t r = 0; r < w.rows; ++r) y[r] = dot(w.cols, w.row(r), act);
}

void dequantize_row(const Weight& w, int64_t r, float* out) { traits(w.type).to_float(w.row(r), out, w.cols); }

}  // namespace dawn
