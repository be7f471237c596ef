// IQ1_M: 256 weights in 1.75 bits: per group of 8 an 11-bit index into IQ1_S's ternary grid and
// the sign of a +-1/8 shift; per 16 a 3-bit scale; the f16 block scale spread over the top
// nibbles of the four scale words (there is no separate d field).
#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ1_M& b, SignedLevels& s) {
  uint16_t sc[4];
  std::memcpy(sc, b.scales, 8);
  const uint16_t d16 = uint16_t((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
  s.d = fp16_to_f32(d16) * 0.125f;  // values in eighths, as IQ1_S
  for (int t = 0; t < 16; ++t) s.mult[t] = int16_t(2 * ((sc[t / 4] >> (3 * (t % 4))) & 7) + 1);
  for (int ib = 0; ib < 8; ++ib) {
    for (int l = 0; l < 4; ++l) {
      const int h = b.qh[2 * ib + l / 2] >> (4 * (l % 2));  // bits 0..2 index high bits, bit 3 delta sign
      const uint64_t g = kIq1sGrid[size_t(b.qs[4 * ib + l] | ((h & 7) << 8))];
      const int delta = h & 8 ? -1 : 1;
      for (int j = 0; j < 8; ++j) s.v[32 * ib + 8 * l + j] = int8_t(8 * grid_int8(g, j) + delta);
    }
  }
}

using T = SignedType<BlockIQ1_M, QK_K, 16, decode>;

// Per 16: the four sign pairs of the two groups' 1/8 shifts tried, each with a scale and two
// ternary grid points; the best kept; the scales then to 3 bits of the spread f16 block scale.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq1s);
  BlockIQ1_M* out = static_cast<BlockIQ1_M*>(dst);
  float w[QK_K], D[16], off[32];
  uint16_t idx[32], trial[2];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    iq_weights(x, imatrix ? imatrix + i * QK_K : nullptr, QK_K, 1.0f, w);
    float max_D = 0;
    for (int h = 0; h < 16; ++h) {
      float best = INFINITY;
      for (int c = 0; c < 4; ++c) {
        const float o[2] = {c & 1 ? -0.125f : 0.125f, c & 2 ? -0.125f : 0.125f};
        float e;
        const float Dc = fit_points(g, x + 16 * h, w + 16 * h, 16, 1.125f, o, trial, &e, 2.6f);
        if (e < best) {
          best = e, D[h] = Dc;
          off[2 * h] = o[0], off[2 * h + 1] = o[1];
          idx[2 * h] = trial[0], idx[2 * h + 1] = trial[1];
        }
      }
      max_D = std::max(max_D, D[h]);
    }
    BlockIQ1_M& b = out[i];
    std::memset(&b, 0, sizeof(b));
    const uint16_t d16 = f32_to_fp16(max_D / 15.0f);
    const float d = fp16_to_f32(d16);
    uint16_t sc[4] = {};
    for (int h = 0; h < 16; ++h) {
      const int s = d > 0 ? std::clamp(nearest_int(0.5f * (D[h] / d - 1.0f)), 0, 7) : 0;
      assign_points(g, x + 16 * h, w + 16 * h, 16, d * float(2 * s + 1), off + 2 * h, idx + 2 * h);
      sc[h / 4] = uint16_t(sc[h / 4] | (s << (3 * (h % 4))));
    }
    for (int k = 0; k < 4; ++k) sc[k] = uint16_t(sc[k] | (((d16 >> (4 * k)) & 0xF) << 12));
    std::memcpy(b.scales, sc, 8);
    for (int l = 0; l < 32; ++l) {
      b.qs[l] = uint8_t(idx[l] & 0xff);
      const int h = ((idx[l] >> 8) & 7) | (off[l] < 0 ? 8 : 0);
      b.qh[l / 2] = uint8_t(b.qh[l / 2] | (h << (4 * (l % 2))));
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ1_M = {"iq1_m",
                                        QK_K,
                                        sizeof(BlockIQ1_M),
                                        DType::Q8_K,
                                        T::to_float,
                                        from_float,
                                        pick_dot(DType::IQ1_M, T::vec_dot),
                                        T::vec_dot,
                                        pick_unpack(DType::IQ1_M, T::unpack_levels),
                                        16,
                                        128,
                                        false,
                                        quantize,
                                        true};

}  // namespace dawn
