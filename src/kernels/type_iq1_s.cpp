// IQ1_S: 256 weights in 1.56 bits: per group of 8 an 11-bit index into a 2048-point grid of
// ternary values; per 32 a 3-bit scale and the sign of a +-1/8 shift; one f16 scale.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

// Values in eighths: g + delta = (8g +- 1) / 8, so v = 8g +- 1 and d carries the 1/8.
void decode(const BlockIQ1_S& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d) * 0.125f;
  for (int ib = 0; ib < 8; ++ib) {
    const uint16_t qh = b.qh[ib];
    s.mult[ib] = int16_t(2 * ((qh >> 12) & 7) + 1);
    const int delta = qh & 0x8000 ? -1 : 1;
    for (int l = 0; l < 4; ++l) {
      const uint64_t g = kIq1sGrid[size_t(b.qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8))];
      for (int j = 0; j < 8; ++j) s.v[32 * ib + 8 * l + j] = int8_t(8 * grid_int8(g, j) + delta);
    }
  }
}

using T = SignedType<BlockIQ1_S, QK_K, 32, decode>;

// Per 32: both signs of the 1/8 shift tried, each with a scale and four ternary grid points;
// the better kept; the scales then to 3 bits of the block's f16 scale and the points chosen again.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq1s);
  BlockIQ1_S* out = static_cast<BlockIQ1_S*>(dst);
  float w[QK_K], D[8];
  bool neg[8];
  uint16_t idx[32], alt[4];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    iq_weights(x, imatrix ? imatrix + i * QK_K : nullptr, QK_K, 1.0f, w);
    float max_D = 0;
    for (int ib = 0; ib < 8; ++ib) {
      const float up[4] = {0.125f, 0.125f, 0.125f, 0.125f}, down[4] = {-0.125f, -0.125f, -0.125f, -0.125f};
      float e_up, e_down;
      const float d_up = fit_points(g, x + 32 * ib, w + 32 * ib, 32, 1.125f, up, idx + 4 * ib, &e_up, 2.6f);
      const float d_down = fit_points(g, x + 32 * ib, w + 32 * ib, 32, 1.125f, down, alt, &e_down, 2.6f);
      neg[ib] = e_down < e_up;
      D[ib] = neg[ib] ? d_down : d_up;
      if (neg[ib]) std::copy(alt, alt + 4, idx + 4 * ib);
      max_D = std::max(max_D, D[ib]);
    }
    BlockIQ1_S& b = out[i];
    std::memset(&b, 0, sizeof(b));
    if (max_D == 0) continue;
    b.d = f32_to_fp16(max_D / 15.0f);
    const float d = fp16_to_f32(b.d);
    for (int ib = 0; ib < 8; ++ib) {
      const int s = std::clamp(nearest_int(0.5f * (D[ib] / d - 1.0f)), 0, 7);
      const float off = neg[ib] ? -0.125f : 0.125f, offs[4] = {off, off, off, off};
      assign_points(g, x + 32 * ib, w + 32 * ib, 32, d * float(2 * s + 1), offs, idx + 4 * ib);
      uint16_t qh = uint16_t((s << 12) | (neg[ib] ? 0x8000 : 0));
      for (int l = 0; l < 4; ++l) {
        b.qs[4 * ib + l] = uint8_t(idx[4 * ib + l] & 0xff);
        qh = uint16_t(qh | ((idx[4 * ib + l] >> 8) << (3 * l)));
      }
      b.qh[ib] = qh;
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ1_S = {"iq1_s",
                                        QK_K,
                                        sizeof(BlockIQ1_S),
                                        DType::Q8_K,
                                        T::to_float,
                                        from_float,
                                        pick_dot(DType::IQ1_S, T::vec_dot),
                                        T::vec_dot,
                                        pick_unpack(DType::IQ1_S, T::unpack_levels),
                                        32,
                                        128,
                                        false,
                                        quantize,
                                        true};

}  // namespace dawn
