// Tensor element types with ggml's numbering and block layouts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dawn {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  IQ1_M = 29,
  BF16 = 30,
};

// A row of a quantized type as unsigned 8-bit levels with one float scale and min per
// sub-block of `sub` elements: w[k] = scale[k / sub] * (q[k] - zero) - min[k / sub]. Every
// block-quantized type fits this shape, so one integer GEMM kernel serves them all once a
// tile of rows has been unpacked to it (prefill, where the unpacking is shared by many tokens).
using UnpackLevelsFn = void (*)(const void* src, int64_t n, uint8_t* q, float* scale, float* min);

// One element type: its block geometry and the kernels that read and write it.
// vec_dot multiplies one row of this type with an activation row already converted
// to dot_type (the way llama.cpp quantizes activations for integer dot products).
struct TypeTraits {
  const char* name;
  int block;  // elements per block
  int bytes;  // bytes per block
  DType dot_type;
  void (*to_float)(const void* src, float* dst, int64_t n);
  void (*from_float)(const float* src, void* dst, int64_t n);  // null: dawn reads the type only
  float (*vec_dot)(int64_t n, const void* w, const void* act);      // fastest for this CPU
  float (*vec_dot_ref)(int64_t n, const void* w, const void* act);  // plain scalar reference
  // The levels form; unpack_levels is null for types without one (floats, activation types).
  UnpackLevelsFn unpack_levels = nullptr;
  int sub = 0;           // elements per sub-block
  int zero = 0;          // level that stands for 0 (a constant of the type)
  bool has_min = false;  // false: every min is 0
  // Quantize one row with per-column importance (an imatrix row, n values; null: none), as
  // llama-quantize --imatrix does. Null for types whose from_float takes no importance.
  void (*quantize)(const float* src, void* dst, int64_t n, const float* imatrix) = nullptr;
  // llama.cpp refuses to make this type without an importance matrix ("the result will be garbage").
  bool needs_imatrix = false;
};

// nullptr for type ids dawn does not know.
const TypeTraits* find_traits(uint32_t id);
const TypeTraits& traits(DType t);

inline const char* type_name(DType t) { return traits(t).name; }
bool parse_type_name(std::string_view s, DType* out);

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
  const TypeTraits& tt = traits(t);
  return size_t(n / tt.block) * size_t(tt.bytes);
}

}  // namespace dawn
