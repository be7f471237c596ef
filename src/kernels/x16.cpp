#include "kernels/x16.h"

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/iq_grids.h"

namespace dawn {

static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_0) == 34 &&
                  sizeof(BlockQ5_0) == 22 && sizeof(BlockIQ4_NL) == 18,
              "x16 layouts assume ggml's block sizes");

bool x16_supported(DType t) {
  return t == DType::Q4_K || t == DType::Q6_K || t == DType::Q8_0 || t == DType::Q5_0 || t == DType::IQ4_NL;
}

int64_t x16_block_bytes(DType t) { return 16 * int64_t(traits(t).bytes); }

namespace {

// The x16 block of 16 rows from their block i (row r's block at src(r)).
void repack_q4_k(const uint8_t* const* src, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    for (int w = 0; w < 4; ++w) std::memcpy(out + (16 * w + r) * 4, src[r] + 4 * w, 4);
    for (int j = 0; j < 32; ++j) std::memcpy(out + 256 + (16 * j + r) * 4, src[r] + 16 + 4 * j, 4);
  }
}

void repack_q6_k(const uint8_t* const* src, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    const auto& b = *reinterpret_cast<const BlockQ6_K*>(src[r]);
    std::memcpy(out + 2 * r, &b.d, 2);
    for (int s = 0; s < 16; ++s) out[32 + 16 * s + r] = uint8_t(b.scales[s]);
    for (int j = 0; j < 32; ++j) std::memcpy(out + 288 + (16 * j + r) * 4, b.ql + 4 * j, 4);
    for (int j = 0; j < 16; ++j) std::memcpy(out + 2336 + (16 * j + r) * 4, b.qh + 4 * j, 4);
  }
}

void repack_q8_0(const uint8_t* const* src, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    std::memcpy(out + 2 * r, src[r], 2);
    for (int e = 0; e < QK; ++e) out[32 + (16 * (e / 4) + r) * 4 + e % 4] = uint8_t(src[r][2 + e] ^ 0x80);
  }
}

void repack_q5_0(const uint8_t* const* src, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    const auto& b = *reinterpret_cast<const BlockQ5_0*>(src[r]);
    std::memcpy(out + 2 * r, &b.d, 2);
    uint32_t qh, bits = 0;
    std::memcpy(&qh, b.qh, 4);
    for (int g = 0; g < 4; ++g) {
      for (int k = 0; k < 4; ++k) {
        bits |= ((qh >> (4 * g + k)) & 1u) << (8 * g + k);
        bits |= ((qh >> (16 + 4 * g + k)) & 1u) << (8 * g + 4 + k);
      }
    }
    std::memcpy(out + 32 + 4 * r, &bits, 4);
    for (int g = 0; g < 4; ++g) std::memcpy(out + 96 + (16 * g + r) * 4, b.qs + 4 * g, 4);
  }
}

void repack_iq4_nl(const uint8_t* const* src, uint8_t* out) {
  for (int r = 0; r < 16; ++r) {
    const auto& b = *reinterpret_cast<const BlockIQ4_NL*>(src[r]);
    std::memcpy(out + 2 * r, &b.d, 2);
    for (int g = 0; g < 4; ++g) std::memcpy(out + 32 + (16 * g + r) * 4, b.qs + 4 * g, 4);
  }
}

// The inverses: row r's block back in the type's own layout (the x16 block at b).
void extract_q4_k(const uint8_t* b, int r, uint8_t* out) {
  for (int w = 0; w < 4; ++w) std::memcpy(out + 4 * w, b + (16 * w + r) * 4, 4);
  for (int j = 0; j < 32; ++j) std::memcpy(out + 16 + 4 * j, b + 256 + (16 * j + r) * 4, 4);
}

void extract_q6_k(const uint8_t* b, int r, uint8_t* out) {
  BlockQ6_K blk;
  std::memcpy(&blk.d, b + 2 * r, 2);
  for (int s = 0; s < 16; ++s) blk.scales[s] = int8_t(b[32 + 16 * s + r]);
  for (int j = 0; j < 32; ++j) std::memcpy(blk.ql + 4 * j, b + 288 + (16 * j + r) * 4, 4);
  for (int j = 0; j < 16; ++j) std::memcpy(blk.qh + 4 * j, b + 2336 + (16 * j + r) * 4, 4);
  std::memcpy(out, &blk, sizeof blk);
}

void extract_q8_0(const uint8_t* b, int r, uint8_t* out) {
  std::memcpy(out, b + 2 * r, 2);
  for (int e = 0; e < QK; ++e) out[2 + e] = uint8_t(b[32 + (16 * (e / 4) + r) * 4 + e % 4] ^ 0x80);
}

void extract_q5_0(const uint8_t* b, int r, uint8_t* out) {
  BlockQ5_0 blk;
  std::memcpy(&blk.d, b + 2 * r, 2);
  uint32_t bits, qh = 0;
  std::memcpy(&bits, b + 32 + 4 * r, 4);
  for (int g = 0; g < 4; ++g) {
    for (int k = 0; k < 4; ++k) {
      qh |= ((bits >> (8 * g + k)) & 1u) << (4 * g + k);
      qh |= ((bits >> (8 * g + 4 + k)) & 1u) << (16 + 4 * g + k);
    }
  }
  std::memcpy(blk.qh, &qh, 4);
  for (int g = 0; g < 4; ++g) std::memcpy(blk.qs + 4 * g, b + 96 + (16 * g + r) * 4, 4);
  std::memcpy(out, &blk, sizeof blk);
}

void extract_iq4_nl(const uint8_t* b, int r, uint8_t* out) {
  BlockIQ4_NL blk;
  std::memcpy(&blk.d, b + 2 * r, 2);
  for (int g = 0; g < 4; ++g) std::memcpy(blk.qs + 4 * g, b + 32 + (16 * g + r) * 4, 4);
  std::memcpy(out, &blk, sizeof blk);
}

// Level of element e (of the block) of row r in an x16 block, and its sub-block's scale / min.
int level_q4_k(const uint8_t* b, int r, int e) {
  const int s = e / 32, j = (s / 2) * 8 + (e % 32) / 4;
  const uint8_t byte = b[256 + (16 * j + r) * 4 + e % 4];
  return s % 2 ? byte >> 4 : byte & 0xF;
}

// Element e = 128 n + 64 h + l (l < 64): nibble h of ql byte 64 n + l, and bits 2 (l / 32) + 4 h
// of qh byte 32 n + l % 32.
int level_q6_k(const uint8_t* b, int r, int e) {
  const int n = e / 128, h = (e % 128) / 64, l = e % 64;
  const int qlb = 64 * n + l, qhb = 32 * n + l % 32;
  const uint8_t ql = b[288 + (16 * (qlb / 4) + r) * 4 + qlb % 4];
  const uint8_t qh = b[2336 + (16 * (qhb / 4) + r) * 4 + qhb % 4];
  return ((h ? ql >> 4 : ql & 0xF) | ((qh >> (2 * (l / 32) + 4 * h)) & 3) << 4);
}

int level_q8_0(const uint8_t* b, int r, int e) { return b[32 + (16 * (e / 4) + r) * 4 + e % 4]; }

int level_q5_0(const uint8_t* b, int r, int e) {
  const int high = e / 16, g = (e % 16) / 4, k = e % 4;
  const uint8_t byte = b[96 + (16 * g + r) * 4 + k];
  const int bit = (b[32 + 4 * r + g] >> (4 * high + k)) & 1;
  return (high ? byte >> 4 : byte & 0xF) | bit << 4;
}

// IQ4_NL's level is its non-linear value + 128 (the levels form's zero is 128, as for Q8_0).
int level_iq4_nl(const uint8_t* b, int r, int e) {
  const uint8_t byte = b[32 + (16 * ((e % 16) / 4) + r) * 4 + e % 4];
  return kValuesIq4nl[e < 16 ? byte & 0xF : byte >> 4] + 128;
}

}  // namespace

void repack_x16(DType t, uint8_t* rows, int64_t cols, std::vector<uint8_t>& scratch) {
  const TypeTraits& tt = traits(t);
  const int64_t nb = cols / tt.block;
  const size_t row = size_t(nb) * size_t(tt.bytes);
  scratch.resize(16 * row);
  std::memcpy(scratch.data(), rows, 16 * row);
  const uint8_t* src[16];
  for (int64_t i = 0; i < nb; ++i) {
    for (int r = 0; r < 16; ++r) src[r] = scratch.data() + r * row + i * tt.bytes;
    uint8_t* out = rows + i * x16_block_bytes(t);
    if (t == DType::Q4_K) repack_q4_k(src, out);
    if (t == DType::Q6_K) repack_q6_k(src, out);
    if (t == DType::Q8_0) repack_q8_0(src, out);
    if (t == DType::Q5_0) repack_q5_0(src, out);
    if (t == DType::IQ4_NL) repack_iq4_nl(src, out);
  }
}

void x16_extract_row(DType t, const uint8_t* group, int64_t cols, int r, uint8_t* out) {
  const TypeTraits& tt = traits(t);
  const int64_t nb = cols / tt.block;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* b = group + i * x16_block_bytes(t);
    uint8_t* o = out + i * tt.bytes;
    if (t == DType::Q4_K) extract_q4_k(b, r, o);
    if (t == DType::Q6_K) extract_q6_k(b, r, o);
    if (t == DType::Q8_0) extract_q8_0(b, r, o);
    if (t == DType::Q5_0) extract_q5_0(b, r, o);
    if (t == DType::IQ4_NL) extract_iq4_nl(b, r, o);
  }
}

void x16_gemm_ref(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt,
                  float* y, int64_t ldy) {
  const TypeTraits& tt = traits(t);
  const int64_t nb = cols / tt.block, n_sub = cols / tt.sub, per = tt.block / tt.sub;
  for (int k = 0; k < nt; ++k) {
    const int8_t* x = a.q.data() + toks[k] * a.cols;
    const size_t at = size_t(toks[k] * n_sub);
    for (int r = 0; r < 16; ++r) {
      float acc = 0;
      for (int64_t i = 0; i < nb; ++i) {
        const uint8_t* b = group + i * x16_block_bytes(t);
        uint8_t scales[12];
        uint16_t dh, mh = 0;
        std::memcpy(&dh, b + (t == DType::Q4_K ? 4 * r : 2 * r), 2);
        if (t == DType::Q4_K) {
          std::memcpy(&mh, b + 4 * r + 2, 2);
          for (int w = 0; w < 3; ++w) std::memcpy(scales + 4 * w, b + (16 * (w + 1) + r) * 4, 4);
        }
        for (int64_t s = 0; s < per; ++s) {
          float scale = fp16_to_f32(dh), min = 0;
          if (t == DType::Q6_K) scale *= float(int8_t(b[32 + 16 * s + r]));
          if (t == DType::Q4_K) {
            uint8_t sc, m;
            get_scale_min_k4(int(s), scales, &sc, &m);
            scale *= float(sc);
            min = fp16_to_f32(mh) * float(m);
          }
          int32_t sum = a.zsum[at + size_t(i * per + s)];
          for (int e = int(s) * tt.sub; e < int(s + 1) * tt.sub; ++e) {
            const int l = t == DType::Q4_K   ? level_q4_k(b, r, e)
                          : t == DType::Q6_K ? level_q6_k(b, r, e)
                          : t == DType::Q8_0 ? level_q8_0(b, r, e)
                          : t == DType::Q5_0 ? level_q5_0(b, r, e)
                                             : level_iq4_nl(b, r, e);
            sum += l * x[i * tt.block + e];
          }
          acc += float(sum) * a.d[at + size_t(i * per + s)] * scale;
          acc -= min * a.dsum[at + size_t(i * per + s)];
        }
      }
      y[k * ldy + r] = acc;
    }
  }
}

void x16_gemm(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
              int64_t ldy) {
  if (cpu_isa() >= Isa::Avx512) {
    x16_gemm_avx512(t, group, cols, a, toks, nt, y, ldy);
  } else {
    x16_gemm_ref(t, group, cols, a, toks, nt, y, ldy);
  }
}

}  // namespace dawn
