#include "ops/matmul.h"

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

}  // namespace

void matmul(const Weight& w, const float* x, int64_t n_tok, float* y, ThreadPool& pool, ActBuffer& buf) {
  size_t stride;
  const uint8_t* act = convert(w, x, n_tok, buf, &stride);
  const auto dot = traits(w.type).vec_dot;
  const VecDotX4Fn dot4 = n_tok >= 4 ? vec_dot_x4(w.type) : nullptr;
  if (!dot4) {
    // Few, long contiguous row ranges per thread: each thread then streams its weights
    // sequentially, which the hardware prefetchers turn into full bandwidth (64-row chunks
    // handed out in turn gave both threads together ~30% less).
    const int64_t chunks = 2 * int64_t(pool.size());
    const int64_t grain = std::max<int64_t>(64 / std::max<int64_t>(1, n_tok), (w.rows + chunks - 1) / chunks);
    pool.parallel_for(w.rows, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t t = 0; t < n_tok; ++t) {
        const uint8_t* a = act + stride * size_t(t);
        float* yt = y + t * w.rows;
        for (int64_t r = r0; r < r1; ++r) yt[r] = dot(w.cols, w.row(r), a);
      }
    });
    return;
  }
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
