// IQ3_S: 256 weights in 3.44 bits: per group of 8 two 9-bit indices into a 512-point grid of
// four odd magnitudes and a full sign byte; per 32 a 4-bit scale; one f16 scale.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ3_S& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d);
  for (int ib = 0; ib < 8; ++ib) {
    s.mult[ib] = int16_t(2 * ((b.scales[ib / 2] >> (4 * (ib % 2))) & 0xF) + 1);
    for (int l = 0; l < 4; ++l) {
      const int k0 = 2 * l, k1 = 2 * l + 1;  // the sub-block's k-th index has its bit 8 in qh bit k
      const uint32_t g0 = kIq3sGrid[size_t(b.qs[8 * ib + k0] | (((b.qh[ib] >> k0) & 1) << 8))];
      const uint32_t g1 = kIq3sGrid[size_t(b.qs[8 * ib + k1] | (((b.qh[ib] >> k1) & 1) << 8))];
      const uint8_t signs = b.signs[4 * ib + l];
      int8_t* v = s.v + 32 * ib + 8 * l;
      for (int j = 0; j < 4; ++j) {
        v[j] = apply_sign(grid_byte(g0, j), signs, j);
        v[j + 4] = apply_sign(grid_byte(g1, j), signs, j + 4);
      }
    }
  }
}

using T = SignedType<BlockIQ3_S, QK_K, 32, decode>;

// Per 32: free signs, a scale and eight 4-value points of the 512-point grid.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq3s);
  BlockIQ3_S* out = static_cast<BlockIQ3_S*>(dst);
  SignedGridFit f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    fit_signed_grid(g, src + i * QK_K, imatrix ? imatrix + i * QK_K : nullptr, false, 32, 15, 1.0f, &f);
    BlockIQ3_S& b = out[i];
    std::memset(&b, 0, sizeof(b));
    if (f.d == 0) continue;
    b.d = f32_to_fp16(f.d);
    for (int ib = 0; ib < 8; ++ib) {
      b.scales[ib / 2] = uint8_t(b.scales[ib / 2] | (f.s[ib] << (4 * (ib % 2))));
      for (int k = 0; k < 8; ++k) {
        b.qs[8 * ib + k] = uint8_t(f.idx[8 * ib + k] & 0xff);
        b.qh[ib] = uint8_t(b.qh[ib] | ((f.idx[8 * ib + k] >> 8) << k));
      }
      for (int l = 0; l < 4; ++l) b.signs[4 * ib + l] = f.signs[4 * ib + l];
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ3_S = {"iq3_s",
                                        QK_K,
                                        sizeof(BlockIQ3_S),
                                        DType::Q8_K,
                                        T::to_float,
                                        from_float,
                                        pick_dot(DType::IQ3_S, T::vec_dot),
                                        T::vec_dot,
                                        pick_unpack(DType::IQ3_S, T::unpack_levels),
                                        32,
                                        128,
                                        false,
                                        quantize};

}  // namespace dawn
