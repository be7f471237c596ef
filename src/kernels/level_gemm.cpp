#include "kernels/level_gemm.h"

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"

namespace dawn {

void pack_tile(DType t, const uint8_t* rows, size_t row_stride, int n_rows, int64_t cols, LevelTile& tile) {
  const TypeTraits& tt = traits(t);
  const int64_t n_sub = cols / tt.sub;
  tile.cols = cols;
  tile.sub = tt.sub;
  tile.zero = tt.zero;
  tile.has_min = tt.has_min;
  tile.q.resize(size_t(cols) * kTileRows);
  tile.scale.resize(size_t(n_sub) * kTileRows);
  tile.min.resize(size_t(n_sub) * kTileRows);
  tile.rows_q.resize(size_t(cols) * kTileRows);
  tile.row_scale.resize(size_t(n_sub));
  tile.row_min.resize(size_t(n_sub));
  for (int r = 0; r < kTileRows; ++r) {
    uint8_t* rq = tile.rows_q.data() + r * cols;
    if (r < n_rows) {
      tt.unpack_levels(rows + size_t(r) * row_stride, cols, rq, tile.row_scale.data(), tile.row_min.data());
    } else {  // padding rows: all-zero scales, so their (discarded) results are 0
      std::memset(rq, 0, size_t(cols));
      std::memset(tile.row_scale.data(), 0, sizeof(float) * size_t(n_sub));
      std::memset(tile.row_min.data(), 0, sizeof(float) * size_t(n_sub));
    }
    for (int64_t j = 0; j < n_sub; ++j) {
      tile.scale[size_t(j * kTileRows + r)] = tile.row_scale[size_t(j)];
      tile.min[size_t(j * kTileRows + r)] = tile.row_min[size_t(j)];
    }
  }
  int64_t done = 0;
  if (cpu_isa() >= Isa::Avx512) {
    interleave_tile_avx512(tile.rows_q.data(), cols, tile.q.data());
    done = cols / 64 * 64;
  }
  for (int r = 0; r < kTileRows; ++r) {
    for (int64_t k = done; k < cols; k += 4) {
      std::memcpy(tile.q.data() + k * kTileRows + 4 * r, tile.rows_q.data() + r * cols + k, 4);
    }
  }
}

void size_acts(DType weight_type, int64_t n_tok, int64_t cols, LevelActs& out) {
  const int sub = traits(weight_type).sub;
  const int64_t n_sub = cols / sub;
  out.cols = cols;
  out.n_tok = n_tok;
  out.sub = sub;
  out.q.resize(size_t(n_tok * cols));
  out.d.resize(size_t(n_tok * n_sub));
  out.dsum.resize(size_t(n_tok * n_sub));
  out.zsum.resize(size_t(n_tok * n_sub));
  out.qsum.resize(size_t(n_tok * n_sub));
}

void fill_acts(DType weight_type, const float* x, int64_t t0, int64_t t1, LevelActs& out) {
  const TypeTraits& tt = traits(weight_type);
  const int sub = out.sub;
  const int64_t cols = out.cols, n_sub = cols / sub;
  const bool k_quant = tt.dot_type == DType::Q8_K;
  const bool q8_1 = tt.dot_type == DType::Q8_1;  // Q8_0 with d * sum in front of the values
  const int block = k_quant ? QK_K : QK;
  thread_local std::vector<uint8_t> row;
  row.resize(row_bytes(tt.dot_type, cols));
  for (int64_t t = t0; t < t1; ++t) {
    traits(tt.dot_type).from_float(x + t * cols, row.data(), cols);
    int8_t* q = out.q.data() + t * cols;
    for (int64_t b = 0; b < cols / block; ++b) {
      if (k_quant) {
        std::memcpy(q + b * block, reinterpret_cast<const BlockQ8_K*>(row.data())[b].qs, QK_K);
      } else if (q8_1) {
        std::memcpy(q + b * block, reinterpret_cast<const BlockQ8_1*>(row.data())[b].qs, QK);
      } else {
        std::memcpy(q + b * block, reinterpret_cast<const BlockQ8_0*>(row.data())[b].qs, QK);
      }
    }
    for (int64_t j = 0; j < n_sub; ++j) {
      const int64_t b = j * sub / block;
      const float d = k_quant ? reinterpret_cast<const BlockQ8_K*>(row.data())[b].d
                      : q8_1  ? fp16_to_f32(reinterpret_cast<const BlockQ8_1*>(row.data())[b].d)
                              : fp16_to_f32(reinterpret_cast<const BlockQ8_0*>(row.data())[b].d);
      int32_t sum = 0;
      for (int k = 0; k < sub; ++k) sum += q[j * sub + k];
      out.d[size_t(t * n_sub + j)] = d;
      // Q8_1 carries d * sum rounded to f16, and its weights' dot product uses that: so do we.
      out.dsum[size_t(t * n_sub + j)] =
          q8_1 ? fp16_to_f32(reinterpret_cast<const BlockQ8_1*>(row.data())[b].s) : d * float(sum);
      out.zsum[size_t(t * n_sub + j)] = -tt.zero * sum;
      out.qsum[size_t(t * n_sub + j)] = sum;
    }
  }
}

void level_gemm_ref(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y, int64_t ldy,
                    int n_rows) {
  const int64_t n_sub = w.cols / w.sub;
  for (int t = 0; t < nt; ++t) {
    const int8_t* x = a.q.data() + toks[t] * a.cols;
    const size_t at = size_t(toks[t] * n_sub);
    for (int r = 0; r < n_rows; ++r) {
      float acc = 0;
      for (int64_t j = 0; j < n_sub; ++j) {
        int32_t sum = a.zsum[at + size_t(j)];
        for (int64_t k = j * w.sub; k < (j + 1) * w.sub; ++k) {
          sum += int32_t(w.q[size_t((k / 4) * 64 + r * 4 + k % 4)]) * x[k];
        }
        acc += float(sum) * a.d[at + size_t(j)] * w.scale[size_t(j * kTileRows + r)];
        acc -= w.min[size_t(j * kTileRows + r)] * a.dsum[at + size_t(j)];
      }
      y[t * ldy + r] = acc;
    }
  }
}

bool level_gemm_available(DType t) { return cpu_isa() >= Isa::Avx512 && traits(t).unpack_levels; }

void level_gemm(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y, int64_t ldy,
                int n_rows) {
  if (cpu_isa() >= Isa::Avx512) {
    level_gemm_avx512(w, a, toks, nt, y, ldy, n_rows);
  } else {
    level_gemm_ref(w, a, toks, nt, y, ldy, n_rows);
  }
}

}  // namespace dawn
