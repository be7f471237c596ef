// IQ2_S: 256 weights in 2.56 bits: per group of 8 a 10-bit index into a 1024-point grid and a
// full sign byte; per 16 a 4-bit scale; one f16 scale.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/iq_common.h"
#include "kernels/iq_grids.h"
#include "kernels/iq_quant.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void decode(const BlockIQ2_S& b, SignedLevels& s) {
  s.d = fp16_to_f32(b.d) * 0.125f;
  const uint8_t* signs = b.qs + QK_K / 8;
  for (int ib = 0; ib < 8; ++ib) {
    s.mult[2 * ib] = int16_t(2 * (b.scales[ib] & 0xF) + 1);
    s.mult[2 * ib + 1] = int16_t(2 * (b.scales[ib] >> 4) + 1);
    for (int l = 0; l < 4; ++l) {
      const int idx = b.qs[4 * ib + l] | (((b.qh[ib] >> (2 * l)) & 3) << 8);
      const uint64_t g = kIq2sGrid[size_t(idx)];
      for (int j = 0; j < 8; ++j) s.v[32 * ib + 8 * l + j] = apply_sign(grid_byte(g, j), signs[4 * ib + l], j);
    }
  }
}

using T = SignedType<BlockIQ2_S, QK_K, 16, decode>;

// As IQ2_XS with free signs (a full byte per 8) and 10-bit grid indices.
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  const GridSearch& g = grid_search(IqGrid::Iq2s);
  BlockIQ2_S* out = static_cast<BlockIQ2_S*>(dst);
  SignedGridFit f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    fit_signed_grid(g, src + i * QK_K, imatrix ? imatrix + i * QK_K : nullptr, false, 16, 43, 8.0f, &f);
    BlockIQ2_S& b = out[i];
    std::memset(&b, 0, sizeof(b));
    if (f.d == 0) continue;
    b.d = f32_to_fp16(f.d);
    for (int h = 0; h < 16; ++h) b.scales[h / 2] = uint8_t(b.scales[h / 2] | (f.s[h] << (4 * (h % 2))));
    for (int l = 0; l < 32; ++l) {
      b.qs[l] = uint8_t(f.idx[l] & 0xff);
      b.qs[QK_K / 8 + l] = f.signs[l];
      b.qh[l / 4] = uint8_t(b.qh[l / 4] | ((f.idx[l] >> 8) << (2 * (l % 4))));
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

}  // namespace

extern const TypeTraits kTraitsIQ2_S = {"iq2_s",
                                        QK_K,
                                        sizeof(BlockIQ2_S),
                                        DType::Q8_K,
                                        T::to_float,
                                        from_float,
                                        pick_dot(DType::IQ2_S, T::vec_dot),
                                        T::vec_dot,
                                        pick_unpack(DType::IQ2_S, T::unpack_levels),
                                        16,
                                        128,
                                        false,
                                        quantize,
                                        true};

}  // namespace dawn
