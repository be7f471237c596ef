// Quantized rows repacked in place 16 at a time so that the level GEMM reads them with no
// unpacking: the tile layout of level_gemm.h (lanes are rows, one 64-byte load holds four
// consecutive elements of all 16 rows), but still in the type's bits and the same size as the
// rows it replaces. Per block of the type, a group of 16 rows holds the 16 rows' scales, then
// their quants in groups of four bytes (group j of row r at (16 j + r) * 4 past the scales):
//   Q4_K (2304 bytes): the 16-byte headers as four words (word w of row r at (16 w + r) * 4),
//        then 32 groups of qs; group j's low nibbles are elements 64 (j / 8) + 4 (j % 8) + 0..3
//        (sub-block 2 (j / 8)), its high nibbles the four 32 elements further on.
//   Q6_K (3360 bytes): 16 f16 d, the int8 scales as [sub-block][row], 32 groups of ql, then 16
//        groups of qh (ggml's bit positions within each row's bytes are kept).
//   Q8_0 (544 bytes): 16 f16 scales, then 8 groups of levels stored + 128 (unsigned).
//   Q5_0 (352 bytes): 16 f16 scales, then per row one dword of fifth bits (byte g: bit k for
//        element 4g + k, bit 4 + k for element 16 + 4g + k), then 4 groups of qs.
//   IQ4_NL (288 bytes): 16 f16 scales, then 4 groups of qs (as Q5_0's, with no fifth bits).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/level_gemm.h"

namespace dawn {

// True for the types that have an x16 form.
bool x16_supported(DType t);
// Bytes of one block of a group of 16 rows (16 times the type's block).
int64_t x16_block_bytes(DType t);

// Rewrites 16 consecutive rows of type t and `cols` elements (contiguous) in the x16 form.
void repack_x16(DType t, uint8_t* rows, int64_t cols, std::vector<uint8_t>& scratch);

// Row r (< 16) of a repacked group back in the type's own layout (row_bytes(t, cols) at out):
// the single-row reads of an x16 matrix (token lookups in an embedding tied to the output head).
void x16_extract_row(DType t, const uint8_t* group, int64_t cols, int r, uint8_t* out);

// y[k * ldy + r] = row r of the group . token toks[k] for the 16 rows and nt <= kTileTokens
// tokens of `a` (the levels form of activations for weights of type t): the plain scalar
// reference, and the fastest this CPU has.
void x16_gemm_ref(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt,
                  float* y, int64_t ldy);
void x16_gemm(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
              int64_t ldy);
void x16_gemm_avx512(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt,
                     float* y, int64_t ldy);

}  // namespace dawn
